"""The cross-field evidence (issue 23): a sweep's runs over many fields as committed records, and
``docs/cross_field.md`` rebuilt from them byte for byte.

Inputs, written by :func:`export_sweep` (the only step that needs the fields' data):

* ``docs/results/cross-field/records.jsonl``: one compact record per finished run (:func:`._records.compact`, the
  training curve kept), each with its ``field``, sorted by field, task, variant, seed;
* ``config.json``: the protocol every field shares (the sweep's run identity without the field), the variants,
  tasks and seeds, and each field's ``config_hash``;
* ``covariates.csv``: :func:`connectome_priors.priors.field_covariates` of every field;
* ``overlap.csv``: the pairs of fields that share imaged neurons (MICrONS scans overlap), with the count.

Outputs, written by :func:`rebuild_cross_field` from those files only: ``learn_rates.csv`` (per field, task and
variant: :func:`connectome_priors.benchmarks._outcomes.outcome_table`), ``effects.csv`` (per field:
:func:`connectome_priors.benchmarks._field_meta.field_effects`), ``pooled.csv`` and ``regression.csv``
(:func:`~connectome_priors.benchmarks._field_meta.pooled` over all fields), ``pooled_independent.csv`` (the same
over fields that share no neuron: a sensitivity analysis, since the random-effects model takes fields as
independent), ``pooled_exact.csv`` (per contrast and task, the exact McNemar test on every discordant field-seed
pair, Holm over the contrasts of a task: valid whatever the per-field sample size), one forest plot per contrast
and ``docs/cross_field.md``.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from connectome_priors._atomic import write_bytes, write_text
from connectome_priors.benchmarks._field_meta import CONTRASTS, draw_forest, field_effects, pooled
from connectome_priors.benchmarks._outcomes import outcome_table
from connectome_priors.benchmarks._schema import TASKS
from connectome_priors.benchmarks.report._format import (
    TASK_LABELS,
    TASK_SHORT_LABELS,
    fmt,
    fmt_p,
    table_head,
    table_row,
)

from ._figures import _save
from ._records import RecordsError, _check_run, compact, parse_lines, record_line, sort_key
from ._tables import write_csv

CROSS_FIELD = "cross-field"  # the folder under docs/results
DOC = "cross_field.md"  # beside reproduction.md
RECORDS = "records.jsonl"
CONFIG = "config.json"
COVARIATES = "covariates.csv"
#: significant digits, not decimals: a p value of 1e-30 must not be written as 0.000000
P_FORMAT = "%.6g"
OVERLAP = "overlap.csv"
INPUTS = (RECORDS, CONFIG, COVARIATES, OVERLAP)
MARGIN = 0.10  # equivalence margin of a pooled learn-rate difference
ALPHA = 0.05
_FIELD = re.compile(r"^[0-9]+_[0-9]+_[0-9]+$")
#: the sweep command that makes (and resumes) the arm's store; the fields are given by size, smallest first
SWEEP_COMMAND = ("python -m connectome_priors sweep --protocol short --fields FIELDS --tasks 3,1,2 --controls "
                 "--variants 'W*D*C,WD*C,Wdiag-D*C,W*nodiag-D*C,Wspec-D*C,W' --seeds 4 --out runs/cross-field")


# ------------------------------------------------------------------------------------------ export


def _shared_protocol(identity: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in identity.items() if k != "field"}


def export_sweep(sweep_dir: str | Path, results: str | Path, data_dir: str | Path | None = None) -> tuple[Path, int]:
    """A sweep folder's finished runs -> ``<results>/cross-field/`` (records, config, covariates, overlap).

    Args:
        sweep_dir: the sweep's ``--out`` folder.
        results: the committed results folder (``docs/results``).
        data_dir: folder of published fields (default: ``$CONNECTOME_PRIORS_DATA`` or the verified cache).

    Returns:
        ``(path of records.jsonl, runs exported)``.

    Raises:
        RecordsError: no finished run, a field name or run that is not valid, or fields run under different
            protocols (the message names the field's ``config.json``).
    """
    from connectome_priors.benchmarks._run_store import load_config, load_sweep_runs

    sweep_dir = Path(sweep_dir)
    if not sweep_dir.is_dir():
        raise RecordsError(f"{sweep_dir}: no such sweep folder")
    try:
        runs = [r for r in load_sweep_runs(sweep_dir) if r.get("sign") == "free"]
    except (RuntimeError, TypeError, ValueError, OSError) as exc:
        raise RecordsError(f"{sweep_dir}: a stored run is unreadable ({exc})") from None
    if not runs:
        raise RecordsError(f"{sweep_dir}: no finished runs of the free arm to export yet")
    fields = sorted({r["field"] for r in runs})
    hashes, protocol, first = {}, None, None
    for field in fields:
        where = sweep_dir / "free" / field / "config.json"
        if not _FIELD.fullmatch(field):
            raise RecordsError(f"{where.parent}: {field!r} is not a field name like 6_6_2")
        try:
            config = load_config(where.parent)
        except (OSError, ValueError) as exc:
            raise RecordsError(f"{where}: unreadable ({exc})") from None
        if not isinstance(config, dict) or not isinstance(config.get("identity"), dict) or "config_hash" not in config:
            raise RecordsError(f"{where}: not a run store's configuration (no 'identity' and 'config_hash')")
        mine = _shared_protocol(config["identity"])
        if protocol is None:
            protocol, first = mine, where
        elif mine != protocol:
            diff = {k: (mine.get(k), protocol.get(k)) for k in sorted(set(mine) | set(protocol))
                    if mine.get(k) != protocol.get(k)}
            raise RecordsError(f"{where}: protocol differs from {first}: {diff}")
        hashes[field] = config["config_hash"]
    if protocol.get("reference_compat"):
        raise RecordsError(f"{sweep_dir}: the cross-field arm is run in corrected mode, not --reference-compat")
    records, seen = [], set()
    for run in runs:
        where = f"{sweep_dir / 'free' / run['field']}: a run"
        _check_run(run, where)
        where = f"{sweep_dir / 'free' / run['field']}: {run['task']}/{run['variant']}/seed {run['seed']}"
        key = (run["field"], run["task"], run["variant"], int(run["seed"]))
        if key in seen:
            raise RecordsError(f"{where}: stored twice")
        seen.add(key)
        if run["config_hash"] != hashes[run["field"]]:
            raise RecordsError(f"{where}: config_hash {run['config_hash']} != {hashes[run['field']]} of its field")
        records.append(compact(run))
    records.sort(key=lambda r: (r["field"], *sort_key(r)))
    config = {"protocol": protocol, "config_hash": hashes, "fields": fields,
              "tasks": sorted({r["task"] for r in records}),
              "variants": sorted({r["variant"] for r in records}, key=lambda v: sort_key({"task": "", "variant": v,
                                                                                           "seed": 0})),
              "seeds": sorted({int(r["seed"]) for r in records}), "command": SWEEP_COMMAND}
    covariates, overlap = _field_inputs(fields, data_dir)  # before any write: all four files or none change
    folder = Path(results) / CROSS_FIELD
    write_bytes(folder / RECORDS, "".join(record_line(r) + "\n" for r in records).encode(), mkdir=True)
    write_bytes(folder / CONFIG, (json.dumps(config, indent=1, sort_keys=True) + "\n").encode())
    write_csv(covariates, folder / COVARIATES, float_format="%.6g")
    write_csv(overlap, folder / OVERLAP)
    return folder / RECORDS, len(records)


def _field_inputs(fields: Sequence[str], data_dir) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The covariates of every field, and the pairs of fields that share neurons (by their segmentation ids)."""
    from connectome_priors.fields import FieldDataError, load_field
    from connectome_priors.priors import COVARIATES as NAMES
    from connectome_priors.priors import field_covariates

    rows, ids = [], {}
    for field in fields:
        try:
            ds = load_field(field, data_dir=data_dir)
        except (FieldDataError, OSError, ValueError) as exc:
            raise RecordsError(f"field {field}: its data could not be loaded for the covariates ({exc})") from None
        rows.append({"field": field, **field_covariates(ds)})
        ids[field] = set(np.asarray(ds.neuron.values).tolist())
    pairs = [{"field_a": a, "field_b": b, "shared_neurons": len(ids[a] & ids[b])}
             for i, a in enumerate(fields) for b in fields[i + 1:] if ids[a] & ids[b]]
    return (pd.DataFrame(rows, columns=["field", *NAMES]),
            pd.DataFrame(pairs, columns=["field_a", "field_b", "shared_neurons"]))


# ------------------------------------------------------------------------------------------ read


def read_cross_field(folder: str | Path) -> tuple[list[dict[str, Any]], dict[str, Any], pd.DataFrame, pd.DataFrame]:
    """``(records, config, covariates, overlap)`` of ``docs/results/cross-field``, validated.

    Args:
        folder: the arm's folder.

    Returns:
        The four inputs.

    Raises:
        RecordsError: naming the file (and line) of anything missing, unparsable, duplicated, of an unknown field or
            made under another configuration.
    """
    folder = Path(folder)

    def read(name: str, parse):
        try:
            return parse(folder / name)
        except FileNotFoundError:
            raise RecordsError(f"{folder / name}: missing (export the arm with 'python -m connectome_priors evidence "
                               "export runs/cross-field --arm cross-field')") from None
        except (OSError, ValueError) as exc:
            raise RecordsError(f"{folder / name}: unreadable ({exc})") from None

    config = read(CONFIG, lambda p: json.loads(p.read_text(encoding="utf-8")))
    lines = read(RECORDS, lambda p: p.read_text(encoding="utf-8").split("\n"))
    if lines and lines[-1] == "":
        lines.pop()
    covariates = read(COVARIATES, lambda p: pd.read_csv(p, dtype={"field": str}))
    overlap = read(OVERLAP, lambda p: pd.read_csv(p, dtype={"field_a": str, "field_b": str}))
    for name, frame, columns in ((COVARIATES, covariates, ("field", "n_neurons")),
                                 (OVERLAP, overlap, ("field_a", "field_b", "shared_neurons"))):
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise RecordsError(f"{folder / name}: lacks the column(s) {missing}")
        numeric = frame.drop(columns=[c for c in ("field", "field_a", "field_b") if c in frame.columns])
        if not all(pd.api.types.is_numeric_dtype(t) for t in numeric.dtypes):
            raise RecordsError(f"{folder / name}: non-numeric values in {list(numeric.columns)}")
    want = {"protocol": dict, "config_hash": dict, "fields": list, "tasks": list, "variants": list, "seeds": list,
            "command": str}
    bad_keys = [k for k, t in want.items() if not isinstance(config, dict) or not isinstance(config.get(k), t)]
    if bad_keys:
        raise RecordsError(f"{folder / CONFIG}: missing or mistyped {bad_keys}")
    lacking = [k for k in ("epochs", "n_train", "batch_size", "lr", "lam", "n_val", "n_test")
               if not isinstance(config["protocol"].get(k), (int, float))]
    if lacking:
        raise RecordsError(f"{folder / CONFIG}: the protocol lacks the number(s) {lacking}")
    if not lines:
        raise RecordsError(f"{folder / RECORDS}: no records")
    hashes = config.get("config_hash") if isinstance(config, dict) else None
    if not isinstance(hashes, dict):
        raise RecordsError(f"{folder / CONFIG}: expected an object with 'config_hash' per field")
    bad = [f for f in hashes if not isinstance(f, str) or not _FIELD.fullmatch(f)]
    if bad:
        raise RecordsError(f"{folder / CONFIG}: {bad} are not field names like 6_6_2")
    records, seen = [], {}
    for lineno, where, run in parse_lines(lines, folder / RECORDS):
        field = run.get("field")
        if field not in hashes:
            raise RecordsError(f"{where}: field {field!r} is not one of the fields of {folder / CONFIG}")
        if run["config_hash"] != hashes[field]:
            raise RecordsError(f"{where}: config_hash {run['config_hash']} != {hashes[field]} of field {field}")
        key = (field, run["task"], run["variant"], int(run["seed"]))
        if key in seen:
            raise RecordsError(f"{where}: duplicate run {key} (first on line {seen[key]})")
        seen[key] = lineno
        records.append(run)
    missing = sorted(set(hashes) - set(covariates["field"]))
    if missing:
        raise RecordsError(f"{folder / COVARIATES}: no row for field(s) {missing}")
    return records, config, covariates, overlap


def import_sweep(folder: str | Path, sweep_dir: str | Path) -> int:
    """The committed records of ``docs/results/cross-field`` -> a sweep folder that the arm's sweep command resumes.

    Each field gets ``<sweep_dir>/free/<field>/config.json`` (its run identity: the shared protocol plus the field,
    whose hash must be the ``config_hash`` the records name) and one JSON per run (no weights); runs already there
    are kept. A fresh checkout thus resumes the arm where the committed records stop, instead of starting over.

    Args:
        folder: ``docs/results/cross-field``.
        sweep_dir: the sweep folder to create or extend (the ``--out`` of :data:`SWEEP_COMMAND`).

    Returns:
        The runs written.

    Raises:
        RecordsError: unreadable records (:func:`read_cross_field`), a protocol whose hash is not the field's
            ``config_hash``, or a field folder of another configuration; checked for every field before anything
            is written.
    """
    import hashlib

    from connectome_priors.benchmarks._run_store import RUN_STORE, field_dir, load_config

    folder, sweep_dir = Path(folder), Path(sweep_dir)
    records, config, _, _ = read_cross_field(folder)
    identities = {}
    for field, want in sorted(config["config_hash"].items()):
        identity = {**config["protocol"], "field": field}
        got = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:16]
        if got != want:
            raise RecordsError(f"{folder / CONFIG}: the protocol with field {field} hashes to {got}, not the "
                               f"config_hash {want} its runs were made under")
        where = field_dir(sweep_dir, field, "free") / CONFIG
        if where.exists():
            try:
                old = load_config(where.parent).get("config_hash")
            except (OSError, ValueError) as exc:
                raise RecordsError(f"{where}: unreadable ({exc})") from None
            if old != want:
                raise RecordsError(f"{where}: config_hash {old} != {want} of {folder / CONFIG}; pick another folder")
        identities[field] = identity
    for field, identity in identities.items():
        where = field_dir(sweep_dir, field, "free") / CONFIG
        if not where.exists():
            payload = {"identity": identity, "config_hash": config["config_hash"][field], "imported_from": RECORDS}
            write_bytes(where, json.dumps(payload, indent=1, sort_keys=True).encode(), mkdir=True)
    return sum(bool(RUN_STORE.write(field_dir(sweep_dir, r["field"], "free"), r)) for r in records)


