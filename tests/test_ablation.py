"""The ablation runner: a tiny real ablation on field 5_3_8, resume after an interruption, outputs."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from benchmarks import _ablation, _report, _report_data, _report_markdown, _schema, _store, _variants
from benchmarks.__main__ import main
from connectome_priors.stats import PAIRED_COLUMNS
from benchmarks._cli import ablation_parser, config_from_args

TINY = dict(field="5_3_8", seeds=(0, 1), epochs=1, tasks=("Task3",),
            variants=("W*D*C", "WD*C*"), n_train=256, n_val=128, n_test=128)


# --------------------------------------------------------------------------------------------
# variants and configuration (no training)


def test_variant_table_matches_the_paper_order_and_factors():
    names = _variants.variant_names()
    assert names == ["W*D*C", "WD*C", "WDC", "WD*", "WD", "W", "W*D*C*", "WD*C*", "W*DC*", "W!D*C", "W!D*C*"]
    # the name spells the factors: W*/W!/W init, D*/D/none distance, C/C*/none penalty
    spell = {"w*": "W*", "w!": "W!", "w": "W", "d*": "D*", "d": "D", "c": "C", "c*": "C*", "none": ""}
    for v in _variants.VARIANTS:
        f = v.factors
        assert spell[f["w_variant"]] + spell[f["d_variant"]] + spell[f["c_variant"]] == v.name
    assert len(_variants.variant_names(controls=True)) == 14
    with pytest.raises(ValueError, match="unknown variant 'WX'"):
        _variants.get_variant("WX")


def test_config_hash_ignores_selection_but_not_protocol():
    a = _schema.AblationConfig(**TINY)
    b = _schema.AblationConfig(**{**TINY, "seeds": (0, 1, 2, 3), "tasks": ("Task1",), "variants": ("WD",)})
    c = _schema.AblationConfig(**{**TINY, "epochs": 2})
    assert a.config_hash() == b.config_hash()
    assert a.config_hash() != c.config_hash()
    with pytest.raises(ValueError, match="sign="):
        _schema.AblationConfig(sign="positive")
    with pytest.raises(ValueError, match="--tasks: unknown task '4'"):
        _schema.AblationConfig(tasks=("4",))


def test_cli_quick_and_explicit_options():
    args = ablation_parser().parse_args(["--quick", "--tasks", "3,1", "--sign", "nonneg", "--controls"])
    cfg = config_from_args(args)
    assert cfg.seeds == tuple(range(_schema.QUICK["seeds"]))
    assert cfg.epochs == _schema.QUICK["epochs"] and cfg.n_train == _schema.QUICK["n_train"]
    assert cfg.tasks == ("Task3", "Task1") and cfg.sign == "nonneg"
    assert cfg.variants[-3:] == tuple(v.name for v in _variants.CONTROLS)
    args = ablation_parser().parse_args(["--seeds", "5", "--epochs", "7", "--variants", "WD,W*D*C"])
    cfg = config_from_args(args)
    assert cfg.seeds == (0, 1, 2, 3, 4) and cfg.epochs == 7 and cfg.n_train == 5120
    assert cfg.variants == ("W*D*C", "WD")  # canonical order, whatever the order asked
    assert main(["nonsense"]) == 2


def test_out_dir_with_another_configuration_is_refused(tmp_path):
    _store.claim_out_dir(tmp_path, _schema.AblationConfig(**TINY))
    _store.claim_out_dir(tmp_path, _schema.AblationConfig(**{**TINY, "seeds": (5,)}))  # extends: fine
    with pytest.raises(ValueError, match="epochs"):
        _store.claim_out_dir(tmp_path, _schema.AblationConfig(**{**TINY, "epochs": 3}))


def test_verdicts_against_published_intervals():
    pub = {"mean": 0.91, "ci95_lo": 0.84, "ci95_hi": 0.98}

    def ours(mean, lo=math.nan, hi=math.nan, n_ok=3):
        return {"mean": mean, "ci95_lo": lo, "ci95_hi": hi, "n_ok": n_ok, "n": 3}

    assert _report_markdown.verdict(ours(0.9), pub) == "inside published CI"
    assert _report_markdown.verdict(ours(0.5, 0.45, 0.55), pub) == "below published CI"
    assert _report_markdown.verdict(ours(0.7, 0.4, 1.0), pub) == "below published CI; the 95% CIs overlap"
    chance = {"mean": 0.628, "ci95_lo": 0.626, "ci95_hi": 0.631}
    assert _report_markdown.verdict(ours(0.621, 0.61, 0.63), chance, metric="Accuracy", task="Task1") == (
        "below published CI; both at the no-memory level 0.625")
    nan_pub = {"mean": 0.238, "ci95_lo": math.nan, "ci95_hi": math.nan}
    assert _report_markdown.verdict(ours(math.nan, n_ok=0), nan_pub) == "all runs diverged (published: all runs identical)"
    same = _report_markdown.verdict(ours(1.0), {"mean": 1.0, "ci95_lo": math.nan, "ci95_hi": math.nan})
    assert same.endswith("ours the same")


def test_published_path_resolution(tmp_path, monkeypatch):
    csv = tmp_path / "reported_results.csv"
    csv.write_text("arm,sign_constraint,metric,task,task_name,variant,mean,ci95_lo,ci95_hi\n"
                   "a,none,Accuracy,Task3,GoNoGo,W,0.5,0.4,0.6\n"
                   "a,nonneg,Accuracy,Task3,GoNoGo,W,0.499,,\n")
    monkeypatch.setenv("CONNECTOME_PRIORS_PAPER", str(tmp_path))  # a folder is accepted
    assert _report_data.resolve_published() == csv
    pub = _report_data.load_published(csv, "nonneg")
    assert len(pub) == 1 and math.isnan(pub.iloc[0]["ci95_lo"])
    monkeypatch.delenv("CONNECTOME_PRIORS_PAPER")
    monkeypatch.chdir(tmp_path)  # no ../shared/paper from here
    assert _report_data.resolve_published() is None
    with pytest.raises(FileNotFoundError, match="--published"):
        _report_data.resolve_published(tmp_path / "nope.csv")


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
    runs = _store.RUN_STORE.load(t["out"])
    keys = sorted((r["variant"], r["seed"]) for r in runs)
    assert keys == sorted((v, s) for v in TINY["variants"] for s in TINY["seeds"])
    assert not list(t["out"].glob("**/*.tmp"))


@pytest.mark.slow
def test_run_records_are_complete_and_plausible(tiny_ablation):
    runs = _store.RUN_STORE.load(tiny_ablation["out"])
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
        w = _store.RunStore.load_w_rec(tiny_ablation["out"], r)
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
    runs = _store.RUN_STORE.load(out)
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
    path = _report.compare_reports([out, out], tmp_path / "cmp.md", published=None)
    text = path.read_text()
    summary = pd.read_csv(out / "csv" / "summary.csv")
    acc = summary[(summary.metric == "Accuracy") & (summary.variant == "WD*C*")].iloc[0]
    row = next(line for line in text.splitlines() if line.startswith("| WD*C* |"))
    assert row.count(f"{acc['mean']:.3f}") == 2  # the same folder twice, same numbers
    assert "published" not in row  # 5_3_8 has no published numbers


def test_config_hash_ignores_number_types():
    import numpy as np

    base = _schema.AblationConfig(**TINY)
    other = _schema.AblationConfig(**{**TINY, "n_train": float(TINY.get("n_train", 5120)),
                                        "epochs": np.int64(base.epochs)})
    assert other.config_hash() == base.config_hash()
    with pytest.raises(ValueError, match="n_train"):
        _schema.AblationConfig(**{**TINY, "n_train": 1000.5})


def test_config_hash_is_stable_across_refactors():
    # Known values computed with the code BEFORE the issue-13 refactor (commit 8341877): stores
    # written before it (config.json, every run's config_hash) must resume and report after it,
    # so the hashed fields, their JSON form and the hash function must never change silently.
    assert _schema.AblationConfig().config_hash() == "836f4b590e1d3d79"
    assert _schema.AblationConfig(seeds=range(5), reference_compat=True).config_hash() == "0f793a5c18d7c027"
    tiny = _schema.AblationConfig(field="5_3_8", seeds=(0,), epochs=1, tasks=("Task3",),
                                    variants=("W*D*C",), n_train=256, n_val=128, n_test=128,
                                    reference_compat=True, sign="nonneg")
    assert tiny.config_hash() == "fd713cbb6cfc57e0"
