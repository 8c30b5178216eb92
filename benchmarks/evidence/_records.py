"""Committed run records: the arms of the reproduction, and run store <-> ``records.jsonl``.

A *record* is one finished run of the run store (``<store>/runs/<Task>/<variant-slug>/seed_NNNN.json``,
:mod:`connectome_priors.benchmarks._run_store`) without what is machine-specific or not reproducible: the per-epoch
``history`` (kept in the store; the evidence uses final metrics only), the timings ``cell_train_s``/``metrics_s``
and the weight-file name ``w_rec_file``. Everything else is kept as stored: ``variant, task, seed, status, metrics``
(NaN stored as ``null``), ``config_hash``, ``run_key``, ``factors``, ``data_seeds``, ``cell_seeds``, ...

``docs/results/<arm>/records.jsonl`` holds one record per line, sorted by (task, variant in canonical order,
seed), as compact JSON with sorted keys, so the same runs always give the same bytes.
``docs/results/<arm>/config.json`` is the store's ``config.json`` without ``created`` and ``data_dir``.

:func:`import_records` writes the records back as a run store (JSONs only, no ``.npz``): ``run_ablation``
resumes from it (a run is finished when its JSON exists) and ``python -m connectome_priors report`` works on it
(weights are not needed for either; graph metrics are in the records).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from connectome_priors._atomic import write_bytes
from connectome_priors._protocol import PAPER
from connectome_priors.benchmarks._run_store import RUN_STORE, load_config
from connectome_priors.benchmarks._schema import TASKS
from connectome_priors.benchmarks._variants import get_variant, variant_names

DROPPED_RUN_KEYS = ("history", "cell_train_s", "cell_wall_s", "metrics_s", "w_rec_file", "w_rec")
DROPPED_CONFIG_KEYS = ("created", "data_dir")
REQUIRED_RUN_KEYS = ("task", "variant", "seed", "status", "metrics", "config_hash")
ARM_FIELD = "6_6_2"  # the paper's field: every arm is run on it, at the paper's protocol (PAPER)
RECORDS = "records.jsonl"
CONFIG = "config.json"


class RecordsError(ValueError):
    """A records file or run store that cannot be used; the message names the file (and line)."""


@dataclasses.dataclass(frozen=True)
class Arm:
    """One arm of the reproduction: how its runs are made and what it is compared with.

    Every arm runs on field :data:`ARM_FIELD` at the paper's protocol (:data:`connectome_priors._protocol.PAPER`).

    Attributes:
        name: the arm's name (its folder under ``docs/results``).
        sign: ``"free"`` or ``"nonneg"``.
        reference_compat: the paper's pipeline (compat mode) or the corrected default.
        seeds: the seeds per cell it aims at.
        controls: run the control variants too.
        functional: the functional measure of the init.
        paper: what of the paper it reproduces.
        issue_arm: its number in issue 11.
        lam_emd: the strength of the C* variants' EMD term (the paper's unless a diagnostic switches it off).
        only: the variants it runs, when not all of them (a diagnostic arm).
        more_seeds: further rounds after the first, each ``(variants, seeds, why)``: those variants go on to
            ``seeds`` seeds per cell, for the reason ``why`` (plain words, no markup: it goes into figure titles).
    """

    name: str
    sign: str
    reference_compat: bool
    seeds: int
    controls: bool = False
    functional: str = "corr"
    paper: str = ""  # what of the paper it reproduces
    issue_arm: str = "–"  # the arm's number in issue 11
    lam_emd: float = PAPER.lam_emd
    only: tuple[str, ...] = ()  # a subset of the variants (a diagnostic arm); empty: all
    more_seeds: tuple[tuple[tuple[str, ...], int, str], ...] = ()

    def command(self, variants: Iterable[str] = (), seeds: int | None = None) -> str:
        """The exact command that produces (or resumes) this arm's run store: its first round by default.

        Args:
            variants: run only these (a later round); empty: the arm's variants.
            seeds: seeds per cell (a later round); ``None``: the arm's :attr:`seeds`.

        Returns:
            The command line.
        """
        variants = tuple(variants) or self.only
        parts = [f"python -m connectome_priors ablation --field {ARM_FIELD} --epochs {PAPER.epochs}",
                 f"--seeds {self.seeds if seeds is None else seeds}"]
        if self.reference_compat:
            parts.append("--reference-compat")
        parts.append(f"--sign {self.sign}")
        if self.functional != "corr":
            parts.append(f"--functional {self.functional}")
        if self.controls:
            parts.append("--controls")
        if variants:
            parts.append(f"--variants '{','.join(variants)}'")
        if self.lam_emd != PAPER.lam_emd:
            parts.append(f"--lam-emd {self.lam_emd:g}")
        parts.append(f"--out runs/{self.name}")
        return " ".join(parts)

    def commands(self) -> list[str]:
        """Every command of the arm, in order: the first round, then each of :attr:`more_seeds`.

        Returns:
            The command lines; each one resumes the same run store.
        """
        return [self.command()] + [self.command(names, n) for names, n, _ in self.more_seeds]

    def variants(self) -> list[str]:
        """The arm's variants, in canonical order."""
        names = variant_names(controls=self.controls)
        return [v for v in names if v in self.only] if self.only else names

    def target(self, variant: str) -> int:
        """The seeds per cell the arm aims at for ``variant``: :attr:`seeds`, or more in a later round.

        Args:
            variant: a variant name.

        Returns:
            The number of seeds.
        """
        return max([self.seeds] + [n for names, n, _ in self.more_seeds if variant in names])

    def target_text(self) -> str:
        """The seeds per cell aimed at, in words (e.g. ``"20; 24 for ..."``)."""
        return "; ".join([str(self.seeds)] + [f"{n} for {why}" for _, n, why in self.more_seeds])

    def planned(self) -> int:
        """Runs the arm aims at: the sum over variants of its target seeds, times the tasks."""
        return sum(self.target(v) for v in self.variants()) * len(TASKS)

    def check_config(self, config: Mapping[str, Any], where: str) -> None:
        """Refuse a run store's configuration that is not this arm's.

        Args:
            config: the store's ``config.json``.
            where: the file, for the message.

        Raises:
            RecordsError: a field differs (the message lists them and the arm's command).
        """
        want = {"field": ARM_FIELD, "sign": self.sign, "reference_compat": self.reference_compat,
                "functional": self.functional, **PAPER.to_dict(), "lam_emd": self.lam_emd,
                "model": None}  # the built-in RNN
        bad = {k: (config.get(k), v) for k, v in want.items() if config.get(k) != v}
        if bad:
            raise RecordsError(f"{where} is not arm {self.name!r} (found -> expected: {bad}); "
                               f"the arm is made by: {self.command()}")


