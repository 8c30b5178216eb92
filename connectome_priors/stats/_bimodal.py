"""Statistics for per-seed outcomes that are bimodal and bounded: a run learns the task or stays at chance.

Each training run (one seed) of a variant either learns its task or stays at the no-memory level, so per-seed
accuracy piles up at two values inside ``[0, 1]`` and a Student-t interval can leave the range (``0.873 [0.469,
1.277]``). This module replaces it, for seed-paired variants, with:

* **learned or not** (:data:`LEARN_THRESHOLDS`, :func:`learned`) and the **learn rate** ``k / n`` with a
  Wilson or Clopper-Pearson interval (:func:`learn_rate`, ``statsmodels``' ``proportion_confint``);
* **paired tests with their smallest attainable p**: exact McNemar on the learned flags (:func:`mcnemar_exact`)
  and the exact sign-flip permutation test of the mean paired difference (:func:`sign_flip_test`); with ``n``
  seeds no outcome can give ``p < 2 / 2^n``, so :func:`untestable` says which tests of a Holm family could never
  reach significance, whatever the data;
* **range-preserving intervals**: percentile bootstrap of a bounded mean (:func:`bounded_mean_interval`) and of a
  seed-paired mean difference (:func:`paired_difference_interval`); a mean of resampled values lies between the
  sample's minimum and maximum, so the interval never leaves ``[low, high]``;
* **a fixed vocabulary of verdicts** (:data:`VERDICTS`, :func:`equivalence`, :func:`verdict`): a non-significant
  test is "no difference shown", never "no difference";
* **learning speed**: :func:`steps_to_criterion` (censored when never reached) and :func:`curve_auc`.

Holm's correction is :func:`connectome_priors.stats.holm` (``_rank_tests``), not repeated here.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from ._rank_tests import holm

# Held-out test accuracy at or above which a run counts as having learned its task: midway between the no-memory
# level (the best accuracy without memory of the past, ``benchmarks._schema.NO_MEMORY_ACCURACY``) and the accuracy
# solved runs reach, rounded to a multiple of 0.05, so a run stuck at chance and a solving run fall clearly apart.
LEARN_THRESHOLDS: dict[str, float] = {
    "Task1": 0.80,  # One-Choice Inference: no-memory 5/8 = 0.625, solved ~1.0 -> midway 0.8125
    "Task2": 0.70,  # Perceptual Decision-Making: no-memory 0.5, best ~0.9 (limited by the stimulus noise) -> 0.70
    "Task3": 0.75,  # Go/NoGo: no-memory 0.5, solved 1.0 -> 0.75
}

# What :func:`verdict` can say about a comparison of A with B, and nothing else (``{a}``/``{b}`` the two names,
# ``{margin}`` the equivalence margin, ``{n}`` the paired seeds, ``{p}`` the Holm-adjusted p). A test that is not
# significant never reads "no difference": absence of evidence is "no difference shown".
VERDICTS: dict[str, str] = {
    "greater": "{a} > {b}",
    "less": "{a} < {b}",
    "equivalent": "equivalent within ±{margin:g}",
    "untestable": "untestable with {n} seeds",
    "not_shown": "no difference shown (p = {p:.3g})",
}

_METHODS = {"wilson": "wilson", "exact": "beta"}  # our name -> statsmodels' (Clopper-Pearson is "beta")


@dataclasses.dataclass(frozen=True)
class LearnRate:
    """Result of :func:`learn_rate`: ``k`` of ``n`` runs learned, the rate ``k / n`` and its interval."""

    k: int
    n: int
    rate: float
    lo: float
    hi: float
    method: str


@dataclasses.dataclass(frozen=True)
class McNemarResult:
    """Result of :func:`mcnemar_exact`: discordant counts, the exact two-sided p and the smallest attainable p."""

    n: int
    a_only: int
    b_only: int
    p: float
    min_p: float


@dataclasses.dataclass(frozen=True)
class SignFlipResult:
    """Result of :func:`sign_flip_test`: mean difference, p, pairs ``n``, nonzero differences ``m``, smallest
    attainable p and how p was computed."""

    statistic: float
    p: float
    n: int
    m: int
    min_p: float
    method: str


@dataclasses.dataclass(frozen=True)
class BoundedMean:
    """Result of :func:`bounded_mean_interval` / :func:`paired_difference_interval`: the mean, its interval, the
    sample size and whether the ``n >= 2`` values were all equal (then ``lo == mean == hi``: print "all n equal",
    not a zero-width interval)."""

    mean: float
    lo: float
    hi: float
    n: int
    all_equal: bool


class Criterion(NamedTuple):
    """Result of :func:`steps_to_criterion`: the first step at the threshold, or NaN with ``censored=True``."""

    step: float
    censored: bool


def learned(accuracy: ArrayLike, task: str) -> np.ndarray:
    """Whether each run learned ``task``: held-out test accuracy ``>=`` :data:`LEARN_THRESHOLDS` ``[task]``.

    A NaN accuracy (the run gave no value, e.g. training stopped on a non-finite loss) counts as *not learned*.

    Args:
        accuracy: test accuracies in ``[0, 1]`` (array-like, NaN allowed).
        task: ``"Task1"``, ``"Task2"`` or ``"Task3"``.

    Returns:
        Boolean array of ``accuracy``'s shape.

    Raises:
        ValueError: unknown task, or a finite accuracy outside ``[0, 1]``.

    Example::

        >>> from connectome_priors.stats import learned
        >>> learned([0.62, 0.99, float("nan"), 0.80], "Task1").tolist()
        [False, True, False, True]
    """
    if task not in LEARN_THRESHOLDS:
        raise ValueError(f"no learn threshold for task {task!r}; known: {sorted(LEARN_THRESHOLDS)}")
    acc = np.asarray(accuracy, dtype=float)
    bad = np.isfinite(acc) & ((acc < 0) | (acc > 1))
    if bad.any():
        raise ValueError(f"accuracy must lie in [0, 1]; got {float(acc[bad].flat[0])}")
    return acc >= LEARN_THRESHOLDS[task]  # NaN >= t is False


def _count(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{name} must be an integer count; got {value!r}")
    return int(value)


def _check_confidence(confidence: float) -> None:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1); got {confidence}")


def learn_rate(k: int, n: int, method: str = "wilson", confidence: float = 0.95) -> LearnRate:
    """The fraction of runs that learned, ``k / n``, with a binomial interval that stays inside ``[0, 1]``.

    ``"wilson"`` (default): the score interval ``(k + z²/2)/(n + z²) ± z/(n + z²) · √(k(n-k)/n + z²/4)``,
    ``z = Φ⁻¹((1 + confidence)/2)``. ``"exact"``: Clopper-Pearson, ``lo = B⁻¹(α/2; k, n-k+1)`` (0 for ``k = 0``),
    ``hi = B⁻¹(1-α/2; k+1, n-k)`` (1 for ``k = n``), ``α = 1 - confidence``, coverage at least ``confidence``.
    Both from ``statsmodels.stats.proportion.proportion_confint`` (``"wilson"``, ``"beta"``).

    Args:
        k: runs that learned, ``0 <= k <= n``.
        n: runs, ``n >= 1``.
        method: ``"wilson"`` or ``"exact"``.
        confidence: the coverage, in (0, 1).

    Returns:
        :class:`LearnRate`.

    Raises:
        ValueError: ``n = 0``, ``k`` outside ``[0, n]``, a non-integer count, an unknown method or ``confidence``
            outside (0, 1).

    Example::

        >>> from connectome_priors.stats import learn_rate
        >>> r = learn_rate(9, 10, method="exact")
        >>> r.rate, round(r.lo, 4), round(r.hi, 4)
        (0.9, 0.555, 0.9975)
        >>> learn_rate(10, 10).hi, round(learn_rate(10, 10).lo, 4)   # Wilson, never above 1
        (1.0, 0.7225)
    """
    k, n = _count(k, "k"), _count(n, "n")
    if n < 1:
        raise ValueError(f"n must be at least 1 run for a learn rate; got n = {n}")
    if not 0 <= k <= n:
        raise ValueError(f"k must lie in [0, n] = [0, {n}]; got k = {k}")
    if method not in _METHODS:
        raise ValueError(f"method must be one of {sorted(_METHODS)}; got {method!r}")
    _check_confidence(confidence)
    lo, hi = proportion_confint(k, n, alpha=1 - confidence, method=_METHODS[method])
    # both methods give exactly 0 at k = 0 and 1 at k = n; set them so rounding cannot show 0.9999999999999999
    lo = 0.0 if k == 0 else float(np.clip(lo, 0.0, 1.0))
    hi = 1.0 if k == n else float(np.clip(hi, 0.0, 1.0))
    return LearnRate(k=k, n=n, rate=k / n, lo=lo, hi=hi, method=method)


def _flags(x: ArrayLike, name: str) -> np.ndarray:
    arr = np.asarray(x)
    if arr.dtype != bool:
        if arr.size and not np.isin(arr, (0, 1)).all():
            raise ValueError(f"{name} must be booleans (or 0/1); got {arr[~np.isin(arr, (0, 1))].flat[0].item()!r}")
        arr = arr.astype(bool)
    return arr.ravel()


def mcnemar_exact(learned_a: ArrayLike, learned_b: ArrayLike) -> McNemarResult:
    """Exact McNemar test of paired learned flags (seed ``i`` of A against seed ``i`` of B).

    Only the discordant seeds count: ``a_only`` (A learned, B not) and ``b_only`` (B learned, A not). Under the null
    (A and B learn equally often) ``a_only ~ Binomial(a_only + b_only, 1/2)``; ``p`` is the two-sided exact
    binomial p (``scipy.stats.binomtest``), ``p = 1`` when no seed is discordant. ``min_p = min(1, 2 · 0.5^n)`` is
    the smallest p any outcome of ``n`` pairs can give (all ``n`` discordant in one direction): with ``n = 4``
    seeds it is 0.125, so no result of 4 seeds is significant at 0.05.

    Args:
        learned_a: booleans (or 0/1) of variant A, one per seed.
        learned_b: booleans of variant B, same seeds in the same order.

    Returns:
        :class:`McNemarResult`.

    Raises:
        ValueError: lengths differ or a value is not boolean.

    Example::

        >>> from connectome_priors.stats import mcnemar_exact
        >>> r = mcnemar_exact([1, 1, 1, 1, 1, 1, 0], [0, 0, 0, 0, 0, 1, 0])
        >>> r.a_only, r.b_only, r.p, r.min_p   # 5 of 5 discordant for A: 2 / 2^5
        (5, 0, 0.0625, 0.015625)
    """
    a, b = _flags(learned_a, "learned_a"), _flags(learned_b, "learned_b")
    if a.size != b.size:
        raise ValueError(f"learned_a and learned_b must pair seeds one to one; got {a.size} and {b.size} values")
    a_only, b_only = int(np.sum(a & ~b)), int(np.sum(~a & b))
    p = 1.0 if a_only + b_only == 0 else float(stats.binomtest(a_only, a_only + b_only, 0.5).pvalue)
    return McNemarResult(n=int(a.size), a_only=a_only, b_only=b_only, p=min(p, 1.0),
                         min_p=min(1.0, 2 * 0.5 ** a.size))


def _tango_statistic(delta: float, b: int, c: int, n: int) -> float:
    """Tango's score statistic of ``H0: p_A - p_B = delta`` from the discordant counts ``b`` (A only), ``c`` (B
    only) of ``n`` pairs; the nuisance ``p_21`` at its restricted maximum likelihood (a quadratic's root)."""
    qa, qb, qc = 2.0 * n, -b - c + (2.0 * n - b + c) * delta, -c * delta * (1.0 - delta)
    p21 = max((-qb + math.sqrt(max(qb * qb - 4 * qa * qc, 0.0))) / (2 * qa), 0.0)
    variance, excess = n * (2 * p21 + delta * (1 - delta)), b - c - n * delta
    if excess == 0:
        return 0.0
    return excess / math.sqrt(variance) if variance > 0 else math.copysign(math.inf, excess)


def learn_rate_difference(
    learned_a: ArrayLike, learned_b: ArrayLike, confidence: float = 0.95
) -> BoundedMean:
    """The seed-paired difference of two learn rates, ``p_A - p_B``, with Tango's score interval.

    With ``n`` seeds, ``b`` learned by A only and ``c`` by B only, ``D = (b - c) / n``, and the interval is every
    ``δ`` that Tango's score test does not reject:
    ``|b - c - nδ| / sqrt(n (2 p̃_21(δ) + δ (1 - δ))) <= z_{(1+confidence)/2}``, with ``p̃_21(δ)`` the restricted
    maximum-likelihood probability of "B only" (Tango 1998, *Statistics in Medicine* 17:891). It depends on the
    discordant seeds and ``n`` only, stays inside ``[-1, 1]``, and keeps a width when every seed agrees:
    ``±z² / (n + z²)`` (about ±0.16 for 20 seeds, ±0.09 for 40), so an equivalence claim needs enough seeds.

    Args:
        learned_a: one flag per seed for A.
        learned_b: the flags of B for the same seeds.
        confidence: the coverage, in (0, 1).

    Returns:
        :class:`BoundedMean` ``(mean=D, lo, hi, n, all_equal=False)``; NaN throughout for no seeds.

    Raises:
        ValueError: flags that are not booleans / 0-1, different lengths, or ``confidence`` outside (0, 1).

    Example::

        >>> from connectome_priors.stats import learn_rate_difference
        >>> r = learn_rate_difference([True] * 20, [True] * 20)
        >>> r.mean, round(r.lo, 3), round(r.hi, 3)
        (0.0, -0.161, 0.161)
        >>> r = learn_rate_difference([True] * 10, [False] * 10)   # lo = (n - z²) / (n + z²)
        >>> r.mean, round(r.lo, 3), r.hi
        (1.0, 0.445, 1.0)
    """
    from scipy.optimize import brentq

    fa, fb = _flags(learned_a, "learned_a"), _flags(learned_b, "learned_b")
    if fa.size != fb.size:
        raise ValueError(f"learned_a and learned_b need one flag per seed each; got {fa.size} and {fb.size}")
    _check_confidence(confidence)
    n = int(fa.size)
    if n == 0:
        return BoundedMean(mean=math.nan, lo=math.nan, hi=math.nan, n=0, all_equal=False)
    b, c = int(np.sum(fa & ~fb)), int(np.sum(~fa & fb))
    z = float(stats.norm.ppf((1 + confidence) / 2))
    edge = 1.0 - 1e-12

    def bound(sign: float) -> float:  # the statistic falls with delta: -z crosses above D, +z below
        def f(d: float) -> float:
            return _tango_statistic(d, b, c, n) + sign * z

        end = sign * edge
        return sign * 1.0 if f(end) * sign > 0 else brentq(f, (b - c) / n, end, xtol=1e-12)

    return BoundedMean(mean=(b - c) / n, lo=float(bound(-1.0)), hi=float(bound(+1.0)), n=n, all_equal=False)


def _finite(x: ArrayLike, name: str) -> np.ndarray:
    arr = np.asarray(x, dtype=float).ravel()
    bad = ~np.isfinite(arr)
    if bad.any():
        raise ValueError(f"{name} must be finite (drop the runs without a value and count them apart); "
                         f"got {float(arr[bad][0])}")
    return arr


def _exact_sign_flip_p(abs_d: np.ndarray, observed: float) -> float:
    """``P(|Σ s_i |d_i|| >= |observed|)`` over all ``2^m`` sign vectors, enumerated by doubling the sums."""
    sums = np.zeros(1)
    for v in abs_d:
        sums = np.concatenate([sums + v, sums - v])
    tol = 1e-10 * float(abs_d.sum())  # float-rounding of equal sums (ties are common: accuracies are fractions)
    return float(np.count_nonzero(np.abs(sums) >= abs(observed) - tol)) / sums.size


def sign_flip_test(
    differences: ArrayLike, *, exact_max: int = 22, n_resamples: int = 100_000, seed: int = 0
) -> SignFlipResult:
    """Two-sided paired permutation test of the mean difference by flipping the signs of the differences.

    Under the null (A and B exchangeable within a seed) each paired difference ``d_i = a_i - b_i`` is as likely
    ``+|d_i|`` as ``-|d_i|``. Zeros carry no sign and drop out of the test; with the ``m`` nonzero differences,
    ``p = #{s ∈ {±1}^m : |Σ s_i |d_i|| >= |Σ d_i|} / 2^m``, enumerated exactly (vectorised numpy) when
    ``m <= exact_max``; above, ``scipy.stats.permutation_test`` (``permutation_type="samples"``, ``n_resamples``
    sign vectors from ``np.random.default_rng(seed)``) estimates it (or enumerates, when ``2^m <= n_resamples``),
    and ``method`` says which. The observed signs
    are one of the ``2^m``, so ``p >= min_p = min(1, 2 / 2^m)`` (all signs alike): with ``m = 4`` nonzero
    differences ``min_p = 0.125``. ``min_p`` is conditional on the zeros observed; the Monte Carlo estimate cannot go
    below ``2 / (n_resamples + 1)`` either, and its ``min_p`` is the larger of the two.

    Args:
        differences: the paired differences ``a - b``, one per seed (finite).
        exact_max: the largest ``m`` enumerated exactly (``2^m`` sums in memory: 32 MB at 22).
        n_resamples: sign vectors drawn above ``exact_max``.
        seed: the seed of those draws.

    Returns:
        :class:`SignFlipResult`: ``statistic`` the mean difference over all ``n`` pairs (NaN for none), ``p``,
        ``n``, ``m``, ``min_p``, ``method``.

    Raises:
        ValueError: a difference is not finite.

    Example::

        >>> from connectome_priors.stats import sign_flip_test
        >>> r = sign_flip_test([0.3, 0.1, 0.0, 0.2, 0.4, 0.35])
        >>> round(r.statistic, 4), r.p, r.n, r.m, r.min_p   # 5 nonzero, all positive: 2 / 2^5
        (0.225, 0.0625, 6, 5, 0.0625)
        >>> r.method
        'exact sign-flip (all 2^5 sign vectors)'
    """
    d = _finite(differences, "differences")
    nonzero = d[d != 0]
    n, m = int(d.size), int(nonzero.size)
    statistic = float(d.mean()) if n else math.nan
    if m == 0:
        return SignFlipResult(statistic=statistic, p=1.0, n=n, m=0, min_p=1.0,
                              method="no nonzero difference: p = 1")
    min_p = min(1.0, 2.0 / 2.0**m)
    if m <= exact_max:
        p = _exact_sign_flip_p(np.abs(nonzero), float(nonzero.sum()))
        method = f"exact sign-flip (all 2^{m} sign vectors)"
    else:
        result = stats.permutation_test((nonzero,), lambda x, axis: np.sum(x, axis=axis), vectorized=True,
                                        permutation_type="samples", n_resamples=n_resamples,
                                        alternative="two-sided", random_state=np.random.default_rng(seed))
        p = float(result.pvalue)
        if 2.0**m <= n_resamples:  # scipy enumerates when the resamples would cover every sign vector
            method = f"exact sign-flip (scipy.stats.permutation_test, all 2^{m} sign vectors)"
        else:
            min_p = max(min_p, min(1.0, 2.0 / (n_resamples + 1)))
            method = (f"Monte Carlo sign-flip (scipy.stats.permutation_test, {n_resamples} sign vectors, "
                      f"seed {seed}; m = {m} > exact_max = {exact_max})")
    return SignFlipResult(statistic=statistic, p=min(max(p, min_p), 1.0), n=n, m=m, min_p=min_p, method=method)


def _one_sided_sign_flip_p(d: np.ndarray, exact_max: int, n_resamples: int, seed: int) -> float:
    """``P(Σ s_i |d_i| >= Σ d_i)`` over the sign vectors (the one-sided sign-flip p for a positive mean)."""
    nonzero = d[d != 0]
    if nonzero.size == 0:
        return 1.0
    if nonzero.size <= exact_max:
        sums = np.zeros(1)
        for v in np.abs(nonzero):
            sums = np.concatenate([sums + v, sums - v])
        tol = 1e-10 * float(np.abs(nonzero).sum())
        return float(np.count_nonzero(sums >= float(nonzero.sum()) - tol)) / sums.size
    result = stats.permutation_test((nonzero,), lambda x, axis: np.sum(x, axis=axis), vectorized=True,
                                    permutation_type="samples", n_resamples=n_resamples, alternative="greater",
                                    random_state=np.random.default_rng(seed))
    return float(result.pvalue)


def sign_flip_tost(differences: ArrayLike, margin: float, *, exact_max: int = 22, n_resamples: int = 100_000,
                   seed: int = 0) -> float:
    """The two one-sided tests (TOST) of equivalence within ``±margin`` of a paired mean difference, each an exact
    sign-flip test: ``p = max(p_low, p_high)`` with

    ``p_low = P(Σ s_i |e_i| >= Σ e_i)``, ``e_i = d_i + margin`` (H0: mean ≤ -margin), and
    ``p_high = P(Σ s_i |f_i| >= Σ f_i)``, ``f_i = margin - d_i`` (H0: mean ≥ margin),

    over all sign vectors ``s`` (zeros drop out), enumerated exactly up to ``exact_max`` nonzero terms (above,
    ``scipy.stats.permutation_test``). ``p < α`` shows equivalence at level ``α`` whatever the number of seeds; with
    few seeds it cannot (its smallest value is ``2^-m``), unlike a bootstrap interval, which can be too narrow.

    Args:
        differences: the paired differences ``a - b``, one per seed (finite).
        margin: the equivalence margin, ``> 0``.
        exact_max: the largest number of nonzero terms enumerated exactly.
        n_resamples: sign vectors drawn above ``exact_max``.
        seed: the seed of those draws.

    Returns:
        The TOST p.

    Raises:
        ValueError: a difference is not finite, or ``margin <= 0``.

    Example::

        >>> from connectome_priors.stats import sign_flip_tost
        >>> d = [0.01, -0.02, 0.0, 0.015, 0.005, -0.01, 0.02, 0.0]
        >>> sign_flip_tost(d, 0.05)            # every difference inside the margin, 8 seeds: 2^-8
        0.00390625
        >>> sign_flip_tost(d[:4], 0.05)        # 4 seeds can never show it: 2^-4 > 0.05
        0.0625
        >>> sign_flip_tost([0.04, 0.06, 0.05, 0.07, 0.03], 0.05)   # centred on the margin: no evidence
        0.625
    """
    d = _finite(differences, "differences")
    if not margin > 0:
        raise ValueError(f"margin must be > 0; got {margin}")
    if d.size == 0:
        return 1.0
    p_low = _one_sided_sign_flip_p(d + margin, exact_max, n_resamples, seed)
    p_high = _one_sided_sign_flip_p(margin - d, exact_max, n_resamples, seed)
    return max(p_low, p_high)


def untestable(min_ps: ArrayLike, alpha: float = 0.05, family_size: int | None = None) -> np.ndarray:
    """Which tests of a Holm family could never be significant, whatever the outcome.

    Rule implemented: test ``i`` is untestable iff ``holm(min_ps)[i] >= alpha``, i.e. even when *every* test of
    the family attains its smallest possible p, Holm's adjusted p of test ``i`` does not fall below ``alpha``. This
    is the exact best case: Holm's adjusted p is non-decreasing in each raw p, so no outcome gives a smaller adjusted
    p for any test. When all tests share one ``min_p`` (same seeds) it reduces to ``min_p · K >= alpha``, ``K`` the
    family size (the smallest p meets Holm's first-step factor ``K``, and the step-down maximum carries ``K · min_p``
    to every later test); a test with ``min_p >= alpha`` is untestable in any family. Merely requiring
    ``min_p < alpha`` would call tests "testable" that Holm can never pass; requiring ``min_p · K < alpha`` for
    tests with unequal ``min_p`` would call some "untestable" that can pass, so neither is used.

    Args:
        min_ps: the smallest attainable p of every test of the family (e.g. :func:`sign_flip_test`'s ``min_p``);
            one number with ``family_size``: that many tests sharing it.
        alpha: the significance level, in (0, 1).
        family_size: the number of tests in the family, for a single ``min_p``; with several it must equal their
            number.

    Returns:
        Boolean array, one per test (``family_size`` entries for a single ``min_p``).

    Raises:
        ValueError: a ``min_p`` outside ``(0, 1]``, ``alpha`` outside (0, 1), or ``family_size`` not matching.

    Example::

        >>> from connectome_priors.stats import untestable
        >>> untestable(2 / 2**6, family_size=1).tolist(), untestable(2 / 2**6, family_size=2).tolist()
        ([False], [True, True])
        >>> untestable([0.125, 2 / 2**10, 2 / 2**10]).tolist()   # 4 seeds can never pass; 10 seeds can
        [True, False, False]
    """
    p = np.atleast_1d(np.asarray(min_ps, dtype=float)).ravel()
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1); got {alpha}")
    if family_size is not None:
        if p.size == 1:
            p = np.full(_count(family_size, "family_size"), p[0])
        elif p.size != family_size:
            raise ValueError(f"family_size = {family_size} but {p.size} min_ps given: give one min_p per test")
    bad = ~((p > 0) & (p <= 1))
    if bad.any():
        raise ValueError(f"min_ps must lie in (0, 1]; got {float(p[bad][0])}")
    return holm(p) >= alpha


