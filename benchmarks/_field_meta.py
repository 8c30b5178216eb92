"""Do the priors' effects hold across fields? A random-effects meta-analysis of each key contrast over the fields
of a sweep, on learn rate and on learning speed, with the fields' covariates (JAX-free: stored runs in, tables and
figures out; used by the sweep's report and by the committed cross-field evidence).

Per field and task, each contrast ``a`` vs ``b`` gives (:func:`connectome_priors.benchmarks._outcomes.outcome_tests`,
the same seed-paired runs as an ablation):

* learn rate: ``(b - c) / n`` from the seeds learned by ``a`` only (``b``) and by ``b`` only (``c``), with the
  variance of :func:`connectome_priors.stats.paired_rate_difference`;
* learning speed: the mean paired difference of the training-curve AUC, variance ``sd² / n`` (fields whose AUC
  differences have no spread, or fewer than 2 seeds with curves, are left out of that pooling).

Then per contrast, task and outcome, :func:`connectome_priors.stats.random_effects` across fields (the pooled
estimate with its interval, ``τ²``, ``I²`` and the prediction interval for a new field, inside [-1, 1]) and
:func:`connectome_priors.stats.meta_regression` on the covariates of
:func:`connectome_priors.priors.field_covariates`; one forest plot per contrast (a panel per task and outcome).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

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
        pred_lo, pred_hi, clipped`` and ``task, a, b, outcome, covariate, k, sd, slope, lo, hi, p, p_holm``.
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
            pd.DataFrame(reg, columns=["task", "a", "b", "outcome", "covariate", "k", "sd", "slope", "lo", "hi", "p",
                                       "p_holm"]))


def draw_forest(effects, pooled_rows, contrast: tuple[str, str], tasks: Sequence[str],
                labels: Mapping[str, str] | None = None, titles: Mapping[str, str] | None = None):
    """One forest plot of a contrast: a panel per task and outcome, each field's effect with its 95 % interval, the
    pooled random-effects estimate with its interval (bar) and the prediction interval for a new field (band).

    Args:
        effects: :func:`field_effects`.
        pooled_rows: the first frame of :func:`pooled`.
        contrast: ``(a, b)``.
        tasks: the tasks, one column each (those without a pooled row are left out).
        labels: field -> its row label (default the field's name); fields are drawn in this order, top down.
        titles: task -> its name in the panel titles (default the task's key).

    Returns:
        The matplotlib figure, or None when no task and outcome has the fields to pool.
    """
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    from connectome_priors.stats import forest_rows

    a, b = contrast
    mine = effects[(effects.a == a) & (effects.b == b)]
    pool = pooled_rows[(pooled_rows.a == a) & (pooled_rows.b == b)]
    panels = [(t, o) for t in tasks for o in OUTCOMES if not pool[(pool.task == t) & (pool.outcome == o)].empty]
    if not panels:
        return None
    order = list(labels) if labels is not None else sorted(set(mine["field"]))
    order += sorted(set(mine["field"]) - set(order))
    y_of = {f: len(order) - i for i, f in enumerate(order)}
    fig, axes = plt.subplots(1, len(panels), figsize=(2.6 * len(panels) + 1.0, 1.4 + 0.15 * len(order)),
                             squeeze=False, sharey=True)
    for ax, (task, outcome) in zip(axes[0], panels):
        g = mine[(mine.task == task) & (mine.outcome == outcome)]
        for field, e, lo, hi in forest_rows(g["field"], g["effect"], g["variance"], BOUNDS):
            ax.plot([lo, hi], [y_of[field]] * 2, color="0.45", lw=0.9)
            ax.plot([e], [y_of[field]], "s", color="0.15", ms=2.5)
        p = pool[(pool.task == task) & (pool.outcome == outcome)].iloc[0]
        ax.fill_betweenx([-0.5, 0.5], p.pred_lo, p.pred_hi, color="C0", alpha=0.2, lw=0)
        ax.plot([p.lo, p.hi], [0, 0], color="C0", lw=3)
        ax.plot([p.estimate], [0], "D", color="C0", ms=5)
        ax.axvline(0, color="k", lw=0.6, ls=":")
        ax.set_xlim(-1.05, 1.05)
        ax.set_xlabel("learn rate" if outcome == "learn_rate" else "learning-curve AUC", fontsize=8)
        ax.set_title(f"{(titles or {}).get(task, task)}: {p.k} fields, I² = {p.i2:.2f}", fontsize=8)
        ax.tick_params(labelsize=7)
    names = [labels.get(f, f) if labels is not None else f for f in order]
    axes[0, 0].set_yticks([0, *[y_of[f] for f in order]], ["pooled (RE)", *names], fontsize=6)
    axes[0, 0].set_ylim(-1, len(order) + 1)
    fig.suptitle(f"{a} − {b}, per field (paired over seeds) and pooled", fontsize=9)
    fig.tight_layout()
    return fig


def plot_forest(effects, pooled_rows, contrast: tuple[str, str], tasks: Sequence[str], path: Path,
                labels: Mapping[str, str] | None = None, titles: Mapping[str, str] | None = None) -> Path | None:
    """:func:`draw_forest` saved as a PNG.

    Args:
        effects: :func:`field_effects`.
        pooled_rows: the first frame of :func:`pooled`.
        contrast: ``(a, b)``.
        tasks: the tasks.
        path: the PNG.
        labels: field -> row label, in drawing order.
        titles: task -> its name in the panel titles.

    Returns:
        ``path``, or None when nothing could be pooled.
    """
    import matplotlib.pyplot as plt

    fig = draw_forest(effects, pooled_rows, contrast, tasks, labels, titles)
    if fig is None:
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=90)
    plt.close(fig)
    return path
