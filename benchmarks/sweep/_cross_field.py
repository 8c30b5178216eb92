"""Cross-field report: accuracy and graph metrics against field size and area, per variant.

Reads every run of a sweep folder (:func:`connectome_priors.benchmarks._run_store.load_sweep_runs`) into one tidy table
``field, n_neurons, area_um2, sign, variant, task, seed, metric, value`` and writes:

* ``cross_field_runs.csv`` -- that table;
* ``cross_field_summary.csv`` -- per field, sign, variant, task and metric: mean with its 95%
  percentile bootstrap interval inside the metric's range (:func:`connectome_priors.stats.summarize_runs`);
* ``cross_field_trends.csv`` -- per sign, variant, task and metric: Spearman's rank correlation
  of the per-field means with N and with area (does a prior help more in bigger fields?);
* ``cross_field_prior_effect.csv`` -- per field, task and metric: the functional prior's effect
  (W*D*C vs its orthogonal twin WD*C), Mann-Whitney U with Holm correction across fields;
* ``cross_field_simple_effects_{groups,kruskal,mannwhitney}.csv`` -- the ablation's factor tests
  (:func:`connectome_priors.stats.simple_effects`: Kruskal-Wallis per factor, Mann-Whitney U pairs,
  Holm) in every field;
* ``cross_field_accuracy.png``, ``cross_field_metrics.png`` and ``report.md``.

Field area: MICrONS voxel axes are x, y (cortical depth, pia to white matter) and z, so the
imaging field lies in the tangential x-z plane. ``area_um2`` is the area of the convex hull of
the somata projected on x-z, in µm²; ``depth_um`` is the y extent. Example::

    >>> import numpy as np
    >>> pos = np.array([[0, 5, 0], [10, 7, 0], [0, 6, 20], [10, 9, 20], [5, 5, 10]], float)
    >>> field_geometry(pos)
    {'n_neurons': 5, 'area_um2': 200.0, 'depth_um': 4.0}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from connectome_priors._atomic import atomic_path, write_text
from connectome_priors.benchmarks._run_store import load_sweep_runs
from connectome_priors.benchmarks._schema import GRAPH_METRICS
from connectome_priors.benchmarks.report._format import TASK_SHORT_LABELS, markdown_table

from ._cost_model import fit_cost_model, load_cell_records, load_sweep_records
from ._plan import known_variants

# Keys of a run result that are bookkeeping, not metrics.
_NOT_METRICS = {"seed", "wall_s", "cell_wall_s", "n_neurons", "epochs", "reference_compat", "quick"}
ACCURACY = "Accuracy"  # the paper's metric: final-epoch training accuracy
# Panels of the metrics figure (when present): held-out accuracy and the trained W_rec's graph metrics.
FIGURE_METRICS = ("Test_Accuracy",) + GRAPH_METRICS
PRIOR_PAIR = ("W*D*C", "WD*C")  # functional vs orthogonal init, same distance and penalty


def field_geometry(positions: np.ndarray) -> dict[str, float]:
    """Size and tangential area of a field from soma positions ``(N, 3)`` in µm (x, y=depth, z)."""
    from scipy.spatial import ConvexHull, QhullError

    pos = np.asarray(positions, dtype=float)
    if pos.ndim != 2 or pos.shape[1] != 3:
        raise ValueError(f"positions must have shape (N, 3) (x, y, z in µm), got {pos.shape}")
    xz = pos[:, [0, 2]]
    try:
        area = float(ConvexHull(xz).volume)  # in 2-D, qhull's "volume" is the area
    except (QhullError, ValueError):
        area = 0.0  # fewer than 3 somata or all collinear
    return {"n_neurons": int(len(pos)), "area_um2": round(area, 6),
            "depth_um": float(np.ptp(pos[:, 1])) if len(pos) else 0.0}


def field_table(fields: Sequence[str], data_dir=None) -> dict[str, dict[str, float]]:
    """:func:`field_geometry` of each field, loaded (or fetched and verified) with ``load_field``."""
    from connectome_priors.fields import load_field

    return {f: field_geometry(load_field(f, data_dir=data_dir).positions.values) for f in fields}


def _metrics_of(run: Mapping[str, Any]) -> dict[str, float]:
    m = run.get("metrics")
    if isinstance(m, Mapping):
        items = m.items()
    else:
        items = ((k, v) for k, v in run.items() if k not in _NOT_METRICS)
    out = {}
    for k, v in items:
        if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool):
            out[str(k)] = float(v)
    return out


def tidy_runs(runs: Sequence[Mapping[str, Any]], geometry: Mapping[str, Mapping[str, float]]):
    """One row per (run, metric): field, n_neurons, area_um2, sign, variant, task, seed, metric, value."""
    import pandas as pd

    rows = []
    for r in runs:
        g = geometry[r["field"]]
        for metric, value in _metrics_of(r).items():
            rows.append({"field": r["field"], "n_neurons": g["n_neurons"], "area_um2": g["area_um2"],
                         "sign": r.get("sign", "free"), "variant": r["variant"], "task": r["task"],
                         "seed": int(r["seed"]), "metric": metric, "value": value})
    cols = ["field", "n_neurons", "area_um2", "sign", "variant", "task", "seed", "metric", "value"]
    return pd.DataFrame(rows, columns=cols)


def summarize_fields(df, *, n_resamples: int = 2000):
    """:func:`connectome_priors.stats.summarize_runs` per field and sign arm: runs, mean and percentile bootstrap
    interval over seeds inside the metric's range (``n_resamples`` bootstrap draws; fewer than the ablation's
    10,000 because a sweep has one table per field), learn rates of the held-out accuracy."""
    import pandas as pd

    from connectome_priors.stats import summarize_runs

    keys = ["field", "n_neurons", "area_um2", "sign"]
    parts = []
    for k, sub in df.groupby(keys, sort=True):
        s = summarize_runs(sub[["variant", "task", "seed", "metric", "value"]].astype({"variant": str}),
                      n_resamples=n_resamples)
        parts.append(s.assign(**dict(zip(keys, k)))[keys + list(s.columns)])
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def field_simple_effects(df, metrics: Sequence[str] = (ACCURACY, *FIGURE_METRICS)) -> dict:
    """:func:`connectome_priors.stats.simple_effects` (Kruskal-Wallis per factor, Mann-Whitney U pairs,
    Holm) in every field and sign arm, for ``metrics`` (the losses are left out); the same three
    tables with ``field, n_neurons, area_um2, sign`` prepended."""
    import pandas as pd

    from connectome_priors.stats import simple_effects

    keys = ["field", "n_neurons", "area_um2", "sign"]
    out: dict[str, list] = {}
    for k, sub in df[df.metric.isin(metrics)].groupby(keys, sort=True):
        tables = simple_effects(sub[["variant", "task", "seed", "metric", "value"]].astype({"variant": str}))
        for name, t in tables.items():
            out.setdefault(name, []).append(t.assign(**dict(zip(keys, k)))[keys + list(t.columns)])
    return {name: pd.concat(parts, ignore_index=True) for name, parts in out.items()}


def field_trends(summary):
    """Spearman rho (and p) of per-field means against N and against area, per sign/variant/task/metric."""
    import pandas as pd
    from scipy import stats

    rows = []
    for (sign, variant, task, metric), g in summary.groupby(["sign", "variant", "task", "metric"], observed=True):
        row = {"sign": sign, "variant": variant, "task": task, "metric": metric, "n_fields": len(g)}
        for x in ("n_neurons", "area_um2"):
            if len(g) >= 3 and g[x].nunique() > 1 and g["mean"].nunique() > 1:
                rho, p = stats.spearmanr(g[x], g["mean"])
            else:
                rho, p = float("nan"), float("nan")
            row[f"rho_{x}"], row[f"p_{x}"] = float(rho), float(p)
        rows.append(row)
    return pd.DataFrame(rows)


def prior_effect(df, pair: tuple[str, str] = PRIOR_PAIR):
    """Per field, task and metric: ``pair[0]`` vs ``pair[1]`` (two-sided Mann-Whitney U), Holm
    corrected within each (sign, task, metric) family across fields."""
    import pandas as pd
    from scipy import stats

    from connectome_priors.stats import holm

    a_name, b_name = pair
    rows = []
    for (field, n, area, sign, task, metric), g in df.groupby(
            ["field", "n_neurons", "area_um2", "sign", "task", "metric"]):
        a = g.loc[g.variant == a_name, "value"].to_numpy()
        b = g.loc[g.variant == b_name, "value"].to_numpy()
        if len(a) == 0 or len(b) == 0:
            continue
        if len(a) > 1 and len(b) > 1 and not np.array_equal(np.unique(np.r_[a, b]), np.unique(a[:1])):
            u, p = stats.mannwhitneyu(a, b, alternative="two-sided")
        else:
            u, p = float("nan"), float("nan")
        rows.append({"field": field, "n_neurons": n, "area_um2": area, "sign": sign, "task": task,
                     "metric": metric, f"mean_{a_name}": a.mean(), f"mean_{b_name}": b.mean(),
                     "difference": a.mean() - b.mean(), "U": float(u), "p": float(p)})
    out = pd.DataFrame(rows)
    if out.empty:
        return out
    out["p_holm"] = np.nan
    for _, idx in out.groupby(["sign", "task", "metric"]).groups.items():
        out.loc[idx, "p_holm"] = holm(out.loc[idx, "p"])
    return out.sort_values(["sign", "task", "metric", "n_neurons"], kind="stable").reset_index(drop=True)


def _plot(summary, metrics: Sequence[str], x: str, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    tasks = sorted(summary["task"].unique())
    signs = sorted(summary["sign"].unique())
    rows = [(m, s) for m in metrics for s in signs]
    fig, axes = plt.subplots(len(rows), len(tasks), figsize=(4.2 * len(tasks), 3.2 * len(rows)),
                             squeeze=False, sharex=True, layout="constrained")
    for i, (metric, sign) in enumerate(rows):
        for j, task in enumerate(tasks):
            ax = axes[i, j]
            sub = summary[(summary.metric == metric) & (summary.task == task) & (summary.sign == sign)]
            for variant, g in sub.groupby("variant", sort=True, observed=True):
                g = g.sort_values(x)
                err = np.vstack([g["mean"] - g["lo"], g["hi"] - g["mean"]])
                err = np.where(np.isfinite(err), err, 0.0)
                ax.errorbar(g[x], g["mean"], yerr=err, marker="o", ms=3, capsize=2, lw=1, label=variant)
            ax.set_title(f"{task} ({sign})", fontsize=9)
            ax.set_xscale("log")  # field sizes span 42-632 neurons
            lo, hi = float(summary[x].min()), float(summary[x].max())
            ax.set_xlim(lo / 1.15, hi * 1.15)
            ax.xaxis.set_major_formatter(matplotlib.ticker.ScalarFormatter())
            ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
            ax.set_xticks(sorted(summary[x].unique()) if summary[x].nunique() <= 8 else ax.get_xticks())
            if metric.endswith("Accuracy"):
                ax.set_ylim(-0.02, 1.02)
            ax.set_ylabel(metric, fontsize=9)
            if i == len(rows) - 1:
                ax.set_xlabel({"n_neurons": "neurons in field (N)", "area_um2": "field area (µm², x-z hull)"}[x])
    handles, labels = axes[0, 0].get_legend_handles_labels()
    if handles:
        fig.legend(handles, labels, loc="outside right upper", fontsize=8, title="variant")
    fig.suptitle(title)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110, bbox_inches="tight")
    plt.close(fig)


def _md_table(df, digits: int = 3) -> str:
    """A markdown table (the report layer's one table format), or ``(none)``."""
    return "(none)\n" if df.empty else "\n".join(markdown_table(df, digits=digits)) + "\n"


def write_cross_field_report(sweep_dir: str | Path, *, data_dir=None, runs=None) -> Path:
    """Write the cross-field CSVs, figures and ``report.md`` of a sweep folder; returns the report path."""
    sweep_dir = Path(sweep_dir)
    runs = load_sweep_runs(sweep_dir) if runs is None else runs
    if not runs:
        raise ValueError(f"{sweep_dir}: no finished runs to report on")
    fields = sorted({r["field"] for r in runs})
    geometry = field_table(fields, data_dir=data_dir)
    df = _canonical_order(tidy_runs(runs, geometry))
    with atomic_path(sweep_dir / "cross_field_runs.csv") as tmp:
        df.to_csv(tmp, index=False)
    summary = summarize_fields(df)
    summary["variant"] = summary["variant"].astype(df["variant"].dtype)  # the paper's order
    with atomic_path(sweep_dir / "cross_field_summary.csv") as tmp:
        summary.to_csv(tmp, index=False)
    trends = field_trends(summary)
    with atomic_path(sweep_dir / "cross_field_trends.csv") as tmp:
        trends.to_csv(tmp, index=False)
    effect = prior_effect(df)
    with atomic_path(sweep_dir / "cross_field_prior_effect.csv") as tmp:
        effect.to_csv(tmp, index=False)
    effects = field_simple_effects(df)
    for name, table in effects.items():
        with atomic_path(sweep_dir / f"cross_field_simple_effects_{name}.csv") as tmp:
            table.to_csv(tmp, index=False)
    factor_counts = _significant_fields(effects["mannwhitney"], acc_metric=ACCURACY)
    meta_lines = _meta_analysis(sweep_dir, runs, fields, data_dir)

    metrics = list(dict.fromkeys(df["metric"]))
    acc = ACCURACY if ACCURACY in metrics else metrics[0]
    others = [m for m in FIGURE_METRICS if m in metrics and m != acc] or [m for m in metrics if m != acc][:4]
    _plot(summary, [acc], "n_neurons", sweep_dir / "cross_field_accuracy.png", f"{acc} vs field size")
    _plot(summary, [acc], "area_um2", sweep_dir / "cross_field_accuracy_area.png", f"{acc} vs field area")
    if others:
        _plot(summary, others, "n_neurons", sweep_dir / "cross_field_metrics.png", "graph metrics vs field size")

    geo = _pd_frame([{"field": f, **geometry[f]} for f in fields]).sort_values("n_neurons")
    acc_tab = summary[summary.metric == acc].pivot_table(
        index=["sign", "task", "variant"], columns="field", values="mean", observed=True, sort=True)
    acc_tab = acc_tab[[f for f in geo["field"] if f in acc_tab.columns]].reset_index()  # fields by size
    lines = [
        f"# Cross-field sweep report ({sweep_dir})\n",
        f"{len(runs)} runs, {len(fields)} fields, variants: {', '.join(dict.fromkeys(df.variant))}; "
        f"tasks: {', '.join(sorted(df.task.unique()))}; arms: {', '.join(sorted(df.sign.unique()))}.\n",
        "Area: convex hull of the somata in the tangential x-z plane (MICrONS y is cortical depth), µm².\n",
        "## Fields\n", _md_table(geo, 0),
        f"## {acc}: mean over seeds per field\n",
        "(intervals in `cross_field_summary.csv`; figure `cross_field_accuracy.png`)\n",
        _md_table(acc_tab),
        "## Trends with field size and area (Spearman rho of per-field means)\n",
        _md_table(trends[trends.metric == acc].drop(columns="metric")),
        f"## Functional prior per field: {PRIOR_PAIR[0]} vs {PRIOR_PAIR[1]} "
        "(Mann-Whitney U, Holm across fields)\n",
        _md_table(effect[effect.metric == acc].drop(columns=["metric", "area_um2"])) if not effect.empty
        else "(the sweep has not both variants)\n",
        f"## Factor tests per field ({acc}; connectome_priors.stats.simple_effects)\n",
        "Fields in which at least one Mann-Whitney pair of the factor's levels is significant after "
        "Holm (alpha 0.05), out of the fields where the factor was tested; all tables in "
        "`cross_field_simple_effects_*.csv`.\n",
        _md_table(factor_counts),
    ]
    lines += meta_lines
    records = load_cell_records([sweep_dir])
    if records:
        model = fit_cost_model(records, load_sweep_records([sweep_dir]))
        walls = _pd_frame(records).groupby(["field", "n_neurons"])["wall_s"].agg(["count", "mean", "sum"])
        lines += ["## Cost (measured seconds per cell)\n", _md_table(walls.reset_index(), 2),
                  f"Cost model (connectome_priors.benchmarks.sweep._cost_model) coefficients "
                  f"{tuple(round(c, 4) for c in model.coef)}, "
                  f"overhead {model.overhead_s:.1f} s, in-sample relative RMSE {model.rel_rmse:.2f}, "
                  f"{model.n_records} cells.\n"]
    report = sweep_dir / "report.md"
    write_text(report, "\n".join(lines))
    return report


def _safe(name: str) -> str:
    """A variant name as a file-name part (``W*D*C`` -> ``WstarDstarC``)."""
    return name.replace("*", "star").replace("!", "perm")


def _meta_analysis(sweep_dir: Path, runs, fields: Sequence[str], data_dir) -> list[str]:
    """Covariates, random-effects pooling and forest plots (:mod:`connectome_priors.benchmarks._field_meta`); the
    report's lines."""
    from connectome_priors.benchmarks._field_meta import CONTRASTS, field_effects, plot_forest, pooled
    from connectome_priors.fields import load_field
    from connectome_priors.priors import field_covariates

    covariates = {f: field_covariates(load_field(f, data_dir=data_dir)) for f in fields}
    cov_frame = _pd_frame([{"field": f, **c} for f, c in covariates.items()])
    with atomic_path(sweep_dir / "cross_field_covariates.csv") as tmp:
        cov_frame.to_csv(tmp, index=False)
    tasks = sorted({r["task"] for r in runs})
    effects = field_effects(runs, tasks)
    pool, regression = pooled(effects, covariates)
    for name, frame in (("cross_field_meta_effects.csv", effects), ("cross_field_meta.csv", pool),
                        ("cross_field_meta_regression.csv", regression)):
        with atomic_path(sweep_dir / name) as tmp:
            frame.to_csv(tmp, index=False)
    lines = ["## Across fields: random-effects meta-analysis of the key contrasts\n",
             "Per field the seed-paired learn-rate difference (held-out test accuracy at the task's threshold) "
             "and the learning-curve AUC difference; pooled with DerSimonian-Laird random effects (estimate "
             "[95% CI], between-field τ², I², 95% prediction interval for a new field; all inside [-1, 1]). "
             "Field covariates: `cross_field_covariates.csv`; meta-regression on them (Holm over the "
             "covariates): `cross_field_meta_regression.csv`.\n"]
    if pool.empty:
        return lines + [f"(no contrast of {', '.join(f'{a} vs {b}' for a, b in CONTRASTS)} has runs in "
                        f"{2}+ fields yet)\n"]
    lines.append(_md_table(pool))
    labels = {f: f"{f} (N={int(covariates[f]['n_neurons'])})"
              for f in sorted(fields, key=lambda f: (covariates[f]["n_neurons"], f))}
    for a, b in CONTRASTS:
        png = plot_forest(effects, pool, (a, b), tasks, sweep_dir / f"cross_field_forest_{_safe(a)}_vs_{_safe(b)}.png",
                          labels, TASK_SHORT_LABELS)
        if png is not None:
            lines.append(f"![{a} vs {b}]({png.name})\n")
    return lines


def _significant_fields(pairs, acc_metric: str = ACCURACY):
    """Per sign, task and focus factor: fields with a Holm-significant pair / fields tested."""
    import pandas as pd

    sub = pairs[pairs.metric == acc_metric] if not pairs.empty else pairs
    if sub.empty:
        return pd.DataFrame(columns=["sign", "task", "focus", "fields_significant", "fields_tested"])
    g = sub.assign(significant=sub["sig"] == "YES").groupby(["sign", "task", "focus", "field"])["significant"].any()
    out = g.groupby(["sign", "task", "focus"]).agg(fields_significant="sum", fields_tested="size")
    return out.reset_index()


def _canonical_order(df):
    """Variants in the paper's order (then controls, then any other), fields by size."""
    import pandas as pd

    order = [v for v in known_variants(controls=True) if v in set(df.variant)]
    order += sorted(set(df.variant) - set(order))
    df = df.assign(variant=pd.Categorical(df.variant, categories=order, ordered=True))
    return df.sort_values(["n_neurons", "field", "sign", "task", "variant", "seed", "metric"],
                          kind="stable").reset_index(drop=True)


def _pd_frame(rows):
    import pandas as pd

    return pd.DataFrame(rows)
