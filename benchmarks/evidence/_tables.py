"""Tables of the evidence, computed from records only: tidy runs, per-cell summaries, verdicts and their counts.

Every table is a deterministic function of the records (and of the committed copy of the published numbers):
row order is fixed (task, metric, canonical variant order), the bootstrap draws from a fixed seed, and the CSVs
are written with a fixed float format and ``\\n`` line ends.

Verdicts (:func:`classify`) follow the ablation report's rules (``benchmarks`` report, "How to read the verdicts"),
as categories that can be counted:

* ``inside``: our mean lies inside the published 95 % CI;
* ``no-memory``: outside, but accuracy of both within 0.02 of the no-memory level of the task (neither network
  learned to remember; the level depends on the drawn labels);
* ``overlap``: outside, but our 95 % t-CI and the published CI overlap;
* ``outside``: outside, and the CIs do not overlap;
* ``identical-same`` / ``identical-differ``: the published runs were all identical (no CI, a collapsed variant)
  and our mean is / is not within 0.01 of that value;
* ``collapsed-both``: every run of ours stopped on non-finite values and the published runs were all identical
  (the published collapse, reproduced; the accuracy Keras reports for a NaN network is shown beside it);
* ``diverged``: every run of ours stopped on non-finite values (no metric), the published cell did not collapse;
* ``no-published``: nothing published for the cell.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from connectome_priors._atomic import atomic_path
from connectome_priors.benchmarks._schema import GRAPH_METRICS, NO_MEMORY_ACCURACY, RUN_METRICS, TASKS
from connectome_priors.benchmarks._variants import variant_names

PUBLISHED_ARM = {"free": "none", "nonneg": "nonneg"}
CATEGORIES = ("inside", "overlap", "outside", "no-memory", "identical-same", "identical-differ", "collapsed-both",
              "diverged",
              "no-published")
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
TASK_LABELS = {"Task1": "One-Choice Inference", "Task2": "Perceptual Decision-Making", "Task3": "Go/NoGo"}
COUNTED = ("inside", "overlap", "outside", "no-memory")  # the four counts the issue asks for
BOOTSTRAP_SEED = 0
BOOTSTRAP_RESAMPLES = 10_000
SUMMARY_COLUMNS = ["task", "metric", "variant", "n", "n_ok", "mean", "sd", "t_lo", "t_hi", "boot_lo", "boot_hi",
                   "note"]


def _value(x: Any) -> float:
    return math.nan if x is None else float(x)


def tidy(records: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per (run, metric): ``variant, task, seed, metric, value, status`` (NaN for a missing value)."""
    rows = [dict(variant=r["variant"], task=r["task"], seed=int(r["seed"]), metric=m,
                 value=_value(r["metrics"].get(m)), status=str(r["status"]))
            for r in records for m in RUN_METRICS]
    frame = pd.DataFrame(rows, columns=["variant", "task", "seed", "metric", "value", "status"])
    return frame.astype({"seed": np.int64, "value": np.float64})


def _order(frame: pd.DataFrame) -> pd.DataFrame:
    order = {v: i for i, v in enumerate(variant_names(controls=True))}
    metric_order = {m: i for i, m in enumerate(RUN_METRICS)}
    key = pd.DataFrame({"t": frame["task"].map(lambda t: TASKS.index(t) if t in TASKS else len(TASKS)),
                        "m": frame["metric"].map(lambda m: metric_order.get(m, len(metric_order))),
                        "v": frame["variant"].map(lambda v: order.get(v, len(order)))})
    idx = key.sort_values(["t", "m", "v"], kind="stable").index
    return frame.loc[idx].reset_index(drop=True)


def summary(df: pd.DataFrame) -> pd.DataFrame:
    """Per (task, metric, variant): runs ``n``, finite values ``n_ok``, and over those the mean, sd, 95 % t-CI
    (``t_lo``/``t_hi``) and percentile bootstrap CI (10,000 resamples, seed 0;
    :func:`connectome_priors.stats.summarize`).
    """
    from connectome_priors.stats import summarize

    if df.empty:
        return pd.DataFrame(columns=SUMMARY_COLUMNS)
    keys = ["task", "metric", "variant"]
    counts = (df.groupby(keys, sort=False)["value"]
              .agg(n="size", n_ok=lambda v: int(np.isfinite(v).sum())).reset_index())
    finite = df[np.isfinite(df["value"])]
    if finite.empty:
        out = counts.assign(**{c: math.nan for c in ("mean", "sd", "t_lo", "t_hi", "boot_lo", "boot_hi")}, note="")
    else:
        cells = summarize(finite[["variant", "task", "seed", "metric", "value"]], n_resamples=BOOTSTRAP_RESAMPLES,
                          seed=BOOTSTRAP_SEED).drop(columns="n")
        out = counts.merge(cells, on=keys, how="left")
        out["note"] = out["note"].fillna("no finite value")
    return _order(out[SUMMARY_COLUMNS])


