"""Our cells beside the published ones: the one verdict function, its categories and their counts.

Every report that compares with the paper's ``reported_results.csv`` (the ablation report, the committed evidence
and ``docs/reproduction.md``) classifies a cell with :func:`classify`, builds its comparison table with
:func:`compare` and counts with :func:`counts`. The categories:

* ``inside``: our mean lies inside the published 95 % CI;
* ``no-memory``: outside, but accuracy of both within 0.02 of the no-memory level of the task (neither network
  learned to remember; the level depends on the drawn labels);
* ``overlap``: outside, but our 95 % interval (percentile bootstrap, inside the metric's range) and the published
  CI overlap;
* ``outside``: outside, and the CIs do not overlap;
* ``identical-same`` / ``identical-differ``: the published runs were all identical (no CI, a collapsed variant)
  and our mean is / is not within 0.01 of that value;
* ``collapsed-both``: every run of ours stopped on non-finite values and the published runs were all identical
  (the published collapse, reproduced; the accuracy Keras reports for a NaN network is shown beside it);
* ``diverged``: every run of ours stopped on non-finite values (no metric), the published cell did not collapse;
* ``no-published``: nothing published for the cell;

and ``not-run`` for a cell of the comparison without runs of ours.

The published intervals are the paper's Student-t intervals over 20 runs, quoted as published. Of bimodal accuracies
(a run learns or stays at chance) such an interval can leave the metric's possible range (``0.948 [0.878, 1.018]``);
``pub_beyond_range`` marks those cells and every table prints them with :data:`BEYOND_RANGE_MARK`
(:data:`BEYOND_RANGE_NOTE`): a verdict against such an interval is weaker than it reads.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from connectome_priors.benchmarks._schema import GRAPH_METRICS, NO_MEMORY_ACCURACY, TASKS
from connectome_priors.benchmarks._variants import variant_names

from ._format import BEYOND_RANGE_MARK, BEYOND_RANGE_NOTE, fmt

if TYPE_CHECKING:  # pandas loads on first use
    import pandas as pd

PUBLISHED_ARM = {"free": "none", "nonneg": "nonneg"}  # our sign arm -> the published table's sign_constraint
CATEGORIES = ("inside", "overlap", "outside", "no-memory", "identical-same", "identical-differ", "collapsed-both",
              "diverged", "no-published")
CATEGORY_TEXT = {
    "inside": "inside the published CI",
    "overlap": "outside, CIs overlap",
    "outside": "outside the published CI",
    "no-memory": "both at the no-memory level",
    "identical-same": "published runs identical (no CI); ours the same",
    "identical-differ": "published runs identical (no CI); ours differ",
    "collapsed-both": "both collapsed (ours diverged; published runs identical)",
    "diverged": "all our runs diverged",
    "no-published": "no published value",
}
NOT_RUN = "not-run"
COUNTED = ("inside", "overlap", "outside", "no-memory")  # the four counts the reproduction reports
NO_MEMORY_MARGIN = 0.02  # |mean - no-memory level| below this: at the no-memory level
IDENTICAL_MARGIN = 0.01  # |mean - published value| below this: "the same" as an all-identical published cell
COMPARISON_COLUMNS = ("metric", "task", "variant", "n", "n_ok", "mean", "lo", "hi", "all_equal", "pub_mean",
                      "pub_lo", "pub_hi", "pub_beyond_range", "verdict", "nan_acc")
__all__ = ["BEYOND_RANGE_MARK", "BEYOND_RANGE_NOTE", "CATEGORIES", "CATEGORY_TEXT", "COMPARISON_COLUMNS", "COUNTED",
           "NOT_RUN", "PUBLISHED_ARM", "VERDICT_NOTES", "classify", "compare", "counts", "counts_line",
           "other_count", "verdict_text"]

VERDICT_NOTES = f"""How to read the verdicts:

