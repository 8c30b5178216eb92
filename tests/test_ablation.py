"""The ablation runner and its command line: a tiny real ablation on field 5_3_8, resume after an interruption,
the run records and the report built from them."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from connectome_priors.benchmarks import _ablation, _run_store, _schema, _variants
from connectome_priors.benchmarks.__main__ import main
from connectome_priors.benchmarks._cli import ablation_parser, config_from_args
from connectome_priors.benchmarks.report import _write
from connectome_priors.stats import PAIRED_COLUMNS

TINY = dict(field="5_3_8", seeds=(0, 1), epochs=1, tasks=("Task3",),
            variants=("W*D*C", "WD*C*"), n_train=256, n_val=128, n_test=128)


# --------------------------------------------------------------------------------------------
# the command line (no training)


def test_cli_quick_and_explicit_options():
    args = ablation_parser().parse_args(["--quick", "--tasks", "3,1", "--sign", "nonneg", "--controls"])
    cfg = config_from_args(args)
    assert cfg.seeds == tuple(range(_schema.QUICK["seeds"]))
    assert cfg.epochs == _schema.QUICK["epochs"] and cfg.n_train == _schema.QUICK["n_train"]
    assert cfg.tasks == ("Task3", "Task1") and cfg.sign == "nonneg"
    assert cfg.variants[-len(_variants.CONTROLS):] == tuple(v.name for v in _variants.CONTROLS)
    args = ablation_parser().parse_args(["--seeds", "5", "--epochs", "7", "--variants", "WD,W*D*C"])
    cfg = config_from_args(args)
    assert cfg.seeds == (0, 1, 2, 3, 4) and cfg.epochs == 7 and cfg.n_train == 5120
    assert cfg.variants == ("W*D*C", "WD")  # canonical order, whatever the order asked
    assert main(["nonsense"]) == 2


def test_cli_protocol_short_sets_the_short_sizes_and_yields_to_explicit_ones():
    from connectome_priors._protocol import PAPER, SHORT

    short = config_from_args(ablation_parser().parse_args(["--protocol", "short"]))
    assert (short.epochs, short.n_train, short.n_val, short.n_test) == (2, 5120, 512, 1024) == (
        SHORT.epochs, SHORT.n_train, SHORT.n_val, SHORT.n_test)
    paper = config_from_args(ablation_parser().parse_args([]))
    assert (paper.epochs, paper.n_val) == (PAPER.epochs, PAPER.n_val) and paper.config_hash() != short.config_hash()
    mixed = config_from_args(ablation_parser().parse_args(["--protocol", "short", "--epochs", "4", "--n-test", "64"]))
    assert (mixed.epochs, mixed.n_val, mixed.n_test) == (4, 512, 64)
    with pytest.raises(SystemExit):
        ablation_parser().parse_args(["--protocol", "long"])
    off = config_from_args(ablation_parser().parse_args(["--lam-emd", "0", "--lam", "0.5"]))
    assert (off.lam_emd, off.lam, paper.lam_emd, paper.lam) == (0.0, 0.5, PAPER.lam_emd, PAPER.lam)
    assert off.config_hash() != paper.config_hash()  # a store of one strength never resumes as the other
    with pytest.raises(ValueError, match="lam_emd"):
        config_from_args(ablation_parser().parse_args(["--lam-emd", "-1"]))


# --------------------------------------------------------------------------------------------
# a tiny real ablation, interrupted and resumed


class Interrupt(Exception):
    pass


@pytest.fixture(scope="module")
def tiny_ablation(tmp_path_factory, microns_dir):
    """Run TINY, interrupt it after its first run, resume it; record which seeds each call trained."""
    out = tmp_path_factory.mktemp("ablation")
    cfg = _schema.AblationConfig(**TINY, data_dir=str(microns_dir))
    calls = []
    real_train_cell = _ablation.train_cell

    def spy(config, variant, task, seeds, priors=None):
        calls.append((variant, task, tuple(seeds)))
        return real_train_cell(config, variant, task, seeds, priors)

    done = []

    def stop_after_first(result):
        done.append(result)
        raise Interrupt

    mp = pytest.MonkeyPatch()
    mp.setattr(_ablation, "train_cell", spy)
    try:
        with pytest.raises(Interrupt):
            _ablation.run_ablation(cfg, out, progress=False, on_run_done=stop_after_first)
        first_calls = list(calls)
        first_files = {p: p.read_bytes() for p in out.glob("runs/*/*/seed_*.json")}
        calls.clear()
        _ablation.run_ablation(cfg, out, progress=False, published=None)
        second_calls = list(calls)
        calls.clear()
        _ablation.run_ablation(cfg, out, progress=False, report=False)  # nothing left to train
        third_calls = list(calls)
    finally:
        mp.undo()
    return dict(out=out, cfg=cfg, first_calls=first_calls, first_files=first_files,
                second_calls=second_calls, third_calls=third_calls)


@pytest.mark.slow
def test_interrupted_run_keeps_finished_runs_and_resume_trains_only_the_rest(tiny_ablation):
    t = tiny_ablation
    # interrupted in the 1st cell after its 1st seed was written: 1 run on disk, seed 1 lost
    assert t["first_calls"] == [("W*D*C", "Task3", (0, 1))]
    assert len(t["first_files"]) == 1
    # the resume trains the lost seed of cell 1 and the untouched cell 2, nothing else
    assert t["second_calls"] == [("W*D*C", "Task3", (1,)), ("WD*C*", "Task3", (0, 1))]
    assert t["third_calls"] == []
    for path, content in t["first_files"].items():  # finished runs are never rewritten
        assert path.read_bytes() == content
    runs = _run_store.RUN_STORE.load(t["out"])
    keys = sorted((r["variant"], r["seed"]) for r in runs)
    assert keys == sorted((v, s) for v in TINY["variants"] for s in TINY["seeds"])
    assert not list(t["out"].glob("**/*.tmp"))


@pytest.mark.slow
def test_run_records_are_complete_and_plausible(tiny_ablation):
    runs = _run_store.RUN_STORE.load(tiny_ablation["out"])
    for r in runs:
        assert r["config_hash"] == tiny_ablation["cfg"].config_hash()
        assert r["run_key"] == _schema.run_key(tiny_ablation["cfg"], r["variant"], r["task"], r["seed"])
        m = r["metrics"]
        assert set(m) == set(_schema.RUN_METRICS)
        if r["status"] == "ok":
            for k in ("Accuracy", "Validation_Accuracy", "Test_Accuracy"):
                assert 0.0 <= m[k] <= 1.0
            assert m["Loss"] == pytest.approx(m["Task_Loss"] + m["Penalty"])
            assert m["Penalty"] > 0
            assert all(len(h) == TINY["epochs"] for h in r["history"].values())
        w = _run_store.RunStore.load_w_rec(tiny_ablation["out"], r)
        assert w.shape == (42, 42) and w.dtype == np.float32
    by_variant = {r["variant"]: r for r in runs if r["seed"] == 0}
    assert "communicability_cost" in " ".join(by_variant["W*D*C"]["regularizers"])
    assert "communicability_emd" in " ".join(by_variant["WD*C*"]["regularizers"])
    assert "MICrONSInit" in by_variant["W*D*C"]["w_rec_init"] and by_variant["WD*C*"]["w_rec_init"] is None


@pytest.mark.slow
def test_report_outputs_are_well_formed(tiny_ablation):
    import xarray as xr

    out = tiny_ablation["out"]
    ds = xr.load_dataset(out / "ablation.nc", engine="h5netcdf")
    assert ds["Accuracy"].dims == ("variant", "task", "seed")
    assert list(ds["variant"].values) == list(TINY["variants"])
    assert ds.attrs["field"] == "5_3_8" and ds.attrs["reference_compat"] == 0
    assert list(ds.attrs["seeds"]) == [0, 1]
    assert "jax" in json.loads(ds.attrs["versions_json"])
    assert set(np.unique(ds["status"].values)) <= {"ok"} | {s for s in np.unique(ds["status"].values)
                                                             if s.startswith("stopped")}
    runs = _run_store.RUN_STORE.load(out)
    r = runs[0]
    assert float(ds["Test_Accuracy"].sel(variant=r["variant"], task=r["task"], seed=r["seed"])) == \
        pytest.approx(r["metrics"]["Test_Accuracy"])

    raw = pd.read_csv(out / "csv" / "Task3" / "Accuracy_raw.csv")
    assert list(raw.columns) == ["simulation", *TINY["variants"]]  # the published layout
    assert raw["simulation"].tolist() == [0, 1]
    for metric in ("Entropy", "Modularity", "SmallWorldness", "Assortativity", "Validation_Loss"):
        assert (out / "csv" / "Task3" / f"{metric}_raw.csv").exists()
    summary = pd.read_csv(out / "csv" / "summary.csv")
    acc = summary[(summary.metric == "Accuracy") & (summary.variant == "W*D*C")].iloc[0]
    vals = raw["W*D*C"].to_numpy()
    assert acc["mean"] == pytest.approx(vals.mean(), abs=1e-6)

    for fig in ("accuracy.png", "metrics.png"):
        assert (out / "figures" / fig).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    md = (out / "report.md").read_text()
    assert "# Ablation report: field 5_3_8" in md
    assert "| W*D*C |" in md and "final-epoch *training* accuracy" in md
    assert "not compared" in md or "not found" in md  # 5_3_8 has no published numbers
    assert "Seed-paired comparisons" in md  # connectome_priors.stats.paired_comparisons, one-factor pairs
    paired = pd.read_csv(out / "csv" / "stats_paired.csv")
    assert list(paired.columns) == list(PAIRED_COLUMNS)


@pytest.mark.slow
def test_side_by_side_comparison_of_folders(tiny_ablation, tmp_path):
    out = tiny_ablation["out"]
    path = _write.compare_reports([out, out], tmp_path / "cmp.md", published=None)
    text = path.read_text()
    summary = pd.read_csv(out / "csv" / "summary.csv")
    acc = summary[(summary.metric == "Accuracy") & (summary.variant == "WD*C*")].iloc[0]
    row = next(line for line in text.splitlines() if line.startswith("| WD*C* |"))
    assert row.count(f"{acc['mean']:.3f}") == 2  # the same folder twice, same numbers
    assert "published" not in row  # 5_3_8 has no published numbers


def test_two_concurrent_reports_leave_a_valid_report(tiny_ablation):
    """Two ``report`` processes on one folder: each finishes or says clearly that the folder is busy, and the
    folder ends with a readable ablation.nc and a complete report.md (every file is replaced atomically)."""
    import subprocess
    import sys

    import xarray as xr

    out = tiny_ablation["out"]
    cmd = [sys.executable, "-m", "connectome_priors", "report", str(out)]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    results = [(p.wait(timeout=300), p.stderr.read()) for p in procs]
    for rc, err in results:
        assert rc == 0 or (rc == 2 and "is busy: process" in err), err[-2000:]
    assert any(rc == 0 for rc, _ in results)
    with xr.open_dataset(out / "ablation.nc", engine="h5netcdf") as ds:
        assert ds.sizes["seed"] >= 1
    assert (out / "report.md").read_text().startswith("# ") and not (out / ".lock").exists()
    assert not list(out.rglob("*.tmp*")), "a temporary file was left behind"
