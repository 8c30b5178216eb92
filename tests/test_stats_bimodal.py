"""Statistics for bimodal, bounded per-seed outcomes (``connectome_priors.stats._bimodal``) against independent
oracles: closed forms, scipy/statsmodels and brute-force enumeration."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import integrate, stats
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.multitest import multipletests

from connectome_priors import stats as st
from connectome_priors.benchmarks._schema import NO_MEMORY_ACCURACY, TASKS

# ---------------------------------------------------------------------------------------------------- learned


def test_thresholds_lie_between_the_no_memory_level_and_solved_for_every_task():
    assert set(st.LEARN_THRESHOLDS) == set(TASKS)
    for task, threshold in st.LEARN_THRESHOLDS.items():
        assert NO_MEMORY_ACCURACY[task] + 0.1 < threshold < 0.95, task
    assert st.LEARN_THRESHOLDS == {"Task1": 0.80, "Task2": 0.70, "Task3": 0.75}


def test_learned_compares_with_the_task_threshold_and_nan_is_not_learned():
    acc = np.array([0.0, 0.625, 0.7999, 0.80, 1.0, np.nan])
    assert st.learned(acc, "Task1").tolist() == [False, False, False, True, True, False]
    assert st.learned(acc, "Task2").tolist() == [False, False, True, True, True, False]
    assert st.learned(acc.reshape(2, 3), "Task3").shape == (2, 3)


def test_learned_refuses_unknown_tasks_and_accuracies_outside_the_unit_interval():
    with pytest.raises(ValueError, match="no learn threshold for task 'Task4'"):
        st.learned([0.9], "Task4")
    with pytest.raises(ValueError, match=r"accuracy must lie in \[0, 1\]; got 1.5"):
        st.learned([0.9, 1.5], "Task1")


# ---------------------------------------------------------------------------------------------------- learn rate


@pytest.mark.parametrize("n", [1, 5, 10, 20])
@pytest.mark.parametrize("confidence", [0.9, 0.95])
def test_exact_interval_is_clopper_pearson_from_the_beta_quantiles(n, confidence):
    alpha = 1 - confidence
    for k in range(n + 1):
        r = st.learn_rate(k, n, method="exact", confidence=confidence)
        lo = 0.0 if k == 0 else stats.beta.ppf(alpha / 2, k, n - k + 1)
        hi = 1.0 if k == n else stats.beta.ppf(1 - alpha / 2, k + 1, n - k)
        assert (r.k, r.n, r.rate, r.method) == (k, n, k / n, "exact")
        assert (r.lo, r.hi) == pytest.approx((lo, hi), abs=1e-10)
        assert 0.0 <= r.lo <= r.rate <= r.hi <= 1.0


@pytest.mark.parametrize("n", [1, 5, 10, 20])
def test_wilson_interval_is_its_closed_form(n):
    z = stats.norm.ppf(0.975)
    for k in range(n + 1):
        r = st.learn_rate(k, n)
        centre = (k + z**2 / 2) / (n + z**2)
        half = z / (n + z**2) * math.sqrt(k * (n - k) / n + z**2 / 4)
        assert (r.lo, r.hi) == pytest.approx((centre - half, centre + half), abs=1e-10)
        assert 0.0 <= r.lo <= r.rate <= r.hi <= 1.0
    assert st.learn_rate(0, n).lo == 0.0 and st.learn_rate(n, n).hi == 1.0  # exactly, not 0.9999999999999999


def test_learn_rate_errors_are_clear():
    with pytest.raises(ValueError, match="n must be at least 1 run"):
        st.learn_rate(0, 0)
    with pytest.raises(ValueError, match=r"k must lie in \[0, n\] = \[0, 4\]; got k = 5"):
        st.learn_rate(5, 4)
    with pytest.raises(ValueError, match="k must be an integer count; got 2.5"):
        st.learn_rate(2.5, 4)
    with pytest.raises(ValueError, match="method must be one of"):
        st.learn_rate(2, 4, method="wald")
    with pytest.raises(ValueError, match="confidence must be in"):
        st.learn_rate(2, 4, confidence=95)


# ---------------------------------------------------------------------------------------------------- McNemar


def test_mcnemar_matches_binomtest_and_statsmodels_on_random_pairs():
    rng = np.random.default_rng(0)
    for _ in range(40):
        n = int(rng.integers(1, 25))
        a, b = rng.random(n) < rng.random(), rng.random(n) < rng.random()
        r = st.mcnemar_exact(a, b)
        a_only, b_only = int(np.sum(a & ~b)), int(np.sum(~a & b))
        assert (r.n, r.a_only, r.b_only) == (n, a_only, b_only)
        expected = 1.0 if a_only + b_only == 0 else stats.binomtest(a_only, a_only + b_only, 0.5).pvalue
        assert r.p == pytest.approx(expected, rel=1e-12)
        table = [[np.sum(a & b), a_only], [b_only, np.sum(~a & ~b)]]
        assert r.p == pytest.approx(mcnemar(table, exact=True).pvalue, rel=1e-12)
        assert r.min_p <= r.p <= 1.0


def test_mcnemar_min_p_is_all_pairs_discordant_in_one_direction():
    r = st.mcnemar_exact([1, 1, 1, 1], [0, 0, 0, 0])
    assert r.min_p == 0.125 and r.p == 0.125
    assert st.mcnemar_exact([1] * 10, [0] * 10).p == pytest.approx(2 * 0.5**10)
    assert st.mcnemar_exact([True], [False]).min_p == 1.0  # 2 * 0.5 capped at 1
    same = st.mcnemar_exact([1, 0, 1], [1, 0, 1])
    assert (same.a_only, same.b_only, same.p) == (0, 0, 1.0)


def test_mcnemar_refuses_unpaired_or_non_boolean_input():
    with pytest.raises(ValueError, match="must pair seeds one to one; got 3 and 2"):
        st.mcnemar_exact([1, 0, 1], [1, 0])
    with pytest.raises(ValueError, match="learned_b must be booleans.*got 0.9"):
        st.mcnemar_exact([1, 0], [0.9, 0])


# ---------------------------------------------------------------------------------------------------- sign flips


def _brute_force_p(d: np.ndarray) -> float:
    nonzero = d[d != 0]
    if nonzero.size == 0:
        return 1.0
    observed = abs(nonzero.sum())
    sums = [abs(np.dot(s, np.abs(nonzero))) for s in itertools.product((1, -1), repeat=nonzero.size)]
    return sum(s >= observed - 1e-9 for s in sums) / len(sums)


def test_sign_flip_p_equals_brute_force_enumeration_with_ties_and_zeros():
    rng = np.random.default_rng(1)
    for _ in range(40):
        n = int(rng.integers(1, 11))
        d = rng.integers(-3, 4, n) / 8 + rng.choice([0.0, 0.375], n) * (rng.random(n) < 0.3)  # ties, zeros
        r = st.sign_flip_test(d)
        m = int(np.count_nonzero(d))
        assert (r.n, r.m) == (n, m)
        assert r.statistic == pytest.approx(d.mean())
        assert r.p == pytest.approx(_brute_force_p(d), abs=1e-12)
        assert r.min_p == min(1.0, 2 / 2**m) and r.min_p <= r.p <= 1.0


def test_sign_flip_known_case_eleven_of_eleven_positive():
    d = np.linspace(0.05, 0.55, 11)
    r = st.sign_flip_test(np.concatenate([d, [0.0, 0.0]]))  # zeros carry no sign
    assert (r.n, r.m) == (13, 11)
    assert r.p == 2 / 2048 and r.min_p == 2 / 2048
    assert st.sign_flip_test(-d).p == 2 / 2048
    assert st.sign_flip_test([0.1, 0.2, 0.1, 0.3]).min_p == 0.125  # 4 seeds: never below 0.125


def test_sign_flip_exact_agrees_with_scipy_exact_permutation_test():
    rng = np.random.default_rng(2)
    d = rng.normal(0.1, 0.3, 12)
    ref = stats.permutation_test((d,), lambda x, axis: np.mean(x, axis=axis), permutation_type="samples",
                                 vectorized=True, n_resamples=np.inf, alternative="two-sided")
    assert st.sign_flip_test(d).p == pytest.approx(ref.pvalue, rel=1e-12)


def test_sign_flip_no_nonzero_difference_gives_p_one():
    r = st.sign_flip_test([0.0, 0.0, 0.0])
    assert (r.statistic, r.p, r.n, r.m, r.min_p) == (0.0, 1.0, 3, 0, 1.0)
    assert math.isnan(st.sign_flip_test([]).statistic)


def test_sign_flip_monte_carlo_above_exact_max_is_seeded_and_says_so():
    rng = np.random.default_rng(3)
    d = rng.normal(0.15, 0.4, 18)
    exact = st.sign_flip_test(d)
    mc = st.sign_flip_test(d, exact_max=8, n_resamples=20_000, seed=5)
    assert exact.method.startswith("exact") and "2^18" in exact.method
    assert mc.method.startswith("Monte Carlo") and "seed 5" in mc.method and "20000" in mc.method
    assert mc.p == pytest.approx(exact.p, abs=4 * math.sqrt(exact.p * (1 - exact.p) / 20_000) + 1e-4)
    assert mc == st.sign_flip_test(d, exact_max=8, n_resamples=20_000, seed=5)
    assert mc.min_p == 2 / 20_001  # the Monte Carlo floor, above 2 / 2^18
    small = st.sign_flip_test(d[:10], exact_max=8, n_resamples=20_000)  # 2^10 <= 20000: scipy enumerates
    assert small.method.startswith("exact") and small.p == pytest.approx(st.sign_flip_test(d[:10]).p)
    assert small.min_p == 2 / 2**10


def test_sign_flip_enumerates_twenty_nonzero_differences_quickly():
    r = st.sign_flip_test(np.full(20, 0.25))
    assert r.p == 2 / 2**20 and r.method.startswith("exact")


def test_sign_flip_refuses_non_finite_differences():
    with pytest.raises(ValueError, match="differences must be finite.*got nan"):
        st.sign_flip_test([0.1, np.nan])


# ---------------------------------------------------------------------------------------------------- Holm, untestable


def test_holm_matches_statsmodels():
    rng = np.random.default_rng(4)
    for size in (1, 2, 5, 11):
        p = rng.random(size) ** 3
        assert st.holm(p) == pytest.approx(multipletests(p, method="holm")[1])


def test_untestable_with_shared_min_p_is_min_p_times_family_size():
    assert st.untestable(0.125, family_size=1).tolist() == [True]  # 4 seeds: never, even alone
    assert st.untestable(2 / 2**6, family_size=1).tolist() == [False]  # 6 seeds alone: 0.03125
    assert st.untestable(2 / 2**6, family_size=2).tolist() == [True, True]  # 0.0625 >= 0.05
    for m in range(1, 15):
        for k in (1, 3, 10, 28):
            assert st.untestable(2 / 2**m, family_size=k).all() == (2 / 2**m * k >= 0.05), (m, k)


def test_untestable_is_the_exact_best_case_of_holm():
    rng = np.random.default_rng(5)
    for _ in range(30):
        min_ps = 2 / 2.0 ** rng.integers(2, 12, int(rng.integers(1, 6)))
        flags = st.untestable(min_ps)
        best = multipletests(min_ps, method="holm")[1]
        assert np.array_equal(flags, best >= 0.05)  # testable ones pass when all tests attain their min_p
        # no outcome at or above the min_ps makes an untestable test significant (st.holm is checked against
        # statsmodels in test_holm_matches_statsmodels; statsmodels itself is too slow for this many draws)
        for _ in range(200):
            p = min_ps + rng.random(min_ps.size) ** 4 * (1 - min_ps)
            assert not np.any(flags & (st.holm(p) < 0.05))


def test_untestable_errors_are_clear():
    with pytest.raises(ValueError, match="family_size = 3 but 2 min_ps given"):
        st.untestable([0.1, 0.2], family_size=3)
    with pytest.raises(ValueError, match=r"min_ps must lie in \(0, 1\]; got 0.0"):
        st.untestable([0.0, 0.2])
    with pytest.raises(ValueError, match="alpha must be in"):
        st.untestable([0.1], alpha=5)


# ---------------------------------------------------------------------------------------------------- intervals


def _bimodal_samples(rng: np.random.Generator):
    for _ in range(60):
        n = int(rng.integers(2, 21))
        chance, solved = rng.uniform(0.5, 0.63), rng.uniform(0.9, 1.0)
        x = np.where(rng.random(n) < rng.random(), solved, chance) + rng.normal(0, 0.01, n)
        yield np.clip(x, 0.0, 1.0)
    yield np.ones(7)  # all at the upper bound
    yield np.zeros(5)  # all at the lower bound
    yield np.array([0.0, 1.0])
    yield np.array([1.0] * 9 + [0.0])
    yield np.full(4, 0.625)


def test_bounded_interval_never_leaves_the_range_on_bimodal_samples():
    rng = np.random.default_rng(6)
    for x in _bimodal_samples(rng):
        r = st.bounded_mean_interval(x, 0.0, 1.0, n_resamples=2000)
        assert r.n == x.size and r.mean == pytest.approx(x.mean())
        assert 0.0 <= r.lo <= r.hi <= 1.0
        assert x.min() <= r.lo and r.hi <= x.max()
        assert r.all_equal == bool(np.all(x == x[0]))
        if r.all_equal:
            assert r.lo == r.mean == r.hi == x[0]
        lo_t, hi_t = st.t_interval(x)
        if x.size == 10 and x.min() == 0.0:  # the case the t-interval gets wrong
            assert lo_t < 0.0 or hi_t > 1.0


def test_bounded_interval_is_the_seeded_percentile_bootstrap():
    x = np.array([1.0, 1.0, 0.62, 1.0, 0.99, 1.0, 0.63, 1.0, 0.6, 1.0])
    r = st.bounded_mean_interval(x, 0.0, 1.0, confidence=0.9, seed=3, n_resamples=5000)
    ref = stats.bootstrap((x,), np.mean, confidence_level=0.9, n_resamples=5000, method="percentile",
                          random_state=np.random.default_rng(3)).confidence_interval
    assert (r.lo, r.hi) == pytest.approx((ref.low, ref.high))
    assert r == st.bounded_mean_interval(x, 0.0, 1.0, confidence=0.9, seed=3, n_resamples=5000)  # deterministic


def test_bounded_interval_degenerate_samples():
    r0, r1 = st.bounded_mean_interval([], 0.0, 1.0), st.bounded_mean_interval([0.7], 0.0, 1.0)
    assert math.isnan(r0.mean) and math.isnan(r0.lo) and r0.n == 0 and not r0.all_equal
    assert r1.mean == 0.7 and math.isnan(r1.lo) and math.isnan(r1.hi) and not r1.all_equal
    assert st.bounded_mean_interval([0.1] * 3, 0.0, 1.0) == st.BoundedMean(0.1, 0.1, 0.1, 3, True)


def test_bounded_interval_names_the_offending_value():
    with pytest.raises(ValueError, match=r"values must lie in \[0.0, 1.0\]; got 1.277 \(position 2\)"):
        st.bounded_mean_interval([0.9, 0.8, 1.277], 0.0, 1.0)
    with pytest.raises(ValueError, match="got nan"):
        st.bounded_mean_interval([0.9, np.nan], 0.0, 1.0)
    with pytest.raises(ValueError, match="need low < high"):
        st.bounded_mean_interval([0.5], 1.0, 0.0)


def test_paired_difference_interval_stays_in_the_difference_range():
    rng = np.random.default_rng(7)
    samples = list(_bimodal_samples(rng))
    for a, b in zip(samples[:-1], samples[1:]):
        n = min(a.size, b.size)
        a, b = a[:n], b[:n]
        r = st.paired_difference_interval(a, b, 0.0, 1.0, n_resamples=2000)
        d = a - b
        assert r.mean == pytest.approx(d.mean()) and r.n == n
        if n >= 2:
            assert -1.0 <= r.lo <= r.hi <= 1.0 and d.min() <= r.lo and r.hi <= d.max()
    same = st.paired_difference_interval([1.0, 1.0, 1.0], [1.0, 1.0, 1.0], 0.0, 1.0)
    assert (same.mean, same.lo, same.hi, same.all_equal) == (0.0, 0.0, 0.0, True)
    extreme = st.paired_difference_interval([1.0, 1.0], [0.0, 0.0], 0.0, 1.0)
    assert (extreme.lo, extreme.hi) == (1.0, 1.0)


def test_paired_difference_interval_errors():
    with pytest.raises(ValueError, match="must pair seeds one to one; got 2 and 3"):
        st.paired_difference_interval([0.5, 0.6], [0.5, 0.6, 0.7], 0.0, 1.0)
    with pytest.raises(ValueError, match=r"b must lie in \[0.0, 1.0\]; got -0.1 \(position 1\)"):
        st.paired_difference_interval([0.5, 0.6], [0.5, -0.1], 0.0, 1.0)


# ---------------------------------------------------------------------------------------- equivalence, verdict


def test_equivalence_only_when_the_interval_is_inside_the_margin():
    assert st.equivalence(-0.05, 0.05, 0.05) and st.equivalence(0.0, 0.0, 0.05)
    assert not st.equivalence(-0.051, 0.01, 0.05) and not st.equivalence(-0.01, 0.051, 0.05)
    assert not st.equivalence(-0.2, 0.2, 0.05)  # a wide interval around 0 is not equivalence
    assert not st.equivalence(math.nan, math.nan, 0.05)
    with pytest.raises(ValueError, match="margin must be > 0"):
        st.equivalence(-0.01, 0.01, 0.0)
    with pytest.raises(ValueError, match="interval bounds reversed"):
        st.equivalence(0.01, -0.01, 0.05)


def test_verdict_vocabulary_and_order():
    v = dict(margin=0.05, n=10)
    assert st.verdict(0.01, 0.001, (0.1, 0.3), difference=0.2, **v) == "A > B"
    assert st.verdict(0.01, 0.001, (-0.3, -0.1), difference=-0.2, a="WDC", b="W", **v) == "WDC < W"
    assert st.verdict(0.01, 0.001, (0.01, 0.03), difference=0.02, **v) == "A > B"  # significance first
    assert st.verdict(0.7, 0.001, (-0.02, 0.03), difference=0.0, **v) == "equivalent within ±0.05"
    assert st.verdict(0.7, 0.2, (-0.02, 0.03), difference=0.0, **v) == "equivalent within ±0.05"
    assert st.verdict(1.0, 0.2, (0.0, 0.0), difference=0.0, all_equal=True, **v) == "untestable with 10 seeds"
    assert st.verdict(0.5, 0.125, (-0.4, 0.5), difference=0.1, margin=0.05, n=4) == "untestable with 4 seeds"
    assert st.verdict(0.3125, 0.01, (-0.1, 0.4), difference=0.1, **v) == "no difference shown (p = 0.312)"
    assert st.verdict(1.0, 0.01, (math.nan, math.nan), difference=0.0, **v) == "no difference shown (p = 1)"


def test_verdict_never_says_no_difference_alone():
    rng = np.random.default_rng(8)
    patterns = ("A > B", "A < B", "equivalent within ±", "untestable with ", "no difference shown (p = ")
    for _ in range(300):
        min_p = float(rng.random() ** 3)
        p = min_p + float(rng.random()) * (1 - min_p)
        lo = float(rng.normal(0, 0.1))
        hi = lo + float(rng.random() * 0.2)
        out = st.verdict(p, min_p, (lo, hi), 0.05, difference=(lo + hi) / 2 or 0.01, n=int(rng.integers(2, 21)))
        assert out.startswith(patterns), out
        if "no difference" in out:
            assert out.startswith("no difference shown (p = ")
    assert set(st.VERDICTS) == {"greater", "less", "equivalent", "untestable", "not_shown"}


def test_verdict_refuses_inconsistent_input():
    with pytest.raises(ValueError, match="below the smallest attainable"):
        st.verdict(0.01, 0.1, (0.0, 0.1), 0.05, difference=0.05, n=10)
    with pytest.raises(ValueError, match="no direction"):
        st.verdict(0.01, 0.001, (0.0, 0.1), 0.05, difference=0.0, n=10)
    with pytest.raises(ValueError, match="p_holm must be a p-value"):
        st.verdict(1.5, 0.001, (0.0, 0.1), 0.05, difference=0.1, n=10)
    with pytest.raises(ValueError, match="margin must be > 0"):
        st.verdict(0.5, 0.001, (0.0, 0.1), -0.05, difference=0.1, n=10)


# ---------------------------------------------------------------------------------------------------- learning speed


def test_steps_to_criterion_first_step_at_threshold_or_censored():
    steps = [0, 50, 100, 150, 200]
    assert st.steps_to_criterion([0.5, 0.79, 0.8, 0.6, 0.95], steps, 0.8) == (100.0, False)
    assert st.steps_to_criterion([0.9, 0.5, 0.5, 0.5, 0.5], steps, 0.8) == (0.0, False)
    step, censored = st.steps_to_criterion([0.5, np.nan, 0.6, 0.7, 0.79], steps, 0.8)
    assert math.isnan(step) and censored
    with pytest.raises(ValueError, match="strictly increasing"):
        st.steps_to_criterion([0.5, 0.9], [10, 10], 0.8)
    with pytest.raises(ValueError, match="one value per step; got 2 and 3"):
        st.steps_to_criterion([0.5, 0.9], [0, 1, 2], 0.8)


def test_curve_auc_is_the_normalized_trapezoid():
    rng = np.random.default_rng(9)
    for _ in range(20):
        steps = np.cumsum(rng.integers(1, 50, 12)).astype(float)
        curve = rng.random(12)
        expected = integrate.trapezoid(curve, steps) / (steps[-1] - steps[0])
        assert st.curve_auc(curve, steps) == pytest.approx(expected)
        assert 0.0 <= st.curve_auc(curve, steps) <= 1.0
    assert st.curve_auc([0.625] * 5, [0, 1, 2, 3, 10]) == pytest.approx(0.625)
    assert st.curve_auc([1.0, 1.0], [0, 7]) == 1.0 and st.curve_auc([0.0, 0.0], [0, 7]) == 0.0
    fast, slow = st.curve_auc([0.5, 1, 1, 1], [0, 1, 2, 3]), st.curve_auc([0.5, 0.5, 0.5, 1], [0, 1, 2, 3])
    assert fast > slow
    with pytest.raises(ValueError, match="at least two points"):
        st.curve_auc([0.5], [0])
    with pytest.raises(ValueError, match=r"curve must lie in \[0.0, 1.0\]; got 1.2"):
        st.curve_auc([0.5, 1.2], [0, 1])


def test_stats_still_imports_without_jax():
    import subprocess
    import sys

    code = ("import sys; sys.modules['jax'] = None; import connectome_priors.stats._bimodal as m; "
            "import connectome_priors.stats as s; assert s.sign_flip_test is m.sign_flip_test")
    subprocess.run([sys.executable, "-c", code], check=True)


# ---------------------------------------------------------------------------------------- learn-rate difference


def test_learn_rate_difference_covers_the_true_difference_of_correlated_pairs():
    rng = np.random.default_rng(11)
    for n, p_both, p_a_only, p_b_only in ((20, 0.6, 0.2, 0.05), (30, 0.85, 0.05, 0.05), (12, 0.3, 0.4, 0.1)):
        probs = [p_both, p_a_only, p_b_only, 1 - p_both - p_a_only - p_b_only]
        truth = p_a_only - p_b_only
        hits = 0
        for _ in range(2000):
            cell = rng.choice(4, size=n, p=probs)
            r = st.learn_rate_difference(np.isin(cell, (0, 1)), np.isin(cell, (0, 2)))
            assert -1.0 <= r.lo <= r.mean <= r.hi <= 1.0
            hits += r.lo <= truth <= r.hi
        assert 0.92 <= hits / 2000 <= 0.995  # Newcombe's score interval: close to nominal, not liberal


def test_learn_rate_difference_keeps_a_width_when_every_seed_agrees():
    z2 = stats.norm.ppf(0.975) ** 2
    for n, learners in ((5, 3), (10, 10), (20, 0), (40, 40)):  # no discordant seed: ±z²/(n + z²), however many learn
        flags = np.arange(n) < learners
        r = st.learn_rate_difference(flags, flags)
        assert r.mean == 0.0 and r.lo == pytest.approx(-z2 / (n + z2)) and r.hi == pytest.approx(z2 / (n + z2))
    r = st.learn_rate_difference([1] * 10, [0] * 10)  # every seed discordant: the closed form (n - z²) / (n + z²)
    assert r.lo == pytest.approx((10 - z2) / (10 + z2)) and r.hi == 1.0
    # 20 seeds cannot show equivalence within ±0.10, 40 can
    r20, r40 = st.learn_rate_difference([1] * 20, [1] * 20), st.learn_rate_difference([1] * 40, [1] * 40)
    assert not st.equivalence(r20.lo, r20.hi, 0.10) and st.equivalence(r40.lo, r40.hi, 0.10)
    with pytest.raises(ValueError, match="one flag per seed"):
        st.learn_rate_difference([1, 0], [1])


def test_sign_flip_tost_is_two_exact_one_sided_tests_and_keeps_its_level():
    from scipy import stats as sps

    from connectome_priors.stats import sign_flip_tost

    rng = np.random.default_rng(11)
    for _ in range(5):
        d = rng.normal(0.01, 0.03, size=9)
        margin = 0.05
        want = []
        for shifted in (d + margin, margin - d):  # H0: mean <= -margin, H0: mean >= margin
            res = sps.permutation_test((shifted,), lambda x, axis: np.sum(x, axis=axis), vectorized=True,
                                       permutation_type="samples", alternative="greater", n_resamples=np.inf)
            want.append(res.pvalue)
        assert sign_flip_tost(d, margin) == pytest.approx(max(want), rel=1e-12)
    # at the boundary of the null (true mean = margin, symmetric noise) it rejects at most alpha of the time
    rejections = sum(sign_flip_tost(rng.normal(0.05, 0.02, size=8), 0.05) < 0.05 for _ in range(400))
    assert rejections / 400 <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / 400)
    # inside the margin with enough seeds it shows equivalence; with 4 seeds it never can
    assert sign_flip_tost(rng.normal(0.0, 0.005, size=10), 0.05) < 0.05
    assert sign_flip_tost(np.zeros(4) + 0.001, 0.05) == 2 ** -4
    with pytest.raises(ValueError, match="margin"):
        sign_flip_tost([0.1], 0.0)


def test_verdict_needs_the_exact_tost_when_given():
    from connectome_priors.stats import verdict

    args = dict(difference=0.01, n=10)
    assert verdict(0.6, 0.002, (-0.01, 0.02), 0.05, **args, tost_p=0.01) == "equivalent within ±0.05"
    assert verdict(0.6, 0.002, (-0.01, 0.02), 0.05, **args, tost_p=0.2).startswith("no difference shown")
