"""Confidence intervals of a mean: Student t and percentile bootstrap, per (task, metric, variant).

:func:`summarize` is the paper's supplementary summary (a t-interval and a percentile bootstrap interval of the
finite values of each cell). :func:`summarize_runs` is the summary every report of this project shows: every run
counted, the interval a percentile bootstrap that cannot leave the metric's possible range (:data:`METRIC_RANGES`;
per seed the outcomes are bimodal -- a run learns or stays at chance -- and a t-interval of such a sample overshoots:
``0.873 [0.469, 1.277]``), identical values reported as such rather than as a zero-width interval, and for the
held-out test accuracy of a task the learn rate with its Wilson interval.
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
RUN_SUMMARY_COLUMNS: tuple[str, ...] = ("task", "metric", "variant", "n", "n_ok", "mean", "sd", "lo", "hi",
                                        "all_equal", "learned", "learn_lo", "learn_hi", "note")
#: The possible range of each metric a run records (what no interval of a report may leave). Accuracies are
#: fractions; entropy, small-world sigma, losses and penalties are nonnegative; Newman modularity of an undirected
#: graph lies in [-1/2, 1]; degree assortativity is a correlation.
METRIC_RANGES: dict[str, tuple[float, float]] = {
    **dict.fromkeys(("Accuracy", "Validation_Accuracy", "Test_Accuracy"), (0.0, 1.0)),
    **dict.fromkeys(("Loss", "Task_Loss", "Penalty", "Validation_Loss", "Validation_Task_Loss", "Test_Loss",
                     "Entropy", "SmallWorldness"), (0.0, math.inf)),
    "Modularity": (-0.5, 1.0),
    "Assortativity": (-1.0, 1.0),
}


def metric_range(metric: str) -> tuple[float, float]:
    """The possible range of ``metric`` (:data:`METRIC_RANGES`; unbounded for a metric it does not list).

    Args:
        metric: the metric's name.

    Returns:
        ``(low, high)``.

    Example::

        >>> from connectome_priors.stats import metric_range
        >>> metric_range("Test_Accuracy"), metric_range("Entropy"), metric_range("my_metric")
        ((0.0, 1.0), (0.0, inf), (-inf, inf))
    """
    return METRIC_RANGES.get(str(metric), (-math.inf, math.inf))
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
    """Every report's summary per (task, metric, variant): all runs counted, intervals inside the metric's range.

    Columns (:data:`RUN_SUMMARY_COLUMNS`): ``n`` runs, ``n_ok`` with a finite value; over those, ``mean``, ``sd``
    and ``lo``/``hi``, the percentile bootstrap interval of the mean
    (:func:`connectome_priors.stats.bounded_mean_interval`: ``n_resamples`` draws from
    ``np.random.default_rng(seed)``, inside :func:`metric_range`); ``all_equal`` when the ``n_ok >= 2`` values are
    identical (then ``lo == hi == mean``: a report prints "all n equal", not an interval); for ``Test_Accuracy`` of
    a task of :data:`connectome_priors.stats.LEARN_THRESHOLDS`, ``learned`` (runs at or above the threshold; a run
    without a value did not learn) with the Wilson interval ``learn_lo``/``learn_hi`` of the rate ``learned / n``
    (NaN elsewhere). A run that gave no value (training stopped on a non-finite loss) is counted, not averaged; a
    cell without a finite value has NaN statistics and the note ``"no finite value"``. Rows: tasks and metrics
    sorted, variants in the canonical order.

    Args:
        df: tidy frame (columns ``variant, task, seed, metric, value``), one row per run and metric.
        confidence: coverage of the intervals, in (0, 1).
        n_resamples: bootstrap resamples per cell.
        seed: seed of each cell's bootstrap generator.

    Returns:
        One row per (task, metric, variant).

    Raises:
        ValueError: a required column is missing, a value is not numeric or outside its metric's range, or
            ``confidence`` is outside (0, 1).
        TypeError: ``df`` is not a DataFrame.

    Example::

        >>> import pandas as pd
        >>> from connectome_priors.stats import summarize_runs
        >>> acc = [1.0, 1.0, 0.62, 1.0, 1.0, 1.0, 0.63, 1.0]           # t-interval [0.76, 1.05]: beyond 1
        >>> df = pd.DataFrame(dict(variant="W*D*C", task="Task3", seed=range(8), metric="Test_Accuracy", value=acc))
        >>> row = summarize_runs(df).iloc[0]
        >>> round(float(row["mean"]), 3), bool(0 <= row.lo < row.hi <= 1)
        (0.906, True)
        >>> int(row.learned), round(float(row.learn_lo), 3)
        (6, 0.409)
    """
    from ._bimodal import LEARN_THRESHOLDS, bounded_mean_interval, learn_rate, learned

    rows = []
    for task, metric, variant, raw, x in _cells(df, confidence):
        low, high = metric_range(metric)
        outside = x[(x < low) | (x > high)]
        if outside.size:
            raise ValueError(f"column 'value': {metric} of variant {variant} on task {task} must lie in "
                             f"[{low}, {high}]; got {float(outside[0])}")
        cell = bounded_mean_interval(x, low, high, confidence, seed=seed, n_resamples=n_resamples)
        note = ("no finite value" if x.size == 0 else "n < 2: no interval" if x.size < 2
                else f"all {x.size} equal" if cell.all_equal else "")
        k = lr = None
        if metric == "Test_Accuracy" and task in LEARN_THRESHOLDS and raw.size:
            k = int(learned(np.asarray(raw, float), str(task)).sum())
            lr = learn_rate(k, int(raw.size), "wilson", confidence)
        rows.append(dict(task=task, metric=metric, variant=variant, n=int(raw.size), n_ok=int(x.size),
                         mean=cell.mean, sd=float(x.std(ddof=1)) if x.size > 1 else math.nan, lo=cell.lo, hi=cell.hi,
                         all_equal=bool(cell.all_equal), learned=math.nan if k is None else k,
                         learn_lo=math.nan if lr is None else lr.lo, learn_hi=math.nan if lr is None else lr.hi,
                         note=note))
    return pd.DataFrame(rows, columns=list(RUN_SUMMARY_COLUMNS))
