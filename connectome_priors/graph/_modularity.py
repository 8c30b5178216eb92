"""Newman modularity of the Clauset-Newman-Moore greedy partition (the paper's "Modularity" metric).

``Q = Σ_c [L_c/m - (d_c/2m)²]`` of an unweighted undirected graph, with the partition of
``networkx.community.greedy_modularity_communities`` (same merge order and tie-breaking) computed on a dense ΔQ matrix.
"""

from __future__ import annotations

import math

import numpy as np

from ._binary import adjacency


def greedy_modularity_labels(A: np.ndarray) -> np.ndarray:
    """Community label per node from Clauset-Newman-Moore greedy modularity maximisation (unweighted, γ = 1).

    Start from singletons with ``ΔQ_uv = 1/m - 2 a_u a_v`` for adjacent ``u, v`` (``a_u = k_u / 2m``); repeatedly merge
    the adjacent pair with the largest ``ΔQ`` (ties: the smallest ``u``, then the smallest ``v``; ``u`` is merged into
    ``v``), updating ``ΔQ_vw`` as ``ΔQ_vw + ΔQ_uw`` (both adjacent), ``ΔQ_vw - 2 a_u a_w`` (only ``v``) or
    ``ΔQ_uw - 2 a_v a_w`` (only ``u``); stop when the best ``ΔQ`` is negative or no adjacent pair is left.
    These are the arithmetic and tie-breaking of ``networkx.community.greedy_modularity_communities``, so the
    partition is the same; the dense ``N x N`` ΔQ matrix makes it ~50x faster at N = 312.

    Example::

        >>> import numpy as np
        >>> A = np.zeros((6, 6), dtype=bool)
        >>> for i, j in [(0, 1), (1, 2), (0, 2), (3, 4), (4, 5), (3, 5), (2, 3)]:
        ...     A[i, j] = A[j, i] = True
        >>> labels = greedy_modularity_labels(A)
        >>> len(set(labels[:3])), len(set(labels[3:])), bool(labels[0] != labels[3])
        (1, 1, True)
    """
    A = adjacency(A)
    n = A.shape[0]
    labels = np.arange(n)
    degree = A.sum(axis=1).astype(np.float64)
    m = int(A.sum()) // 2
    if m == 0:
        return labels
    q0 = 1.0 / m
    a = degree * q0 * 0.5
    neighbour = A.copy()
    expected = np.multiply.outer(a, a)
    dq = np.where(neighbour, q0 - (expected + expected), -np.inf)
    while True:
        flat = int(np.argmax(dq))  # first maximum in row-major order: smallest u, then smallest v
        u, v = divmod(flat, n)
        best = dq[u, v]
        if best == -np.inf or best < 0:
            break
        u_nb = neighbour[u].copy()
        v_nb = neighbour[v].copy()
        u_nb[[u, v]] = False
        v_nb[[u, v]] = False
        both = u_nb & v_nb
        only_v = v_nb & ~u_nb
        only_u = u_nb & ~v_nb
        touched = u_nb | v_nb
        new_row = np.empty(n)
        new_row[both] = dq[v, both] + dq[u, both]
        new_row[only_v] = dq[v, only_v] - (a[u] * a[only_v] + a[only_v] * a[u])
        new_row[only_u] = dq[u, only_u] - (a[v] * a[only_u] + a[only_u] * a[v])
        dq[v, touched] = new_row[touched]
        dq[touched, v] = new_row[touched]
        neighbour[v, touched] = True
        neighbour[touched, v] = True
        neighbour[u, :] = False
        neighbour[:, u] = False
        neighbour[v, u] = False
        dq[u, :] = -np.inf
        dq[:, u] = -np.inf
        labels[labels == u] = v
        a[v] += a[u]
        a[u] = 0.0
    return labels


def modularity(A: np.ndarray, labels: np.ndarray | None = None) -> float:
    """Newman modularity ``Q = Σ_c [L_c/m - (d_c / 2m)²]`` of an unweighted undirected graph.

    ``labels`` defaults to the greedy CNM partition (:func:`greedy_modularity_labels`). ``L_c``: edges inside
    community ``c``; ``d_c``: its degree sum; ``m``: the edge count. NaN for a graph without edges.

    Example::

        >>> import numpy as np
        >>> A = np.array([[0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0]])
        >>> modularity(A)   # two disconnected edges: Q = 2 * (1/2 - (2/4)²)
        0.5
    """
    A = adjacency(A)
    m = int(A.sum()) // 2
    if m == 0:
        return math.nan
    labels = greedy_modularity_labels(A) if labels is None else np.asarray(labels)
    if labels.shape != (A.shape[0],):
        raise ValueError(f"labels must have one entry per node ({A.shape[0]}); got shape {labels.shape}")
    _, community = np.unique(labels, return_inverse=True)
    degree = A.sum(axis=1)
    rows, cols = np.nonzero(np.triu(A, 1))
    same = community[rows] == community[cols]
    inside = np.bincount(community[rows][same], minlength=community.max() + 1)
    degree_sum = np.bincount(community, weights=degree, minlength=community.max() + 1)
    return float(np.sum(inside / m - (degree_sum / (2.0 * m)) ** 2))
