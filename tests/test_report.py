"""The report layer that needs no training: the one summary, the one verdict against the published intervals, the
one number/table format, and finding the published table."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from connectome_priors.benchmarks.evidence import _tables
from connectome_priors.benchmarks.report import _data, _format, _markdown, _verdict

NAN = math.nan


def _ours(mean, lo=NAN, hi=NAN, n_ok=3):
    return {"mean": mean, "lo": lo, "hi": hi, "n_ok": n_ok, "n": 3}


@pytest.mark.parametrize("ours, pub, task, metric, category", [
    (_ours(0.9), {"mean": 0.91, "ci95_lo": 0.84, "ci95_hi": 0.98}, "Task3", "Accuracy", "inside"),
    (_ours(0.5, 0.45, 0.55), {"mean": 0.91, "ci95_lo": 0.84, "ci95_hi": 0.98}, "Task3", "Accuracy", "outside"),
    (_ours(0.7, 0.4, 1.0), {"mean": 0.91, "ci95_lo": 0.84, "ci95_hi": 0.98}, "Task3", "Accuracy", "overlap"),
    (_ours(0.621, 0.61, 0.63), {"mean": 0.628, "ci95_lo": 0.626, "ci95_hi": 0.631}, "Task1", "Accuracy",
     "no-memory"),
    # the no-memory level is a property of accuracy only: the same numbers of a graph metric overlap
    (_ours(0.621, 0.61, 0.63), {"mean": 0.628, "ci95_lo": 0.626, "ci95_hi": 0.631}, "Task1", "Entropy", "overlap"),
    (_ours(NAN, n_ok=0), {"mean": 0.238, "ci95_lo": NAN, "ci95_hi": NAN}, "Task1", "Accuracy", "collapsed-both"),
    (_ours(NAN, n_ok=0), {"mean": 0.9, "ci95_lo": 0.8, "ci95_hi": 0.95}, "Task1", "Accuracy", "diverged"),
    (_ours(1.0), {"mean": 1.0, "ci95_lo": NAN, "ci95_hi": NAN}, "Task1", "Accuracy", "identical-same"),
    (_ours(0.98), {"mean": 1.0, "ci95_lo": NAN, "ci95_hi": NAN}, "Task1", "Accuracy", "identical-differ"),
    (_ours(0.9), None, "Task1", "Accuracy", "no-published"),
    (_ours(0.9), {"mean": NAN, "ci95_lo": NAN, "ci95_hi": NAN}, "Task1", "Accuracy", "no-published"),
])
def test_verdicts_against_published_intervals(ours, pub, task, metric, category):
    assert _verdict.classify(ours, pub, task=task, metric=metric) == category


def test_verdict_text_names_the_category_and_the_nan_network_accuracy():
    assert _verdict.verdict_text("inside") == "inside the published CI"
    assert _verdict.verdict_text("not-run") == "not run yet"
    assert _verdict.verdict_text("diverged", NAN) == "all our runs diverged"
    assert _verdict.verdict_text("diverged", 0.5).endswith("; NaN-network accuracy 0.500")


def _cells():
    """Our summary (3 seeds per cell) and the published table of three Task3 accuracy cells."""
    rng = np.random.default_rng(0)
    rows = [dict(variant=v, task="Task3", seed=s, metric=m, value=float(rng.normal(mu, 0.01)))
            for v, mu in (("W*D*C", 0.92), ("WD*C", 0.70), ("W", 0.5)) for s in range(3)
            for m in ("Accuracy", "Test_Accuracy")]
    summary = _data.summarize(pd.DataFrame(rows))
    published = pd.DataFrame([("none", "Accuracy", "Task3", "W*D*C", 0.91, 0.88, 0.95),
                              ("none", "Accuracy", "Task3", "WD*C", 0.95, 0.93, 0.97),
                              ("none", "Accuracy", "Task3", "W", 0.511, 0.510, 0.512)],
                             columns=["sign_constraint", "metric", "task", "variant", "mean", "ci95_lo", "ci95_hi"])
    return summary, published


def _verdicts(lines: list[str]) -> dict[str, str]:
    """variant -> verdict column of the markdown tables in ``lines``."""
    out, column = {}, None
    for line in lines:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells[0] == "variant":
            column = cells.index("verdict")
        elif line.startswith("| ") and column is not None:
            out[cells[0]] = cells[column]
    return out


def test_the_ablation_report_and_the_evidence_give_the_same_verdicts():
    summary, published = _cells()
    comp = _verdict.compare(summary, published, "free", metrics=("Accuracy",), tasks=("Task3",))
    report = _verdicts(_markdown.comparison_table(summary, published, "Accuracy", ["Task3"], ["W*D*C", "WD*C", "W"]))
    evidence = _verdicts(_tables.comparison_markdown(comp[comp["verdict"] != "not-run"]))
    assert report == evidence == {"W*D*C": "inside the published CI", "WD*C": "outside the published CI",
                                  "W": "both at the no-memory level"}


def test_every_report_takes_its_verdict_from_the_one_function(monkeypatch):
    """Replacing :func:`_verdict.classify` changes the ablation report's and the evidence's verdicts alike."""
    summary, published = _cells()
    monkeypatch.setattr(_verdict, "classify", lambda ours, pub, *, task, metric: "identical-differ")
    comp = _verdict.compare(summary, published, "free", metrics=("Accuracy",), tasks=("Task3",))
    report = _verdicts(_markdown.comparison_table(summary, published, "Accuracy", ["Task3"], ["W*D*C", "WD*C", "W"]))
    evidence = _verdicts(_tables.comparison_markdown(comp[comp["verdict"] != "not-run"]))
    assert set(report.values()) == set(evidence.values()) == {_verdict.CATEGORY_TEXT["identical-differ"]}


def test_the_report_summary_counts_runs_and_averages_finite_values():
    df = pd.DataFrame(dict(variant=["W"] * 4 + ["W*D*C"] * 2, task=["Task3"] * 4 + ["Task1"] * 2,
                           seed=[0, 1, 2, 3, 0, 1], metric="Accuracy", value=[0.5, NAN, 0.7, 0.6, NAN, NAN]))
    summary = _data.summarize(df)
    assert list(summary.columns) == ["task", "metric", "variant", "n", "n_ok", "mean", "sd", "lo", "hi", "all_equal",
                                     "learned", "learn_lo", "learn_hi", "note"]
    assert list(summary.task) == ["Task1", "Task3"]  # paper numbering first
    dead, w = summary.iloc[0], summary.iloc[1]
    assert (dead.n, dead.n_ok, dead.note) == (2, 0, "no finite value") and math.isnan(dead["mean"])
    assert (w.n, w.n_ok) == (4, 3) and w["mean"] == pytest.approx(0.6) and 0.5 <= w.lo < 0.6 < w.hi <= 0.7


def test_the_report_summary_orders_controls_after_the_eleven():
    frame = pd.DataFrame(dict(variant=["Wdiag-D*C", "W", "WD", "W*D*C"], task="Task3", seed=0, metric="Accuracy",
                              value=1.0))
    assert list(_data.summarize(frame).variant) == ["W*D*C", "WD", "W", "Wdiag-D*C"]


@pytest.mark.parametrize("call, text", [
    (lambda: _format.fmt(0.12345), "0.123"),
    (lambda: _format.fmt(np.float32("nan")), "–"),
    (lambda: _format.fmt(None), "–"),
    (lambda: _format.fmt(float("inf")), "–"),
    (lambda: _format.fmt_ci(0.5, NAN, 0.6), "0.500"),
    (lambda: _format.fmt_ci(0.5, 0.4, 0.6, digits=1), "0.5 [0.4, 0.6]"),
    (lambda: _format.fmt_interval(NAN, 0.6), "–"),
    (lambda: _format.fmt_p(0.0009), "9.00e-04"),
    (lambda: _format.fmt_p(0.001), "0.001"),
    (lambda: _format.fmt_p(None), "–"),
    (lambda: _format.fmt_cell(np.int64(7)), "7"),
    (lambda: _format.fmt_cell(np.float64(0.25)), "0.2500"),
])
def test_number_formats(call, text):
    assert call() == text


def test_markdown_table_formats_cells_and_keeps_text():
    frame = pd.DataFrame({"variant": ["W", "WD", "W*"], "p": [0.5, NAN, 0.25], "sig": ["YES", "no", "no"]})
    lines = _format.markdown_table(frame, {"v": "variant", "p": "p", "p (text)": lambda r: _format.fmt_p(r["p"])},
                                   max_rows=2)
    assert lines == ["| v | p | p (text) |", "|---|---|---|", "| W | 0.5000 | 0.5 |", "| WD | – | – |"]
    assert _format.markdown_table(frame)[0] == "| variant | p | sig |"


def test_published_path_resolution(tmp_path, monkeypatch):
    csv = tmp_path / "reported_results.csv"
    csv.write_text("arm,sign_constraint,metric,task,task_name,variant,mean,ci95_lo,ci95_hi\n"
                   "a,none,Accuracy,Task3,GoNoGo,W,0.5,0.4,0.6\n"
                   "a,nonneg,Accuracy,Task3,GoNoGo,W,0.499,,\n")
    monkeypatch.setenv("CONNECTOME_PRIORS_PAPER", str(tmp_path))  # a folder is accepted
    assert _data.resolve_published() == csv
    pub = _data.load_published(csv, "nonneg")
    assert len(pub) == 1 and math.isnan(pub.iloc[0]["ci95_lo"])
    monkeypatch.delenv("CONNECTOME_PRIORS_PAPER")
    monkeypatch.chdir(tmp_path)  # no ../shared/paper from here
    assert _data.resolve_published() is None
    with pytest.raises(FileNotFoundError, match="--published"):
        _data.resolve_published(tmp_path / "nope.csv")
