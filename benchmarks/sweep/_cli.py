"""``python -m connectome_priors sweep``: the ablation across fields, locally or on Ray, resumable.

The unit of work is a *cell*: one field, one sign arm, one task and a group of variants, with
all its seeds trained together in one compiled program. A sweep is the list of cells of
``fields x signs x tasks x variant groups``; every run inside a cell has an idempotent key
``(field, sign, task, variant, seed)`` and is stored in one file at a path made from that key,
written once (temporary file + ``os.replace``, skipped when present). Resuming therefore needs
no journal: a cell is pending while any of its runs is missing, and a partly written cell is
shrunk to the seeds still missing. Killed at any point and restarted, a sweep ends with every
run present exactly once, whichever backend ran it::

    python -m connectome_priors sweep --fields 5_3_8,5_3_4 --quick --out results/sweep
    python -m connectome_priors sweep --fields all --backend ray --address auto --out results/all
    python -m connectome_priors sweep --fields all --out results/all --predict-only --workers 64 \
        --calibration results/sweep                  # cost model: predicted wall time, no training

The paper's full protocol on 6_6_2 (11 variants x 3 tasks x 20 seeds x 10 epochs, both sign
arms, each arm's ablation report with statistics beside the published numbers) is one command;
on a GPU, Ray can share the device between several cells, since compilation is CPU-bound::

    python -m connectome_priors sweep --protocol paper --out results/paper --published
    ../shared/paper/reported_results.csv
    python -m connectome_priors sweep --protocol paper --out results/paper --backend ray --gpus-per-cell 0.25
    python -m connectome_priors sweep --protocol paper --out results/paper-cpu --seeds 2 --epochs 1 \
        --tasks 3 --variants 'W*D*C,WD*C,W' --n-train 256 --n-val 128 --n-test 128   # CPU smoke run

Layout of ``--out``::

    <out>/<sign>/<field>/...           per-run results (the ablation's own layout: an ablation
                                       output folder per field and arm)
    <out>/cells/<cell>.json            one record per executed cell: wall seconds, sizes, host
    <out>/sweeps/<start>.json          one record per sweep invocation: wall seconds, backend
    <out>/report.md, cross_field*.csv/png   the cross-field report (connectome_priors.benchmarks.sweep._cross_field)

The sweep by idea: planning the cells (:mod:`connectome_priors.benchmarks.sweep._plan`), executing them on a backend
(:mod:`connectome_priors.benchmarks.sweep._backends`, driven by :mod:`connectome_priors.benchmarks.sweep._run`), the
cost model
(:mod:`connectome_priors.benchmarks.sweep._cost_model`) and the cross-field analysis
(:mod:`connectome_priors.benchmarks.sweep._cross_field`); this module is the
command line. The cell function is :func:`connectome_priors.benchmarks._ablation.run_cell` and the run store
:data:`connectome_priors.benchmarks._run_store.RUN_STORE` (so every ``<out>/<sign>/<field>`` folder is an ablation
folder its ``report``
command reads); a test injects a cheap cell function through ``run_sweep(cell_fn=...)``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from connectome_priors._protocol import PAPER, SHORT
from connectome_priors.benchmarks._cli import MODEL_HELP, run_interruptible
from connectome_priors.benchmarks._run_store import load_sweep_runs, write_once
from connectome_priors.benchmarks._schema import QUICK, SIGNS, parse_tasks

from ._backends import BACKENDS
from ._cost_model import (
    FEATURES,
    check_prediction,
    fit_cost_model,
    load_cell_records,
    load_sweep_records,
    predict_sweep,
)
from ._plan import (
    SweepOptions,
    field_sizes,
    finished_runs,
    known_variants,
    pending_cells,
    plan_cells,
    resolve_fields,
    sweep_work,
)
from ._run import run_sweep


def add_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Options of ``python -m connectome_priors sweep`` (the ablation's options plus sweep ones)."""
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
    a("--protocol", default=None, choices=("paper", "short"),
      help="'paper': the paper's full protocol on 6_6_2 -- 11 variants x 3 tasks x 20 seeds x 10 "
           "epochs, both sign arms, with the ablation's metrics, statistics and report per arm; "
           "'short': 2 epochs, 512 validation and 1024 test trials per run (the cross-field arm's; before "
           "Go/NoGo saturates); every size can still be overridden (e.g. --seeds 2 --epochs 1 on a CPU)")
    a("--model", default=None, help=MODEL_HELP)
    a("--no-progress", action="store_true")
    return parser


