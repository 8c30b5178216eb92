"""Cross-field sweeps of the ablation: cells, a local and a Ray backend, resume.

The unit of work is a *cell*: one field, one sign arm, one task and a group of variants, with
all its seeds trained together in one compiled program. A sweep is the list of cells of
``fields x signs x tasks x variant groups``; every run inside a cell has an idempotent key
``(field, sign, task, variant, seed)`` and is stored in one file at a path made from that key,
written once (temporary file + ``os.replace``, skipped when present). Resuming therefore needs
no journal: a cell is pending while any of its runs is missing, and a partly written cell is
shrunk to the seeds still missing. Killed at any point and restarted, a sweep ends with every
run present exactly once, whichever backend ran it::

    python -m benchmarks sweep --fields 5_3_8,5_3_4 --quick --out results/sweep
    python -m benchmarks sweep --fields all --backend ray --address auto --out results/all
    python -m benchmarks sweep --fields all --out results/all --predict-only --workers 64 \
        --calibration results/sweep                  # cost model: predicted wall time, no training

The paper's full protocol on 6_6_2 (11 variants x 3 tasks x 20 seeds x 10 epochs, both sign
arms, each arm's ablation report with statistics beside the published numbers) is one command;
on a GPU, Ray can share the device between several cells, since compilation is CPU-bound::

    python -m benchmarks sweep --protocol paper --out results/paper --published ../shared/paper/reported_results.csv
    python -m benchmarks sweep --protocol paper --out results/paper --backend ray --gpus-per-cell 0.25
    python -m benchmarks sweep --protocol paper --out results/paper-cpu --seeds 2 --epochs 1 \
        --tasks 3 --variants 'W*D*C,WD*C,W' --n-train 256 --n-val 128 --n-test 128   # CPU smoke run

Layout of ``--out``::

    <out>/<sign>/<field>/...           per-run results (the ablation's own layout: an ablation
                                       output folder per field and arm)
    <out>/cells/<cell>.json            one record per executed cell: wall seconds, sizes, host
    <out>/sweeps/<start>.json          one record per sweep invocation: wall seconds, backend
    <out>/report.md, cross_field*.csv/png   the cross-field report (benchmarks._cross_field)

The cell function is :func:`benchmarks._ablation.run_cell` and the run store its ``RUN_STORE``
(so every ``<out>/<sign>/<field>`` folder is an ablation folder its ``report`` command reads);
a test injects a cheap cell function through ``cell_fn``.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as _dt
import hashlib
import json
import os
import platform
import socket
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from benchmarks._ablation import QUICK, RUN_STORE, SIGNS, TASKS, AblationConfig, parse_tasks, variant_slug
from benchmarks._variants import variant_names

VARIANTS: tuple[str, ...] = tuple(variant_names())  # the paper's eleven, canonical order
BACKENDS: tuple[str, ...] = ("local", "ray")


def known_variants(controls: bool = False) -> tuple[str, ...]:
    """The eleven variants, plus the ablation's diagnostic controls when ``controls``."""
    return tuple(variant_names(controls))


# --------------------------------------------------------------------------------------------
# keys, cells, options


class RunKey(NamedTuple):
    """Idempotent identity of one training run inside a sweep."""

    field: str
    sign: str
    task: str
    variant: str
    seed: int


@dataclasses.dataclass(frozen=True)
class Cell:
    """One unit of work: a variant group on one task of one field and arm, all seeds at once."""

    field: str
    sign: str
    task: str
    variants: tuple[str, ...]
    seeds: tuple[int, ...]

    def __post_init__(self) -> None:
        if not self.variants:
            raise ValueError(f"Cell {self.field}/{self.task}: variants must not be empty")
        if not self.seeds:
            raise ValueError(f"Cell {self.field}/{self.task}: seeds must not be empty")

    @property
    def key(self) -> str:
        """Stable name of the cell (seeds excluded: a resumed cell keeps its name)."""
        group = "+".join(variant_slug(v) for v in self.variants)
        return f"{self.field}__{self.sign}__{self.task}__{group}"

    def run_keys(self) -> tuple[RunKey, ...]:
        return tuple(RunKey(self.field, self.sign, self.task, v, s)
                     for v in self.variants for s in self.seeds)

    def with_seeds(self, seeds: Iterable[int]) -> Cell:
        return dataclasses.replace(self, seeds=tuple(sorted(set(seeds))))


