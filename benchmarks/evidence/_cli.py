"""``python -m connectome_priors evidence``: committed, regenerable evidence of the reproduction (issue 11).

Subcommands::

    python -m connectome_priors evidence export STORE --arm compat-free [--results docs/results] [--published DIR]
    python -m connectome_priors evidence rebuild [docs/results] [--doc docs/reproduction.md]
    python -m connectome_priors evidence check [docs/results] [--doc docs/reproduction.md]
    python -m connectome_priors evidence import docs/results/compat-free STORE

* ``export``: the finished runs of a run store -> ``<results>/<arm>/records.jsonl`` + ``config.json``
  (:mod:`connectome_priors.benchmarks.evidence._records`); with ``--published`` (or when ``<results>/published/`` is missing and the
  paper's folder is found: ``$CONNECTOME_PRIORS_PAPER`` or ``../shared/paper``) it also copies the paper's
  published numbers that the comparison uses into ``<results>/published/``.
* ``rebuild``: from the records (and ``published/``, and the template ``reproduction_template.md``) ONLY, every
  arm's ``summary.csv``, ``runs.csv``, ``comparison.csv``, ``paired.csv``, figures and ``report.md``
  (:mod:`connectome_priors.benchmarks.evidence._arm`) and ``docs/reproduction.md`` (:mod:`connectome_priors.benchmarks.evidence._doc`). Deterministic:
  no timestamps, paths or versions in the output; the same records give the same bytes.
* ``check``: rebuild into a temporary copy and compare with the committed files byte for byte (figures too when
  the installed matplotlib is the one that drew them; otherwise they are reported as not comparable).
* ``import``: records -> a run store (JSONs, no weights) that ``python -m connectome_priors ablation --out STORE`` resumes.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from connectome_priors._atomic import write_bytes, write_text

from . import _arm as arm_mod
from . import _doc as doc_mod
from ._figures import png_matplotlib_version
from ._records import ARMS, CONFIG, RECORDS, RecordsError, export_store, get_arm, import_records

DEFAULT_RESULTS = Path("docs") / "results"
PUBLISHED = "published"
PUBLISHED_FILES = {  # committed name -> path inside the paper's folder
    "reported_results.csv": "reported_results.csv",
    "README.md": "README.md",
    "simple_effects_KW_omnibus.csv": "raw/simple_effects_KW_omnibus.csv",
    "simple_effects_MWU_pairs_holm.csv": "raw/simple_effects_MWU_pairs_holm.csv",
    "head5_rows_WstarDstarC_by_task_arm.csv": "raw/head5_rows_WstarDstarC_by_task_arm.csv",
}


def _doc_path(results: Path, doc: str | os.PathLike | None) -> Path:
    return Path(doc) if doc is not None else Path(results).parent / "reproduction.md"


def copy_published(paper_dir: Path, results: Path) -> list[Path]:
    """Copy the paper's published numbers used by the comparison into ``<results>/published/`` (bytes as is)."""
    out = []
    for name, rel in PUBLISHED_FILES.items():
        src = Path(paper_dir) / rel
        if not src.is_file():
            raise RecordsError(f"{src}: missing (expected the paper's folder with reported_results.csv and raw/)")
        dst = Path(results) / PUBLISHED / name
        write_bytes(dst, src.read_bytes(), mkdir=True)
        out.append(dst)
    return out


def _paper_dir(explicit: str | None) -> Path | None:
    if explicit:
        return Path(explicit)
    env = os.environ.get("CONNECTOME_PRIORS_PAPER")
    for cand in ([Path(env)] if env else []) + [Path("..") / "shared" / "paper"]:
        folder = cand.parent if cand.is_file() else cand
        if (folder / "reported_results.csv").is_file():
            return folder
    return None


def arm_folders(results: Path) -> list[Path]:
    """The arm folders of ``results`` in the order of :data:`ARMS`; an unknown folder is an error."""
    results = Path(results)
    if not results.is_dir():
        raise RecordsError(f"{results}: no such folder of committed results")
    names = sorted(p.name for p in results.iterdir() if p.is_dir() and p.name != PUBLISHED)
    unknown = [n for n in names if n not in ARMS]
    if unknown:
        raise RecordsError(f"{results}: unknown arm folder(s) {unknown}; arms are {list(ARMS)}")
    return [results / n for n in ARMS if n in names]