def _check_range(x: np.ndarray, low: float, high: float, name: str) -> None:
    if not low < high:
        raise ValueError(f"need low < high; got low = {low}, high = {high}")
    bad = ~((x >= low) & (x <= high))  # NaN fails too
    if bad.any():
        where = np.flatnonzero(bad)[0]
        raise ValueError(f"{name} must lie in [{low}, {high}]; got {float(x[bad][0])} (position {where})")


def bounded_mean_interval(
    values: ArrayLike, low: float, high: float, confidence: float = 0.95, seed: int = 0, n_resamples: int = 10_000
) -> BoundedMean:
    """The mean of a metric bounded in ``[low, high]`` with a percentile-bootstrap interval that cannot leave it.

    Percentile bootstrap (``scipy.stats.bootstrap``, ``method="percentile"``, ``n_resamples`` resamples from
    ``np.random.default_rng(seed)``: deterministic): ``[q_{α/2}, q_{1-α/2}]`` of the resampled means. Each resampled
    mean lies between the sample's minimum and maximum, hence inside ``[low, high]`` (clipped against rounding),
    whatever the shape of the sample: two modes at chance and at 1 included, where ``x̄ ± t s/√n`` overshoots. For
    a handful of seeds the percentile interval is somewhat too narrow (it undercovers); read it with ``n``.
    Degenerate samples: ``n = 0`` gives NaN throughout; ``n = 1`` the value and ``lo = hi = NaN``; ``n >= 2`` equal
    values give ``(v, v, v)`` with ``all_equal=True`` (print "all n equal", not a zero-width interval).

    Args:
        values: the sample, every value in ``[low, high]`` (drop runs without a value before, and count them).
        low: the metric's lower bound.
        high: the metric's upper bound, ``> low``.
        confidence: the coverage, in (0, 1).
        seed: the bootstrap generator's seed.
        n_resamples: bootstrap resamples.

    Returns:
        :class:`BoundedMean` ``(mean, lo, hi, n, all_equal)``.

    Raises:
        ValueError: a value outside ``[low, high]`` or NaN (the message names it), ``low >= high``, or
            ``confidence`` outside (0, 1).

    Example::

        >>> from connectome_priors.stats import bounded_mean_interval
        >>> acc = [1.0, 1.0, 0.62, 1.0, 1.0, 1.0, 0.63, 1.0, 1.0, 1.0]   # t-interval: 0.925 [0.82, 1.03]
        >>> r = bounded_mean_interval(acc, 0.0, 1.0)
        >>> round(r.mean, 3), 0.0 <= r.lo < r.hi <= 1.0, round(r.hi, 3)
        (0.925, True, 1.0)
        >>> bounded_mean_interval([1.0, 1.0, 1.0], 0.0, 1.0)
        BoundedMean(mean=1.0, lo=1.0, hi=1.0, n=3, all_equal=True)
    """
    x = np.asarray(values, dtype=float).ravel()
    _check_range(x, low, high, "values")
    _check_confidence(confidence)
    n = int(x.size)
    if n == 0:
        return BoundedMean(mean=math.nan, lo=math.nan, hi=math.nan, n=0, all_equal=False)
    mean = float(np.clip(x.mean(), low, high))
    if n < 2:
        return BoundedMean(mean=mean, lo=math.nan, hi=math.nan, n=n, all_equal=False)
    if np.all(x == x[0]):
        return BoundedMean(mean=float(x[0]), lo=float(x[0]), hi=float(x[0]), n=n, all_equal=True)
    boot = stats.bootstrap((x,), np.mean, confidence_level=confidence, n_resamples=n_resamples, method="percentile",
                           vectorized=True, random_state=np.random.default_rng(seed))
    ci = boot.confidence_interval
    # a resampled mean lies between the sample's extremes; the clip only removes rounding (a mean of equal values
    # can differ from them in the last bit)
    floor, ceiling = max(low, float(x.min())), min(high, float(x.max()))
    return BoundedMean(mean=mean, lo=float(np.clip(ci.low, floor, ceiling)), hi=float(np.clip(ci.high, floor, ceiling)),
                       n=n, all_equal=False)


