"""The cross-field evidence: a sweep exported as committed records, rebuilt into docs/cross_field.md byte for byte,
with its pooled numbers checked against independent computations."""

from __future__ import annotations

import doctest
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binomtest
from sweep_helpers import ClaimingCells

from connectome_priors.benchmarks._field_meta import CONTRASTS
from connectome_priors.benchmarks.evidence import _build as build
from connectome_priors.benchmarks.evidence import _cross_field as xf
from connectome_priors.benchmarks.evidence._records import RecordsError
from connectome_priors.benchmarks.sweep import _plan as plan
from connectome_priors.benchmarks.sweep import _run as sweep_run
from connectome_priors.stats import LEARN_THRESHOLDS, paired_rate_difference, random_effects

FIELDS = ("5_3_8", "7_5_8", "4_7_8")  # 7_5_8 and 4_7_8 share 20 imaged neurons
VARIANTS = tuple(dict.fromkeys(v for pair in CONTRASTS for v in pair))
TEMPLATE = Path(__file__).resolve().parents[1] / "docs" / "results" / "reproduction_template.md"


@pytest.fixture(scope="module")
def exported(tmp_path_factory, microns_dir):
    root = tmp_path_factory.mktemp("xf")
    opts = plan.SweepOptions(seeds=4, epochs=1, tasks=("Task1", "Task3"), variants=VARIANTS)
    sweep_run.run_sweep(FIELDS, opts, root / "sweep", cell_fn=ClaimingCells(), progress=False)
    results = root / "docs" / "results"
    results.mkdir(parents=True)
    shutil.copy2(TEMPLATE, results / TEMPLATE.name)
    path, n = xf.export_sweep(root / "sweep", results, data_dir=microns_dir)
    return root, results, path, n


def test_export_writes_every_run_once_with_the_shared_protocol(exported):
    root, results, path, n = exported
    assert n == len(FIELDS) * len(VARIANTS) * 2 * 4
    lines = path.read_text().splitlines()
    assert len(lines) == n
    keys = [(r["field"], r["task"], r["variant"], r["seed"]) for r in map(json.loads, lines)]
    assert len(set(keys)) == n and [k[0] for k in keys] == sorted(k[0] for k in keys)
    assert all("curve" in json.loads(line) and "cell_wall_s" not in json.loads(line) for line in lines)
    config = json.loads((results / xf.CROSS_FIELD / xf.CONFIG).read_text())
    assert config["fields"] == sorted(FIELDS) and config["seeds"] == [0, 1, 2, 3]
    assert "field" not in config["protocol"] and config["protocol"]["epochs"] == 1
    cov = pd.read_csv(results / xf.CROSS_FIELD / xf.COVARIATES, dtype={"field": str}).set_index("field")
    assert cov.loc["5_3_8", "n_neurons"] == 42
    overlap = pd.read_csv(results / xf.CROSS_FIELD / xf.OVERLAP, dtype=str)
    assert overlap.values.tolist() == [["4_7_8", "7_5_8", "20"]]


