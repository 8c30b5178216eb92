"""The evidence's rebuild and byte-for-byte check: committed records -> every derived file of ``docs/results`` and
``docs/reproduction.md`` (:mod:`._arm`, :mod:`._doc`), and the copy of the paper's published numbers they use.

The command line is :mod:`._cli`.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from connectome_priors._atomic import write_bytes, write_text

from . import _arm as arm_mod
from . import _claims as claims_mod
from . import _cross_field as cross_mod
from . import _doc as doc_mod
from ._figures import png_matplotlib_version
from ._initial import INITIAL
from ._records import ARMS, CONFIG, RECORDS, RecordsError

DEFAULT_RESULTS = Path("docs") / "results"
PUBLISHED = "published"
CLAIMS_FIGURE = "claims.png"  # the summary figure of docs/reproduction.md's claims table
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
    """Copy the paper's published numbers used by the comparison into ``<results>/published/`` (bytes as is).

    Args:
        paper_dir: the paper's folder (``reported_results.csv``, ``raw/``).
        results: the committed results folder.

    Returns:
        The files written.

    Raises:
        RecordsError: a file the comparison uses is missing from ``paper_dir``.
    """
    out = []
    for name, rel in PUBLISHED_FILES.items():
        src = Path(paper_dir) / rel
        if not src.is_file():
            raise RecordsError(f"{src}: missing (expected the paper's folder with reported_results.csv and raw/)")
        dst = Path(results) / PUBLISHED / name
        write_bytes(dst, src.read_bytes(), mkdir=True)
        out.append(dst)
    return out


def arm_folders(results: Path) -> list[Path]:
    """The arm folders of ``results`` in the order of :data:`ARMS`.

    Args:
        results: the committed results folder.

    Returns:
        The folders.

    Raises:
        RecordsError: ``results`` is not a folder, or holds a folder that is no arm.
    """
    results = Path(results)
    if not results.is_dir():
        raise RecordsError(f"{results}: no such folder of committed results")
    names = sorted(p.name for p in results.iterdir() if p.is_dir() and p.name not in (PUBLISHED, cross_mod.CROSS_FIELD))
    unknown = [n for n in names if n not in ARMS]
    if unknown:
        raise RecordsError(f"{results}: unknown arm folder(s) {unknown}; arms are {list(ARMS)}")
    return [results / n for n in ARMS if n in names]


def rebuild(results: str | os.PathLike = DEFAULT_RESULTS, doc: str | os.PathLike | None = None, *,
            figures: bool = True) -> list[Path]:
    """Regenerate every derived file from the records (and, when ``<results>/cross-field`` has records, the
    cross-field arm's files and ``cross_field.md`` beside ``reproduction.md``).

    Args:
        results: the committed results folder.
        doc: where to write ``reproduction.md`` (default ``<results>/../reproduction.md``).
        figures: draw the PNGs too.

    Returns:
        The files written, ``reproduction.md`` last.

    Raises:
        RecordsError: unreadable records or template, or an unknown arm folder.
    """
    results = Path(results)
    published = results / PUBLISHED
    arms, written = {}, []
    for folder in arm_folders(results):
        if not ((folder / RECORDS).exists() or (folder / CONFIG).exists()):
            continue
        ev = arm_mod.compute(folder, published)
        written += arm_mod.write_files(ev, folder, published, draw=figures)
        arms[ev.arm.name] = ev
    if figures:
        written.append(claims_mod.plot_claims(arms, results / CLAIMS_FIGURE))
    path = _doc_path(results, doc)
    if (results / cross_mod.CROSS_FIELD / cross_mod.RECORDS).exists():
        written += cross_mod.rebuild_cross_field(results / cross_mod.CROSS_FIELD, path.parent / cross_mod.DOC,
                                                 figures=figures)
    text = doc_mod.render(results / doc_mod.TEMPLATE, arms, published)
    write_text(path, text)
    return written + [path]


def check(results: str | os.PathLike = DEFAULT_RESULTS, doc: str | os.PathLike | None = None) -> dict[str, list[str]]:
    """Rebuild a copy of the inputs and compare every derived file with the committed one.

    Figures drawn by another matplotlib version are not compared.

    Args:
        results: the committed results folder.
        doc: the committed ``reproduction.md`` (default ``<results>/../reproduction.md``).

    Returns:
        ``{"identical": [...], "differ": [...], "missing": [...], "figures_not_comparable": [...]}`` (paths
        relative to ``results``' parent).

    Raises:
        RecordsError: unreadable records or template, or an unknown arm folder.
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
            for name in (RECORDS, CONFIG, INITIAL):  # the inputs
                if (folder / name).exists():
                    shutil.copy2(folder / name, copy / folder.name / name)
        cross = results / cross_mod.CROSS_FIELD
        if cross.is_dir():
            (copy / cross.name).mkdir()
            for name in cross_mod.INPUTS:
                if (cross / name).exists():
                    shutil.copy2(cross / name, copy / cross.name / name)
        paths = rebuild(copy, Path(tmp) / "reproduction.md")
        out: dict[str, list[str]] = {"identical": [], "differ": [], "missing": [], "figures_not_comparable": []}
        import matplotlib

        for new in paths:
            if new == Path(tmp) / "reproduction.md":
                old, label = doc_path, doc_path.name
            elif new == Path(tmp) / cross_mod.DOC:
                old, label = doc_path.parent / cross_mod.DOC, cross_mod.DOC
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
