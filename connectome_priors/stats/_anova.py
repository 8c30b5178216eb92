"""Rank ANOVA of the W x D x C design (type II) and what its 11-of-27-cell design can estimate."""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable
from typing import NamedTuple

import numpy as np
import pandas as pd
from scipy import stats

from ._design import FACTOR_LEVELS, FACTORS, NONE_LEVEL, check_frame, factor_frame, parse_variant

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

    Args:
        variants: the W/D/C variant names observed (repeats ignored).

    Returns:
        One row per term of the full factorial model.

    Raises:
        ValueError: ``variants`` is empty, or names a variant outside the W/D/C design (e.g. a control).

    Example::

        >>> from connectome_priors.stats import CANONICAL_VARIANTS, anova_estimability
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
    """A plain-language summary of :func:`anova_estimability`: observed cells, model rank, each term's status.

    Args:
        estimability: :func:`anova_estimability`'s table (with its ``attrs``).

    Returns:
        One line on the design, then one line per term that is not fully estimable.

    Example::

        >>> from connectome_priors.stats import CANONICAL_VARIANTS, anova_estimability, estimability_statement
        >>> first = estimability_statement(anova_estimability(CANONICAL_VARIANTS)).splitlines()[0]
        >>> print(first.replace(": ", ":\\n"))
        11 of 27 W x D x C cells are observed, so the full factorial model (27 parameters) has rank 11:
        at most 10 effect degrees of freedom can be tested, and the rest are aliased.
    """
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

    Args:
        df: tidy frame (``variant, task, seed, metric, value``); controls and non-finite values are left out.
        reference_compat: reproduce the paper's statsmodels call (needs ``statsmodels``).

    Returns:
        :class:`RankAnova` ``(table, estimability, statement)``.

    Raises:
        ValueError: no finite value of a W/D/C variant, or a required column missing.
        TypeError: ``df`` is not a DataFrame.

    Example::

        >>> import numpy as np, pandas as pd
        >>> from connectome_priors.stats import CANONICAL_VARIANTS, rank_anova
        >>> values = np.random.default_rng(2).normal(size=(len(CANONICAL_VARIANTS), 6))   # variant x seed
        >>> df = pd.DataFrame([dict(variant=v, task=1, seed=s, metric="Accuracy", value=values[i, s])
        ...                    for i, v in enumerate(CANONICAL_VARIANTS) for s in range(6)])
        >>> result = rank_anova(df)
        >>> result.table.loc[result.table.term == "C(w_variant)", "df"].item()
        2.0
    """
    data = factor_frame(check_frame(df))
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
