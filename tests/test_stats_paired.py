"""Seed-paired comparisons of variants (``connectome_priors.stats.paired_comparisons``) against scipy and by hand."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from connectome_priors import stats as st


def _rows(values: dict[str, np.ndarray], task="Task1", metric="Score") -> list[dict]:
    return [dict(variant=v, task=task, seed=s, metric=metric, value=float(x))
            for v, xs in values.items() for s, x in enumerate(xs)]


def test_each_pair_matches_scipy_permutation_test_and_holm():
    rng = np.random.default_rng(0)
    shared = rng.normal(size=12)  # the seed's data: common to every variant
    values = {v: 3 + shared + rng.normal(0.2 * i, 0.3, 12) for i, v in enumerate(["W*D*C", "WD*C", "W"])}
    rows = _rows(values, metric="Loss")
    out = st.paired_comparisons(pd.DataFrame(rows[::-1]))  # row order must not matter: pairing is by seed
    assert list(out.columns) == list(st.PAIRED_COLUMNS)
    assert [(r.a, r.b) for r in out.itertuples()] == list(itertools.combinations(["W*D*C", "WD*C", "W"], 2))
    for r in out.itertuples():
        a, b = values[r.a], values[r.b]
        assert r.n == r.m == 12 and r.mean_diff == pytest.approx((a - b).mean())
        exact = stats.permutation_test((a - b,), np.mean, permutation_type="samples", n_resamples=np.inf)
        assert r.p_raw == pytest.approx(exact.pvalue)  # the independent oracle: scipy's exact sign flips
        assert (a - b).min() <= r.diff_lo <= r.mean_diff <= r.diff_hi <= (a - b).max()
    assert out.p_adj_holm.tolist() == pytest.approx(st.holm(out.p_raw).tolist())
    assert out.min_p_holm.tolist() == pytest.approx(st.holm(np.full(3, 2 / 2**12)).tolist())


def test_pairing_beats_the_unpaired_test_when_seeds_share_their_difficulty():
    rng = np.random.default_rng(1)
    hard = rng.normal(0, 1.0, 10)
    df = pd.DataFrame(_rows({"W*D*C": hard + 0.2 + rng.normal(0, 0.05, 10), "WD*C": hard}))
    paired = st.paired_comparisons(df).iloc[0]
    unpaired = stats.mannwhitneyu(df[df.variant == "W*D*C"].value, df[df.variant == "WD*C"].value)
    assert paired.p_raw < 0.01 < unpaired.pvalue


def test_only_seeds_finite_in_both_variants_are_paired():
    a = np.array([1.0, 2.0, np.nan, 4.0, 5.0])
    b = np.array([0.5, np.inf, 3.0, 3.0, 4.5])
    rows = _rows({"W*D*C": a, "WD*C": b})
    rows = [r for r in rows if not (r["variant"] == "WD*C" and r["seed"] == 4)]  # seed 4 missing in b
    r = st.paired_comparisons(pd.DataFrame(rows)).iloc[0]
    assert r.n == 2 and r.mean_diff == pytest.approx(np.mean([0.5, 1.0]))
    assert r.mean_a == pytest.approx(2.5) and r.mean_b == pytest.approx(1.75)


def test_undefined_cases_give_nan_with_a_reason():
    same = st.paired_comparisons(pd.DataFrame(_rows({"W": [1.0, 2.0, 3.0], "WD": [1.0, 2.0, 3.0]},
                                                     metric="Loss"))).iloc[0]
    assert "zero" in same.note and same.all_equal and same.diff_lo == same.diff_hi == 0.0
    assert same.verdict == "untestable with 3 seeds"
    none = st.paired_comparisons(pd.DataFrame(_rows({"W": [1.0, np.nan], "WD": [np.nan, 2.0]}, metric="Loss"))).iloc[0]
    assert none.n == 0 and np.isnan(none.mean_diff) and "no seed" in none.note


def test_explicit_pairs_families_and_duplicates():
    rng = np.random.default_rng(2)
    rows = []
    for task, metric in itertools.product(("Task1", "Task3"), ("Accuracy", "Modularity")):
        rows += _rows({v: rng.uniform(size=6) for v in st.CANONICAL_VARIANTS}, task, metric)
    df = pd.DataFrame(rows)
    pairs = st.one_factor_pairs(st.CANONICAL_VARIANTS)
    out = st.paired_comparisons(df, pairs)
    assert len(out) == 4 * len(pairs)
    for _, family in out.groupby(["task", "metric"]):  # Holm within one (task, metric)
        assert family.p_adj_holm.tolist() == pytest.approx(st.holm(family.p_raw).tolist())
    assert ("W*D*C", "WD*C") in pairs and ("W*D*C", "W!D*C") in pairs and ("W*D*C", "W") not in pairs
    assert st.paired_comparisons(df, [("W*D*C", "Wsurr-D*C")]).empty  # absent variants are skipped
    with pytest.raises(ValueError, match="several values"):
        st.paired_comparisons(pd.concat([df, df.head(1)]))
