"""Running the ablation: every (variant, task) cell trains all its seeds in one compiled program.

For each cell the recurrent initializer and the penalty of the variant are built from the field
(:func:`build_prior`), :func:`models.train` trains the missing seeds together (vmapped), and each
seed's outcome -- final-epoch training accuracy (the paper's "Accuracy"), validation and held-out
test accuracy, task loss and penalty, and the graph metrics of the trained ``W_rec`` -- is written
as soon as the cell finishes, one file per run, atomically (temporary file + ``os.replace``).

Resuming needs no journal: a run is finished when its file exists. ``--out`` holds one
configuration (:meth:`AblationConfig.config_hash`: field, arm, functional measure, compat mode,
epochs, data sizes, optimizer and penalty strengths; *not* the seeds, tasks or variants, so a rerun
with more seeds or ``--controls`` extends the same folder); a rerun with a different configuration
in the same folder is refused instead of silently mixing results. Ctrl-C loses at most the cell in
flight (``--seeds-per-call`` bounds it to that many runs).

Layout of ``--out``::

    config.json                              the configuration (written once)
    runs/<task>/<variant-slug>/seed_0000.json  one run: metrics, per-epoch history, status
    runs/<task>/<variant-slug>/seed_0000.npz   its trained W_rec (float32, [pre, post])
    ablation.nc, csv/, figures/, report.md   the report (benchmarks._report)

Example (a tiny real run; see ``python -m benchmarks ablation --help``)::

    >>> cfg = AblationConfig(field="5_3_8", seeds=(0,), epochs=1, tasks=("Task3",),
    ...                      variants=("W*D*C",), n_train=256, n_val=128, n_test=128)
    >>> run_ablation(cfg, "results/tiny")                    # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ._variants import FUNCTIONAL_MEASURES, LAM, LAM_EMD, Variant, get_variant, variant_names

PROTOCOL_VERSION = 1  # bump when a change makes stored runs incomparable
TASKS = ("Task1", "Task2", "Task3")
TASK_NAMES = {"Task1": "OneChoiceInference", "Task2": "PerceptualDecisionMaking", "Task3": "GoNoGo"}
SIGNS = ("free", "nonneg")
GRAPH_METRICS = ("Entropy", "Modularity", "SmallWorldness", "Assortativity")
# Per-run scalar outcomes, named as in the published ``<metric>_raw.csv`` files (plus our extras).
# "Loss"/"Validation_Loss" include the penalty, as Keras' history did; the *_Task_Loss split it.
RUN_METRICS = (
    "Accuracy", "Loss", "Task_Loss", "Penalty",
    "Validation_Accuracy", "Validation_Loss", "Validation_Task_Loss",
    "Test_Accuracy", "Test_Loss",
) + GRAPH_METRICS
QUICK = {"seeds": 2, "epochs": 2, "n_train": 1280, "n_val": 512, "n_test": 512}


def variant_slug(variant: str) -> str:
    """File-system-safe variant name (``W*D*C`` -> ``WstarDstarC``, ``W!`` -> ``Wperm``)."""
    return variant.replace("*", "star").replace("!", "perm")


def parse_tasks(text: str | Sequence[str]) -> tuple[str, ...]:
    """``"1,3"`` / ``"Task1,Task3"`` / ``["Task2"]`` -> ``("Task1", "Task3")`` (paper numbering)."""
    parts = [p.strip() for p in (text.split(",") if isinstance(text, str) else text) if str(p).strip()]
    out = []
    for p in parts:
        name = p if str(p).startswith("Task") else f"Task{p}"
        if name not in TASKS:
            raise ValueError(f"--tasks: unknown task {p!r}; expected a subset of 1,2,3 "
                             "(paper numbering: 1 One-Choice Inference, 2 PDM, 3 Go/NoGo)")
        out.append(name)
    if not out:
        raise ValueError("--tasks: no task given")
    return tuple(dict.fromkeys(out))


@dataclasses.dataclass(frozen=True)
class AblationConfig:
    """Everything that defines an ablation run (JSON-serializable).

    The defaults are the paper's protocol: field 6_6_2, 20 seeds, 10 epochs of 5120 trials in
    batches of 128, Adam 1e-3, λ = 0.3, λ_EMD = 0.1, corr⊙STTC functional init.
    """

    field: str = "6_6_2"
    seeds: tuple[int, ...] = tuple(range(20))
    epochs: int = 10
    tasks: tuple[str, ...] = TASKS
    variants: tuple[str, ...] = tuple(variant_names())
    sign: str = "free"
    functional: str = "corr"
    reference_compat: bool = False
    n_train: int = 5120
    n_val: int = 2560
    n_test: int = 2560
    batch_size: int = 128
    lr: float = 1e-3
    lam: float = LAM
    lam_emd: float = LAM_EMD
    data_dir: str | None = None
    seeds_per_call: int | None = None
    save_weights: bool = True
    quick: bool = False

    def __post_init__(self) -> None:
        if self.sign not in SIGNS:
            raise ValueError(f"sign={self.sign!r} is not one of {SIGNS}")
        if self.functional not in FUNCTIONAL_MEASURES:
            raise ValueError(f"functional={self.functional!r} is not one of {tuple(FUNCTIONAL_MEASURES)}")
        object.__setattr__(self, "seeds", tuple(int(s) for s in self.seeds))
        object.__setattr__(self, "tasks", parse_tasks(self.tasks))
        object.__setattr__(self, "variants", tuple(get_variant(v).name for v in self.variants))
        if not self.seeds or len(set(self.seeds)) != len(self.seeds):
            raise ValueError(f"seeds must be distinct and non-empty, got {self.seeds}")
        for name in ("epochs", "n_train", "n_val", "n_test", "batch_size"):
            value = getattr(self, name)
            if int(value) != value or int(value) < 1:
                raise ValueError(f"{name} must be a positive integer, got {value}")
            object.__setattr__(self, name, int(value))  # 5120.0 / np.int64 hash like 5120
        for name in ("lr", "lam", "lam_emd"):
            object.__setattr__(self, name, float(getattr(self, name)))
        object.__setattr__(self, "reference_compat", bool(self.reference_compat))
        if self.n_train < self.batch_size:
            raise ValueError(f"n_train={self.n_train} is smaller than batch_size={self.batch_size}")
        if self.seeds_per_call is not None and self.seeds_per_call < 1:
            raise ValueError(f"seeds_per_call must be >= 1, got {self.seeds_per_call}")

    # the fields that make two runs comparable (seeds, tasks, variants only select runs)
    _HASHED = ("field", "sign", "functional", "reference_compat", "epochs", "n_train", "n_val",
               "n_test", "batch_size", "lr", "lam", "lam_emd")

    def identity(self) -> dict[str, Any]:
        d = {k: getattr(self, k) for k in self._HASHED}
        d["protocol_version"] = PROTOCOL_VERSION
        return d

    def config_hash(self) -> str:
        """Short sha256 of :meth:`identity` (what a stored run must match to be reused)."""
        text = json.dumps(self.identity(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def to_json(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["seeds"] = list(self.seeds)
        d["tasks"] = list(self.tasks)
        d["variants"] = list(self.variants)
        d["config_hash"] = self.config_hash()
        return d

    @property
    def measure(self) -> str:
        return FUNCTIONAL_MEASURES[self.functional]


def run_key(config: AblationConfig, variant: str, task: str, seed: int) -> str:
    """Hash naming one run: the configuration hash plus (variant, task, seed)."""
    text = f"{config.config_hash()}|{variant}|{task}|{int(seed)}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# --------------------------------------------------------------------------------------------
# storage


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"not JSON serializable: {type(obj).__name__}")


def _sanitize(obj: Any) -> Any:
    """Plain JSON types, with NaN/inf -> None so the file stays standard JSON (read back as NaN)."""
    if isinstance(obj, Mapping):
        return {str(k): _sanitize(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_sanitize(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _sanitize(obj.tolist())
    if isinstance(obj, (float, np.floating)):
        return float(obj) if np.isfinite(obj) else None
    if isinstance(obj, np.integer):
        return int(obj)
    return obj


class RunStore:
    """One JSON file (+ one ``.npz`` with ``W_rec``) per run under ``<out>/runs/``.

    A run is finished when its JSON exists; the JSON is written last, atomically, so a killed
    process leaves either a complete run or none. Shared with ``benchmarks._sweep``.
    """

    @staticmethod
    def path(out_dir: Path, task: str, variant: str, seed: int) -> Path:
        return Path(out_dir) / "runs" / task / variant_slug(variant) / f"seed_{int(seed):04d}.json"

    def finished(self, out_dir: Path) -> set[tuple[str, str, int]]:
        """``(task, variant, seed)`` of every stored run."""
        return {(r["task"], r["variant"], int(r["seed"])) for r in self.load(out_dir)}

    def write(self, out_dir: Path, result: Mapping[str, Any]) -> bool:
        """Store one run unless it is already there; True if written."""
        result = dict(result)
        path = self.path(out_dir, result["task"], result["variant"], result["seed"])
        if path.exists():
            return False
        w_rec = result.pop("w_rec", None)
        if w_rec is not None:
            buf = _npz_bytes(w_rec=np.asarray(w_rec, np.float32))
            _atomic_write_bytes(path.with_suffix(".npz"), buf)
            result["w_rec_file"] = path.with_suffix(".npz").name
        text = json.dumps(_sanitize(result), indent=1, default=_json_default, allow_nan=False)
        _atomic_write_bytes(path, text.encode())
        return True

    def load(self, out_dir: Path) -> list[dict[str, Any]]:
        runs = []
        for p in sorted(Path(out_dir).glob("runs/*/*/seed_*.json")):
            try:
                runs.append(json.loads(p.read_text()))
            except (OSError, json.JSONDecodeError) as exc:  # never produced by write(); say so
                raise RuntimeError(f"run file {p} is unreadable ({exc}); delete it to rerun that run") from exc
        return runs

    @staticmethod
    def load_w_rec(out_dir: Path, run: Mapping[str, Any]) -> np.ndarray | None:
        path = RunStore.path(out_dir, run["task"], run["variant"], run["seed"]).with_suffix(".npz")
        if not path.exists():
            return None
        with np.load(path) as z:
            return z["w_rec"]


def _npz_bytes(**arrays) -> bytes:
    import io

    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    return buf.getvalue()


RUN_STORE = RunStore()


def claim_out_dir(out_dir: Path, config: AblationConfig) -> None:
    """Write ``config.json`` once; refuse a folder that holds another configuration's runs."""
    out_dir = Path(out_dir)
    path = out_dir / "config.json"
    if path.exists():
        old = json.loads(path.read_text())
        if old.get("config_hash") != config.config_hash():
            mine = config.identity()
            theirs = old.get("identity", {})
            diff = {k: (theirs.get(k), mine[k]) for k in mine if theirs.get(k) != mine[k]}
            raise ValueError(
                f"{out_dir} holds runs of another configuration (differences, stored -> requested: "
                f"{diff}); pick another --out, or delete the folder to start over")
        return
    payload = {**config.to_json(), "identity": config.identity(), "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    _atomic_write_bytes(path, json.dumps(payload, indent=1, default=_json_default).encode())


# --------------------------------------------------------------------------------------------
# priors of a variant


class FieldPriors:
    """The field and its priors, each computed once per process and shared by all variants."""

    def __init__(self, config: AblationConfig):
        import connectome_priors as cp

        self.config = config
        self.field = cp.load_field(config.field, data_dir=config.data_dir)
        self.n = int(self.field.sizes["neuron"])
        self._cache: dict[str, Any] = {}

    def distance(self, kind: str) -> np.ndarray:
        key = f"D:{kind}"
        if key not in self._cache:
            import connectome_priors as cp

            d = cp.distance_matrix(self.field, kind=kind, reference_compat=self.config.reference_compat)
            self._cache[key] = np.asarray(getattr(d, "values", d), np.float32)
        return self._cache[key]

    def c_emp(self) -> np.ndarray:
        if "C_emp" not in self._cache:
            import connectome_priors as cp

            c = cp.empirical_communicability(self.field, reference_compat=self.config.reference_compat)
            self._cache["C_emp"] = np.asarray(getattr(c, "values", c), np.float32)
        return self._cache["C_emp"]


def build_prior(variant: Variant | str, priors: FieldPriors) -> tuple[Any, list[Callable]]:
    """``(w_rec_init, regularizers)`` of ``variant`` for :func:`models.train`.

    Penalties (λ = ``config.lam``, λ_EMD = ``config.lam_emd``): ``C`` -> communicability cost
    ``λ Σ|W|⊙D⊙C(W)``; ``C*`` -> wiring cost ``λ Σ|W|⊙D`` + ``λ_EMD · EMD(C(W), C_emp)``;
    none -> wiring cost, or ``λ Σ|W|`` without ``D`` (no λ in reference-compat mode, as published).
    """
    import jax.numpy as jnp

    import connectome_priors as cp

    v = get_variant(variant) if isinstance(variant, str) else variant
    cfg = priors.config
    rc = cfg.reference_compat
    regs: list[Callable] = []
    if v.distance is not None:
        D = jnp.asarray(priors.distance(v.distance))
        if v.penalty == "comm":
            regs.append(functools.partial(cp.communicability_cost, D=D, lam=cfg.lam, reference_compat=rc))
        else:
            regs.append(functools.partial(cp.wiring_cost, D=D, lam=cfg.lam))
            if v.penalty == "emd":
                c_emp = jnp.asarray(priors.c_emp())
                regs.append(functools.partial(cp.communicability_emd, C_emp=c_emp, lam_emd=cfg.lam_emd,
                                              reference_compat=rc))
    else:
        regs.append(functools.partial(cp.l1, lam=cfg.lam, reference_compat=rc))
    return _initializer(v, priors), regs


def _initializer(v: Variant, priors: FieldPriors) -> Any:
    """``None`` (orthogonal, Keras' default) or an object/callable giving W_rec per seed."""
    import connectome_priors as cp

    cfg = priors.config
    if v.init == "orthogonal":
        return None
    common = dict(measure=cfg.measure, reference_compat=cfg.reference_compat)
    if v.init == "functional":
        return cp.MICrONSInit(priors.field, diagonal="keep", **common)
    if v.init == "permuted":
        return cp.MICrONSInit(priors.field, diagonal="keep", permute="nodes", **common)
    if v.init == "diagonal_only":
        return cp.MICrONSInit(priors.field, diagonal="only", **common)
    if v.init == "functional_nodiag":
        return cp.MICrONSInit(priors.field, diagonal="zero", **common)
    if v.init == "surrogate":
        return _SurrogateInit(priors.field, priors.n, common)
    raise ValueError(f"variant {v.name!r}: unknown init {v.init!r}")


class _SurrogateInit:
    """Seed -> W_bio of a fresh distance-matched surrogate of the field (a callable for models)."""

    def __init__(self, field, n: int, common: Mapping[str, Any]):
        self.field, self.n, self.common = field, n, dict(common)

    def __call__(self, seed: int) -> np.ndarray:
        import connectome_priors as cp

        surrogate = cp.surrogate_field(self.n, seed=int(seed), like=self.field)
        init = cp.MICrONSInit(surrogate, diagonal="keep", **self.common)
        return np.asarray(init.with_seed(int(seed))((self.n, self.n)))

    def __repr__(self) -> str:
        return f"SurrogateInit(like={self.field.attrs.get('field', '?')}, {self.common})"


# --------------------------------------------------------------------------------------------
# one cell


def _graph_metrics(w: np.ndarray, reference_compat: bool) -> dict[str, float]:
    from connectome_priors import graph_metrics

    # The random nulls depend only on N and the edge count: one fixed null seed lets every run
    # share them (cached), instead of drawing 1000 null graphs again per run seed.
    # W keeps its training dtype (float32): the published metrics thresholded the float32 matrix.
    out = graph_metrics(np.asarray(w), reference_compat=reference_compat, seed=0)
    return {k: float(out[k]) for k in GRAPH_METRICS}


def _last(a: np.ndarray) -> float:
    return float(a[-1]) if len(a) else float("nan")


def train_cell(config: AblationConfig, variant: str, task: str, seeds: Sequence[int],
               priors: FieldPriors | None = None) -> list[dict[str, Any]]:
    """Train ``seeds`` of one (variant, task) cell in one call and return one result per seed.

    Each result has ``variant, task, seed, status, metrics`` (:data:`RUN_METRICS`), the
    per-epoch ``history``, timings, ``run_key``/``config_hash`` and ``w_rec`` (N, N).
    """
    import models

    priors = priors or FieldPriors(config)
    v = get_variant(variant)
    w_init, regs = build_prior(v, priors)
    spec = models.RNNSpec(n_hidden=priors.n, sign=config.sign)
    t0 = time.perf_counter()
    res = models.train(spec, task, seeds=list(seeds), epochs=config.epochs, batch_size=config.batch_size,
                       n_train=config.n_train, n_val=config.n_val, n_test=config.n_test, lr=config.lr,
                       regularizers=regs, w_rec_init=w_init)
    train_s = time.perf_counter() - t0
    w_all = np.asarray(res.w_rec, np.float32)
    m = res.metrics
    results = []
    for i, seed in enumerate(seeds):
        t1 = time.perf_counter()
        status = res.status[i]
        w = w_all[i]
        extra = {}
        if status == "ok" and np.all(np.isfinite(w)):
            graph = _graph_metrics(w, config.reference_compat)
        else:  # the published pipeline reports no graph metrics for a diverged network
            graph = {k: float("nan") for k in GRAPH_METRICS}
            # Keras' accuracy of a network whose outputs are NaN: argmax picks class 0, so it scores
            # the share of class-0 labels (how the paper's collapsed variants got their values)
            labels = models.load_trials(task, config.n_train, res.config["data_seeds"]["train"][i])[1]
            extra["nan_network_accuracy"] = float(np.mean(labels == 0))
        metrics = {
            "Accuracy": _last(m["train_acc"][i]),
            "Loss": _last(m["train_loss"][i]) + _last(m["train_penalty"][i]),
            "Task_Loss": _last(m["train_loss"][i]),
            "Penalty": _last(m["train_penalty"][i]),
            "Validation_Accuracy": _last(m["val_acc"][i]),
            "Validation_Loss": _last(m["val_loss"][i]) + _last(m["penalty"][i]),
            "Validation_Task_Loss": _last(m["val_loss"][i]),
            "Test_Accuracy": _last(m["test_acc"][i]),
            "Test_Loss": _last(m["test_loss"][i]),
            **graph,
        }
        results.append({
            "variant": v.name, "task": task, "task_name": TASK_NAMES[task], "seed": int(seed),
            "field": config.field, "sign": config.sign, "functional": config.functional,
            "reference_compat": bool(config.reference_compat),
            "config_hash": config.config_hash(), "run_key": run_key(config, v.name, task, seed),
            "status": status, "metrics": metrics, **extra,
            "history": {k: np.asarray(m[k][i], float).tolist() for k in m},
            "factors": v.factors,
            "regularizers": res.config.get("regularizers"), "w_rec_init": res.config.get("w_rec_init"),
            "data_seeds": {k: vals[i] for k, vals in res.config.get("data_seeds", {}).items()},
            "cell_seeds": [int(s) for s in seeds], "cell_train_s": train_s,
            "metrics_s": time.perf_counter() - t1,
            "w_rec": w if config.save_weights else None,
        })
    return results


# --------------------------------------------------------------------------------------------
# the whole ablation


def planned_runs(config: AblationConfig) -> list[tuple[str, str, int]]:
    """Every (variant, task, seed) of the configuration, in canonical order."""
    return [(v, t, s) for t in config.tasks for v in config.variants for s in config.seeds]


def pending_cells(config: AblationConfig, finished: set[tuple[str, str, int]]) -> list[tuple[str, str, list[int]]]:
    """(variant, task, missing seeds) per cell, split into ``seeds_per_call`` chunks."""
    cells = []
    chunk = config.seeds_per_call or len(config.seeds)
    for task in config.tasks:
        for variant in config.variants:
            missing = [s for s in config.seeds if (task, variant, s) not in finished]
            for i in range(0, len(missing), chunk):
                cells.append((variant, task, missing[i:i + chunk]))
    return cells


def check_stored_runs(out_dir: Path, config: AblationConfig, runs: Iterable[Mapping[str, Any]]) -> None:
    """Refuse stored runs made under another configuration (defence in depth for config.json)."""
    want = config.config_hash()
    bad = [r for r in runs if r.get("config_hash") != want]
    if bad:
        r = bad[0]
        raise ValueError(f"{out_dir}: {len(bad)} stored run(s) have config_hash {r.get('config_hash')} != "
                         f"{want} (e.g. {r['task']}/{r['variant']}/seed {r['seed']}); use another --out")


def run_ablation(
    config: AblationConfig,
    out_dir: str | os.PathLike,
    *,
    progress: bool = True,
    on_run_done: Callable[[dict[str, Any]], None] | None = None,
    report: bool = True,
    published: str | os.PathLike | None = None,
) -> Path:
    """Run (or resume) the ablation into ``out_dir`` and write the report; returns ``out_dir``.

    Finished runs are skipped. ``on_run_done(result)`` is called after each run is on disk
    (tests use it to interrupt). ``published``: path of the paper's ``reported_results.csv``
    (default: ``$CONNECTOME_PRIORS_PAPER`` or ``../shared/paper`` if present).
    """
    from tqdm.auto import tqdm

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    claim_out_dir(out_dir, config)
    stored = RUN_STORE.load(out_dir)
    check_stored_runs(out_dir, config, stored)
    finished = {(r["task"], r["variant"], int(r["seed"])) for r in stored}
    todo = pending_cells(config, finished)
    n_todo = sum(len(seeds) for _, _, seeds in todo)
    n_total = len(planned_runs(config))
    bar = tqdm(total=n_total, initial=n_total - n_todo, unit="run", desc="ablation",
               disable=not progress, dynamic_ncols=True)
    priors = FieldPriors(config) if todo else None
    try:
        for variant, task, seeds in todo:
            bar.set_postfix_str(f"{task} {variant} seeds {seeds[0]}..{seeds[-1]}")
            for result in train_cell(config, variant, task, seeds, priors):
                RUN_STORE.write(out_dir, result)
                bar.update(1)
                if on_run_done is not None:
                    on_run_done(result)
    finally:
        bar.close()
    if report:
        from benchmarks._report import write_report

        write_report(out_dir, published=published)
    return out_dir


# --------------------------------------------------------------------------------------------
# the sweep's cell function (benchmarks._sweep)


def config_from_sweep(cell: Any, options: Any) -> AblationConfig:
    """An :class:`AblationConfig` for one sweep cell (``options.extra`` overrides sizes)."""
    extra = dict(getattr(options, "extra", {}) or {})
    sizes = {k: extra[k] for k in ("n_train", "n_val", "n_test", "batch_size", "lr", "lam", "lam_emd",
                                   "data_dir", "seeds_per_call") if k in extra}
    if getattr(options, "quick", False):
        sizes = {**{k: QUICK[k] for k in ("n_train", "n_val", "n_test")}, **sizes}
    return AblationConfig(field=cell.field, seeds=tuple(cell.seeds), epochs=options.epochs,
                          tasks=(cell.task,), variants=tuple(cell.variants), sign=cell.sign,
                          functional=options.functional, reference_compat=options.reference_compat,
                          quick=bool(getattr(options, "quick", False)), **sizes)


def run_cell(cell: Any, out_dir: Path, options: Any) -> list[dict[str, Any]]:
    """``benchmarks._sweep`` cell function: train every variant of ``cell`` and return the runs.

    The sweep driver writes the returned runs (through :data:`RUN_STORE`) as the cell finishes.
    """
    config = config_from_sweep(cell, options)
    claim_out_dir(Path(out_dir), config)
    priors = FieldPriors(config)
    results = []
    for variant in config.variants:
        results.extend(train_cell(config, variant, cell.task, list(cell.seeds), priors))
    return results
