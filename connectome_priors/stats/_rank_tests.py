"""Rank tests with their undefined cases spelled out, and Holm's step-down correction."""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np
from scipy import stats


def holm(p_values: Iterable[float]) -> np.ndarray:
    """Holm step-down adjusted p-values (as ``statsmodels``' ``multipletests(method="holm")``, which
    is the test oracle; numpy here because statsmodels runs ``gc.collect()`` on every call); NaN stays NaN.

    ``p_(i) ← min(1, max_{j <= i} (m - j + 1) p_(j))`` over the ``m`` finite p-values sorted ascending.

    Args:
        p_values: the raw p-values of one family.

    Returns:
        The adjusted p-values, in the input's order.

    Example::

        >>> from connectome_priors.stats import holm
        >>> holm([0.01, 0.04, 0.03]).round(3).tolist()
        [0.03, 0.06, 0.06]
    """
    p = np.asarray(list(p_values), dtype=float)
    out = np.full(p.shape, math.nan)
    finite = np.flatnonzero(np.isfinite(p))
    if finite.size:
        order = finite[np.argsort(p[finite], kind="stable")]
        m = order.size
        stepped = np.maximum.accumulate((m - np.arange(m)) * p[order])
        out[order] = np.minimum(stepped, 1.0)
    return out


def kruskal(groups: list[np.ndarray]) -> tuple[float, float, str]:
    """Kruskal-Wallis H test of ``groups``, or NaN with the reason when it is undefined.

    Args:
        groups: the finite values of each level.

    Returns:
        ``(H, p, note)``; ``note`` is empty when the test is defined.
    """
    if any(g.size == 0 for g in groups):
        return math.nan, math.nan, "a level has no finite values"
    pooled = np.concatenate(groups)
    if np.all(pooled == pooled[0]):
        return math.nan, math.nan, "all values identical: Kruskal-Wallis undefined"
    result = stats.kruskal(*groups)
    return float(result.statistic), float(result.pvalue), ""


def mannwhitney(x: np.ndarray, y: np.ndarray) -> tuple[float, float, str]:
    """Two-sided Mann-Whitney U test of ``x`` against ``y``, or NaN with the reason when it is undefined.

    Args:
        x: finite values of the first level.
        y: finite values of the second level.

    Returns:
        ``(U of x, p, note)``; ``note`` is empty when the test is defined.
    """
    if x.size == 0 or y.size == 0:
        return math.nan, math.nan, "a level has no finite values"
    pooled = np.concatenate([x, y])
    if np.all(pooled == pooled[0]):
        return math.nan, math.nan, "all values identical: Mann-Whitney U undefined"
    result = stats.mannwhitneyu(x, y, alternative="two-sided")
    return float(result.statistic), float(result.pvalue), ""
