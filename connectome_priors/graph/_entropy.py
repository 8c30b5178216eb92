"""Entropy of a weight distribution through a Gaussian KDE (the paper's "Entropy" metric).

``H = -Σ_g p_g log2 p_g`` with ``p_g ∝ kde(x_g)``, a Gaussian KDE (Scott's bandwidth, all ``N²`` values of ``|W|``)
evaluated on 100 evenly spaced points ``x_g`` from the smallest to the largest value, normalised to sum 1.
"""

from __future__ import annotations

import math

import numpy as np

from ._binary import as_matrix


def weight_entropy(W: np.ndarray, *, absolute: bool = True, grid_points: int = 100) -> float:
    """Entropy (bits) of the weight distribution, discretised through a Gaussian KDE.

    ``x = |W|.ravel()`` (``absolute=False``: the signed ``W``, as the reference code), ``g`` = ``grid_points`` evenly
    spaced values from ``min x`` to ``max x``, ``p = kde_x(g) / Σ kde_x(g)`` with the Gaussian KDE of
    ``scipy.stats.gaussian_kde`` (Scott's rule, ``h² = var(x) n^(-2/5)``), ``H = -Σ p log2 p``. Evaluated directly,
    kernel terms farther than 10 h dropped (< e^-50 of a peak), ~10x faster than ``gaussian_kde`` at N = 312.
    NaN when ``x`` is constant or non-finite (the KDE is undefined).

    Example::

        >>> import numpy as np
        >>> W = np.random.default_rng(0).normal(size=(30, 30))
        >>> 0.0 < weight_entropy(W) <= math.log2(100)
        True
    """
    W = as_matrix(W)
    if grid_points < 2:
        raise ValueError(f"grid_points must be >= 2; got {grid_points}")
    x = W.astype(np.float64).ravel()
    if absolute:
        x = np.abs(x)
    if not np.all(np.isfinite(x)) or x.min() == x.max():
        return math.nan
    grid = np.linspace(x.min(), x.max(), grid_points)
    # gaussian_kde's Scott bandwidth: h² = var(x, ddof=1) · n^(-2/5); its normalising constant cancels below
    bandwidth = math.sqrt(float(np.var(x, ddof=1)) * x.size ** (-2.0 / 5.0))
    # sum the kernel only over the points within 10 h of each grid point: the rest weigh < e^-50 of a peak
    x = np.sort(x)
    lo = np.searchsorted(x, grid - 10.0 * bandwidth, side="left")
    hi = np.searchsorted(x, grid + 10.0 * bandwidth, side="right")
    density = np.empty(grid_points)
    for g in range(grid_points):
        z = (x[lo[g] : hi[g]] - grid[g]) / bandwidth
        density[g] = np.exp(-0.5 * z * z).sum()
    p = density / density.sum()
    p = p[p > 0]
    return float(-(p * np.log2(p)).sum())