@dataclasses.dataclass(frozen=True)
class SweepOptions:
    """Options shared by every cell of a sweep (the ablation's options plus sweep sizes).

    ``quick`` asks the ablation for its small-but-real configuration (few trials per epoch);
    ``seeds``/``epochs`` are explicit so that a cell's cost is known to the cost model.
    """

    seeds: int = 20
    epochs: int = 10
    tasks: tuple[str, ...] = TASKS
    signs: tuple[str, ...] = ("free",)
    variants: tuple[str, ...] = VARIANTS  # plus the control names when ``controls``
    functional: str = "corr"
    reference_compat: bool = False
    controls: bool = False
    quick: bool = False
    group: str = "variant"  # "variant": one variant per cell; "all": all variants in one cell
    extra: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["extra"] = dict(self.extra)
        return d


def resolve_fields(spec: str | Sequence[str]) -> tuple[str, ...]:
    """``"all"`` -> the 56 published fields (registry order); ``"a,b"`` -> validated ids."""
    from connectome_priors import field_ids

    known = field_ids()
    if isinstance(spec, str):
        if spec.strip() == "all":
            return known
        spec = [s.strip() for s in spec.split(",") if s.strip()]
    unknown = [f for f in spec if f not in known]
    if unknown:
        raise ValueError(f"--fields: unknown field id(s) {unknown}; known ids are the "
                         f"{len(known)} published fields, e.g. {', '.join(known[:4])}, ... (or 'all')")
    if not spec:
        raise ValueError("--fields: no field given")
    return tuple(dict.fromkeys(spec))


def variant_groups(variants: Sequence[str], group: str) -> list[tuple[str, ...]]:
    """Split variants into cells: one each (``"variant"``) or all together (``"all"``)."""
    if group == "variant":
        return [(v,) for v in variants]
    if group == "all":
        return [tuple(variants)]
    raise ValueError(f"group must be 'variant' or 'all', got {group!r}")


def plan_cells(fields: Sequence[str], options: SweepOptions) -> list[Cell]:
    """Every cell of a sweep, in a stable order (field, sign, task, variant group).

    Example::

        >>> cells = plan_cells(["5_3_8"], SweepOptions(seeds=2, tasks=("Task1",), variants=("W", "WD")))
        >>> [c.key for c in cells], cells[0].seeds
        (['5_3_8__free__Task1__W', '5_3_8__free__Task1__WD'], (0, 1))
    """
    seeds = tuple(range(options.seeds))
    return [Cell(f, sign, task, grp, seeds)
            for f in fields for sign in options.signs for task in options.tasks
            for grp in variant_groups(options.variants, options.group)]


def pending_cells(cells: Iterable[Cell], finished: set[RunKey]) -> list[Cell]:
    """Cells with at least one missing run, each shrunk to the seeds that still miss a run.

    Example::

        >>> cell = Cell("5_3_8", "free", "Task1", ("W",), (0, 1, 2))
        >>> pending_cells([cell], {RunKey("5_3_8", "free", "Task1", "W", 1)})[0].seeds
        (0, 2)
    """
    out = []
    for cell in cells:
        missing = {k.seed for k in cell.run_keys() if k not in finished}
        if missing:
            out.append(cell.with_seeds(missing))
    return out


# --------------------------------------------------------------------------------------------
# storage: write-once files at key-derived paths


def field_dir(out_dir: Path, field: str, sign: str) -> Path:
    """The per-field ablation output folder of one sign arm."""
    return Path(out_dir) / sign / field


def write_once(path: Path, payload: Mapping[str, Any] | str) -> bool:
    """Write ``payload`` (JSON) to ``path`` atomically unless it exists; True if written.

    The temporary file sits in the same folder, so ``os.replace`` is an atomic rename: a
    reader (or a resumed sweep) sees either no file or the whole file, never a partial one.

    Example::

        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "run.json"
        >>> write_once(p, {"seed": 0}), write_once(p, {"seed": 1}), json.loads(p.read_text())
        (True, False, {'seed': 0})
    """
    from benchmarks._ablation import _atomic_write_bytes, _json_default

    path = Path(path)
    if path.exists():
        return False
    text = payload if isinstance(payload, str) else json.dumps(payload, indent=1, default=_json_default)
    _atomic_write_bytes(path, text.encode())
    return True


def finished_runs(out_dir: Path, fields: Iterable[str], signs: Iterable[str], store=None) -> set[RunKey]:
    """Keys of every run already stored in a sweep folder."""
    store = store or RUN_STORE
    done = set()
    for f in fields:
        for sign in signs:
            for task, variant, seed in store.finished(field_dir(out_dir, f, sign)):
                done.add(RunKey(f, sign, task, variant, int(seed)))
    return done


