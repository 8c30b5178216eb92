"""Random-effects meta-analysis (connectome_priors.stats._meta) against the DerSimonian-Laird formulas written out
here, the variance of a paired learn-rate difference against enumeration, and meta-regression against a
hand-made WLS."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import stats

from connectome_priors import stats as st


def _dersimonian_laird(y, v):
    w = 1 / v
    fixed = np.sum(w * y) / np.sum(w)
    q = np.sum(w * (y - fixed) ** 2)
    k = y.size
    tau2 = max(0.0, (q - (k - 1)) / (np.sum(w) - np.sum(w**2) / np.sum(w)))
    wr = 1 / (v + tau2)
    mu = np.sum(wr * y) / np.sum(wr)
    se = 1 / math.sqrt(np.sum(wr))
    return mu, se, tau2, q, max(0.0, (q - (k - 1)) / q)


def test_random_effects_is_dersimonian_laird():
    rng = np.random.default_rng(3)
    for k in (2, 5, 12, 40):
        v = rng.uniform(0.005, 0.05, k)
        y = rng.normal(0.3, 0.15, k) + rng.normal(0, np.sqrt(v))
        r = st.random_effects(y, v)
        mu, se, tau2, q, i2 = _dersimonian_laird(y, v)
        assert (r.estimate, r.tau2, r.q, r.i2) == pytest.approx((mu, tau2, q, i2))
        assert (r.lo, r.hi) == pytest.approx((mu - 1.959964 * se, mu + 1.959964 * se))
        assert r.q_p == pytest.approx(stats.chi2.sf(q, k - 1)) and r.k == k
        from statsmodels.stats.meta_analysis import combine_effects

        ref = combine_effects(y, v, method_re="dl")
        if ref.tau2 >= 0:  # statsmodels' own DerSimonian-Laird, where it does not go below τ² = 0
            assert (r.estimate, r.tau2) == pytest.approx((ref.mean_effect_re, max(ref.tau2, 0.0)))
        if k >= 3:
            half = stats.t.ppf(0.975, k - 2) * math.sqrt(tau2 + se**2)
            assert (r.pred_lo, r.pred_hi) == pytest.approx((mu - half, mu + half))
            assert r.pred_lo <= r.lo <= r.hi <= r.pred_hi
        else:
            assert math.isnan(r.pred_lo)


def test_intervals_are_clipped_to_the_effect_range_and_say_so():
    r = st.random_effects([0.95, 0.6, 1.0, 0.7], [0.02, 0.03, 0.02, 0.04], bounds=(-1, 1))
    assert r.pred_hi == 1.0 and r.hi <= 1.0 and r.clipped
    inside = st.random_effects([0.1, 0.2, 0.15], [0.01, 0.01, 0.01], bounds=(-1, 1))
    assert not inside.clipped


def test_paired_rate_difference_variance_is_the_variance_of_the_mean_difference():
    for n in (4, 7, 10):
        for b, c in itertools.product(range(n + 1), repeat=2):
            if b + c > n:
                continue
            d = np.array([1.0] * b + [-1.0] * c + [0.0] * (n - b - c))
            y, v = st.paired_rate_difference(b, c, n)
            assert y == pytest.approx(d.mean()) and v > 0
            if 0 < d.var():
                assert v == pytest.approx(d.var() / n)  # the plug-in variance of a mean of n values
    with pytest.raises(ValueError, match="a_only \\+ b_only <= n"):
        st.paired_rate_difference(3, 2, 4)


def test_meta_regression_recovers_a_slope_and_holm_corrects():
    rng = np.random.default_rng(5)
    k = 40
    size = rng.uniform(50, 600, k)
    noise = rng.normal(size=k)
    v = np.full(k, 0.01)
    y = 0.001 * size + rng.normal(0, 0.1, k)
    rows = st.meta_regression(y, v, 0.0, {"n_neurons": size, "noise": noise, "constant": np.ones(k)})
    by = {r["covariate"]: r for r in rows}
    assert by["n_neurons"]["lo"] < 0.001 < by["n_neurons"]["hi"] and by["n_neurons"]["p_holm"] < 1e-6
    assert math.isnan(by["constant"]["slope"]) and math.isnan(by["constant"]["p_holm"])
    assert by["noise"]["p_holm"] == pytest.approx(min(1.0, max(2 * by["n_neurons"]["p"], by["noise"]["p"])))
    # the WLS slope written out
    w = 1 / v
    xm, ym = np.sum(w * size) / w.sum(), np.sum(w * y) / w.sum()
    slope = np.sum(w * (size - xm) * (y - ym)) / np.sum(w * (size - xm) ** 2)
    assert by["n_neurons"]["slope"] == pytest.approx(slope)
    # the per-SD scale is the SD of the covariate over the units of the fit
    assert by["n_neurons"]["sd"] == pytest.approx(np.std(size, ddof=1))
    assert math.isnan(by["constant"]["sd"])


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="at least 2 units"):
        st.random_effects([0.1], [0.01])
    with pytest.raises(ValueError, match=r"variances must be > 0; got 0.0 \(unit 1\)"):
        st.random_effects([0.1, 0.2], [0.01, 0.0])
    with pytest.raises(ValueError, match="covariate 'n' has 2 values for 3 units"):
        st.meta_regression([0.1, 0.2, 0.3], [0.01] * 3, 0.0, {"n": [1, 2]})


def test_forest_rows_stay_inside_bounds():
    rows = st.forest_rows(["a", "b"], [0.95, -0.9], [0.01, 0.04], bounds=(-1, 1))
    assert rows[0][0] == "a" and rows[0][3] == 1.0 and rows[1][2] == -1.0
    assert rows[0][2] == pytest.approx(0.95 - 1.959964 * 0.1)