def paired_difference_interval(
    a: ArrayLike, b: ArrayLike, low: float, high: float, confidence: float = 0.95, seed: int = 0,
    n_resamples: int = 10_000,
) -> BoundedMean:
    """The seed-paired mean difference ``a - b`` of a metric in ``[low, high]``, with a range-preserving interval.

    :func:`bounded_mean_interval` of ``d_i = a_i - b_i`` with the bounds ``[low - high, high - low]``: the interval
    lies inside those bounds (and between the smallest and the largest ``d_i``); ``all_equal`` when every seed gives
    the same difference (e.g. both variants learn on every seed).

    Args:
        a: values of variant A, one per seed, in ``[low, high]``.
        b: values of variant B for the same seeds in the same order.
        low: the metric's lower bound.
        high: the metric's upper bound, ``> low``.
        confidence: the coverage, in (0, 1).
        seed: the bootstrap generator's seed.
        n_resamples: bootstrap resamples.

    Returns:
        :class:`BoundedMean` of the differences.

    Raises:
        ValueError: lengths differ, a value outside ``[low, high]`` or NaN, ``low >= high`` or ``confidence``
            outside (0, 1).

    Example::

        >>> from connectome_priors.stats import paired_difference_interval
        >>> r = paired_difference_interval([1.0, 1.0, 0.63, 1.0], [0.62, 1.0, 0.62, 0.63], 0.0, 1.0)
        >>> round(r.mean, 4), -1.0 <= r.lo <= r.hi <= 1.0, r.n
        (0.19, True, 4)
    """
    x, y = np.asarray(a, dtype=float).ravel(), np.asarray(b, dtype=float).ravel()
    if x.size != y.size:
        raise ValueError(f"a and b must pair seeds one to one; got {x.size} and {y.size} values")
    _check_range(x, low, high, "a")
    _check_range(y, low, high, "b")
    return bounded_mean_interval(x - y, low - high, high - low, confidence, seed, n_resamples)


