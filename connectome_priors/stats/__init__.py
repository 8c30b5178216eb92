"""Statistics of an ablation (public, JAX-free): confidence intervals, factor-wise rank tests, seed-paired
comparisons, rank-ANOVA with its estimability.

Input: a tidy ``pandas.DataFrame`` with one row per (run, metric) and the columns

``variant`` (str, e.g. ``"W*D*C"``), ``task`` (any hashable label), ``seed`` (int), ``metric`` (str, e.g.
``"Accuracy"``) and ``value`` (float; NaN/inf = the run produced no value, dropped and counted in ``note``).

Extra columns are ignored. Outputs are DataFrames, ordered by task, metric and the canonical variant order.

The eleven variants of the paper factor into three priors (:func:`parse_variant`; the grammar of variant names,
controls included, is :class:`Variant`):

* ``w_variant``: ``w*`` functional initialisation, ``w!`` its permutation, ``w`` orthogonal;
* ``d_variant``: ``d*`` real soma distances, ``d`` grid, ``none`` (no wiring cost);
* ``c_variant``: ``c`` communicability penalty, ``c*`` EMD to the empirical communicability, ``none``.

What is computed (the paper's supplementary analysis, ``StatisticalAnalysis/`` of the reference repository):

* :func:`summarize`: per task, metric and variant, the mean with a 95 % t-interval
  ``x̄ ± t_{0.975, n-1} s / √n`` and a percentile bootstrap interval (``scipy.stats.bootstrap``, seeded): the
  paper's layout, for comparison with its tables only (a t-interval of a bounded, bimodal outcome can leave the
  metric's range); :func:`mean_interval` the mean and t-interval of one sample.
* :func:`summarize_runs`: the summary every report of the project shows: the mean with a percentile bootstrap
  interval kept inside the metric's range (:data:`METRIC_RANGES`, :func:`metric_range`), the runs that gave no
  value counted (``n`` runs, ``n_ok`` finite), and for accuracies the learn rate with its Wilson interval.
* :func:`simple_effects`: per task, metric and *focus* factor, hold the other two factors fixed (*context*) and
  compare the levels of the focus factor: Kruskal-Wallis over the levels (contexts with >= 2 levels), Mann-Whitney U
  (two-sided) for every pair of levels where the context has two levels or the Kruskal-Wallis p < ``alpha``, Holm
  correction over all pairs of one (task, metric, focus) family. Layout of the paper's
  ``simple_effects_{KW_omnibus, MWU_pairs_holm, group_medians_means}.csv`` (with ``none`` where the paper prints
  ``nan``; :func:`to_paper_layout` converts).
* :func:`paired_comparisons`: per task, metric and pair of variants, the seed-paired differences (variants of one
  seed share that seed's data): the exact sign-flip test, Holm over the pairs of a (task, metric), the mean
  paired difference with a range-preserving bootstrap interval, and a verdict (equivalence only within
  :data:`EQUIVALENCE_MARGINS`); :func:`one_factor_pairs` lists the pairs that differ in one factor.
* :func:`rank_anova`: type-II ANOVA of the globally ranked values on ``C(w) * C(d) * C(c)``. Only 11 of the
  3 x 3 x 3 = 27 cells exist, so most interaction terms are aliased; :func:`anova_estimability` reads that off the
  design matrix ranks and :func:`estimability_statement` says it in words. ``reference_compat=True`` reproduces the
  paper's call (``statsmodels`` ``anova_lm(typ=2)``, which silently drops the rows whose ``d``/``c`` level is missing
  and reports sums of squares for aliased terms, some negative).

For per-seed outcomes that are bimodal and bounded (a run learns its task or stays at the no-memory level, so a
t-interval of accuracy can leave ``[0, 1]``), ``_bimodal`` gives: :func:`learned` (held-out accuracy at or above
:data:`LEARN_THRESHOLDS`, midway between the no-memory level and solved) and :func:`learn_rate` (``k / n`` with a
Wilson or Clopper-Pearson interval); the exact seed-paired tests :func:`mcnemar_exact` (learned flags) and
:func:`sign_flip_test` (mean difference, all ``2^m`` sign flips), :func:`learn_rate_difference` (Tango's
paired score interval of two learn rates), each with ``min_p``, the smallest p its seeds can
give, and :func:`untestable` (which tests of a Holm family no outcome can make significant); range-preserving
percentile-bootstrap intervals :func:`bounded_mean_interval` and :func:`paired_difference_interval`;
:func:`equivalence` and :func:`verdict` with its fixed vocabulary :data:`VERDICTS` ("no difference shown", never
"no difference"); and the learning-speed measures :func:`steps_to_criterion` (censored when never reached) and
:func:`curve_auc`.

:func:`random_effects` pools one contrast across fields (DerSimonian-Laird, with ``τ²``, ``I²`` and a prediction
interval for a new field, clipped to the effect's range), :func:`meta_regression` relates it to field covariates,
:func:`paired_rate_difference` gives a field's learn-rate contrast and its variance, :func:`forest_rows` the rows
of a forest plot (``_meta``).

Each idea has its own private module (``_variants``: the variant grammar, :class:`Variant`; ``_design``: the input
and the W/D/C factors; ``_intervals``; ``_rank_tests``: Holm and the rank tests; ``_simple_effects``; ``_paired``;
``_bimodal``; ``_anova``); this module is their one public home.

Example::

    >>> import numpy as np, pandas as pd
    >>> from connectome_priors.stats import CANONICAL_VARIANTS, summarize
    >>> rng = np.random.default_rng(0)
    >>> rows = [dict(variant=v, task="Task1", seed=s, metric="Accuracy", value=rng.normal(0.8, 0.05))
    ...         for v in CANONICAL_VARIANTS for s in range(10)]
    >>> table = summarize(pd.DataFrame(rows))
    >>> list(table.variant[:3]), bool((table.t_lo < table["mean"]).all())
    (['W*D*C', 'WD*C', 'WDC'], True)
"""

