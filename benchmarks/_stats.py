"""Statistics of the ablation: confidence intervals, factor-wise rank tests, rank-ANOVA with its estimability.

Input: a tidy ``pandas.DataFrame`` with one row per (run, metric) and the columns

``variant`` (str, e.g. ``"W*D*C"``), ``task`` (any hashable label), ``seed`` (int), ``metric`` (str, e.g.
``"Accuracy"``) and ``value`` (float; NaN/inf = the run produced no value, dropped and counted in ``note``).

Extra columns are ignored. Outputs are DataFrames, ordered by task, metric and the canonical variant order.

The eleven variants of the paper factor into three priors (:func:`parse_variant`):

* ``w_variant``: ``w*`` functional initialisation, ``w!`` its permutation, ``w`` orthogonal;
* ``d_variant``: ``d*`` real soma distances, ``d`` grid, ``none`` (no wiring cost);
* ``c_variant``: ``c`` communicability penalty, ``c*`` EMD to the empirical communicability, ``none``.

What is computed (the paper's supplementary analysis, ``StatisticalAnalysis/`` of the reference repository):

* :func:`summarize`: per task, metric and variant, the mean with a 95 % t-interval
  ``x̄ ± t_{0.975, n-1} s / √n`` and a percentile bootstrap interval (``scipy.stats.bootstrap``, seeded).
* :func:`simple_effects`: per task, metric and *focus* factor, hold the other two factors fixed (*context*) and
  compare the levels of the focus factor: Kruskal-Wallis over the levels (contexts with >= 2 levels), Mann-Whitney U
  (two-sided) for every pair of levels where the context has two levels or the Kruskal-Wallis p < ``alpha``, Holm
  correction over all pairs of one (task, metric, focus) family. Layout of the paper's
  ``simple_effects_{KW_omnibus, MWU_pairs_holm, group_medians_means}.csv`` (with ``none`` where the paper prints
  ``nan``; :func:`to_paper_layout` converts).
* :func:`rank_anova`: type-II ANOVA of the globally ranked values on ``C(w) * C(d) * C(c)``. Only 11 of the
  3 x 3 x 3 = 27 cells exist, so most interaction terms are aliased; :func:`anova_estimability` reads that off the
  design matrix ranks and :func:`estimability_statement` says it in words. ``reference_compat=True`` reproduces the
  paper's call (``statsmodels`` ``anova_lm(typ=2)``, which silently drops the rows whose ``d``/``c`` level is missing
  and reports sums of squares for aliased terms, some negative).

Example::

    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> rows = [dict(variant=v, task="Task1", seed=s, metric="Accuracy", value=rng.normal(0.8, 0.05))
    ...         for v in CANONICAL_VARIANTS for s in range(10)]
    >>> table = summarize(pd.DataFrame(rows))
    >>> list(table.variant[:3]), bool((table.t_lo < table["mean"]).all())
    (['W*D*C', 'WD*C', 'WDC'], True)
"""

from __future__ import annotations

import itertools
import math
import re
import warnings
from collections.abc import Iterable
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import stats

from ._variants import variant_names

__all__ = [
    "CANONICAL_VARIANTS",
    "FACTORS",
    "NONE_LEVEL",
    "RankAnova",
    "anova_estimability",
    "estimability_statement",
    "holm",
    "parse_variant",
    "rank_anova",
    "simple_effects",
    "summarize",
    "to_paper_layout",
]

CANONICAL_VARIANTS: tuple[str, ...] = tuple(variant_names())  # the eleven, in the paper's order
FACTORS: tuple[str, ...] = ("w_variant", "d_variant", "c_variant")
NONE_LEVEL = "none"
FACTOR_LEVELS: dict[str, tuple[str, ...]] = {
    "w_variant": ("w", "w!", "w*"),
    "d_variant": ("d", "d*", NONE_LEVEL),
    "c_variant": ("c", "c*", NONE_LEVEL),
}
REQUIRED_COLUMNS: tuple[str, ...] = ("variant", "task", "seed", "metric", "value")
ONLY_LEVEL = "(only level)"
# the reference analysis notebooks' metric spellings (sic: "assortivity")
PAPER_METRIC_NAMES: dict[str, str] = {
    "Accuracy": "accuracy",
    "Assortativity": "assortivity",
    "Entropy": "entropy",
    "Loss": "loss",
    "Modularity": "modularity",
    "SmallWorldness": "smallWorldness",
}

