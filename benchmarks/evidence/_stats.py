"""Statistics of the evidence: the simple-effects tests beside the paper's (S5-S7) and seed-paired comparisons.

All tests are :mod:`connectome_priors.stats` on the records' final metrics (finite values only):

* simple effects (Kruskal-Wallis omnibus per factor with the other two fixed; Mann-Whitney U pairs, Holm per
  (task, metric, factor)), spelled as the paper's ``raw/simple_effects_*.csv`` (:func:`to_paper_layout`; the
  paper's raw tables number tasks as its notebook: 1 One-Choice, 2 Go/NoGo, 3 PDM) and joined with them;
* seed-paired comparisons (exact sign-flip test, Holm over the pairs of one (task, metric); mean paired
  difference with a range-preserving bootstrap interval; a verdict): the variants of one seed share that seed's
  data.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from connectome_priors.benchmarks._schema import GRAPH_METRICS

NOTEBOOK_TASK = {"Task1": 1, "Task3": 2, "Task2": 3}  # our (paper) numbering -> the raw tables' numbering
SIMPLE_EFFECT_METRICS = ("Accuracy", "Loss") + GRAPH_METRICS
ALPHA = 0.05
AGREEMENT = ("same", "differ", "only published", "only ours", "undefined", "not run yet")
KW_KEYS = ["task", "metric", "focus", "context"]
MWU_KEYS = KW_KEYS + ["l1", "l2"]

# beyond the paper: which part of the functional init helps (default-mode arm with controls), each control one
# factor away from W*D*C; then the penalty itself (λ = 0 against the same init with its penalty)
INIT_PAIRS = (("W*D*C", "WD*C"), ("W*D*C", "Wdiag-D*C"), ("W*D*C", "W*nodiag-D*C"), ("W*D*C", "Wsurr-D*C"),
              ("W*D*C", "Wdiagx-D*C"), ("W*D*C", "Wid-D*C"), ("W*D*C", "Wspec-D*C"),
              ("Wdiag-D*C", "WD*C"), ("W*nodiag-D*C", "WD*C"))
PENALTY_PAIRS = (("W-lam0", "W"), ("W-lam0", "WD*C"), ("W*-lam0", "W*D*C"), ("W*-lam0", "W-lam0"))
CONTROL_PAIRS = INIT_PAIRS + PENALTY_PAIRS
# the distance prior: pairs that differ only in D* (scrambled in compat mode, true geometry by default) vs grid D
DISTANCE_PAIRS = (("WD*C", "WDC"), ("WD*", "WD"), ("W*D*C*", "W*DC*"))


def _finite(df: pd.DataFrame, metrics: Sequence[str]) -> pd.DataFrame:
    keep = df["metric"].isin(metrics) & np.isfinite(df["value"])
    return df.loc[keep, ["variant", "task", "seed", "metric", "value"]]


def _keyed(frame: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    out = frame.copy()
    for k in keys:
        out[k] = out[k].map(lambda v: "nan" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v))
    return out


def simple_effects_vs_published(df: pd.DataFrame, published_dir: Path) -> dict[str, pd.DataFrame]:
    """Our simple-effects tests beside the paper's: ``{"kruskal": ..., "mannwhitney": ...}``.

    Kruskal-Wallis rows: ``task, metric, focus, context, H, p`` (ours), ``pub_H, pub_p``, ``agree`` (both p < 0.05
    or both not). Mann-Whitney rows: ``... l1, l2, U, p_adj_holm, sig`` (ours), ``pub_U, pub_p_adj_holm, pub_sig``
    and ``agree``: ``same``/``differ`` where both tested the pair, ``only published`` / ``only ours`` where one
    side's omnibus test did not reach 0.05 (pairs are tested only after a significant omnibus), ``not run yet``
    where our records lack the variants of the context, ``undefined`` where a p-value is NaN (e.g. all values
    identical). Empty frames if the published tables are not committed.

    Args:
        df: the arm's tidy runs.
        published_dir: ``docs/results/published``.

    Returns:
        ``{"kruskal": ..., "mannwhitney": ...}``.
    """
    from connectome_priors.stats import simple_effects, to_paper_layout

    data = _finite(df, SIMPLE_EFFECT_METRICS)
    ours = simple_effects(data, alpha=ALPHA) if len(data) else {"kruskal": pd.DataFrame(columns=KW_KEYS + ["H", "p"]),
                                                                 "mannwhitney": pd.DataFrame(columns=MWU_KEYS)}
    kw = _keyed(to_paper_layout(ours["kruskal"], task_numbers=NOTEBOOK_TASK), KW_KEYS)
    mwu = _keyed(to_paper_layout(ours["mannwhitney"], task_numbers=NOTEBOOK_TASK), MWU_KEYS)
    kw_path = published_dir / "simple_effects_KW_omnibus.csv"
    mwu_path = published_dir / "simple_effects_MWU_pairs_holm.csv"
    if not (kw_path.is_file() and mwu_path.is_file()):
        return {"kruskal": pd.DataFrame(), "mannwhitney": pd.DataFrame()}
    pkw = _keyed(pd.read_csv(kw_path), KW_KEYS).rename(columns={"H": "pub_H", "p": "pub_p"})
    pmwu = _keyed(pd.read_csv(mwu_path), MWU_KEYS).rename(
        columns={"U": "pub_U", "p_raw": "pub_p_raw", "p_adj_holm": "pub_p_adj_holm", "sig": "pub_sig"})
    # only the cells our records cover (tasks and metrics present)
    covered = set(zip(kw["task"], kw["metric"])) if len(kw) else set()
    kw_out = pkw[[(t, m) in covered for t, m in zip(pkw["task"], pkw["metric"])]].merge(
        kw[KW_KEYS + ["H", "p"]], on=KW_KEYS, how="outer")
    ours_keys = set(kw[KW_KEYS].itertuples(index=False, name=None)) if len(kw) else set()
    kw_out["agree"] = [
        "not run yet" if key not in ours_keys else "undefined" if not (np.isfinite(p) and np.isfinite(q))
        else ("same" if (p < ALPHA) == (q < ALPHA) else "differ")
        for key, p, q in zip(kw_out[KW_KEYS].itertuples(index=False, name=None), kw_out["p"].astype(float),
                             kw_out["pub_p"].astype(float))]
    mwu_out = pmwu[[(t, m) in covered for t, m in zip(pmwu["task"], pmwu["metric"])]].merge(
        mwu[MWU_KEYS + ["U", "p_raw", "p_adj_holm", "sig"]] if len(mwu) else pd.DataFrame(columns=MWU_KEYS),
        on=MWU_KEYS, how="outer")
    agree = []
    for key, ours_sig, pub_sig in zip(mwu_out[KW_KEYS].itertuples(index=False, name=None),
                                      mwu_out.get("sig", pd.Series(dtype=object)), mwu_out["pub_sig"]):
        ours_t, pub_t = isinstance(ours_sig, str), isinstance(pub_sig, str)
        agree.append("same" if ours_t and pub_t and ours_sig == pub_sig else "differ" if ours_t and pub_t
                     else "not run yet" if key not in ours_keys else "only published" if pub_t else "only ours")
    mwu_out["agree"] = agree
    return {"kruskal": kw_out.sort_values(KW_KEYS, kind="stable").reset_index(drop=True),
            "mannwhitney": mwu_out.sort_values(MWU_KEYS, kind="stable").reset_index(drop=True)}


def agreement_counts(frame: pd.DataFrame) -> dict[str, int]:
    """How many rows of a :func:`simple_effects_vs_published` table fall in each ``agree`` category.

    Args:
        frame: the table.

    Returns:
        Category -> rows, in the order of :data:`AGREEMENT` (categories without rows left out).
    """
    if frame.empty:
        return {}
    c = frame["agree"].value_counts().to_dict()
    return {k: int(c[k]) for k in AGREEMENT if k in c}


def paired(df: pd.DataFrame, pairs: Sequence[tuple[str, str]] | None, metrics: Sequence[str]) -> pd.DataFrame:
    """Seed-paired comparisons (:func:`connectome_priors.stats.paired_comparisons`) of ``pairs`` (default: the
    pairs that differ in one factor) for ``metrics``; pairs whose variants are absent are skipped.

    Args:
        df: the arm's tidy runs.
        pairs: ``(a, b)`` pairs, or None for :func:`connectome_priors.stats.one_factor_pairs`.
        metrics: the metrics, in the order of the rows.

    Returns:
        Columns :data:`connectome_priors.stats.PAIRED_COLUMNS`, by metric, task and pair.
    """
    from connectome_priors.stats import PAIRED_COLUMNS, one_factor_pairs, paired_comparisons

    data = _finite(df, metrics)
    if data.empty:
        return pd.DataFrame(columns=list(PAIRED_COLUMNS))
    present = set(data["variant"])
    chosen = one_factor_pairs(present) if pairs is None else [(a, b) for a, b in pairs if {a, b} <= present]
    if not chosen:
        return pd.DataFrame(columns=list(PAIRED_COLUMNS))
    out = paired_comparisons(data, chosen, alpha=ALPHA)
    metric_rank = {m: i for i, m in enumerate(metrics)}
    pair_rank = {p: i for i, p in enumerate(chosen)}
    key = pd.DataFrame({"m": out["metric"].map(metric_rank), "t": out["task"],
                        "p": [pair_rank[(a, b)] for a, b in zip(out["a"], out["b"])]})
    return out.loc[key.sort_values(["m", "t", "p"], kind="stable").index].reset_index(drop=True)


def shift_from_published(ours: pd.DataFrame, comparison: pd.DataFrame, n_published: int = 20) -> pd.DataFrame:
    """How far each of our cells sits from the published one, in standard errors: Welch's
    ``z = (m_ours - m_pub) / sqrt(s_ours² / n_ours + s_pub² / n_pub)``, with the published SD recovered from its
    95 % t-interval, ``s_pub = (hi - lo) / 2 · sqrt(n_pub) / t_{0.975, n_pub - 1}``, and a two-sided normal p.

    Args:
        ours: per-run values, columns ``task, variant, metric, value`` (non-finite values are left out).
        comparison: the arm's ``comparison.csv`` rows (``pub_mean, pub_lo, pub_hi``).
        n_published: runs behind each published interval.

    Returns:
        One row per cell with both sides: ``metric, task, variant, n, mean, sd, pub_mean, pub_sd, diff, z, p``.

    Example::

        >>> ours = pd.DataFrame({"task": "Task1", "variant": "A", "metric": "M", "value": [1.0, 2.0, 3.0]})
        >>> comp = pd.DataFrame({"task": ["Task1"], "variant": ["A"], "metric": ["M"], "pub_mean": [1.0],
        ...                      "pub_lo": [0.5], "pub_hi": [1.5]})
        >>> row = shift_from_published(ours, comp).iloc[0]
        >>> round(float(row["diff"]), 3), round(float(row["pub_sd"]), 4), round(float(row["z"]), 3)
        (1.0, 1.0683, 1.6)
    """
    from scipy import stats

    t = stats.t.ppf(0.975, n_published - 1)
    finite = ours[np.isfinite(ours["value"].astype(float))]
    agg = finite.groupby(["metric", "task", "variant"])["value"].agg(["count", "mean", "std"]).reset_index()
    both = agg.merge(comparison[["metric", "task", "variant", "pub_mean", "pub_lo", "pub_hi"]],
                     on=["metric", "task", "variant"]).dropna(subset=["pub_mean", "pub_lo", "pub_hi"])
    pub_sd = (both["pub_hi"] - both["pub_lo"]) / 2 * math.sqrt(n_published) / t
    se = np.sqrt(both["std"] ** 2 / both["count"] + pub_sd ** 2 / n_published)
    diff = both["mean"] - both["pub_mean"]
    z = np.where(se > 0, diff / np.where(se > 0, se, 1.0), np.nan)
    return pd.DataFrame({"metric": both["metric"], "task": both["task"], "variant": both["variant"],
                         "n": both["count"], "mean": both["mean"], "sd": both["std"], "pub_mean": both["pub_mean"],
                         "pub_sd": pub_sd, "diff": diff, "z": z, "p": 2 * stats.norm.sf(np.abs(z))})