#: The variants of ``default-free`` whose seeds 0-3 ran before runs recorded their learning curve.
EARLY_NO_CURVE: tuple[str, ...] = ("W*D*C", "WD*C", "WDC", "WD*", "WD", "W", "W*D*C*", "WD*C*", "W*DC*", "W!D*C",
                                   "W!D*C*", "Wdiag-D*C", "W*nodiag-D*C", "Wsurr-D*C")

ARMS: dict[str, Arm] = {a.name: a for a in (
    Arm("compat-free", "free", True, 20, issue_arm="1",
        paper="Table 2 (free recurrent weights), its graph metrics and the simple-effects tests S5-S7"),
    Arm("compat-nonneg", "nonneg", True, 20, issue_arm="2",
        paper="Table 3 (nonnegative recurrent weights) and its graph metrics"),
    Arm("default-free", "free", False, 20, controls=True, issue_arm="3",
        paper="beyond the paper: corrected mode with controls (the first 4 seeds of the paper's variants and of three "
              "controls predate curve recording, so those go on to 24 seeds, 20 with learning curves; the two variants "
              "behind the equivalence question to 32)",
        more_seeds=((EARLY_NO_CURVE, 24,
                     f"the {len(EARLY_NO_CURVE)} variants whose first 4 seeds predate curve recording"),
                    (("W*D*C", "Wdiag-D*C"), 32, "the 2 behind the equivalence question"))),
    Arm("default-nonneg", "nonneg", False, 10, issue_arm="4",
        paper="beyond the paper: corrected mode, nonnegative weights"),
    Arm("compat-free-precision", "free", True, 20, functional="precision",
        paper="the precision arm (published: the first 5 runs of W*D*C only)"),
    Arm("compat-free-emd0", "free", True, 8, lam_emd=0.0, only=("W*D*C*", "W*DC*"),
        paper="diagnostic: the C* variants off the published graph metrics, with the EMD term off (λ_EMD = 0)"),
)}


