"""The report's data: stored runs -> an xarray Dataset, a tidy table, summaries, published numbers, raw CSVs.

Everything is rebuilt from the run store (:mod:`connectome_priors.benchmarks._run_store`), so the report of an
interrupted or extended ablation is always what is on disk. :func:`summarize` is the summary of every report (the
ablation report, the committed evidence), computed by :func:`connectome_priors.stats.summarize_runs`. The published
numbers come from the paper's ``reported_results.csv`` (argument ``published``; default ``$CONNECTOME_PRIORS_PAPER``
-- the CSV or its folder -- or ``../shared/paper`` relative to the working directory).
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from connectome_priors._atomic import atomic_path
from connectome_priors.benchmarks._schema import HISTORY_KEYS, RUN_METRICS, TASK_NAMES, TASKS
from connectome_priors.benchmarks._variants import variant_names

from ._verdict import PUBLISHED_ARM

if TYPE_CHECKING:  # pandas and xarray load on first use
    import pandas as pd
    import xarray as xr

BOOTSTRAP_SEED = 0
BOOTSTRAP_RESAMPLES = 10_000


def _nan(x) -> float:
    return float("nan") if x is None else float(x)


def runs_to_dataset(runs: Sequence[Mapping[str, Any]], config: Mapping[str, Any]) -> xr.Dataset:
    """Stack run records into a Dataset with dims (variant, task, seed) (+ epoch for histories).

    Variables: every metric of :data:`RUN_METRICS` (NaN where a run is missing or failed),
    ``status`` ("ok", a reason, or "missing"), timings, and ``history_<name>`` per epoch.

    Args:
        runs: the stored runs (:meth:`RunStore.load`).
        config: the folder's ``config.json`` (its variants, tasks and seeds are included even without runs).

    Returns:
        The dataset, with the configuration and package versions as attributes.
    """
    import xarray as xr

    order = variant_names(controls=True)
    present_v = {r["variant"] for r in runs} | set(config.get("variants", []))
    variants = [v for v in order if v in present_v]
    present_t = {r["task"] for r in runs} | set(config.get("tasks", []))
    tasks = [t for t in TASKS if t in present_t]
    seeds = sorted({int(r["seed"]) for r in runs} | {int(s) for s in config.get("seeds", [])})
    epochs = int(config.get("epochs", 0)) or max((len(next(iter(r["history"].values()), [])) for r in runs),
                                                 default=0)
    shape = (len(variants), len(tasks), len(seeds))
    vi = {v: i for i, v in enumerate(variants)}
    ti = {t: i for i, t in enumerate(tasks)}
    si = {s: i for i, s in enumerate(seeds)}
    data = {m: np.full(shape, np.nan) for m in RUN_METRICS}
    hist = {k: np.full(shape + (epochs,), np.nan) for k in HISTORY_KEYS}
    timing = {k: np.full(shape, np.nan) for k in ("cell_train_s", "metrics_s", "nan_network_accuracy")}
    status = np.full(shape, "missing", dtype=object)
    for r in runs:
        if r["variant"] not in vi or r["task"] not in ti:
            continue
        idx = (vi[r["variant"]], ti[r["task"]], si[int(r["seed"])])
        status[idx] = r.get("status", "ok")
        for m in RUN_METRICS:
            data[m][idx] = _nan(r.get("metrics", {}).get(m))
        for k in HISTORY_KEYS:
            h = [_nan(x) for x in r.get("history", {}).get(k, [])][:epochs]
            hist[k][idx][: len(h)] = h
        for k in timing:
            timing[k][idx] = _nan(r.get(k))
    dims = ("variant", "task", "seed")
    ds = xr.Dataset(
        {**{m: (dims, data[m]) for m in RUN_METRICS},
         **{f"history_{k}": (dims + ("epoch",), hist[k]) for k in HISTORY_KEYS},
         **{k: (dims, v) for k, v in timing.items()},
         "status": (dims, status.astype(str))},
        coords={"variant": variants, "task": tasks, "seed": seeds, "epoch": np.arange(1, epochs + 1),
                "task_name": ("task", [TASK_NAMES[t] for t in tasks])},
    )
    ds["Accuracy"].attrs["long_name"] = "final-epoch training accuracy (the paper's 'Accuracy')"
    ds["Loss"].attrs["long_name"] = "final-epoch training loss incl. penalty (Keras 'loss')"
    ds["Validation_Loss"].attrs["long_name"] = "validation loss incl. penalty (Keras 'val_loss')"
    ds["Penalty"].attrs["long_name"] = "regularizer value, mean over the final epoch's steps"
    ds["nan_network_accuracy"].attrs["long_name"] = (
        "stopped runs only: share of class-0 training labels, the accuracy Keras reports for a network "
        "with NaN outputs (argmax -> class 0)")
    ds.attrs.update(_metadata(config, n_runs=len(runs)))
    return ds


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version(), "platform": platform.platform()}
    for name in ("connectome_priors", "numpy", "scipy", "jax", "optax", "brainstate", "networkx",
                 "xarray", "pandas", "bct", "neurogym"):
        mod = sys.modules.get(name)
        if mod is None:
            try:
                import importlib.metadata as md

                dist = {"connectome_priors": "connectome-priors", "bct": "bctpy"}.get(name, name)
                out[name] = md.version(dist)
            except Exception:  # noqa: BLE001 - a missing optional package is just not listed
                continue
        else:
            out[name] = str(getattr(mod, "__version__", "?"))
    jax = sys.modules.get("jax")
    if jax is not None:
        try:
            out["jax_device"] = str(jax.devices()[0])
        except Exception:  # noqa: BLE001
            pass
    return out


def _metadata(config: Mapping[str, Any], n_runs: int) -> dict[str, Any]:
    """netCDF-safe attributes (strings and numbers only)."""
    return {
        "title": "connectome-priors ablation",
        "field": str(config.get("field", "")),
        "sign": str(config.get("sign", "")),
        "functional": str(config.get("functional", "")),
        "reference_compat": int(bool(config.get("reference_compat", False))),
        "epochs": int(config.get("epochs", 0)),
        "seeds": np.asarray(config.get("seeds", []), dtype=np.int64),
        "config_hash": str(config.get("config_hash", "")),
        "config_json": json.dumps(dict(config), default=str),
        "versions_json": json.dumps(_versions()),
        "n_runs": int(n_runs),
        "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "task_numbering": "paper: Task1 One-Choice Inference, Task2 PDM, Task3 Go/NoGo",
    }


def tidy(ds: xr.Dataset) -> pd.DataFrame:
    """Long table of the scalar run metrics of the runs that exist.

    Args:
        ds: :func:`runs_to_dataset`'s dataset.

    Returns:
        Columns ``variant, task, seed, metric, value, status``.
    """
    import pandas as pd

    frames = []
    status = ds["status"].to_series().rename("status")
    for m in RUN_METRICS:
        s = ds[m].to_series().rename("value").to_frame().join(status)
        s["metric"] = m
        frames.append(s.reset_index())
    df = pd.concat(frames, ignore_index=True)
    df = df[df["status"] != "missing"]
    return df[["variant", "task", "seed", "metric", "value", "status"]]


# --------------------------------------------------------------------------------------------
# published numbers


def resolve_published(published: str | os.PathLike | None = None) -> Path | None:
    """The paper's ``reported_results.csv``: the argument, ``$CONNECTOME_PRIORS_PAPER`` (file or
    folder) or ``../shared/paper/reported_results.csv`` relative to the working directory.

    Args:
        published: the CSV or its folder (None: the environment variable, then the default folder).

    Returns:
        The CSV's path, or None when no default location holds it.

    Raises:
        FileNotFoundError: ``published`` was given and holds no such file.
    """
    candidates = []
    if published is not None:
        candidates.append(Path(published))
    elif os.environ.get("CONNECTOME_PRIORS_PAPER"):
        candidates.append(Path(os.environ["CONNECTOME_PRIORS_PAPER"]))
    else:
        candidates.append(Path("..") / "shared" / "paper")
    for c in candidates:
        path = c / "reported_results.csv" if c.is_dir() else c
        if path.is_file():
            return path
        if published is not None:
            raise FileNotFoundError(f"--published {published}: no such file (expected the paper's "
                                    "reported_results.csv or the folder holding it)")
    return None


def load_published(path: Path | None, sign: str) -> pd.DataFrame | None:
    """Rows of the published table for this sign arm: variant, task, metric, mean, ci95_lo/hi.

    Args:
        path: :func:`resolve_published`'s path (None: no table).
        sign: our sign arm, ``"free"`` or ``"nonneg"``.

    Returns:
        The arm's rows, or None.

    Raises:
        ValueError: the CSV lacks a column the comparison needs.
    """
    if path is None:
        return None
    import pandas as pd

    df = pd.read_csv(path)
    need = {"sign_constraint", "metric", "task", "variant", "mean", "ci95_lo", "ci95_hi"}
    if not need <= set(df.columns):
        raise ValueError(f"{path}: expected columns {sorted(need)}, got {list(df.columns)}")
    return df[df["sign_constraint"] == PUBLISHED_ARM[sign]].reset_index(drop=True)


# --------------------------------------------------------------------------------------------
# summaries


def canonical_order(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows sorted by task (paper numbering), metric (:data:`RUN_METRICS` order) and variant (canonical order, controls
    after the eleven); unknown labels last, in their order.

    Args:
        frame: a frame with ``task``, ``metric`` and ``variant`` columns.

    Returns:
        The sorted frame with a fresh index.
    """
    import pandas as pd

    order = {v: i for i, v in enumerate(variant_names(controls=True))}
    metric_order = {m: i for i, m in enumerate(RUN_METRICS)}
    key = pd.DataFrame({"t": frame["task"].map(lambda t: TASKS.index(t) if t in TASKS else len(TASKS)),
                        "m": frame["metric"].map(lambda m: metric_order.get(m, len(metric_order))),
                        "v": frame["variant"].map(lambda v: order.get(v, len(order)))})
    idx = key.sort_values(["t", "m", "v"], kind="stable").index
    return frame.loc[idx].reset_index(drop=True)