def rebuild(results: str | os.PathLike = DEFAULT_RESULTS, doc: str | os.PathLike | None = None, *,
            figures: bool = True) -> list[Path]:
    """Regenerate every derived file from the records (``figures=False``: all but the PNGs); returns the paths."""
    results = Path(results)
    published = results / PUBLISHED
    arms, written = {}, []
    for folder in arm_folders(results):
        if not ((folder / RECORDS).exists() or (folder / CONFIG).exists()):
            continue
        ev = arm_mod.compute(folder, published)
        written += arm_mod.write_files(ev, folder, published, draw=figures)
        arms[ev.arm.name] = ev
    text = doc_mod.render(results / doc_mod.TEMPLATE, arms, published)
    path = _doc_path(results, doc)
    write_text(path, text)
    return written + [path]


def check(results: str | os.PathLike = DEFAULT_RESULTS, doc: str | os.PathLike | None = None) -> dict[str, list[str]]:
    """Rebuild a copy of the inputs and compare every derived file with the committed one.

    Returns ``{"identical": [...], "differ": [...], "missing": [...], "figures_not_comparable": [...]}`` (paths
    relative to ``results``' parent); figures drawn by another matplotlib version are not compared.
    """
    results = Path(results)
    doc_path = _doc_path(results, doc)
    with tempfile.TemporaryDirectory(prefix="evidence-check-") as tmp:
        copy = Path(tmp) / "results"
        copy.mkdir()
        shutil.copy2(results / doc_mod.TEMPLATE, copy / doc_mod.TEMPLATE)
        if (results / PUBLISHED).is_dir():
            shutil.copytree(results / PUBLISHED, copy / PUBLISHED)
        for folder in arm_folders(results):
            (copy / folder.name).mkdir()
            for name in (RECORDS, CONFIG):
                if (folder / name).exists():
                    shutil.copy2(folder / name, copy / folder.name / name)
        paths = rebuild(copy, Path(tmp) / "reproduction.md")
        out: dict[str, list[str]] = {"identical": [], "differ": [], "missing": [], "figures_not_comparable": []}
        import matplotlib

        for new in paths:
            if new == Path(tmp) / "reproduction.md":
                old, label = doc_path, doc_path.name
            else:
                rel = new.relative_to(copy)
                old, label = results / rel, str(Path(results.name) / rel)
            if not old.exists():
                out["missing"].append(label)
            elif new.suffix == ".png" and png_matplotlib_version(old) != matplotlib.__version__:
                out["figures_not_comparable"].append(label)
            else:
                out["identical" if old.read_bytes() == new.read_bytes() else "differ"].append(label)
    return out


# ------------------------------------------------------------------------------------------ CLI


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m connectome_priors evidence",
                                description="Committed evidence of the reproduction: export run stores as compact "
                                            "records, rebuild every table, figure and docs/reproduction.md from "
                                            "them, check byte identity, import records back as a run store.")
    sub = p.add_subparsers(dest="command", required=True)
    e = sub.add_parser("export", help="a run store's finished runs -> <results>/<arm>/records.jsonl")
    e.add_argument("store", help="run store (ablation --out folder)")
    e.add_argument("--arm", required=True, choices=list(ARMS), help="which arm the store is")
    e.add_argument("--results", default=str(DEFAULT_RESULTS), help="committed results folder (default docs/results)")
    e.add_argument("--published", default=None, help="the paper's folder (reported_results.csv, raw/) to copy the "
                                                     "published numbers from (default: only if missing)")
    r = sub.add_parser("rebuild", help="regenerate every derived file from the records")
    r.add_argument("results", nargs="?", default=str(DEFAULT_RESULTS))
    r.add_argument("--doc", default=None, help="where to write reproduction.md (default <results>/../reproduction.md)")
    c = sub.add_parser("check", help="rebuild a copy and compare byte for byte with the committed files")
    c.add_argument("results", nargs="?", default=str(DEFAULT_RESULTS))
    c.add_argument("--doc", default=None)
    i = sub.add_parser("import", help="records -> a run store (resumable by 'ablation --out STORE')")
    i.add_argument("arm_folder", help="e.g. docs/results/compat-free")
    i.add_argument("store", help="run store folder to create or extend")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    try:
        if args.command == "export":
            results = Path(args.results)
            paper = _paper_dir(args.published)
            if args.published or (paper is not None and not (results / PUBLISHED / "reported_results.csv").exists()):
                if paper is None:
                    raise RecordsError("the paper's folder was not found; pass --published DIR")
                copy_published(paper, results)
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
        elif args.command == "import":
            n = import_records(args.arm_folder, args.store)
            name = Path(args.arm_folder).name
            hint = (ARMS[name].command().replace(f"--out runs/{name}", f"--out {args.store}") if name in ARMS
                    else f"the arm's ablation command with --out {args.store}")
            print(f"{n} runs written to {args.store}; resume with: {hint}")
    except RecordsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0