def equivalence(lo: float, hi: float, margin: float) -> bool:
    """Whether the interval ``[lo, hi]`` of a difference shows equivalence within ``±margin``.

    Equivalence is claimed only when the whole interval lies inside ``[-margin, margin]`` (closed); ``False`` means
    "equivalence not shown", not "different". With a ``1 - 2α`` interval this is the two one-sided tests (TOST) at
    level ``α``; a 95 % interval makes it TOST at 2.5 %, conservative. A NaN bound shows nothing.

    Args:
        lo: lower bound of the difference's interval.
        hi: upper bound.
        margin: the equivalence margin, ``> 0``, in the metric's units.

    Returns:
        ``True`` iff ``-margin <= lo <= hi <= margin``.

    Raises:
        ValueError: ``margin <= 0`` or ``lo > hi``.

    Example::

        >>> from connectome_priors.stats import equivalence
        >>> equivalence(-0.02, 0.03, 0.05), equivalence(-0.02, 0.07, 0.05)
        (True, False)
    """
    if not margin > 0:
        raise ValueError(f"margin must be > 0; got {margin}")
    if lo > hi:
        raise ValueError(f"interval bounds reversed: lo = {lo} > hi = {hi}")
    return bool(-margin <= lo and hi <= margin)  # NaN compares False


