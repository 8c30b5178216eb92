"""Mean local clustering and global efficiency of binary graphs, on row bitsets (fast, exact).

``C = mean_u 2 t_u / (k_u (k_u - 1))`` (degree < 2 -> 0) and ``E = Σ_{i≠j} 1/d_ij / (N(N-1))`` (``1/∞ = 0``),
as ``bct.clustering_coef_bu`` / ``bct.efficiency_bin`` (and networkx) compute them.
"""

from __future__ import annotations

import numpy as np

from ._binary import adjacency as validated_adjacency

_BYTE_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


def _popcount_rows(words: np.ndarray) -> np.ndarray:
    """Number of set bits per row of a (k, w) uint64 array."""
    if hasattr(np, "bitwise_count"):  # numpy >= 2.0
        return np.bitwise_count(words).sum(axis=1, dtype=np.int64)
    return _BYTE_POPCOUNT[words.view(np.uint8)].sum(axis=1, dtype=np.int64)


def _pack_rows(adjacency: np.ndarray) -> np.ndarray:
    """Rows of a bool (n, n) matrix as bitsets: (n, ceil(n/64)) uint64, bit j of row i = adjacency[i, j]."""
    packed = np.packbits(adjacency, axis=1, bitorder="little")
    pad = (-packed.shape[1]) % 8
    if pad:
        packed = np.concatenate([packed, np.zeros((packed.shape[0], pad), dtype=np.uint8)], axis=1)
    return np.ascontiguousarray(packed).view("<u8")


def _or_of_rows(rows: np.ndarray, owner: np.ndarray, table: np.ndarray, n: int) -> np.ndarray:
    """``out[i] = OR_{k : (i, k) listed} table[k]`` for the (owner=i, rows=k) pairs listed in owner-sorted order."""
    out = np.zeros((n, table.shape[1]), dtype=table.dtype)
    if owner.size:
        first = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
        out[owner[first]] = np.bitwise_or.reduceat(table[rows], first, axis=0)
    return out


def _clustering_and_efficiency_one(adjacency: np.ndarray) -> tuple[float, float]:
    """Mean local clustering and global efficiency of one binary symmetric graph (bool n x n), on row bitsets.

    The diagonal is allowed (self-loops) and treated as ``bct.clustering_coef_bu`` does:
    ``C_u = (A³)_uu / (k_u² - k_u)`` with ``k_u`` the row sum (self-loop included), 0 for ``k_u < 2``;
    ``(A³)_uu = Σ_{v ∈ N(u)} |N(u) ∩ N(v)|`` is a popcount of row ANDs. Path lengths ignore self-loops:
    breadth-first search from all sources at once, each level the OR of the frontier's rows;
    ``E = Σ_{i≠j} 1/d_ij / (n² - n)`` with ``1/∞ = 0``.
    """
    n = adjacency.shape[0]
    rows = _pack_rows(adjacency)
    source, target = np.nonzero(adjacency)  # row-major: grouped by source
    degree = np.bincount(source, minlength=n).astype(np.float64)
    common = _popcount_rows(rows[source] & rows[target])
    triangles = np.bincount(source, weights=common, minlength=n)
    with np.errstate(divide="ignore", invalid="ignore"):
        local = np.where(degree >= 2, triangles / (degree * degree - degree), 0.0)

    not_self = _pack_rows(~np.eye(n, dtype=bool))
    reached = rows & not_self
    inverse_distance_sum = float(_popcount_rows(reached).sum())
    frontier_source, frontier_node = source, target
    distance = 1
    while frontier_source.size:
        distance += 1
        grown = _or_of_rows(frontier_node, frontier_source, rows, n) & ~reached & not_self
        count = _popcount_rows(grown)
        if not count.any():
            break
        reached |= grown
        inverse_distance_sum += count.sum() / distance
        # only sources that still miss some target need the next level (few, in dense graphs)
        open_sources = np.flatnonzero((~reached & not_self).any(axis=1))
        bits = np.unpackbits(grown[open_sources].view(np.uint8), axis=1, count=n, bitorder="little")
        frontier_row, frontier_node = np.nonzero(bits)
        frontier_source = open_sources[frontier_row]
    return float(local.mean()), inverse_distance_sum / (n * n - n)


def clustering_and_efficiency_batch(adjacency: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_clustering_and_efficiency_one` of each graph of a (b, n, n) bool batch."""
    pairs = [_clustering_and_efficiency_one(np.asarray(g, dtype=bool)) for g in adjacency]
    return np.array([c for c, _ in pairs]), np.array([e for _, e in pairs])


def clustering_and_efficiency(A: np.ndarray) -> tuple[float, float]:
    """Mean local clustering ``C`` (degree < 2 → 0) and global efficiency ``E`` of an undirected binary graph.

    ``C = mean_u 2 t_u / (k_u (k_u - 1))`` (``networkx.average_clustering``, ``bct.clustering_coef_bu``);
    ``E = Σ_{i≠j} 1/d_ij / (N(N-1))`` (``networkx.global_efficiency``, ``bct.efficiency_bin``).

    Example::

        >>> import numpy as np
        >>> triangle = np.ones((3, 3), dtype=int) - np.eye(3, dtype=int)
        >>> clustering_and_efficiency(triangle)
        (1.0, 1.0)
    """
    B = validated_adjacency(A)
    clustering, efficiency = clustering_and_efficiency_batch(B[None])
    return float(clustering[0]), float(efficiency[0])