def load_runs(out_dir: Path, store=None) -> list[dict[str, Any]]:
    """Every stored run result of a sweep folder, each with ``field`` and ``sign`` filled in."""
    store = store or RUN_STORE
    runs = []
    for sign_dir in sorted(p for p in Path(out_dir).iterdir() if p.is_dir() and p.name in SIGNS):
        for fdir in sorted(p for p in sign_dir.iterdir() if p.is_dir()):
            for r in store.load(fdir):
                runs.append({**r, "field": fdir.name, "sign": sign_dir.name})
    return runs


# --------------------------------------------------------------------------------------------
# the cell function


CellFn = Callable[[Cell, Path, SweepOptions], list[Mapping[str, Any]]]


def default_cell_fn() -> CellFn:
    """The ablation's cell function, :func:`benchmarks._ablation.run_cell`."""
    from benchmarks._ablation import run_cell  # noqa: PLC0415

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


# --------------------------------------------------------------------------------------------
# driver


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
        "finished_at": _dt.datetime.now(_dt.timezone.utc).isoformat(), "error": outcome.error, **meta,
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


def field_sizes(fields: Iterable[str]) -> dict[str, int]:
    """Neurons per field from the registry (``connectome_priors.list_fields``), loading no data."""
    from connectome_priors import list_fields

    table = list_fields().set_index("field")["n_neurons"]
    return {f: int(table[f]) for f in fields if f in table.index and table[f] == table[f]}


def prefetch_fields(fields: Iterable[str], data_dir: str | None = None) -> None:
    """Locate (or download and verify) every field's files once, in the driver, before any cell
    starts: a bad field fails the sweep at once, and parallel workers on this machine find the
    verified cache instead of downloading the same files concurrently."""
    from connectome_priors import fetch_field_files

    for f in fields:
        fetch_field_files(f, data_dir=data_dir)


def ablation_sizes(options: SweepOptions) -> dict[str, int]:
    """Training/validation/test trials per run, as :func:`benchmarks._ablation.config_from_sweep`
    will set them (the ablation's defaults, its ``QUICK`` sizes, then ``options.extra``)."""
    sizes = {k: int(getattr(AblationConfig, k)) for k in ("n_train", "n_val", "n_test")}
    if options.quick:
        sizes.update({k: QUICK[k] for k in sizes if k in QUICK})
    sizes.update({k: int(v) for k, v in options.extra.items() if k in sizes})
    return sizes


def sweep_work(options: SweepOptions) -> float:
    """Work of one run of this sweep (:func:`benchmarks._cost_model.run_work`)."""
    from benchmarks._cost_model import run_work

    return run_work(options.epochs, **ablation_sizes(options))


def _is_ablation_cell_fn(cell_fn) -> bool:
    from benchmarks._ablation import run_cell  # noqa: PLC0415

    return cell_fn is run_cell