_VARIANT_PATTERN = re.compile(r"^(W[*!]?)(D\*?)?(C\*?)?$")


# ----------------------------------------------------------------------------------------------------------------
# input handling


def parse_variant(name: str) -> dict[str, str]:
    """Factor levels of a variant name: ``{"w_variant", "d_variant", "c_variant"}`` (lower case, ``"none"`` if absent).

    Grammar: ``W`` | ``W*`` | ``W!``, then optionally ``D`` | ``D*``, then optionally ``C`` | ``C*``.

    Example::

        >>> parse_variant("W!D*C*")
        {'w_variant': 'w!', 'd_variant': 'd*', 'c_variant': 'c*'}
        >>> parse_variant("W")
        {'w_variant': 'w', 'd_variant': 'none', 'c_variant': 'none'}
    """
    match = _VARIANT_PATTERN.match(str(name))
    if match is None:
        raise ValueError(
            f"variant {name!r} is not a W/D/C variant name: expected W, W* or W!, then optionally D or D*, then "
            "optionally C or C* (e.g. 'W*D*C')"
        )
    w, d, c = match.groups()
    return {"w_variant": w.lower(), "d_variant": (d or NONE_LEVEL).lower(), "c_variant": (c or NONE_LEVEL).lower()}


def _is_factorial(name: str) -> bool:
    return _VARIANT_PATTERN.match(str(name)) is not None


def _check_frame(df: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"df must be a pandas DataFrame with columns {REQUIRED_COLUMNS}; got {type(df).__name__}")
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"df lacks the column(s) {missing}; required: {list(REQUIRED_COLUMNS)}")
    out = df.loc[:, list(REQUIRED_COLUMNS)].copy()
    out["value"] = pd.to_numeric(out["value"], errors="raise").astype(float)
    return out


def _variant_order(variants: Iterable[str]) -> list[str]:
    """Canonical variants first, in the paper's order, then any other (control) variants alphabetically."""
    present = list(dict.fromkeys(variants))
    canonical = [v for v in CANONICAL_VARIANTS if v in present]
    return canonical + sorted(v for v in present if v not in CANONICAL_VARIANTS)


def _level_key(level: str) -> tuple[bool, str]:
    return (level == NONE_LEVEL, level)  # "none" last, as NaN sorts last in the paper's tables


def _finite(values: pd.Series) -> np.ndarray:
    x = values.to_numpy(dtype=float)
    return x[np.isfinite(x)]


# ----------------------------------------------------------------------------------------------------------------
# confidence intervals


def _t_interval(x: np.ndarray, confidence: float) -> tuple[float, float]:
    n = x.size
    half = stats.t.ppf(0.5 + confidence / 2, n - 1) * x.std(ddof=1) / math.sqrt(n)
    return float(x.mean() - half), float(x.mean() + half)