def resume_command(config: Mapping[str, Any], sweep_dir: str | Path) -> str:
    """The arm's sweep command over the committed fields, into ``sweep_dir`` (add fields to ``--fields`` to grow it).

    Args:
        config: the arm's ``config.json``.
        sweep_dir: the sweep folder.

    Returns:
        The command line.
    """
    return (config["command"].replace("FIELDS", ",".join(config["fields"]))
            .replace("--out runs/cross-field", f"--out {sweep_dir}"))


# ------------------------------------------------------------------------------------------ analysis


def independent_fields(fields: Sequence[str], overlap: pd.DataFrame) -> list[str]:
    """A set of fields no two of which share a neuron: greedily, the fields with the fewest overlaps first (ties by
    name), each kept when it shares no neuron with one already kept.

    Args:
        fields: the candidates.
        overlap: ``field_a, field_b, shared_neurons`` rows.

    Returns:
        The kept fields, sorted by name.

    Example::

        >>> ov = pd.DataFrame({"field_a": ["a", "b"], "field_b": ["b", "c"], "shared_neurons": [3, 1]})
        >>> independent_fields(["a", "b", "c", "d"], ov)
        ['a', 'c', 'd']
    """
    fields = list(fields)
    neighbours: dict[str, set[str]] = {f: set() for f in fields}
    for a, b, n in overlap[["field_a", "field_b", "shared_neurons"]].itertuples(index=False):
        if n > 0 and a in neighbours and b in neighbours:
            neighbours[a].add(b)
            neighbours[b].add(a)
    kept: list[str] = []
    for f in sorted(fields, key=lambda f: (len(neighbours[f]), f)):
        if not neighbours[f] & set(kept):
            kept.append(f)
    return sorted(kept)


