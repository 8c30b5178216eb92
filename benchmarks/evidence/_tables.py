"""Tables of the evidence, computed from records only: tidy runs, per-run metrics, the published numbers, CSVs.

Every table is a deterministic function of the records (and of the committed copy of the published numbers):
row order is fixed (task, metric, canonical variant order), the bootstrap draws from a fixed seed, and the CSVs
are written with a fixed float format and ``\\n`` line ends.

The per-cell summary, the verdicts against the published numbers and their counts are the ablation report's
(:func:`connectome_priors.benchmarks.report._data.summarize`, :mod:`connectome_priors.benchmarks.report._verdict`);
numbers and tables are written by :mod:`connectome_priors.benchmarks.report._format`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from connectome_priors._atomic import atomic_path
from connectome_priors.benchmarks._schema import RUN_METRICS, TASKS
from connectome_priors.benchmarks.report._format import (
    BEYOND_RANGE_NOTE,
    TASK_LABELS,
    fmt_mean,
    fmt_published,
    markdown_table,
)
from connectome_priors.benchmarks.report._verdict import verdict_text


def _value(x: Any) -> float:
    return math.nan if x is None else float(x)


def tidy(records: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per (run, metric) of the records.

    Args:
        records: run records (:mod:`._records`).

    Returns:
        Columns ``variant, task, seed, metric, value, status`` (NaN for a missing value).
    """
    rows = [dict(variant=r["variant"], task=r["task"], seed=int(r["seed"]), metric=m,
                 value=_value(r["metrics"].get(m)), status=str(r["status"]))
            for r in records for m in RUN_METRICS]
    frame = pd.DataFrame(rows, columns=["variant", "task", "seed", "metric", "value", "status"])
    return frame.astype({"seed": np.int64, "value": np.float64})


def runs_table(records: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Per-run final metrics.

    Args:
        records: run records.

    Returns:
        Columns ``task, variant, seed, status``, every metric of :data:`RUN_METRICS` and ``nan_network_accuracy``.
    """
    rows = []
    for r in records:
        row = dict(task=r["task"], variant=r["variant"], seed=int(r["seed"]), status=str(r["status"]))
        row.update({m: _value(r["metrics"].get(m)) for m in RUN_METRICS})
        row["nan_network_accuracy"] = _value(r.get("nan_network_accuracy"))
        rows.append(row)
    return pd.DataFrame(rows, columns=["task", "variant", "seed", "status", *RUN_METRICS, "nan_network_accuracy"])


def write_csv(frame: pd.DataFrame, path: Path, float_format: str = "%.6f") -> Path:
    """Write ``frame`` as CSV, reproducibly (no index, ``float_format``, ``\\n`` line ends; atomic).

    Args:
        frame: the table.
        path: the file (its folder is created).
        float_format: ``printf`` format of the floats.

    Returns:
        ``path``.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False, float_format=float_format, lineterminator="\n")
    return path


def load_published(folder: Path) -> pd.DataFrame | None:
    """The committed copy of the paper's ``reported_results.csv``.

    Args:
        folder: ``docs/results/published``.

    Returns:
        Every row (both sign arms), or None if not committed.
    """
    path = Path(folder) / "reported_results.csv"
    return pd.read_csv(path) if path.is_file() else None


def nan_network_accuracy(records: Sequence[Mapping[str, Any]]) -> dict[tuple[str, str], float]:
    """Per (task, variant): mean accuracy Keras would report for the runs that went NaN (share of class-0 labels).

    Args:
        records: run records.

    Returns:
        ``{(task, variant): accuracy}`` of the cells with such runs.
    """
    values: dict[tuple[str, str], list[float]] = {}
    for r in records:
        if r.get("nan_network_accuracy") is not None:
            values.setdefault((r["task"], r["variant"]), []).append(float(r["nan_network_accuracy"]))
    return {k: float(np.mean(v)) for k, v in sorted(values.items())}


def comparison_markdown(comp: pd.DataFrame) -> list[str]:
    """Per task, our cell beside the published one, with the verdict.

    Args:
        comp: a comparison (:func:`connectome_priors.benchmarks.report._verdict.compare`).

    Returns:
        Markdown lines: a bold task title and a table per task present.
    """
    lines = []
    for task in TASKS:
        rows = comp[comp["task"] == task]
        if rows.empty:
            continue
        lines.append(f"\n**{task}** ({TASK_LABELS[task]})\n")
        lines += markdown_table(rows, {
            "variant": "variant",
            "ours: mean [95% bootstrap CI]": lambda r: fmt_mean(r["mean"], r["lo"], r["hi"], r["all_equal"], r["n_ok"]),
            "runs ok/n": lambda r: f"{r['n_ok']}/{r['n']}",
            "published: mean [95% t-CI, as published]": lambda r: fmt_published(r["pub_mean"], r["pub_lo"],
                                                                                 r["pub_hi"], r["pub_beyond_range"]),
            "verdict": lambda r: verdict_text(r["verdict"], r.get("nan_acc"), r["pub_beyond_range"]),
        })
    if len(comp) and comp["pub_beyond_range"].any():
        lines.append(f"\n{BEYOND_RANGE_NOTE}")
    return lines
