"""Random null graphs for the small-world σ, and their mean clustering and efficiency (cached).

Default: ``n_null`` = 20 density-matched Erdős–Rényi ``G(N, m)`` graphs (same node and edge count, no self-loops).
``reference_compat=True``: the published null, 1000 graphs ``(U + Uᵀ)/2 > 0.7`` with ``U ~ Uniform(0,1)^{N x N}``
(edge density 0.18 whatever the graph's, self-loops on the diagonal entering the clustering). The means are cached
per ``(N, m, n_null, seed)`` (``(N, n_null, seed)`` in compat mode), so many matrices of one size share them.
"""

from __future__ import annotations

import functools

import numpy as np

from ._clustering import clustering_and_efficiency_batch

# Reference null (model_metrics in Model/CorticalBlueprintRNN.ipynb): nperm symmetric uniform matrices thresholded.
_REFERENCE_NULL_COUNT = 1000
_REFERENCE_NULL_THRESHOLD = 0.7
_DEFAULT_NULL_COUNT = 20  # σ_null(C)/C ≈ 0.5 % per graph at N = 312, so the mean of 20 is good to 0.1 %
_NULL_BATCH = 25  # null graphs drawn at a time: bounds memory at 25 * N² float64 random numbers


def _gnm_null_batch(n: int, m: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """``size`` uniform random graphs with ``n`` nodes and exactly ``m`` edges (no self-loops), bool (size, n, n)."""
    rows, cols = np.triu_indices(n, 1)
    keys = rng.random((size, rows.size))
    chosen = np.argpartition(keys, m - 1, axis=1)[:, :m] if m < rows.size else np.tile(np.arange(rows.size), (size, 1))
    graphs = np.zeros((size, n, n), dtype=bool)
    batch = np.repeat(np.arange(size), m)
    graphs[batch, rows[chosen].ravel(), cols[chosen].ravel()] = True
    return graphs | graphs.transpose(0, 2, 1)


def _reference_null_batch(n: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """The reference notebook's null: ``((U + Uᵀ)/2 > 0.7)`` per graph, ``U = rng.random((n, n))`` drawn in order."""
    U = rng.random((size, n, n))
    return (U + U.transpose(0, 2, 1)) / 2 > _REFERENCE_NULL_THRESHOLD


def null_graphs(n: int, m: int | None, n_null: int, seed: int, *, reference_compat: bool = False):
    """Yield the null graphs in batches (bool arrays (b, n, n)), in the order the null means use them.

    Default: ``G(n, m)`` graphs (one ``rng.random(n(n-1)/2)`` key vector per graph, the ``m`` smallest keys pick the
    upper-triangle pairs). ``reference_compat=True``: ``(U + Uᵀ)/2 > 0.7`` with ``U = rng.random((n, n))`` per
    graph, diagonal kept (``m`` is ignored). ``rng = np.random.default_rng(seed)``.

    Example::

        >>> from connectome_priors import null_graphs
        >>> batch = next(null_graphs(10, 12, n_null=3, seed=0))   # 3 graphs, 10 nodes, 12 edges each
        >>> batch.shape, batch.sum(axis=(1, 2)).tolist()         # each edge counted in both directions
        ((3, 10, 10), [24, 24, 24])
    """
    rng = np.random.default_rng(seed)
    done = 0
    while done < n_null:
        size = min(_NULL_BATCH, n_null - done)
        if reference_compat:
            yield _reference_null_batch(n, size, rng)
        else:
            yield _gnm_null_batch(n, int(m), size, rng)
        done += size


@functools.lru_cache(maxsize=256)
def _null_means(n: int, m: int | None, n_null: int, seed: int, reference_compat: bool) -> tuple[float, float]:
    clustering_sum = efficiency_sum = 0.0
    for graphs in null_graphs(n, m, n_null, seed, reference_compat=reference_compat):
        clustering, efficiency = clustering_and_efficiency_batch(graphs)
        clustering_sum += float(clustering.sum())
        efficiency_sum += float(efficiency.sum())
    return clustering_sum / n_null, efficiency_sum / n_null


def null_clustering_and_efficiency(
    n: int, m: int, *, n_null: int | None = None, seed: int = 0, reference_compat: bool = False
) -> tuple[float, float]:
    """Mean clustering and efficiency of the random null graphs (cached per ``(n, m, n_null, seed)``).

    Default: ``n_null`` = 20 density-matched ``G(n, m)`` graphs. ``reference_compat=True``: the published null,
    ``n_null`` = 1000 graphs ``(U + Uᵀ)/2 > 0.7`` (self-loops included, independent of ``m``).

    Example::

        >>> C, E = null_clustering_and_efficiency(100, 990, n_null=10)   # density 0.2
        >>> abs(C - 0.2) < 0.02, abs(E - 0.6) < 0.02
        (True, True)
    """
    if n < 2:
        raise ValueError(f"n must be >= 2; got {n}")
    if n_null is None:
        n_null = _REFERENCE_NULL_COUNT if reference_compat else _DEFAULT_NULL_COUNT
    if n_null < 1:
        raise ValueError(f"n_null must be >= 1; got {n_null}")
    if reference_compat:
        return _null_means(int(n), None, int(n_null), int(seed), True)
    if not 0 < m <= n * (n - 1) // 2:
        raise ValueError(f"m must be in [1, n(n-1)/2 = {n * (n - 1) // 2}]; got {m}")
    return _null_means(int(n), int(m), int(n_null), int(seed), False)