def _learned(records: Sequence[Mapping[str, Any]]) -> dict[tuple[str, str, str, int], bool]:
    """``(field, task, variant, seed) -> learned`` (held-out test accuracy at the task's threshold) of every run
    with a finite accuracy."""
    from connectome_priors.stats import LEARN_THRESHOLDS

    learned = {}
    for r in records:
        acc = r["metrics"].get("Test_Accuracy")
        if acc is not None and math.isfinite(acc):
            learned[(r["field"], r["task"], r["variant"], int(r["seed"]))] = acc >= LEARN_THRESHOLDS[r["task"]]
    return learned


def pooled_exact(records: Sequence[Mapping[str, Any]], tasks: Sequence[str],
                 contrasts: Sequence[tuple[str, str]] = CONTRASTS) -> pd.DataFrame:
    """Per task and contrast, every field-seed pair pooled: seeds learned by ``a`` only and by ``b`` only, and the
    exact McNemar p (two-sided binomial on the discordant pairs), Holm over the contrasts of the task.

    Args:
        records: runs with ``field``.
        tasks: the tasks.
        contrasts: the ``(a, b)`` pairs.

    Returns:
        Columns ``task, a, b, fields, pairs, a_only, b_only, p, p_holm``.
    """
    from scipy.stats import binomtest

    from connectome_priors.stats import holm

    learned = _learned(records)
    rows = []
    for task in tasks:
        part = []
        for a, b in contrasts:
            keys = [(f, s) for (f, t, v, s) in learned if t == task and v == a and (f, task, b, s) in learned]
            if not keys:
                continue
            a_only = sum(learned[(f, task, a, s)] and not learned[(f, task, b, s)] for f, s in keys)
            b_only = sum(learned[(f, task, b, s)] and not learned[(f, task, a, s)] for f, s in keys)
            p = binomtest(a_only, a_only + b_only, 0.5).pvalue if a_only + b_only else 1.0
            part.append(dict(task=task, a=a, b=b, fields=len({f for f, _ in keys}), pairs=len(keys), a_only=a_only,
                             b_only=b_only, p=float(p)))
        for row, ph in zip(part, holm([r["p"] for r in part]) if part else []):
            row["p_holm"] = float(ph)
        rows += part
    return pd.DataFrame(rows, columns=["task", "a", "b", "fields", "pairs", "a_only", "b_only", "p", "p_holm"])


