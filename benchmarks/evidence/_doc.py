"""``docs/reproduction.md``: the paper's tables, our numbers beside the published ones, and the findings beyond.

The document is the hand-written template ``docs/results/reproduction_template.md`` with its ``{{section}}``
markers replaced by generated sections (:data:`SECTIONS`), each computed from the committed records
(:mod:`._arm`) and the committed copy of the published numbers (``docs/results/published/``). An arm without
records is listed as not yet run, with the command that makes it. Numbers, verdicts and tables are written by the
report's one layer (:mod:`connectome_priors.benchmarks.report._verdict`, ``._format``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from connectome_priors.benchmarks._outcomes import outcome_tests
from connectome_priors.benchmarks._schema import GRAPH_METRICS, TASKS
from connectome_priors.benchmarks.report import _verdict as vd
from connectome_priors.benchmarks.report._format import (
    TASK_LABELS,
    fmt,
    fmt_mean,
    fmt_p,
    markdown_table,
    table_head,
    table_row,
)
from connectome_priors.stats import bounded_mean_interval, metric_range

from . import _stats as st
from . import _tables as tb
from ._arm import ArmEvidence, commands_markdown, paired_markdown
from ._claims import claims_section
from ._records import ARMS, RecordsError

TEMPLATE = "reproduction_template.md"
PRECISION_ARM = "6_6_2_sttc-precision"
PAPER_METRIC = {"Accuracy": "accuracy", "Entropy": "entropy", "Modularity": "modularity",
                "SmallWorldness": "smallWorldness", "Assortativity": "assortivity"}

Arms = Mapping[str, ArmEvidence]


def _not_run(name: str) -> list[str]:
    arm = ARMS[name]
    return [f"\n_Arm `{name}`: not yet run._ It is made by {commands_markdown(arm)}, then "
            f"`python -m connectome_priors evidence export runs/{name} --arm {name}` and "
            "`python -m connectome_priors evidence rebuild`."]


def _head(ev: ArmEvidence) -> str:
    return f"\nArm `{ev.arm.name}` ({commands_markdown(ev.arm)}): **{ev.progress_text()}**."


def arms_section(arms: Arms) -> list[str]:
    """The arms: what each reproduces, how far it got and its command.

    Args:
        arms: the evidence of the arms with records.

    Returns:
        Markdown lines.
    """
    lines = table_head(["issue arm", "arm", "reproduces", "how far it got", "command"])
    for name, arm in ARMS.items():
        status = arms[name].progress_text() if name in arms else "not yet run"
        lines.append(table_row([arm.issue_arm, f"`{name}`", arm.paper, status, commands_markdown(arm)]))
    return lines


def summary_section(arms: Arms, published_dir: Path) -> list[str]:
    """One row per table of the paper: the verdict counts (cells not run yet counted apart).

    Args:
        arms: the evidence of the arms with records.
        published_dir: ``docs/results/published``.

    Returns:
        Markdown lines.
    """
    not_yet = ["–"] * (len(vd.COUNTED) + 2)
    lines = table_head(["table", "arm", "how far it got", *(vd.CATEGORY_TEXT[k] for k in vd.COUNTED), "other",
                        "not run yet"])

    def counted(c: dict[str, int]) -> list[int]:
        return [*(c[k] for k in vd.COUNTED), vd.other_count(c), c[vd.NOT_RUN]]

    for label, name, metrics in (("Table 2 (accuracy)", "compat-free", ("Accuracy",)),
                                 ("Table 3 (accuracy)", "compat-nonneg", ("Accuracy",)),
                                 ("graph metrics, free arm", "compat-free", GRAPH_METRICS),
                                 ("graph metrics, nonneg arm", "compat-nonneg", GRAPH_METRICS)):
        ev = arms.get(name)
        if ev is None or ev.comparison is None:
            lines.append(table_row([label, f"`{name}`", "not yet run", *not_yet]))
            continue
        c = vd.counts(ev.comparison[ev.comparison["metric"].isin(metrics)])
        lines.append(table_row([label, f"`{name}`", ev.progress_text(), *counted(c)]))
    label = "precision arm (W*D*C vs 5 published runs)"
    ev = arms.get("compat-free-precision")
    comp = None if ev is None else precision_comparison(ev, published_dir)
    if comp is None or comp.empty:
        lines.append(table_row([label, "`compat-free-precision`", "not yet run" if ev is None else ev.progress_text(),
                                *not_yet]))
    else:
        lines.append(table_row([label, "`compat-free-precision`", ev.progress_text(), *counted(vd.counts(comp))]))
    ev = arms.get("compat-free")
    se = (ev.simple_effects or {}) if ev is not None else {}
    if se.get("kruskal") is not None and not se["kruskal"].empty:
        a, b = st.agreement_counts(se["kruskal"]), st.agreement_counts(se["mannwhitney"])
        lines.append(f"\nSimple-effects tests S5–S7 (arm `compat-free`): Kruskal–Wallis decisions the same as "
                     f"the paper's in {a.get('same', 0)}, different in {a.get('differ', 0)} (not run yet: "
                     f"{a.get('not run yet', 0)}); Mann–Whitney U pair decisions (Holm) the same in "
                     f"{b.get('same', 0)}, different in {b.get('differ', 0)}, tested by the paper only in "
                     f"{b.get('only published', 0)}, by us only in {b.get('only ours', 0)} (not run yet: "
                     f"{b.get('not run yet', 0)}).")
    else:
        lines.append("\nSimple-effects tests S5–S7: arm `compat-free` not yet run.")
    return lines


def _table(arms: Arms, name: str, metric: str, title: str) -> list[str]:
    if name not in arms:
        return _not_run(name)
    ev = arms[name]
    if ev.comparison is None:
        return [_head(ev), "\n_The published numbers are not committed (`docs/results/published/`)._"]
    comp = ev.comparison[ev.comparison["metric"] == metric]
    lines = [_head(ev), f"\n{title}: {vd.counts_line(vd.counts(comp))}."]
    return lines + tb.comparison_markdown(comp)


def table2_section(arms: Arms) -> list[str]:
    """Table 2 (free arm): verdict counts, the cells, and the seed-paired comparisons of each prior.

    Args:
        arms: the evidence of the arms with records.

    Returns:
        Markdown lines.
    """
    lines = _table(arms, "compat-free", "Accuracy", "Counts over the 33 cells of Table 2")
    if "compat-free" in arms:
        ev = arms["compat-free"]
        p = ev.paired[(ev.paired["metric"] == "Accuracy") & (ev.paired["family"] == "one factor")]
        lines += ["\nSeed-paired comparisons of each prior (arm `compat-free`, Accuracy; pairs of variants that "
                  "differ in one factor; per seed the difference a - b; exact sign-flip test, Holm over the pairs "
                  "of one task; *min p* the smallest Holm p these seeds could give):\n"]
        lines += paired_markdown(p)
    return lines


def table3_section(arms: Arms) -> list[str]:
    """Table 3 (nonnegative arm): verdict counts and the cells.

    Args:
        arms: the evidence of the arms with records.

    Returns:
        Markdown lines.
    """
    return _table(arms, "compat-nonneg", "Accuracy", "Counts over the 33 cells of Table 3")


def graph_section(arms: Arms) -> list[str]:
    """The graph metrics of both compat arms: counts over all four, then each metric's cells.

    Args:
        arms: the evidence of the arms with records.

    Returns:
        Markdown lines.
    """
    lines = []
    for name, table in (("compat-free", "Table 2"), ("compat-nonneg", "Table 3")):
        lines.append(f"\n### Graph metrics of the {table} arm")
        if name not in arms or arms[name].comparison is None:
            lines += _not_run(name) if name not in arms else ["_published numbers not committed_"]
            continue
        ev = arms[name]
        lines.append(_head(ev))
        total = vd.counts(ev.comparison[ev.comparison["metric"].isin(GRAPH_METRICS)])
        lines.append(f"\nCounts over all four graph metrics (132 cells): {vd.counts_line(total)}.")
        for metric in GRAPH_METRICS:
            comp = ev.comparison[ev.comparison["metric"] == metric]
            lines.append(f"\n#### {metric} ({table} arm)\n\nCounts: {vd.counts_line(vd.counts(comp))}.")
            lines += tb.comparison_markdown(comp)
    lines += _start_vs_trained(arms)
    return lines


def _start_vs_trained(arms: Arms) -> list[str]:
    """Each variant's graph metrics at the start (the seed's initial matrix) beside after training, per arm."""
    lines = ["\n### Where the organisation comes from: starting matrices beside trained ones\n",
             "Means over seeds of each variant's starting recurrent matrix (`initial.csv`: drawn as training "
             "draws it, the same metric code) and of the trained one per task. The starting matrix does not depend "
             "on the task. A metric that is already at its trained level at the start was not *developed* by "
             "training.\n"]
    for name in ("compat-free", "default-free"):
        ev = arms.get(name)
        if ev is None or ev.initial is None:
            lines.append(f"- arm `{name}`: starting matrices not computed yet (`python -m connectome_priors evidence "
                         f"initial --arm {name}`)")
            continue
        lines.append(f"\n**Arm `{name}`**\n")
        start = ev.initial.groupby(["variant", "metric"])["value"].mean()
        trained = ev.tidy[ev.tidy["metric"].isin(GRAPH_METRICS)].groupby(["variant", "metric", "task"])["value"].mean()
        lines += table_head(["variant", "metric", "start", *(f"trained, {TASK_LABELS[t]}" for t in TASKS)])
        for variant in ev.variants:
            for metric in GRAPH_METRICS:
                if (variant, metric) not in start.index:
                    continue
                lines.append(table_row([variant, metric, fmt(start[(variant, metric)]),
                                        *(fmt(trained.get((variant, metric, t), np.nan)) for t in TASKS)]))
    return lines


def graph_shift_section(arms: Arms) -> list[str]:
    """Which compat-free graph-metric cells sit off the published ones, in standard errors (Welch z, Bonferroni over
    every graph cell compared), and the sign of the shift within the functionally initialised C* variants.

    Args:
        arms: the evidence of the arms with records.

    Returns:
        Markdown lines.
    """
    from scipy import stats

    ev = arms.get("compat-free")
    if ev is None or ev.comparison is None:
        return _not_run("compat-free")
    graph = ev.tidy[ev.tidy["metric"].isin(GRAPH_METRICS)]
    shift = st.shift_from_published(graph, ev.comparison)
    m = len(shift)
    z_crit = float(stats.norm.isf(0.025 / m))
    off = shift[shift["z"].abs() > z_crit].copy()
    off["rank"] = off["metric"].map({mt: i for i, mt in enumerate(GRAPH_METRICS)})
    off = off.sort_values(["rank", "variant", "task"], kind="stable")
    lines = [f"\nWelch z of our mean against the published one (published SD recovered from its 95% t-interval, "
             f"n = 20 each side) for all {m} graph-metric cells of `compat-free`; {len(off)} exceed the Bonferroni "
             f"bound |z| > {z_crit:.2f}:\n"]
    lines += table_head(["metric", "task", "variant", "ours (sd)", "published (sd)", "ours − published", "z"])
    for r in off.itertuples():
        lines.append(table_row([r.metric, TASK_LABELS[r.task], r.variant, f"{fmt(r.mean)} ({fmt(r.sd)})",
                                f"{fmt(r.pub_mean)} ({fmt(r.pub_sd)})", fmt(r.diff), fmt(r.z, 1)]))
    functional_cstar = shift[shift["variant"].str.endswith("C*") & shift["variant"].str[:2].isin(["W*", "W!"])]
    lines.append("\nSign of the shift in the C\\* variants that start from the functional init (W\\*D\\*C\\*, "
                 "W!D\\*C\\*, W\\*DC\\*), one cell per variant and task, exact sign test:\n")
    lines += table_head(["metric", "cells below published", "sign test p", "mean shift"])
    for metric in GRAPH_METRICS:
        sub = functional_cstar[functional_cstar["metric"] == metric]
        if sub.empty:
            continue
        below = int((sub["diff"] < 0).sum())
        p = stats.binomtest(below, len(sub)).pvalue
        lines.append(table_row([metric, f"{below} of {len(sub)}", fmt_p(p), fmt(sub["diff"].mean(), 4)]))
    return lines


EMD_OFF = "compat-free-emd0"


def emd_off_section(arms: Arms) -> list[str]:
    """The C* variants with the EMD term off beside the same seeds with it on, and beside the published means.

    Args:
        arms: the evidence of the arms with records.

    Returns:
        Markdown lines.
    """
    from connectome_priors.stats import paired_comparisons

    off, on = arms.get(EMD_OFF), arms.get("compat-free")
    if off is None or on is None:
        return _not_run(EMD_OFF if off is None else "compat-free")
    seeds = sorted({int(r["seed"]) for r in off.records})
    frames = []
    for ev, label in ((on, "on"), (off, "off")):
        t = ev.tidy[ev.tidy["variant"].isin(off.variants) & ev.tidy["seed"].isin(seeds)
                    & ev.tidy["metric"].isin(GRAPH_METRICS)]
        frames.append(t.assign(variant=t["variant"] + f" EMD {label}"))
    both = pd.concat(frames, ignore_index=True)[["variant", "task", "seed", "metric", "value"]]
    both = both[np.isfinite(both["value"].astype(float))]
    res = paired_comparisons(both, [(f"{v} EMD off", f"{v} EMD on") for v in off.variants])
    shift = st.shift_from_published(off.tidy[off.tidy["metric"].isin(GRAPH_METRICS)], on.comparison) \
        if on.comparison is not None else None
    lines = [f"\nArm `{EMD_OFF}` (`{off.arm.command()}`): **{off.progress_text()}**. The same seeds of `compat-free` "
             "(λ_EMD = 0.1, as published) beside them; paired difference off − on with its bootstrap interval and the "
             "exact sign-flip test (Holm over the two variants of a task and metric); z: the EMD-off mean against the "
             "published one, as above.\n"]
    lines += table_head(["metric", "task", "variant", "published", "EMD on", "EMD off", "off − on [95% CI]",
                         "verdict", "z (off vs published)"])
    for metric in GRAPH_METRICS:
        for task in TASKS:
            for variant in off.variants:
                row = res[(res.metric == metric) & (res.task == task) & (res.a == f"{variant} EMD off")]
                if row.empty:
                    continue
                r = row.iloc[0]
                z = shift[(shift.metric == metric) & (shift.task == task) & (shift.variant == variant)] \
                    if shift is not None else pd.DataFrame()
                lines.append(table_row([
                    metric, TASK_LABELS[task], variant, fmt(z["pub_mean"].iloc[0]) if not z.empty else "–",
                    fmt(r.mean_b), fmt(r.mean_a),
                    fmt_mean(r.mean_diff, r.diff_lo, r.diff_hi, bool(r.all_equal), int(r.n)),
                    _md(str(r.verdict)), fmt(z["z"].iloc[0], 1) if not z.empty else "–"]))
    return lines


def simple_effects_section(arms: Arms) -> list[str]:
    """The simple-effects tests S5-S7 beside the paper's: decisions compared, accuracy tables.

    Args:
        arms: the evidence of the arms with records.

    Returns:
        Markdown lines.
    """
    if "compat-free" not in arms:
        return _not_run("compat-free")
    ev = arms["compat-free"]
    se = ev.simple_effects or {}
    kw, mwu = se.get("kruskal", pd.DataFrame()), se.get("mannwhitney", pd.DataFrame())
    if kw.empty:
        return [_head(ev), "\n_The published simple-effects tables are not committed (`docs/results/published/`)._"]
    lines = [_head(ev), "\nThe paper's simple-effects tables (raw/, free arm; tasks in the notebook's numbering: "
             "1 One-Choice, 2 Go/NoGo, 3 PDM) beside ours from the same tests on our runs. Kruskal-Wallis: the "
             "decision p < 0.05 compared. Mann-Whitney U pairs (Holm per task, metric and factor): the "
             "significance decision compared where both sides tested the pair; a pair is tested only after a "
             "significant omnibus, so a pair can be tested on one side only. While the arm is incomplete, a context "
             "may hold fewer levels in ours than in the paper's, and a context without our runs is *not run yet*.\n",
             *table_head(["metric", "KW: same decision", "KW: differ", "KW: undefined", "KW: not run yet", "MWU: same",
                          "MWU: differ", "MWU: only published", "MWU: only ours", "MWU: not run yet"])]
    kw_keys, mwu_keys = ("same", "differ", "undefined", "not run yet"), ("same", "differ", "only published",
                                                                         "only ours", "not run yet")

    def row(label: str, a: dict, b: dict) -> str:
        return table_row([label, *(a.get(k, 0) for k in kw_keys), *(b.get(k, 0) for k in mwu_keys)])

    for metric in sorted(set(kw["metric"])):
        lines.append(row(metric, st.agreement_counts(kw[kw["metric"] == metric]),
                         st.agreement_counts(mwu[mwu["metric"] == metric])))
    lines.append(row("**all**", st.agreement_counts(kw), st.agreement_counts(mwu)))
    for focus, title in (("w_variant", "init (W)"), ("d_variant", "distance (D)"),
                         ("c_variant", "communicability (C)")):
        lines.append(f"\n#### Focus factor {title}, accuracy\n")
        lines += markdown_table(kw[(kw["metric"] == "accuracy") & (kw["focus"] == focus)], {
            "task": "task", "context": "context", "H ours": lambda r: fmt(r["H"], 2),
            "p ours": lambda r: fmt_p(r["p"]), "H paper": lambda r: fmt(r["pub_H"], 2),
            "p paper": lambda r: fmt_p(r["pub_p"]), "decision": "agree"})
        lines.append("")
        lines += markdown_table(mwu[(mwu["metric"] == "accuracy") & (mwu["focus"] == focus)], {
            "task": "task", "context": "context", "l1": "l1", "l2": "l2",
            "p_Holm ours": lambda r: fmt_p(r["p_adj_holm"]),
            "sig ours": lambda r: r["sig"] if isinstance(r["sig"], str) else "–",
            "p_Holm paper": lambda r: fmt_p(r["pub_p_adj_holm"]),
            "sig paper": lambda r: r["pub_sig"] if isinstance(r["pub_sig"], str) else "–", "decision": "agree"})
    lines.append("\nAll metrics: `docs/results/compat-free/simple_effects_kw.csv`, `simple_effects_mwu.csv`.")
    return lines


def precision_comparison(ev: ArmEvidence, published_dir: Path) -> pd.DataFrame | None:
    """W*D*C of the precision arm beside the 5 published runs (their mean and t-interval), verdicts included.

    Args:
        ev: the precision arm's evidence.
        published_dir: ``docs/results/published``.

    Returns:
        A comparison (:func:`connectome_priors.benchmarks.report._verdict.compare`) of the cells that both sides
        have, or None if the published rows are not committed.
    """
    path = published_dir / "head5_rows_WstarDstarC_by_task_arm.csv"
    if not path.is_file():
        return None
    head = pd.read_csv(path)
    head = head[head["arm"] == PRECISION_ARM]
    published = []
    for metric, col in PAPER_METRIC.items():
        for task in TASKS:
            x = head.loc[head["task"] == st.NOTEBOOK_TASK[task], col].to_numpy(float)
            x = x[np.isfinite(x)]
            if x.size:
                cell = bounded_mean_interval(x, *metric_range(metric))
                published.append(dict(metric=metric, task=task, variant="W*D*C", mean=cell.mean, ci95_lo=cell.lo,
                                      ci95_hi=cell.hi))
    comp = vd.compare(ev.summary, pd.DataFrame(published, columns=["metric", "task", "variant", "mean", "ci95_lo",
                                                                   "ci95_hi"]),
                      metrics=tuple(PAPER_METRIC), variants=["W*D*C"])
    keep = ~comp["verdict"].isin([vd.NOT_RUN, "no-published"])
    return comp[keep].drop(columns="nan_acc").reset_index(drop=True)


def precision_section(arms: Arms, published_dir: Path) -> list[str]:
    """The precision arm's W*D*C beside the 5 published runs.

    Args:
        arms: the evidence of the arms with records.
        published_dir: ``docs/results/published``.

    Returns:
        Markdown lines.
    """
    name = "compat-free-precision"
    if name not in arms:
        return _not_run(name)
    ev = arms[name]
    comp = precision_comparison(ev, published_dir)
    if comp is None:
        return [_head(ev), "\n_The published precision rows are not committed._"]
    lines = [_head(ev), "\nPublished: only the first 5 runs of W*D*C (`raw/head5_rows_WstarDstarC_by_task_arm.csv`, "
             f"arm `{PRECISION_ARM}`); their mean and 95% percentile-bootstrap interval are computed here "
             "from those 5 runs."]
    if comp.empty:
        return lines + ["\n_No W*D*C records yet._"]
    lines.append(f"\nCounts over {len(comp)} cells (W*D*C, 3 tasks, 5 metrics): {vd.counts_line(vd.counts(comp))}.")
    for metric in PAPER_METRIC:
        lines.append(f"\n#### {metric} (precision arm, W*D*C)")
        lines += tb.comparison_markdown(comp[comp["metric"] == metric])
    return lines


def _md(text: str) -> str:
    """A verdict inside markdown emphasis: the variants' asterisks escaped."""
    return str(text).replace("*", "\\*")


