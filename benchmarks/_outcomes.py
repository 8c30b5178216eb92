"""Outcomes of seed-paired runs: learned status, learning speed and exact tests of a few variants on one task.

JAX-free; reads stored runs (the run store's records). Per variant (held-out test accuracy decides "learned", at
:data:`connectome_priors.stats.LEARN_THRESHOLDS`):

* learn rate ``k / n`` with a Wilson 95 % interval;
* accuracy of the runs that learned, and the area under the training curve (AUC, in [0, 1]), each with a
  percentile-bootstrap 95 % interval (never outside [0, 1]; "all n equal" instead of a zero-width interval);
* steps to criterion: the first optimizer step whose training-curve block reaches the threshold (runs that never
  reach it are counted as censored, not averaged).

Per comparison ``a`` vs ``b`` (seed-paired: every variant of a seed sees the same trials), two families, each
Holm-corrected over its comparisons:

* learned status: exact McNemar test; Tango's paired score interval of the learn-rate difference
  (:func:`connectome_priors.stats.learn_rate_difference`: it keeps a width when every seed agrees);
* learning speed: exact sign-flip test of the paired AUC difference, with its paired bootstrap interval and, for
  equivalence, the exact two one-sided sign-flip tests (:func:`connectome_priors.stats.sign_flip_tost`);

and one verdict each from :data:`connectome_priors.stats.VERDICTS`: ``a > b``, ``a < b``, "equivalent within
±margin" (the whole interval inside the margin; for speed also the exact TOST p < 0.05), "untestable with n seeds"
(even the most extreme outcome could not reach p < 0.05 after Holm) or "no difference shown (p = ...)".

Example::

    >>> runs = [{"task": "Task3", "variant": v, "seed": s, "metrics": {"Test_Accuracy": acc},
    ...          "curve": {"step": [5, 10], "train_acc": [acc, acc]}}
    ...         for s in range(8) for v, acc in (("A", 1.0), ("B", 0.5))]
    >>> out = summarize(runs, "Task3", ("A", "B"), (("A", "B"),))
    >>> out["variants"]["A"]["learn"]["k"], out["comparisons"][0]["learned"]["verdict"]
    (8, 'A > B')
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from connectome_priors.stats import (
    LEARN_THRESHOLDS,
    bounded_mean_interval,
    curve_auc,
    equivalence,
    holm,
    learn_rate,
    learn_rate_difference,
    learned,
    mcnemar_exact,
    paired_difference_interval,
    sign_flip_test,
    sign_flip_tost,
    steps_to_criterion,
    verdict,
)

#: equivalence margins: of a learn rate (fraction of seeds) and of the learning-curve AUC (accuracy x training)
LEARNED_MARGIN = 0.10
AUC_MARGIN = 0.05
ALPHA = 0.05


def _per_seed(runs: Sequence[Mapping[str, Any]], task: str) -> dict[str, dict[int, Mapping[str, Any]]]:
    """``{variant: {seed: run}}`` of ``task``'s runs that have a finite held-out test accuracy."""
    out: dict[str, dict[int, Mapping[str, Any]]] = {}
    for r in runs:
        acc = (r.get("metrics") or {}).get("Test_Accuracy")
        if r.get("task") == task and acc is not None and math.isfinite(acc):
            out.setdefault(r["variant"], {})[int(r["seed"])] = r
    return out


def has_curve(run: Mapping[str, Any]) -> bool:
    """Whether a run (store JSON or committed record) carries a learning curve; runs made before curves were
    recorded do not.

    Args:
        run: the run.

    Returns:
        True when its ``curve`` holds at least one training-accuracy point.
    """
    return bool((run.get("curve") or {}).get("train_acc"))


def _auc(run: Mapping[str, Any]) -> float:
    curve = run.get("curve") or {}
    acc = np.array([np.nan if v is None else v for v in curve.get("train_acc", [])], float)
    if acc.size < 2 or not np.all(np.isfinite(acc)):
        return math.nan
    return float(curve_auc(acc, curve["step"]))


def _criterion(run: Mapping[str, Any], threshold: float) -> tuple[float, bool] | None:
    """``(step, censored)``; None for a run without a learning curve (unknown, not censored)."""
    curve = run.get("curve") or {}
    acc = np.array([np.nan if v is None else v for v in curve.get("train_acc", [])], float)
    if acc.size == 0:
        return None
    step, censored = steps_to_criterion(np.nan_to_num(acc, nan=0.0), curve["step"], threshold)
    return float(step), bool(censored)


