"""Seed-paired comparisons of variants: exact sign-flip tests with Holm, range-preserving intervals, and verdicts.

In the ablation, the variants of one seed share that seed's data (training trials and, under the default protocol,
the permutation of ``W!``), so two variants are compared *within* seeds: for a pair ``(a, b)`` and the seeds ``s``
where both have a finite value, ``d_s = x_{a,s} - x_{b,s}``, and

* ``mean_diff = d̄`` with the percentile bootstrap interval of the paired mean difference
  (:func:`~connectome_priors.stats.paired_difference_interval`; inside the range the metric's differences can take);
* the exact two-sided sign-flip permutation test of ``d̄`` (:func:`~connectome_priors.stats.sign_flip_test`: all
  ``2^m`` sign patterns of the ``m`` nonzero differences; zero differences carry no sign and are not dropped from
  ``d̄``) -- exact also with ties and zeros, where the Wilcoxon signed-rank test falls back to a normal
  approximation, and its smallest attainable p ``2 / 2^m``;
* Holm's correction over all pairs of one (task, metric) family, and a verdict from
  :data:`~connectome_priors.stats.VERDICTS`: ``a > b``, ``a < b``, "equivalent within ±margin" (only for a metric
  with a stated margin, :data:`EQUIVALENCE_MARGINS`, and an interval inside it), "untestable with n seeds" (no
  outcome of these seeds could reach ``alpha`` after Holm) or "no difference shown (p = ...)".

A paired test is more powerful than the unpaired Mann-Whitney U of :func:`simple_effects` when the seeds'
outcomes are correlated across variants (a hard data draw is hard for every variant).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from ._bimodal import equivalence, paired_difference_interval, sign_flip_test, sign_flip_tost, verdict
from ._design import FACTORS, check_frame, is_factorial, parse_variant, variant_order
from ._intervals import metric_range
from ._rank_tests import holm

#: Equivalence margins (in the metric's units) of the metrics for which equivalence may be claimed: 0.05 accuracy
#: (five trials in a hundred). Other metrics get no equivalence verdict.
EQUIVALENCE_MARGINS: dict[str, float] = dict.fromkeys(("Accuracy", "Validation_Accuracy", "Test_Accuracy"), 0.05)
PAIRED_COLUMNS: tuple[str, ...] = (
    "task", "metric", "a", "b", "n", "m", "mean_a", "mean_b", "mean_diff", "diff_lo", "diff_hi", "all_equal",
    "p_raw", "p_adj_holm", "min_p_holm", "verdict", "note",
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
    :data:`PAIRED_COLUMNS`: ``n`` paired seeds, ``m`` of them with a nonzero difference, ``mean_a``/``mean_b`` over
    those seeds, ``[diff_lo, diff_hi]`` the bootstrap interval of the mean difference (NaN for ``n < 2``;
    ``all_equal`` when every seed gives the same difference), ``p_raw`` the exact sign-flip p, ``p_adj_holm`` Holm
    over the family, ``min_p_holm`` the smallest Holm-adjusted p these seeds could give, and ``verdict``.
    A variant with two values for one (task, seed, metric) is an error.

    Args:
        df: tidy frame (``variant, task, seed, metric, value``).
        pairs: the ``(a, b)`` pairs to compare (default: every pair present).
        confidence: coverage of the interval, in (0, 1).
        alpha: the significance level of the verdicts.

    Returns:
        One row per (task, metric, pair present), columns :data:`PAIRED_COLUMNS`.

    Raises:
        ValueError: ``confidence`` outside (0, 1), a variant with several values for one (task, seed, metric), a value
            outside its metric's range, or a required column missing.
        TypeError: ``df`` is not a DataFrame.

    Example::

        >>> import numpy as np, pandas as pd
        >>> from connectome_priors.stats import paired_comparisons
        >>> rng = np.random.default_rng(0)
        >>> hard = rng.normal(0, 1, 12)   # per-seed difficulty, shared by both variants
        >>> rows = [dict(variant=v, task="Task1", seed=s, metric="Loss", value=2 + hard[s] + shift)
        ...         for v, shift in (("W*D*C", 0.3), ("WD*C", 0.0)) for s in range(12)]
        >>> row = paired_comparisons(pd.DataFrame(rows)).iloc[0]
        >>> row.a, row.b, round(float(row.mean_diff), 3), bool(row.p_raw == 2 / 2**12), row.verdict
        ('W*D*C', 'WD*C', 0.3, True, 'W*D*C > WD*C')
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1); got {confidence}")
    data = check_frame(df)
    duplicated = data.duplicated(["variant", "task", "seed", "metric"])
    if duplicated.any():
        r = data[duplicated].iloc[0]
        raise ValueError(f"variant {r.variant!r} has several values for task {r.task!r}, seed {r.seed}, "
                         f"metric {r.metric!r}: seed pairing needs one value per (variant, task, seed, metric)")
    rows, diffs = [], []
    for (task, metric), block in data.groupby(["task", "metric"], sort=True):
        wide = block.pivot(index="seed", columns="variant", values="value")
        family = pairs if pairs is not None else list(itertools.combinations(variant_order(block["variant"]), 2))
        low, high = metric_range(str(metric))
        start = len(rows)
        for a, b in family:
            if a not in wide.columns or b not in wide.columns:
                continue
            both = wide[[a, b]].to_numpy(float)
            both = both[np.isfinite(both).all(axis=1)]
            d = both[:, 0] - both[:, 1]
            diffs.append(d)
            interval = paired_difference_interval(both[:, 0], both[:, 1], low, high, confidence)
            test = sign_flip_test(d) if d.size else None
            note = ("no seed with a finite value in both variants" if d.size == 0 else
                    "all paired differences are zero" if not np.any(d) else
                    "" if test.method.startswith("exact") else test.method)
            rows.append(dict(task=task, metric=metric, a=a, b=b, n=int(d.size), m=int(np.count_nonzero(d)),
                             mean_a=float(both[:, 0].mean()) if d.size else math.nan,
                             mean_b=float(both[:, 1].mean()) if d.size else math.nan,
                             mean_diff=interval.mean, diff_lo=interval.lo, diff_hi=interval.hi,
                             all_equal=bool(interval.all_equal), p_raw=test.p if test else math.nan,
                             min_p=test.min_p if test else 1.0, note=note))
        family_rows = rows[start:]
        if not family_rows:
            continue
        p_adj = holm([r["p_raw"] if math.isfinite(r["p_raw"]) else 1.0 for r in family_rows])
        min_adj = holm([r.pop("min_p") for r in family_rows])
        margin = EQUIVALENCE_MARGINS.get(str(metric))
        for row, p, mp, d in zip(family_rows, p_adj, min_adj, diffs[start:]):
            row["p_adj_holm"], row["min_p_holm"] = float(p), float(mp)
            shown = (row["diff_lo"], row["diff_hi"]) if margin else (math.nan, math.nan)  # no margin: no equivalence
            # the exact TOST only where the interval alone would show equivalence (it costs 2 enumerations)
            tost = sign_flip_tost(d, margin) if margin and d.size and equivalence(*shown, margin) else None
            row["verdict"] = verdict(float(p), float(mp), shown, margin or 1.0, difference=row["mean_diff"],
                                     n=row["n"], alpha=alpha, all_equal=row["all_equal"], a=row["a"], b=row["b"],
                                     tost_p=tost)
    return pd.DataFrame(rows, columns=list(PAIRED_COLUMNS))
