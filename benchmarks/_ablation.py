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

Layout of ``--out``: the run store (``config.json``, ``runs/<task>/<variant-slug>/seed_0000.{json,npz}``;
:mod:`connectome_priors.benchmarks._run_store`) and the report (``ablation.nc``, ``csv/``, ``figures/``, ``report.md``;
:mod:`connectome_priors.benchmarks.report._write`). The configuration and its hash are
:mod:`connectome_priors.benchmarks._schema`.

Example (a tiny real run; see ``python -m connectome_priors ablation --help``)::

    >>> cfg = AblationConfig(field="5_3_8", seeds=(0,), epochs=1, tasks=("Task3",),
    ...                      variants=("W*D*C",), n_train=256, n_val=128, n_test=128)
    >>> run_ablation(cfg, "results/tiny")                    # doctest: +SKIP
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from connectome_priors.fields import load_field
from connectome_priors.graph import graph_metrics
from connectome_priors.priors import MICrONSInit, distance_matrix, empirical_communicability, surrogate_field
from connectome_priors.regularizers import communicability_cost, communicability_emd, l1, wiring_cost

from ._controls import IdentityInit, OtherSeedDiagonalInit, SpectrumMatchedInit
from ._run_store import RUN_STORE, check_stored_runs, claim_out_dir
from ._schema import GRAPH_METRICS, QUICK, TASK_NAMES, AblationConfig, run_key
from ._variants import Variant, get_variant

# --------------------------------------------------------------------------------------------
# priors of a variant


class FieldPriors:
    """The field and its priors, each computed once per process and shared by all variants."""

    def __init__(self, config: AblationConfig):

        self.config = config
        self.field = load_field(config.field, data_dir=config.data_dir)
        self.n = int(self.field.sizes["neuron"])
        self._cache: dict[str, Any] = {}

    def distance(self, kind: str) -> np.ndarray:
        key = f"D:{kind}"
        if key not in self._cache:

            d = distance_matrix(self.field, kind=kind, reference_compat=self.config.reference_compat)
            self._cache[key] = np.asarray(getattr(d, "values", d), np.float32)
        return self._cache[key]

    def c_emp(self) -> np.ndarray:
        if "C_emp" not in self._cache:

            c = empirical_communicability(self.field, reference_compat=self.config.reference_compat)
            self._cache["C_emp"] = np.asarray(getattr(c, "values", c), np.float32)
        return self._cache["C_emp"]


def build_prior(variant: Variant | str, priors: FieldPriors) -> tuple[Any, list[Callable]]:
    """``(w_rec_init, regularizers)`` of ``variant`` for :func:`models.train`.

    Penalties (λ = ``config.lam``, λ_EMD = ``config.lam_emd``): ``C`` -> communicability cost
    ``λ Σ|W|⊙D⊙C(W)``; ``C*`` -> wiring cost ``λ Σ|W|⊙D`` + ``λ_EMD · EMD(C(W), C_emp)``;
    none -> wiring cost, or ``λ Σ|W|`` without ``D`` (no λ in reference-compat mode, as published);
    ``-lam0`` -> no penalty. Control inits: :mod:`connectome_priors.benchmarks._controls`.
    """
    import jax.numpy as jnp

    v = get_variant(variant) if isinstance(variant, str) else variant
    cfg = priors.config
    rc = cfg.reference_compat
    regs: list[Callable] = []
    if v.penalty == "zero":  # the λ = 0 controls: the task loss alone
        return _initializer(v, priors), regs
    if v.distance is not None:
        D = jnp.asarray(priors.distance(v.distance))
        if v.penalty == "comm":
            regs.append(functools.partial(communicability_cost, D=D, lam=cfg.lam, reference_compat=rc))
        else:
            regs.append(functools.partial(wiring_cost, D=D, lam=cfg.lam))
            if v.penalty == "emd":
                c_emp = jnp.asarray(priors.c_emp())
                regs.append(functools.partial(communicability_emd, C_emp=c_emp, lam_emd=cfg.lam_emd,
                                              reference_compat=rc))
    else:
        regs.append(functools.partial(l1, lam=cfg.lam, reference_compat=rc))
    return _initializer(v, priors), regs


