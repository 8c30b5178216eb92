"""Sign constraints on the recurrent matrix ``W_rec`` (indexed ``[pre, post]``).

Three modes:

* ``"free"``   -- no constraint.
* ``"nonneg"`` -- projection ``W <- max(W, 0)`` after every optimizer step, exactly as Keras'
  ``NonNeg`` ``recurrent_constraint`` used by the paper. (The initial matrix is left as drawn,
  as in Keras; it is nonnegative from the first update on.)
* ``"dale"``   -- Dale's law by parametrization: the trained parameter is ``V`` and
  ``W = |V| * sign[:, None]`` where ``sign[pre] = +1`` for the first ``round(exc_fraction * N)``
  (excitatory) neurons and ``-1`` for the rest (inhibitory). Every row (presynaptic neuron) keeps
  one sign through training, with no projection needed. Balanced init: ``V0 = |W0|`` with the
  inhibitory rows scaled so the total inhibitory weight equals the total excitatory weight
  (``sum(W0_eff) = 0``).

Example::

    >>> import numpy as np
    >>> sign = dale_signs(5, 0.8)
    >>> sign.tolist()
    [1.0, 1.0, 1.0, 1.0, -1.0]
    >>> V = dale_init(np.ones((5, 5)), sign)
    >>> float(np.sum(effective_dale(V, sign)))
    0.0
"""

from __future__ import annotations

import numpy as np

SIGN_MODES = ("free", "nonneg", "dale")


def check_sign_mode(sign: str) -> str:
    if sign not in SIGN_MODES:
        raise ValueError(f"sign={sign!r} is not one of {SIGN_MODES}")
    return sign


def dale_signs(n: int, exc_fraction: float) -> np.ndarray:
    """Presynaptic sign vector: +1 for the first round(exc_fraction*n) neurons, -1 after."""
    if not 0.0 < exc_fraction <= 1.0:
        raise ValueError(f"exc_fraction must be in (0, 1], got {exc_fraction}")
    n_exc = int(round(exc_fraction * n))
    return np.where(np.arange(n) < n_exc, 1.0, -1.0).astype(np.float32)


def dale_init(w0, sign) -> np.ndarray:
    """Balanced Dale parameter ``V0`` from any initial matrix ``w0`` (magnitudes kept).

    ``V0 = |w0|``, inhibitory rows scaled by ``sum|w0[E]| / sum|w0[I]|`` so that
    ``sum(|V0| * sign[:, None]) = 0`` (excitation and inhibition balanced in total).
    """
    v = np.abs(np.asarray(w0, dtype=np.float64))
    sign = np.asarray(sign)
    exc, inh = sign > 0, sign < 0
    if inh.any() and exc.any():
        total_inh = v[inh].sum()
        if total_inh > 0:
            v[inh] *= v[exc].sum() / total_inh
    return v.astype(np.float32)


def effective_dale(v, sign):
    """``W = |V| * sign[:, None]`` (works on numpy and jax arrays)."""
    return abs(v) * sign[:, None]
