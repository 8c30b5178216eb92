"""Do the priors' effects hold across fields? A random-effects meta-analysis of each key contrast over the fields
of a sweep, on learn rate and on learning speed, with the fields' covariates.

Per field and task, each contrast ``a`` vs ``b`` gives (:func:`connectome_priors.benchmarks._outcomes.outcome_tests`,
the same seed-paired runs as an ablation):

* learn rate: ``(b - c) / n`` from the seeds learned by ``a`` only (``b``) and by ``b`` only (``c``), with the
  variance of :func:`connectome_priors.stats.paired_rate_difference`;
* learning speed: the mean paired difference of the training-curve AUC, variance ``sd² / n`` (fields whose AUC
  differences have no spread, or fewer than 2 seeds with curves, are left out of that pooling).

Then per contrast, task and outcome, :func:`connectome_priors.stats.random_effects` across fields (the pooled
estimate with its interval, ``τ²``, ``I²`` and the prediction interval for a new field, inside [-1, 1]) and
:func:`connectome_priors.stats.meta_regression` on the covariates of
:func:`connectome_priors.priors.field_covariates`; one forest plot per contrast and task.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from connectome_priors._atomic import atomic_path
from connectome_priors.benchmarks._outcomes import outcome_tests

#: the contrasts that decide the claims: the init (one factor), what of W* works, the spectrum, the full effect
CONTRASTS: tuple[tuple[str, str], ...] = (
    ("W*D*C", "WD*C"), ("Wdiag-D*C", "W*D*C"), ("W*nodiag-D*C", "W*D*C"), ("Wspec-D*C", "W*D*C"), ("W*D*C", "W"),
)
OUTCOMES = ("learn_rate", "auc")
BOUNDS = (-1.0, 1.0)  # both outcomes are differences of quantities in [0, 1]
MIN_FIELDS = 2


def field_effects(runs: Sequence[Mapping[str, Any]], tasks: Sequence[str],
                  contrasts: Sequence[tuple[str, str]] = CONTRASTS):
    """One row per (field, task, contrast, outcome) with its effect and variance.

    Args:
        runs: stored runs of a sweep, each with ``field``.
        tasks: the tasks.
        contrasts: the ``(a, b)`` contrasts.

    Returns:
        A DataFrame ``field, task, a, b, outcome, n, effect, variance``.
    """
    import pandas as pd

    from connectome_priors.stats import paired_rate_difference

    rows = []
    fields = sorted({r["field"] for r in runs})
    for field in fields:
        mine = [r for r in runs if r["field"] == field]
        tests = outcome_tests(mine, tasks, contrasts)
        for t in tests.itertuples():
            if t.n:
                effect, variance = paired_rate_difference(t.a_only, t.b_only, t.n)
                rows.append((field, t.task, t.a, t.b, "learn_rate", int(t.n), effect, variance))
            if t.auc_n >= 2 and math.isfinite(t.auc_sd) and t.auc_sd > 0:
                rows.append((field, t.task, t.a, t.b, "auc", int(t.auc_n), float(t.auc_diff),
                             float(t.auc_sd) ** 2 / t.auc_n))
    return pd.DataFrame(rows, columns=["field", "task", "a", "b", "outcome", "n", "effect", "variance"])


def pooled(effects, covariates: Mapping[str, Mapping[str, float]] | None = None):
    """Random-effects pooling per (task, contrast, outcome) and the meta-regression on the covariates.

    Args:
        effects: :func:`field_effects`.
        covariates: ``{field: {covariate: value}}`` (None: no meta-regression).

    Returns:
        ``(pooled, regression)`` DataFrames: ``task, a, b, outcome, k, estimate, lo, hi, tau2, i2, q, q_p,
        pred_lo, pred_hi, clipped`` and ``task, a, b, outcome, covariate, k, slope, lo, hi, p, p_holm``.
    """
    import dataclasses

    import pandas as pd

    from connectome_priors.stats import meta_regression, random_effects

    rows, reg = [], []
    for (task, a, b, outcome), g in effects.groupby(["task", "a", "b", "outcome"], sort=False):
        if len(g) < MIN_FIELDS:
            continue
        r = random_effects(g["effect"], g["variance"], bounds=BOUNDS)
        rows.append(dict(task=task, a=a, b=b, outcome=outcome, **dataclasses.asdict(r)))
        if covariates:
            names = sorted({c for f in g["field"] for c in covariates.get(f, {})})
            table = {c: [covariates.get(f, {}).get(c, math.nan) for f in g["field"]] for c in names}
            for row in meta_regression(g["effect"], g["variance"], r.tau2, table):
                reg.append(dict(task=task, a=a, b=b, outcome=outcome, **row))
    cols = ["task", "a", "b", "outcome", "k", "estimate", "lo", "hi", "tau2", "i2", "q", "q_p", "pred_lo", "pred_hi",
            "clipped"]
    return (pd.DataFrame(rows, columns=cols),
            pd.DataFrame(reg, columns=["task", "a", "b", "outcome", "covariate", "k", "slope", "lo", "hi", "p",
                                       "p_holm"]))


def plot_forest(effects, pooled_rows, task: str, contrast: tuple[str, str], path: Path) -> Path | None:
    """One forest plot: each field's effect with its 95 % interval and the pooled estimate, per outcome.

    Args:
        effects: :func:`field_effects`.
        pooled_rows: the first frame of :func:`pooled`.
        task: the task.
        contrast: ``(a, b)``.
        path: the PNG.

    Returns:
        ``path``, or None when no outcome has the fields to pool.
    """
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    from connectome_priors.stats import forest_rows

    a, b = contrast
    panels = [o for o in OUTCOMES
              if not pooled_rows[(pooled_rows.task == task) & (pooled_rows.a == a) & (pooled_rows.b == b)
                                 & (pooled_rows.outcome == o)].empty]
    if not panels:
        return None
    height = 1.5 + 0.18 * max(len(effects[(effects.task == task) & (effects.a == a) & (effects.b == b)
                                          & (effects.outcome == o)]) for o in panels)
    fig, axes = plt.subplots(1, len(panels), figsize=(4.5 * len(panels), height), squeeze=False)
    for ax, outcome in zip(axes[0], panels):
        g = effects[(effects.task == task) & (effects.a == a) & (effects.b == b) & (effects.outcome == outcome)]
        rows = forest_rows(g["field"], g["effect"], g["variance"], BOUNDS)
        ys = np.arange(len(rows))[::-1] + 1
        for y, (_, e, lo, hi) in zip(ys, rows):
            ax.plot([lo, hi], [y, y], color="0.4", lw=1)
            ax.plot([e], [y], "s", color="0.2", ms=3)
        p = pooled_rows[(pooled_rows.task == task) & (pooled_rows.a == a) & (pooled_rows.b == b)
                        & (pooled_rows.outcome == outcome)].iloc[0]
        ax.fill_between([p.pred_lo, p.pred_hi], -0.6, 0.6, color="C0", alpha=0.15, lw=0)
        ax.plot([p.lo, p.hi], [0, 0], color="C0", lw=3)
        ax.plot([p.estimate], [0], "D", color="C0", ms=6)
        ax.axvline(0, color="k", lw=0.6, ls=":")
        ax.set_yticks([0, *ys], ["pooled (RE)", *[r[0] for r in rows]], fontsize=6)
        ax.set_xlim(-1.05, 1.05)
        label = "learn rate" if outcome == "learn_rate" else "learning-curve AUC"
        ax.set_xlabel(f"{a} − {b}: {label}", fontsize=8)
        ax.set_title(f"{task}: {p.k} fields, I² = {p.i2:.2f}", fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=90)
    plt.close(fig)
    return path
