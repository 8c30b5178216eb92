"""The report's figures: accuracy per variant and task beside the published, and the graph-metric panels.

``draw_*`` build a figure (shared with the committed evidence, ``connectome_priors.benchmarks.evidence._figures``,
which saves it reproducibly); ``plot_*`` draw and save the ablation report's copies.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from connectome_priors._atomic import atomic_path
from connectome_priors.benchmarks._schema import GRAPH_METRICS, NO_MEMORY_ACCURACY, TASK_NAMES

if TYPE_CHECKING:  # pandas loads on first use
    import pandas as pd


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def draw_accuracy(summary: pd.DataFrame, published: pd.DataFrame | None, tasks: Sequence[str],
                  variants: Sequence[str], *, ci: tuple[str, str] = ("lo", "hi"),
                  titles: Mapping[str, str] = TASK_NAMES):
    """Figure: mean final-epoch training accuracy per variant and task with its 95% bootstrap interval, the published
    mean and t-interval (as published) beside it when ``published`` is given.

    Args:
        summary: our cells (:func:`._data.summarize`).
        published: the published rows of this sign arm (``metric, task, variant, mean, ci95_lo, ci95_hi``), or None.
        tasks: one panel per task, in this order.
        variants: the variants on the x axis, in this order.
        ci: the summary's columns of the interval's bounds.
        titles: task -> panel title.

    Returns:
        The matplotlib figure (not saved).
    """
    plt = _plt()
    fig, axes = plt.subplots(1, len(tasks), figsize=(4.2 * len(tasks), 4.2), sharey=True, squeeze=False)
    x = np.arange(len(variants))
    for ax, task in zip(axes[0], tasks):
        s = summary[(summary["metric"] == "Accuracy") & (summary["task"] == task)].set_index("variant")
        s = s.reindex(variants)
        mean = s["mean"].to_numpy(float)
        err = np.abs(np.vstack([mean - s[ci[0]].to_numpy(float), s[ci[1]].to_numpy(float) - mean]))
        ax.errorbar(x - 0.15, mean, yerr=np.nan_to_num(err), fmt="o", color="C0", capsize=3, label="ours")
        if published is not None:
            p = published[(published["metric"] == "Accuracy") & (published["task"] == task)]
            p = p.set_index("variant").reindex(variants)
            pm = p["mean"].to_numpy(float)
            perr = np.abs(np.vstack([pm - p["ci95_lo"].to_numpy(float), p["ci95_hi"].to_numpy(float) - pm]))
            ax.errorbar(x + 0.15, pm, yerr=np.nan_to_num(perr), fmt="s", color="C3", capsize=3,
                        label="published", alpha=0.8)
        ax.axhline(NO_MEMORY_ACCURACY[task], color="0.5", ls="--", lw=1, label="no-memory solver")
        ax.set_xticks(x, variants, rotation=60, ha="right", fontsize=8)
        ax.set_title(f"{task}: {titles[task]}", fontsize=10)
        ax.set_ylim(0, 1.05)
        ax.grid(axis="y", alpha=0.3)
    axes[0][0].set_ylabel("final-epoch training accuracy")
    axes[0][0].legend(fontsize=8, loc="lower left")
    return fig


def draw_metrics(df: pd.DataFrame, tasks: Sequence[str], variants: Sequence[str],
                 metrics: Sequence[str] = ("Test_Accuracy",) + GRAPH_METRICS, *,
                 titles: Mapping[str, str] = TASK_NAMES):
    """Figure: one panel per (metric, task) of a tidy frame; every seed as a dot, the mean as a bar.

    Args:
        df: tidy runs (``variant, task, metric, value``).
        tasks: one column of panels per task.
        variants: the variants on the x axis, in this order.
        metrics: one row of panels per metric.
        titles: task -> panel title.

    Returns:
        The matplotlib figure (not saved).
    """
    plt = _plt()
    fig, axes = plt.subplots(len(metrics), len(tasks), figsize=(4.2 * len(tasks), 2.6 * len(metrics)),
                             squeeze=False, sharex=True)
    x = np.arange(len(variants))
    for r, metric in enumerate(metrics):
        for c, task in enumerate(tasks):
            ax = axes[r][c]
            sub = df[(df["metric"] == metric) & (df["task"] == task)]
            means = []
            for i, v in enumerate(variants):
                vals = sub.loc[sub["variant"] == v, "value"].to_numpy(float)
                vals = vals[np.isfinite(vals)]
                means.append(vals.mean() if len(vals) else np.nan)
                if len(vals):
                    jitter = (np.arange(len(vals)) - (len(vals) - 1) / 2) * min(0.05, 0.6 / len(vals))
                    ax.plot(i + jitter, vals, ".", color="C0", alpha=0.6, ms=4)
            ax.bar(x, np.nan_to_num(means), color="C0", alpha=0.25)
            if r == 0:
                ax.set_title(f"{task}: {titles[task]}", fontsize=10)
            if c == 0:
                ax.set_ylabel(metric, fontsize=9)
            ax.grid(axis="y", alpha=0.3)
    for ax in axes[-1]:
        ax.set_xticks(x, variants, rotation=60, ha="right", fontsize=8)
    return fig


def _save(fig, path: Path, dpi: int) -> Path:
    plt = _plt()
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi)
    plt.close(fig)
    return path


def plot_accuracy(summary: pd.DataFrame, published: pd.DataFrame | None, tasks: Sequence[str],
                  variants: Sequence[str], path: Path) -> Path:
    """Save :func:`draw_accuracy` at ``path`` (PNG, 120 dpi).

    Args:
        summary: our cells.
        published: the published rows of this sign arm, or None.
        tasks: one panel per task.
        variants: the x axis.
        path: the PNG.

    Returns:
        ``path``.
    """
    return _save(draw_accuracy(summary, published, tasks, variants), path, dpi=120)


def plot_metrics(df: pd.DataFrame, tasks: Sequence[str], variants: Sequence[str], path: Path,
                 metrics: Sequence[str] = ("Test_Accuracy",) + GRAPH_METRICS) -> Path:
    """Save :func:`draw_metrics` at ``path`` (PNG, 110 dpi).

    Args:
        df: tidy runs.
        tasks: one column of panels per task.
        variants: the x axis.
        path: the PNG.
        metrics: one row of panels per metric.

    Returns:
        ``path``.
    """
    return _save(draw_metrics(df, tasks, variants, metrics), path, dpi=110)
