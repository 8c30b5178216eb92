"""One arm's evidence, computed from its committed records, and its files.

``docs/results/<arm>/`` (inputs: ``records.jsonl``, ``config.json``; the rest is rebuilt from them)::

    summary.csv          per (task, metric, variant): n, n_ok, mean, sd, 95% bootstrap CI inside the metric's
                         range, and for accuracies the learn rate with its Wilson interval
    runs.csv             per run: final metrics (the per-run "summary" of the arm)
    outcomes.csv         per (task, variant): learned (held-out test accuracy at the task's threshold), accuracy
                         of the runs that learned, learning-curve AUC, steps to criterion
    outcome_tests.csv    per (task, pair): exact McNemar on learned status, exact sign-flip test of the AUC, verdicts
    comparison.csv       (arms with a published table) our cells beside the published ones, with the verdict
    paired.csv           seed-paired comparisons of the variants that differ in one factor (+ controls' pairs)
    simple_effects_kw.csv, simple_effects_mwu.csv   (compat-free) our simple-effects tests beside the paper's
    figures/accuracy.png, figures/metrics.png, figures/curves.png
    report.md
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from connectome_priors._atomic import write_text
from connectome_priors.benchmarks._outcomes import has_curve, outcome_table, outcome_tests
from connectome_priors.benchmarks._schema import GRAPH_METRICS, RUN_METRICS, TASKS
from connectome_priors.benchmarks._variants import CONTROL_DESCRIPTIONS
from connectome_priors.benchmarks.report import _verdict as vd
from connectome_priors.benchmarks.report._data import summarize
from connectome_priors.benchmarks.report._format import (
    TASK_LABELS,
    fmt,
    fmt_learned,
    fmt_mean,
    fmt_p,
    markdown_table,
    table_head,
    table_row,
)
from connectome_priors.stats import one_factor_pairs

from . import _figures as figures
from . import _stats as st
from . import _tables as tb
from ._initial import read_initial
from ._records import Arm, get_arm, read_records

PAIRED_METRICS = ("Accuracy", "Test_Accuracy")


@dataclasses.dataclass
class ArmEvidence:
    """One arm's records and every table computed from them.

    Attributes:
        arm: the arm.
        config: its committed ``config.json``.
        records: its committed runs.
        tidy: one row per (run, metric) (:func:`._tables.tidy`).
        summary: per (task, metric, variant) (:func:`connectome_priors.benchmarks.report._data.summarize`).
        comparison: our cells beside the published ones (None: no published table for this arm).
        paired: seed-paired comparisons, with their ``family``.
        outcomes: per (task, variant) learned status and learning speed
            (:func:`connectome_priors.benchmarks._outcomes.outcome_table`).
        outcome_tests: per (task, pair) exact tests of learned status and speed, with verdicts.
        initial: graph metrics of the starting matrices (``initial.csv``; None until computed).
        simple_effects: the simple-effects tests beside the paper's (arm ``compat-free`` only).
    """

    arm: Arm
    config: dict[str, Any]
    records: list[dict[str, Any]]
    tidy: pd.DataFrame
    summary: pd.DataFrame
    comparison: pd.DataFrame | None  # None: no published table for this arm
    paired: pd.DataFrame
    outcomes: pd.DataFrame
    outcome_tests: pd.DataFrame
    simple_effects: dict[str, pd.DataFrame] | None
    initial: pd.DataFrame | None = None

    @property
    def variants(self) -> list[str]:
        """The arm's variants, in canonical order."""
        return self.arm.variants()

    def progress(self) -> dict[str, int]:
        """Finished runs, planned runs, cells started, and the fewest / most seeds of a cell.

        Returns:
            ``runs, planned, cells, started, min, max, target, ok``, and ``at_target`` (cells with their target
            seeds, :meth:`Arm.target`), ``curves_min, curves_max`` (the fewest / most runs of a cell with a
            learning curve).
        """
        per_cell = {(t, v): 0 for t in TASKS for v in self.variants}
        curves = dict.fromkeys(per_cell, 0)
        for r in self.records:
            key = (r["task"], r["variant"])
            per_cell[key] = per_cell.get(key, 0) + 1
            curves[key] = curves.get(key, 0) + has_curve(r)
        values = list(per_cell.values())
        return dict(runs=len(self.records), planned=self.arm.planned(), cells=len(values),
                    started=sum(v > 0 for v in values), min=min(values), max=max(values), target=self.arm.seeds,
                    ok=sum(r["status"] == "ok" for r in self.records),
                    at_target=sum(n >= self.arm.target(v) for (_, v), n in per_cell.items()),
                    curves_min=min(curves.values()), curves_max=max(curves.values()))

    def seeds_per_cell(self) -> dict[int, int]:
        """How many (task, variant) cells have how many finished seeds.

        Returns:
            Number of finished seeds -> number of cells with that many, most seeds first.
        """
        per_cell = {(t, v): 0 for t in TASKS for v in self.variants}
        for r in self.records:
            per_cell[(r["task"], r["variant"])] = per_cell.get((r["task"], r["variant"]), 0) + 1
        hist: dict[int, int] = {}
        for k in per_cell.values():
            hist[k] = hist.get(k, 0) + 1
        return dict(sorted(hist.items(), reverse=True))

    def progress_text(self) -> str:
        """How far the arm got, in words (e.g. ``"4 of 20 seeds per cell; 132 of 660 runs finished (132 ok)"``)."""
        p, hist = self.progress(), self.seeds_per_cell()
        if self.arm.more_seeds:  # targets differ between variants
            seeds = f"{p['min']}" if p["min"] == p["max"] else f"{p['min']} to {p['max']}"
            curves = (f"{p['curves_min']}" if p["curves_min"] == p["curves_max"]
                      else f"{p['curves_min']} to {p['curves_max']}")
            seeds = (f"{seeds} seeds per cell ({curves} with learning curves), {p['at_target']} of {p['cells']} "
                     f"cells at their target ({self.arm.target_text()})")
        elif len(hist) == 1:
            seeds = f"{p['min']} of {p['target']} seeds per cell"
        else:
            seeds = (f"{p['max']} of {p['target']} seeds per cell in {hist[p['max']]} of {p['cells']} cells ("
                     + ", ".join(f"{k} seeds in {c}" for k, c in hist.items() if k != p["max"]) + ")")
        return f"{seeds}; {p['runs']} of {p['planned']} runs finished ({p['ok']} ok)"


