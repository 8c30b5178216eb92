"""The report's markdown: our numbers beside the published ones with a verdict, run status and statistics.

The statistics are :mod:`connectome_priors.stats`: per-factor Kruskal-Wallis + Mann-Whitney U/Holm, seed-paired
comparisons of the variants that differ in one factor (exact sign-flip test/Holm, mean paired difference with a
range-preserving bootstrap interval, a verdict), and the
rank ANOVA with its estimability; full tables in ``csv/stats_*.csv``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from connectome_priors._atomic import atomic_path
from connectome_priors.benchmarks._schema import GRAPH_METRICS, TASK_NAMES

from ._format import BEYOND_RANGE_NOTE, fmt, fmt_learned, fmt_mean, fmt_published, markdown_table, table_head, table_row
from ._verdict import NOT_RUN, compare, verdict_text

if TYPE_CHECKING:  # pandas and xarray load on first use
    import pandas as pd
    import xarray as xr

MAX_ROWS = 200  # rows of a statistics table shown in report.md (all of them in csv/)


def comparison_table(summary: pd.DataFrame, published: pd.DataFrame | None, metric: str, tasks: Sequence[str],
                     variants: Sequence[str]) -> list[str]:
    """Per task, our cells of ``metric`` beside the published ones with the verdict (:func:`._verdict.compare`).

    Args:
        summary: our cells (:func:`._data.summarize`).
        published: the published rows of this sign arm, or None (no published and verdict columns).
        metric: the metric shown.
        tasks: the tasks, in this order.
        variants: the variants, in this order; a variant without runs is left out.

    Returns:
        Markdown lines; for ``Accuracy`` with the held-out test accuracy beside.
    """
    comp = compare(summary, published, metrics=(metric,), tasks=tasks, variants=variants)
    test = summary[summary["metric"] == "Test_Accuracy"]
    lines = []
    for task in tasks:
        rows = comp[(comp["task"] == task) & (comp["verdict"] != NOT_RUN)]
        lines.append(f"\n#### {task} ({TASK_NAMES[task]})\n")
        columns: dict[str, Any] = {
            "variant": "variant",
            "ours: mean [95% bootstrap CI]": lambda r: fmt_mean(r["mean"], r["lo"], r["hi"], r["all_equal"], r["n_ok"]),
            "runs ok/n": lambda r: f"{int(r['n_ok'])}/{int(r['n'])}",
        }
        if published is not None:
            columns["published: mean [95% t-CI, as published]"] = lambda r: fmt_published(
                r["pub_mean"], r["pub_lo"], r["pub_hi"], r["pub_beyond_range"])
            columns["verdict"] = lambda r: verdict_text(r["verdict"], pub_beyond_range=r["pub_beyond_range"])
        if metric == "Accuracy":
            t = test[test["task"] == task].set_index("variant")
            columns["test accuracy (ours)"] = lambda r, t=t: (
                fmt_mean(*(t.loc[r["variant"], k] for k in ("mean", "lo", "hi", "all_equal", "n_ok")))
                if r["variant"] in t.index else "–")
            columns["learned (test ≥ threshold): k/n [Wilson]"] = lambda r, t=t: (
                fmt_learned(*(t.loc[r["variant"], k] for k in ("learned", "n", "learn_lo", "learn_hi")))
                if r["variant"] in t.index else "–")
        lines += markdown_table(rows, columns)
    if published is not None and comp["pub_beyond_range"].any():
        lines.append(f"\n{BEYOND_RANGE_NOTE}")
    return lines


def statistics_section(df: pd.DataFrame, out_dir: Path, reference_compat: bool) -> list[str]:
    """Per-factor Kruskal–Wallis + Mann–Whitney U/Holm, seed-paired comparisons and the rank-ANOVA
    (``connectome_priors.stats``).

    The full tables (every metric) go to ``csv/stats_*.csv``; the report shows Accuracy. A test that fails is
    reported in the text, and the rest of the section is still written.

    Args:
        df: tidy runs (:func:`._data.tidy`).
        out_dir: the ablation folder (tables go to its ``csv/``).
        reference_compat: run the rank ANOVA as the paper did.

    Returns:
        Markdown lines.
    """
    from connectome_priors import stats as stats_mod

    lines = ["\n## Statistics\n"]
    metrics = ("Accuracy", "Test_Accuracy") + GRAPH_METRICS
    data = df[np.isfinite(df["value"]) & df["metric"].isin(metrics)][["variant", "task", "seed", "metric", "value"]]
    csv_dir = out_dir / "csv"
    lines.append("Computed on the finite values of the published variants (controls excluded); all metrics "
                 "in `csv/stats_*.csv`, Accuracy shown here.")
    try:
        eff = stats_mod.simple_effects(data)
        for name, frame in eff.items():
            with atomic_path(csv_dir / f"stats_simple_effects_{name}.csv") as tmp:
                frame.to_csv(tmp, index=False)
        for name, title in (("kruskal", "Kruskal–Wallis per factor, other factors fixed"),
                            ("mannwhitney", "Mann–Whitney U pairs, Holm-corrected per (task, metric, factor)")):
            frame = eff.get(name)
            if frame is not None:
                lines.append(f"\n### {title} (Accuracy)\n")
                lines += markdown_table(frame[frame["metric"] == "Accuracy"], max_rows=MAX_ROWS)
    except Exception as exc:  # noqa: BLE001 - report the failure, keep the rest of the report
        lines.append(f"\n_simple effects not computed: {type(exc).__name__}: {exc}_")
    try:  # the variants of one seed share its data: compare them within seeds
        paired = stats_mod.paired_comparisons(data, stats_mod.one_factor_pairs(data["variant"]))
        with atomic_path(csv_dir / "stats_paired.csv") as tmp:
            paired.to_csv(tmp, index=False)
        lines.append("\n### Seed-paired comparisons of variants differing in one factor (Accuracy)\n")
        lines.append("Per seed the difference a - b; exact sign-flip test, Holm-corrected per (task, metric); "
                     "mean paired difference with its 95% bootstrap interval (inside the range the differences "
                     "can take); min_p_holm the smallest Holm p these seeds could give.\n")
        lines += markdown_table(paired[paired["metric"] == "Accuracy"].drop(columns="metric"), max_rows=MAX_ROWS)
    except Exception as exc:  # noqa: BLE001
        lines.append(f"\n_paired comparisons not computed: {type(exc).__name__}: {exc}_")
    try:
        anova = stats_mod.rank_anova(data, reference_compat=reference_compat)
        with atomic_path(csv_dir / "stats_rank_anova.csv") as tmp:
            anova.table.to_csv(tmp, index=False)
        lines.append("\n### Rank-based factorial ANOVA, Type II (Accuracy)\n")
        table = anova.table[anova.table["metric"] == "Accuracy"] if "metric" in anova.table else anova.table
        lines += markdown_table(table, max_rows=MAX_ROWS)
        lines.append("\n" + str(anova.statement))
    except Exception as exc:  # noqa: BLE001
        lines.append(f"\n_rank-ANOVA not computed: {type(exc).__name__}: {exc}_")
    return lines


def status_section(ds: xr.Dataset) -> list[str]:
    """How many runs are ok, stopped or not run yet, and the stopped ones per (task, variant).

    Args:
        ds: the ablation's dataset (:func:`._data.runs_to_dataset`).

    Returns:
        Markdown lines.
    """
    st = ds["status"].to_series()
    bad = st[(st != "ok") & (st != "missing")]
    missing = int((st == "missing").sum())
    lines = ["\n## Run status\n", f"{int((st == 'ok').sum())} runs ok, {len(bad)} stopped on a non-finite "
             f"loss or weights, {missing} not run yet."]
    if len(bad):
        lines.append("\nA stopped run keeps no accuracy (NaN). The published pipeline kept training a NaN network, "
                     "whose Keras accuracy is the share of class-0 labels (argmax of NaN is 0): that value is "
                     "listed for comparison with the published collapsed variants.\n")
        lines += table_head(["task", "variant", "stopped runs", "NaN-network accuracy", "first reason"])
        nan_acc = ds["nan_network_accuracy"].to_series()
        for (task, variant), g in bad.reset_index().groupby(["task", "variant"], sort=False):
            acc = nan_acc.loc[variant, task].mean()
            lines.append(table_row([task, variant, len(g), fmt(acc), g["status"].iloc[0]]))
    return lines
