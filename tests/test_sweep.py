"""The sweep: planning cells, write-once storage, the local backend and resume, the command line."""

from __future__ import annotations

import argparse
import json
import os

import pytest
from sweep_helpers import FakeCells, fake_results, planned_keys, stored_keys

from connectome_priors.benchmarks import _run_store as store
from connectome_priors.benchmarks import _schema as schema
from connectome_priors.benchmarks.sweep import _cli as sw
from connectome_priors.benchmarks.sweep import _plan as plan
from connectome_priors.benchmarks.sweep import _run as sweep_run


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
    from connectome_priors.fields._registry import field_ids

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


def test_predict_only_cli_uses_the_sweep_records(tmp_path, capsys):
    sweep_run.run_sweep(FIELDS, OPTIONS, tmp_path, cell_fn=FakeCells(), progress=False)
    assert len(list(tmp_path.glob("cells/*.json"))) == 12
    from connectome_priors.benchmarks.__main__ import main as benchmarks_main  # `python -m connectome_priors sweep ...`

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


def test_the_short_protocol_is_the_cross_field_arms_configuration():
    """``--protocol short`` resumes the cross-field store made with explicit sizes: same run identity."""
    from connectome_priors._protocol import SHORT
    from connectome_priors.benchmarks._ablation import config_from_sweep
    from connectome_priors.benchmarks.sweep._cli import add_arguments, options_from_args

    def config(*argv):
        args = add_arguments(argparse.ArgumentParser()).parse_args(["--fields", "5_3_8", "--tasks", "3", *argv])
        fields, options = options_from_args(args)
        cell = plan.plan_cells(fields, options)[0]
        return options, config_from_sweep(cell, options)

    short_options, short = config("--protocol", "short")
    _, explicit = config("--epochs", "2", "--n-val", "512", "--n-test", "1024")
    _, paper = config()
    assert short.config_hash() == explicit.config_hash() != paper.config_hash()
    assert (short.epochs, short.n_train, short.n_val, short.n_test) == (SHORT.epochs, SHORT.n_train, SHORT.n_val,
                                                                        SHORT.n_test)
    assert short_options.signs == ("free",) and config("--protocol", "short", "--epochs", "3")[1].epochs == 3
