"""Confidence intervals of a mean: Student t and percentile bootstrap, per (task, metric, variant).

The one home of the summaries every report shows: :func:`summarize` (the finite values of each cell) and
:func:`summarize_runs` (the same, with the runs that gave no value counted beside them).
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import stats

from ._design import check_frame, finite, variant_order

SUMMARY_COLUMNS: tuple[str, ...] = ("task", "metric", "variant", "n", "mean", "sd", "t_lo", "t_hi", "boot_lo",
                                    "boot_hi", "note")
RUN_SUMMARY_COLUMNS: tuple[str, ...] = ("task", "metric", "variant", "n", "n_ok", "mean", "sd", "t_lo", "t_hi",
                                        "boot_lo", "boot_hi", "note")
_STATISTICS = ("mean", "sd", "t_lo", "t_hi", "boot_lo", "boot_hi")


def t_interval(x: ArrayLike, confidence: float = 0.95) -> tuple[float, float]:
    """Student-t interval of the mean: ``x̄ ± t_{(1+confidence)/2, n-1} s / √n`` (``s`` with ``ddof=1``).

    Args:
        x: the sample (array-like of floats).
        confidence: the coverage, in (0, 1).

    Returns:
        ``(lo, hi)``; NaN for fewer than two values.

    Example::

        >>> from connectome_priors.stats import t_interval
        >>> [round(v, 4) for v in t_interval([1.0, 2.0, 3.0, 4.0])]   # 2.5 ± 3.1824 * 1.291 / 2
        [0.4457, 4.5543]
    """
    x = np.asarray(x, dtype=float)
    n = x.size
    if n < 2:
        return math.nan, math.nan
    half = stats.t.ppf(0.5 + confidence / 2, n - 1) * x.std(ddof=1) / math.sqrt(n)
    return float(x.mean() - half), float(x.mean() + half)


def mean_interval(x: ArrayLike, confidence: float = 0.95) -> tuple[float, float, float]:
    """The mean with its Student-t interval (:func:`t_interval`), degenerate samples included.

    No values give NaN throughout; one value gives its mean and a NaN interval; values that are all equal give the
    interval ``[x̄, x̄]`` (zero width, no t quantile needed).

    Args:
        x: the sample (array-like of floats; pass finite values).
        confidence: the coverage, in (0, 1).

    Returns:
        ``(mean, lo, hi)``.

    Example::

        >>> from connectome_priors.stats import mean_interval
        >>> [round(v, 4) for v in mean_interval([1.0, 2.0, 3.0, 4.0])]
        [2.5, 0.4457, 4.5543]
        >>> mean_interval([0.5, 0.5]), mean_interval([0.7])
        ((0.5, 0.5, 0.5), (0.7, nan, nan))
    """
    x = np.asarray(x, dtype=float).ravel()
    if x.size == 0:
        return math.nan, math.nan, math.nan
    mean = float(x.mean())
    if x.size < 2:
        return mean, math.nan, math.nan
    if np.all(x == x[0]):
        return mean, mean, mean
    lo, hi = t_interval(x, confidence)
    return mean, lo, hi


def _describe(x: np.ndarray, confidence: float, n_resamples: int, seed: int) -> tuple[dict[str, float], list[str]]:
    """Mean, sd, t- and bootstrap interval of finite values ``x``, and why an interval is missing or degenerate."""
    cell = dict.fromkeys(_STATISTICS, math.nan)
    cell["mean"], cell["t_lo"], cell["t_hi"] = mean_interval(x, confidence)
    if x.size < 2:
        return cell, ["n < 2: no interval"]
    if np.all(x == x[0]):
        cell.update(sd=0.0, boot_lo=cell["mean"], boot_hi=cell["mean"])
        return cell, ["zero variance: degenerate interval"]
    boot = stats.bootstrap((x,), np.mean, confidence_level=confidence, n_resamples=n_resamples, method="percentile",
                           vectorized=True, random_state=np.random.default_rng(seed))
    cell.update(sd=float(x.std(ddof=1)), boot_lo=float(boot.confidence_interval.low),
                boot_hi=float(boot.confidence_interval.high))
    return cell, []


def _cells(df: pd.DataFrame, confidence: float) -> Iterator[tuple[object, object, str, pd.Series, np.ndarray]]:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1); got {confidence}")
    data = check_frame(df)
    for (task, metric), block in data.groupby(["task", "metric"], sort=True):
        for variant in variant_order(block["variant"]):
            raw = block.loc[block["variant"] == variant, "value"]
            yield task, metric, variant, raw, finite(raw)


def summarize(
    df: pd.DataFrame, *, confidence: float = 0.95, n_resamples: int = 10_000, seed: int = 0
) -> pd.DataFrame:
    """Mean, t-interval and percentile bootstrap interval per (task, metric, variant).

    Columns: ``task, metric, variant, n, mean, sd, t_lo, t_hi, boot_lo, boot_hi, note``. ``n`` counts finite values.
    t-interval: ``x̄ ± t_{(1+confidence)/2, n-1} s/√n``; bootstrap: ``scipy.stats.bootstrap`` of the mean,
    ``method="percentile"`` (the reference's recipe), ``n_resamples`` draws from ``np.random.default_rng(seed)``.
    Degenerate cells do not raise: zero variance gives the interval ``[x̄, x̄]``, ``n < 2`` gives NaN, and ``note``
    says why. Rows: tasks and metrics sorted, variants in the canonical order.

    Args:
        df: tidy frame (columns ``variant, task, seed, metric, value``).
        confidence: coverage of both intervals, in (0, 1).
        n_resamples: bootstrap resamples per cell.
        seed: seed of each cell's bootstrap generator.

    Returns:
        One row per (task, metric, variant).

    Raises:
        ValueError: a required column is missing, a value is not numeric, or ``confidence`` is outside (0, 1).
        TypeError: ``df`` is not a DataFrame.

    Example::

        >>> import pandas as pd
        >>> from connectome_priors.stats import summarize
        >>> df = pd.DataFrame(dict(variant="W", task=1, seed=range(4), metric="Accuracy", value=[1., 2., 3., 4.]))
        >>> row = summarize(df).iloc[0]
        >>> float(row["mean"]), round(float(row.t_hi - row["mean"]), 4)   # t_{0.975,3} * s / 2
        (2.5, 2.0543)
    """
    rows = []
    for task, metric, variant, raw, x in _cells(df, confidence):
        cell, notes = _describe(x, confidence, n_resamples, seed)
        if x.size < raw.size:
            notes.insert(0, f"{raw.size - x.size} non-finite value(s) dropped")
        rows.append(dict(task=task, metric=metric, variant=variant, n=int(x.size), **cell, note="; ".join(notes)))
    return pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))


def summarize_runs(
    df: pd.DataFrame, *, confidence: float = 0.95, n_resamples: int = 10_000, seed: int = 0
) -> pd.DataFrame:
    """:func:`summarize` of runs: every run counted in ``n``, the finite ones in ``n_ok`` and summarized.

    A run that gave no value (NaN/inf, e.g. training stopped on a non-finite loss) is counted, not averaged. Columns:
    ``task, metric, variant, n, n_ok, mean, sd, t_lo, t_hi, boot_lo, boot_hi, note`` (:data:`RUN_SUMMARY_COLUMNS`);
    a cell without a finite value has NaN statistics and the note ``"no finite value"``. Rows as :func:`summarize`.

    Args:
        df: tidy frame (columns ``variant, task, seed, metric, value``), one row per run and metric.
        confidence: coverage of both intervals, in (0, 1).
        n_resamples: bootstrap resamples per cell.
        seed: seed of each cell's bootstrap generator.

    Returns:
        One row per (task, metric, variant).

    Raises:
        ValueError: a required column is missing, a value is not numeric, or ``confidence`` is outside (0, 1).
        TypeError: ``df`` is not a DataFrame.

    Example::

        >>> import pandas as pd
        >>> from connectome_priors.stats import summarize_runs
        >>> df = pd.DataFrame(dict(variant=["W"] * 3 + ["WD"], task=1, seed=[0, 1, 2, 0], metric="Accuracy",
        ...                        value=[0.5, float("nan"), 0.7, float("nan")]))
        >>> summarize_runs(df)[["variant", "n", "n_ok", "mean", "note"]].to_dict("records")
        [{'variant': 'WD', 'n': 1, 'n_ok': 0, 'mean': nan, 'note': 'no finite value'}, \
{'variant': 'W', 'n': 3, 'n_ok': 2, 'mean': 0.6, 'note': ''}]
    """
    rows = []
    for task, metric, variant, raw, x in _cells(df, confidence):
        cell, notes = _describe(x, confidence, n_resamples, seed)
        rows.append(dict(task=task, metric=metric, variant=variant, n=int(raw.size), n_ok=int(x.size), **cell,
                         note="no finite value" if x.size == 0 else "; ".join(notes)))
    return pd.DataFrame(rows, columns=list(RUN_SUMMARY_COLUMNS))