def _initializer(v: Variant, priors: FieldPriors) -> Any:
    """``None`` (orthogonal, Keras' default) or an object/callable giving W_rec per seed."""

    cfg = priors.config
    if v.init == "orthogonal":
        return None
    common = dict(measure=cfg.measure, reference_compat=cfg.reference_compat)
    if v.init == "functional":
        return MICrONSInit(priors.field, diagonal="keep", **common)
    if v.init == "permuted":
        return MICrONSInit(priors.field, diagonal="keep", permute="nodes", **common)
    if v.init == "diagonal_only":
        return MICrONSInit(priors.field, diagonal="only", **common)
    if v.init == "functional_nodiag":
        return MICrONSInit(priors.field, diagonal="zero", **common)
    if v.init == "surrogate":
        return _SurrogateInit(priors.field, priors.n, common)
    control = {"diagonal_other_seed": OtherSeedDiagonalInit, "identity": IdentityInit,
               "spectrum_matched": SpectrumMatchedInit}.get(v.init)
    if control is not None:
        return control(MICrONSInit(priors.field, diagonal="keep", **common), priors.n)
    raise ValueError(f"variant {v.name!r}: unknown init {v.init!r}")


class _SurrogateInit:
    """Seed -> W_bio of a fresh distance-matched surrogate of the field (a callable for models)."""

    def __init__(self, field, n: int, common: Mapping[str, Any]):
        self.field, self.n, self.common = field, n, dict(common)

    def __call__(self, seed: int) -> np.ndarray:

        surrogate = surrogate_field(self.n, seed=int(seed), like=self.field)
        init = MICrONSInit(surrogate, diagonal="keep", **self.common)
        return np.asarray(init.with_seed(int(seed))((self.n, self.n)))

    def __repr__(self) -> str:
        return f"SurrogateInit(like={self.field.attrs.get('field', '?')}, {self.common})"


# --------------------------------------------------------------------------------------------
# one cell


def _graph_metrics(w: np.ndarray, reference_compat: bool) -> dict[str, float]:

    # The random nulls depend only on N and the edge count: one fixed null seed lets every run
    # share them (cached), instead of drawing 1000 null graphs again per run seed.
    # W keeps its training dtype (float32): the published metrics thresholded the float32 matrix.
    out = graph_metrics(np.asarray(w), reference_compat=reference_compat, seed=0)
    return {k: float(out[k]) for k in GRAPH_METRICS}


#: decimals kept of a learning-curve value in a run file (accuracy of 128-trial batches moves in steps of 1/640
#: per 5-step block: 4 decimals keep it exactly enough and the committed records small)
CURVE_DECIMALS = 4


def initial_graph_metrics(config: AblationConfig) -> list[tuple[str, int, str, float]]:
    """Graph metrics of each variant's starting recurrent matrix, per seed, drawn exactly as training draws it.

    The variant's initializer through :func:`models.draw_w_rec` with the run seed (and the corrected nonnegative
    start, :func:`models.stable_nonneg`, where training uses it); the metrics of :func:`_graph_metrics`. The start
    does not depend on the task.

    Args:
        config: the ablation (its field, sign, mode, functional measure, variants and seeds).

    Returns:
        ``(variant, seed, metric, value)`` rows, variants in the config's order, then seeds, then metrics.
    """
    from connectome_priors import models

    priors = FieldPriors(config)
    nonneg_start = config.sign == "nonneg" and not config.reference_compat and config.model is None
    rows = []
    for variant in config.variants:
        init, _ = build_prior(variant, priors)
        for seed in config.seeds:
            w = np.asarray(models.draw_w_rec(init, priors.n, int(seed)), np.float32)
            if nonneg_start:
                w = np.asarray(models.stable_nonneg(w), np.float32)  # the corrected nonnegative start
            for metric, value in _graph_metrics(w, config.reference_compat).items():
                rows.append((variant, int(seed), metric, float(value)))
    return rows


def learning_curve(res: Any, i: int) -> dict[str, list]:
    """Seed ``i``'s learning curve of a :class:`models.TrainResult`, compact and JSON-ready.

    Args:
        res: the training result.
        i: seed index.

    Returns:
        ``{"step": [...], "train_acc": [...], "train_loss": [...], "val_acc": [...]}``: the global optimizer step at
        the end of each block of ``curve_every`` steps with the block's mean training accuracy and loss (rounded to
        :data:`CURVE_DECIMALS`; ``None`` after a seed stopped), and the validation accuracy after each epoch.
    """
    def compact(values) -> list:
        return [None if not np.isfinite(v) else round(float(v), CURVE_DECIMALS) for v in np.asarray(values, float)]

    return {"step": [int(s) for s in res.curves["step"]], "train_acc": compact(res.curves["train_acc"][i]),
            "train_loss": compact(res.curves["train_loss"][i]), "val_acc": compact(res.metrics["val_acc"][i])}


