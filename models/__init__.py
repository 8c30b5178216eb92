"""Rate RNNs with cortical priors (the paper's network) and multi-seed training of any brainstate /
brainpy circuit.

    >>> from connectome_priors.models import RNNSpec, train                                    # doctest: +SKIP
    >>> res = train(RNNSpec(n_hidden=312, sign="nonneg"), "Task2", seeds=[0, 1, 2])  # doctest: +SKIP
    >>> res.metrics["train_acc"][:, -1]                                       # doctest: +SKIP
    >>> res = train(my_factory, "Task3", seeds=[0, 1])   # your module: seed -> brainstate/brainpy module  # doctest: +SKIP

Modules: ``_rnn`` (spec, parameters, the fast forward pass with hand-written gradients),
``_module`` (``CorticalRNN``, the same network as a brainstate dynamical system), ``_constraints``
(sign modes), ``_common`` (data, seeds, regularizer plumbing), ``_train`` (``train``, the fast
path), ``_train_module`` (the module-factory path), ``_states`` (a module as pure functions of its
parameters, ``resolve_model``), ``_result`` (``TrainResult``, save/load; ``_io`` re-exports).
"""

from ._common import METRIC_NAMES, derived_seed, load_trials, total_penalty
from ._constraints import SIGN_MODES, dale_init, dale_signs
from ._module import CorticalRNN, as_brainpy
from ._result import TrainResult, load_result, save_result
from ._rnn import RNNSpec, draw_w_rec, effective_w_rec, forward, init_params, project, recur
from ._states import load_params, resolve_model
from ._train import make_train_step, train
from ._train_module import module_train_step, train_module

load = load_result

__all__ = [
    "CorticalRNN", "METRIC_NAMES", "RNNSpec", "SIGN_MODES", "TrainResult", "as_brainpy", "dale_init", "dale_signs",
    "derived_seed", "draw_w_rec", "effective_w_rec", "forward", "init_params", "load", "load_params", "load_result",
    "load_trials", "make_train_step", "module_train_step", "project", "recur", "resolve_model", "save_result", "total_penalty", "train",
    "train_module",
]
