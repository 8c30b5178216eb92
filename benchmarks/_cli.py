"""The benchmark commands' argument parsers and their ``main`` functions (``python -m connectome_priors <command>``).

Each command is a ``*_main(argv) -> int`` (the exit status); ``connectome_priors.benchmarks.__main__`` maps command
names to them.
Heavy modules (JAX, the models, matplotlib) are imported inside the command that needs them.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from connectome_priors._protocol import PAPER, PROTOCOLS, SHORT

from ._schema import PAPER_SEEDS, QUICK, AblationConfig
from ._variants import parse_variants

T = TypeVar("T")


def run_interruptible(run: Callable[[], T], out: Any) -> tuple[int | None, T | None]:
    """``(None, run())``, or the exit status of a run stopped by Ctrl-C (130) or refused with a
    ``ValueError`` (2, e.g. an ``--out`` folder holding another configuration), said on stderr."""
    try:
        return None, run()
    except KeyboardInterrupt:
        print(f"\ninterrupted: finished runs are saved in {out}; rerun the same command to resume",
              file=sys.stderr)
        return 130, None
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2, None


MODEL_HELP = ("a module factory 'package.module:factory' (seed -> brainstate/brainpy module; it is "
                  "given n_inputs, n_outputs, n_hidden = the field's neuron count, w_rec_init = the "
                  "variant's initializer and sign, as far as its signature accepts them; see "
                  "models.train) to benchmark your own circuit; default: the fast built-in RNN")


def ablation_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m connectome_priors ablation",
        description="Train the paper's eleven variants on the three tasks for several seeds, compute "
                    "accuracy and graph metrics, and write a report beside the published numbers. "
                    "Rerunning the same command resumes.")
    a = p.add_argument
    a("--field", default="6_6_2", help="MICrONS field id (default 6_6_2, the paper's)")
    a("--seeds", type=int, default=None,
      help=f"seeds 0..k-1 per variant (default {PAPER_SEEDS}; --quick {QUICK['seeds']})")
    a("--epochs", type=int, default=None, help=f"epochs per run (default {PAPER.epochs}; --quick {QUICK['epochs']})")
    a("--tasks", default="1,2,3", help="tasks in the paper's numbering: 1 One-Choice Inference, "
                                       "2 Perceptual Decision-Making, 3 Go/NoGo (default 1,2,3)")
    a("--variants", default=None, help="comma-separated subset of variant names (default: all)")
    a("--sign", choices=("free", "nonneg"), default="free", help="recurrent weights unconstrained "
                                                                  "(Table 2) or nonnegative (Table 3)")
    a("--functional", choices=("corr", "precision", "sttc"), default="corr",
      help="functional init measure: corr*sttc (paper), precision*sttc, sttc")
    a("--reference-compat", action="store_true",
      help="reproduce the published code's choices, bugs included (see docs/reference_protocol.md)")
    a("--controls", action="store_true",
      help="add diagnostics: diagonal-only init, functional init without diagonal, surrogate field")
    a("--quick", action="store_true",
      help=f"a small but real run: {QUICK['seeds']} seeds, {QUICK['epochs']} epochs, "
           f"{QUICK['n_train']} training trials (overridable)")
    a("--protocol", choices=tuple(PROTOCOLS), default="paper",
      help=f"the training protocol's defaults: 'paper' ({PAPER.epochs} epochs, {PAPER.n_val} validation and "
           f"{PAPER.n_test} test trials) or 'short' ({SHORT.epochs} epochs, {SHORT.n_val} and {SHORT.n_test}: "
           "before Go/NoGo saturates, so learn rate and learning speed separate the variants); each size can "
           "still be overridden")
    a("--n-train", type=int, default=None, help=f"training trials per run (default {PAPER.n_train})")
    a("--n-val", type=int, default=None, help=f"validation trials (default {PAPER.n_val})")
    a("--n-test", type=int, default=None, help=f"held-out test trials (default {PAPER.n_test})")
    a("--lam", type=float, default=None, help=f"strength λ of the wiring / communicability / L1 penalty "
                                              f"(default {PAPER.lam})")
    a("--lam-emd", type=float, default=None, help=f"strength λ_EMD of the EMD-to-empirical-communicability "
                                                  f"penalty of the C* variants (default {PAPER.lam_emd}; 0 switches "
                                                  "it off)")
    a("--seeds-per-call", type=int, default=None,
      help="train at most this many seeds per compiled call (default: all seeds of a cell at once; "
           "smaller loses less on Ctrl-C)")
    a("--model", default=None, help=MODEL_HELP)
    a("--no-weights", action="store_true", help="do not store trained W_rec matrices")
    a("--out", default=None, help="output folder (default results/ablation-<field>-<sign>[-compat][-quick])")
    a("--data-dir", default=None, help="folder of MICrONS field folders (default: $CONNECTOME_PRIORS_DATA "
                                       "or the verified download cache)")
    a("--published", default=None, help="the paper's reported_results.csv (default: "
                                        "$CONNECTOME_PRIORS_PAPER or ../shared/paper if present)")
    a("--no-report", action="store_true", help="only train; write the report later with 'report'")
    a("--no-progress", action="store_true", help="no progress bar")
    return p


def config_from_args(args: argparse.Namespace):
    """An :class:`~connectome_priors.benchmarks._schema.AblationConfig` from parsed ``ablation`` arguments."""
    def pick(value, name, default):
        if value is not None:
            return value
        return QUICK[name] if args.quick and name in QUICK else default

    base = PROTOCOLS[getattr(args, "protocol", None) or "paper"]
    n_seeds = pick(args.seeds, "seeds", PAPER_SEEDS)
    if n_seeds < 1:
        raise ValueError("--seeds must be >= 1")
    variants = [v.name for v in parse_variants(args.variants, controls=args.controls)]
    return AblationConfig(
        field=args.field, seeds=tuple(range(n_seeds)), epochs=pick(args.epochs, "epochs", base.epochs),
        tasks=args.tasks, variants=tuple(variants), sign=args.sign, functional=args.functional,
        reference_compat=args.reference_compat,
        n_train=pick(args.n_train, "n_train", base.n_train), n_val=pick(args.n_val, "n_val", base.n_val),
        n_test=pick(args.n_test, "n_test", base.n_test), data_dir=args.data_dir,
        lam=base.lam if getattr(args, "lam", None) is None else args.lam,
        lam_emd=base.lam_emd if getattr(args, "lam_emd", None) is None else args.lam_emd,
        seeds_per_call=args.seeds_per_call, save_weights=not args.no_weights, quick=args.quick,
        model=args.model)


def default_out(config) -> str:
    parts = ["ablation", config.field, config.sign]
    if config.functional != "corr":
        parts.append(config.functional)
    if config.reference_compat:
        parts.append("compat")
    if config.quick:
        parts.append("quick")
    if config.model:
        parts.append(config.model.rpartition(":")[2].replace(".", "_"))
    return os.path.join("results", "-".join(parts))


def ablation_main(argv: Sequence[str]) -> int:
    parser = ablation_parser()
    args = parser.parse_args(argv)
    try:
        config = config_from_args(args)
    except ValueError as exc:
        parser.error(str(exc))
    from ._ablation import run_ablation  # lazily: JAX and the models only for this command

    out = args.out or default_out(config)
    n_runs = len(config.variants) * len(config.tasks) * len(config.seeds)
    print(f"ablation: field {config.field}, sign {config.sign}, functional {config.functional}, "
          f"reference_compat={config.reference_compat}, {len(config.variants)} variants x "
          f"{len(config.tasks)} tasks x {len(config.seeds)} seeds = {n_runs} runs, "
          f"{config.epochs} epochs -> {out}", flush=True)
    status, _ = run_interruptible(lambda: run_ablation(
        config, out, progress=not args.no_progress, report=not args.no_report, published=args.published), out)
    if status is not None:
        return status
    if not args.no_report:
        print(f"report: {os.path.join(out, 'report.md')}")
    return 0


def report_main(argv: Sequence[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m connectome_priors report",
                                description="Rewrite the report of an ablation folder from its stored runs.")
    p.add_argument("out", help="ablation output folder")
    p.add_argument("--published", default=None, help="the paper's reported_results.csv")
    args = p.parse_args(argv)
    from connectome_priors._atomic import FolderBusyError
    from connectome_priors.benchmarks.report._write import write_report

    try:
        print(write_report(args.out, published=args.published))
    except (FolderBusyError, FileNotFoundError) as exc:
        print(f"report: {exc}", file=sys.stderr)
        return 2
    return 0


def compare_main(argv: Sequence[str]) -> int:
    p = argparse.ArgumentParser(prog="python -m connectome_priors compare",
                                description="Tabulate a metric of several ablation folders side by side.")
    p.add_argument("folders", nargs="+", help="ablation output folders")
    p.add_argument("--out", default="results/comparison.md", help="markdown file to write")
    p.add_argument("--metric", default="Accuracy", help="metric name (default Accuracy)")
    p.add_argument("--published", default=None, help="the paper's reported_results.csv")
    args = p.parse_args(argv)
    from connectome_priors.benchmarks.report._write import compare_reports

    print(compare_reports(args.folders, args.out, metric=args.metric, published=args.published))
    return 0


def enable_compilation_cache() -> None:
    """Persist XLA compilations next to the data cache: a resumed or repeated run skips compiling.

    Set ``CONNECTOME_PRIORS_JAX_CACHE=0`` to disable, or to a directory to move it.
    """
    setting = os.environ.get("CONNECTOME_PRIORS_JAX_CACHE", "")
    if setting == "0":
        return
    import jax

    from connectome_priors.fields import cache_dir

    path = setting or str(cache_dir() / "jax-compilation")
    jax.config.update("jax_compilation_cache_dir", path)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 2.0)