def get_arm(name: str) -> Arm:
    """The arm of this name.

    Args:
        name: one of :data:`ARMS`.

    Returns:
        The arm.

    Raises:
        RecordsError: an unknown name.
    """
    if name not in ARMS:
        raise RecordsError(f"unknown arm {name!r}; choose one of {', '.join(ARMS)}")
    return ARMS[name]


# ------------------------------------------------------------------------------------------ records


def _variant_rank(variant: str) -> tuple[int, str]:
    order = variant_names(controls=True)
    return (order.index(variant) if variant in order else len(order), variant)


def sort_key(record: Mapping[str, Any]) -> tuple:
    """Sort key of a record: task, variant in canonical order, seed."""
    return (str(record["task"]), _variant_rank(str(record["variant"])), int(record["seed"]))


def _finite_or_none(obj: Any) -> Any:
    if isinstance(obj, Mapping):
        return {str(k): _finite_or_none(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite_or_none(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj


def compact(run: Mapping[str, Any]) -> dict[str, Any]:
    """The record of one stored run (see the module docstring).

    Args:
        run: the stored run.

    Returns:
        The record: the run without the dropped keys, non-finite floats as None.
    """
    return _finite_or_none({k: v for k, v in run.items() if k not in DROPPED_RUN_KEYS})


def record_line(record: Mapping[str, Any]) -> str:
    """One line of ``records.jsonl``: compact JSON with sorted keys (no NaN)."""
    return json.dumps(record, sort_keys=True, separators=(",", ":"), allow_nan=False, ensure_ascii=False)


def compact_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """A store's ``config.json`` without what is machine-specific (:data:`DROPPED_CONFIG_KEYS`)."""
    return {k: v for k, v in config.items() if k not in DROPPED_CONFIG_KEYS}


def _check_run(run: Any, where: str) -> None:
    if not isinstance(run, Mapping):
        raise RecordsError(f"{where}: expected a JSON object, got {type(run).__name__}")
    missing = [k for k in REQUIRED_RUN_KEYS if k not in run]
    if missing:
        raise RecordsError(f"{where}: record lacks {missing}")
    if not isinstance(run["metrics"], Mapping):
        raise RecordsError(f"{where}: 'metrics' is not an object")
    if run["task"] not in TASKS or not isinstance(run["seed"], int) or isinstance(run["seed"], bool) \
            or not 0 <= run["seed"] < 2**31:
        raise RecordsError(f"{where}: task {run['task']!r} / seed {run['seed']!r} is not a task of {TASKS} "
                           "and an integer seed in [0, 2**31)")
    # record fields become path parts of a run store (evidence import): only known names pass
    try:
        get_variant(run["variant"])
    except (ValueError, TypeError) as exc:
        raise RecordsError(f"{where}: {exc}") from None


def parse_lines(lines: Iterable[str], path: Path) -> Iterator[tuple[int, str, dict[str, Any]]]:
    """Each line of a records file, parsed and checked (:func:`_check_run`).

    Args:
        lines: the file's lines (no trailing empty line).
        path: the file, for the messages.

    Yields:
        ``(line number, "<path>, line <n>", run)``.

    Raises:
        RecordsError: a line that is not JSON or not a valid run, naming the file and line.
    """
    for lineno, line in enumerate(lines, 1):
        where = f"{path}, line {lineno}"
        try:
            run = json.loads(line)
        except ValueError as exc:
            raise RecordsError(f"{where}: not valid JSON ({exc})") from None
        _check_run(run, where)
        yield lineno, where, run


def write_records(records: Iterable[Mapping[str, Any]], config: Mapping[str, Any], folder: Path) -> Path:
    """Write ``records.jsonl`` (sorted) and ``config.json`` into ``folder``.

    Args:
        records: the records.
        config: the store's configuration.
        folder: ``docs/results/<arm>``.

    Returns:
        The path of ``records.jsonl``.

    Raises:
        RecordsError: two records of one (task, variant, seed).
    """
    records = sorted((dict(r) for r in records), key=sort_key)
    seen = set()
    for r in records:
        key = (r["task"], r["variant"], int(r["seed"]))
        if key in seen:
            raise RecordsError(f"two runs for {key} in the records of {folder}")
        seen.add(key)
    folder = Path(folder)
    text = "".join(record_line(r) + "\n" for r in records)
    write_bytes(folder / RECORDS, text.encode(), mkdir=True)
    config_text = json.dumps(compact_config(config), indent=1, sort_keys=True) + "\n"
    write_bytes(folder / CONFIG, config_text.encode(), mkdir=True)
    return folder / RECORDS


def read_records(folder: str | os.PathLike) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """``(records, config)`` of ``<folder>/records.jsonl`` and ``config.json``, validated.

    Args:
        folder: ``docs/results/<arm>``.

    Returns:
        ``(records, config)``.

    Raises:
        RecordsError: naming the file and line of anything missing, unparsable, duplicated or made under another
            configuration (``config_hash``).
    """
    folder = Path(folder)
    config_path, path = folder / CONFIG, folder / RECORDS
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RecordsError(f"{config_path}: missing (export the arm with 'python -m connectome_priors evidence "
                           "export STORE --arm NAME')") from None
    except (OSError, ValueError) as exc:
        raise RecordsError(f"{config_path}: unreadable ({exc})") from None
    if not isinstance(config, dict):
        raise RecordsError(f"{config_path}: expected a JSON object")
    try:
        lines = path.read_text(encoding="utf-8").split("\n")
    except FileNotFoundError:
        raise RecordsError(f"{path}: missing (export the arm with 'python -m connectome_priors evidence export "
                           "STORE --arm NAME')") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise RecordsError(f"{path}: unreadable ({exc})") from None
    if lines and lines[-1] == "":
        lines.pop()
    records, seen = [], {}
    for lineno, where, run in parse_lines(lines, path):
        if run["config_hash"] != config.get("config_hash"):
            raise RecordsError(f"{where}: config_hash {run['config_hash']} differs from {config_path} "
                               f"({config.get('config_hash')})")
        key = (run["task"], run["variant"], int(run["seed"]))
        if key in seen:
            raise RecordsError(f"{where}: duplicate run {key} (first on line {seen[key]})")
        seen[key] = lineno
        records.append(run)
    return records, config


def export_store(store: str | os.PathLike, arm: Arm, results_dir: str | os.PathLike) -> tuple[Path, int]:
    """Export every finished run of ``store`` as ``<results_dir>/<arm>/records.jsonl``.

    Args:
        store: the run store (an ablation ``--out`` folder).
        arm: the arm the store is.
        results_dir: the committed results folder.

    Returns:
        ``(path of records.jsonl, runs exported)``.

    Raises:
        RecordsError: no ``config.json`` or no finished run, a configuration that is not the arm's, or a run of
            another configuration.
    """
    store = Path(store)
    try:
        config = load_config(store)
    except (FileNotFoundError, ValueError) as exc:
        raise RecordsError(str(exc)) from None
    arm.check_config(config, f"{store}/config.json")
    try:
        runs = RUN_STORE.load(store)
    except RuntimeError as exc:
        raise RecordsError(str(exc)) from None
    if not runs:
        raise RecordsError(f"{store}: no finished runs to export yet")
    want = config.get("config_hash")
    records = []
    for run in runs:
        where = str(_run_path(store, run))
        _check_run(run, where)
        if run["config_hash"] != want:
            raise RecordsError(f"{where}: config_hash {run['config_hash']} != {want} of {store}/config.json")
        records.append(compact(run))
    path = write_records(records, config, Path(results_dir) / arm.name)
    return path, len(records)


def _run_path(store: Path, run: Mapping[str, Any]) -> Path:
    try:
        return RUN_STORE.path(store, run["task"], run["variant"], run["seed"])
    except (KeyError, TypeError, ValueError):
        return store / "runs"


def import_records(folder: str | os.PathLike, store: str | os.PathLike) -> int:
    """Write the records of ``folder`` as a run store at ``store`` (JSONs, no weights); returns runs written.

    An existing store must hold the same configuration (``config_hash``); runs already there are kept.

    Args:
        folder: ``docs/results/<arm>``.
        store: the run store to create or extend.

    Returns:
        The runs written.

    Raises:
        RecordsError: unreadable records, or a store of another configuration.
    """
    records, config = read_records(folder)
    store = Path(store)
    cfg_path = store / CONFIG
    if cfg_path.exists():
        old = load_config(store)
        if old.get("config_hash") != config.get("config_hash"):
            raise RecordsError(f"{cfg_path}: config_hash {old.get('config_hash')} != "
                               f"{config.get('config_hash')} of {Path(folder) / CONFIG}; pick another folder")
    else:
        write_bytes(cfg_path, json.dumps(config, indent=1).encode(), mkdir=True)
    return sum(bool(RUN_STORE.write(store, r)) for r in records)