def _outcome_claim(row: pd.Series, arm: str) -> str:
    """One pair's learned-status and speed verdicts, with the tests and numbers behind them."""
    n = int(row["n"])
    if n == 0:
        return f"- `{row['a']}` vs `{row['b']}` ({row['task']}): no seed with a run of both in arm `{arm}`."
    learn = fmt_mean(row["learned_diff"], row["learned_lo"], row["learned_hi"], bool(row["learned_all_equal"]), n)
    text = (f"- {row['task']} ({TASK_LABELS[row['task']]}), `{row['a']}` vs `{row['b']}`: learned status "
            f"**{_md(row['learned_verdict'])}** (arm `{arm}`, {n} paired seeds; learned only by a / only by b: "
            f"{int(row['a_only'])} / {int(row['b_only'])}; learn-rate difference {learn} [95% "
            f"Tango paired score CI]; exact McNemar, Holm over the pairs of this task: p = "
            f"{fmt_p(row['p_mcnemar_holm'])}, smallest attainable {fmt_p(row['min_p_mcnemar_holm'])})")
    if int(row["auc_n"]):
        auc = fmt_mean(row["auc_diff"], row["auc_lo"], row["auc_hi"], bool(row["auc_all_equal"]),
                       int(row["auc_n"]))
        text += (f"; learning speed **{_md(row['speed_verdict'])}** (AUC difference {auc} over {int(row['auc_n'])} "
                 f"seeds with curves; exact sign-flip, Holm: p = {fmt_p(row['p_sign_flip_holm'])})")
    return text + "."


