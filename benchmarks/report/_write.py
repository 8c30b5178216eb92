"""The ablation's report: netCDF dataset, published-layout CSVs, figures and ``report.md``.

Everything is rebuilt from the stored runs of an ablation folder (``connectome_priors.benchmarks._run_store``), so
the report of an interrupted or extended ablation is always consistent with what is on disk::

    <out>/ablation.nc                  xarray Dataset, dims (variant, task, seed[, epoch]), metadata
    <out>/csv/<Task>/<Metric>_raw.csv  the published layout: index ``simulation`` (= seed), one
                                       column per variant in canonical order (paper task numbering)
    <out>/csv/runs_tidy.csv            one row per (variant, task, seed, metric)
    <out>/csv/summary.csv              per cell: runs, finite runs, mean, sd, 95% bootstrap interval, learn rate
                                       (the summary of the committed evidence too)
    <out>/csv/stats_*.csv              the statistics (connectome_priors.stats): simple effects, seed-paired
                                       comparisons, rank ANOVA
    <out>/figures/accuracy.png         accuracy per variant and task with 95% CIs (+ published)
    <out>/figures/metrics.png          graph-metric panels
    <out>/report.md                    our numbers beside the published ones, and the statistics

The published numbers come from the paper's ``reported_results.csv`` (argument ``published``;
default ``$CONNECTOME_PRIORS_PAPER`` -- the CSV or its folder -- or ``../shared/paper`` relative to
the working directory). Without it the report says so and omits that column. The pieces: ``_data`` (dataset,
tables, the summary, published numbers), ``_verdict`` (the comparison with the published numbers: the verdict, its
categories and counts), ``_format`` (numbers, intervals, p-values, markdown tables), ``_figures``, ``_markdown``
(the report's sections); this module assembles them. The committed evidence (``benchmarks.evidence``) and the claim
report use the same summary, verdicts and formatting.

Example::

    >>> write_report("results/quick")          # doctest: +SKIP
    PosixPath('results/quick/report.md')
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from connectome_priors._atomic import atomic_path, folder_lock, write_text
from connectome_priors._protocol import PAPER
from connectome_priors.benchmarks._run_store import RUN_STORE, load_config
from connectome_priors.benchmarks._schema import GRAPH_METRICS, NO_MEMORY_ACCURACY, TASK_NAMES, TASKS
from connectome_priors.benchmarks._variants import CONTROL_DESCRIPTIONS, variant_names

from ._data import load_published, resolve_published, runs_to_dataset, summarize, tidy, write_raw_csvs
from ._figures import plot_accuracy, plot_metrics
from ._format import fmt_mean, fmt_published, table_head, table_row
from ._markdown import comparison_table, statistics_section, status_section
from ._verdict import PUBLISHED_ARM, VERDICT_NOTES, beyond_range


def write_report(out_dir: str | os.PathLike, *, published: str | os.PathLike | None = None) -> Path:
    """Rebuild every report artifact of an ablation folder from its stored runs.

    Args:
        out_dir: the ablation folder (``config.json`` and ``runs/``).
        published: the paper's ``reported_results.csv`` or its folder (default: see the module docstring).

    Returns:
        The path of ``report.md``.

    Raises:
        FileNotFoundError: ``out_dir`` has no ``config.json``, or ``published`` names no file.
        FolderBusyError: another process is writing this folder's report right now (its lock file,
            ``<out_dir>/.lock``, names it); every file is replaced atomically, so whichever run finishes
            leaves a complete report.
    """
    out_dir = Path(out_dir)
    load_config(out_dir)  # not an ablation folder: say so before a lock file is made
    with folder_lock(out_dir, "writing the report of"):
        return _write_report(out_dir, published)


def _write_report(out_dir: Path, published: str | os.PathLike | None) -> Path:
    config = load_config(out_dir)
    runs = RUN_STORE.load(out_dir)
    ds = runs_to_dataset(runs, config)
    with atomic_path(out_dir / "ablation.nc") as tmp:
        ds.to_netcdf(tmp, engine="h5netcdf")

    df = tidy(ds)
    csv_dir = out_dir / "csv"
    write_raw_csvs(ds, csv_dir)
    with atomic_path(csv_dir / "runs_tidy.csv") as tmp:
        df.to_csv(tmp, index=False, float_format="%.6f")
    summary = summarize(df)
    with atomic_path(csv_dir / "summary.csv") as tmp:
        summary.to_csv(tmp, index=False, float_format="%.6f")

    variants = [str(v) for v in ds["variant"].values]
    tasks = [str(t) for t in ds["task"].values]
    pub_path = resolve_published(published)
    comparable = config.get("field") == "6_6_2" and config.get("functional") == "corr"
    pub = load_published(pub_path, config.get("sign", "free")) if (pub_path and comparable) else None

    figs = out_dir / "figures"
    plot_accuracy(summary, pub, tasks, variants, figs / "accuracy.png")
    plot_metrics(df, tasks, variants, figs / "metrics.png")

    lines = [f"# Ablation report: field {config['field']}, sign {config['sign']}, "
             f"{'reference-compat' if config.get('reference_compat') else 'corrected (default)'} mode\n"]
    lines.append(f"- {len(variants)} variants x {len(tasks)} tasks x {len(ds['seed'])} seeds, "
                 f"{config['epochs']} epochs, {config['n_train']} training trials (batch "
                 f"{config['batch_size']}), {config['n_val']} validation / {config['n_test']} test trials; "
                 f"functional init {config['functional']}; λ = {config['lam']}, λ_EMD = {config['lam_emd']}"
                 f"{'; QUICK run' if config.get('quick') else ''}.")
    if config.get("model"):
        lines.append(f"- Model: the user's module factory `{config['model']}` (models.train's module path), "
                     "not the paper's built-in RNN.")
    lines.append(f"- Config hash `{config.get('config_hash')}`; created {ds.attrs['created']}; versions: "
                 + ", ".join(f"{k} {v}" for k, v in json.loads(ds.attrs["versions_json"]).items()
                             if k not in ("platform",)) + ".")
    lines.append("- **Accuracy** is the final-epoch *training* accuracy (running mean over the epoch's "
                 "batches, input noise on), as in the paper; the held-out test accuracy is shown beside it.")
    lines.append("- Task numbering is the paper's (Task2 = PDM, Task3 = Go/NoGo). A solver that ignores the "
                 "past scores " + ", ".join(f"{t} {a}" for t, a in NO_MEMORY_ACCURACY.items())
                 + " (dashed in the figure): accuracies at that level mean the network did not learn to remember.")
    if pub is not None:
        lines.append(f"- Published numbers: `{pub_path}` (arm `{PUBLISHED_ARM[config['sign']]}`, 20 runs, "
                     "mean and 95% t-interval; empty interval = every published run identical, i.e. "
                     "a collapsed variant).")
    elif pub_path is None:
        lines.append("- Published numbers: not found (pass `--published PATH` or set "
                     "`$CONNECTOME_PRIORS_PAPER`); that column is omitted.")
    else:
        lines.append(f"- Published numbers exist only for field 6_6_2 with corr⊙STTC; this run "
                     f"({config['field']}, {config['functional']}) is not compared.")
    if config.get("quick") and pub is not None:
        lines.append(f"- **QUICK run**: far fewer training steps than the paper's {PAPER.total_steps} per run, so the "
                     "verdicts against the published intervals below are not meaningful; they check the pipeline.")
    controls = [v for v in variants if v in CONTROL_DESCRIPTIONS]
    if controls:
        lines.append("- Controls: " + "; ".join(f"`{v}` = {CONTROL_DESCRIPTIONS[v]}" for v in controls) + ".")
    lines.append("\n![accuracy](figures/accuracy.png)\n\n![metrics](figures/metrics.png)\n")

    lines.append("\n## Accuracy\n")
    if pub is not None:
        lines.append(VERDICT_NOTES)
    lines += comparison_table(summary, pub, "Accuracy", tasks, variants)
    for metric in GRAPH_METRICS:
        lines.append(f"\n## {metric}\n")
        lines += comparison_table(summary, pub, metric, tasks, variants)
    lines += status_section(ds)
    lines += statistics_section(df, out_dir, bool(config.get("reference_compat")))
    lines.append("\n## Files\n\n`ablation.nc` (all runs, dims variant x task x seed [x epoch]); "
                 "`csv/<Task>/<Metric>_raw.csv` (published layout); `csv/summary.csv`; "
                 "`csv/runs_tidy.csv`; `runs/` (one JSON + W_rec per run).")
    path = out_dir / "report.md"
    write_text(path, "\n".join(lines) + "\n")
    return path


# --------------------------------------------------------------------------------------------
# several ablation folders side by side


def _label(config: Mapping[str, Any]) -> str:
    mode = "compat" if config.get("reference_compat") else "default"
    parts = [str(config.get("field")), str(config.get("sign")), mode]
    if config.get("functional", "corr") != "corr":
        parts.append(str(config["functional"]))
    if config.get("quick"):
        parts.append("quick")
    return "/".join(parts)


def compare_reports(out_dirs: Sequence[str | os.PathLike], path: str | os.PathLike, *,
                    metric: str = "Accuracy", published: str | os.PathLike | None = None) -> Path:
    """One markdown table per task: ``metric`` of every folder's variants side by side.

    Each column is an ablation folder (labelled field/sign/mode), cells are mean [95% bootstrap CI]
    (runs ok/n); the published value of the matching arm is added per sign arm present.

    Args:
        out_dirs: the ablation folders.
        path: the markdown file to write.
        metric: the metric compared.
        published: the paper's ``reported_results.csv`` or its folder (default: see the module docstring).

    Returns:
        ``path``.

    Raises:
        FileNotFoundError: a folder has no ``config.json``, or ``published`` names no file.
    """
    columns, summaries, signs = [], [], []
    for d in out_dirs:
        config = load_config(d)
        ds = runs_to_dataset(RUN_STORE.load(d), config)
        columns.append(_label(config))
        summaries.append(summarize(tidy(ds)))
        if config.get("field") == "6_6_2" and config.get("functional") == "corr":  # what the paper ran
            signs.append(config.get("sign", "free"))
    pub_path = resolve_published(published)
    pubs = {s: load_published(pub_path, s) for s in dict.fromkeys(signs)} if pub_path else {}
    order = variant_names(controls=True)
    variants = [v for v in order if any(v in set(s["variant"]) for s in summaries)]
    tasks = [t for t in TASKS if any(t in set(s["task"]) for s in summaries)]
    lines = [f"# {metric}: ablations side by side\n",
             "Cells: mean [95% percentile-bootstrap interval] (finite runs / runs); published: the paper's mean "
             "[95% t-interval], as published († where it leaves the metric's range). Folders: "
             + "; ".join(f"`{c}` = {d}" for c, d in zip(columns, out_dirs)) + "."]
    for task in tasks:
        lines += [f"\n## {task} ({TASK_NAMES[task]})\n",
                  *table_head(["variant"] + columns + [f"published {s}" for s in pubs])]
        for v in variants:
            cells = [v]
            for s in summaries:
                r = s[(s["variant"] == v) & (s["task"] == task) & (s["metric"] == metric)]
                cells.append("–" if r.empty else
                             f"{fmt_mean(*(r.iloc[0][k] for k in ('mean', 'lo', 'hi', 'all_equal', 'n_ok')))} "
                             f"({int(r.iloc[0]['n_ok'])}/{int(r.iloc[0]['n'])})")
            for p in pubs.values():
                r = p[(p["variant"] == v) & (p["task"] == task) & (p["metric"] == metric)]
                cells.append("–" if r.empty else fmt_published(
                    *(float(r.iloc[0][k]) for k in ("mean", "ci95_lo", "ci95_hi")),
                    beyond_range(r.iloc[0].to_dict(), metric)))
            lines.append(table_row(cells))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text(path, "\n".join(lines) + "\n")
    return path