def _last(a: np.ndarray) -> float:
    return float(a[-1]) if len(a) else float("nan")


def _model(config: AblationConfig, n: int) -> Any:
    """The fast built-in RNN's spec, or the user's module factory (``config.model``, an import path)."""
    from connectome_priors import models

    if config.model is None:
        # corrected mode starts a nonneg network from a stable nonnegative matrix; compat keeps Keras' start
        return models.RNNSpec(n_hidden=n, sign=config.sign, nonneg_rescale=not config.reference_compat)
    factory = models.resolve_model(config.model)
    from connectome_priors.models._states import factory_accepts

    accepted = factory_accepts(factory)
    if config.sign != "free" and accepted is not None and "sign" not in accepted:
        raise ValueError(f"--sign {config.sign}: model {config.model} takes no 'sign' keyword, so it cannot "
                         f"be constrained; add a sign parameter to the factory or use --sign free")
    return factory


def _model_options(config: AblationConfig, n: int) -> dict[str, Any]:
    """Keywords of ``models.train``'s module path: the factory gets the field size and the sign."""
    if config.model is None:
        return {}
    return {"factory_kwargs": {"n_hidden": n, "sign": config.sign}}


def train_cell(config: AblationConfig, variant: str, task: str, seeds: Sequence[int],
               priors: FieldPriors | None = None) -> list[dict[str, Any]]:
    """Train ``seeds`` of one (variant, task) cell in one call and return one result per seed.

    Each result has ``variant, task, seed, status, metrics`` (:data:`RUN_METRICS`), the
    per-epoch ``history``, timings, ``run_key``/``config_hash`` and ``w_rec`` (N, N).
    """
    from connectome_priors import models

    priors = priors or FieldPriors(config)
    v = get_variant(variant)
    w_init, regs = build_prior(v, priors)
    t0 = time.perf_counter()
    res = models.train(_model(config, priors.n), task, seeds=list(seeds), epochs=config.epochs,
                       batch_size=config.batch_size, n_train=config.n_train, n_val=config.n_val,
                       n_test=config.n_test, lr=config.lr, regularizers=regs, w_rec_init=w_init,
                       **_model_options(config, priors.n))
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
            "curve": learning_curve(res, i),
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
        from connectome_priors.benchmarks.report._write import write_report

        write_report(out_dir, published=published)
    return out_dir


# --------------------------------------------------------------------------------------------
# the sweep's cell function (connectome_priors.benchmarks.sweep._run)


def config_from_sweep(cell: Any, options: Any) -> AblationConfig:
    """An :class:`AblationConfig` for one sweep cell (``options.extra`` overrides sizes)."""
    extra = dict(getattr(options, "extra", {}) or {})
    sizes = {k: extra[k] for k in ("n_train", "n_val", "n_test", "batch_size", "lr", "lam", "lam_emd",
                                   "data_dir", "seeds_per_call", "model") if k in extra}
    if getattr(options, "quick", False):
        sizes = {**{k: QUICK[k] for k in ("n_train", "n_val", "n_test")}, **sizes}
    return AblationConfig(field=cell.field, seeds=tuple(cell.seeds), epochs=options.epochs,
                          tasks=(cell.task,), variants=tuple(cell.variants), sign=cell.sign,
                          functional=options.functional, reference_compat=options.reference_compat,
                          quick=bool(getattr(options, "quick", False)), **sizes)


def run_cell(cell: Any, out_dir: Path, options: Any) -> list[dict[str, Any]]:
    """The sweep's cell function (``connectome_priors.benchmarks.sweep._run``): train every variant of ``cell``, return
    the runs.

    The sweep driver writes the returned runs (through :data:`RUN_STORE`) as the cell finishes.
    """
    config = config_from_sweep(cell, options)
    claim_out_dir(Path(out_dir), config)
    priors = FieldPriors(config)
    results = []
    for variant in config.variants:
        results.extend(train_cell(config, variant, cell.task, list(cell.seeds), priors))
    return results
