"""``python -m connectome_priors claim``: the README's main job -- one of the paper's claims, tested one factor at
a time.

The paper credits the functional initialization from MICrONS calcium imaging with the gains of its full model
(``W*D*C``). The single-factor test of that claim is ``W*D*C`` against ``WD*C``: the same network, the same true
soma distances and the same communicability penalty, only the recurrent init differs (functional ``W*`` vs
orthogonal). Two controls then ask what in ``W*`` does the work: ``Wdiag-D*C`` (only its diagonal: an IRNN-like
self-recurrence) and ``W*nodiag-D*C`` (its off-diagonal functional structure only).

Go/NoGo on field 6_6_2 in the corrected (default) mode, :data:`DEFAULT_SEEDS` seeds, at :data:`PROTOCOL`: the
paper's batches, learning rate and penalty, but 2 of its 10 epochs -- on the full protocol every run that learns
Go/NoGo is at 1.0 from epoch 2, so the final accuracy cannot separate priors that learn; a short budget and the
learning curve can. The statistics are :mod:`connectome_priors.benchmarks._outcomes`: learned status (held-out
test accuracy at or above the task's threshold) with Wilson intervals and exact McNemar tests, learning speed as the
area under the training curve with exact sign-flip tests, each family Holm-corrected over the three comparisons,
and verdicts that claim no more than those tests show ("untestable with n seeds" where no outcome could be
significant; equivalence only through an interval inside a stated margin).

Layout of ``--out``: ``report.md`` (verdict paragraph, per-variant table, comparisons, protocol), ``claim.png``
(learning curves and per-seed accuracy), ``claim.json`` (every number) and ``ablation/`` (a complete ablation
folder: run store, netCDF, CSVs, full report). Rerunning resumes; ``--seeds`` more extends the same folder.
``--smoke`` is a pipeline check (a few steps, 2 seeds, seconds) whose verdict is marked as meaningless.

Example::

    python -m connectome_priors claim --out results/claim            # ~3 min on 2 CPU cores
    python -m connectome_priors claim --smoke --out /tmp/claim-smoke  # pipeline check
"""

from __future__ import annotations

import argparse
import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from connectome_priors._atomic import atomic_path, write_text
from connectome_priors._protocol import PAPER, Protocol
from connectome_priors.stats import LEARN_THRESHOLDS

from ._outcomes import summarize
from ._schema import NO_MEMORY_ACCURACY, AblationConfig
from .report._format import fmt, fmt_interval, table_head, table_row

CLAIM_TASK = "Task3"  # Go/NoGo, the paper's numbering
CLAIM_VARIANTS = ("W*D*C", "WD*C", "Wdiag-D*C", "W*nodiag-D*C")
#: (a, b): the claim (one factor: the init), then what of W* does the work
CLAIM_PAIRS = (("W*D*C", "WD*C"), ("Wdiag-D*C", "W*D*C"), ("W*nodiag-D*C", "W*D*C"))
DEFAULT_SEEDS = 10
NO_MEMORY = NO_MEMORY_ACCURACY[CLAIM_TASK]
LEARNED = LEARN_THRESHOLDS[CLAIM_TASK]
#: the paper's protocol cut to 2 epochs (80 Adam steps; see the module docstring), 512 validation and 1,024
#: held-out test trials per seed
PROTOCOL: Protocol = PAPER.replace(epochs=2, n_val=512, n_test=1024)
SMOKE_PROTOCOL: Protocol = PAPER.replace(epochs=1, n_train=256, n_val=128, n_test=128)
SMOKE_SEEDS = 2