def test_rebuild_matches_independent_computations_and_checks_byte_for_byte(exported):
    root, results, path, _ = exported
    written = build.rebuild(results)
    doc = results.parent / xf.DOC
    assert doc in written and doc.read_text().startswith("# Beyond one field")
    records = [json.loads(line) for line in path.read_text().splitlines()]
    learned = {(r["field"], r["task"], r["variant"], r["seed"]):
               r["metrics"]["Test_Accuracy"] >= LEARN_THRESHOLDS[r["task"]] for r in records}
    pooled = pd.read_csv(results / xf.CROSS_FIELD / "pooled.csv")
    exact = pd.read_csv(results / xf.CROSS_FIELD / "pooled_exact.csv")
    for task in ("Task1", "Task3"):
        for a, b in CONTRASTS:
            ys, vs, a_total, b_total = [], [], 0, 0
            for f in FIELDS:
                a_only = sum(learned[(f, task, a, s)] and not learned[(f, task, b, s)] for s in range(4))
                b_only = sum(learned[(f, task, b, s)] and not learned[(f, task, a, s)] for s in range(4))
                y, v = paired_rate_difference(a_only, b_only, 4)
                ys.append(y)
                vs.append(v)
                a_total, b_total = a_total + a_only, b_total + b_only
            oracle = random_effects(ys, vs, bounds=(-1, 1))
            row = pooled[(pooled.task == task) & (pooled.a == a) & (pooled.b == b)
                         & (pooled.outcome == "learn_rate")].iloc[0]
            assert (row.k, row.estimate, row.lo, row.hi) == (3, pytest.approx(oracle.estimate, abs=1e-6),
                                                             pytest.approx(oracle.lo, abs=1e-6),
                                                             pytest.approx(oracle.hi, abs=1e-6))
            e = exact[(exact.task == task) & (exact.a == a) & (exact.b == b)].iloc[0]
            assert (e.a_only, e.b_only, e.pairs) == (a_total, b_total, 12)
            p = binomtest(a_total, a_total + b_total).pvalue if a_total + b_total else 1.0
            assert e.p == pytest.approx(p, rel=1e-5) and p * (1 - 1e-5) <= e.p_holm <= 1
    independent = pd.read_csv(results / xf.CROSS_FIELD / "pooled_independent.csv")
    assert set(independent.k) == {2}  # 4_7_8 and 7_5_8 share neurons: one of them is left out
    for contrast in CONTRASTS:
        png = results / xf.CROSS_FIELD / f"forest_{xf._safe(contrast[0])}_vs_{xf._safe(contrast[1])}.png"
        assert png.stat().st_size > 0 and f"]({png.relative_to(results.parent).as_posix()})" in doc.read_text()
    out = build.check(results)
    assert not out["differ"] and not out["missing"], out
    assert "cross_field.md" in out["identical"]


def test_the_committed_tables_keep_the_magnitude_of_small_p_values():
    """p values of 1e-30 are written with significant digits, not rounded to 0; the closest covariate named in the
    document is the one with the smallest p in the committed fits."""
    folder = Path(__file__).resolve().parents[1] / "docs" / "results" / xf.CROSS_FIELD
    regression = pd.read_csv(folder / "regression.csv")
    exact = pd.read_csv(folder / "pooled_exact.csv")
    for name, p in (("regression.csv", regression.p.dropna()), ("pooled_exact.csv", exact.p)):
        assert (p > 0).all(), f"{name}: a p value was written as 0"
    fitted = regression.dropna(subset=["p"])
    best = fitted.sort_values("p").groupby(["task", "a", "b", "outcome"]).head(1)
    top, n = best.covariate.value_counts().index[0], int(best.covariate.value_counts().iloc[0])
    doc = (folder.parents[1] / xf.DOC).read_text()
    assert f"fits: {top} in {n} (" in doc


def test_the_answer_is_called_so_far_until_every_cell_is_complete(exported, tmp_path):
    _, results, path, _ = exported
    build.rebuild(results)
    assert "\n## The answer\n" in (results.parent / xf.DOC).read_text()
    partial = tmp_path / "docs" / "results"
    shutil.copytree(results, partial)
    lines = path.read_text().splitlines()
    (partial / xf.CROSS_FIELD / xf.RECORDS).write_text("\n".join(lines[1:]) + "\n")  # one run missing
    build.rebuild(partial)
    assert "\n## The answer so far\n" in (partial.parent / xf.DOC).read_text()


def test_independent_fields_share_no_neuron_and_cannot_grow():
    rng = np.random.default_rng(5)
    names = [f"f{i}" for i in range(12)]
    pairs = [(a, b, int(rng.integers(1, 9))) for i, a in enumerate(names) for b in names[i + 1:]
             if rng.random() < 0.3]
    overlap = pd.DataFrame(pairs, columns=["field_a", "field_b", "shared_neurons"])
    kept = xf.independent_fields(names, overlap)
    edges = {frozenset((a, b)) for a, b, _ in pairs}
    assert not any(frozenset((a, b)) in edges for a in kept for b in kept if a != b)
    for f in set(names) - set(kept):  # maximal: every field left out overlaps a kept one
        assert any(frozenset((f, k)) in edges for k in kept)


