"""Random-effects meta-analysis of a contrast across fields (or any independent units), and meta-regression.

Each field gives one effect ``y_i`` (e.g. the seed-paired learn-rate difference of W*D*C and WD*C on that field)
with its sampling variance ``v_i``. :func:`random_effects` pools them with DerSimonian and Laird's estimate of the
between-field variance ``τ²`` (the estimate of ``statsmodels.stats.meta_analysis.combine_effects(method_re="dl")``,
with ``τ²`` truncated at 0 for every ``k``):

``w_i = 1 / (v_i + τ²)``, ``μ̂ = Σ w_i y_i / Σ w_i``, ``SE(μ̂) = 1 / sqrt(Σ w_i)``,

with ``Q = Σ (y_i - ȳ_FE)² / v_i``, ``τ² = max(0, (Q - (k - 1)) / (Σ 1/v_i - Σ v_i⁻² / Σ 1/v_i))`` and
``I² = max(0, (Q - (k - 1)) / Q)``. The pooled interval and the prediction interval for a new field
(``μ̂ ± t_{k-2} sqrt(τ² + SE²)``, Higgins et al. 2009) are clipped to the effect's possible range and say so.
:func:`meta_regression` asks how a field covariate goes with the effect (weighted least squares with the
random-effects weights, one covariate at a time, Holm over the covariates).

:func:`paired_rate_difference` turns a field's discordant seed counts into ``(y, v)`` for a learn-rate contrast.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import ArrayLike

from ._rank_tests import holm


@dataclasses.dataclass(frozen=True)
class MetaResult:
    """A random-effects pooled estimate.

    Attributes:
        k: number of units (fields) pooled.
        estimate: pooled effect ``μ̂``.
        lo: lower bound of its 95 % interval (clipped to the effect's range).
        hi: upper bound.
        tau2: DerSimonian-Laird between-unit variance ``τ²``.
        i2: ``I²``, the share of the spread not due to sampling error, in [0, 1].
        q: Cochran's ``Q``.
        q_p: p of the homogeneity test (``Q`` against chi-square with ``k - 1`` df).
        pred_lo: lower bound of the 95 % prediction interval for a new unit (NaN for ``k < 3``; clipped).
        pred_hi: upper bound.
        clipped: an interval reached beyond the effect's range and was clipped to it.
    """

    k: int
    estimate: float
    lo: float
    hi: float
    tau2: float
    i2: float
    q: float
    q_p: float
    pred_lo: float
    pred_hi: float
    clipped: bool


def paired_rate_difference(a_only: int, b_only: int, n: int) -> tuple[float, float]:
    """The learn-rate difference ``(b - c) / n`` of ``n`` paired seeds and its sampling variance.

    ``v = (b + c - (b - c)² / n) / n²`` (the variance of a mean of per-seed differences in {-1, 0, 1}). Where that
    is zero (no discordant seed, or all discordant one way) a field would get infinite weight; then 0.5 is added to
    ``b`` and ``c`` (and 1 to ``n``) for the variance only, the usual continuity correction.

    Args:
        a_only: seeds on which only A learned (``b``).
        b_only: seeds on which only B learned (``c``).
        n: paired seeds, ``>= a_only + b_only``, ``>= 1``.

    Returns:
        ``(effect, variance)``, the variance ``> 0``.

    Raises:
        ValueError: negative counts or ``n`` smaller than the discordant seeds.

    Example::

        >>> from connectome_priors.stats import paired_rate_difference
        >>> paired_rate_difference(3, 1, 8)
        (0.25, 0.0546875)
        >>> y, v = paired_rate_difference(0, 0, 4); y, round(v, 4)
        (0.0, 0.04)
    """
    b, c, n = int(a_only), int(b_only), int(n)
    if b < 0 or c < 0 or n < 1 or b + c > n:
        raise ValueError(f"need 0 <= a_only, b_only and a_only + b_only <= n >= 1; got a_only={a_only}, "
                         f"b_only={b_only}, n={n}")
    effect = (b - c) / n
    variance = (b + c - (b - c) ** 2 / n) / n**2
    if variance <= 0:
        bb, cc, nn = b + 0.5, c + 0.5, n + 1
        variance = (bb + cc - (bb - cc) ** 2 / nn) / nn**2
    return effect, float(variance)


def random_effects(effects: ArrayLike, variances: ArrayLike, bounds: tuple[float, float] = (-math.inf, math.inf),
                   confidence: float = 0.95) -> MetaResult:
    """DerSimonian-Laird random-effects pooling (module docstring), intervals clipped to ``bounds``.

    Args:
        effects: one effect per unit.
        variances: their sampling variances, ``> 0``.
        bounds: the effect's possible range (e.g. ``(-1, 1)`` for a learn-rate difference).
        confidence: coverage of the intervals, in (0, 1).

    Returns:
        :class:`MetaResult`.

    Raises:
        ValueError: fewer than 2 units, lengths that differ, a non-finite effect, a variance that is not
            positive, or ``confidence`` outside (0, 1).

    Example::

        >>> from connectome_priors.stats import random_effects
        >>> r = random_effects([0.1, 0.3, 0.5, 0.2], [0.01, 0.02, 0.015, 0.03], bounds=(-1, 1))
        >>> round(r.estimate, 4), round(r.tau2, 5), round(r.i2, 3), r.k
        (0.2724, 0.02025, 0.545, 4)
    """
    from scipy import stats

    y = np.asarray(effects, dtype=float).ravel()
    v = np.asarray(variances, dtype=float).ravel()
    if y.size != v.size:
        raise ValueError(f"effects and variances need one value per unit; got {y.size} and {v.size}")
    if y.size < 2:
        raise ValueError(f"random_effects needs at least 2 units; got {y.size}")
    if not np.all(np.isfinite(y)):
        bad = int(np.flatnonzero(~np.isfinite(y))[0])
        raise ValueError(f"effects must be finite; got {y[bad]} (unit {bad})")
    if not np.all(v > 0):
        bad = int(np.flatnonzero(~(v > 0))[0])
        raise ValueError(f"variances must be > 0; got {v[bad]} (unit {bad})")
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1); got {confidence}")
    # the formulas written out: statsmodels' combine_effects(method_re="dl") agrees for k >= 3 but returns a
    # negative τ² for some k = 2 inputs (0.15.0), which the truncation at 0 excludes
    k = int(y.size)
    w = 1.0 / v
    fixed = float(np.sum(w * y) / np.sum(w))
    q = float(np.sum(w * (y - fixed) ** 2))
    tau2 = max(0.0, (q - (k - 1)) / float(np.sum(w) - np.sum(w**2) / np.sum(w)))
    w_re = 1.0 / (v + tau2)
    mu, se = float(np.sum(w_re * y) / np.sum(w_re)), float(1.0 / math.sqrt(np.sum(w_re)))
    z = float(stats.norm.ppf((1 + confidence) / 2))
    lo, hi = mu - z * se, mu + z * se
    if k >= 3:
        t = float(stats.t.ppf((1 + confidence) / 2, k - 2))
        half = t * math.sqrt(tau2 + se**2)
        pred_lo, pred_hi = mu - half, mu + half
    else:
        pred_lo = pred_hi = math.nan
    low, high = bounds
    raw = (lo, hi, pred_lo, pred_hi)
    lo, hi, pred_lo, pred_hi = (float(np.clip(x, low, high)) if math.isfinite(x) else x for x in raw)
    clipped = any(math.isfinite(x) and not low <= x <= high for x in raw)
    i2 = max(0.0, (q - (k - 1)) / q) if q > 0 else 0.0
    return MetaResult(k=k, estimate=mu, lo=lo, hi=hi, tau2=tau2, i2=float(i2), q=q,
                      q_p=float(stats.chi2.sf(q, k - 1)), pred_lo=pred_lo, pred_hi=pred_hi, clipped=clipped)


def meta_regression(effects: ArrayLike, variances: ArrayLike, tau2: float,
                    covariates: Mapping[str, ArrayLike]) -> list[dict[str, float | str]]:
    """How each covariate goes with the effect: weighted least squares ``y ~ 1 + x`` with weights
    ``1 / (v_i + τ²)``, one covariate at a time, the slope's 95 % interval and p (normal reference, the weights
    taken as known), Holm over the covariates. Units with a non-finite covariate are left out of that fit. ``sd`` is
    the covariate's standard deviation over the units of its fit, so ``slope * sd`` is the change of the effect per
    standard deviation of the covariate, comparable across covariates of different units.

    Args:
        effects: one effect per unit.
        variances: their sampling variances, ``> 0``.
        tau2: the between-unit variance (:attr:`MetaResult.tau2`), ``>= 0``.
        covariates: name -> one value per unit.

    Returns:
        One dict per covariate: ``covariate, k, sd, slope, lo, hi, p, p_holm``.

    Raises:
        ValueError: a covariate with the wrong length, or ``tau2 < 0``.

    Example::

        >>> from connectome_priors.stats import meta_regression
        >>> rows = meta_regression([0.1, 0.35, 0.4, 0.7, 0.2], [0.02] * 5, 0.01,
        ...                        {"density": [1, 2, 3, 4, 1.5], "N": [200, 180, 250, 190, 210]})
        >>> [(r["covariate"], r["k"], round(r["slope"], 3), round(r["p_holm"], 3)) for r in rows]
        [('density', 5, 0.185, 0.02), ('N', 5, -0.001, 0.789)]
    """
    import statsmodels.api as sm

    y = np.asarray(effects, dtype=float).ravel()
    v = np.asarray(variances, dtype=float).ravel()
    if tau2 < 0:
        raise ValueError(f"tau2 must be >= 0; got {tau2}")
    rows: list[dict[str, float | str]] = []
    for name, values in covariates.items():
        x = np.asarray(values, dtype=float).ravel()
        if x.size != y.size:
            raise ValueError(f"covariate {name!r} has {x.size} values for {y.size} units")
        keep = np.isfinite(x)
        if keep.sum() < 3 or np.ptp(x[keep]) == 0:
            rows.append(dict(covariate=name, k=int(keep.sum()), sd=math.nan, slope=math.nan, lo=math.nan,
                             hi=math.nan, p=math.nan))
            continue
        fit = sm.WLS(y[keep], sm.add_constant(x[keep]), weights=1.0 / (v[keep] + tau2)).fit(cov_type="fixed scale")
        lo, hi = fit.conf_int()[1]
        rows.append(dict(covariate=name, k=int(keep.sum()), sd=float(np.std(x[keep], ddof=1)),
                         slope=float(fit.params[1]), lo=float(lo), hi=float(hi), p=float(fit.pvalues[1])))
    ps = np.array([r["p"] for r in rows], float)
    tested = np.isfinite(ps)
    adjusted = np.full(ps.shape, math.nan)
    if tested.any():
        adjusted[tested] = holm(ps[tested])
    for r, p in zip(rows, adjusted):
        r["p_holm"] = float(p)
    return rows


def forest_rows(labels: Sequence[str], effects: ArrayLike, variances: ArrayLike,
                bounds: tuple[float, float] = (-math.inf, math.inf)) -> list[tuple[str, float, float, float]]:
    """``(label, effect, lo, hi)`` per unit with the normal 95 % interval ``y ± 1.96 sqrt(v)`` clipped to
    ``bounds``: the rows of a forest plot.

    Args:
        labels: one name per unit.
        effects: one effect per unit.
        variances: their sampling variances.
        bounds: the effect's possible range.

    Returns:
        The rows, in the given order.

    Example::

        >>> from connectome_priors.stats import forest_rows
        >>> [(lab, e, round(lo, 3), round(hi, 3)) for lab, e, lo, hi in
        ...  forest_rows(["6_6_2", "5_3_8"], [0.5, 0.9], [0.01, 0.04], bounds=(-1, 1))]
        [('6_6_2', 0.5, 0.304, 0.696), ('5_3_8', 0.9, 0.508, 1.0)]
    """
    y = np.asarray(effects, dtype=float).ravel()
    half = 1.959963984540054 * np.sqrt(np.asarray(variances, dtype=float).ravel())
    low, high = bounds
    return [(str(lab), float(e), float(max(e - h, low)), float(min(e + h, high)))
            for lab, e, h in zip(labels, y, half)]
