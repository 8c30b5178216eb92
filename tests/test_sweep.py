"""Cross-field sweep: cells, write-once storage, local resume, cost model, cross-field report."""

from __future__ import annotations

import hashlib
import itertools
import json
import os
from pathlib import Path

import numpy as np
import pytest

from benchmarks import _cost_model as cm
from benchmarks import _cross_field as cf
from benchmarks import _schema as schema
from benchmarks import _store as store
from benchmarks import _sweep as sw
from benchmarks import _sweep_plan as plan
from benchmarks import _sweep_run as sweep_run
from sweep_keys import planned_keys, stored_keys


def fake_results(cell, n_neurons=None):
    """Deterministic stand-in results: a function of (field, variant, task, seed) only."""
    out = []
    for v in cell.variants:
        for s in cell.seeds:
            tag = f"{cell.field}/{cell.sign}/{cell.task}/{v}/{s}".encode()
            rng = np.random.default_rng(int.from_bytes(hashlib.sha256(tag).digest()[:8], "little"))
            out.append({"variant": v, "task": cell.task, "seed": s,
                        "metrics": {"Accuracy": float(rng.uniform(0.4, 1.0)),
                                    "Modularity": float(rng.uniform(0, 0.5))}})
    return out


class FakeCells:
    """Cell function that records its calls and can fail once on chosen cells."""

    def __init__(self, fail_once=()):
        self.calls = []
        self.fail_once = set(fail_once)

    def __call__(self, cell, out_dir, options):
        self.calls.append(cell)
        if cell.key in self.fail_once:
            self.fail_once.discard(cell.key)
            raise RuntimeError(f"injected failure in {cell.key}")
        return fake_results(cell)


class Interrupt(Exception):
    pass


OPTIONS = plan.SweepOptions(seeds=3, epochs=1, tasks=("Task1", "Task3"), variants=("W*D*C", "WD*C", "W"))
FIELDS = ("5_3_8", "5_3_4")


def expected_keys(fields=FIELDS, options=OPTIONS):
    return planned_keys(fields, options)


# ---------------------------------------------------------------------------- cells and keys


def test_plan_covers_every_run_once_and_pending_shrinks_to_missing_seeds():
    cells = plan.plan_cells(FIELDS, OPTIONS)
    assert len(cells) == 2 * 2 * 3
    keys = [k for c in cells for k in c.run_keys()]
    assert len(keys) == len(set(keys)) == 2 * 2 * 3 * 3
    grouped = plan.plan_cells(FIELDS, plan.SweepOptions(**{**OPTIONS.__dict__, "group": "all"}))
    assert {k for c in grouped for k in c.run_keys()} == set(keys)
    finished = {k for k in keys if not (k.field == "5_3_8" and k.task == "Task1" and k.seed == 1)}
    pending = plan.pending_cells(cells, finished)
    assert [c.seeds for c in pending] == [(1,)] * 3
    assert {c.variants[0] for c in pending} == {"W*D*C", "WD*C", "W"}
    assert plan.pending_cells(cells, set(keys)) == []


def test_fields_and_tasks_are_validated():
    from connectome_priors._registry import field_ids

    assert plan.resolve_fields("all") == field_ids()
    assert len(plan.resolve_fields("all")) == 56
    assert plan.resolve_fields("5_3_8, 6_6_2") == ("5_3_8", "6_6_2")
    with pytest.raises(ValueError, match="unknown field id.*9_9_9"):
        plan.resolve_fields("5_3_8,9_9_9")
    assert schema.parse_tasks("1,Task3") == ("Task1", "Task3")
    with pytest.raises(ValueError, match="unknown task '4'"):
        schema.parse_tasks("1,4")


def test_field_sizes_from_registry_match_the_data(microns_dir):
    from connectome_priors import load_field

    sizes = plan.field_sizes(("5_3_8", "6_6_2"))
    for f, n in sizes.items():
        assert n == load_field(f, data_dir=microns_dir).sizes["neuron"]
    assert min(plan.field_sizes(plan.resolve_fields("all")).values()) == 42


def test_write_once_is_atomic_and_never_overwrites(tmp_path, monkeypatch):
    p = tmp_path / "a" / "r.json"
    assert store.write_once(p, {"x": 1})
    assert not store.write_once(p, {"x": 2})
    assert json.loads(p.read_text()) == {"x": 1}

    def broken_replace(src, dst):
        raise OSError("disk gone")

    monkeypatch.setattr(os, "replace", broken_replace)
    q = tmp_path / "a" / "q.json"
    with pytest.raises(OSError, match="disk gone"):
        store.write_once(q, {"x": 3})
    assert not q.exists()
    assert [f.name for f in (tmp_path / "a").iterdir()] == ["r.json"]  # no temporary left behind