def options_from_args(args: argparse.Namespace) -> tuple[tuple[str, ...], SweepOptions]:
    """Fields and options from parsed CLI arguments (``--protocol paper`` sets its defaults)."""
    paper = args.protocol == "paper"
    q = QUICK
    fields = resolve_fields(args.fields or ("6_6_2" if paper else "5_3_8,5_3_4,4_7_2,5_6_8,6_6_2"))
    seeds = args.seeds if args.seeds is not None else (q["seeds"] if args.quick else 20)
    short = args.protocol == "short"
    epochs = args.epochs if args.epochs is not None else (q["epochs"] if args.quick else
                                                          SHORT.epochs if short else PAPER.epochs)
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
    extra = {k: getattr(args, k) for k in ("n_train", "n_val", "n_test", "data_dir", "model")
             if getattr(args, k) is not None}
    if short and not args.quick:
        extra = {"n_val": SHORT.n_val, "n_test": SHORT.n_test, **extra}
    return fields, SweepOptions(
        seeds=seeds, epochs=epochs, tasks=parse_tasks(args.tasks), signs=signs, variants=variants,
        functional=args.functional, reference_compat=args.reference_compat, controls=args.controls,
        quick=args.quick, group=args.group or ("all" if paper else "variant"), extra=extra,
    )


def write_field_reports(out_dir: Path, published: str | None = None) -> list[Path]:
    """The ablation's report (netCDF, CSVs, figures, statistics) in every per-field folder."""
    from connectome_priors.benchmarks.report._write import (
        write_report,  # lazily: matplotlib and xarray only when reporting
    )

    written = []
    for sign in SIGNS:
        for fdir in sorted(p for p in (Path(out_dir) / sign).glob("*") if (p / "runs").is_dir()):
            written.append(Path(write_report(fdir, published=published)))
    return written


def predict_sweep_from_records(cells, options, calibration_dirs: Sequence[Path], *, workers: int,
                               out_dir: Path | None = None) -> dict[str, Any]:
    """Fit on the calibration folders' records and predict the full sweep ``cells`` (CLI helper).

    ``remaining``: the cells still to run when ``out_dir`` already holds finished runs.
    """
    records = load_cell_records(calibration_dirs)
    model = fit_cost_model(records, load_sweep_records(calibration_dirs))
    sizes = field_sizes({c.field for c in cells})
    out = {"model": dataclasses.asdict(model), "features": FEATURES,
           "work_per_run": sweep_work(options),
           "full": predict_sweep(model, cells, sweep_work(options), sizes, workers)}
    todo = cells
    if out_dir is not None and Path(out_dir).is_dir():
        todo = pending_cells(cells, finished_runs(out_dir, sorted({c.field for c in cells}), options.signs))
    out["remaining"] = predict_sweep(model, todo, sweep_work(options), sizes, workers)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m connectome_priors sweep``; returns the exit status."""
    parser = add_arguments(argparse.ArgumentParser(prog="python -m connectome_priors sweep",
                                                   description=__doc__.split("\n\n")[0]))
    args = parser.parse_args(argv)
    try:
        fields, options = options_from_args(args)
    except ValueError as exc:
        parser.error(str(exc))
    out_dir = Path(args.out)
    if args.predict_only:
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
        workers = args.workers or 1
        predicted = predict_sweep_from_records(plan_cells(fields, options), options,
                                               [Path(p) for p in args.calibration], workers=workers,
                                               out_dir=out_dir)["remaining"]["predicted_wall_s"]
        print(f"cost model: predicted {predicted:.1f} s on {workers} worker(s)", flush=True)
    status, summary = run_interruptible(lambda: run_sweep(
        fields, options, out_dir, backend=args.backend, address=args.address, cpus_per_cell=args.cpus_per_cell,
        gpus_per_cell=args.gpus_per_cell, max_retries=args.max_retries, fail_fast=args.fail_fast,
        progress=not args.no_progress), out_dir)
    if status is not None:
        return status
    print(f"sweep: {summary.cells_run} cells run, {summary.runs_written} runs written, "
          f"{summary.runs_skipped} already present, {len(summary.failed)} failed, "
          f"{summary.wall_s:.1f} s -> {out_dir}")
    for key, err in summary.failed:
        print(f"FAILED {key}:\n{err}", file=sys.stderr)
    if predicted is not None and summary.cells_run:
        check = check_prediction(predicted, summary.wall_s)
        print(f"cost model check: predicted {check['predicted_s']:.1f} s, measured {check['measured_s']:.1f} s, "
              f"ratio {check['ratio']:.2f} ({'within' if check['within'] else 'NOT within'} 2x)")
        write_once(out_dir / "cost_check" / f"{time.time_ns()}.json", check)
    if not args.no_report and not load_sweep_runs(out_dir):
        print("no finished runs: no report", file=sys.stderr)
    elif not args.no_report:
        if args.field_reports or args.protocol == "paper":
            for path in write_field_reports(out_dir, args.published):
                print(f"field report: {path}")
        from ._cross_field import write_cross_field_report  # lazily, as the field reports

        print(f"report: {write_cross_field_report(out_dir, data_dir=options.extra.get('data_dir'))}")
    return 1 if summary.failed else 0


def _ray_cpus(address: str | None) -> int:
    import ray

    if not ray.is_initialized():
        ray.init(address=address, include_dashboard=False, log_to_driver=False)
    return int(ray.cluster_resources().get("CPU", 1))


if __name__ == "__main__":
    raise SystemExit(main())