def verdict(
    p_holm: float,
    min_p_adjusted: float,
    interval: Sequence[float],
    margin: float,
    *,
    difference: float,
    n: int,
    alpha: float = 0.05,
    all_equal: bool = False,
    a: str = "A",
    b: str = "B",
    tost_p: float | None = None,
) -> str:
    """One of :data:`VERDICTS` for the paired comparison of A with B, the first that applies of:

    1. ``p_holm < alpha``: ``"A > B"`` or ``"A < B"`` by the sign of ``difference``;
    2. the interval lies inside ``[-margin, margin]`` (:func:`equivalence`) and, when given, the exact TOST p
       (:func:`sign_flip_tost`) is below ``alpha``: ``"equivalent within ±margin"``; not when ``all_equal`` (a
       zero-width interval from identical values estimates no spread);
    3. ``min_p_adjusted >= alpha`` (no outcome of these seeds could be significant, :func:`untestable`):
       ``"untestable with n seeds"``;
    4. otherwise ``"no difference shown (p = p_holm)"``.

    Args:
        p_holm: the Holm-adjusted p of the test.
        min_p_adjusted: its smallest attainable Holm-adjusted p, ``holm(min_ps)`` of the family's ``min_p``.
        interval: ``(lo, hi)`` of the difference (NaN allowed: no equivalence).
        margin: the equivalence margin, ``> 0``.
        difference: the estimated difference ``A - B`` (its sign gives the direction).
        n: the paired seeds.
        alpha: the significance level, in (0, 1).
        all_equal: every seed gave the same difference (:class:`BoundedMean`'s flag).
        a: the name printed for A.
        b: the name printed for B.
        tost_p: the exact equivalence test's p (:func:`sign_flip_tost`), required below ``alpha`` too when given.

    Returns:
        The verdict string.

    Raises:
        ValueError: a p is not in ``[0, 1]``, ``p_holm < min_p_adjusted`` (inconsistent inputs: arguments swapped?),
            a significant p with a zero or NaN ``difference``, or an invalid ``margin`` / interval.

    Example::

        >>> from connectome_priors.stats import verdict
        >>> verdict(0.01, 0.002, (0.1, 0.3), 0.05, difference=0.2, n=10, a="W*D*C", b="WD*C")
        'W*D*C > WD*C'
        >>> verdict(0.6, 0.002, (-0.01, 0.02), 0.05, difference=0.005, n=10)
        'equivalent within ±0.05'
        >>> verdict(0.5, 0.25, (-0.3, 0.4), 0.05, difference=0.05, n=4)
        'untestable with 4 seeds'
        >>> verdict(0.31, 0.002, (-0.1, 0.3), 0.05, difference=0.1, n=10)
        'no difference shown (p = 0.31)'
    """
    for name, value in (("p_holm", p_holm), ("min_p_adjusted", min_p_adjusted)):
        if not 0 <= value <= 1:
            raise ValueError(f"{name} must be a p-value in [0, 1]; got {value}")
    if p_holm < min_p_adjusted * (1 - 1e-9):
        raise ValueError(f"p_holm = {p_holm} is below the smallest attainable min_p_adjusted = {min_p_adjusted}: "
                         "inconsistent (arguments swapped?)")
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1); got {alpha}")
    if not margin > 0:
        raise ValueError(f"margin must be > 0; got {margin}")
    lo, hi = interval
    if p_holm < alpha:
        if not (difference > 0 or difference < 0):
            raise ValueError(f"significant p_holm = {p_holm} with difference {difference}: no direction")
        return VERDICTS["greater" if difference > 0 else "less"].format(a=a, b=b)
    if not all_equal and equivalence(lo, hi, margin) and (tost_p is None or tost_p < alpha):
        return VERDICTS["equivalent"].format(margin=margin)
    if min_p_adjusted >= alpha:
        return VERDICTS["untestable"].format(n=n)
    return VERDICTS["not_shown"].format(p=p_holm)