def findings_section(arms: Arms) -> list[str]:
    """Findings beyond the paper (default-mode arm with controls), each naming its arm and test.

    Args:
        arms: the evidence of the arms with records.

    Returns:
        Markdown lines.
    """
    if "default-free" not in arms:
        return _not_run("default-free")
    ev = arms["default-free"]
    tests = ev.outcome_tests
    lines = [_head(ev), "\nA run has learned when its held-out test accuracy reaches the task's threshold "
             "(`outcomes.csv`); every line names its arm and tests. Verdicts are those of "
             "`connectome_priors.stats.verdict`: a direction only where Holm p < 0.05, *equivalent* only where "
             "the whole interval lies within ±0.10 learn rate (±0.05 AUC), *untestable* where no outcome of "
             "these seeds could reach p < 0.05.",
             "\n### Which part of the functional init helps?\n"]
    init = tests[[(a, b) in st.INIT_PAIRS for a, b in zip(tests["a"], tests["b"])]]
    lines += [_outcome_claim(r, ev.arm.name) for _, r in init.iterrows()] or [
        "- _the control variants have no records yet_"]
    lines.append("\n### Is the penalty what stops the orthogonal init?\n")
    pen = tests[[(a, b) in st.PENALTY_PAIRS for a, b in zip(tests["a"], tests["b"])]]
    lines += [_outcome_claim(r, ev.arm.name) for _, r in pen.iterrows()] or [
        "- _the λ = 0 controls have no records yet_"]
    lines.append("\n### Which effects of D* survive true geometry?\n")
    lines.append("In compat mode D* comes from scrambled coordinates (unrelated to geometry); the default mode uses "
                 "true soma distances. Pairs that differ only in D* vs the grid D:\n")
    other = arms.get("compat-free")
    for arm_ev in (other, ev):
        if arm_ev is None:
            lines.append("- arm `compat-free`: not yet run")
            continue
        d = outcome_tests(arm_ev.records, TASKS, st.DISTANCE_PAIRS)
        lines += ([_outcome_claim(r, arm_ev.arm.name) for _, r in d.iterrows()]
                  or [f"- arm `{arm_ev.arm.name}`: no pair of these variants has records yet"])
    lines.append("\nAll pairs of this arm: `docs/results/default-free/outcome_tests.csv` (learned status, speed) "
                 "and `paired.csv` (mean accuracy and graph metrics).")
    return lines


