"""Executing sweep cells on a backend: in this process (``local``) or on a Ray cluster (``ray``).

A backend runs the cell function on each pending cell and hands every :class:`CellOutcome` (the runs, timings, host,
or the error) to the driver's ``finish`` callback (:func:`connectome_priors.benchmarks.sweep._run.run_sweep`), which
stores the runs.
An application error in a cell is data (recorded, retried on the next sweep); on Ray a dead worker or node re-runs
the cell (``max_retries``), and a driver stopped early cancels the cells still in flight.
"""

from __future__ import annotations

import dataclasses
import os
import socket
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ._plan import Cell, SweepOptions, field_dir

BACKENDS: tuple[str, ...] = ("local", "ray")

CellFn = Callable[[Cell, Path, SweepOptions], list[Mapping[str, Any]]]


def default_cell_fn() -> CellFn:
    """The ablation's cell function, :func:`connectome_priors.benchmarks._ablation.run_cell`."""
    from connectome_priors.benchmarks._ablation import run_cell  # noqa: PLC0415

    return run_cell


@dataclasses.dataclass
class CellOutcome:
    """What a finished cell hands back to the driver."""

    cell: Cell
    results: list[dict[str, Any]]
    wall_s: float
    host: str
    pid: int
    device: str
    error: str | None = None
    cpu_s: float = 0.0  # CPU seconds of the executing process (all threads) during the cell
    load_1m: float | None = None  # the host's 1-minute load average when the cell ended


def _device_name() -> str:
    # Only ask JAX when it is already imported (the cell function imports it); never import it here.
    jax = sys.modules.get("jax")
    if jax is None:
        return "cpu"
    try:
        d = jax.devices()[0]
        return f"{d.platform}:{getattr(d, 'device_kind', '')}"
    except Exception:  # noqa: BLE001 - a device query must never fail a finished cell
        return "unknown"


def execute_cell(cell_fn: CellFn, cell: Cell, out_dir: Path | None, options: SweepOptions) -> CellOutcome:
    """Run one cell and time it. ``out_dir=None``: a private scratch folder (Ray workers)."""
    t0, c0 = time.perf_counter(), time.process_time()
    if out_dir is None:
        with tempfile.TemporaryDirectory(prefix="cell-") as tmp:
            results = cell_fn(cell, Path(tmp), options)
    else:
        results = cell_fn(cell, Path(out_dir), options)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    results = [_normalise_result(cell, r) for r in results]
    # The load says how contended the host was: cell times on a shared machine vary with it.
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    return CellOutcome(cell, results, wall, socket.gethostname(), os.getpid(), _device_name(),
                       cpu_s=cpu, load_1m=load)


def _normalise_result(cell: Cell, result: Mapping[str, Any]) -> dict[str, Any]:
    r = dict(result)
    missing = [k for k in ("variant", "task", "seed") if k not in r]
    if missing:
        raise ValueError(f"cell {cell.key}: a run result lacks {missing}; got keys {sorted(r)}")
    r.setdefault("field", cell.field)
    r.setdefault("sign", cell.sign)
    return r


def run_local(todo, out_dir, options, cell_fn, finish) -> None:
    import traceback

    for cell in todo:
        try:
            # The field's own folder (the Ray backend gives a scratch one): the cell function may
            # keep state there; its runs are stored by the driver, below, either way.
            outcome = execute_cell(cell_fn, cell, field_dir(out_dir, cell.field, cell.sign), options)
        except Exception:  # noqa: BLE001 - recorded and reported; KeyboardInterrupt propagates
            outcome = CellOutcome(cell, [], 0.0, socket.gethostname(), os.getpid(), "", traceback.format_exc())
        finish(outcome)


def _ray_cell_task(cell_fn: CellFn, cell: Cell, options: SweepOptions) -> CellOutcome:
    """Body of the Ray task: a scratch folder on the worker, results returned to the driver."""
    import traceback

    try:
        return execute_cell(cell_fn, cell, None, options)
    except Exception:  # noqa: BLE001 - an application error is data for the driver, not a retry
        return CellOutcome(cell, [], 0.0, socket.gethostname(), os.getpid(), "", traceback.format_exc())


def run_ray(todo, options, cell_fn, finish, *, address, cpus_per_cell, gpus_per_cell, max_retries) -> None:
    try:
        import ray
    except ImportError as exc:
        raise RuntimeError("--backend ray needs ray: pip install 'connectome-priors[ray]'") from exc
    if not ray.is_initialized():
        ray.init(address=address, include_dashboard=False, log_to_driver=False)
    if gpus_per_cell is None:  # one GPU per cell when the cluster has any
        gpus_per_cell = 1.0 if ray.cluster_resources().get("GPU", 0) > 0 else 0.0
    env = {}
    if 0 < gpus_per_cell < 1:  # several cells share a GPU: JAX must not grab 75% of it each
        env = {"env_vars": {"XLA_PYTHON_CLIENT_PREALLOCATE": "false"}}
    task = ray.remote(_ray_cell_task).options(
        num_cpus=cpus_per_cell, num_gpus=gpus_per_cell,
        max_retries=max_retries,  # system failures only: a dead worker or node re-runs the cell
        retry_exceptions=False, **({"runtime_env": env} if env else {}),
    )
    # A bounded window of cells in flight keeps the object store small for 10^4-cell sweeps.
    slots = max(1, int(ray.cluster_resources().get("CPU", 1) // max(cpus_per_cell, 1e-9)))
    window = 2 * slots
    fn_ref = ray.put(cell_fn)
    opt_ref = ray.put(options)
    queue = list(todo)
    in_flight: dict[Any, Cell] = {}
    try:
        while queue or in_flight:
            while queue and len(in_flight) < window:
                cell = queue.pop(0)
                in_flight[task.remote(fn_ref, cell, opt_ref)] = cell
            ready, _ = ray.wait(list(in_flight), num_returns=1)
            for ref in ready:
                cell = in_flight.pop(ref)
                try:
                    outcome = ray.get(ref)
                except Exception as exc:  # noqa: BLE001 - retries exhausted (worker kept dying)
                    outcome = CellOutcome(cell, [], 0.0, "", -1, "", f"{type(exc).__name__}: {exc}")
                finish(outcome)
    finally:
        for ref in in_flight:  # the driver stopped early: no orphan cells keep running
            ray.cancel(ref, force=True)
