"""How every report writes numbers, intervals, p-values and markdown tables (the ablation report, the committed
evidence and ``docs/reproduction.md``, the claim report).

A missing value (``None``, NaN, inf) is always an en dash ``–``; an interval whose bounds are missing shows the
mean alone.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pandas loads on first use
    import pandas as pd

#: The dash written for a missing value.
MISSING = "–"
#: The mark of a published interval that leaves its metric's possible range, and its footnote.
BEYOND_RANGE_MARK = "†"
BEYOND_RANGE_NOTE = ("† The published interval is the paper's Student-t interval over 20 runs, quoted as published; "
                     "it leaves the metric's possible range (e.g. accuracy above 1), as a t-interval of bimodal "
                     "outcomes can, so a verdict against it is weaker than it reads.")
#: The tasks in words (paper numbering).
TASK_LABELS = {"Task1": "One-Choice Inference", "Task2": "Perceptual Decision-Making", "Task3": "Go/NoGo"}
#: The same, short enough for a figure's panel title.
TASK_SHORT_LABELS = {"Task1": "One-Choice Inference", "Task2": "PDM", "Task3": "Go/NoGo"}


def _finite(x: Any) -> bool:
    try:
        return x is not None and math.isfinite(x)
    except TypeError:
        return False


def fmt(x: float | None, digits: int = 3) -> str:
    """A number with ``digits`` decimals, or ``–`` when missing.

    Args:
        x: the number (``None``, NaN or inf: missing).
        digits: decimals.

    Returns:
        The text.

    Example::

        >>> fmt(0.51234), fmt(2, 1), fmt(float("nan")), fmt(None)
        ('0.512', '2.0', '–', '–')
    """
    return f"{x:.{digits}f}" if _finite(x) else MISSING


def fmt_ci(mean: float | None, lo: float | None, hi: float | None, digits: int = 3) -> str:
    """``mean [lo, hi]``; the mean alone when a bound is missing, ``–`` when the mean is.

    Args:
        mean: the estimate.
        lo: lower bound of its interval.
        hi: upper bound.
        digits: decimals of all three.

    Returns:
        The text.

    Example::

        >>> fmt_ci(0.9, 0.85, 0.95), fmt_ci(0.238, float("nan"), float("nan")), fmt_ci(None, 0, 1)
        ('0.900 [0.850, 0.950]', '0.238', '–')
    """
    if not _finite(mean):
        return MISSING
    if not (_finite(lo) and _finite(hi)):
        return fmt(mean, digits)
    return f"{fmt(mean, digits)} [{fmt(lo, digits)}, {fmt(hi, digits)}]"


def fmt_mean(mean: float | None, lo: float | None, hi: float | None, all_equal: bool = False,
             n: int | None = None, digits: int = 3) -> str:
    """Our mean with its interval: ``mean [lo, hi]``; ``mean (all n equal)`` for identical values (never a
    zero-width interval, which would read as certainty); the mean alone when the interval is missing.

    Args:
        mean: the mean.
        lo: lower bound.
        hi: upper bound.
        all_equal: the values were all equal.
        n: how many values (for the "all n equal" text).
        digits: decimals.

    Returns:
        The text.

    Example::

        >>> fmt_mean(0.9, 0.8, 1.0), fmt_mean(1.0, 1.0, 1.0, True, 5), fmt_mean(0.7, float("nan"), None)
        ('0.900 [0.800, 1.000]', '1.000 (all 5 equal)', '0.700')
    """
    if all_equal and _finite(mean):
        return f"{fmt(mean, digits)} (all {n} equal)" if n else f"{fmt(mean, digits)} (all equal)"
    return fmt_ci(mean, lo, hi, digits)


def fmt_published(mean: float | None, lo: float | None, hi: float | None, beyond_range: bool,
                  digits: int = 3) -> str:
    """A published mean and interval, quoted as published, marked with :data:`BEYOND_RANGE_MARK` when the
    interval leaves the metric's range.

    Args:
        mean: the published mean.
        lo: the published lower bound.
        hi: the published upper bound.
        beyond_range: the interval leaves the metric's range.
        digits: decimals.

    Returns:
        The text.

    Example::

        >>> fmt_published(0.948, 0.878, 1.018, True), fmt_published(0.5, 0.49, 0.51, False)
        ('0.948 [0.878, 1.018]†', '0.500 [0.490, 0.510]')
    """
    return fmt_ci(mean, lo, hi, digits) + (BEYOND_RANGE_MARK if beyond_range else "")


def fmt_learned(k: float | None, n: float | None, lo: float | None, hi: float | None) -> str:
    """A learn rate: ``k/n [lo, hi]`` (the Wilson interval, 2 decimals), ``–`` when missing.

    Args:
        k: runs that learned.
        n: runs.
        lo: lower bound of the rate's interval.
        hi: upper bound.

    Returns:
        The text.

    Example::

        >>> fmt_learned(3, 4, 0.3006, 0.9544), fmt_learned(float("nan"), 4, None, None)
        ('3/4 [0.30, 0.95]', '–')
    """
    if not (_finite(k) and _finite(n)):
        return MISSING
    return f"{int(k)}/{int(n)} {fmt_interval(lo, hi, 2)}"


def fmt_interval(lo: float | None, hi: float | None, digits: int = 3) -> str:
    """``[lo, hi]``, or ``–`` when a bound is missing.

    Args:
        lo: lower bound.
        hi: upper bound.
        digits: decimals.

    Returns:
        The text.

    Example::

        >>> fmt_interval(0.1, 0.25), fmt_interval(0.1, float("nan"))
        ('[0.100, 0.250]', '–')
    """
    return f"[{fmt(lo, digits)}, {fmt(hi, digits)}]" if _finite(lo) and _finite(hi) else MISSING


def fmt_p(p: float | None) -> str:
    """A p-value: three significant digits, scientific notation below 0.001, ``–`` when missing, and ``< 1e-300``
    for a p that underflowed to 0 in double precision (a test's p is never exactly 0).

    Args:
        p: the p-value.

    Returns:
        The text.

    Example::

        >>> fmt_p(0.04321), fmt_p(1.0), fmt_p(2.5e-05), fmt_p(float("nan")), fmt_p(0.0)
        ('0.0432', '1', '2.50e-05', '–', '< 1e-300')
    """
    if not _finite(p):
        return MISSING
    if p <= 0:
        return "< 1e-300"
    return f"{p:.3g}" if p >= 1e-3 else f"{p:.2e}"


def fmt_cell(value: Any, digits: int = 4) -> str:
    """A table cell: floats with ``digits`` decimals (``–`` when missing), anything else as ``str``.

    Args:
        value: the cell's value.
        digits: decimals of a float.

    Returns:
        The text.

    Example::

        >>> fmt_cell(0.123456), fmt_cell(3), fmt_cell("YES"), fmt_cell(float("nan"))
        ('0.1235', '3', 'YES', '–')
    """
    return fmt(value, digits) if isinstance(value, (float, np.floating)) else str(value)


def table_row(cells: Iterable[Any]) -> str:
    """One markdown table row of ready-made cells (each written with ``str``).

    Args:
        cells: the cells.

    Returns:
        ``| a | b |``.

    Example::

        >>> table_row(["W*D*C", "0.912", 3])
        '| W*D*C | 0.912 | 3 |'
    """
    return "| " + " | ".join(str(c) for c in cells) + " |"


def table_head(headers: Sequence[str]) -> list[str]:
    """The header row and the separator row of a markdown table.

    Args:
        headers: the column titles.

    Returns:
        Two lines.

    Example::

        >>> table_head(["variant", "mean"])
        ['| variant | mean |', '|---|---|']
    """
    return [table_row(headers), "|" + "---|" * len(headers)]


Column = str | Callable[[Any], Any]


def markdown_table(frame: pd.DataFrame, columns: Mapping[str, Column] | None = None, *, max_rows: int | None = None,
                   digits: int = 4) -> list[str]:
    """A markdown table of a DataFrame's rows, as lines.

    Args:
        frame: the rows (``pandas.DataFrame``).
        columns: header -> a column name or a function of the row (a ``pandas.Series``); default every column
            under its own name.
        max_rows: keep only the first rows.
        digits: decimals of float cells (:func:`fmt_cell`); text that a function returns is kept as is.

    Returns:
        The header, the separator and one line per row.

    Example::

        >>> import pandas as pd
        >>> frame = pd.DataFrame({"variant": ["W", "WD"], "mean": [0.5, float("nan")], "n": [3, 2]})
        >>> print("\\n".join(markdown_table(frame)))
        | variant | mean | n |
        |---|---|---|
        | W | 0.5000 | 3 |
        | WD | – | 2 |
        >>> markdown_table(frame, {"variant": "variant", "runs": lambda r: f"{r['n']} runs"})[2]
        '| W | 3 runs |'
    """
    if max_rows is not None:
        frame = frame.head(max_rows)
    if columns is None:
        columns = {str(c): c for c in frame.columns}
    lines = table_head(list(columns))
    for _, row in frame.iterrows():
        values = (spec(row) if callable(spec) else row[spec] for spec in columns.values())
        lines.append(table_row(fmt_cell(v, digits) for v in values))
    return lines