SECTIONS: dict[str, Callable[..., list[str]]] = {
    "claims": lambda arms, pub: claims_section(arms, tb.load_published(pub)),
    "summary": summary_section,
    "arms": lambda arms, pub: arms_section(arms),
    "table2": lambda arms, pub: table2_section(arms),
    "table3": lambda arms, pub: table3_section(arms),
    "graph": lambda arms, pub: graph_section(arms),
    "graph_shift": lambda arms, pub: graph_shift_section(arms),
    "emd_off": lambda arms, pub: emd_off_section(arms),
    "simple_effects": lambda arms, pub: simple_effects_section(arms),
    "precision": precision_section,
    "findings": lambda arms, pub: findings_section(arms),
}


def render(template_path: Path, arms: Arms, published_dir: Path) -> str:
    """The template with every ``{{section}}`` replaced.

    Args:
        template_path: ``docs/results/reproduction_template.md``.
        arms: the evidence of the arms with records.
        published_dir: ``docs/results/published``.

    Returns:
        The text of ``docs/reproduction.md``.

    Raises:
        RecordsError: the template is unreadable, or a marker does not occur exactly once.
    """
    try:
        text = Path(template_path).read_text(encoding="utf-8")
    except OSError as exc:
        raise RecordsError(f"{template_path}: the hand-written template of docs/reproduction.md is unreadable "
                           f"({exc})") from None
    for key, make in SECTIONS.items():
        marker = "{{" + key + "}}"
        if text.count(marker) != 1:
            raise RecordsError(f"{template_path}: marker {marker} must occur exactly once "
                               f"(found {text.count(marker)})")
        text = text.replace(marker, "\n".join(make(arms, published_dir)).strip("\n"))
    return text