def _interval(values: Sequence[float]) -> dict[str, Any]:
    r = bounded_mean_interval([v for v in values if math.isfinite(v)], 0.0, 1.0)
    return {"mean": r.mean, "lo": r.lo, "hi": r.hi, "n": r.n, "all_equal": r.all_equal}


def variant_summary(by_seed: Mapping[int, Mapping[str, Any]], task: str) -> dict[str, Any]:
    """One variant's learn rate, accuracy when learned, AUC and steps to criterion.

    Args:
        by_seed: ``{seed: run}`` of the variant.
        task: the task (its learn threshold).

    Returns:
        ``n``, ``learn`` (k, n, rate, lo, hi: Wilson), ``acc_learned`` and ``auc`` (mean, lo, hi, n, all_equal),
        ``criterion`` (median step over the runs that reached it, how many reached it, how many were censored:
        runs without a learning curve are in neither count),
        ``per_seed`` (test accuracy) and ``learned_seeds``.
    """
    seeds = sorted(by_seed)
    acc = np.array([by_seed[s]["metrics"]["Test_Accuracy"] for s in seeds], float)
    flags = learned(acc, task)
    n = len(seeds)
    rate = learn_rate(int(flags.sum()), n) if n else None
    crit = [c for c in (_criterion(by_seed[s], LEARN_THRESHOLDS[task]) for s in seeds) if c is not None]
    reached = [c for c, cens in crit if not cens and math.isfinite(c)]
    return {
        "n": n,
        "learn": None if rate is None else {"k": rate.k, "n": rate.n, "rate": rate.rate, "lo": rate.lo,
                                            "hi": rate.hi, "method": rate.method},
        "acc_learned": _interval(acc[flags].tolist()),
        "auc": _interval([_auc(by_seed[s]) for s in seeds]),
        "criterion": {"median": float(np.median(reached)) if reached else math.nan, "reached": len(reached),
                      "censored": len(crit) - len(reached)},
        "per_seed": {int(s): float(a) for s, a in zip(seeds, acc)},
        "learned_seeds": [int(s) for s, f in zip(seeds, flags) if f],
    }


def _compare(a_runs: Mapping[int, Mapping[str, Any]], b_runs: Mapping[int, Mapping[str, Any]],
             task: str) -> dict[str, Any]:
    seeds = sorted(set(a_runs) & set(b_runs))
    acc_a = np.array([a_runs[s]["metrics"]["Test_Accuracy"] for s in seeds], float)
    acc_b = np.array([b_runs[s]["metrics"]["Test_Accuracy"] for s in seeds], float)
    la, lb = learned(acc_a, task), learned(acc_b, task)
    mc = mcnemar_exact(la, lb) if seeds else None
    auc_pairs = [(x, y) for x, y in ((_auc(a_runs[s]), _auc(b_runs[s])) for s in seeds)
                 if math.isfinite(x) and math.isfinite(y)]
    au, bu = (np.array(v, float) for v in zip(*auc_pairs)) if auc_pairs else (np.array([]), np.array([]))
    flip = sign_flip_test(au - bu) if auc_pairs else None
    return {
        "seeds": seeds, "n": len(seeds),
        "learned": {"a_only": mc.a_only if mc else 0, "b_only": mc.b_only if mc else 0,
                    "p": mc.p if mc else math.nan, "min_p": mc.min_p if mc else 1.0,
                    "diff": _learned_diff(la, lb)},
        "speed": {"n": len(auc_pairs), "p": flip.p if flip else math.nan, "min_p": flip.min_p if flip else 1.0,
                  "method": flip.method if flip else "", "diff": _paired(au, bu), "differences": au - bu},
    }


def _learned_diff(la: np.ndarray, lb: np.ndarray) -> dict[str, Any]:
    r = learn_rate_difference(la, lb)
    return {"mean": r.mean, "lo": r.lo, "hi": r.hi, "n": r.n, "all_equal": r.all_equal}


