"""The cross-field analysis of a sweep: field geometry, tidy runs, summaries, trends, prior effect, report."""

from __future__ import annotations

import numpy as np
import pytest
from sweep_helpers import FakeCells

from connectome_priors.benchmarks.sweep import _cross_field as cf
from connectome_priors.benchmarks.sweep import _plan as plan
from connectome_priors.benchmarks.sweep import _run as sweep_run


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
    assert len(runs) == 3 * 2 * 4 * 3  # fields x variants x seeds x metrics
    summ = pd.read_csv(tmp_path / "cross_field_summary.csv")
    sel = runs[(runs.field == "5_3_4") & (runs.variant == "WD*C") & (runs.metric == "Accuracy")]["value"]
    row = summ[(summ.field == "5_3_4") & (summ.variant == "WD*C") & (summ.metric == "Accuracy")].iloc[0]
    assert row["mean"] == pytest.approx(sel.mean())
    assert sel.min() <= row["lo"] <= row["mean"] <= row["hi"] <= sel.max()
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
    # across fields: each field's learn-rate contrast from its own seeds, pooled by random effects
    from connectome_priors.stats import LEARN_THRESHOLDS, paired_rate_difference, random_effects

    test_acc = runs[runs.metric == "Test_Accuracy"].pivot_table(index=["field", "seed"], columns="variant",
                                                               values="value")
    learned = test_acc >= LEARN_THRESHOLDS["Task1"]
    ys, vs = [], []
    for _field, g in learned.groupby(level="field"):
        y, v = paired_rate_difference(int((g["W*D*C"] & ~g["WD*C"]).sum()), int((~g["W*D*C"] & g["WD*C"]).sum()),
                                      len(g))
        ys.append(y)
        vs.append(v)
    oracle = random_effects(ys, vs, bounds=(-1, 1))
    meta = pd.read_csv(tmp_path / "cross_field_meta.csv")
    pooled = meta[(meta.a == "W*D*C") & (meta.b == "WD*C") & (meta.outcome == "learn_rate")].iloc[0]
    assert (pooled.k, pooled.estimate, pooled.tau2) == (3, pytest.approx(oracle.estimate), pytest.approx(oracle.tau2))
    assert -1 <= pooled.pred_lo <= pooled.lo <= pooled.hi <= pooled.pred_hi <= 1
    cov = pd.read_csv(tmp_path / "cross_field_covariates.csv").set_index("field")
    assert cov.loc["5_3_8", "n_neurons"] == 42 and 0 < cov.loc["4_7_2", "w_star_diag_share"] <= 1
    assert (tmp_path / "cross_field_forest_WstarDstarC_vs_WDstarC.png").stat().st_size > 0
    assert "random-effects meta-analysis" in text