def per_seed_differences(records: Sequence[Mapping[str, Any]], tasks: Sequence[str],
                         contrasts: Sequence[tuple[str, str]] = CONTRASTS) -> pd.DataFrame:
    """Per task, contrast and seed: the mean over fields of ``learned(a) - learned(b)``. Every field trains a seed on
    the same trial stream, so the field-seed pairs of one seed are not independent of each other; a direction that
    holds in every seed's stream does not rest on one lucky stream.

    Args:
        records: runs with ``field``.
        tasks: the tasks.
        contrasts: the ``(a, b)`` pairs.

    Returns:
        Columns ``task, a, b, seed, fields, difference``.

    Example::

        >>> runs = [dict(field=f, task="Task3", variant=v, seed=0, metrics={"Test_Accuracy": acc})
        ...         for f, v, acc in (("x", "A", 0.9), ("x", "B", 0.5), ("y", "A", 0.9), ("y", "B", 0.9))]
        >>> per_seed_differences(runs, ["Task3"], [("A", "B")]).values.tolist()
        [['Task3', 'A', 'B', 0, 2, 0.5]]
    """
    learned = _learned(records)
    keys = sorted({(f, t, s) for f, t, _, s in learned})
    rows = []
    for task in tasks:
        for a, b in contrasts:
            for seed in sorted({s for _, t, s in keys if t == task}):
                diffs = [int(learned[(f, task, a, seed)]) - int(learned[(f, task, b, seed)])
                         for f, t, s in keys if t == task and s == seed
                         and (f, task, a, seed) in learned and (f, task, b, seed) in learned]
                if diffs:
                    rows.append(dict(task=task, a=a, b=b, seed=seed, fields=len(diffs),
                                     difference=float(np.mean(diffs))))
    return pd.DataFrame(rows, columns=["task", "a", "b", "seed", "fields", "difference"])


def where_reference_fails(rates: pd.DataFrame, effects: pd.DataFrame, covariates: Mapping[str, Mapping[str, float]],
                          tasks: Sequence[str], n_seeds: int, reference: str = "W*D*C",
                          control: str = "Wdiag-D*C") -> pd.DataFrame:
    """Per task, the fields where ``reference`` learned on no seed, what ``control`` did there, and the
    ``control - reference`` learn-rate difference pooled (random effects) over the other fields: where a pooled
    effect is concentrated. Post hoc and descriptive.

    Args:
        rates: the per-field learn rates (``field, task, variant, n, learned``).
        effects: :func:`connectome_priors.benchmarks._field_meta.field_effects`.
        covariates: ``{field: {covariate: value}}``, with ``w_star_diag_share``.
        tasks: the tasks.
        n_seeds: the seeds per cell; a field counts only when ``reference`` ran on all of them.
        reference: the variant that fails.
        control: the variant set against it.

    Returns:
        Columns ``task, fields_failed, failed, control_learned, control_runs, others_learned, diag_share_max,
        rest_k, rest_estimate, rest_lo, rest_hi``; ``failed`` is a comma-separated list of fields, ``others_learned``
        the learned/run counts of the other variants there.
    """
    from connectome_priors.stats import random_effects

    rows = []
    for task in tasks:
        mine = rates[rates.task == task]
        ref = mine[(mine.variant == reference) & (mine.n >= n_seeds)]  # every seed run: a field, not a gap
        failed = sorted(ref[ref.learned == 0].field,
                        key=lambda f: (covariates.get(f, {}).get("w_star_diag_share", math.inf), f))
        ctl = mine[(mine.variant == control) & mine.field.isin(failed)]
        others = mine[~mine.variant.isin([reference, control]) & mine.field.isin(failed)]
        others_text = ", ".join(f"{v} {int(g.learned.sum())}/{int(g.n.sum())}"
                                for v, g in others.groupby("variant", sort=True))
        rest = effects[(effects.task == task) & (effects.a == control) & (effects.b == reference)
                       & (effects.outcome == "learn_rate") & ~effects.field.isin(failed)]
        pooled_rest = random_effects(rest.effect, rest.variance, bounds=(-1.0, 1.0)) if len(rest) >= 2 else None
        rows.append(dict(task=task, fields_failed=len(failed), failed=",".join(failed),
                         control_learned=int(ctl.learned.sum()), control_runs=int(ctl.n.sum()),
                         others_learned=others_text,
                         diag_share_max=max((covariates.get(f, {}).get("w_star_diag_share", math.nan)
                                             for f in failed), default=math.nan),
                         rest_k=len(rest), rest_estimate=pooled_rest.estimate if pooled_rest else math.nan,
                         rest_lo=pooled_rest.lo if pooled_rest else math.nan,
                         rest_hi=pooled_rest.hi if pooled_rest else math.nan))
    return pd.DataFrame(rows)


def verdict(row: Mapping[str, Any], exact: Mapping[str, Any] | None = None, margin: float = MARGIN,
            alpha: float = ALPHA, independent: Mapping[str, Any] | None = None,
            observed: tuple[int, int] | None = None) -> str:
    """The pooled learn-rate verdict of one random-effects row. A direction only when the 95 % interval excludes 0
    and, when given, the exact McNemar test over every field-seed pair (:func:`pooled_exact`) agrees at ``alpha``
    (the random-effects interval rests on normal approximations of 4-seed fields; the exact test does not);
    equivalence only when the interval lies inside ``±margin``; otherwise no consistent effect shown. Overlapping
    scans share neurons, so both tests treat fields as more independent than they are: when the same contrast
    pooled over one set of fields that share no neuron (``independent``) does not show the direction, the verdict
    says so.

    "In a new field too" needs the prediction interval to exclude 0 in both poolings, and the fields themselves
    not to contradict it: the normal model behind a 95 % prediction interval puts 2.5 % of fields beyond each
    bound, so when more than that share of the observed field effects (``observed``) shows no effect in the
    direction (0 or reversed), the new-field claim is not made. A prediction interval clipped to the effect's
    range is marked so, since the normal model reaches past the range there.

    Args:
        row: ``a, b, estimate, lo, hi, pred_lo, pred_hi`` (and ``clipped``).
        exact: the matching :func:`pooled_exact` row (``a_only, b_only, p_holm``), or None.
        margin: the equivalence margin.
        alpha: the level of the exact test.
        independent: the matching row of the pooling over fields that share no neuron (``k, estimate, lo, hi``,
            and ``pred_lo, pred_hi, clipped`` when known), or None.
        observed: ``(fields whose observed effect is 0 or against the pooled direction, fields)``, or None.

    Returns:
        The verdict text.

    Example::

        >>> row = dict(a="A", b="B", estimate=0.4, lo=0.2, hi=0.6, pred_lo=-0.1, pred_hi=0.9)
        >>> verdict(row, dict(a_only=9, b_only=0, p_holm=0.004))
        'A > B on average across fields; a gain in a new field is not shown (prediction interval [-0.10, 0.90])'
        >>> verdict(row, dict(a_only=6, b_only=0, p_holm=0.0625))[:60]
        'not shown: the random-effects interval excludes 0, the exact'
        >>> verdict(dict(a="A", b="B", estimate=0.01, lo=-0.05, hi=0.07, pred_lo=-0.05, pred_hi=0.07))
        'equivalent within ±0.10 on average across fields'
        >>> verdict(row, independent=dict(k=15, estimate=0.03, lo=-0.09, hi=0.14)).split("; ")[0]
        'A > B on average across fields, but not shown over 15 fields that share no neuron (0.030 [-0.090, 0.140])'
        >>> verdict(dict(row, pred_lo=0.05), observed=(7, 53)).split("; ", 1)[1]
        'a gain in a new field is not shown (prediction interval [0.05, 0.90]; no gain observed in 7 of 53 fields)'
    """
    a, b = row["a"], row["b"]
    if not (row["lo"] > 0 or row["hi"] < 0):
        if -margin < row["lo"] and row["hi"] < margin:
            return f"equivalent within ±{margin:.2f} on average across fields"
        return "no consistent effect shown across fields"
    up = row["lo"] > 0
    if exact is not None and not (exact["p_holm"] < alpha and (exact["a_only"] > exact["b_only"]) == up):
        return ("not shown: the random-effects interval excludes 0, the exact test over all field-seed pairs "
                f"does not (p = {fmt_p(exact['p_holm'])})")

    def beyond_zero(r: Mapping[str, Any]) -> bool:
        return r["pred_lo"] > 0 if up else r["pred_hi"] < 0

    notes = [_pred_text(row)]
    new_field = beyond_zero(row)
    if independent is not None and "pred_lo" in independent:
        if not (math.isfinite(independent["pred_lo"]) and math.isfinite(independent["pred_hi"])):
            notes.append(f"too few of the {int(independent['k'])} fields that share no neuron for one")
            new_field = False
        elif not beyond_zero(independent):
            notes.append(f"over {int(independent['k'])} fields that share no neuron {_pred_text(independent)}")
            new_field = False
    if observed is not None and observed[0] > 0.025 * observed[1]:
        notes.append(f"no {'gain' if up else 'loss'} observed in {observed[0]} of {observed[1]} fields")
        new_field = False
    said = f"{a} > {b}" if up else f"{a} < {b}"
    said += " on average across fields"
    if independent is not None and not (independent["lo"] > 0 if up else independent["hi"] < 0):
        said += f", but not shown over {int(independent['k'])} fields that share no neuron ({_ci(independent)})"
    tail = "and in a new field too" if new_field else f"a {'gain' if up else 'loss'} in a new field is not shown"
    return f"{said}; {tail} (prediction interval {'; '.join(notes)})"