def compute(folder: Path, published_dir: Path) -> ArmEvidence:
    """Read ``folder``'s records and compute the arm's tables (the arm is the folder's name).

    Args:
        folder: ``docs/results/<arm>``.
        published_dir: ``docs/results/published``.

    Returns:
        The arm's evidence.

    Raises:
        RecordsError: unknown arm, unreadable records, or records of another configuration.
    """
    arm = get_arm(Path(folder).name)
    records, config = read_records(folder)
    arm.check_config(config, str(Path(folder) / "config.json"))
    df = tb.tidy(records)
    summ = summarize(df)
    published = tb.load_published(published_dir)
    comparison = None
    if arm.functional == "corr" and arm.reference_compat and published is not None:
        comparison = vd.compare(summ, published, arm.sign, nan_accuracy=tb.nan_network_accuracy(records))
    paired = st.paired(df, None, PAIRED_METRICS).assign(family="one factor")
    outcome_pairs = one_factor_pairs(arm.variants())
    if arm.controls:
        paired = pd.concat([paired, st.paired(df, st.CONTROL_PAIRS, PAIRED_METRICS).assign(family="controls")],
                           ignore_index=True)
        outcome_pairs = list(st.CONTROL_PAIRS)
    outcomes = outcome_table(records, TASKS, arm.variants())
    tests = outcome_tests(records, TASKS, outcome_pairs)
    simple = None
    if arm.name == "compat-free":
        simple = st.simple_effects_vs_published(df, published_dir)
    return ArmEvidence(arm, config, records, df, summ, comparison, paired, outcomes, tests, simple,
                       read_initial(folder))


