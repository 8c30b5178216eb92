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

import pandas as pd

from connectome_priors._atomic import atomic_path
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
    """Mean final-epoch training accuracy per variant and task with 95 % t-CIs; published beside (if any).

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