def test_read_names_the_file_and_line_of_a_bad_record(exported, tmp_path):
    _, results, _, _ = exported
    folder = tmp_path / xf.CROSS_FIELD
    shutil.copytree(results / xf.CROSS_FIELD, folder)
    lines = (folder / xf.RECORDS).read_text().splitlines()
    bad = json.loads(lines[2])
    bad["config_hash"] = "0" * 16
    (folder / xf.RECORDS).write_text("\n".join([*lines[:2], json.dumps(bad), *lines[3:]]) + "\n")
    with pytest.raises(RecordsError, match=r"records\.jsonl, line 3: config_hash 0{16}"):
        xf.read_cross_field(folder)
    config = json.loads((folder / xf.CONFIG).read_text())
    config["config_hash"]["../etc"] = "x"
    (folder / xf.CONFIG).write_text(json.dumps(config))
    with pytest.raises(RecordsError, match=r"config\.json: \['\.\./etc'\] are not field names"):
        xf.read_cross_field(folder)


def test_export_refuses_fields_run_under_different_protocols(tmp_path, microns_dir):
    opts = plan.SweepOptions(seeds=2, epochs=1, tasks=("Task3",), variants=("W*D*C", "WD*C"))
    sweep_run.run_sweep(("5_3_8",), opts, tmp_path / "sweep", cell_fn=ClaimingCells(), progress=False)
    other = plan.SweepOptions(seeds=2, epochs=2, tasks=("Task3",), variants=("W*D*C", "WD*C"))
    sweep_run.run_sweep(("7_5_8",), other, tmp_path / "sweep", cell_fn=ClaimingCells(), progress=False)
    with pytest.raises(RecordsError, match=r"7_5_8/config\.json: protocol differs .*'epochs': \(2, 1\)"):
        xf.export_sweep(tmp_path / "sweep", tmp_path / "results", data_dir=microns_dir)
    assert not (tmp_path / "results").exists()