def write_files(ev: ArmEvidence, folder: Path, published_dir: Path, *, draw: bool = True) -> list[Path]:
    """Write every derived file of the arm into ``folder``.

    Args:
        ev: the arm's evidence.
        folder: ``docs/results/<arm>``.
        published_dir: ``docs/results/published``.
        draw: draw the figures too.

    Returns:
        The files written.
    """
    folder = Path(folder)
    paths = [tb.write_csv(ev.summary, folder / "summary.csv"),
             tb.write_csv(tb.runs_table(ev.records), folder / "runs.csv", float_format="%.9g")]
    if ev.comparison is not None:
        paths.append(tb.write_csv(ev.comparison, folder / "comparison.csv"))
    paths.append(tb.write_csv(ev.paired, folder / "paired.csv", float_format="%.6g"))
    paths.append(tb.write_csv(ev.outcomes, folder / "outcomes.csv", float_format="%.6g"))
    paths.append(tb.write_csv(ev.outcome_tests, folder / "outcome_tests.csv", float_format="%.6g"))
    if ev.simple_effects is not None and not ev.simple_effects["kruskal"].empty:
        paths.append(tb.write_csv(ev.simple_effects["kruskal"], folder / "simple_effects_kw.csv", "%.6g"))
        paths.append(tb.write_csv(ev.simple_effects["mannwhitney"], folder / "simple_effects_mwu.csv", "%.6g"))
    published = tb.load_published(published_dir)
    pub = None
    if published is not None and ev.arm.functional == "corr":
        pub = published[published["sign_constraint"] == vd.PUBLISHED_ARM[ev.arm.sign]]
    title = f"{ev.arm.name}: {ev.progress_text()}"
    if draw:
        paths.append(figures.plot_accuracy(ev.summary, pub if ev.arm.reference_compat else None, ev.variants,
                                           folder / "figures" / "accuracy.png", title))
        paths.append(figures.plot_metrics(ev.tidy, ev.variants, folder / "figures" / "metrics.png", title))
        paths.append(figures.plot_curves(ev.records, ev.variants, folder / "figures" / "curves.png", title))
    paths.append(write_text(folder / "report.md", "\n".join(report_lines(ev)) + "\n", mkdir=True))
    return paths


def _cell_table(ev: ArmEvidence, metric: str) -> list[str]:
    s = ev.summary[ev.summary["metric"] == metric]
    test = ev.summary[ev.summary["metric"] == "Test_Accuracy"]
    lines = []
    for task in TASKS:
        rows = s[s["task"] == task]
        if rows.empty:
            continue
        lines.append(f"\n**{task}** ({TASK_LABELS[task]})\n")
        cols: dict[str, Any] = {
            "variant": "variant",
            "mean [95% bootstrap CI]": lambda r: fmt_mean(r["mean"], r["lo"], r["hi"], bool(r["all_equal"]),
                                                          int(r["n_ok"])),
            "runs ok/n": lambda r: f"{int(r['n_ok'])}/{int(r['n'])}",
        }
        if metric == "Accuracy":
            t = test[test["task"] == task].set_index("variant")
            cols["held-out test accuracy"] = lambda r, t=t: (
                fmt_mean(*(t.loc[r["variant"], k] for k in ("mean", "lo", "hi")),
                         bool(t.loc[r["variant"], "all_equal"]), int(t.loc[r["variant"], "n_ok"]))
                if r["variant"] in t.index else "–")
            cols["learned [Wilson 95% CI]"] = lambda r, t=t: (
                fmt_learned(*(t.loc[r["variant"], k] for k in ("learned", "n_ok", "learn_lo", "learn_hi")))
                if r["variant"] in t.index else "–")
        lines += markdown_table(rows, cols)
    return lines