def claim_config(*, seeds: int = DEFAULT_SEEDS, smoke: bool = False, field: str = "6_6_2",
                 data_dir: str | None = None) -> AblationConfig:
    """The ablation configuration of the claim: :data:`PROTOCOL` (or :data:`SMOKE_PROTOCOL`), Go/NoGo,
    :data:`CLAIM_VARIANTS`, corrected mode, free sign.

    Args:
        seeds: seeds ``0..seeds-1`` (ignored by ``smoke``, which runs :data:`SMOKE_SEEDS`).
        smoke: a pipeline check of a few training steps.
        field: the MICrONS field.
        data_dir: folder of field folders (None: ``$CONNECTOME_PRIORS_DATA`` or the embedded fields).

    Returns:
        The :class:`~connectome_priors.benchmarks._schema.AblationConfig`.

    Raises:
        ValueError: fewer than two seeds (no paired test).
    """
    if seeds < 2:
        raise ValueError(f"--seeds must be >= 2 for a paired test, got {seeds}")
    protocol = SMOKE_PROTOCOL if smoke else PROTOCOL
    if smoke:
        seeds = SMOKE_SEEDS
    return AblationConfig(field=field, seeds=tuple(range(seeds)), tasks=(CLAIM_TASK,),
                          variants=CLAIM_VARIANTS, sign="free", reference_compat=False,
                          data_dir=data_dir, quick=smoke, **protocol.to_dict())


