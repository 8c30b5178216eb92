"""Rate RNNs with cortical priors (the paper's network) and their fast multi-seed training.

    >>> from models import RNNSpec, train                                    # doctest: +SKIP
    >>> res = train(RNNSpec(n_hidden=312, sign="nonneg"), "Task2", seeds=[0, 1, 2])  # doctest: +SKIP
    >>> res.metrics["train_acc"][:, -1]                                       # doctest: +SKIP

Modules: ``_rnn`` (spec, parameters, forward pass, ``CorticalRNN`` brainstate module),
``_constraints`` (sign modes), ``_train`` (``train``, ``TrainResult``), ``_io`` (save/load).
"""

from ._constraints import SIGN_MODES, dale_init, dale_signs
from ._io import load_result, save_result
from ._rnn import CorticalRNN, RNNSpec, draw_w_rec, effective_w_rec, forward, init_params, project, recur
from ._train import (
    METRIC_NAMES,
    TrainResult,
    derived_seed,
    load_trials,
    make_train_step,
    total_penalty,
    train,
)

load = load_result

__all__ = [
    "CorticalRNN", "METRIC_NAMES", "RNNSpec", "SIGN_MODES", "TrainResult", "dale_init", "dale_signs",
    "derived_seed", "draw_w_rec", "effective_w_rec", "forward", "init_params", "load", "load_result",
    "load_trials", "make_train_step", "project", "recur", "save_result", "total_penalty", "train",
]
