"""Simple effects of one factor with the other two held fixed: Kruskal-Wallis, then Mann-Whitney U pairs, Holm."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd

from ._design import FACTORS, NONE_LEVEL, check_frame, factor_frame, finite, level_key
from ._rank_tests import holm, kruskal, mannwhitney

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


def _context_label(levels: dict[str, str], focus: str) -> str:
    return ", ".join(f"{f}={levels[f]}" for f in FACTORS if f != focus)


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

    Args:
        df: tidy frame (``variant, task, seed, metric, value``).
        alpha: the level of the Kruskal-Wallis gate and of ``sig``.

    Returns:
        ``{"groups": ..., "kruskal": ..., "mannwhitney": ...}``.

    Raises:
        ValueError: a required column is missing or a value is not numeric.
        TypeError: ``df`` is not a DataFrame.

    Example::

        >>> import numpy as np, pandas as pd
        >>> from connectome_priors.stats import CANONICAL_VARIANTS, simple_effects
        >>> rng = np.random.default_rng(1)
        >>> rows = [dict(variant=v, task=1, seed=s, metric="Accuracy", value=rng.normal())
        ...         for v in CANONICAL_VARIANTS for s in range(8)]
        >>> out = simple_effects(pd.DataFrame(rows))
        >>> out["kruskal"].groupby("focus").size().to_dict()   # contexts with >= 2 levels
        {'c_variant': 4, 'd_variant': 3, 'w_variant': 2}
    """
    data = factor_frame(check_frame(df))
    group_rows, kruskal_rows, pair_rows = [], [], []
    for (task, metric), block in data.groupby(["task", "metric"], sort=True):
        for focus in FACTORS:
            others = [f for f in FACTORS if f != focus]
            family_start = len(pair_rows)
            contexts = sorted(
                {tuple(r) for r in block[others].itertuples(index=False)},
                key=lambda levels: tuple(level_key(level) for level in levels),
            )
            for context_levels in contexts:
                in_context = np.logical_and.reduce([block[f] == lv for f, lv in zip(others, context_levels)])
                cell = block[in_context]
                context = _context_label(dict(zip(others, context_levels)), focus)
                levels = sorted(cell[focus].unique(), key=level_key)
                samples = {lv: finite(cell.loc[cell[focus] == lv, "value"]) for lv in levels}
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
                H, p, note = kruskal([samples[lv] for lv in levels])
                kruskal_rows.append(dict(key, H=H, p=p, note=note))
                if len(levels) > 2 and not (p < alpha):
                    continue  # pairwise tests only after a significant omnibus (or when the pair is the omnibus)
                for l1, l2 in itertools.combinations(levels, 2):
                    U, p_raw, pair_note = mannwhitney(samples[l1], samples[l2])
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

    Args:
        table: a table of :func:`simple_effects` or :func:`rank_anova` (its columns are kept; ``note`` is dropped).
        task_numbers: our task label -> the paper's (labels not listed are kept).

    Returns:
        A new table.

    Example::

        >>> import pandas as pd
        >>> from connectome_priors.stats import to_paper_layout
        >>> row = pd.DataFrame(dict(task=["Task3"], metric=["Assortativity"], focus=["d_variant"],
        ...                         context=["w_variant=w, c_variant=none"], l1=["d"], l2=["none"]))
        >>> out = to_paper_layout(row, task_numbers={"Task3": 2})
        >>> int(out.task.item()), out.metric.item(), out.context.item(), bool(out.l2.isna().item())
        (2, 'assortivity', 'w_variant=w, c_variant=nan', True)
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