def _pred_text(row: Mapping[str, Any]) -> str:
    """``[lo, hi]`` of a prediction interval, with ``, clipped to [-1, 1]`` where the range cut it."""
    at_range = row.get("clipped") and (row["pred_lo"] <= -1 or row["pred_hi"] >= 1)
    return f"[{row['pred_lo']:.2f}, {row['pred_hi']:.2f}]" + (", clipped to [-1, 1]" if at_range else "")


# ------------------------------------------------------------------------------------------ rebuild


def _safe(name: str) -> str:
    return name.replace("*", "star")


def _ci(row: Mapping[str, Any], lo: str = "lo", hi: str = "hi", est: str = "estimate") -> str:
    return f"{fmt(row[est])} [{fmt(row[lo])}, {fmt(row[hi])}]"


def _code(variant: str) -> str:
    return f"`{variant}`"


def rebuild_cross_field(folder: str | Path, doc: str | Path, *, figures: bool = True) -> list[Path]:
    """Every derived file of the cross-field arm and ``docs/cross_field.md``, from the committed inputs only.

    Args:
        folder: ``docs/results/cross-field``.
        doc: where to write ``cross_field.md``.
        figures: draw the forest plots too.

    Returns:
        The files written, the document last.

    Raises:
        RecordsError: unusable inputs.
    """
    folder = Path(folder)
    records, config, cov, overlap = read_cross_field(folder)
    tasks = [t for t in TASKS if t in set(config.get("tasks", []))]
    cov = cov.set_index("field")
    covariates = {f: {k: float(v) for k, v in row.items()} for f, row in cov.iterrows()}
    fields = sorted({r["field"] for r in records}, key=lambda f: (covariates[f]["n_neurons"], f))
    written = []

    variants = list(config.get("variants", []))
    rates = []
    for field in fields:
        t = outcome_table([r for r in records if r["field"] == field], tasks, variants)
        rates.append(t.assign(field=field, n_neurons=int(covariates[field]["n_neurons"])))
    rates = pd.concat(rates, ignore_index=True)[["field", "n_neurons", "task", "variant", "threshold", "n", "learned",
                                                   "learn_rate", "learn_lo", "learn_hi", "auc_n", "auc"]]
    written.append(write_csv(rates, folder / "learn_rates.csv"))
    effects = field_effects(records, tasks)
    written.append(write_csv(effects, folder / "effects.csv"))
    pool, regression = pooled(effects, covariates)
    written.append(write_csv(pool, folder / "pooled.csv", float_format=P_FORMAT))
    written.append(write_csv(regression, folder / "regression.csv", float_format=P_FORMAT))
    independent = independent_fields(fields, overlap)
    pool_ind, _ = pooled(effects[effects.field.isin(independent)])
    written.append(write_csv(pool_ind, folder / "pooled_independent.csv", float_format=P_FORMAT))
    exact = pooled_exact(records, tasks)
    written.append(write_csv(exact, folder / "pooled_exact.csv", float_format=P_FORMAT))
    seeds = per_seed_differences(records, tasks)
    written.append(write_csv(seeds, folder / "per_seed.csv", float_format=P_FORMAT))
    failing = where_reference_fails(rates, effects, covariates, tasks, len(config.get("seeds", [])))
    written.append(write_csv(failing, folder / "reference_fails.csv", float_format=P_FORMAT))

    labels = {f: f"{f} (N={int(covariates[f]['n_neurons'])})" for f in fields}
    forests = []
    for a, b in CONTRASTS:
        path = folder / f"forest_{_safe(a)}_vs_{_safe(b)}.png"
        if figures:
            import matplotlib

            with matplotlib.rc_context(matplotlib.rcParamsDefault):
                fig = draw_forest(effects, pool, (a, b), tasks, labels, TASK_SHORT_LABELS)
            if fig is None:
                continue
            written.append(_save(fig, path))
        if not pool[(pool.a == a) & (pool.b == b)].empty:
            forests.append((a, b, path))
    text = render(records, config, covariates, fields, rates, pool, pool_ind, independent, exact, regression,
                  overlap, forests, folder, Path(doc), seeds=seeds, failing=failing, effects=effects)
    write_text(Path(doc), text)
    return written + [Path(doc)]