def _curve(curve: ArrayLike, steps: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    c, s = np.asarray(curve, dtype=float).ravel(), np.asarray(steps, dtype=float).ravel()
    if c.size != s.size:
        raise ValueError(f"curve and steps must have one value per step; got {c.size} and {s.size}")
    if c.size == 0:
        raise ValueError("empty curve")
    if not np.all(np.isfinite(s)) or np.any(np.diff(s) <= 0):
        raise ValueError("steps must be finite and strictly increasing")
    return c, s


def steps_to_criterion(curve: ArrayLike, steps: ArrayLike, threshold: float) -> Criterion:
    """The first training step at which an accuracy curve reaches ``threshold`` (``curve >= threshold``).

    A curve that never reaches it is *censored*: ``Criterion(nan, True)`` (the run would need more than
    ``steps[-1]`` steps, or never learns); summarize censored runs apart (count them, or treat them as
    right-censored), never as a number of steps. A NaN point does not reach the threshold.

    Args:
        curve: accuracy at each evaluated step.
        steps: the steps (or epochs), strictly increasing, one per point.
        threshold: the criterion (e.g. :data:`LEARN_THRESHOLDS` ``[task]``).

    Returns:
        :class:`Criterion` ``(step, censored)``.

    Raises:
        ValueError: lengths differ, an empty curve, or steps not strictly increasing.

    Example::

        >>> from connectome_priors.stats import steps_to_criterion
        >>> steps_to_criterion([0.5, 0.6, 0.85, 0.7, 0.9], [0, 100, 200, 300, 400], 0.8)
        Criterion(step=200.0, censored=False)
        >>> steps_to_criterion([0.5, 0.6], [0, 100], 0.8)
        Criterion(step=nan, censored=True)
    """
    c, s = _curve(curve, steps)
    hit = np.flatnonzero(c >= threshold)
    if hit.size == 0:
        return Criterion(step=math.nan, censored=True)
    return Criterion(step=float(s[hit[0]]), censored=False)


def curve_auc(curve: ArrayLike, steps: ArrayLike) -> float:
    """Normalized area under an accuracy curve over the training steps, in ``[0, 1]``.

    ``AUC = Σ_i (c_i + c_{i+1})/2 · (s_{i+1} - s_i) / (s_last - s_first)``: the trapezoid area divided by the step
    range, i.e. the mean accuracy over training; a run that learns sooner has a larger AUC.

    Args:
        curve: accuracy at each step, finite and in ``[0, 1]``.
        steps: the steps, strictly increasing, at least two.

    Returns:
        The normalized area.

    Raises:
        ValueError: fewer than two points, lengths differ, steps not strictly increasing, or an accuracy outside
            ``[0, 1]`` / NaN.

    Example::

        >>> from connectome_priors.stats import curve_auc
        >>> curve_auc([0.5, 1.0, 1.0], [0, 10, 20])   # (7.5 + 10) / 20
        0.875
    """
    c, s = _curve(curve, steps)
    if c.size < 2:
        raise ValueError("curve_auc needs at least two points")
    _check_range(c, 0.0, 1.0, "curve")
    area = float(np.sum((c[1:] + c[:-1]) / 2 * np.diff(s)))
    return float(np.clip(area / (s[-1] - s[0]), 0.0, 1.0))