def _paired(a: np.ndarray, b: np.ndarray) -> dict[str, Any]:
    if a.size == 0:
        return {"mean": math.nan, "lo": math.nan, "hi": math.nan, "n": 0, "all_equal": False, "sd": math.nan}
    r = paired_difference_interval(a, b, 0.0, 1.0)
    sd = float(np.std(a - b, ddof=1)) if a.size > 1 else math.nan  # for a meta-analysis across fields
    return {"mean": r.mean, "lo": r.lo, "hi": r.hi, "n": r.n, "all_equal": r.all_equal, "sd": sd}


def _holm_verdicts(comparisons: list[dict[str, Any]], family: str, margin: float) -> None:
    """Holm over one family (``learned`` or ``speed``) of ``comparisons``.

    Adds ``p_holm``, ``min_p_holm`` and ``verdict`` to each entry of that family.
    """
    entries = [c[family] for c in comparisons]
    ps = np.array([e["p"] if math.isfinite(e["p"]) else 1.0 for e in entries])
    p_holm = holm(ps) if len(ps) else ps
    min_holm = holm(np.array([e["min_p"] for e in entries])) if len(ps) else ps
    for c, e, p, mp in zip(comparisons, entries, p_holm, min_holm):
        d = e["diff"]
        n = e.get("n", c["n"])
        e["p_holm"], e["min_p_holm"] = float(p), float(mp)
        # speed: equivalence needs the exact TOST too (a bootstrap interval of few seeds can be too narrow)
        diffs = e.pop("differences", None)
        tost = (sign_flip_tost(diffs, margin) if diffs is not None and diffs.size
                and equivalence(d["lo"], d["hi"], margin) else None)
        e["tost_p"] = tost
        e["verdict"] = verdict(float(p), float(mp), (d["lo"], d["hi"]), margin, difference=d["mean"], n=n,
                               alpha=ALPHA, all_equal=bool(d["all_equal"]), a=c["a"], b=c["b"], tost_p=tost) \
            if n else f"untestable with {n} seeds"


