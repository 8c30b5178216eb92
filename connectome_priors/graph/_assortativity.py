"""Degree assortativity of an undirected graph (the paper's "Assortativity" metric, Newman 2003)."""

from __future__ import annotations

import math

import numpy as np

from ._binary import adjacency


def assortativity(A: np.ndarray) -> float:
    """Degree assortativity ``r``: Pearson correlation of ``(k_i, k_j)`` over both orientations of every edge.

    NaN when there is no edge or all edge-end degrees are equal (regular graphs).

    Example::

        >>> import numpy as np
        >>> star = np.zeros((4, 4), dtype=int); star[0, 1:] = star[1:, 0] = 1
        >>> assortativity(star)   # hub-and-spoke: perfectly disassortative
        -1.0
    """
    A = adjacency(A)
    degree = A.sum(axis=1).astype(np.float64)
    rows, cols = np.nonzero(A)  # both orientations of every edge
    if rows.size == 0:
        return math.nan
    x = degree[rows]
    y = degree[cols]
    x = x - x.mean()
    y = y - y.mean()
    denominator = math.sqrt(float(x @ x) * float(y @ y))
    if denominator == 0.0:
        return math.nan
    return float(x @ y) / denominator
