"""Driving a sweep: plan, skip what is stored, run the pending cells on a backend, store each cell's runs.

Killed at any point and restarted, a sweep ends with every run present exactly once, whichever backend ran it: runs
are written once at key-derived paths, and each executed cell and each sweep invocation leaves a record (wall
seconds, sizes, host) that the cost model (:mod:`connectome_priors.benchmarks.sweep._cost_model`) fits::

    <out>/<sign>/<field>/...      per-run results (an ablation folder per field and arm)
    <out>/cells/<cell>.json       one record per executed cell
    <out>/sweeps/<start>.json     one record per sweep invocation
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import hashlib
import os
import platform
import socket
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from connectome_priors.benchmarks._run_store import RUN_STORE, write_once

from ._backends import BACKENDS, CellFn, CellOutcome, default_cell_fn, run_local, run_ray
from ._plan import (
    Cell,
    RunKey,
    SweepOptions,
    ablation_sizes,
    field_dir,
    field_sizes,
    finished_runs,
    pending_cells,
    plan_cells,
    sweep_work,
)


@dataclasses.dataclass
class SweepSummary:
    cells_total: int
    cells_run: int
    runs_written: int
    runs_skipped: int
    failed: list[tuple[str, str]]
    wall_s: float


def _record_cell(out_dir: Path, outcome: CellOutcome, options: SweepOptions, field_sizes: Mapping[str, int],
                 meta: Mapping[str, Any]) -> None:
    cell = outcome.cell
    seeds_tag = hashlib.sha1(",".join(map(str, cell.seeds)).encode()).hexdigest()[:8]
    record = {
        "cell": cell.key, "field": cell.field, "sign": cell.sign, "task": cell.task,
        "variants": list(cell.variants), "seeds": list(cell.seeds),
        "n_variants": len(cell.variants), "n_seeds": len(cell.seeds), "epochs": options.epochs,
        **ablation_sizes(options), "work": sweep_work(options), "quick": options.quick,
        "n_neurons": field_sizes.get(cell.field),
        "wall_s": outcome.wall_s, "cpu_s": outcome.cpu_s, "load_1m": outcome.load_1m,
        "n_cpus": os.cpu_count(), "host": outcome.host, "pid": outcome.pid, "device": outcome.device,
        "finished_at": _dt.datetime.now(_dt.UTC).isoformat(), "error": outcome.error, **meta,
    }
    path = Path(out_dir) / "cells" / f"{cell.key}__{seeds_tag}.json"
    if not write_once(path, record):  # the same cell ran again (e.g. after a lost write): keep both
        write_once(path.with_name(f"{path.stem}__{time.time_ns()}.json"), record)


def _write_outcome(out_dir: Path, outcome: CellOutcome, store, options, field_sizes, meta) -> tuple[int, int]:
    written = skipped = 0
    wanted = set(outcome.cell.run_keys())
    for r in outcome.results:
        key = RunKey(r["field"], r["sign"], r["task"], r["variant"], int(r["seed"]))
        if key not in wanted:
            raise ValueError(f"cell {outcome.cell.key} returned a run it was not asked for: {key}")
        r.setdefault("cell_wall_s", outcome.wall_s)
        if store.write(field_dir(out_dir, key.field, key.sign), r):
            written += 1
        else:
            skipped += 1
    _record_cell(out_dir, outcome, options, field_sizes, meta)
    return written, skipped


def prefetch_fields(fields: Iterable[str], data_dir: str | None = None) -> None:
    """Locate (or download and verify) every field's files once, in the driver, before any cell
    starts: a bad field fails the sweep at once, and parallel workers on this machine find the
    verified cache instead of downloading the same files concurrently."""
    from connectome_priors.fields import fetch_field_files

    for f in fields:
        fetch_field_files(f, data_dir=data_dir)


def _is_ablation_cell_fn(cell_fn) -> bool:
    from connectome_priors.benchmarks._ablation import run_cell  # noqa: PLC0415

    return cell_fn is run_cell


def _claim_field_dirs(out_dir: Path, cells: Sequence[Cell], options: SweepOptions) -> None:
    """Stamp each per-field folder with the ablation's configuration (refusing a mismatch), so
    every ``<out>/<sign>/<field>`` is a complete ablation folder whichever backend fills it."""
    from connectome_priors.benchmarks import _ablation

    first = {}
    for c in cells:
        first.setdefault((c.field, c.sign), c)
    for (f, sign), cell in first.items():
        _ablation.claim_out_dir(field_dir(out_dir, f, sign), _ablation.config_from_sweep(cell, options))


def run_sweep(
    fields: Sequence[str],
    options: SweepOptions,
    out_dir: str | os.PathLike,
    *,
    backend: str = "local",
    address: str | None = None,
    cell_fn: CellFn | None = None,
    store=None,
    on_cell_done: Callable[[CellOutcome], None] | None = None,
    cpus_per_cell: float = 1.0,
    gpus_per_cell: float | None = None,
    max_retries: int = 3,
    fail_fast: bool = False,
    progress: bool = True,
) -> SweepSummary:
    """Run (or resume) the sweep of ``fields`` into ``out_dir``.

    Each cell's runs are written by the driver as the cell finishes, write-once; finished runs
    are skipped, so calling this again after an interruption completes the sweep with every
    run present exactly once. ``on_cell_done`` is called after a cell's runs are on disk.
    A cell whose function raises is recorded as failed (the sweep goes on unless
    ``fail_fast``); rerunning retries it.
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    store = store or RUN_STORE
    cell_fn = cell_fn or default_cell_fn()
    cells = plan_cells(fields, options)
    if _is_ablation_cell_fn(cell_fn):
        prefetch_fields(fields, options.extra.get("data_dir"))
        _claim_field_dirs(out_dir, cells, options)
    todo = pending_cells(cells, finished_runs(out_dir, fields, options.signs, store))
    sizes = field_sizes(fields)
    started = _dt.datetime.now(_dt.UTC)
    meta = {"backend": backend, "sweep_started": started.isoformat()}
    t0 = time.perf_counter()
    summary = SweepSummary(len(cells), 0, 0, 0, [], 0.0)
    bar = _progress(sum(len(c.run_keys()) for c in todo), progress)

    def finish(outcome: CellOutcome) -> None:
        if outcome.error is not None:
            summary.failed.append((outcome.cell.key, outcome.error))
            _record_cell(out_dir, outcome, options, sizes, meta)
            if fail_fast:
                raise RuntimeError(f"cell {outcome.cell.key} failed:\n{outcome.error}")
            return
        w, s = _write_outcome(out_dir, outcome, store, options, sizes, meta)
        summary.cells_run += 1
        summary.runs_written += w
        summary.runs_skipped += s
        bar.update(w + s)
        if on_cell_done is not None:
            on_cell_done(outcome)

    try:
        if backend == "local":
            run_local(todo, out_dir, options, cell_fn, finish)
        else:
            # Longest cells first (LPT: what the cost model assumes), by neurons^2 x runs.
            todo = sorted(todo, key=lambda c: -sizes.get(c.field, 0) ** 2 * len(c.run_keys()))
            run_ray(todo, options, cell_fn, finish, address=address, cpus_per_cell=cpus_per_cell,
                     gpus_per_cell=gpus_per_cell, max_retries=max_retries)
    finally:
        bar.close()
        summary.wall_s = time.perf_counter() - t0
        write_once(out_dir / "sweeps" / f"{started.strftime('%Y%m%dT%H%M%S%fZ')}.json", {
            "started": started.isoformat(), "wall_s": summary.wall_s, "backend": backend,
            "fields": list(fields), "options": options.to_json(), "cells_planned": len(cells),
            "cells_pending": len(todo), "cells_run": summary.cells_run,
            "runs_written": summary.runs_written, "failed": summary.failed,
            "python": platform.python_version(), "host": socket.gethostname(),
        })
    return summary


def _progress(total: int, enabled: bool):
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="run", desc="sweep", disable=not enabled or total == 0)