from __future__ import annotations

from ._anova import RankAnova, anova_estimability, estimability_statement, rank_anova
from ._bimodal import (
    LEARN_THRESHOLDS,
    VERDICTS,
    BoundedMean,
    Criterion,
    LearnRate,
    McNemarResult,
    SignFlipResult,
    bounded_mean_interval,
    curve_auc,
    equivalence,
    learn_rate,
    learn_rate_difference,
    learned,
    mcnemar_exact,
    paired_difference_interval,
    sign_flip_test,
    sign_flip_tost,
    steps_to_criterion,
    untestable,
    verdict,
)
from ._design import FACTOR_LEVELS, FACTORS, REQUIRED_COLUMNS, parse_variant
from ._intervals import (
    METRIC_RANGES,
    RUN_SUMMARY_COLUMNS,
    SUMMARY_COLUMNS,
    mean_interval,
    metric_range,
    summarize,
    summarize_runs,
    t_interval,
)
from ._meta import MetaResult, forest_rows, meta_regression, paired_rate_difference, random_effects
from ._paired import EQUIVALENCE_MARGINS, PAIRED_COLUMNS, one_factor_pairs, paired_comparisons
from ._rank_tests import holm
from ._simple_effects import ONLY_LEVEL, PAPER_METRIC_NAMES, simple_effects, to_paper_layout
from ._variants import CANONICAL_VARIANTS, CONTROL_VARIANTS, NONE_LEVEL, Variant

__all__ = [
    "BoundedMean",
    "CANONICAL_VARIANTS",
    "CONTROL_VARIANTS",
    "Criterion",
    "EQUIVALENCE_MARGINS",
    "FACTORS",
    "FACTOR_LEVELS",
    "LEARN_THRESHOLDS",
    "LearnRate",
    "METRIC_RANGES",
    "McNemarResult",
    "MetaResult",
    "NONE_LEVEL",
    "ONLY_LEVEL",
    "PAIRED_COLUMNS",
    "PAPER_METRIC_NAMES",
    "REQUIRED_COLUMNS",
    "RUN_SUMMARY_COLUMNS",
    "RankAnova",
    "SUMMARY_COLUMNS",
    "SignFlipResult",
    "VERDICTS",
    "Variant",
    "anova_estimability",
    "bounded_mean_interval",
    "curve_auc",
    "equivalence",
    "estimability_statement",
    "holm",
    "learn_rate",
    "learn_rate_difference",
    "learned",
    "mcnemar_exact",
    "forest_rows",
    "mean_interval",
    "meta_regression",
    "metric_range",
    "one_factor_pairs",
    "paired_comparisons",
    "paired_difference_interval",
    "paired_rate_difference",
    "parse_variant",
    "random_effects",
    "rank_anova",
    "sign_flip_test",
    "sign_flip_tost",
    "simple_effects",
    "steps_to_criterion",
    "summarize",
    "summarize_runs",
    "t_interval",
    "to_paper_layout",
    "untestable",
    "verdict",
]
