"""Figures of the evidence, reproducible byte for byte with the same matplotlib.

PNGs are written by the Agg backend with matplotlib's default style (``rcdefaults``, bundled DejaVu fonts) and no
``Software`` text chunk; instead a ``matplotlib`` text chunk names the version that drew the figure, so a check
can tell "different pixels" from "different matplotlib" (:func:`png_matplotlib_version`).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ._schema import GRAPH_METRICS, NO_MEMORY_ACCURACY, TASKS

TASK_TITLES = {"Task1": "One-Choice Inference", "Task2": "PDM", "Task3": "Go/NoGo"}


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return matplotlib, plt


def _save(fig, path: Path) -> Path:
    matplotlib, plt = _plt()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90, metadata={"Software": None, "matplotlib": matplotlib.__version__})
    plt.close(fig)
    return path


def plot_accuracy(summ: pd.DataFrame, published: pd.DataFrame | None, variants: Sequence[str], path: Path,
                  title: str) -> Path:
    """Mean final-epoch training accuracy per variant and task with 95 % t-CIs; published beside (if any)."""
    matplotlib, plt = _plt()
    with matplotlib.rc_context(matplotlib.rcParamsDefault):
        fig, axes = plt.subplots(1, len(TASKS), figsize=(12, 4.2), sharey=True, squeeze=False)
        x = np.arange(len(variants))
        for ax, task in zip(axes[0], TASKS):
            s = summ[(summ["metric"] == "Accuracy") & (summ["task"] == task)].set_index("variant").reindex(variants)
            mean = s["mean"].to_numpy(float)
            err = np.abs(np.vstack([mean - s["t_lo"].to_numpy(float), s["t_hi"].to_numpy(float) - mean]))
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
            ax.set_title(f"{task}: {TASK_TITLES[task]}", fontsize=10)
            ax.set_ylim(0, 1.05)
            ax.grid(axis="y", alpha=0.3)
        axes[0][0].set_ylabel("final-epoch training accuracy")
        axes[0][0].legend(fontsize=8, loc="lower left")
        fig.suptitle(title, fontsize=10)
        fig.tight_layout()
        return _save(fig, path)


def plot_metrics(df: pd.DataFrame, variants: Sequence[str], path: Path, title: str,
                 metrics: Sequence[str] = ("Test_Accuracy",) + GRAPH_METRICS) -> Path:
    """One panel per (metric, task): every seed as a dot, the mean as a bar."""
    matplotlib, plt = _plt()
    with matplotlib.rc_context(matplotlib.rcParamsDefault):
        fig, axes = plt.subplots(len(metrics), len(TASKS), figsize=(12, 2.4 * len(metrics)), squeeze=False,
                                 sharex=True)
        x = np.arange(len(variants))
        for r, metric in enumerate(metrics):
            for c, task in enumerate(TASKS):
                ax = axes[r][c]
                sub = df[(df["metric"] == metric) & (df["task"] == task)]
                means = []
                for i, v in enumerate(variants):
                    vals = sub.loc[sub["variant"] == v, "value"].to_numpy(float)
                    vals = vals[np.isfinite(vals)]
                    means.append(vals.mean() if len(vals) else np.nan)
                    if len(vals):
                        jitter = (np.arange(len(vals)) - (len(vals) - 1) / 2) * 0.03
                        ax.plot(i + jitter, vals, ".", color="C0", alpha=0.6, ms=4)
                ax.bar(x, np.nan_to_num(means), color="C0", alpha=0.25)
                if r == 0:
                    ax.set_title(f"{task}: {TASK_TITLES[task]}", fontsize=10)
                if c == 0:
                    ax.set_ylabel(metric, fontsize=9)
                ax.grid(axis="y", alpha=0.3)
        for ax in axes[-1]:
            ax.set_xticks(x, variants, rotation=60, ha="right", fontsize=8)
        fig.suptitle(title, fontsize=10)
        fig.tight_layout()
        return _save(fig, path)


def png_matplotlib_version(path: Path) -> str | None:
    """The ``matplotlib`` text chunk of a PNG written by :func:`_save` (None if absent)."""
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
