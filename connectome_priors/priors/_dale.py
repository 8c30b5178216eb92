"""Dale's law, defined once (numpy, JAX-free): used by ``MICrONSInit(dale=...)`` and by the models'
``sign="dale"`` (:class:`connectome_priors.models.RNNSpec`).

``W`` is indexed ``[pre, post]``, so a row is a presynaptic neuron and Dale's law gives every row
one sign: ``+`` for an excitatory neuron, ``-`` for an inhibitory one (its self-connection included).

Which rows are excitatory -- the *layout*, either

* a fraction ``f`` in (0, 1]: the **first** ``round(f * N)`` rows (neurons ``0 .. round(f N) - 1``
  in the order of the matrix, i.e. of the field's ``neuron`` axis) are excitatory, the others
  inhibitory. Deterministic, nothing is drawn; to choose other neurons reorder them or pass a mask;
* a boolean mask of length ``N``: ``True`` = excitatory (your own E/I labels, e.g. cell types).

How E and I are balanced (:func:`balance_magnitudes`): the magnitudes are ``V = |W0|``; when there
are excitatory and inhibitory rows and the inhibitory magnitudes are not all zero, every inhibitory
row is multiplied by the one factor ``sum |W0[E]| / sum |W0[I]|``, so that the signed matrix
``W = V * sign[:, None]`` sums to 0 (total excitation = total inhibition; the ratios of the
magnitudes inside each population are kept). The models train ``V`` and use ``|V| * sign[:, None]``
(:func:`effective_dale`), so every row keeps its sign through training without a projection.

Example:
    >>> import numpy as np
    >>> dale_signs(5, 0.8).tolist()
    [1.0, 1.0, 1.0, 1.0, -1.0]
    >>> w, exc = apply_dale(np.ones((5, 5)), 0.8)
    >>> float(w.sum()), w[4].tolist(), exc.tolist()
    (0.0, [-4.0, -4.0, -4.0, -4.0, -4.0], [True, True, True, True, False])
    >>> dale_signs(3, [False, True, True]).tolist()         # your own E/I labels
    [-1.0, 1.0, 1.0]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

#: The excitatory fraction used when Dale's law is asked for without a layout (cortex: about 80 % E).
DEFAULT_EXC_FRACTION = 0.8

#: A layout: an excitatory fraction in (0, 1] or a boolean excitatory mask of length N.
Layout = float | Sequence[bool] | np.ndarray


def normalize_layout(layout: Any, n: int | None = None) -> float | tuple[bool, ...]:
    """The layout in a hashable, JSON-ready form: a float fraction, or a tuple of bools.

    Args:
        layout: an excitatory fraction in (0, 1], or a boolean mask (list, tuple or numpy array of bools).
        n: the number of neurons, when known: a mask must have this length and a fraction must
            leave at least one excitatory neuron.

    Returns:
        ``float(layout)`` or ``tuple(bool, ...)``.

    Raises:
        ValueError: a fraction outside (0, 1] or one that rounds to no excitatory neuron among ``n``; a mask
            that is not one-dimensional boolean or whose length is not ``n``.

    Example:
        >>> normalize_layout(0.8), normalize_layout(np.array([True, False]), n=2)
        (0.8, (True, False))
        >>> normalize_layout(0.01, n=10)
        Traceback (most recent call last):
        ...
        ValueError: Dale layout: fraction 0.01 leaves no excitatory neuron among N=10 (round(f * N) = 0)
    """
    if isinstance(layout, (int, float, np.integer, np.floating)) and not isinstance(layout, (bool, np.bool_)):
        f = float(layout)
        if not math.isfinite(f) or not 0.0 < f <= 1.0:
            raise ValueError(f"Dale layout: the excitatory fraction must be in (0, 1], got {layout!r}")
        if n is not None and int(round(f * n)) == 0:
            raise ValueError(f"Dale layout: fraction {f} leaves no excitatory neuron among N={n} (round(f * N) = 0)")
        return f
    mask = np.asarray(layout)
    if mask.ndim != 1 or mask.dtype != np.bool_:
        raise ValueError("Dale layout: expected an excitatory fraction in (0, 1] or a one-dimensional boolean mask, "
                         f"got {type(layout).__name__} of dtype {mask.dtype} and shape {mask.shape}")
    if n is not None and mask.shape[0] != n:
        raise ValueError(f"Dale layout: the excitatory mask has {mask.shape[0]} entries for N={n} neurons")
    return tuple(bool(v) for v in mask)


def excitatory_mask(n: int, layout: Layout) -> np.ndarray:
    """Which of ``n`` presynaptic neurons (rows) are excitatory, as a boolean array.

    Args:
        n: number of neurons.
        layout: an excitatory fraction in (0, 1] (the first ``round(f n)`` neurons) or a boolean mask of length ``n``.

    Returns:
        A boolean array of shape (n,).

    Raises:
        ValueError: see :func:`normalize_layout`.

    Example:
        >>> excitatory_mask(4, 0.5).tolist()
        [True, True, False, False]
    """
    layout = normalize_layout(layout, n)
    if isinstance(layout, tuple):
        return np.array(layout, dtype=bool)
    return np.arange(n) < int(round(layout * n))


def dale_signs(n: int, layout: Layout) -> np.ndarray:
    """The presynaptic sign vector (float32): +1 for excitatory rows, -1 for inhibitory ones.

    Args:
        n: number of neurons.
        layout: see :func:`excitatory_mask`.

    Returns:
        A float32 array of shape (n,) with entries +-1.

    Raises:
        ValueError: see :func:`normalize_layout`.
    """
    return np.where(excitatory_mask(n, layout), 1.0, -1.0).astype(np.float32)


def balance_magnitudes(w0: Any, layout: Layout) -> np.ndarray:
    """Balanced Dale magnitudes ``V = |w0|`` with the inhibitory rows scaled (see the module docstring).

    ``|V| * sign[:, None]`` then sums to 0 whenever both populations have nonzero weight.

    Args:
        w0: any square (N, N) matrix ``[pre, post]``; only its magnitudes are used.
        layout: see :func:`excitatory_mask`.

    Returns:
        ``V`` as a float64 (N, N) array (nonnegative).

    Raises:
        ValueError: ``w0`` is not square, or a bad layout (see :func:`normalize_layout`).
    """
    v = np.abs(np.asarray(w0, dtype=np.float64))
    if v.ndim != 2 or v.shape[0] != v.shape[1]:
        raise ValueError(f"Dale's law needs a square (N, N) matrix, got shape {v.shape}")
    exc = excitatory_mask(v.shape[0], layout)
    inh = ~exc
    if inh.any() and exc.any():
        total_inh = v[inh].sum()
        if total_inh > 0:
            v[inh] *= v[exc].sum() / total_inh
    return v


def effective_dale(v: Any, sign: Any) -> Any:
    """``W = |V| * sign[:, None]``: every row takes its neuron's sign (numpy or JAX arrays alike).

    Args:
        v: magnitudes (N, N), any sign (the absolute value is taken).
        sign: (N,) +-1 per presynaptic neuron, e.g. :func:`dale_signs`.

    Returns:
        The signed matrix, of the type of ``v``.
    """
    return abs(v) * sign[:, None]


def apply_dale(w0: Any, layout: Layout = DEFAULT_EXC_FRACTION) -> tuple[np.ndarray, np.ndarray]:
    """The signed, balanced Dale matrix of ``w0``: ``effective_dale(balance_magnitudes(w0), signs)``.

    Args:
        w0: any square (N, N) matrix ``[pre, post]`` (only its magnitudes are used).
        layout: see :func:`excitatory_mask` (default :data:`DEFAULT_EXC_FRACTION`).

    Returns:
        ``(W, excitatory)``: ``W`` float64 (N, N) with rows of one sign summing to 0 in total,
        ``excitatory`` the boolean (N,) mask of its excitatory rows.

    Raises:
        ValueError: ``w0`` is not square, or a bad layout (see :func:`normalize_layout`).
    """
    v = balance_magnitudes(w0, layout)
    exc = excitatory_mask(v.shape[0], layout)
    return effective_dale(v, np.where(exc, 1.0, -1.0)), exc