def _rel(path: Path, doc: Path) -> str:
    import os

    return Path(os.path.relpath(path, doc.parent)).as_posix()


def render(records, config, covariates, fields, rates, pool, pool_ind, independent, exact, regression, overlap,
           forests, folder: Path, doc: Path, seeds: pd.DataFrame | None = None,
           failing: pd.DataFrame | None = None, effects: pd.DataFrame | None = None) -> str:
    """The text of ``docs/cross_field.md`` (see :func:`rebuild_cross_field` for the arguments' sources)."""
    protocol = config["protocol"]
    tasks = [t for t in TASKS if t in set(config.get("tasks", []))]
    n_seeds = len(config.get("seeds", []))
    lr = pool[pool.outcome == "learn_rate"]
    ind_lr = pool_ind[pool_ind.outcome == "learn_rate"]

    def is_complete(field: str, task: str) -> bool:
        mine = rates[(rates.field == field) & (rates.task == task)]
        return len(mine) == len(config["variants"]) and bool((mine["n"] >= n_seeds).all())

    complete = {t: sum(is_complete(f, t) for f in fields) for t in tasks}
    shared = int(overlap["shared_neurons"].sum()) if not overlap.empty else 0
    lines = [
        "# Beyond one field: do the priors' effects hold across the MICrONS fields?",
        "",
        "_Generated by `python -m connectome_priors evidence rebuild` from the committed inputs in "
        f"[`{_rel(folder, doc)}/`]({_rel(folder, doc)}/) ({', '.join(f'`{n}`' for n in INPUTS)}); "
        "`python -m connectome_priors evidence check` regenerates it byte for byte. Do not edit by hand._",
        "",
        "The paper ran its ablation on one imaging field (6_6_2). Here the decisive variants run, seed-paired, on "
        f"**{len(fields)} fields** ({min(int(covariates[f]['n_neurons']) for f in fields)} to "
        f"{max(int(covariates[f]['n_neurons']) for f in fields)} neurons; the package knows 56 published fields), "
        f"{len(records)} runs in all, and each key contrast is pooled across fields by a random-effects "
        "meta-analysis.",
        "",
        # "so far" until every field with records has every variant at every seed on every task
        "## The answer" + ("" if all(n == len(fields) for n in complete.values()) else " so far"),
        "",
        "Learn rate (held-out test accuracy at the task's threshold), pooled difference of the paired learn rates "
        "across fields with its 95 % interval. A direction only when that interval excludes 0 and the exact McNemar "
        "test pooling every field-seed pair (Holm over the contrasts of a task) agrees; equivalence only inside "
        f"±{MARGIN:.2f}. The exact test asks whether the discordant field-seed pairs lean one way, as if all "
        "pairs were independent: it guards the direction against the normal approximations of 4-seed fields, and "
        "says nothing of the average over fields by itself. Overlapping scans share neurons, so both treat the "
        "fields as more independent than they are; where the same pooling over one set of fields that share no "
        "neuron (the sensitivity analysis below) does not show the direction or the new-field prediction, the "
        "verdict says so. Every field trains seed s on the same trial stream, so a column gives the mean "
        "difference over fields in each seed's stream separately, and a t interval over the streams: wider than "
        "the pooled interval where the streams disagree, which the pooled interval does not see.",
        "",
    ]
    lines += table_head(["contrast", "task", "fields", "pooled difference [95 % CI]", "I²",
                         "exact McNemar, all pairs (Holm)", "per seed's trial stream (mean over fields)", "verdict"])
    for row in lr.itertuples():
        e = exact[(exact.task == row.task) & (exact.a == row.a) & (exact.b == row.b)]
        ex = (f"{int(e.a_only.iloc[0])} vs {int(e.b_only.iloc[0])} discordant, p = {fmt_p(e.p_holm.iloc[0])}"
              if not e.empty else "–")
        ind = ind_lr[(ind_lr.task == row.task) & (ind_lr.a == row.a) & (ind_lr.b == row.b)]
        fe = effects[(effects.task == row.task) & (effects.a == row.a) & (effects.b == row.b)
                     & (effects.outcome == "learn_rate")].effect if effects is not None else pd.Series(dtype=float)
        against = int((fe <= 0).sum() if row.lo > 0 else (fe >= 0).sum())
        said = verdict(row._asdict(), None if e.empty else e.iloc[0].to_dict(),
                       independent=None if ind.empty else ind.iloc[0].to_dict(),
                       observed=(against, len(fe)) if len(fe) else None)
        per = (seeds[(seeds.task == row.task) & (seeds.a == row.a) & (seeds.b == row.b)]
               if seeds is not None else pd.DataFrame())
        per_text = _per_seed_text(per)
        lines.append(table_row([f"{_code(row.a)} vs {_code(row.b)}", TASK_LABELS.get(row.task, row.task), row.k,
                                _ci(row._asdict()), fmt(row.i2, 2), ex, per_text, _md_verdict(said)]))
    if failing is not None and len(failing) and failing.fields_failed.sum():
        lines += ["", "### Where the effects are concentrated (post hoc)", "",
                  "Per task, the fields where W\\*D\\*C learned on no seed, in order of the share of W\\*'s "
                  "squared weight on its diagonal (lowest first), what its diagonal alone (Wdiag-D\\*C) did in "
                  "them, and Wdiag-D\\*C − W\\*D\\*C pooled over the other fields. Chosen after seeing the "
                  "data (the meta-regression below points at the diagonal share): descriptive, not a test.", ""]
        lines += table_head(["task", "fields where W\\*D\\*C learned on no seed", "their ranks by diagonal share "
                             f"(of {len(fields)})", "highest diagonal share among them",
                             "Wdiag-D\\*C learned there", "the other variants learned there",
                             "Wdiag-D\\*C − W\\*D\\*C over the other fields"])
        by_share = sorted(fields, key=lambda f: (covariates[f].get("w_star_diag_share", math.inf), f))
        for r in failing.itertuples():
            lines.append(table_row([
                TASK_LABELS.get(r.task, r.task), f"{r.fields_failed}: {r.failed.replace(',', ', ')}" if r.failed
                else "0", ", ".join(str(by_share.index(f) + 1) for f in r.failed.split(",") if f) or "–",
                _num(r.diag_share_max), f"{r.control_learned}/{r.control_runs}",
                _md_verdict(r.others_learned.replace(", ", "; ")) if isinstance(r.others_learned, str) else "–",
                f"{r.rest_k} fields: {fmt(r.rest_estimate)} [{fmt(r.rest_lo)}, {fmt(r.rest_hi)}]"]))
    lines += [
        "",
        "## What ran",
        "",
        f"- Mode: corrected (the library's default; not `--reference-compat`). Sign: free. Variants: "
        f"{', '.join(_code(v) for v in config['variants'])}. Tasks: "
        f"{', '.join(TASK_LABELS.get(t, t) for t in tasks)}. Seeds per cell: {n_seeds} "
        f"({', '.join(str(s) for s in config['seeds'])}); every variant of a seed sees the same trials.",
        "- Protocol: the short one (`--protocol short`; at the paper's 10 epochs Go/NoGo saturates, so final "
        f"accuracy cannot separate priors that all learn): {protocol['epochs']} epochs of {protocol['n_train']} "
        f"training trials, batch {protocol['batch_size']}, learning rate {protocol['lr']}, communicability penalty "
        f"λ = {protocol['lam']}; {protocol['n_val']} validation and {protocol['n_test']} held-out test trials.",
        f"- Fields with every variant at {n_seeds} seeds: "
        + ", ".join(f"{TASK_LABELS.get(t, t)} {complete[t]}" for t in tasks)
        + f" of the {len(fields)} fields with records. The store is made and resumed by `{config['command']}` "
          "(the fields by size, smallest first), exported by "
          "`python -m connectome_priors evidence export runs/cross-field --arm cross-field`; on a new machine, "
          "`python -m connectome_priors evidence import docs/results/cross-field runs/cross-field` first turns "
          "these records back into that store.",
        "",
        "## Pooled effects (random effects, DerSimonian-Laird)",
        "",
        "Per field: the seed-paired learn-rate difference with the variance of "
        "`connectome_priors.stats.paired_rate_difference`, and the mean paired difference of the learning-curve "
        "AUC (learning speed; fields whose AUC differences have no spread are left out of that pooling). Pooled "
        "estimate with its 95 % interval, between-field variance τ², I², Cochran's Q, and the 95 % prediction "
        "interval for a new field; all clipped to [-1, 1].",
        "",
    ]
    lines += _pool_table(pool)
    lines += [
        "",
        "### Sensitivity: fields that share no neuron",
        "",
        (f"MICrONS scans overlap: {len(overlap)} pairs of these fields share imaged neurons ({shared} shared "
         "neurons counted per pair), so the fields are not fully independent samples, as the random-effects model "
         "assumes. Pooled again " if len(overlap) else "No two of these fields share an imaged neuron (MICrONS "
         "scans can overlap), so this pooling is the same as the one above: ")
        + f"over {len(independent)} fields no two of which share a neuron "
        "(`connectome_priors.benchmarks.evidence._cross_field.independent_fields`: greedily, the fields with the "
        f"fewest overlaps first): {', '.join(independent)}. This is one such set of many; another can keep other "
        "fields (in particular more or fewer of those where the effects are concentrated, above) and show other "
        "results (the pairs share " + _overlap_sizes(overlap) + "), so a difference between the two poolings is a "
        "warning, not a finding.",
        "",
    ]
    lines += _pool_table(pool_ind)
    lines += ["", "## Forest plots (one per contrast)", ""]
    for a, b, path in forests:
        lines += [f"![{a} vs {b}]({_rel(path, doc)})", ""]
    lines += ["## What goes with the effect: meta-regression on the field covariates", "",
              "Weighted least squares of each field's effect on one covariate at a time (weights 1 / (v + τ²)), Holm "
              "over the covariates of a contrast, task and outcome; the slope is also given per standard deviation "
              "of the covariate across those fields, the one scale on which covariates of different units compare. "
              "The covariates go together across fields, so a slope says that the effect goes with the covariate, "
              "not which of its correlates drives it" + _collinear(covariates, fields) + ". Rows with Holm p < 0.05:",
              ""]
    sig = regression[regression.p_holm < ALPHA]
    if sig.empty:
        lines.append(f"None: no covariate goes with any pooled effect after Holm (all {len(regression)} fits in "
                     f"[`regression.csv`]({_rel(folder / 'regression.csv', doc)})).")
    else:
        lines += table_head(["contrast", "task", "outcome", "covariate", "fields", "per SD [95 % CI]",
                             "slope [95 % CI]", "p (Holm)"])
        for r in sig.itertuples():
            lines.append(table_row([f"{_code(r.a)} vs {_code(r.b)}", TASK_LABELS.get(r.task, r.task), r.outcome,
                                    r.covariate, r.k, f"{r.slope * r.sd:.3f} [{r.lo * r.sd:.3f}, {r.hi * r.sd:.3f}]",
                                    f"{r.slope:.3g} [{r.lo:.3g}, {r.hi:.3g}]", fmt_p(r.p_holm)]))
        lines += ["", _closest_covariates(regression),
                  "", f"All fits: [`regression.csv`]({_rel(folder / 'regression.csv', doc)})."]
    lines += ["", "## Learn rates, all fields together", "",
              "Runs that learned, summed over fields (descriptive: seeds within a field are not independent of the "
              f"field); per field in [`learn_rates.csv`]({_rel(folder / 'learn_rates.csv', doc)}).", ""]
    lines += table_head(["variant", *[TASK_LABELS.get(t, t) for t in tasks]])
    for v in config["variants"]:
        cells = []
        for t in tasks:
            sub = rates[(rates.variant == v) & (rates.task == t)]
            cells.append(f"{int(sub.learned.sum())}/{int(sub.n.sum())} in {len(sub)} field{'s' * (len(sub) != 1)}"
                         if len(sub) else "–")
        lines.append(table_row([_code(v), *cells]))
    lines += ["", "## Field covariates", "",
              "`connectome_priors.priors.field_covariates`: N, connectome density, the share of W*'s squared weight "
              "on its diagonal (mean over seeds 0-3), mean and SD of STTC and correlation over neuron pairs, median "
              "and IQR of soma distances (µm), and Spearman's rho of STTC and of correlation with synapse counts.", ""]
    names = [c for c in next(iter(covariates.values()))]
    lines += table_head(["field", *names])
    for f in fields:
        lines.append(table_row([f, *[_num(covariates[f][c]) for c in names]]))
    lines += [
        "",
        "## What this does not show",
        "",
        f"- Per field, {n_seeds} seeds are too few for any test: the smallest exact McNemar p with {n_seeds} pairs is "
        f"{2 * 0.5 ** n_seeds:.3g}, so every single field is untestable with {n_seeds} seeds; the per-field "
        "intervals of the forest plots are normal approximations and wide. The inference is the pooling.",
        "- Corrected mode, free sign, the short protocol: effects are on learning within that budget, not on the "
        "paper's 10-epoch accuracies; the nonnegative arm and compat mode were not run across fields.",
        "- The meta-regression fits one covariate at a time over fields that overlap, with p values that treat "
        "the fields as independent; it describes which field properties go with an effect, and is no test of "
        "what causes it.",
        "- Every field trains seed s on the same trial streams, and every field is from the same mouse (the "
        "MICrONS volume): the field-seed pairs share streams (see the per-seed column), and 'a new field' "
        "means another field of this animal and volume.",
        "- The per-field weights of the learn-rate pooling come from 4 binary pairs: a field whose seeds all agree "
        "gets a small variance and a large weight, which pulls the pooled estimate toward 0 against the unweighted "
        "mean of the field effects; Cochran's Q and I² assume normal within-field errors that 4 binary pairs do not "
        "give, so read them as descriptive. The AUC variances come from 4 differences each and vary over orders of "
        "magnitude, which inflates Q (and its p) and I² for AUC.",
        "- The meta-regression's contrasts share arms" + _shared_arms(rates) + "; its fits are not independent "
        "findings, and Holm runs within a fit's covariates, not over all fits.",
        "- A pooled interval that excludes 0 says the average effect across fields is not 0; the prediction "
        "interval says how far a single new field may stray. Heterogeneity (τ², I²) from few seeds per field is "
        "itself imprecise.",
        "",
    ]
    return "\n".join(lines)


