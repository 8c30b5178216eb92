"""Rate RNNs with cortical priors (the paper's network, :class:`CorticalRNN`) and multi-seed training
of it or of any brainstate / brainpy circuit, through one training loop (:func:`train`).

    >>> from connectome_priors.models import RNNSpec, train                                    # doctest: +SKIP
    >>> res = train(RNNSpec(n_hidden=312, sign="nonneg"), "Task2", seeds=[0, 1, 2])  # doctest: +SKIP
    >>> res.metrics["train_acc"][:, -1]                                       # doctest: +SKIP
    >>> res = train(my_factory, "Task3", seeds=[0, 1])   # seed -> your module  # doctest: +SKIP

The names below are imported on first use (``import connectome_priors.models`` imports neither JAX
nor brainstate). Modules: ``_rnn`` (``RNNSpec``, parameters, the whole-sequence forward pass with
hand-written gradients), ``_module`` (``CorticalRNN``, that network as a brainstate module, and its
factory), ``_brainpy`` (``as_brainpy``), ``_common`` (data, seeds, regularizer plumbing), ``_step``
(the guarded optimizer step of any module), ``_train`` (``train``: the epoch loop and its program
cache), ``_states`` (a module as pure functions of its parameters, ``resolve_model``), ``_result``
(``TrainResult`` and its file format), ``examples`` (two user circuits). Sign modes and Dale's law
live in ``connectome_priors.priors`` (``SIGNS``, ``dale_signs``, ...).
"""

from connectome_priors._lazy import attach

__getattr__, __dir__, __all__ = attach(__name__, {
    **dict.fromkeys(["RNNSpec", "DEFAULT_INPUT_NOISE", "init_params", "draw_w_rec", "effective_w_rec", "forward",
                     "recur", "stable_nonneg", "NONNEG_MAX_SPECTRAL_RADIUS"], "._rnn"),
    **dict.fromkeys(["CorticalRNN", "CorticalRNNFactory"], "._module"),
    "as_brainpy": "._brainpy",
    "train": "._train",
    **dict.fromkeys(["train_step", "initial_carry"], "._step"),
    **dict.fromkeys(["TrainResult", "save_result", "load_result"], "._result"),
    **dict.fromkeys(["resolve_model", "load_params"], "._states"),
    **dict.fromkeys(["METRIC_NAMES", "derived_seed", "load_trials", "total_penalty"], "._common"),
    "examples": ".examples",
})