def test_the_verdicts_claim_no_more_than_the_interval():
    result = doctest.testmod(xf, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 3 and result.failed == 0
    row = dict(a="A", b="B", estimate=0.05, lo=-0.02, hi=0.12, pred_lo=-0.3, pred_hi=0.4)
    assert xf.verdict(row) == "no consistent effect shown across fields"
    row.update(lo=-0.3, hi=-0.1, estimate=-0.2, pred_lo=-0.5, pred_hi=-0.01)
    assert xf.verdict(row).startswith("A < B on average across fields; and in a new field too")
    # the exact test over all field-seed pairs must agree, in significance and in direction
    assert xf.verdict(row, dict(a_only=0, b_only=9, p_holm=0.004)).startswith("A < B on average")
    assert xf.verdict(row, dict(a_only=0, b_only=4, p_holm=0.125)).startswith("not shown")
    assert xf.verdict(row, dict(a_only=9, b_only=0, p_holm=0.004)).startswith("not shown")
    # fields that share no neuron must show the same direction, or the verdict says they do not
    agree = dict(k=12, estimate=-0.2, lo=-0.35, hi=-0.05)
    assert "share no neuron" not in xf.verdict(row, independent=agree)
    for lo, hi in ((-0.3, 0.02), (0.05, 0.3)):  # crossing 0, or the other way
        said = xf.verdict(row, independent=dict(agree, lo=lo, hi=hi))
        assert said.startswith("A < B on average") and "not shown over 12 fields that share no neuron" in said
    assert xf.verdict(dict(row, lo=0.1, hi=0.3, estimate=0.2),
                      independent=dict(agree, lo=0.01, hi=0.4)).startswith("A > B")
    assert "share no neuron" not in xf.verdict(dict(row, lo=0.1, hi=0.3, estimate=0.2),
                                               independent=dict(agree, lo=0.01, hi=0.4))
    # "in a new field too" needs both prediction intervals on the same side of 0
    assert "and in a new field too" in xf.verdict(row, independent=dict(agree, pred_lo=-0.4, pred_hi=-0.01))
    said = xf.verdict(row, independent=dict(agree, pred_lo=-0.4, pred_hi=0.1))
    assert "a loss in a new field is not shown" in said and "over 12 fields that share no neuron [-0.40, 0.10]" in said
    # the fields must not contradict the prediction interval: at most 2.5 % of them without the effect
    assert "and in a new field too" in xf.verdict(row, observed=(1, 53))
    said = xf.verdict(row, observed=(2, 53))
    assert "a loss in a new field is not shown" in said and "no loss observed in 2 of 53 fields" in said
    # a clipped prediction interval is said to be clipped
    assert "clipped to [-1, 1]" in xf.verdict(dict(row, pred_lo=-1.0, clipped=True))


def test_export_writes_all_four_files_or_none(tmp_path, microns_dir):
    opts = plan.SweepOptions(seeds=2, epochs=1, tasks=("Task3",), variants=("W*D*C", "WD*C"))
    sweep_run.run_sweep(("5_3_8",), opts, tmp_path / "sweep", cell_fn=ClaimingCells(), progress=False)
    results = tmp_path / "results"
    xf.export_sweep(tmp_path / "sweep", results, data_dir=microns_dir)
    before = {p.name: p.read_bytes() for p in (results / xf.CROSS_FIELD).iterdir()}
    # a run stored twice (a copied file) is refused, naming it, and nothing is rewritten
    runs = tmp_path / "sweep" / "free" / "5_3_8" / "runs" / "Task3"
    one = sorted(runs.glob("*/seed_0000.json"))[0]
    shutil.copy2(one, one.with_name("seed_0007.json"))
    with pytest.raises(RecordsError, match=r"5_3_8: Task3/.*/seed 0: stored twice"):
        xf.export_sweep(tmp_path / "sweep", results, data_dir=microns_dir)
    one.with_name("seed_0007.json").unlink()
    # a field whose data cannot be loaded: the error names it, and the committed files are left as they were
    opts2 = plan.SweepOptions(seeds=2, epochs=1, tasks=("Task3",), variants=("W*D*C", "WD*C"))
    sweep_run.run_sweep(("7_5_8",), opts2, tmp_path / "sweep", cell_fn=ClaimingCells(), progress=False)
    with pytest.raises(RecordsError, match="field 5_3_8: its data could not be loaded .*no-such-data"):
        xf.export_sweep(tmp_path / "sweep", results, data_dir=tmp_path / "no-such-data")
    assert {p.name: p.read_bytes() for p in (results / xf.CROSS_FIELD).iterdir()} == before


def test_read_names_the_input_that_is_wrong(exported, tmp_path):
    _, results, _, _ = exported
    folder = tmp_path / xf.CROSS_FIELD
    shutil.copytree(results / xf.CROSS_FIELD, folder)
    cov = pd.read_csv(folder / xf.COVARIATES, dtype={"field": str})
    cov.drop(columns=["n_neurons"]).to_csv(folder / xf.COVARIATES, index=False)
    with pytest.raises(RecordsError, match=r"covariates\.csv: lacks the column\(s\) \['n_neurons'\]"):
        xf.read_cross_field(folder)
    cov.assign(n_neurons="many").to_csv(folder / xf.COVARIATES, index=False)
    with pytest.raises(RecordsError, match=r"covariates\.csv: non-numeric values"):
        xf.read_cross_field(folder)
    cov.to_csv(folder / xf.COVARIATES, index=False)
    config = json.loads((folder / xf.CONFIG).read_text())
    del config["protocol"]["n_test"]
    (folder / xf.CONFIG).write_text(json.dumps(config))
    with pytest.raises(RecordsError, match=r"config\.json: the protocol lacks the number\(s\) \['n_test'\]"):
        xf.read_cross_field(folder)
    (folder / xf.RECORDS).write_text("")
    config["protocol"]["n_test"] = 1024
    (folder / xf.CONFIG).write_text(json.dumps(config))
    with pytest.raises(RecordsError, match=r"records\.jsonl: no records"):
        xf.read_cross_field(folder)


def test_import_then_export_round_trips_and_the_sweep_resumes_where_the_records_stop(exported, tmp_path, microns_dir,
                                                                                      capsys):
    from connectome_priors.benchmarks.evidence import _cli

    root, results, path, n = exported
    folder = results / xf.CROSS_FIELD
    store = tmp_path / "sweep"
    assert _cli.main(["import", str(folder), str(store)]) == 0
    assert capsys.readouterr().out.startswith(f"{n} runs written to {store}; resume with: python -m ")
    assert not list(store.rglob("*.npz"))
    again = tmp_path / "results"
    xf.export_sweep(store, again, data_dir=microns_dir)
    for name in xf.INPUTS:  # the same four input files, byte for byte
        assert (again / xf.CROSS_FIELD / name).read_bytes() == (folder / name).read_bytes(), name
    # every imported run counts as finished: a sweep asking for a fifth seed only has seed 4 left
    opts = plan.SweepOptions(seeds=5, epochs=1, tasks=("Task1", "Task3"), variants=VARIANTS)
    todo = plan.pending_cells(plan.plan_cells(FIELDS, opts), plan.finished_runs(store, FIELDS, ("free",)))
    assert todo and {c.seeds for c in todo} == {(4,)}
    assert xf.import_sweep(folder, store) == 0  # idempotent
    config = json.loads((folder / xf.CONFIG).read_text())
    command = xf.resume_command(config, store)
    assert f"--fields {','.join(sorted(FIELDS))} " in command and command.endswith(f"--out {store}")


def test_import_refuses_a_protocol_that_does_not_give_the_runs_hash(exported, tmp_path):
    _, results, _, _ = exported
    bad = tmp_path / xf.CROSS_FIELD
    shutil.copytree(results / xf.CROSS_FIELD, bad)
    config = json.loads((bad / xf.CONFIG).read_text())
    config["protocol"]["lr"] = 0.5  # edited after the runs were made
    (bad / xf.CONFIG).write_text(json.dumps(config))
    with pytest.raises(RecordsError, match=r"config\.json: the protocol with field 4_7_8 hashes to [0-9a-f]{16}, "
                                           r"not the config_hash"):
        xf.import_sweep(bad, tmp_path / "store")
    assert not (tmp_path / "store").exists()  # checked before anything is written
    # a sweep folder of another configuration is refused too, naming its config.json
    other = tmp_path / "other" / "free" / "5_3_8"
    other.mkdir(parents=True)
    (other / "config.json").write_text(json.dumps({"config_hash": "0000000000000000"}))
    with pytest.raises(RecordsError, match=r"free/5_3_8/config\.json: config_hash 0000000000000000 != "):
        xf.import_sweep(results / xf.CROSS_FIELD, tmp_path / "other")
    assert not (tmp_path / "other" / "free" / "4_7_8").exists()


def test_per_seed_and_concentration_tables_match_the_records(exported):
    _, results, path, _ = exported
    build.rebuild(results)
    records = [json.loads(line) for line in path.read_text().splitlines()]
    learned = {(r["field"], r["task"], r["variant"], r["seed"]):
               r["metrics"]["Test_Accuracy"] >= LEARN_THRESHOLDS[r["task"]] for r in records}
    per_seed = pd.read_csv(results / xf.CROSS_FIELD / "per_seed.csv")
    for row in per_seed.itertuples():
        diffs = [learned[(f, row.task, row.a, row.seed)] - learned[(f, row.task, row.b, row.seed)] for f in FIELDS]
        assert row.fields == len(FIELDS) and row.difference == pytest.approx(np.mean(diffs))
    assert len(per_seed) == 2 * len(CONTRASTS) * 4
    fails = pd.read_csv(results / xf.CROSS_FIELD / "reference_fails.csv", dtype={"failed": str}, keep_default_na=False)
    for row in fails.itertuples():
        failed = {f for f in FIELDS if not any(learned[(f, row.task, "W*D*C", s)] for s in range(4))}
        assert set(filter(None, row.failed.split(","))) == failed and row.fields_failed == len(failed)
        assert row.control_learned == sum(learned[(f, row.task, "Wdiag-D*C", s)] for f in failed for s in range(4))
        assert row.rest_k == len(FIELDS) - len(failed)
