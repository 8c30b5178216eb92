"""Figures of the evidence, reproducible byte for byte with the same matplotlib.

PNGs are written by the Agg backend with matplotlib's default style (``rcdefaults``, bundled DejaVu fonts) and no
``Software`` text chunk; instead a ``matplotlib`` text chunk names the version that drew the figure, so a check
can tell "different pixels" from "different matplotlib" (:func:`png_matplotlib_version`).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from connectome_priors._atomic import atomic_path
from connectome_priors.benchmarks._outcomes import has_curve
from connectome_priors.benchmarks._schema import GRAPH_METRICS, TASKS
from connectome_priors.benchmarks.report._figures import draw_accuracy, draw_metrics
from connectome_priors.benchmarks.report._format import TASK_SHORT_LABELS


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return matplotlib, plt


def _save(fig, path: Path) -> Path:
    matplotlib, plt = _plt()
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=90, metadata={"Software": None, "matplotlib": matplotlib.__version__})
    plt.close(fig)
    return path


def plot_accuracy(summ: pd.DataFrame, published: pd.DataFrame | None, variants: Sequence[str], path: Path,
                  title: str) -> Path:
    """Mean final-epoch training accuracy per variant and task with 95 % bootstrap CIs; published beside (if any).

    Args:
        summ: the arm's summary.
        published: the published rows of the arm's sign, or None.
        variants: the x axis.
        path: the PNG.
        title: the figure's title.

    Returns:
        ``path``.
    """
    matplotlib, plt = _plt()
    with matplotlib.rc_context(matplotlib.rcParamsDefault):
        fig = draw_accuracy(summ, published, TASKS, variants, titles=TASK_SHORT_LABELS)
        fig.suptitle(title, fontsize=10)
        fig.tight_layout()
        return _save(fig, path)


def plot_metrics(df: pd.DataFrame, variants: Sequence[str], path: Path, title: str,
                 metrics: Sequence[str] = ("Test_Accuracy",) + GRAPH_METRICS) -> Path:
    """One panel per (metric, task): every seed as a dot, the mean as a bar.

    Args:
        df: the arm's tidy runs.
        variants: the x axis.
        path: the PNG.
        title: the figure's title.
        metrics: one row of panels per metric.

    Returns:
        ``path``.
    """
    matplotlib, plt = _plt()
    with matplotlib.rc_context(matplotlib.rcParamsDefault):
        fig = draw_metrics(df, TASKS, variants, metrics, titles=TASK_SHORT_LABELS)
        fig.suptitle(title, fontsize=10)
        fig.tight_layout()
        return _save(fig, path)


def plot_curves(records: Sequence[Mapping[str, Any]], variants: Sequence[str], path: Path, title: str) -> Path:
    """One panel per task: each variant's mean training-accuracy curve over its runs that recorded one.

    Runs stop with the epoch budget, so every run of an arm has the same curve steps; a run whose curve has other
    steps (another budget) is left out rather than interpolated.

    Args:
        records: the arm's committed runs (their ``curve``).
        variants: the legend order.
        path: the PNG.
        title: the figure's title.

    Returns:
        ``path``.
    """
    from connectome_priors.stats import LEARN_THRESHOLDS

    matplotlib, plt = _plt()
    with matplotlib.rc_context(matplotlib.rcParamsDefault):
        fig, axes = plt.subplots(1, len(TASKS), figsize=(4.0 * len(TASKS), 3.6), sharey=True, squeeze=False)
        colors = plt.get_cmap("tab20")
        for ax, task in zip(axes[0], TASKS):
            for i, v in enumerate(variants):
                curves = [r["curve"] for r in records if r["task"] == task and r["variant"] == v and has_curve(r)]
                if not curves:
                    continue
                steps = curves[0]["step"]
                acc = np.array([[np.nan if a is None else a for a in c["train_acc"]] for c in curves
                                if c["step"] == steps], float)
                ax.plot(steps, np.nanmean(acc, axis=0), color=colors(i % 20), lw=1.0,
                        label=f"{v} (n={len(acc)})")
            ax.axhline(LEARN_THRESHOLDS[task], ls=":", color="k", lw=0.8)
            ax.set_title(TASK_SHORT_LABELS[task], fontsize=9)
            ax.set_xlabel("optimizer step")
            ax.set_ylim(0.4, 1.02)
        axes[0][0].set_ylabel("training accuracy (mean over seeds)")
        handles, labels = axes[0][0].get_legend_handles_labels()
        if handles:
            fig.legend(handles, labels, fontsize=6, loc="center right", frameon=False)
        fig.suptitle(title + " -- dotted: learned threshold", fontsize=10)
        fig.tight_layout(rect=(0, 0, 0.84, 1))
        return _save(fig, path)


def png_matplotlib_version(path: Path) -> str | None:
    """The ``matplotlib`` text chunk of a PNG written by :func:`_save`.

    Args:
        path: the PNG.

    Returns:
        The matplotlib version that drew it, or None if the chunk is absent.
    """
    data = Path(path).read_bytes()
    pos = 8
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"tEXt" and body.startswith(b"matplotlib\x00"):
            return body.split(b"\x00", 1)[1].decode("latin-1")
        if kind == b"zTXt" and body.startswith(b"matplotlib\x00"):
            return zlib.decompress(body.split(b"\x00", 1)[1][1:]).decode("latin-1")
        if kind == b"IEND":
            break
        pos += 12 + length
    return None
