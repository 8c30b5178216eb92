"""The report's pieces that need no training: verdicts against the published intervals, finding the published table."""

from __future__ import annotations

import math

import pytest

from connectome_priors.benchmarks.report import _data, _markdown


def test_verdicts_against_published_intervals():
    pub = {"mean": 0.91, "ci95_lo": 0.84, "ci95_hi": 0.98}

    def ours(mean, lo=math.nan, hi=math.nan, n_ok=3):
        return {"mean": mean, "ci95_lo": lo, "ci95_hi": hi, "n_ok": n_ok, "n": 3}

    assert _markdown.verdict(ours(0.9), pub) == "inside published CI"
    assert _markdown.verdict(ours(0.5, 0.45, 0.55), pub) == "below published CI"
    assert _markdown.verdict(ours(0.7, 0.4, 1.0), pub) == "below published CI; the 95% CIs overlap"
    chance = {"mean": 0.628, "ci95_lo": 0.626, "ci95_hi": 0.631}
    assert _markdown.verdict(ours(0.621, 0.61, 0.63), chance, metric="Accuracy", task="Task1") == (
        "below published CI; both at the no-memory level 0.625")
    nan_pub = {"mean": 0.238, "ci95_lo": math.nan, "ci95_hi": math.nan}
    assert _markdown.verdict(ours(math.nan, n_ok=0), nan_pub) == "all runs diverged (published: all runs identical)"
    same = _markdown.verdict(ours(1.0), {"mean": 1.0, "ci95_lo": math.nan, "ci95_hi": math.nan})
    assert same.endswith("ours the same")


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