- *{CATEGORY_TEXT["no-memory"]}*: neither network learned to remember; its training accuracy is the
  share of training trials a no-memory solver gets right, which depends on the drawn labels. The
  paper drew ONE training set per notebook run and shared it across all runs (so its 20 runs sit
  within a few thousandths of that set's value, e.g. 0.511 on Go/NoGo), while we draw one per seed
  (our chance-level runs scatter around 0.625 / 0.5). The test accuracy column shows the same level
  on held-out trials. A gap here is a property of the data draw, not of the model.
- *{CATEGORY_TEXT["overlap"]}*: the published interval is over 20 runs, ours over the seeds run here; with
  bimodal outcomes (a run learns the task or stays at the no-memory level) few seeds give wide
  intervals, and the overlap is the relevant comparison.
"""


def _float(x: Any) -> float:
    return math.nan if x is None else float(x)


def classify(ours: Mapping[str, Any], pub: Mapping[str, Any] | None, *, task: str, metric: str) -> str:
    """The category of our cell against the published one (see the module docstring).

    Args:
        ours: our cell: ``mean, lo, hi, n, n_ok`` (a row of :func:`connectome_priors.stats.summarize_runs`).
        pub: the published cell: ``mean, ci95_lo, ci95_hi`` (NaN bounds: every published run identical), or None.
        task: the task (its no-memory level applies to ``Accuracy``).
        metric: the metric.

    Returns:
        One of :data:`CATEGORIES`.

    Example::

        >>> pub = {"mean": 0.90, "ci95_lo": 0.85, "ci95_hi": 0.95}
        >>> ours = {"mean": 0.70, "lo": 0.50, "hi": 0.90, "n": 5, "n_ok": 5}
        >>> classify(ours, pub, task="Task1", metric="Accuracy"), classify(ours, None, task="Task1", metric="Accuracy")
        ('overlap', 'no-published')
    """
    if pub is None or not math.isfinite(_float(pub.get("mean"))):
        return "no-published"
    mean, lo, hi = _float(ours["mean"]), _float(pub["ci95_lo"]), _float(pub["ci95_hi"])
    if int(ours["n"]) and int(ours["n_ok"]) == 0:
        return "diverged" if math.isfinite(lo) else "collapsed-both"
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return "identical-same" if abs(mean - float(pub["mean"])) < IDENTICAL_MARGIN else "identical-differ"
    if lo <= mean <= hi:
        return "inside"
    level = NO_MEMORY_ACCURACY.get(task) if metric == "Accuracy" else None
    if (level is not None and abs(mean - level) < NO_MEMORY_MARGIN
            and abs(float(pub["mean"]) - level) < NO_MEMORY_MARGIN):
        return "no-memory"
    our_lo, our_hi = _float(ours.get("lo")), _float(ours.get("hi"))
    if math.isfinite(our_lo) and math.isfinite(our_hi) and our_lo <= hi and lo <= our_hi:
        return "overlap"
    return "outside"


def verdict_text(category: str, nan_accuracy: float | None = None, pub_beyond_range: bool = False) -> str:
    """A category in words, with the accuracy Keras reports for a NaN network when given.

    Args:
        category: one of :data:`CATEGORIES` or ``"not-run"``.
        nan_accuracy: mean share of class-0 labels of our runs that went NaN (None/NaN: not shown).
        pub_beyond_range: the published interval leaves the metric's range (the verdict gets the mark).

    Returns:
        The text of a report's verdict column.

    Example::

        >>> verdict_text("collapsed-both", 0.24)
        'both collapsed (ours diverged; published runs identical); NaN-network accuracy 0.240'
    """
    text = CATEGORY_TEXT.get(category, "not run yet")
    if nan_accuracy is not None and math.isfinite(nan_accuracy):
        text += f"; NaN-network accuracy {fmt(nan_accuracy)}"
    if pub_beyond_range:
        text += f" {BEYOND_RANGE_MARK}"
    return text


def compare(summary: pd.DataFrame, published: pd.DataFrame | None, sign: str | None = None, *,
            metrics: Sequence[str] = ("Accuracy",) + GRAPH_METRICS, tasks: Sequence[str] = TASKS,
            variants: Sequence[str] | None = None,
            nan_accuracy: Mapping[tuple[str, str], float] | None = None) -> pd.DataFrame:
    """Our cells beside the published ones with the verdict, one row per (metric, task, variant).

    Args:
        summary: our cells (:func:`connectome_priors.benchmarks.report._data.summarize`).
        published: rows of the paper's ``reported_results.csv`` (``sign_constraint, metric, task, variant, mean,
            ci95_lo, ci95_hi``), or None (every verdict ``no-published``).
        sign: our sign arm; its published rows are used (None: ``published`` holds one arm's rows already).
        metrics: the metrics, in this order.
        tasks: the tasks, in this order.
        variants: the variants, in this order (default the paper's eleven).
        nan_accuracy: per (task, variant), the accuracy Keras reports for our NaN networks (column ``nan_acc`` of
            the accuracy rows).

    Returns:
        Columns :data:`COMPARISON_COLUMNS`; a cell without runs of ours has the verdict ``not-run``.

    Example::

        >>> import pandas as pd
        >>> ours = pd.DataFrame([dict(task="Task1", metric="Accuracy", variant="W", n=5, n_ok=5, mean=0.92,
        ...                           lo=0.9, hi=0.94, all_equal=False)])
        >>> pub = pd.DataFrame([dict(sign_constraint="none", metric="Accuracy", task="Task1", variant="W",
        ...                          mean=0.9, ci95_lo=0.85, ci95_hi=0.95)])
        >>> compare(ours, pub, "free", metrics=["Accuracy"], tasks=["Task1"], variants=["W", "WD"]).verdict.tolist()
        ['inside', 'not-run']
    """
    import pandas as pd

    pub = published
    if pub is not None and sign is not None:
        pub = pub[pub["sign_constraint"] == PUBLISHED_ARM[sign]]
    rows = []
    for metric in metrics:
        for task in tasks:
            for variant in variant_names() if variants is None else variants:
                s = summary[(summary["metric"] == metric) & (summary["task"] == task) & (summary["variant"] == variant)]
                p = None if pub is None else pub[(pub["metric"] == metric) & (pub["task"] == task)
                                                 & (pub["variant"] == variant)]
                pub_cell = None if p is None or p.empty else {k: float(p.iloc[0][k]) for k in
                                                              ("mean", "ci95_lo", "ci95_hi")}
                if s.empty:
                    ours = dict(n=0, n_ok=0, mean=math.nan, lo=math.nan, hi=math.nan, all_equal=False)
                    category = NOT_RUN
                else:
                    ours = s.iloc[0].to_dict()
                    category = classify(ours, pub_cell, task=task, metric=metric)
                rows.append(dict(metric=metric, task=task, variant=variant, n=int(ours["n"]), n_ok=int(ours["n_ok"]),
                                 mean=ours["mean"], lo=ours["lo"], hi=ours["hi"], all_equal=bool(ours["all_equal"]),
                                 pub_mean=math.nan if pub_cell is None else pub_cell["mean"],
                                 pub_lo=math.nan if pub_cell is None else pub_cell["ci95_lo"],
                                 pub_hi=math.nan if pub_cell is None else pub_cell["ci95_hi"],
                                 pub_beyond_range=beyond_range(pub_cell, metric), verdict=category,
                                 nan_acc=(nan_accuracy or {}).get((task, variant), math.nan)
                                 if metric == "Accuracy" else math.nan))
    return pd.DataFrame(rows, columns=list(COMPARISON_COLUMNS))


def beyond_range(pub: Mapping[str, Any] | None, metric: str) -> bool:
    """Whether a published interval leaves the metric's possible range (see the module docstring).

    Args:
        pub: the published cell (``ci95_lo``, ``ci95_hi``), or None.
        metric: the metric.

    Returns:
        True when a finite bound lies outside :func:`connectome_priors.stats.metric_range`.

    Example::

        >>> beyond_range({"ci95_lo": 0.878, "ci95_hi": 1.018}, "Accuracy"), beyond_range(None, "Accuracy")
        (True, False)
    """
    from connectome_priors.stats._intervals import metric_range

    if pub is None:
        return False
    low, high = metric_range(metric)
    bounds = [_float(pub.get("ci95_lo")), _float(pub.get("ci95_hi"))]
    return any(math.isfinite(b) and not low <= b <= high for b in bounds)


def counts(comparison: pd.DataFrame) -> dict[str, int]:
    """How many cells fall in each category (every category listed, 0 if none; ``not-run`` last).

    Args:
        comparison: a frame with a ``verdict`` column (:func:`compare`).

    Returns:
        Category -> number of cells.

    Example::

        >>> import pandas as pd
        >>> c = counts(pd.DataFrame({"verdict": ["inside", "inside", "not-run"]}))
        >>> c["inside"], c["outside"], c["not-run"]
        (2, 0, 1)
    """
    c = comparison["verdict"].value_counts().to_dict() if len(comparison) else {}
    out = {k: int(c.get(k, 0)) for k in CATEGORIES}
    out[NOT_RUN] = int(c.get(NOT_RUN, 0))
    return out


def counts_line(c: Mapping[str, int]) -> str:
    """The counts in words, the four counted categories first (bold), then the others present.

    Args:
        c: :func:`counts`' result.

    Returns:
        One line of text.

    Example::

        >>> counts_line({"inside": 5, "overlap": 2, "diverged": 1, "not-run": 3})
        'inside the published CI: **5**; outside, CIs overlap: **2**; outside the published CI: **0**; \
both at the no-memory level: **0**; all our runs diverged: 1; not run yet: 3'
    """
    parts = [f"{CATEGORY_TEXT[k]}: **{c.get(k, 0)}**" for k in COUNTED]
    parts += [f"{CATEGORY_TEXT[k]}: {c[k]}" for k in CATEGORIES if k not in COUNTED and c.get(k)]
    if c.get(NOT_RUN):
        parts.append(f"not run yet: {c[NOT_RUN]}")
    return "; ".join(parts)


def other_count(c: Mapping[str, int]) -> int:
    """Cells in the categories that are neither counted apart (:data:`COUNTED`) nor ``not-run``.

    Args:
        c: :func:`counts`' result.

    Returns:
        Their number.

    Example::

        >>> other_count({"inside": 5, "diverged": 1, "no-published": 2, "not-run": 3})
        3
    """
    return sum(v for k, v in c.items() if k not in COUNTED and k != NOT_RUN)