def _per_seed_text(per: pd.DataFrame) -> str:
    """``s0 +0.60, s1 +0.58, ...; mean +0.58 [t 95 % CI over the streams]`` of one contrast's per-seed rows."""
    if per.empty:
        return "–"
    from connectome_priors.stats import t_interval

    text = ", ".join(f"s{int(s)} {d:+.2f}" for s, d in zip(per.seed, per.difference))
    d = per.difference.to_numpy(float)
    if len(d) >= 2 and d.std(ddof=1) > 0:
        lo, hi = t_interval(d)
        text += f"; over the {len(d)} streams {d.mean():+.2f} [{max(-1.0, lo):+.2f}, {min(1.0, hi):+.2f}]"
    return text


def _overlap_sizes(overlap: pd.DataFrame) -> str:
    """``10 neurons at the median, up to 191``: how much the overlapping pairs of fields share."""
    if overlap.empty:
        return "no neuron"
    n = overlap["shared_neurons"]
    return f"{n.median():.0f} neurons at the median, up to {n.max():.0f}"


def _shared_arms(rates: pd.DataFrame, reference: str = "W*D*C", at_most: float = 0.10) -> str:
    """`` (5 of the 5 contrasts include W*D*C, and W, ... learned on at most 10 % of their runs on every task ...)``:
    why the meta-regression's fits are not independent findings (the counts come from ``rates``)."""
    with_ref = sum(reference in pair for pair in CONTRASTS)
    per_task = rates.groupby(["variant", "task"])[["learned", "n"]].sum()
    share = (per_task.learned / per_task.n.where(per_task.n > 0)).groupby(level="variant").agg(["min", "max"])
    rare = [(v, r["min"], r["max"]) for v, r in share.iterrows() if v != reference and r["max"] <= at_most]
    ref = _md_verdict(reference)
    said = f" ({with_ref} of the {len(CONTRASTS)} contrasts include {ref}"
    if rare:
        said += (f", and {', '.join(_md_verdict(v) for v, _, _ in rare)} learned on at most {at_most:.0%} of their "
                 "runs on every task (" + ", ".join(f"{_md_verdict(v)} {lo:.0%}–{hi:.0%}" for v, lo, hi in rare)
                 + f"), so their contrasts largely restate {ref}'s own learn rate and the fits count one "
                 "association several times")
    return said + ")"