# ---------------------------------------------------------------------------- local resume


@pytest.mark.parametrize("kill_after", [1, 5])
def test_local_sweep_killed_after_k_cells_resumes_to_every_run_exactly_once(tmp_path, kill_after):
    cells_fn = FakeCells()
    done = []

    def killer(outcome):
        done.append(outcome.cell)
        if len(done) == kill_after:
            raise Interrupt

    with pytest.raises(Interrupt):
        sweep_run.run_sweep(FIELDS, OPTIONS, tmp_path, cell_fn=cells_fn, on_cell_done=killer, progress=False)
    assert len(stored_keys(tmp_path)) == kill_after * 3  # 3 seeds per one-variant cell

    summary = sweep_run.run_sweep(FIELDS, OPTIONS, tmp_path, cell_fn=cells_fn, progress=False)
    keys = stored_keys(tmp_path)
    assert len(keys) == len(set(keys)) and set(keys) == expected_keys()
    # Nothing finished was recomputed: every cell ran exactly once over both invocations.
    assert sorted(c.key for c in cells_fn.calls) == sorted(c.key for c in plan.plan_cells(FIELDS, OPTIONS))
    assert summary.cells_run == 12 - kill_after and summary.runs_skipped == 0
    # A third invocation has nothing to do.
    again = sweep_run.run_sweep(FIELDS, OPTIONS, tmp_path, cell_fn=cells_fn, progress=False)
    assert again.cells_run == 0 and len(cells_fn.calls) == 12
    # Results are the cell function's, untouched.
    run = json.loads(next(tmp_path.glob("free/5_3_8/runs/Task1/WstarDstarC/seed_0002.json")).read_text())
    ref = [r for r in fake_results(plan.Cell("5_3_8", "free", "Task1", ("W*D*C",), (2,)))][0]
    assert run["metrics"] == ref["metrics"] and run["field"] == "5_3_8" and run["sign"] == "free"


def test_a_partly_written_cell_reruns_only_its_missing_seeds(tmp_path):
    cells_fn = FakeCells()
    sweep_run.run_sweep(FIELDS, OPTIONS, tmp_path, cell_fn=cells_fn, progress=False)
    lost = sorted(tmp_path.glob("free/5_3_4/runs/Task3/W/seed_*.json"))[1:]  # seeds 1, 2
    for p in lost:
        p.unlink()
    cells_fn.calls.clear()
    sweep_run.run_sweep(FIELDS, OPTIONS, tmp_path, cell_fn=cells_fn, progress=False)
    assert [(c.field, c.task, c.variants, c.seeds) for c in cells_fn.calls] == [("5_3_4", "Task3", ("W",), (1, 2))]
    keys = stored_keys(tmp_path)
    assert len(keys) == len(set(keys)) and set(keys) == expected_keys()


def test_a_failing_cell_is_reported_and_retried_on_the_next_run(tmp_path):
    bad = plan.Cell("5_3_4", "free", "Task1", ("WD*C",), (0, 1, 2)).key
    cells_fn = FakeCells(fail_once={bad})
    first = sweep_run.run_sweep(FIELDS, OPTIONS, tmp_path, cell_fn=cells_fn, progress=False)
    assert [k for k, _ in first.failed] == [bad] and "injected failure" in first.failed[0][1]
    assert len(stored_keys(tmp_path)) == 33
    second = sweep_run.run_sweep(FIELDS, OPTIONS, tmp_path, cell_fn=cells_fn, progress=False)
    assert second.failed == [] and second.cells_run == 1
    assert set(stored_keys(tmp_path)) == expected_keys()
    with pytest.raises(RuntimeError, match="failed"):
        sweep_run.run_sweep(("5_3_8",), OPTIONS, tmp_path / "ff", cell_fn=FakeCells(fail_once={
            plan.Cell("5_3_8", "free", "Task1", ("W*D*C",), (0, 1, 2)).key}), fail_fast=True, progress=False)


def test_a_cell_returning_a_foreign_run_is_an_error(tmp_path):
    def wrong(cell, out_dir, options):
        return [{"variant": "WDC", "task": cell.task, "seed": 0, "metrics": {}}]

    with pytest.raises(ValueError, match="not asked for"):
        sweep_run.run_sweep(("5_3_8",), OPTIONS, tmp_path, cell_fn=wrong, progress=False)


# ---------------------------------------------------------------------------- cost model


def brute_force_makespan(durations, workers):
    best = float("inf")
    for assignment in itertools.product(range(workers), repeat=len(durations)):
        loads = np.zeros(workers)
        np.add.at(loads, list(assignment), durations)
        best = min(best, loads.max())
    return best