def summarize_claim(runs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The claim's numbers: :func:`connectome_priors.benchmarks._outcomes.summarize` of :data:`CLAIM_VARIANTS` and
    :data:`CLAIM_PAIRS` on Go/NoGo.

    Args:
        runs: the claim's stored runs.

    Returns:
        The summary (per variant and per comparison).
    """
    return summarize(runs, CLAIM_TASK, CLAIM_VARIANTS, CLAIM_PAIRS)


# ------------------------------------------------------------------------------ words


def learn_text(v: Mapping[str, Any]) -> str:
    """``"k of n seeds learned (rate [Wilson 95% CI])"``, or that the variant has no runs."""
    learn = v.get("learn")
    if not learn:
        return "no finished runs"
    return (f"{learn['k']} of {learn['n']} seeds learned (rate {fmt(learn['rate'], 2)}, Wilson 95% CI "
            f"{fmt_interval(learn['lo'], learn['hi'], 2)})")


def interval_text(d: Mapping[str, Any], digits: int = 3) -> str:
    """A mean with its bootstrap interval, "all n equal" for identical values, "–" for none."""
    if not d.get("n") or not math.isfinite(d.get("mean", math.nan)):
        return "–"
    if d.get("all_equal"):
        return f"{fmt(d['mean'], digits)} (all {d['n']} equal)"
    if not math.isfinite(d.get("lo", math.nan)):
        return f"{fmt(d['mean'], digits)} (n = {d['n']})"
    return f"{fmt(d['mean'], digits)} {fmt_interval(d['lo'], d['hi'], digits)}"


def _comparison(summary: Mapping[str, Any], a: str, b: str) -> Mapping[str, Any]:
    return next(c for c in summary["comparisons"] if (c["a"], c["b"]) == (a, b))


def _esc(name: str) -> str:
    return name.replace("*", "\\*")


def verdict_paragraph(summary: Mapping[str, Any], *, smoke: bool = False, epochs: int | None = None) -> str:
    """The report's opening paragraph: what was tested, what was found, and no more than the tests show.

    Args:
        summary: :func:`summarize_claim`'s result.
        smoke: open with the warning that a smoke run says nothing about the claim.
        epochs: the training epochs (for the text).

    Returns:
        One markdown paragraph.
    """
    v = summary["variants"]
    main = _comparison(summary, "W*D*C", "WD*C")
    diag = _comparison(summary, "Wdiag-D*C", "W*D*C")
    nodiag = _comparison(summary, "W*nodiag-D*C", "W*D*C")
    budget = f"{epochs} epoch{'s' if epochs != 1 else ''} of training, " if epochs else ""
    text = [
        "**Claim tested**: the functional initialization from MICrONS calcium imaging (W\\*D\\*C) lets a rate "
        "RNN learn Go/NoGo where the same network with an orthogonal init (WD\\*C: same distances, same "
        "communicability penalty) does not -- one factor, the init.",
        f"**Found** ({main['n']} paired seeds, {budget}held-out test accuracy ≥ {summary['threshold']:g} counts "
        f"as learned): W\\*D\\*C {learn_text(v['W*D*C'])}; WD\\*C {learn_text(v['WD*C'])}.",
    ]
    lv = main["learned"]["verdict"]
    exact = (f"exact McNemar, Holm over {len(summary['comparisons'])} comparisons: p = "
             f"{fmt(main['learned']['p_holm'], 3)}")
    if lv == "W*D*C > WD*C":
        text.append(f"The claim **holds** on these seeds: W\\*D\\*C learns more often ({exact}).")
    elif lv == "W*D*C < WD*C":
        text.append(f"The claim is **contradicted**: WD\\*C learns more often ({exact}).")
    else:
        text.append(f"On learned status the test gives **{_esc(lv)}** ({exact}), so the claim is not shown by "
                    "these seeds.")
    parts = []
    for c, label in ((diag, "its diagonal alone (Wdiag-D\\*C)"), (nodiag, "its off-diagonal structure alone "
                                                                            "(W\\*nodiag-D\\*C)")):
        parts.append(f"{label} {learn_text(v[c['a']])} -- against W\\*D\\*C, learned status: "
                     f"*{_esc(c['learned']['verdict'])}*; learning speed (AUC): *{_esc(c['speed']['verdict'])}*")
    text.append("**What of W\\* does the work**: " + "; ".join(parts) + ".")
    diag_not_worse = diag["learned"]["verdict"] != "Wdiag-D*C < W*D*C"
    if nodiag["learned"]["verdict"] == "W*nodiag-D*C < W*D*C" and diag_not_worse:
        text.append("Removing the diagonal loses the benefit, and the diagonal alone is not shown to be worse: "
                    "these tests point to the init's identity-like self-recurrence rather than the measured "
                    "functional structure between neurons" + (
                        "." if "equivalent" in diag["learned"]["verdict"] else
                        " (equivalence of the diagonal alone in learn rate is not shown: it needs a learn-rate "
                        f"interval inside ±{summary['margins']['learned']:g}, i.e. more seeds)."))
    if smoke:
        text.insert(0, "**SMOKE RUN: a few training steps only -- this verdict checks the pipeline and "
                       "says nothing about the claim.**")
    return " ".join(text)


# ------------------------------------------------------------------------------ report


def plot_claim(summary: Mapping[str, Any], runs: Sequence[Mapping[str, Any]], path: Path) -> Path:
    """Left: each seed's training curve per variant; right: per-seed held-out accuracy, seeds joined.

    Args:
        summary: :func:`summarize_claim`'s result.
        runs: the claim's stored runs (their learning curves).
        path: the PNG.

    Returns:
        ``path``.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(9.0, 3.4), dpi=120)
    for i, v in enumerate(CLAIM_VARIANTS):
        for r in runs:
            curve = r.get("curve") or {}
            if r.get("variant") == v and r.get("task") == CLAIM_TASK and curve.get("train_acc"):
                acc = [np.nan if a is None else a for a in curve["train_acc"]]
                left.plot(curve["step"], acc, color=f"C{i}", lw=0.7, alpha=0.5,
                          label=v if r is next(q for q in runs if q.get("variant") == v) else None)
    left.axhline(NO_MEMORY, ls="--", color="k", lw=0.8)
    left.set_xlabel("optimizer step")
    left.set_ylabel("training accuracy (block mean)")
    left.set_title("learning curves, one line per seed", fontsize=8)
    left.legend(fontsize=7, loc="lower right")
    per = {v: summary["variants"][v]["per_seed"] for v in CLAIM_VARIANTS}
    seeds = sorted(set().union(*[set(p) for p in per.values()]))
    for s in seeds:
        xs = [i for i, v in enumerate(CLAIM_VARIANTS) if s in per[v]]
        right.plot(xs, [per[CLAIM_VARIANTS[i]][s] for i in xs], "-o", color="0.6", lw=0.8, ms=4, zorder=1)
    right.axhline(NO_MEMORY, ls="--", color="k", lw=0.8, label="no memory (chance)")
    right.axhline(LEARNED, ls=":", color="C3", lw=0.8, label=f"learned (≥ {LEARNED:g})")
    right.set_xticks(range(len(CLAIM_VARIANTS)), CLAIM_VARIANTS, fontsize=7)
    right.set_ylim(0.4, 1.05)
    right.set_ylabel("Go/NoGo held-out test accuracy")
    right.set_title("per seed (grey lines join a seed's variants)", fontsize=8)
    right.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        fig.savefig(tmp)
    plt.close(fig)
    return path


