"""Humphries' small-world σ of an undirected binary graph (the paper's "SmallWorldness" metric).

``σ = (C / C_null) / (L / L_null) = (C / C_null) · (E / E_null)`` with ``L = 1/E`` the harmonic mean path length,
so disconnected graphs are handled as in the reference; nulls from :mod:`._graph_nulls`.
"""

from __future__ import annotations

import math

import numpy as np

from ._binary import adjacency
from ._clustering import clustering_and_efficiency
from ._nulls import null_clustering_and_efficiency


def small_world_sigma(
    A: np.ndarray, *, n_null: int | None = None, seed: int = 0, reference_compat: bool = False
) -> float:
    """Humphries' small-world ``σ = (C / C_null) / (L / L_null) = (C / C_null) · (E / E_null)``.

    ``C``: mean local clustering; ``E``: global efficiency (``L = 1/E``, so disconnected graphs are fine); nulls from
    :func:`null_clustering_and_efficiency`. NaN for a graph without edges or when a null mean is 0.

    Example::

        >>> import networkx as nx
        >>> ring = nx.to_numpy_array(nx.watts_strogatz_graph(200, 10, 0.05, seed=1), dtype=int)
        >>> small_world_sigma(ring, n_null=10) > 3   # a small world
        True
    """
    B = adjacency(A)
    n = B.shape[0]
    m = int(B.sum()) // 2
    if m == 0:
        return math.nan
    clustering, efficiency = clustering_and_efficiency(B)
    null_clustering, null_efficiency = null_clustering_and_efficiency(
        n, m, n_null=n_null, seed=seed, reference_compat=reference_compat
    )
    if null_clustering == 0.0 or null_efficiency == 0.0:
        return math.nan
    return (clustering / null_clustering) * (efficiency / null_efficiency)