def _claim_field_dirs(out_dir: Path, cells: Sequence[Cell], options: SweepOptions) -> None:
    """Stamp each per-field folder with the ablation's configuration (refusing a mismatch), so
    every ``<out>/<sign>/<field>`` is a complete ablation folder whichever backend fills it."""
    from benchmarks import _ablation  # noqa: PLC0415

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
    started = _dt.datetime.now(_dt.timezone.utc)
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
            _run_local(todo, out_dir, options, cell_fn, finish)
        else:
            # Longest cells first (LPT: what the cost model assumes), by neurons^2 x runs.
            todo = sorted(todo, key=lambda c: -sizes.get(c.field, 0) ** 2 * len(c.run_keys()))
            _run_ray(todo, options, cell_fn, finish, address=address, cpus_per_cell=cpus_per_cell,
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


def _run_local(todo, out_dir, options, cell_fn, finish) -> None:
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


def _run_ray(todo, options, cell_fn, finish, *, address, cpus_per_cell, gpus_per_cell, max_retries) -> None:
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


# --------------------------------------------------------------------------------------------
# CLI


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Options of ``python -m benchmarks sweep`` (the ablation's options plus sweep ones)."""
    q = QUICK
    a = parser.add_argument
    a("--fields", default=None,
      help="'all' (the 56 published fields) or comma-separated ids; fields not in --data-dir are "
           "downloaded and verified (default: the five reference fields; --protocol paper: 6_6_2)")
    a("--out", default="results/sweep", help="output folder (resumed when it exists)")
    a("--backend", choices=BACKENDS, default="local", help="local (default, no Ray needed) or ray")
    a("--address", default=None, help="Ray cluster address (e.g. 'auto'); default: start a local one")
    a("--seeds", type=int, default=None, help=f"seeds 0..k-1 per variant (default 20; --quick {q['seeds']})")
    a("--epochs", type=int, default=None, help=f"epochs per run (default 10; --quick {q['epochs']})")
    a("--tasks", default="1,2,3", help="tasks in the paper's numbering, e.g. 1,3")
    a("--sign", default=None, choices=(*SIGNS, "both"),
      help="recurrent sign arm(s) (default free; --protocol paper: both)")
    a("--functional", default="corr", choices=("corr", "precision", "sttc"))
    a("--variants", default=None, help="comma-separated subset of the variants (default: the eleven)")
    a("--reference-compat", action="store_true")
    a("--controls", action="store_true", help="add the ablation's diagnostic control variants")
    a("--quick", action="store_true", help="a small but real run (few seeds, epochs, trials)")
    a("--n-train", type=int, default=None, help="training trials per run (default: the ablation's)")
    a("--n-val", type=int, default=None, help="validation trials per run")
    a("--n-test", type=int, default=None, help="held-out test trials per run")
    a("--data-dir", default=None, help="folder of field folders (default: $CONNECTOME_PRIORS_DATA or "
                                       "the verified download cache)")
    a("--group", default=None, choices=("variant", "all"),
      help="variants per cell: one each (default), or all of a task together in one cell "
           "(default with --protocol paper: fewer, bigger cells sharing the field's priors)")
    a("--cpus-per-cell", type=float, default=1.0, help="Ray: CPUs declared per cell")
    a("--gpus-per-cell", type=float, default=None,
      help="Ray: GPUs per cell (default 1 when the cluster has GPUs); a fraction shares a GPU between "
           "cells, e.g. 0.25 runs four at once -- compilation is CPU-bound and small RNNs leave a GPU idle")
    a("--max-retries", type=int, default=3, help="Ray: retries of a cell whose worker died")
    a("--fail-fast", action="store_true", help="stop at the first failing cell")
    a("--no-report", action="store_true", help="skip the reports")
    a("--field-reports", action="store_true",
      help="also write the ablation's own report in every <out>/<sign>/<field> folder "
           "(default with --protocol paper)")
    a("--published", default=None, help="the paper's reported_results.csv, for the field reports")
    a("--predict-only", action="store_true",
      help="print the cost model's predicted wall time of this sweep (full and remaining) and exit")
    a("--workers", type=int, default=None, help="workers for --predict-only (default: 1 local, CPUs ray)")
    a("--calibration", action="append", default=None,
      help="sweep folder(s) whose cell records fit the cost model (repeatable; default: --out)")
    a("--protocol", default=None, choices=("paper",),
      help="'paper': the paper's full protocol on 6_6_2 -- 11 variants x 3 tasks x 20 seeds x 10 "
           "epochs, both sign arms, with the ablation's metrics, statistics and report per arm; "
           "every size can still be overridden (e.g. --seeds 2 --epochs 1 on a CPU)")
    a("--no-progress", action="store_true")
    return parser


def options_from_args(args: argparse.Namespace) -> tuple[tuple[str, ...], SweepOptions]:
    """Fields and options from parsed CLI arguments (``--protocol paper`` sets its defaults)."""
    paper = args.protocol == "paper"
    q = QUICK
    fields = resolve_fields(args.fields or ("6_6_2" if paper else "5_3_8,5_3_4,4_7_2,5_6_8,6_6_2"))
    seeds = args.seeds if args.seeds is not None else (q["seeds"] if args.quick else 20)
    epochs = args.epochs if args.epochs is not None else (q["epochs"] if args.quick else 10)
    if seeds < 1:
        raise ValueError(f"--seeds must be >= 1, got {seeds}")
    if epochs < 1:
        raise ValueError(f"--epochs must be >= 1, got {epochs}")
    sign = args.sign or ("both" if paper else "free")
    signs = SIGNS if sign == "both" else (sign,)
    valid = known_variants(args.controls)
    variants = valid
    if args.variants:
        variants = tuple(v.strip() for v in args.variants.split(",") if v.strip())
        bad = [v for v in variants if v not in valid]
        if bad:
            raise ValueError(f"--variants: unknown {bad}; expected names from {', '.join(valid)}")
    extra = {k: getattr(args, k) for k in ("n_train", "n_val", "n_test", "data_dir")
             if getattr(args, k) is not None}
    return fields, SweepOptions(
        seeds=seeds, epochs=epochs, tasks=parse_tasks(args.tasks), signs=signs, variants=variants,
        functional=args.functional, reference_compat=args.reference_compat, controls=args.controls,
        quick=args.quick, group=args.group or ("all" if paper else "variant"), extra=extra,
    )


def write_field_reports(out_dir: Path, published: str | None = None) -> list[Path]:
    """The ablation's report (netCDF, CSVs, figures, statistics) in every per-field folder."""
    from benchmarks._report import write_report  # noqa: PLC0415

    written = []
    for sign in SIGNS:
        for fdir in sorted(p for p in (Path(out_dir) / sign).glob("*") if (p / "runs").is_dir()):
            written.append(Path(write_report(fdir, published=published)))
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m benchmarks sweep``; returns the exit status."""
    parser = add_arguments(argparse.ArgumentParser(prog="python -m benchmarks sweep",
                                                   description=__doc__.split("\n\n")[0]))
    args = parser.parse_args(argv)
    try:
        fields, options = options_from_args(args)
    except ValueError as exc:
        parser.error(str(exc))
    out_dir = Path(args.out)
    if args.predict_only:
        from benchmarks._cost_model import predict_sweep_from_records

        workers = args.workers or (_ray_cpus(args.address) if args.backend == "ray" else 1)
        try:
            pred = predict_sweep_from_records(plan_cells(fields, options), options,
                                              [Path(p) for p in (args.calibration or [out_dir])],
                                              workers=workers, out_dir=out_dir)
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print(json.dumps(pred, indent=1))
        return 0
    n_runs = sum(len(c.run_keys()) for c in plan_cells(fields, options))
    print(f"sweep: {len(fields)} field(s), arms {', '.join(options.signs)}, {len(options.variants)} variants "
          f"x {len(options.tasks)} tasks x {options.seeds} seeds = {n_runs} runs, {options.epochs} epochs, "
          f"backend {args.backend} -> {out_dir}", flush=True)
    predicted = None
    if args.calibration:  # say what the cost model expects, and check it afterwards
        from benchmarks._cost_model import predict_sweep_from_records

        workers = args.workers or 1
        predicted = predict_sweep_from_records(plan_cells(fields, options), options,
                                               [Path(p) for p in args.calibration], workers=workers,
                                               out_dir=out_dir)["remaining"]["predicted_wall_s"]
        print(f"cost model: predicted {predicted:.1f} s on {workers} worker(s)", flush=True)
    try:
        summary = run_sweep(fields, options, out_dir, backend=args.backend, address=args.address,
                            cpus_per_cell=args.cpus_per_cell, gpus_per_cell=args.gpus_per_cell,
                            max_retries=args.max_retries, fail_fast=args.fail_fast,
                            progress=not args.no_progress)
    except KeyboardInterrupt:
        print(f"\ninterrupted: finished runs are saved in {out_dir}; rerun the same command to resume",
              file=sys.stderr)
        return 130
    except ValueError as exc:  # e.g. an --out folder holding another configuration
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"sweep: {summary.cells_run} cells run, {summary.runs_written} runs written, "
          f"{summary.runs_skipped} already present, {len(summary.failed)} failed, "
          f"{summary.wall_s:.1f} s -> {out_dir}")
    for key, err in summary.failed:
        print(f"FAILED {key}:\n{err}", file=sys.stderr)
    if predicted is not None and summary.cells_run:
        from benchmarks._cost_model import check_prediction

        check = check_prediction(predicted, summary.wall_s)
        print(f"cost model check: predicted {check['predicted_s']:.1f} s, measured {check['measured_s']:.1f} s, "
              f"ratio {check['ratio']:.2f} ({'within' if check['within'] else 'NOT within'} 2x)")
        write_once(out_dir / "cost_check" / f"{time.time_ns()}.json", check)
    if not args.no_report and not load_runs(out_dir):
        print("no finished runs: no report", file=sys.stderr)
    elif not args.no_report:
        if args.field_reports or args.protocol == "paper":
            for path in write_field_reports(out_dir, args.published):
                print(f"field report: {path}")
        from benchmarks._cross_field import write_cross_field_report

        print(f"report: {write_cross_field_report(out_dir, data_dir=options.extra.get('data_dir'))}")
    return 1 if summary.failed else 0


def _ray_cpus(address: str | None) -> int:
    import ray

    if not ray.is_initialized():
        ray.init(address=address, include_dashboard=False, log_to_driver=False)
    return int(ray.cluster_resources().get("CPU", 1))


if __name__ == "__main__":
    raise SystemExit(main())