def _outcome_lines(ev: ArmEvidence) -> list[str]:
    """Learned status and learning speed per variant, then the exact tests of the arm's pairs."""
    from connectome_priors.stats import LEARN_THRESHOLDS

    lines = ["\n## Learned, and how fast\n",
             "A run has *learned* when its held-out test accuracy reaches the task's threshold (midway between the "
             "no-memory level and solved: " + ", ".join(f"{t} {LEARN_THRESHOLDS[t]:g}" for t in TASKS) + "). "
             "Learn rate k/n with its Wilson 95% interval; accuracy of the runs that learned and the area under "
             "the training-accuracy curve (AUC, accuracy averaged over training, in [0, 1]) with percentile-"
             "bootstrap 95% intervals; steps to criterion: the median optimizer step at which the curve first "
             "reaches the threshold, over the runs that reached it (the others are censored, not averaged). "
             "AUC and steps need the learning curve, which runs recorded before it existed lack (`auc n`). "
             "All rows: `outcomes.csv`.\n",
             "![curves](figures/curves.png)"]
    for task in TASKS:
        rows = ev.outcomes[ev.outcomes["task"] == task]
        if rows.empty:
            continue
        lines.append(f"\n**{task}** ({TASK_LABELS[task]})\n")
        lines += markdown_table(rows, {
            "variant": "variant",
            "learned [Wilson 95% CI]": lambda r: fmt_learned(r["learned"], r["n"], r["learn_lo"], r["learn_hi"]),
            "accuracy when learned": lambda r: fmt_mean(r["acc_learned"], r["acc_learned_lo"], r["acc_learned_hi"],
                                                        bool(r["acc_learned_all_equal"]), int(r["learned"])),
            "auc n": "auc_n",
            "AUC [95% CI]": lambda r: fmt_mean(r["auc"], r["auc_lo"], r["auc_hi"], bool(r["auc_all_equal"]),
                                               int(r["auc_n"])),
            "steps to criterion (median)": lambda r: fmt(r["criterion_median"], 0),
            "reached / censored": lambda r: f"{int(r['criterion_reached'])} / {int(r['criterion_censored'])}",
        })
    if not ev.outcome_tests.empty:
        lines.append("\n### Seed-paired tests of learned status and speed\n")
        lines.append("Exact McNemar test of the learned flags (difference in learn rate a - b with its paired "
                     "bootstrap interval) and exact sign-flip test of the paired AUC difference; each family Holm-"
                     "corrected over the pairs of a task. *min p* is the smallest Holm p these seeds could give: "
                     "above 0.05 the comparison is untestable with these seeds. Equivalence margins: ±0.10 learn "
                     "rate, ±0.05 AUC. All rows: `outcome_tests.csv`.\n")
        lines += markdown_table(ev.outcome_tests, {
            "task": "task", "a": "a", "b": "b", "seeds": "n",
            "learned only a / only b": lambda r: f"{int(r['a_only'])} / {int(r['b_only'])}",
            "learn rate a - b": lambda r: fmt_mean(r["learned_diff"], r["learned_lo"], r["learned_hi"],
                                                   bool(r["learned_all_equal"]), int(r["n"])),
            "p (Holm)": lambda r: fmt_p(r["p_mcnemar_holm"]), "min p": lambda r: fmt_p(r["min_p_mcnemar_holm"]),
            "learned: verdict": "learned_verdict",
            "AUC a - b": lambda r: fmt_mean(r["auc_diff"], r["auc_lo"], r["auc_hi"], bool(r["auc_all_equal"]),
                                            int(r["auc_n"])),
            "AUC p (Holm)": lambda r: fmt_p(r["p_sign_flip_holm"]), "AUC TOST p": lambda r: fmt_p(r["p_tost"]),
            "speed: verdict": "speed_verdict",
        })
    return lines


def paired_markdown(frame: pd.DataFrame) -> list[str]:
    """The seed-paired comparisons as a markdown table.

    Args:
        frame: rows of :func:`connectome_priors.stats.paired_comparisons` with a ``family`` column.

    Returns:
        Markdown lines.
    """
    return markdown_table(frame, {
        "family (Holm)": "family", "task": "task", "metric": "metric", "a": "a", "b": "b", "n seeds": "n",
        "mean a - b [95% bootstrap CI]": lambda r: fmt_mean(r["mean_diff"], r["diff_lo"], r["diff_hi"],
                                                            bool(r["all_equal"]), int(r["n"])),
        "p (Holm)": lambda r: fmt_p(r["p_adj_holm"]), "min p": lambda r: fmt_p(r["min_p_holm"]),
        "verdict": "verdict",
    })