def test_lpt_makespan_is_between_the_optimum_and_four_thirds_of_it():
    rng = np.random.default_rng(0)
    for _ in range(30):
        d = rng.uniform(0.1, 10, size=rng.integers(1, 8))
        w = int(rng.integers(1, 4))
        opt = brute_force_makespan(d, w)
        got = cm.lpt_makespan(d, w)
        assert opt - 1e-9 <= got <= (4 / 3 - 1 / (3 * w)) * opt + 1e-9
    assert cm.lpt_makespan([3.0, 3.0], 1) == 6.0
    with pytest.raises(ValueError, match="workers"):
        cm.lpt_makespan([1.0], 0)


def test_cost_model_recovers_a_known_cell_cost_and_predicts_a_sweep():
    true = np.array([2.0, 0.5, 1.5, 0.3, 0.8])
    rng = np.random.default_rng(1)
    records = []
    groups = [("W",), ("WD*C",), ("W", "WD"), ("W*D*C", "WD*C*", "WD")]  # V and Vc independent
    for n, variants, s, e in itertools.product((42, 88, 160, 312), groups, (1, 4), (1, 2)):
        x = cm.cell_features(n, len(variants), s, e, cm.n_comm_variants(variants))
        wall = x @ true * (1 + 0.01 * rng.standard_normal())
        records.append(dict(n_neurons=n, n_variants=len(variants), variants=list(variants), n_seeds=s,
                            work=e, wall_s=wall))
    model = cm.fit_cost_model(records)
    X = np.stack([cm.cell_features(r["n_neurons"], r["n_variants"], r["n_seeds"], r["work"],
                                   cm.n_comm_variants(r["variants"])) for r in records])
    oracle = np.linalg.lstsq(X, [r["wall_s"] for r in records], rcond=None)[0]
    np.testing.assert_allclose(model.coef, oracle, rtol=0.05, atol=0.05)
    big = cm.cell_features(632, 11, 20, 10, 7) @ true
    assert model.predict_cell(632, 11, 20, 10, 7) == pytest.approx(big, rel=0.05)
    # Records that all look alike: the time is attributed to the work, so it scales with it.
    alike = cm.fit_cost_model([dict(n_neurons=42, n_variants=1, n_seeds=2, work=3.0, wall_s=12.0)] * 3)
    assert alike.predict_cell(42, 1, 2, 6.0) == pytest.approx(24.0)
    cells = plan.plan_cells(("5_3_8", "6_6_2"), plan.SweepOptions(seeds=2, epochs=1, tasks=("Task1",),
                                                             variants=("W", "WDC")))
    pred = cm.predict_sweep(model, cells, 1, {"5_3_8": 42, "6_6_2": 312}, workers=2)
    per = sorted((model.predict_cell(n, 1, 2, 1, int(v == "WDC")) for n in (42, 312) for v in ("W", "WDC")),
                 reverse=True)
    a, b, c, d = per  # LPT by hand: a | b, then c joins b, then d joins the lighter of a and b+c
    expected = max(a + d, b + c) if a <= b + c else max(a, b + c + d)
    assert pred["makespan_s"] == pytest.approx(expected)
    assert pred["cell_seconds_total"] == pytest.approx(sum(per))
    with pytest.raises(ValueError, match="no cell records"):
        cm.fit_cost_model([])
    assert cm.check_prediction(10, 25)["within"] is False and cm.check_prediction(10, 19)["within"]


def test_predict_only_cli_uses_the_sweep_records(tmp_path, capsys):
    sweep_run.run_sweep(FIELDS, OPTIONS, tmp_path, cell_fn=FakeCells(), progress=False)
    assert len(list(tmp_path.glob("cells/*.json"))) == 12
    from benchmarks.__main__ import main as benchmarks_main  # `python -m benchmarks sweep ...`

    rc = benchmarks_main(["sweep", "--fields", "5_3_8,5_3_4,6_6_2", "--out", str(tmp_path), "--seeds", "3",
                          "--epochs", "1", "--tasks", "1,3", "--variants", "W*D*C,WD*C,W", "--predict-only",
                          "--workers", "2"])
    assert rc == 0
    pred = json.loads(capsys.readouterr().out)
    assert pred["full"]["cells"] == 18 and pred["remaining"]["cells"] == 6
    assert pred["full"]["predicted_wall_s"] >= pred["remaining"]["predicted_wall_s"] > 0


def test_cli_rejects_bad_arguments(capsys):
    with pytest.raises(SystemExit):
        sw.main(["--fields", "1_2_3", "--predict-only"])
    assert "unknown field id" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        sw.main(["--variants", "W*D*Q", "--predict-only"])
    assert "W*D*Q" in capsys.readouterr().err


