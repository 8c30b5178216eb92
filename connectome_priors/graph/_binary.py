"""The binary graph of a weight matrix: the strongest entries, made undirected (the paper's recipe).

From a weight matrix ``W`` (N x N, rows presynaptic; an ``ndarray`` or an ``xarray.DataArray`` such as
``load_field(f).connectome``):

1. ``A = |W|``;
2. keep the strongest ``top_fraction`` (10 %) of the entries: ``B_ij = A_ij > q`` (strict, so entries tied with the
   threshold and zero weights never become edges);
3. undirected by the OR rule: an edge ``{i, j}`` exists when ``B_ij`` or ``B_ji`` is kept (what
   ``networkx.from_numpy_array`` does with an asymmetric matrix), so the graph's density is between
   ``top_fraction / 2`` and ``top_fraction`` of the pairs;
4. no self-loops.

Default: ``q`` is the ``(k+1)``-th largest off-diagonal ``|W_ij|``, ``k = round(f N(N-1))``.
``reference_compat=True``: ``q = np.quantile(|W|, 1 - f)`` over all ``N²`` entries, diagonal included (the
published code: strong self weights use up part of the 10 % and are then removed).

Example::

    >>> import numpy as np
    >>> A = graph_from_weights(np.random.default_rng(0).normal(size=(20, 20)))
    >>> A.dtype, bool((A == A.T).all()), int(A.diagonal().sum())
    (dtype('bool'), True, 0)
"""

from __future__ import annotations

import numpy as np


def as_matrix(W, name: str = "W") -> np.ndarray:
    """``W`` as a real square ``ndarray`` (an ``xarray.DataArray`` gives its values; dtype kept).

    Example::

        >>> as_matrix([[0, 1], [2, 0]]).shape
        (2, 2)
    """
    W = np.asarray(getattr(W, "values", W))
    if W.ndim != 2 or W.shape[0] != W.shape[1]:
        raise ValueError(f"{name} must be a square 2-D matrix (N x N); got shape {W.shape}")
    if W.shape[0] < 2:
        raise ValueError(f"{name} must have at least 2 nodes; got shape {W.shape}")
    real = np.issubdtype(W.dtype, np.number) or W.dtype == np.bool_
    if not real or np.issubdtype(W.dtype, np.complexfloating):
        raise ValueError(f"{name} must hold real numbers; got dtype {W.dtype}")
    return W


def adjacency(A, name: str = "A") -> np.ndarray:
    """Validate a binary undirected adjacency matrix; returned as bool without self-loops.

    Example::

        >>> adjacency(np.ones((2, 2), int)).astype(int).tolist()
        [[0, 1], [1, 0]]
    """
    A = as_matrix(A, name)
    if not np.all((A == 0) | (A == 1)):
        raise ValueError(f"{name} must be binary (0/1)")
    B = A.astype(bool)
    if not np.array_equal(B, B.T):
        raise ValueError(f"{name} must be symmetric (an undirected graph)")
    np.fill_diagonal(B, False)
    return B


def binarize_top(W: np.ndarray, top_fraction: float = 0.1, *, reference_compat: bool = False) -> np.ndarray:
    """Directed selection of the strongest entries: ``B_ij = |W_ij| > q`` (bool, N x N, zero diagonal).

    Default: ``q`` is the ``(k+1)``-th largest off-diagonal ``|W_ij|`` with ``k = round(f · N(N-1))``, so at most
    ``k`` entries are kept, exactly ``k`` unless entries tie at the threshold (tied ones are all dropped).
    ``reference_compat=True``: ``q = np.quantile(|W|, 1 - f)`` over all ``N²`` entries, diagonal included.

    Example::

        >>> W = np.arange(16.0).reshape(4, 4)
        >>> int(binarize_top(W, 0.25).sum())   # k = round(0.25 * 12) = 3 off-diagonal entries
        3
    """
    W = as_matrix(W)
    if not 0.0 < top_fraction < 1.0:
        raise ValueError(f"top_fraction must be in (0, 1); got {top_fraction}")
    # compat: threshold and compare in W's own dtype (float32 from training), as the notebook did
    A = np.abs(W) if reference_compat and np.issubdtype(W.dtype, np.floating) else np.abs(W.astype(np.float64))
    if not np.all(np.isfinite(A)):
        raise ValueError("W has non-finite entries (NaN or inf); no graph can be built")
    n = A.shape[0]
    if reference_compat:
        threshold = np.quantile(A, 1.0 - top_fraction)
    else:
        off = A[~np.eye(n, dtype=bool)]
        k = int(round(top_fraction * off.size))
        if k <= 0:
            threshold = np.inf
        elif k >= off.size:
            threshold = -np.inf
        else:
            # (k+1)-th largest = element at sorted position size-k-1
            threshold = np.partition(off, off.size - k - 1)[off.size - k - 1]
    B = A > threshold
    np.fill_diagonal(B, False)
    return B


def graph_from_weights(W: np.ndarray, top_fraction: float = 0.1, *, reference_compat: bool = False) -> np.ndarray:
    """The undirected binary graph of ``W`` (bool N x N, symmetric, no self-loops): ``B | Bᵀ`` of
    :func:`binarize_top`.

    Example::

        >>> W = np.array([[0., 5., 0.], [0., 0., 0.], [1., 0., 0.]])
        >>> graph_from_weights(W, 0.2).astype(int)   # k = round(0.2 * 6) = 1: only 0→1, made undirected
        array([[0, 1, 0],
               [1, 0, 0],
               [0, 0, 0]])
    """
    B = binarize_top(W, top_fraction, reference_compat=reference_compat)
    return B | B.T