def summarize(
    df: pd.DataFrame, *, confidence: float = 0.95, n_resamples: int = 10_000, seed: int = 0
) -> pd.DataFrame:
    """Mean, t-interval and percentile bootstrap interval per (task, metric, variant).

    Columns: ``task, metric, variant, n, mean, sd, t_lo, t_hi, boot_lo, boot_hi, note``. ``n`` counts finite values.
    t-interval: ``x̄ ± t_{(1+confidence)/2, n-1} s/√n``; bootstrap: ``scipy.stats.bootstrap`` of the mean,
    ``method="percentile"`` (the reference's recipe), ``n_resamples`` draws from ``np.random.default_rng(seed)``.
    Degenerate cells do not raise: zero variance gives the interval ``[x̄, x̄]``, ``n < 2`` gives NaN, and ``note``
    says why.

    Example::

        >>> df = pd.DataFrame(dict(variant="W", task=1, seed=range(4), metric="Accuracy", value=[1., 2., 3., 4.]))
        >>> row = summarize(df).iloc[0]
        >>> float(row["mean"]), round(float(row.t_hi - row["mean"]), 4)   # t_{0.975,3} * s / 2
        (2.5, 2.0543)
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1); got {confidence}")
    data = _check_frame(df)
    rows = []
    for (task, metric), block in data.groupby(["task", "metric"], sort=True):
        for variant in _variant_order(block["variant"]):
            raw = block.loc[block["variant"] == variant, "value"]
            x = _finite(raw)
            notes = []
            if x.size < raw.size:
                notes.append(f"{raw.size - x.size} non-finite value(s) dropped")
            row = dict(task=task, metric=metric, variant=variant, n=int(x.size))
            row.update(dict.fromkeys(["mean", "sd", "t_lo", "t_hi", "boot_lo", "boot_hi"], math.nan))
            if x.size >= 1:
                row["mean"] = float(x.mean())
            if x.size < 2:
                notes.append("n < 2: no interval")
            elif np.all(x == x[0]):
                row.update(sd=0.0, t_lo=row["mean"], t_hi=row["mean"], boot_lo=row["mean"], boot_hi=row["mean"])
                notes.append("zero variance: degenerate interval")
            else:
                row["sd"] = float(x.std(ddof=1))
                row["t_lo"], row["t_hi"] = _t_interval(x, confidence)
                boot = stats.bootstrap(
                    (x,),
                    np.mean,
                    confidence_level=confidence,
                    n_resamples=n_resamples,
                    method="percentile",
                    vectorized=True,
                    random_state=np.random.default_rng(seed),
                )
                row["boot_lo"] = float(boot.confidence_interval.low)
                row["boot_hi"] = float(boot.confidence_interval.high)
            row["note"] = "; ".join(notes)
            rows.append(row)
    columns = ["task", "metric", "variant", "n", "mean", "sd", "t_lo", "t_hi", "boot_lo", "boot_hi", "note"]
    return pd.DataFrame(rows, columns=columns)


# ----------------------------------------------------------------------------------------------------------------
# simple effects: Kruskal-Wallis, Mann-Whitney U, Holm


def holm(p_values: Iterable[float]) -> np.ndarray:
    """Holm step-down adjusted p-values (as ``statsmodels``' ``multipletests(method="holm")``, which
    is the test oracle; numpy here because statsmodels runs ``gc.collect()`` on every call); NaN stays NaN.

    ``p_(i) ← min(1, max_{j <= i} (m - j + 1) p_(j))`` over the ``m`` finite p-values sorted ascending.

    Example::

        >>> holm([0.01, 0.04, 0.03]).round(3).tolist()
        [0.03, 0.06, 0.06]
    """
    p = np.asarray(list(p_values), dtype=float)
    out = np.full(p.shape, math.nan)
    finite = np.flatnonzero(np.isfinite(p))
    if finite.size:
        order = finite[np.argsort(p[finite], kind="stable")]
        m = order.size
        stepped = np.maximum.accumulate((m - np.arange(m)) * p[order])
        out[order] = np.minimum(stepped, 1.0)
    return out


def _kruskal(groups: list[np.ndarray]) -> tuple[float, float, str]:
    if any(g.size == 0 for g in groups):
        return math.nan, math.nan, "a level has no finite values"
    pooled = np.concatenate(groups)
    if np.all(pooled == pooled[0]):
        return math.nan, math.nan, "all values identical: Kruskal-Wallis undefined"
    result = stats.kruskal(*groups)
    return float(result.statistic), float(result.pvalue), ""


def _mannwhitney(x: np.ndarray, y: np.ndarray) -> tuple[float, float, str]:
    if x.size == 0 or y.size == 0:
        return math.nan, math.nan, "a level has no finite values"
    pooled = np.concatenate([x, y])
    if np.all(pooled == pooled[0]):
        return math.nan, math.nan, "all values identical: Mann-Whitney U undefined"
    result = stats.mannwhitneyu(x, y, alternative="two-sided")
    return float(result.statistic), float(result.pvalue), ""


def _context_label(levels: dict[str, str], focus: str) -> str:
    return ", ".join(f"{f}={levels[f]}" for f in FACTORS if f != focus)


def _factor_frame(data: pd.DataFrame) -> pd.DataFrame:
    """Rows of the W/D/C variants with their factor levels (controls such as diagonal-only init are left out)."""
    data = data[data["variant"].map(_is_factorial)].copy()
    levels = pd.DataFrame([parse_variant(v) for v in data["variant"]], index=data.index, columns=list(FACTORS))
    return pd.concat([data, levels], axis=1)


def simple_effects(df: pd.DataFrame, *, alpha: float = 0.05) -> dict[str, pd.DataFrame]:
    """The paper's simple-effects tests per factor (supplementary tables S5-S7).

    For each task, metric, focus factor ``F`` and context (levels of the two other factors), the groups are the
    levels of ``F`` found among the variants of that context. Returns three DataFrames:

    * ``"groups"``: ``task, metric, focus, context, level, n, median, mean`` (every context; ``level`` is
      ``"(only level)"`` where the context has one level);
    * ``"kruskal"``: ``task, metric, focus, context, H, p, note`` (contexts with >= 2 levels);
    * ``"mannwhitney"``: ``task, metric, focus, context, l1, l2, U, p_raw, p_adj_holm, sig, note`` for every pair of
      levels (``U`` of ``l1``) in contexts with exactly two levels or a Kruskal-Wallis ``p < alpha``; Holm over all
      pairs of one (task, metric, focus); ``sig`` is ``"YES"`` when ``p_adj_holm < alpha``.

    Undefined tests (all values identical, an empty level) give NaN with the reason in ``note``. Variants whose
    names are not W/D/C names (controls) are left out. Levels sort as ``w < w! < w*``, ``none`` last.

    Example::

        >>> rng = np.random.default_rng(1)
        >>> rows = [dict(variant=v, task=1, seed=s, metric="Accuracy", value=rng.normal())
        ...         for v in CANONICAL_VARIANTS for s in range(8)]
        >>> out = simple_effects(pd.DataFrame(rows))
        >>> out["kruskal"].groupby("focus").size().to_dict()   # contexts with >= 2 levels
        {'c_variant': 4, 'd_variant': 3, 'w_variant': 2}
    """
    data = _factor_frame(_check_frame(df))
    group_rows, kruskal_rows, pair_rows = [], [], []
    for (task, metric), block in data.groupby(["task", "metric"], sort=True):
        for focus in FACTORS:
            others = [f for f in FACTORS if f != focus]
            family_start = len(pair_rows)
            contexts = sorted(
                {tuple(r) for r in block[others].itertuples(index=False)},
                key=lambda levels: tuple(_level_key(level) for level in levels),
            )
            for context_levels in contexts:
                in_context = np.logical_and.reduce([block[f] == lv for f, lv in zip(others, context_levels)])
                cell = block[in_context]
                context = _context_label(dict(zip(others, context_levels)), focus)
                levels = sorted(cell[focus].unique(), key=_level_key)
                samples = {lv: _finite(cell.loc[cell[focus] == lv, "value"]) for lv in levels}
                key = dict(task=task, metric=metric, focus=focus, context=context)
                for lv in levels:
                    x = samples[lv]
                    group_rows.append(
                        dict(
                            key,
                            level=lv if len(levels) > 1 else ONLY_LEVEL,
                            n=int(x.size),
                            median=float(np.median(x)) if x.size else math.nan,
                            mean=float(x.mean()) if x.size else math.nan,
                        )
                    )
                if len(levels) < 2:
                    continue
                H, p, note = _kruskal([samples[lv] for lv in levels])
                kruskal_rows.append(dict(key, H=H, p=p, note=note))
                if len(levels) > 2 and not (p < alpha):
                    continue  # pairwise tests only after a significant omnibus (or when the pair is the omnibus)
                for l1, l2 in itertools.combinations(levels, 2):
                    U, p_raw, pair_note = _mannwhitney(samples[l1], samples[l2])
                    pair_rows.append(dict(key, l1=l1, l2=l2, U=U, p_raw=p_raw, note=pair_note))
            family = pair_rows[family_start:]
            for row, p_adj in zip(family, holm(r["p_raw"] for r in family)):
                row["p_adj_holm"] = float(p_adj)
                row["sig"] = "YES" if p_adj < alpha else "no"
    keys = ["task", "metric", "focus", "context"]
    return {
        "groups": pd.DataFrame(group_rows, columns=keys + ["level", "n", "median", "mean"]),
        "kruskal": pd.DataFrame(kruskal_rows, columns=keys + ["H", "p", "note"]),
        "mannwhitney": pd.DataFrame(
            pair_rows, columns=keys + ["l1", "l2", "U", "p_raw", "p_adj_holm", "sig", "note"]
        ),
    }


def to_paper_layout(table: pd.DataFrame, *, task_numbers: dict | None = None) -> pd.DataFrame:
    """Spell a :func:`simple_effects` / :func:`rank_anova` table as the paper's CSVs do, to print them side by side.

    ``none`` → ``nan`` in ``context`` and NaN in the level columns, metric names as the reference notebooks spell
    them (``"Assortativity"`` → ``"assortivity"``), ``task`` relabelled through ``task_numbers`` if given (the paper's
    raw tables number tasks as its notebook: 1 One-Choice Inference, 2 Go/NoGo, 3 Perceptual Decision-Making).
    """
    out = table.copy()
    if "context" in out:
        out["context"] = out["context"].str.replace(f"={NONE_LEVEL}", "=nan", regex=False)
    for column in ("level", "l1", "l2"):
        if column in out:
            out[column] = out[column].where(out[column] != NONE_LEVEL, np.nan)
    if "metric" in out:
        out["metric"] = out["metric"].map(lambda m: PAPER_METRIC_NAMES.get(m, m))
    if task_numbers is not None and "task" in out:
        out["task"] = out["task"].map(lambda t: task_numbers.get(t, t))
    return out.drop(columns=[c for c in ("note",) if c in out])


# ----------------------------------------------------------------------------------------------------------------
# rank ANOVA


_FORMULA = "rank ~ C(w_variant) * C(d_variant) * C(c_variant)"
_TERMS: tuple[tuple[str, ...], ...] = (
    ("w_variant",),
    ("d_variant",),
    ("c_variant",),
    ("w_variant", "d_variant"),
    ("w_variant", "c_variant"),
    ("d_variant", "c_variant"),
    ("w_variant", "d_variant", "c_variant"),
)


def _term_name(term: tuple[str, ...]) -> str:
    return ":".join(f"C({f})" for f in term)


def _term_columns(cells: pd.DataFrame) -> tuple[np.ndarray, dict[tuple[str, ...], np.ndarray]]:
    """Treatment-coded columns of every term of the full factorial model, evaluated on ``cells`` (rows).

    Reference level of each factor = its first level in ``FACTOR_LEVELS`` order among those present.
    """
    dummies = {}
    for f in FACTORS:
        present = [lv for lv in FACTOR_LEVELS[f] if (cells[f] == lv).any()]
        dummies[f] = np.column_stack([(cells[f] == lv).to_numpy(float) for lv in present[1:]]) if len(
            present
        ) > 1 else np.zeros((len(cells), 0))
    columns = {}
    for term in _TERMS:
        block = np.ones((len(cells), 1))
        for f in term:
            d = dummies[f]
            block = (block[:, :, None] * d[:, None, :]).reshape(len(cells), -1)
        columns[term] = block
    return np.ones((len(cells), 1)), columns


def _rank(matrix: np.ndarray) -> int:
    return int(np.linalg.matrix_rank(matrix)) if matrix.size else 0


def _marginal(term: tuple[str, ...]) -> list[tuple[str, ...]]:
    """Terms of the type-II comparison for ``term``: every term that does not contain it."""
    return [t for t in _TERMS if not set(term) <= set(t)]


def anova_estimability(variants: Iterable[str]) -> pd.DataFrame:
    """Which terms of ``C(w) * C(d) * C(c)`` the observed cells can estimate.

    One row per term: ``term, df_nominal`` ((levels - 1) products over the levels present), ``df_type2`` (rank gained by
    adding the term to all terms not containing it: the df its type-II test really has), ``df_given_all`` (rank
    gained over all other terms: type-III estimability), ``estimable`` (``df_type2 > 0``), ``aliased``
    (``df_type2 < df_nominal``). The ``attrs`` hold ``cells_observed``, ``cells_possible`` and ``model_rank``.

    Example::

        >>> est = anova_estimability(CANONICAL_VARIANTS)
        >>> est.attrs["cells_observed"], est.attrs["cells_possible"], est.attrs["model_rank"]
        (11, 27, 11)
    """
    names = list(dict.fromkeys(variants))
    if not names:
        raise ValueError("variants is empty")
    cells = pd.DataFrame([parse_variant(v) for v in names], columns=list(FACTORS))
    intercept, columns = _term_columns(cells)
    full = np.hstack([intercept] + [columns[t] for t in _TERMS])
    full_rank = _rank(full)
    rows = []
    for term in _TERMS:
        marginal = np.hstack([intercept] + [columns[t] for t in _marginal(term)])
        others = np.hstack([intercept] + [columns[t] for t in _TERMS if t != term])
        df_nominal = columns[term].shape[1]
        df_type2 = _rank(np.hstack([marginal, columns[term]])) - _rank(marginal)
        df_given_all = full_rank - _rank(others)
        rows.append(
            dict(
                term=_term_name(term),
                df_nominal=df_nominal,
                df_type2=df_type2,
                df_given_all=df_given_all,
                estimable=df_type2 > 0,
                aliased=df_type2 < df_nominal,
            )
        )
    out = pd.DataFrame(rows)
    levels_present = {f: cells[f].nunique() for f in FACTORS}
    out.attrs.update(
        cells_observed=int(len(cells.drop_duplicates())),
        cells_possible=int(np.prod(list(levels_present.values()))),
        model_rank=full_rank,
        parameters=int(full.shape[1]),
    )
    return out


def estimability_statement(estimability: pd.DataFrame) -> str:
    """A plain-language summary of :func:`anova_estimability`."""
    a = estimability.attrs
    lines = [
        f"{a['cells_observed']} of {a['cells_possible']} W x D x C cells are observed, so the full factorial model "
        f"({a['parameters']} parameters) has rank {a['model_rank']}: at most {a['model_rank'] - 1} effect degrees of "
        "freedom can be tested, and the rest are aliased."
    ]
    for row in estimability.itertuples(index=False):
        if not row.estimable:
            lines.append(
                f"- {row.term}: not estimable (0 of {row.df_nominal} df; aliased with the terms its type-II test "
                "adjusts for)."
            )
        elif row.aliased:
            lines.append(
                f"- {row.term}: partly estimable ({row.df_type2} of {row.df_nominal} df in its type-II test; "
                f"{row.df_given_all} df given all other terms); its test is a contrast among the observed cells, "
                "not the full interaction."
            )
        else:
            lines.append(f"- {row.term}: estimable ({row.df_type2} df; {row.df_given_all} df given all other terms).")
    return "\n".join(lines)


class RankAnova(NamedTuple):
    """Result of :func:`rank_anova`: the ANOVA table, the estimability per term and the statement in words."""

    table: pd.DataFrame
    estimability: pd.DataFrame
    statement: str


def _ols_fit(y: np.ndarray, X: np.ndarray) -> tuple[float, int]:
    """Residual sum of squares and rank of a least-squares fit (rank-deficient designs allowed)."""
    coef, _, rank, _ = np.linalg.lstsq(X, y, rcond=None)
    residual = y - X @ coef
    return float(residual @ residual), int(rank)


def rank_anova(df: pd.DataFrame, *, reference_compat: bool = False) -> RankAnova:
    """Type-II ANOVA of ranks, ``rank ~ C(w_variant) * C(d_variant) * C(c_variant)``, per task and metric.

    Values are ranked (average ranks, ``scipy.stats.rankdata``) over all finite values of a (task, metric), W/D/C
    variants only. Default: ``none`` is a level of D and C (all 11 variants enter); each term's sum of squares is
    ``RSS(terms not containing it) - RSS(those + the term)`` with the rank gained as its df, ``F`` against the full
    model's residual mean square; terms with 0 estimable df get NaN and a ``note``. ``reference_compat=True``: the
    paper's call, ``anova_lm(ols(formula, data).fit(), typ=2)`` from statsmodels, where patsy drops the rows with a
    missing D or C (8 variants left: residual df 152 with 20 runs, as in the paper's table) and aliased terms get
    meaningless (even negative) sums of squares. The ranks are taken before the drop, over all 11 variants (the
    reference ranks its whole table; whether it held all 11 variants then cannot be read from its outputs).

    Table columns: ``task, metric, term, sum_sq, df, F, p, df_nominal, note`` (``Residual`` last per block).
    ``estimability``/``statement`` describe the design of the last (task, metric) block (the same design for every
    block when each variant has finite values everywhere; per-block ``df`` and ``note`` are in the table).

    Example::

        >>> rng = np.random.default_rng(2)
        >>> rows = [dict(variant=v, task=1, seed=s, metric="Accuracy", value=rng.normal())
        ...         for v in CANONICAL_VARIANTS for s in range(6)]
        >>> result = rank_anova(pd.DataFrame(rows))
        >>> result.table.loc[result.table.term == "C(w_variant)", "df"].item()
        2.0
    """
    data = _factor_frame(_check_frame(df))
    data = data[np.isfinite(data["value"])]
    rows = []
    estimability = None
    for (task, metric), block in data.groupby(["task", "metric"], sort=True):
        block = block.copy()
        block["rank"] = stats.rankdata(block["value"])
        if reference_compat:
            rows.extend(_reference_rank_anova(block, task, metric))
            fitted = block[(block["d_variant"] != NONE_LEVEL) & (block["c_variant"] != NONE_LEVEL)]
            estimability = anova_estimability(fitted["variant"])
            continue
        estimability = anova_estimability(block["variant"])
        intercept, columns = _term_columns(block)
        y = block["rank"].to_numpy(float)
        full = np.hstack([intercept] + [columns[t] for t in _TERMS])
        rss_full, rank_full = _ols_fit(y, full)
        df_resid = len(y) - rank_full
        mse = rss_full / df_resid if df_resid > 0 else math.nan
        for term in _TERMS:
            marginal = np.hstack([intercept] + [columns[t] for t in _marginal(term)])
            rss_without, rank_without = _ols_fit(y, marginal)
            rss_with, rank_with = _ols_fit(y, np.hstack([marginal, columns[term]]))
            df_term = rank_with - rank_without
            row = dict(task=task, metric=metric, term=_term_name(term), df_nominal=columns[term].shape[1])
            if df_term == 0:
                row.update(sum_sq=math.nan, df=0.0, F=math.nan, p=math.nan, note="not estimable: aliased")
            else:
                sum_sq = max(rss_without - rss_with, 0.0)
                F = (sum_sq / df_term) / mse if mse > 0 else math.nan
                note = "partly aliased" if df_term < row["df_nominal"] else ""
                row.update(
                    sum_sq=sum_sq, df=float(df_term), F=F, p=float(stats.f.sf(F, df_term, df_resid)), note=note
                )
            rows.append(row)
        rows.append(
            dict(task=task, metric=metric, term="Residual", sum_sq=rss_full, df=float(df_resid), F=math.nan,
                 p=math.nan, df_nominal=math.nan, note="")
        )  # fmt: skip
    table = pd.DataFrame(rows, columns=["task", "metric", "term", "sum_sq", "df", "F", "p", "df_nominal", "note"])
    if estimability is None:
        raise ValueError("df has no finite values of W/D/C variants: nothing to analyse")
    return RankAnova(table, estimability, estimability_statement(estimability))


def _reference_rank_anova(block: pd.DataFrame, task, metric) -> list[dict]:
    import statsmodels.api as sm
    from statsmodels.formula.api import ols

    patsy_data = block.copy()
    for f in ("d_variant", "c_variant"):
        patsy_data[f] = patsy_data[f].where(patsy_data[f] != NONE_LEVEL, None)  # the paper's NaN levels
    try:
        with warnings.catch_warnings():
            # the rank deficiency these warnings flag is the point of reproducing the call; anova_estimability says it
            warnings.simplefilter("ignore")
            model = ols(_FORMULA, data=patsy_data).fit()
            table = sm.stats.anova_lm(model, typ=2)
    except (ValueError, np.linalg.LinAlgError) as error:  # e.g. a factor with one level left after the drop
        return [
            dict(task=task, metric=metric, term=_term_name(term), sum_sq=math.nan, df=math.nan, F=math.nan,
                 p=math.nan, df_nominal=math.nan, note=f"reference_compat: statsmodels anova_lm failed: {error}")
            for term in _TERMS
        ]  # fmt: skip
    rows = []
    for term, r in table.iterrows():
        rows.append(
            dict(task=task, metric=metric, term=term, sum_sq=float(r["sum_sq"]), df=float(r["df"]),
                 F=float(r["F"]), p=float(r["PR(>F)"]), df_nominal=math.nan,
                 note="reference_compat: statsmodels anova_lm(typ=2), rows with a missing D or C dropped")
        )  # fmt: skip
    return rows