def _closest_covariates(regression: pd.DataFrame) -> str:
    """Which covariate has the smallest p, per contrast, task and outcome, counted over the fits."""
    fitted = regression.dropna(subset=["p"])
    best = fitted.loc[fitted.groupby(["task", "a", "b", "outcome"], sort=False).p.idxmin()]
    parts = []
    for name, n in best.covariate.value_counts().items():
        per = best[best.covariate == name].outcome.value_counts()
        detail = ", ".join(f"{k} on {'learn rate' if o == 'learn_rate' else 'AUC'}" for o, k in per.items())
        parts.append(f"{name} in {n} ({detail})")
    return (f"The covariate that goes most closely with the effect (smallest p) in each of the {len(best)} "
            f"contrast-task-outcome fits: {'; '.join(parts)}.")


def _collinear(covariates: Mapping[str, Mapping[str, float]], fields: Sequence[str], at_least: float = 0.6) -> str:
    """`` (Spearman ρ across the fields: a with b 0.88, ...)`` for the covariate pairs with ``|ρ| >= at_least``."""
    frame = pd.DataFrame([covariates[f] for f in fields])
    if len(frame) < 3:
        return ""
    rho = frame.corr(method="spearman")
    names = list(rho.columns)
    pairs = sorted(((abs(rho.iloc[i, j]), names[i], names[j], rho.iloc[i, j]) for i in range(len(names))
                    for j in range(i + 1, len(names)) if abs(rho.iloc[i, j]) >= at_least), reverse=True)
    if not pairs:
        return f" (no two covariates reach |Spearman ρ| ≥ {at_least} across the fields)"
    return (f" (the pairs with |Spearman ρ| ≥ {at_least} across the fields: "
            + ", ".join(f"{a} with {b} {r:.2f}" for _, a, b, r in pairs) + ")")


def _num(x: float) -> str:
    if x != x:
        return "–"
    return f"{x:.0f}" if abs(x) >= 100 or float(x).is_integer() else f"{x:.3g}"


def _md_verdict(text: str) -> str:
    return text.replace("*", r"\*")


def _pool_table(pool: pd.DataFrame) -> list[str]:
    if pool.empty:
        return ["(no contrast has runs in 2 or more fields yet)"]
    lines = table_head(["contrast", "task", "outcome", "fields", "pooled [95 % CI]", "τ²", "I²", "Q (p)",
                        "prediction interval"])
    for r in pool.itertuples():
        lines.append(table_row([f"{_code(r.a)} vs {_code(r.b)}", TASK_LABELS.get(r.task, r.task),
                                "learn rate" if r.outcome == "learn_rate" else "AUC", r.k, _ci(r._asdict()),
                                fmt(r.tau2, 4), fmt(r.i2, 2), f"{fmt(r.q, 2)} ({fmt_p(r.q_p)})",
                                f"[{fmt(r.pred_lo)}, {fmt(r.pred_hi)}]"]))
    return lines