def _json_default(o: Any) -> Any:
    return o.item() if isinstance(o, np.generic) else str(o)


def write_claim_report(out: str | os.PathLike, *, smoke: bool = False) -> Path:
    """Write ``report.md``, ``claim.png`` and ``claim.json`` of a claim folder from its run store.

    Args:
        out: the claim folder (its run store is ``<out>/ablation``).
        smoke: the runs are a smoke run.

    Returns:
        The path of ``report.md``.

    Raises:
        FileNotFoundError: ``<out>/ablation/config.json`` is missing.
    """
    from ._run_store import RUN_STORE
    from ._variants import CONTROL_DESCRIPTIONS

    out = Path(out)
    ablation = out / "ablation"
    config = json.loads((ablation / "config.json").read_text())
    runs = RUN_STORE.load(ablation)
    summary = summarize_claim(runs)
    plot_claim(summary, runs, out / "claim.png")
    write_text(out / "claim.json", json.dumps({"config": config, "summary": summary}, indent=1,
                                                 default=_json_default))
    lines = ["# Does the measured functional init help a rate RNN remember? (Go/NoGo, field 6_6_2)\n",
             verdict_paragraph(summary, smoke=smoke, epochs=config["epochs"]), "",
             "![learning curves and per-seed accuracy](claim.png)\n",
             "## Per variant\n",
             *table_head(["variant", "init", f"learned (test accuracy ≥ {LEARNED:g}): k/n [Wilson 95% CI]",
                          "test accuracy of the runs that learned [bootstrap 95% CI]",
                          "learning-curve AUC [bootstrap 95% CI]", "steps to criterion: median (reached / censored)",
                          "test accuracy per seed"])]
    inits = {"W*D*C": "functional W* (MICrONS, Eq. 7), true distances, communicability penalty",
             "WD*C": "orthogonal; true distances, communicability penalty",
             **{k: CONTROL_DESCRIPTIONS[k] for k in ("Wdiag-D*C", "W*nodiag-D*C")}}
    for v in CLAIM_VARIANTS:
        st = summary["variants"][v]
        learn = st["learn"]
        crit = st["criterion"]
        lines.append(table_row([
            v, inits[v],
            "–" if not learn else f"{learn['k']}/{learn['n']} {fmt_interval(learn['lo'], learn['hi'], 2)}",
            interval_text(st["acc_learned"]), interval_text(st["auc"]),
            f"{fmt(crit['median'], 0) if math.isfinite(crit['median']) else '–'} ({crit['reached']} / "
            f"{crit['censored']})",
            ", ".join(fmt(st["per_seed"][s]) for s in sorted(st["per_seed"]))]))
    margins = summary["margins"]
    lines += ["", "## Seed-paired comparisons\n",
              f"Two families of {len(summary['comparisons'])} tests, each Holm-corrected: learned status (exact "
              f"McNemar; equivalence margin ±{margins['learned']:g} in learn rate) and learning speed (exact "
              f"sign-flip test of the paired AUC difference; margin ±{margins['auc']:g}, equivalence also needing the "
              "exact two one-sided sign-flip tests, TOST p < 0.05). \"untestable with n "
              "seeds\": even the most extreme outcome of these seeds could not reach p < 0.05 after Holm.\n",
              *table_head(["a vs b", "seeds", "learned: a only / b only", "learned: Holm p (smallest possible)",
                           "learned: a − b [Tango 95% CI]", "learned: verdict", "AUC: a − b [bootstrap 95% CI]",
                           "AUC: Holm p (smallest possible)", "AUC: TOST p", "AUC: verdict"])]
    for c in summary["comparisons"]:
        le, sp = c["learned"], c["speed"]
        lines.append(table_row([
            f"{c['a']} vs {c['b']}", c["n"], f"{le['a_only']} / {le['b_only']}",
            f"{fmt(le['p_holm'], 3)} ({fmt(le['min_p_holm'], 3)})", interval_text(le["diff"], 2), le["verdict"],
            interval_text(sp["diff"]), f"{fmt(sp['p_holm'], 3)} ({fmt(sp['min_p_holm'], 3)})",
            fmt(sp.get("tost_p"), 4), sp["verdict"]]))
    steps = config["epochs"] * (config["n_train"] // config["batch_size"])
    lines += ["", "## Protocol\n",
              f"- Field {config['field']}, task Go/NoGo, {config['epochs']} epochs of {config['n_train']} "
              f"trials in batches of {config['batch_size']} ({steps} Adam steps, lr {config['lr']}), "
              f"λ = {config['lam']}; {config['n_val']} validation and {config['n_test']} held-out test trials per "
              "seed; corrected (default) mode, sign free. The paper trains 10 epochs; every run that learns "
              "Go/NoGo is at 1.0 from epoch 2 there, so this shorter budget is where priors can differ.",
              "- Seed s draws the training, validation and test trials and the initialization; all variants "
              "of a seed see the same trials, hence the paired tests.",
              f"- Learning curve: the training accuracy averaged over blocks of 5 Adam steps; AUC = its area over "
              f"the {steps} steps divided by their span (in [0, 1]); steps to criterion = the first block at or "
              f"above {LEARNED:g}.",
              "- Full ablation report of these runs (training accuracy, graph metrics): "
              "[ablation/report.md](ablation/report.md). Config hash "
              f"`{config.get('config_hash')}`."]
    path = out / "report.md"
    write_text(path, "\n".join(lines) + "\n")
    return path


# ------------------------------------------------------------------------------ CLI


def build_parser() -> argparse.ArgumentParser:
    """The ``claim`` command's argument parser."""
    p = argparse.ArgumentParser(
        prog="python -m connectome_priors claim",
        description="Test the paper's claim one factor at a time (functional init W*D*C vs orthogonal WD*C on "
                    "Go/NoGo, with the diagonal-only and no-diagonal controls), with exact seed-paired tests, and "
                    "write a report that opens with a verdict. Rerunning resumes.")
    p.add_argument("--out", default="results/claim", help="output folder (default results/claim)")
    p.add_argument("--seeds", type=int, default=DEFAULT_SEEDS, help=f"seeds 0..k-1 (default {DEFAULT_SEEDS})")
    p.add_argument("--smoke", action="store_true",
                   help=f"pipeline check: {SMOKE_SEEDS} seeds, {SMOKE_PROTOCOL.epochs} epoch of "
                        f"{SMOKE_PROTOCOL.n_train} trials (seconds); the verdict is marked meaningless")
    p.add_argument("--data-dir", default=None, help="folder of MICrONS field folders (default: "
                                                    "$CONNECTOME_PRIORS_DATA, else the embedded 6_6_2)")
    p.add_argument("--published", default=None, help="the paper's reported_results.csv (ablation report)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m connectome_priors claim``: train (or resume) the claim's runs and write its report.

    Args:
        argv: the arguments after ``claim`` (default ``sys.argv[1:]``).

    Returns:
        The exit status (0 done; an interrupted or failed run's status otherwise).
    """
    args = build_parser().parse_args(argv)
    try:
        config = claim_config(seeds=args.seeds, smoke=args.smoke, data_dir=args.data_dir)
    except ValueError as exc:
        build_parser().error(str(exc))
    from ._ablation import run_ablation
    from ._cli import run_interruptible

    out = Path(args.out)
    n = len(config.variants) * len(config.seeds)
    print(f"claim: Go/NoGo on field {config.field}, {', '.join(config.variants)} x {len(config.seeds)} seeds "
          f"= {n} runs, {config.epochs} epochs x {config.n_train // config.batch_size} steps"
          f"{' (SMOKE)' if args.smoke else ''} -> {out}", flush=True)
    status, _ = run_interruptible(lambda: run_ablation(config, out / "ablation", progress=not args.no_progress,
                                                       report=True, published=args.published), out)
    if status is not None:
        return status
    path = write_claim_report(out, smoke=args.smoke)
    print(f"report: {path}")
    return 0