def summarize(runs: Sequence[Mapping[str, Any]], task: str, variants: Sequence[str],
              pairs: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """Every variant's summary and every pair's tests and verdicts (module docstring).

    Args:
        runs: stored runs (records of the run store).
        task: the task whose runs are read.
        variants: the variants to summarise, in order.
        pairs: ``(a, b)`` comparisons; each family of tests (learned status, learning speed) is Holm-corrected over
            all of them.

    Returns:
        ``{"task", "variants": {v: variant_summary}, "comparisons": [{a, b, n, seeds, learned: {...}, speed:
        {...}}], "margins": {...}, "alpha"}``.
    """
    by = _per_seed(runs, task)
    comparisons = []
    for a, b in pairs:
        c = _compare(by.get(a, {}), by.get(b, {}), task)
        comparisons.append({"a": a, "b": b, **c})
    _holm_verdicts(comparisons, "learned", LEARNED_MARGIN)
    _holm_verdicts(comparisons, "speed", AUC_MARGIN)
    return {"task": task, "threshold": LEARN_THRESHOLDS[task],
            "variants": {v: variant_summary(by.get(v, {}), task) for v in variants},
            "comparisons": comparisons, "margins": {"learned": LEARNED_MARGIN, "auc": AUC_MARGIN}, "alpha": ALPHA}


# ------------------------------------------------------------------------------ flat tables (reports, CSVs)

#: columns of :func:`outcome_table`
OUTCOME_COLUMNS: tuple[str, ...] = (
    "task", "variant", "threshold", "n", "learned", "learn_rate", "learn_lo", "learn_hi",
    "acc_learned", "acc_learned_lo", "acc_learned_hi", "acc_learned_all_equal",
    "auc_n", "auc", "auc_lo", "auc_hi", "auc_all_equal", "criterion_median", "criterion_reached", "criterion_censored",
)
#: columns of :func:`outcome_tests`
OUTCOME_TEST_COLUMNS: tuple[str, ...] = (
    "task", "a", "b", "n", "a_only", "b_only", "learned_diff", "learned_lo", "learned_hi", "learned_all_equal",
    "p_mcnemar", "p_mcnemar_holm", "min_p_mcnemar_holm", "learned_verdict",
    "auc_n", "auc_diff", "auc_lo", "auc_hi", "auc_sd", "auc_all_equal", "p_sign_flip", "p_sign_flip_holm",
    "min_p_sign_flip_holm", "p_tost", "speed_verdict",
)


def outcome_table(runs: Sequence[Mapping[str, Any]], tasks: Sequence[str], variants: Sequence[str]):
    """Per task and variant: learn rate (Wilson), accuracy when learned, AUC and steps to criterion, one row each.

    Variants without a finished run on a task are left out.

    Args:
        runs: stored runs (records).
        tasks: the tasks, in order.
        variants: the variants, in order.

    Returns:
        A DataFrame with :data:`OUTCOME_COLUMNS`.

    Example::

        >>> runs = [{"task": "Task3", "variant": "A", "seed": s, "metrics": {"Test_Accuracy": 1.0 - 0.5 * (s % 2)}}
        ...         for s in range(4)]
        >>> row = outcome_table(runs, ["Task3"], ["A", "B"]).iloc[0]
        >>> row.variant, int(row.learned), int(row.n), float(row.acc_learned), bool(row.acc_learned_all_equal)
        ('A', 2, 4, 1.0, True)
    """
    import pandas as pd

    rows = []
    for task in tasks:
        by = _per_seed(runs, task)
        for v in variants:
            if v not in by:
                continue
            s = variant_summary(by[v], task)
            learn, acc, auc, crit = s["learn"], s["acc_learned"], s["auc"], s["criterion"]
            rows.append(dict(
                task=task, variant=v, threshold=LEARN_THRESHOLDS[task], n=s["n"], learned=learn["k"],
                learn_rate=learn["rate"], learn_lo=learn["lo"], learn_hi=learn["hi"],
                acc_learned=acc["mean"], acc_learned_lo=acc["lo"], acc_learned_hi=acc["hi"],
                acc_learned_all_equal=acc["all_equal"], auc_n=auc["n"], auc=auc["mean"], auc_lo=auc["lo"],
                auc_hi=auc["hi"], auc_all_equal=auc["all_equal"], criterion_median=crit["median"],
                criterion_reached=crit["reached"], criterion_censored=crit["censored"]))
    return pd.DataFrame(rows, columns=list(OUTCOME_COLUMNS))


def outcome_tests(runs: Sequence[Mapping[str, Any]], tasks: Sequence[str], pairs: Sequence[tuple[str, str]]):
    """Per task and pair: exact McNemar on learned status and the exact sign-flip test of the paired AUC, each
    Holm-corrected over the pairs of the task (pairs with a variant absent from the task are left out first).

    Args:
        runs: stored runs (records).
        tasks: the tasks, in order.
        pairs: the ``(a, b)`` comparisons, in order.

    Returns:
        A DataFrame with :data:`OUTCOME_TEST_COLUMNS`.
    """
    import pandas as pd

    rows = []
    for task in tasks:
        by = _per_seed(runs, task)
        present = [(a, b) for a, b in pairs if a in by and b in by]
        if not present:
            continue
        for c in summarize(runs, task, (), present)["comparisons"]:
            lrn, spd = c["learned"], c["speed"]
            rows.append(dict(
                task=task, a=c["a"], b=c["b"], n=c["n"], a_only=lrn["a_only"], b_only=lrn["b_only"],
                learned_diff=lrn["diff"]["mean"], learned_lo=lrn["diff"]["lo"], learned_hi=lrn["diff"]["hi"],
                learned_all_equal=lrn["diff"]["all_equal"], p_mcnemar=lrn["p"], p_mcnemar_holm=lrn["p_holm"],
                min_p_mcnemar_holm=lrn["min_p_holm"], learned_verdict=lrn["verdict"], auc_n=spd["n"],
                auc_diff=spd["diff"]["mean"], auc_lo=spd["diff"]["lo"], auc_hi=spd["diff"]["hi"],
                auc_sd=spd["diff"]["sd"],
                auc_all_equal=spd["diff"]["all_equal"], p_sign_flip=spd["p"], p_sign_flip_holm=spd["p_holm"],
                min_p_sign_flip_holm=spd["min_p_holm"],
                p_tost=math.nan if spd.get("tost_p") is None else spd["tost_p"], speed_verdict=spd["verdict"]))
    return pd.DataFrame(rows, columns=list(OUTCOME_TEST_COLUMNS))
