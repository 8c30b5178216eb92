"""Seed-paired comparisons of variants: Wilcoxon signed-rank with Holm, and the mean paired difference.

In the ablation, the variants of one seed share that seed's data (training trials and, under the default protocol,
the permutation of ``W!``), so two variants are compared *within* seeds: for a pair ``(a, b)`` and the seeds ``s``
where both have a finite value, ``d_s = x_{a,s} - x_{b,s}``, and

* ``mean_diff = d̄`` with the t-interval ``d̄ ± t_{(1+confidence)/2, n-1} s_d / √n`` (``scipy.stats.ttest_rel``'s);
* the two-sided Wilcoxon signed-rank test of ``d`` (``scipy.stats.wilcoxon``, zero differences dropped; the exact
  null distribution for small samples without ties, as scipy chooses), ``W`` the smaller rank sum;
* Holm's correction over all pairs of one (task, metric) family.

A paired test is more powerful than the unpaired Mann-Whitney U of :func:`simple_effects` when the seeds'
outcomes are correlated across variants (a hard data draw is hard for every variant).
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ._design import FACTORS, check_frame, is_factorial, parse_variant, variant_order
from ._intervals import mean_interval
from ._rank_tests import holm

PAIRED_COLUMNS: tuple[str, ...] = (
    "task", "metric", "a", "b", "n", "mean_a", "mean_b", "mean_diff", "diff_lo", "diff_hi",
    "W", "p_raw", "p_adj_holm", "sig", "note",
)


def one_factor_pairs(variants: Iterable[str]) -> list[tuple[str, str]]:
    """Pairs of W/D/C variants that differ in exactly one factor (canonical order within and across pairs).

    These are the paired simple effects: e.g. ``("W*D*C", "WD*C")`` isolates the functional init with the distance
    and the penalty held fixed. Control (non-W/D/C) names are left out.

    Args:
        variants: the variant names present (repeats ignored).

    Returns:
        The pairs ``(a, b)``, ``a`` before ``b`` in the canonical order.

    Example::

        >>> from connectome_priors.stats import one_factor_pairs
        >>> one_factor_pairs(["W*D*C", "WD*C", "WDC", "W"])
        [('W*D*C', 'WD*C'), ('WD*C', 'WDC')]
    """
    names = [v for v in variant_order(variants) if is_factorial(v)]
    levels = {v: parse_variant(v) for v in names}
    return [(a, b) for a, b in itertools.combinations(names, 2)
            if sum(levels[a][f] != levels[b][f] for f in FACTORS) == 1]


def _wilcoxon(d: np.ndarray) -> tuple[float, float, str]:
    if d.size == 0:
        return math.nan, math.nan, "no seed with a finite value in both variants"
    if np.all(d == 0):
        return math.nan, math.nan, "all paired differences are zero: Wilcoxon undefined"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy warns on small samples; n is in the table
        # the method named, not scipy's version-dependent default: exact without ties at zero (n <= 50)
        method = "exact" if d.size <= 50 and not np.any(d == 0) else "approx"
        result = stats.wilcoxon(d, alternative="two-sided", method=method)
    return float(result.statistic), float(result.pvalue), ""


def paired_comparisons(
    df: pd.DataFrame,
    pairs: Sequence[tuple[str, str]] | None = None,
    *,
    confidence: float = 0.95,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Seed-paired comparison of variant pairs, per (task, metric) (see the module docstring for the formulas).

    ``pairs``: ``(a, b)`` variant names (``mean_diff`` is ``a - b``); default every pair of the variants present,
    in canonical order. Pairs whose variants are absent from a (task, metric) are skipped. Returns the columns
    ``task, metric, a, b, n, mean_a, mean_b, mean_diff, diff_lo, diff_hi, W, p_raw, p_adj_holm, sig, note``:
    ``n`` paired seeds, ``mean_a``/``mean_b`` over those seeds, ``[diff_lo, diff_hi]`` the t-interval of the mean
    difference (NaN for ``n < 2``; ``[d̄, d̄]`` when all differences are equal), ``W``/``p_raw`` the Wilcoxon
    signed-rank test, ``p_adj_holm`` Holm over the family, ``sig`` ``"YES"`` when ``p_adj_holm < alpha``.
    A variant with two values for one (task, seed, metric) is an error.

    Args:
        df: tidy frame (``variant, task, seed, metric, value``).
        pairs: the ``(a, b)`` pairs to compare (default: every pair present).
        confidence: coverage of the t-interval, in (0, 1).
        alpha: the level of ``sig``.

    Returns:
        One row per (task, metric, pair present), columns :data:`PAIRED_COLUMNS`.

    Raises:
        ValueError: ``confidence`` outside (0, 1), a variant with several values for one (task, seed, metric), or a
            required column missing.
        TypeError: ``df`` is not a DataFrame.

    Example::

        >>> import numpy as np, pandas as pd
        >>> from connectome_priors.stats import paired_comparisons
        >>> rng = np.random.default_rng(0)
        >>> hard = rng.normal(0, 1, 12)   # per-seed difficulty, shared by both variants
        >>> rows = [dict(variant=v, task="Task1", seed=s, metric="Accuracy", value=hard[s] + shift)
        ...         for v, shift in (("W*D*C", 0.3), ("WD*C", 0.0)) for s in range(12)]
        >>> row = paired_comparisons(pd.DataFrame(rows)).iloc[0]
        >>> row.a, row.b, round(float(row.mean_diff), 3), row.sig
        ('W*D*C', 'WD*C', 0.3, 'YES')
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1); got {confidence}")
    data = check_frame(df)
    duplicated = data.duplicated(["variant", "task", "seed", "metric"])
    if duplicated.any():
        r = data[duplicated].iloc[0]
        raise ValueError(f"variant {r.variant!r} has several values for task {r.task!r}, seed {r.seed}, "
                         f"metric {r.metric!r}: seed pairing needs one value per (variant, task, seed, metric)")
    rows = []
    for (task, metric), block in data.groupby(["task", "metric"], sort=True):
        wide = block.pivot(index="seed", columns="variant", values="value")
        family = pairs if pairs is not None else list(itertools.combinations(variant_order(block["variant"]), 2))
        start = len(rows)
        for a, b in family:
            if a not in wide.columns or b not in wide.columns:
                continue
            both = wide[[a, b]].to_numpy(float)
            both = both[np.isfinite(both).all(axis=1)]
            d = both[:, 0] - both[:, 1]
            mean_diff, diff_lo, diff_hi = mean_interval(d, confidence)
            W, p, note = _wilcoxon(d)
            rows.append(dict(task=task, metric=metric, a=a, b=b, n=int(d.size),
                             mean_a=float(both[:, 0].mean()) if d.size else math.nan,
                             mean_b=float(both[:, 1].mean()) if d.size else math.nan,
                             mean_diff=mean_diff, diff_lo=diff_lo, diff_hi=diff_hi, W=W, p_raw=p, note=note))
        family_rows = rows[start:]
        for row, p_adj in zip(family_rows, holm(r["p_raw"] for r in family_rows)):
            row["p_adj_holm"] = float(p_adj)
            row["sig"] = "YES" if p_adj < alpha else "no"
    return pd.DataFrame(rows, columns=list(PAIRED_COLUMNS))
