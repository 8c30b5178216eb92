"""Confidence intervals of a mean: Student t and percentile bootstrap, per (task, metric, variant)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from ._design import check_frame, finite, variant_order


def t_interval(x, confidence: float = 0.95) -> tuple[float, float]:
    """Student-t interval of the mean: ``x̄ ± t_{(1+confidence)/2, n-1} s / √n`` (``s`` with ``ddof=1``).

    Example::

        >>> from connectome_priors.stats import t_interval
        >>> [round(v, 4) for v in t_interval([1.0, 2.0, 3.0, 4.0])]   # 2.5 ± 3.1824 * 1.291 / 2
        [0.4457, 4.5543]
    """
    x = np.asarray(x, dtype=float)
    n = x.size
    half = stats.t.ppf(0.5 + confidence / 2, n - 1) * x.std(ddof=1) / math.sqrt(n)
    return float(x.mean() - half), float(x.mean() + half)


def summarize(
    df: pd.DataFrame, *, confidence: float = 0.95, n_resamples: int = 10_000, seed: int = 0
) -> pd.DataFrame:
    """Mean, t-interval and percentile bootstrap interval per (task, metric, variant).

    Columns: ``task, metric, variant, n, mean, sd, t_lo, t_hi, boot_lo, boot_hi, note``. ``n`` counts finite values.
    t-interval: ``x̄ ± t_{(1+confidence)/2, n-1} s/√n``; bootstrap: ``scipy.stats.bootstrap`` of the mean,
    ``method="percentile"`` (the reference's recipe), ``n_resamples`` draws from ``np.random.default_rng(seed)``.
    Degenerate cells do not raise: zero variance gives the interval ``[x̄, x̄]``, ``n < 2`` gives NaN, and ``note``
    says why.

    Example::

        >>> import pandas as pd
        >>> from connectome_priors.stats import summarize
        >>> df = pd.DataFrame(dict(variant="W", task=1, seed=range(4), metric="Accuracy", value=[1., 2., 3., 4.]))
        >>> row = summarize(df).iloc[0]
        >>> float(row["mean"]), round(float(row.t_hi - row["mean"]), 4)   # t_{0.975,3} * s / 2
        (2.5, 2.0543)
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1); got {confidence}")
    data = check_frame(df)
    rows = []
    for (task, metric), block in data.groupby(["task", "metric"], sort=True):
        for variant in variant_order(block["variant"]):
            raw = block.loc[block["variant"] == variant, "value"]
            x = finite(raw)
            notes = []
            if x.size < raw.size:
                notes.append(f"{raw.size - x.size} non-finite value(s) dropped")
            row = dict(task=task, metric=metric, variant=variant, n=int(x.size))
            row.update(dict.fromkeys(["mean", "sd", "t_lo", "t_hi", "boot_lo", "boot_hi"], math.nan))
            if x.size >= 1:
                row["mean"] = float(x.mean())
            if x.size < 2:
                notes.append("n < 2: no interval")
            elif np.all(x == x[0]):
                row.update(sd=0.0, t_lo=row["mean"], t_hi=row["mean"], boot_lo=row["mean"], boot_hi=row["mean"])
                notes.append("zero variance: degenerate interval")
            else:
                row["sd"] = float(x.std(ddof=1))
                row["t_lo"], row["t_hi"] = t_interval(x, confidence)
                boot = stats.bootstrap(
                    (x,),
                    np.mean,
                    confidence_level=confidence,
                    n_resamples=n_resamples,
                    method="percentile",
                    vectorized=True,
                    random_state=np.random.default_rng(seed),
                )
                row["boot_lo"] = float(boot.confidence_interval.low)
                row["boot_hi"] = float(boot.confidence_interval.high)
            row["note"] = "; ".join(notes)
            rows.append(row)
    columns = ["task", "metric", "variant", "n", "mean", "sd", "t_lo", "t_hi", "boot_lo", "boot_hi", "note"]
    return pd.DataFrame(rows, columns=columns)