def summarize(df: pd.DataFrame) -> pd.DataFrame:
    """The summary every report shows: per (task, metric, variant), ``n`` runs, ``n_ok`` finite values, and over the
    finite values the mean, sd and percentile bootstrap interval inside the metric's range (``lo``/``hi``;
    :data:`BOOTSTRAP_RESAMPLES` resamples, seed :data:`BOOTSTRAP_SEED`), ``all_equal``, and the learn rate of the
    held-out accuracy (``learned`` of ``n``, Wilson ``learn_lo``/``learn_hi``).

    Computed by :func:`connectome_priors.stats.summarize_runs`; runs that stopped on a non-finite loss have NaN
    metrics and are counted in ``n``, not averaged. Rows in :func:`canonical_order`.

    Args:
        df: tidy runs (``variant, task, seed, metric, value``; other columns ignored).

    Returns:
        Columns :data:`connectome_priors.stats.RUN_SUMMARY_COLUMNS`.
    """
    import pandas as pd

    from connectome_priors.stats import RUN_SUMMARY_COLUMNS, summarize_runs

    if df.empty:
        return pd.DataFrame(columns=list(RUN_SUMMARY_COLUMNS))
    table = summarize_runs(df[["variant", "task", "seed", "metric", "value"]], n_resamples=BOOTSTRAP_RESAMPLES,
                           seed=BOOTSTRAP_SEED)
    return canonical_order(table)


# --------------------------------------------------------------------------------------------
# CSVs


def write_raw_csvs(ds: xr.Dataset, csv_dir: Path) -> list[Path]:
    """``<csv_dir>/<Task>/<Metric>_raw.csv`` in the published layout (index ``simulation``).

    Args:
        ds: :func:`runs_to_dataset`'s dataset.
        csv_dir: the folder of the CSVs.

    Returns:
        The files written.
    """
    import pandas as pd

    paths = []
    for task in ds["task"].values:
        folder = Path(csv_dir) / str(task)
        folder.mkdir(parents=True, exist_ok=True)
        for m in RUN_METRICS:
            arr = ds[m].sel(task=task).transpose("seed", "variant")
            frame = pd.DataFrame(arr.values, index=pd.Index(ds["seed"].values, name="simulation"),
                                 columns=[str(v) for v in ds["variant"].values])
            path = folder / f"{m}_raw.csv"
            with atomic_path(path) as tmp:
                frame.to_csv(tmp, float_format="%.6f")
            paths.append(path)
    return paths