def commands_markdown(arm: Arm) -> str:
    """The arm's commands (:meth:`Arm.commands`) as inline code, in order.

    Args:
        arm: the arm.

    Returns:
        Markdown: each command in backticks, joined by ", then ".
    """
    return ", then ".join(f"`{c}`" for c in arm.commands())


def report_lines(ev: ArmEvidence) -> list[str]:
    """The lines of the arm's ``report.md``.

    Args:
        ev: the arm's evidence.

    Returns:
        Markdown lines.
    """
    cfg: Mapping[str, Any] = ev.config
    lines = [f"# Arm `{ev.arm.name}`: {ev.arm.paper}\n",
             f"- Commands: {commands_markdown(ev.arm)}",
             f"- Progress: {ev.progress_text()}.",
             f"- Configuration: field {cfg.get('field')}, sign {cfg.get('sign')}, "
             f"{'reference-compat' if cfg.get('reference_compat') else 'corrected (default)'} mode, functional "
             f"{cfg.get('functional')}, {cfg.get('epochs')} epochs, {cfg.get('n_train')} training / "
             f"{cfg.get('n_val')} validation / {cfg.get('n_test')} test trials, batch {cfg.get('batch_size')}, "
             f"λ = {cfg.get('lam')}, λ_EMD = {cfg.get('lam_emd')}; config hash `{cfg.get('config_hash')}`.",
             "- Every number below is rebuilt from `records.jsonl` by `python -m connectome_priors evidence rebuild`. "
             "Intervals: 95% percentile bootstrap over the finite runs (10,000 resamples, seed 0), inside the "
             "metric's range; `(all n equal)` where every run gave the same value. "
             "**Accuracy** is the final-epoch training accuracy (the paper's); the held-out test accuracy is "
             "beside it.",
             ]
    controls = [v for v in ev.variants if v in CONTROL_DESCRIPTIONS]
    if controls:
        lines.append("- Controls: " + "; ".join(f"`{v}` = {CONTROL_DESCRIPTIONS[v]}" for v in controls) + ".")
    lines.append("\n![accuracy](figures/accuracy.png)\n\n![metrics](figures/metrics.png)")
    if ev.comparison is not None:
        lines.append("\n## Beside the published numbers\n")
        lines += table_head(["metric", *(vd.CATEGORY_TEXT[k] for k in vd.COUNTED), "other", "not run"])
        for metric in ("Accuracy",) + GRAPH_METRICS:
            c = vd.counts(ev.comparison[ev.comparison["metric"] == metric])
            lines.append(table_row([metric, *(c[k] for k in vd.COUNTED), vd.other_count(c), c[vd.NOT_RUN]]))
        lines.append("\nCell by cell: `comparison.csv` and `docs/reproduction.md`.")
    for metric in RUN_METRICS:
        if metric in ("Test_Accuracy",):
            continue
        lines.append(f"\n## {metric}")
        lines += _cell_table(ev, metric)
    lines += _outcome_lines(ev)
    lines.append("\n## Seed-paired comparisons\n")
    lines.append("Per seed the difference a - b (variants of one seed share its data); exact sign-flip test, "
                 "Holm over the pairs of one (task, metric); *min p* the smallest Holm p these seeds could give; "
                 "verdicts \"equivalent\" only for accuracies within ±0.05; pairs that differ in one factor"
                 + (" and the controls' pairs" if controls else "") + ". All rows: `paired.csv`.\n")
    lines += paired_markdown(ev.paired)
    bad = [r for r in ev.records if r["status"] != "ok"]
    lines.append(f"\n## Run status\n\n{len(ev.records) - len(bad)} runs ok, {len(bad)} stopped on non-finite "
                 "values (no metrics; counted in n, not in n_ok).")
    return lines