def test_paper_protocol_defaults():
    parser = sw.add_arguments(__import__("argparse").ArgumentParser())
    fields, opt = sw.options_from_args(parser.parse_args(["--protocol", "paper"]))
    assert fields == ("6_6_2",) and opt.signs == ("free", "nonneg") and opt.seeds == 20 and opt.epochs == 10
    cells = plan.plan_cells(fields, opt)
    assert len(cells) == 2 * 3 and all(len(c.variants) == 11 and len(c.seeds) == 20 for c in cells)


# ---------------------------------------------------------------------------- cross-field report


def test_field_geometry_area_is_the_xz_hull():
    rng = np.random.default_rng(2)
    corners = np.array([[0, 0], [30, 0], [30, 20], [0, 20]], float)
    inner = rng.uniform([1, 1], [29, 19], size=(50, 2))
    xz = np.vstack([corners, inner])
    pos = np.column_stack([xz[:, 0], rng.uniform(100, 140, len(xz)), xz[:, 1]])
    g = cf.field_geometry(pos)
    assert g["n_neurons"] == 54 and g["area_um2"] == pytest.approx(600.0)
    assert g["depth_um"] == pytest.approx(np.ptp(pos[:, 1]))
    with pytest.raises(ValueError, match=r"shape \(N, 3\)"):
        cf.field_geometry(np.zeros((4, 2)))


def test_cross_field_report_from_a_sweep(tmp_path, microns_dir):
    fields = ("5_3_8", "5_3_4", "4_7_2")
    opts = plan.SweepOptions(seeds=4, epochs=1, tasks=("Task1",), variants=("W*D*C", "WD*C"))
    sweep_run.run_sweep(fields, opts, tmp_path, cell_fn=FakeCells(), progress=False)
    report = cf.write_cross_field_report(tmp_path, data_dir=microns_dir)
    text = report.read_text()
    assert "5_3_4" in text and "Spearman" in text and "Cost" in text
    for name in ("cross_field_runs.csv", "cross_field_summary.csv", "cross_field_trends.csv",
                 "cross_field_prior_effect.csv", "cross_field_simple_effects_mannwhitney.csv",
                 "cross_field_accuracy.png", "cross_field_metrics.png"):
        assert (tmp_path / name).stat().st_size > 0, name
    import pandas as pd
    from scipy import stats

    runs = pd.read_csv(tmp_path / "cross_field_runs.csv")
    assert len(runs) == 3 * 2 * 4 * 2  # fields x variants x seeds x metrics
    summ = pd.read_csv(tmp_path / "cross_field_summary.csv")
    sel = runs[(runs.field == "5_3_4") & (runs.variant == "WD*C") & (runs.metric == "Accuracy")]["value"]
    row = summ[(summ.field == "5_3_4") & (summ.variant == "WD*C") & (summ.metric == "Accuracy")].iloc[0]
    assert row["mean"] == pytest.approx(sel.mean())
    lo, hi = stats.t.interval(0.95, len(sel) - 1, loc=sel.mean(), scale=stats.sem(sel))
    assert (row["t_lo"], row["t_hi"]) == pytest.approx((lo, hi))
    assert row["boot_lo"] <= row["mean"] <= row["boot_hi"]
    kw = pd.read_csv(tmp_path / "cross_field_simple_effects_kruskal.csv")
    k = kw[(kw.field == "5_3_8") & (kw.metric == "Accuracy") & (kw.focus == "w_variant")].iloc[0]
    a8 = runs[(runs.field == "5_3_8") & (runs.metric == "Accuracy")]
    oracle = stats.kruskal(a8[a8.variant == "W*D*C"].value, a8[a8.variant == "WD*C"].value).pvalue
    assert k["p"] == pytest.approx(oracle)
    trends = pd.read_csv(tmp_path / "cross_field_trends.csv")
    t = trends[(trends.variant == "W*D*C") & (trends.metric == "Accuracy")].iloc[0]
    acc = summ[(summ.variant == "W*D*C") & (summ.metric == "Accuracy")]
    assert t["rho_n_neurons"] == pytest.approx(stats.spearmanr(acc.n_neurons, acc["mean"])[0])
    eff = pd.read_csv(tmp_path / "cross_field_prior_effect.csv")
    e = eff[(eff.field == "4_7_2") & (eff.metric == "Accuracy")].iloc[0]
    a = runs[(runs.field == "4_7_2") & (runs.variant == "W*D*C") & (runs.metric == "Accuracy")]["value"]
    b = runs[(runs.field == "4_7_2") & (runs.variant == "WD*C") & (runs.metric == "Accuracy")]["value"]
    assert e["p"] == pytest.approx(stats.mannwhitneyu(a, b).pvalue)
    assert e["p_holm"] >= e["p"]
