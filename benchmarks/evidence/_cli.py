"""``python -m connectome_priors evidence``: committed, regenerable evidence of the reproduction (issue 11).

Subcommands::

    python -m connectome_priors evidence export STORE --arm compat-free [--results docs/results] [--published DIR]
    python -m connectome_priors evidence export runs/cross-field --arm cross-field [--data-dir DIR]
    python -m connectome_priors evidence rebuild [docs/results] [--doc docs/reproduction.md]
    python -m connectome_priors evidence check [docs/results] [--doc docs/reproduction.md]
    python -m connectome_priors evidence import docs/results/compat-free STORE
    python -m connectome_priors evidence import docs/results/cross-field runs/cross-field
    python -m connectome_priors evidence initial --arm compat-free [--results docs/results]

* ``export``: the finished runs of a run store -> ``<results>/<arm>/records.jsonl`` + ``config.json``
  (:mod:`._records`); with ``--published`` (or when ``<results>/published/`` is missing and the paper's folder is
  found: ``$CONNECTOME_PRIORS_PAPER`` or ``../shared/paper``) it also copies the paper's published numbers that the
  comparison uses into ``<results>/published/``.
  ``--arm cross-field`` exports a sweep folder over many fields instead (:mod:`._cross_field`: records, the
  shared protocol, the fields' covariates and neuron overlaps) into ``<results>/cross-field/``.
* ``rebuild``: from the records (and ``published/``, and the template ``reproduction_template.md``) ONLY, every
  arm's ``summary.csv``, ``runs.csv``, ``comparison.csv``, ``paired.csv``, figures and ``report.md``
  (:mod:`._arm`) and ``docs/reproduction.md`` (:mod:`._doc`). Deterministic: no timestamps, paths or versions in
  the output; the same records give the same bytes.
* ``check``: rebuild into a temporary copy and compare with the committed files byte for byte (figures too when
  the installed matplotlib is the one that drew them; otherwise they are reported as not comparable).
* ``import``: records -> a run store (JSONs, no weights) that ``python -m connectome_priors ablation --out STORE``
  resumes; for ``cross-field``, a sweep folder that the arm's ``sweep`` command resumes.
* ``initial``: the graph metrics of the arm's starting matrices -> ``<results>/<arm>/initial.csv`` (:mod:`._initial`;
  needs JAX and the field; an input of ``rebuild``, like the records).

This module is the command line only; ``rebuild`` and ``check`` are :mod:`._build`.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from ._build import DEFAULT_RESULTS, PUBLISHED, check, copy_published, rebuild
from ._cross_field import CROSS_FIELD, export_sweep, import_sweep, read_cross_field, resume_command
from ._records import ARMS, RecordsError, export_store, get_arm, import_records

__all__ = ["check", "main", "rebuild"]


def _paper_dir(explicit: str | None) -> Path | None:
    if explicit:
        return Path(explicit)
    env = os.environ.get("CONNECTOME_PRIORS_PAPER")
    for cand in ([Path(env)] if env else []) + [Path("..") / "shared" / "paper"]:
        folder = cand.parent if cand.is_file() else cand
        if (folder / "reported_results.csv").is_file():
            return folder
    return None


# ------------------------------------------------------------------------------------------ CLI


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m connectome_priors evidence",
                                description="Committed evidence of the reproduction: export run stores as compact "
                                            "records, rebuild every table, figure and docs/reproduction.md from "
                                            "them, check byte identity, import records back as a run store.")
    sub = p.add_subparsers(dest="command", required=True)
    e = sub.add_parser("export", help="a run store's finished runs -> <results>/<arm>/records.jsonl")
    e.add_argument("store", help="run store (ablation --out folder)")
    e.add_argument("--arm", required=True, choices=[*ARMS, CROSS_FIELD],
                   help=f"which arm the store is ({CROSS_FIELD}: a sweep folder over many fields)")
    e.add_argument("--data-dir", default=None, help=f"{CROSS_FIELD}: folder of published fields, for the "
                                                    "covariates (default $CONNECTOME_PRIORS_DATA or the cache)")
    e.add_argument("--results", default=str(DEFAULT_RESULTS), help="committed results folder (default docs/results)")
    e.add_argument("--published", default=None, help="the paper's folder (reported_results.csv, raw/) to copy the "
                                                     "published numbers from (default: only if missing)")
    r = sub.add_parser("rebuild", help="regenerate every derived file from the records")
    r.add_argument("results", nargs="?", default=str(DEFAULT_RESULTS))
    r.add_argument("--doc", default=None, help="where to write reproduction.md (default <results>/../reproduction.md)")
    c = sub.add_parser("check", help="rebuild a copy and compare byte for byte with the committed files")
    c.add_argument("results", nargs="?", default=str(DEFAULT_RESULTS))
    c.add_argument("--doc", default=None)
    i = sub.add_parser("import", help="records -> a run store (resumable by the arm's ablation or sweep command)")
    i.add_argument("arm_folder", help="e.g. docs/results/compat-free")
    i.add_argument("store", help="run store folder to create or extend")
    n = sub.add_parser("initial", help="graph metrics of the arm's starting matrices -> <results>/<arm>/initial.csv")
    n.add_argument("--arm", required=True, action="append", choices=list(ARMS), help="the arm (repeatable)")
    n.add_argument("--results", default=str(DEFAULT_RESULTS))
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m connectome_priors evidence``.

    Args:
        argv: the arguments after ``evidence`` (default ``sys.argv[1:]``).

    Returns:
        The exit status: 0 done, 1 ``check`` found a difference, 2 unusable records or arguments.
    """
    args = _parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    try:
        if args.command == "export":
            results = Path(args.results)
            paper = _paper_dir(args.published)
            if args.published or (paper is not None and not (results / PUBLISHED / "reported_results.csv").exists()):
                if paper is None:
                    raise RecordsError("the paper's folder was not found; pass --published DIR")
                copy_published(paper, results)
            if args.arm == CROSS_FIELD:
                path, n = export_sweep(args.store, results, args.data_dir)
            else:
                path, n = export_store(args.store, get_arm(args.arm), results)
            print(f"{n} runs -> {path}")
        elif args.command == "rebuild":
            for path in rebuild(args.results, args.doc):
                print(path)
        elif args.command == "check":
            out = check(args.results, args.doc)
            for key, paths in out.items():
                for path in paths:
                    print(f"{key}: {path}")
            print(f"{len(out['identical'])} identical, {len(out['differ'])} differ, {len(out['missing'])} missing, "
                  f"{len(out['figures_not_comparable'])} figures not comparable (other matplotlib)")
            return 1 if out["differ"] or out["missing"] else 0
        elif args.command == "import" and Path(args.arm_folder).name == CROSS_FIELD:
            n = import_sweep(args.arm_folder, args.store)
            _, config, _, _ = read_cross_field(args.arm_folder)
            print(f"{n} runs written to {args.store}; resume with: {resume_command(config, args.store)}")
        elif args.command == "import":
            n = import_records(args.arm_folder, args.store)
            name = Path(args.arm_folder).name
            hint = (ARMS[name].command().replace(f"--out runs/{name}", f"--out {args.store}") if name in ARMS
                    else f"the arm's ablation command with --out {args.store}")
            print(f"{n} runs written to {args.store}; resume with: {hint}")
        elif args.command == "initial":
            import pandas as pd

            from connectome_priors.benchmarks._ablation import initial_graph_metrics
            from connectome_priors.benchmarks._schema import AblationConfig

            from ._initial import INITIAL_COLUMNS, write_initial
            from ._records import ARM_FIELD

            for name in args.arm:
                arm = get_arm(name)
                config = AblationConfig(field=ARM_FIELD, sign=arm.sign, functional=arm.functional,
                                        reference_compat=arm.reference_compat, seeds=tuple(range(arm.seeds)),
                                        variants=tuple(arm.variants()))
                frame = pd.DataFrame(initial_graph_metrics(config), columns=list(INITIAL_COLUMNS))
                print(write_initial(arm, Path(args.results), frame))
    except RecordsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0
