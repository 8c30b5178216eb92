"""Ablation statistics against scipy / statsmodels and formulas written here."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from connectome_priors import stats as st

PAPER_RAW = Path(__file__).resolve().parents[2] / "shared" / "paper" / "raw"


def _frame(values_by_variant: dict[str, np.ndarray], task="Task1", metric="Accuracy") -> pd.DataFrame:
    rows = [
        dict(variant=v, task=task, seed=s, metric=metric, value=float(x))
        for v, xs in values_by_variant.items()
        for s, x in enumerate(xs)
    ]
    return pd.DataFrame(rows)


def _synthetic(n: int = 12, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {v: rng.normal(0.1 * i, 1.0, size=n) for i, v in enumerate(st.CANONICAL_VARIANTS)}


def _holm_by_hand(p: list[float]) -> list[float]:
    m = len(p)
    order = sorted(range(m), key=lambda i: p[i])
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        adjusted[i] = running
    return adjusted


# ---------------------------------------------------------------------------------------------------------------
# variant names


@pytest.mark.parametrize(
    ("name", "levels"),
    [
        ("W*D*C", ("w*", "d*", "c")),
        ("WD*C", ("w", "d*", "c")),
        ("WDC", ("w", "d", "c")),
        ("WD*", ("w", "d*", "none")),
        ("WD", ("w", "d", "none")),
        ("W", ("w", "none", "none")),
        ("W*D*C*", ("w*", "d*", "c*")),
        ("WD*C*", ("w", "d*", "c*")),
        ("W*DC*", ("w*", "d", "c*")),
        ("W!D*C", ("w!", "d*", "c")),
        ("W!D*C*", ("w!", "d*", "c*")),
    ],
)
def test_parse_variant(name, levels):
    assert tuple(st.parse_variant(name).values()) == levels


@pytest.mark.parametrize("name", ["", "D*C", "W**", "WC*D", "W*D*C!", "diag-only", "Wdiag-", "wD", "Wdiag-D*C "])
def test_parse_variant_rejects_other_names(name):
    with pytest.raises(ValueError, match="variant"):
        st.parse_variant(name)


@pytest.mark.parametrize("name", st.CONTROL_VARIANTS)
def test_controls_are_grammar_names_but_not_cells_of_the_design(name):
    variant = st.Variant.from_name(name)
    # each control is one factor away from a published variant: its init (with D*C), or no penalty at all
    assert variant.control
    assert (variant.distance, variant.penalty) in {("real", "comm"), (None, "zero")}
    with pytest.raises(ValueError, match="is a control"):
        st.parse_variant(name)


def test_one_grammar_spells_every_variant_both_ways():
    """Name -> (init, distance, penalty) -> name, and the factor levels are what the statistics read."""
    inits = {"W*D*C": "functional", "W!D*C*": "permuted", "WD": "orthogonal", "Wdiag-D*C": "diagonal_only",
             "W*nodiag-D*C": "functional_nodiag", "Wsurr-D*C": "surrogate"}
    for name in st.CANONICAL_VARIANTS + st.CONTROL_VARIANTS:
        v = st.Variant.from_name(name)
        assert st.Variant(name, v.init, v.distance, v.penalty) == v
        if name in inits:
            assert v.init == inits[name]
        if not v.control:
            assert v.factors == st.parse_variant(name)
    assert st.Variant.from_name("Wsurr-D*C").factors == {"w_variant": "surrogate", "d_variant": "d*",
                                                        "c_variant": "c"}
    with pytest.raises(ValueError, match="spell 'WD'"):
        st.Variant("W*D", "orthogonal", "grid", None)  # the fields must spell the name
    with pytest.raises(ValueError, match="init='W'"):
        st.Variant("WD", "W", "grid", None)


def test_missing_columns_are_named():
    with pytest.raises(ValueError, match="seed"):
        st.summarize(pd.DataFrame(dict(variant=["W"], task=[1], metric=["Accuracy"], value=[1.0])))


# ---------------------------------------------------------------------------------------------------------------
# confidence intervals


def test_summary_intervals_match_scipy():
    data = _synthetic()
    table = st.summarize(_frame(data), n_resamples=2000, seed=3)
    assert list(table.variant) == list(st.CANONICAL_VARIANTS)
    for row in table.itertuples(index=False):
        x = data[row.variant]
        half = stats.t.ppf(0.975, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size)
        assert row.mean == pytest.approx(x.mean(), abs=1e-12)
        assert (row.t_lo, row.t_hi) == pytest.approx((x.mean() - half, x.mean() + half), abs=1e-12)
        lo, hi = stats.t.interval(0.95, x.size - 1, loc=x.mean(), scale=stats.sem(x))
        assert (row.t_lo, row.t_hi) == pytest.approx((lo, hi), abs=1e-12)
        boot = stats.bootstrap(
            (x,), np.mean, n_resamples=2000, method="percentile", random_state=np.random.default_rng(3)
        )
        assert (row.boot_lo, row.boot_hi) == pytest.approx(
            (boot.confidence_interval.low, boot.confidence_interval.high), abs=1e-12
        )


def test_percentile_bootstrap_is_the_quantiles_of_resampled_means():
    x = np.random.default_rng(4).exponential(size=15)
    row = st.summarize(_frame({"W": x}), n_resamples=4000, seed=0).iloc[0]
    resampled = np.random.default_rng(1).choice(x, size=(20000, x.size)).mean(axis=1)
    lo, hi = np.percentile(resampled, [2.5, 97.5])
    assert row.boot_lo == pytest.approx(lo, abs=0.05) and row.boot_hi == pytest.approx(hi, abs=0.05)


def test_t_interval_coverage_on_normal_data():
    rng = np.random.default_rng(5)
    trials, n = 400, 10
    values = rng.normal(2.0, 3.0, size=(trials, n))
    frame = pd.DataFrame(
        [dict(variant="W", task=t, seed=s, metric="m", value=values[t, s]) for t in range(trials) for s in range(n)]
    )
    table = st.summarize(frame, n_resamples=200)
    t_cover = ((table.t_lo <= 2.0) & (2.0 <= table.t_hi)).mean()
    # 95 % nominal; binomial sd over 400 trials ~ 1.1 %
    assert 0.91 <= t_cover <= 0.99
    boot_cover = ((table.boot_lo <= 2.0) & (2.0 <= table.boot_hi)).mean()
    assert 0.85 <= boot_cover <= 0.99  # percentile bootstrap under-covers a little at n = 10


def test_summary_degenerate_cells():
    frame = _frame({"W": [0.5, 0.5, 0.5], "WD": [0.7], "WDC": [np.nan, 1.0, 2.0, np.inf]})
    table = st.summarize(frame).set_index("variant")
    assert (table.loc["W", "t_lo"], table.loc["W", "t_hi"]) == (0.5, 0.5)
    assert "zero variance" in table.loc["W", "note"]
    assert math.isnan(table.loc["WD", "t_lo"]) and "n < 2" in table.loc["WD", "note"]
    assert table.loc["WDC", "n"] == 2 and "2 non-finite" in table.loc["WDC", "note"]


def test_summarize_runs_counts_every_run_and_summarizes_the_finite_ones():
    frame = _frame({"W": [0.5, np.nan, 0.7, 0.6], "WD": [np.nan, np.inf], "Wdiag-D*C": [0.3, 0.4], "W*D*C": [1.0]})
    runs = st.summarize_runs(frame, n_resamples=500).set_index("variant")
    assert list(runs.index) == ["W*D*C", "WD", "W", "Wdiag-D*C"]  # the eleven's order, then the controls
    assert list(runs.columns) == list(st.RUN_SUMMARY_COLUMNS)[:2] + list(st.RUN_SUMMARY_COLUMNS)[3:]
    assert (runs.loc["W", "n"], runs.loc["W", "n_ok"], runs.loc["W", "note"]) == (4, 3, "")
    plain = st.summarize(frame, n_resamples=500).set_index("variant")
    assert runs.loc["W", ["mean", "sd"]].tolist() == plain.loc["W", ["mean", "sd"]].tolist()  # the same sample
    oracle = st.bounded_mean_interval([0.5, 0.7, 0.6], *st.metric_range("Accuracy"), n_resamples=500)
    assert (runs.loc["W", "lo"], runs.loc["W", "hi"]) == (oracle.lo, oracle.hi)
    assert "1 non-finite" in plain.loc["W", "note"]  # summarize says what it dropped; summarize_runs counts it
    assert (runs.loc["WD", "n"], runs.loc["WD", "n_ok"], runs.loc["WD", "note"]) == (2, 0, "no finite value")
    assert runs.loc[["WD"], ["mean", "sd", "lo", "hi"]].isna().all(axis=None)
    assert runs.loc["W*D*C", "note"] == "n < 2: no interval" and math.isnan(runs.loc["W*D*C", "lo"])
    assert runs["learned"].isna().all()  # learn rates belong to the held-out test accuracy only


def test_summarize_runs_keeps_every_interval_inside_the_metric_range_and_counts_learned_runs():
    acc = [1.0] * 9 + [0.5] * 3 + [np.nan]  # bimodal; the t-interval leaves [0, 1]; one run gave no value
    frame = pd.DataFrame(dict(variant="W*D*C", task="Task3", seed=range(13), metric="Test_Accuracy", value=acc))
    row = st.summarize_runs(frame).iloc[0]
    lo_t, hi_t = st.t_interval(np.array(acc[:-1]))
    assert hi_t > 1.0 and 0.5 <= row.lo < row["mean"] < row.hi <= 1.0
    k = st.learn_rate(9, 13)  # the run without a value did not learn
    assert (row.learned, row.learn_lo, row.learn_hi) == (9, k.lo, k.hi)
    same = st.summarize_runs(frame.assign(value=1.0)).iloc[0]
    assert same.all_equal and same.lo == same.hi == 1.0 and same.note == "all 13 equal"
    with pytest.raises(ValueError, match="Entropy"):
        st.summarize_runs(frame.assign(metric="Entropy", value=-0.1))


def test_mean_interval_is_the_t_interval_with_its_degenerate_cases():
    x = np.array([0.2, 0.5, 0.9, 0.4])
    mean, lo, hi = st.mean_interval(x)
    assert mean == pytest.approx(x.mean()) and (lo, hi) == pytest.approx(
        stats.t.interval(0.95, x.size - 1, loc=x.mean(), scale=stats.sem(x)))
    assert st.mean_interval([0.3, 0.3, 0.3]) == (0.3, 0.3, 0.3)
    single = st.mean_interval([0.3])
    assert single[0] == 0.3 and math.isnan(single[1]) and math.isnan(single[2])
    assert all(math.isnan(v) for v in st.mean_interval([]))
    lo99, hi99 = st.t_interval(x, 0.99)
    assert lo99 < lo and hi < hi99


# ---------------------------------------------------------------------------------------------------------------
# simple effects


def test_holm_matches_hand_written_holm():
    rng = np.random.default_rng(6)
    for m in (1, 2, 5, 9):
        p = rng.uniform(0, 0.2, size=m).tolist()
        np.testing.assert_allclose(st.holm(p), _holm_by_hand(p), rtol=1e-12)
    np.testing.assert_array_equal(np.isnan(st.holm([0.1, np.nan])), [False, True])


def test_kruskal_and_mannwhitney_match_scipy_on_the_paper_contexts():
    data = _synthetic(n=15, seed=7)
    data["W!D*C"] = data["W!D*C"] + 3.0  # make the w-focus omnibus significant at d*, c
    out = st.simple_effects(_frame(data))
    kw = out["kruskal"].set_index(["focus", "context"])
    groups = [data["WD*C"], data["W!D*C"], data["W*D*C"]]  # w, w!, w* in sorted order
    H, p = stats.kruskal(*groups)
    assert kw.loc[("w_variant", "d_variant=d*, c_variant=c"), "H"] == pytest.approx(H, rel=1e-12)
    assert kw.loc[("w_variant", "d_variant=d*, c_variant=c"), "p"] == pytest.approx(p, rel=1e-12)
    H, p = stats.kruskal(data["WD"], data["WD*"], data["W"])  # d, d*, none at w, no C
    assert kw.loc[("d_variant", "w_variant=w, c_variant=none"), "H"] == pytest.approx(H, rel=1e-12)

    pairs = out["mannwhitney"]
    w_pairs = pairs[(pairs.focus == "w_variant") & (pairs.context == "d_variant=d*, c_variant=c")]
    assert list(zip(w_pairs.l1, w_pairs.l2)) == [("w", "w!"), ("w", "w*"), ("w!", "w*")]
    by_level = {"w": data["WD*C"], "w!": data["W!D*C"], "w*": data["W*D*C"]}
    for row in w_pairs.itertuples(index=False):
        result = stats.mannwhitneyu(by_level[row.l1], by_level[row.l2], alternative="two-sided")
        assert row.U == result.statistic and row.p_raw == pytest.approx(result.pvalue, rel=1e-12)


def test_holm_matches_statsmodels():
    from statsmodels.stats.multitest import multipletests

    rng = np.random.default_rng(3)
    for m in (1, 2, 5, 17):
        p = rng.uniform(0, 0.2, m)
        np.testing.assert_allclose(st.holm(p), multipletests(p, method="holm")[1], rtol=1e-12)


def test_holm_family_is_all_pairs_of_one_focus_factor():
    out = st.simple_effects(_frame(_synthetic(n=15, seed=8)))
    for _, family in out["mannwhitney"].groupby(["task", "metric", "focus"]):
        np.testing.assert_allclose(family.p_adj_holm, _holm_by_hand(family.p_raw.tolist()), rtol=1e-12)
        assert set(family.sig) <= {"YES", "no"}
        assert ((family.p_adj_holm < 0.05) == (family.sig == "YES")).all()


def test_pairs_are_tested_for_two_level_contexts_or_after_a_significant_omnibus():
    data = {v: np.random.default_rng(9).normal(size=10) for v in st.CANONICAL_VARIANTS}  # identical samples
    out = st.simple_effects(_frame(data))
    kw = out["kruskal"]
    assert (kw.p > 0.05).all()
    pairs = out["mannwhitney"]
    contexts_with_pairs = set(zip(pairs.focus, pairs.context))
    levels = out["groups"].groupby(["focus", "context"]).size()
    for (focus, context), count in levels.items():
        assert ((focus, context) in contexts_with_pairs) == (count == 2)


def test_group_table_lists_every_context():
    data = _synthetic(n=5)
    groups = st.simple_effects(_frame(data))["groups"]
    # every variant appears once per focus factor
    assert groups.groupby("focus").n.sum().tolist() == [5 * 11] * 3
    only = groups[groups.level == "(only level)"]
    assert ("w_variant", "d_variant=none, c_variant=none") in set(zip(only.focus, only.context))
    row = groups[(groups.focus == "w_variant") & (groups.context == "d_variant=d, c_variant=c")].iloc[0]
    assert row["median"] == pytest.approx(np.median(data["WDC"])) and row["mean"] == pytest.approx(data["WDC"].mean())


def test_identical_values_give_nan_with_a_reason():
    data = {v: np.full(6, 0.25) for v in st.CANONICAL_VARIANTS}
    out = st.simple_effects(_frame(data))
    assert out["kruskal"].H.isna().all()
    assert out["kruskal"].note.str.contains("identical").all()
    pairs = out["mannwhitney"]
    assert len(pairs) and pairs.p_raw.isna().all() and pairs.note.str.contains("identical").all()


def test_controls_are_ignored_by_the_factor_tests():
    data = _synthetic(n=5)
    data["diag-only"] = np.zeros(5)
    out = st.simple_effects(_frame(data))
    assert out["groups"].n.sum() == 3 * 5 * 11
    assert "diag-only" in set(st.summarize(_frame(data)).variant)


def test_layout_matches_the_paper_tables():
    if not PAPER_RAW.is_dir():
        pytest.skip(f"{PAPER_RAW} (the paper's published tables) is not present")
    out = st.simple_effects(_frame(_synthetic(n=20, seed=10)))
    for key, name in [
        ("kruskal", "simple_effects_KW_omnibus.csv"),
        ("mannwhitney", "simple_effects_MWU_pairs_holm.csv"),
        ("groups", "simple_effects_group_medians_means.csv"),
    ]:
        paper = pd.read_csv(PAPER_RAW / name)
        ours = st.to_paper_layout(out[key], task_numbers={"Task1": 1})
        assert list(ours.columns) == list(paper.columns)
        if key == "mannwhitney":
            continue  # which contexts get pairs depends on the data (omnibus gate)
        first = paper[(paper.task == 1) & (paper.metric == paper.metric.iloc[0])]
        # same (focus, context) blocks, in the same order
        blocks = list(dict.fromkeys(zip(ours.focus, ours.context)))
        assert blocks == list(dict.fromkeys(zip(first.focus, first.context)))
    ours = st.to_paper_layout(out["groups"])
    paper = pd.read_csv(PAPER_RAW / "simple_effects_group_medians_means.csv")
    first = paper[(paper.task == 1) & (paper.metric == paper.metric.iloc[0])]
    assert ours.level.fillna("NaN").tolist() == first.level.fillna("NaN").tolist()


# ---------------------------------------------------------------------------------------------------------------
# rank ANOVA


def _full_factorial_frame(seed: int) -> pd.DataFrame:
    """All 27 W x D x C cells (names built from the grammar), unbalanced, so type II matters."""
    rng = np.random.default_rng(seed)
    rows = []
    for w, d, c in itertools.product(["W", "W*", "W!"], ["", "D", "D*"], ["", "C", "C*"]):
        name = w + d + c
        for s in range(int(rng.integers(3, 7))):
            rows.append(dict(variant=name, task=1, seed=s, metric="m", value=rng.normal(0.3 * len(name))))
    return pd.DataFrame(rows)


def test_rank_anova_matches_statsmodels_on_a_full_factorial_design():
    import statsmodels.api as sm
    from statsmodels.formula.api import ols

    frame = _full_factorial_frame(11)
    result = st.rank_anova(frame)
    assert result.estimability.estimable.all() and not result.estimability.aliased.any()
    data = frame.join(pd.DataFrame([st.parse_variant(v) for v in frame.variant]))
    data["rank"] = stats.rankdata(data.value)
    expected = sm.stats.anova_lm(ols("rank ~ C(w_variant) * C(d_variant) * C(c_variant)", data).fit(), typ=2)
    got = result.table.set_index("term")
    for term, row in expected.iterrows():
        assert got.loc[term, "df"] == row["df"]
        assert got.loc[term, "sum_sq"] == pytest.approx(row["sum_sq"], rel=1e-8)
        if term != "Residual":
            assert got.loc[term, "F"] == pytest.approx(row["F"], rel=1e-8)
            assert got.loc[term, "p"] == pytest.approx(row["PR(>F)"], rel=1e-6, abs=1e-300)


def test_estimability_of_the_eleven_variant_design():
    est = st.anova_estimability(st.CANONICAL_VARIANTS).set_index("term")
    assert (est.attrs["cells_observed"], est.attrs["cells_possible"], est.attrs["model_rank"]) == (11, 27, 11)
    # the model rank equals the number of observed cells: the cell means are all a model can fit
    assert est.loc["C(w_variant):C(d_variant)", "df_type2"] == 0  # w!/w* occur with d* (and w* with d) only
    assert est.loc["C(w_variant):C(d_variant):C(c_variant)", "df_type2"] == 0
    assert est.loc[["C(w_variant)", "C(d_variant)", "C(c_variant)"], "df_type2"].tolist() == [2, 2, 2]
    assert est.loc["C(w_variant)", "df_given_all"] == 0  # W is confounded with W:C once interactions are in
    text = st.estimability_statement(st.anova_estimability(st.CANONICAL_VARIANTS))
    assert "11 of 27" in text and "C(w_variant):C(d_variant): not estimable" in text


def test_estimability_rank_is_checked_against_cell_means_model():
    """Independent check: the rank of the full model equals the rank of the cell-indicator matrix."""
    cells = pd.DataFrame([st.parse_variant(v) for v in st.CANONICAL_VARIANTS])
    import patsy

    X = patsy.dmatrix("C(w_variant) * C(d_variant) * C(c_variant)", cells)
    assert np.linalg.matrix_rank(np.asarray(X)) == st.anova_estimability(st.CANONICAL_VARIANTS).attrs["model_rank"]


def test_rank_anova_marks_aliased_terms_and_keeps_estimable_ones():
    frame = _frame(_synthetic(n=10, seed=12))
    result = st.rank_anova(frame)
    table = result.table.set_index("term")
    assert math.isnan(table.loc["C(w_variant):C(d_variant)", "F"])
    assert table.loc["C(w_variant):C(d_variant)", "note"].startswith("not estimable")
    assert table.loc["Residual", "df"] == 110 - 11
    assert (table.drop("Residual").sum_sq.dropna() >= 0).all()
    assert "11 of 27" in result.statement


def test_reference_compat_rank_anova_is_the_papers_statsmodels_call():
    import statsmodels.api as sm
    from statsmodels.formula.api import ols

    frame = _frame(_synthetic(n=20, seed=13))
    got = st.rank_anova(frame, reference_compat=True).table.set_index("term")
    data = frame.join(pd.DataFrame([st.parse_variant(v) for v in frame.variant]))
    data["rank"] = stats.rankdata(data.value)
    kept = data[(data.d_variant != "none") & (data.c_variant != "none")]
    with pytest.warns(Warning):
        expected = sm.stats.anova_lm(ols("rank ~ C(w_variant) * C(d_variant) * C(c_variant)", kept).fit(), typ=2)
    assert got.loc["Residual", "df"] == 160 - 8 == expected.loc["Residual", "df"]  # as in the paper: 152
    np.testing.assert_allclose(got.loc[expected.index, "sum_sq"], expected.sum_sq, rtol=1e-6, atol=1e-6)


# ---------------------------------------------------------------------------------------------------------------
# the paper's own numbers


def test_summary_reproduces_the_published_intervals():
    """The paper's 95 % CIs are t-intervals over 20 runs: recompute them from the published raw runs."""
    if not PAPER_RAW.is_dir():
        pytest.skip(f"{PAPER_RAW} (the paper's published tables) is not present")
    reported = pd.read_csv(PAPER_RAW.parent / "reported_results.csv")
    raw = pd.read_csv(PAPER_RAW / "task1_WstarDstarC_allmetrics_raw.csv")
    runs = raw.melt(id_vars="simulation", var_name="metric", value_name="value").rename(columns={"simulation": "seed"})
    ours = st.summarize(runs.assign(variant="W*D*C", task="Task1"), n_resamples=500).set_index("metric")
    published = reported[
        (reported.variant == "W*D*C") & (reported.task == "Task1") & (reported.sign_constraint == "none")
    ].set_index("metric")
    assert len(published) == 5
    for metric, row in published.iterrows():
        assert ours.loc[metric, "mean"] == pytest.approx(row["mean"], abs=6e-4)
        assert ours.loc[metric, "t_lo"] == pytest.approx(row.ci95_lo, abs=6e-4)
        assert ours.loc[metric, "t_hi"] == pytest.approx(row.ci95_hi, abs=6e-4)

    wide = pd.read_csv(PAPER_RAW / "task1_sign+_SmallWorldness_raw.csv")
    runs = wide.melt(id_vars="simulation", var_name="variant", value_name="value").rename(
        columns={"simulation": "seed"}
    )
    ours = st.summarize(runs.assign(task="Task1", metric="SmallWorldness"), n_resamples=500).set_index("variant")
    published = reported[
        (reported.metric == "SmallWorldness") & (reported.task == "Task1") & (reported.sign_constraint == "nonneg")
    ].set_index("variant")
    for variant, row in published.iterrows():
        if math.isnan(row["mean"]):  # collapsed variant: no finite runs
            assert ours.loc[variant, "n"] == 0
            continue
        assert ours.loc[variant, "mean"] == pytest.approx(row["mean"], abs=6e-4)
        assert ours.loc[variant, "t_lo"] == pytest.approx(row.ci95_lo, abs=6e-4)
        assert ours.loc[variant, "t_hi"] == pytest.approx(row.ci95_hi, abs=6e-4)