def runs_table(records: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Per-run final metrics: ``task, variant, seed, status`` + every metric (+ ``nan_network_accuracy``)."""
    rows = []
    for r in records:
        row = dict(task=r["task"], variant=r["variant"], seed=int(r["seed"]), status=str(r["status"]))
        row.update({m: _value(r["metrics"].get(m)) for m in RUN_METRICS})
        row["nan_network_accuracy"] = _value(r.get("nan_network_accuracy"))
        rows.append(row)
    return pd.DataFrame(rows, columns=["task", "variant", "seed", "status", *RUN_METRICS, "nan_network_accuracy"])


def write_csv(frame: pd.DataFrame, path: Path, float_format: str = "%.6f") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False, float_format=float_format, lineterminator="\n")
    return path


# ------------------------------------------------------------------------------------------ verdicts


def classify(ours: Mapping[str, float], pub: Mapping[str, float] | None, *, task: str, metric: str) -> str:
    """Category of our cell against the published one (see the module docstring).

    ``ours``: ``mean, t_lo, t_hi, n, n_ok``; ``pub``: ``mean, ci95_lo, ci95_hi`` or None.
    """
    if pub is None or not np.isfinite(pub.get("mean", math.nan)):
        return "no-published"
    mean, lo, hi = float(ours["mean"]), float(pub["ci95_lo"]), float(pub["ci95_hi"])
    if int(ours["n"]) and int(ours["n_ok"]) == 0:
        return "diverged" if np.isfinite(lo) else "collapsed-both"
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return "identical-same" if abs(mean - float(pub["mean"])) < 0.01 else "identical-differ"
    if lo <= mean <= hi:
        return "inside"
    level = NO_MEMORY_ACCURACY.get(task) if metric == "Accuracy" else None
    if level is not None and abs(mean - level) < 0.02 and abs(float(pub["mean"]) - level) < 0.02:
        return "no-memory"
    our_lo, our_hi = float(ours.get("t_lo", math.nan)), float(ours.get("t_hi", math.nan))
    if np.isfinite(our_lo) and np.isfinite(our_hi) and our_lo <= hi and lo <= our_hi:
        return "overlap"
    return "outside"


def load_published(folder: Path) -> pd.DataFrame | None:
    """The committed copy of the paper's ``reported_results.csv`` (None if not committed)."""
    path = Path(folder) / "reported_results.csv"
    return pd.read_csv(path) if path.is_file() else None


def nan_network_accuracy(records: Sequence[Mapping[str, Any]]) -> dict[tuple[str, str], float]:
    """Per (task, variant): mean accuracy Keras would report for the runs that went NaN (share of class-0 labels)."""
    values: dict[tuple[str, str], list[float]] = {}
    for r in records:
        if r.get("nan_network_accuracy") is not None:
            values.setdefault((r["task"], r["variant"]), []).append(float(r["nan_network_accuracy"]))
    return {k: float(np.mean(v)) for k, v in sorted(values.items())}


def compare(summ: pd.DataFrame, published: pd.DataFrame | None, sign: str,
            metrics: Sequence[str] = ("Accuracy",) + GRAPH_METRICS,
            nan_accuracy: Mapping[tuple[str, str], float] | None = None) -> pd.DataFrame:
    """Our cells beside the published ones, one row per (metric, task, variant) of the published table.

    ``nan_accuracy`` (:func:`nan_network_accuracy`) fills the column ``nan_acc`` of the accuracy rows.
    """
    rows = []
    pub = None if published is None else published[published["sign_constraint"] == PUBLISHED_ARM[sign]]
    for metric in metrics:
        for task in TASKS:
            for variant in variant_names():
                s = summ[(summ["metric"] == metric) & (summ["task"] == task) & (summ["variant"] == variant)]
                p = None if pub is None else pub[(pub["metric"] == metric) & (pub["task"] == task)
                                                 & (pub["variant"] == variant)]
                pd_row = None if p is None or p.empty else {k: float(p.iloc[0][k]) for k in
                                                            ("mean", "ci95_lo", "ci95_hi")}
                if s.empty:
                    ours = dict(n=0, n_ok=0, mean=math.nan, t_lo=math.nan, t_hi=math.nan, boot_lo=math.nan,
                                boot_hi=math.nan)
                    category = "not-run"
                else:
                    ours = s.iloc[0].to_dict()
                    category = classify(ours, pd_row, task=task, metric=metric)
                rows.append(dict(metric=metric, task=task, variant=variant, n=int(ours["n"]), n_ok=int(ours["n_ok"]),
                                 mean=ours["mean"], t_lo=ours["t_lo"], t_hi=ours["t_hi"], boot_lo=ours["boot_lo"],
                                 boot_hi=ours["boot_hi"],
                                 pub_mean=math.nan if pd_row is None else pd_row["mean"],
                                 pub_lo=math.nan if pd_row is None else pd_row["ci95_lo"],
                                 pub_hi=math.nan if pd_row is None else pd_row["ci95_hi"], verdict=category,
                                 nan_acc=(nan_accuracy or {}).get((task, variant), math.nan)
                                 if metric == "Accuracy" else math.nan))
    return pd.DataFrame(rows)


def counts(comparison: pd.DataFrame) -> dict[str, int]:
    """How many cells fall in each verdict category (every category listed, 0 if none; ``not-run`` last)."""
    c = comparison["verdict"].value_counts().to_dict() if len(comparison) else {}
    out = {k: int(c.get(k, 0)) for k in CATEGORIES}
    out["not-run"] = int(c.get("not-run", 0))
    return out


# ------------------------------------------------------------------------------------------ formatting


def fmt(x: float, digits: int = 3) -> str:
    return "–" if x is None or not np.isfinite(x) else f"{x:.{digits}f}"


def fmt_ci(mean: float, lo: float, hi: float, digits: int = 3) -> str:
    if not np.isfinite(mean):
        return "–"
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return fmt(mean, digits)
    return f"{fmt(mean, digits)} [{fmt(lo, digits)}, {fmt(hi, digits)}]"


def fmt_p(p: float) -> str:
    if p is None or not np.isfinite(p):
        return "–"
    return f"{p:.3g}" if p >= 1e-3 else f"{p:.2e}"


def counts_line(c: Mapping[str, int]) -> str:
    """``inside the published CI 5, outside, CIs overlap 2, ...`` (the four counted categories first)."""
    parts = [f"{CATEGORY_TEXT[k]}: **{c.get(k, 0)}**" for k in COUNTED]
    parts += [f"{CATEGORY_TEXT[k]}: {c[k]}" for k in CATEGORIES if k not in COUNTED and c.get(k)]
    if c.get("not-run"):
        parts.append(f"not run yet: {c['not-run']}")
    return "; ".join(parts)


def markdown(frame: pd.DataFrame, columns: Mapping[str, Any]) -> list[str]:
    """A markdown table: ``columns`` maps a header to a column name or a function of the row."""
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for _, row in frame.iterrows():
        cells = []
        for spec in columns.values():
            v = spec(row) if callable(spec) else row[spec]
            cells.append(fmt(v, 4) if isinstance(v, (float, np.floating)) else str(v))
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def comparison_markdown(comp: pd.DataFrame) -> list[str]:
    """Per task, our cell beside the published one, with the verdict."""
    lines = []
    for task in TASKS:
        rows = comp[comp["task"] == task]
        if rows.empty:
            continue
        lines.append(f"\n**{task}** ({TASK_LABELS[task]})\n")
        lines += markdown(rows, {
            "variant": "variant",
            "ours: mean [95% t-CI]": lambda r: fmt_ci(r["mean"], r["t_lo"], r["t_hi"]),
            "bootstrap 95% CI": lambda r: ("–" if not np.isfinite(r["boot_lo"])
                                           else f"[{fmt(r['boot_lo'])}, {fmt(r['boot_hi'])}]"),
            "runs ok/n": lambda r: f"{r['n_ok']}/{r['n']}",
            "published: mean [95% CI]": lambda r: fmt_ci(r["pub_mean"], r["pub_lo"], r["pub_hi"]),
            "verdict": lambda r: CATEGORY_TEXT.get(r["verdict"], "not run yet") + (
                f"; NaN-network accuracy {fmt(r['nan_acc'])}" if np.isfinite(r.get("nan_acc", math.nan)) else ""),
        })
    return lines
