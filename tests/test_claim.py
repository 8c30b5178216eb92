"""The README's main job (``python -m connectome_priors claim``): its statistics, verdicts and pipeline."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportion_confint

from connectome_priors.benchmarks import _claim, _outcomes


def _runs(per_variant: dict[str, list[float]], curves: dict[str, list[list[float]]] | None = None) -> list[dict]:
    out = []
    for v, accs in per_variant.items():
        for s, a in enumerate(accs):
            curve = (curves or {}).get(v, [[a, a]] * len(accs))[s]
            out.append({"task": "Task3", "variant": v, "seed": s, "metrics": {"Test_Accuracy": a},
                        "curve": {"step": list(range(5, 5 * len(curve) + 1, 5)), "train_acc": curve}})
    return out


LEARN, CHANCE = 1.0, 0.5


def test_learn_rates_and_exact_mcnemar_against_independent_oracles():
    a = [LEARN] * 9 + [CHANCE]  # 9 of 10 learned
    b = [CHANCE] * 8 + [LEARN, LEARN]  # 2 of 10: seed 8 (both learned) and seed 9 (b only)
    out = _outcomes.summarize(_runs({"A": a, "B": b}), "Task3", ("A", "B"), (("A", "B"),))
    learn = out["variants"]["A"]["learn"]
    lo, hi = proportion_confint(9, 10, method="wilson")
    assert (learn["k"], learn["n"]) == (9, 10) and learn["lo"] == pytest.approx(lo) and learn["hi"] == pytest.approx(hi)
    c = out["comparisons"][0]["learned"]
    # discordant pairs: seeds 0-7 a only (8), seed 9 b only (1)
    assert (c["a_only"], c["b_only"]) == (8, 1)
    assert c["p"] == pytest.approx(stats.binomtest(1, 9, 0.5).pvalue)
    assert c["min_p"] == pytest.approx(2 * 0.5**10)
    assert c["verdict"] == "A > B"  # a single test: no Holm factor


def test_holm_over_the_family_and_untestable_with_few_seeds():
    four = {"A": [LEARN] * 4, "B": [CHANCE] * 4, "C": [CHANCE] * 4, "D": [CHANCE] * 4}
    out = _outcomes.summarize(_runs(four), "Task3", tuple(four), (("A", "B"), ("C", "A"), ("D", "A")))
    for c in out["comparisons"]:  # 4 seeds: the smallest exact p is 2/16 = 0.125 > 0.05, whatever the data
        assert c["learned"]["min_p"] == pytest.approx(0.125)
        assert c["learned"]["verdict"] == "untestable with 4 seeds"
    ten = {k: v * 2 + v[:2] for k, v in four.items()}  # 10 seeds, the same pattern
    out = _outcomes.summarize(_runs(ten), "Task3", tuple(ten), (("A", "B"), ("C", "A"), ("D", "A")))
    ps = [stats.binomtest(0, 10, 0.5).pvalue] * 3
    holm = multipletests(ps, method="holm")[1]
    assert [c["learned"]["p_holm"] for c in out["comparisons"]] == pytest.approx(list(holm))
    assert [c["learned"]["verdict"] for c in out["comparisons"]] == ["A > B", "C < A", "D < A"]


@pytest.mark.parametrize("n, verdict", [(10, "no difference shown (p = 1)"), (40, "equivalent within ±0.1")])
def test_identical_outcomes_are_equivalent_only_when_the_seeds_are_enough(n, verdict):
    """Both variants learn on every seed: 10 such seeds leave the learn rates' difference within about ±0.28
    (Tango), too wide for the ±0.10 margin; 40 seeds narrow it to about ±0.09."""
    same = {"A": [LEARN] * n, "B": [LEARN] * n}
    c = _outcomes.summarize(_runs(same), "Task3", ("A", "B"), (("A", "B"),))["comparisons"][0]
    d = c["learned"]["diff"]
    assert d["mean"] == 0.0 and -1 < d["lo"] < 0 < d["hi"] < 1 and c["learned"]["verdict"] == verdict


def test_learning_speed_sign_flip_and_auc_in_range():
    slow = [[0.5, 0.5, 0.5, 1.0]] * 10
    fast = [[0.5, 1.0, 1.0, 1.0]] * 10
    runs = _runs({"F": [LEARN] * 10, "S": [LEARN] * 10}, {"F": fast, "S": slow})
    out = _outcomes.summarize(runs, "Task3", ("F", "S"), (("F", "S"),))
    f_auc = out["variants"]["F"]["auc"]
    expected = np.trapezoid([0.5, 1.0, 1.0, 1.0], [5, 10, 15, 20]) / 15
    assert f_auc["mean"] == pytest.approx(expected) and f_auc["all_equal"]
    sp = out["comparisons"][0]["speed"]
    assert sp["p"] == pytest.approx(2 / 2**10) and sp["verdict"] == "F > S"
    assert out["variants"]["F"]["criterion"] == {"median": 10.0, "reached": 10, "censored": 0}
    for v in ("F", "S"):
        st = out["variants"][v]
        for key in ("auc", "acc_learned"):
            assert 0.0 <= st[key]["mean"] <= 1.0


def test_bimodal_accuracy_intervals_stay_inside_zero_one():
    acc = [1.0, 1.0, 1.0, 0.5, 1.0, 0.5, 1.0, 1.0]
    out = _outcomes.summarize(_runs({"A": acc, "B": [0.5] * 8}), "Task3", ("A", "B"), (("A", "B"),))
    d = out["comparisons"][0]["learned"]["diff"]
    assert -1.0 <= d["lo"] <= d["mean"] <= d["hi"] <= 1.0
    learn = out["variants"]["A"]["learn"]
    assert 0.0 <= learn["lo"] < learn["rate"] < learn["hi"] <= 1.0


def _summary(a, b, diag, nodiag):
    runs = _runs({"W*D*C": a, "WD*C": b, "Wdiag-D*C": diag, "W*nodiag-D*C": nodiag})
    return _claim.summarize_claim(runs)


def test_verdict_claims_no_more_than_the_tests_show():
    ten_learn, ten_chance = [LEARN] * 10, [CHANCE] * 10
    text = _claim.verdict_paragraph(_summary(ten_learn, ten_chance, ten_learn, ten_chance))
    assert "The claim **holds**" in text
    assert "identity-like self-recurrence" in text
    assert "equivalence of the diagonal alone in learn rate is not shown" in text
    four = _claim.verdict_paragraph(_summary([LEARN] * 4, [CHANCE] * 4, [LEARN] * 4, [CHANCE] * 4))
    assert "untestable with 4 seeds" in four and "holds" not in four and "self-recurrence" not in four
    assert "equivalent" not in four
    assert _claim.verdict_paragraph(_summary(ten_learn, ten_chance, ten_learn, ten_chance),
                                    smoke=True).startswith("**SMOKE RUN")


def test_verdict_of_a_variant_without_runs_shows_no_nan():
    runs = _runs({"W*D*C": [LEARN] * 3, "WD*C": [CHANCE] * 3})
    text = _claim.verdict_paragraph(_claim.summarize_claim(runs))
    assert "nan" not in text.lower() and "no finished runs" in text


def test_claim_config_is_the_short_protocol_and_rejects_one_seed():
    from connectome_priors._protocol import PAPER

    cfg = _claim.claim_config()
    assert cfg.protocol == PAPER.replace(epochs=2, n_val=512, n_test=1024) == _claim.PROTOCOL
    assert cfg.tasks == ("Task3",) and cfg.variants == _claim.CLAIM_VARIANTS
    assert not cfg.reference_compat and len(cfg.seeds) == _claim.DEFAULT_SEEDS
    # one factor apart: the claim's pair differs in the init only
    from connectome_priors.stats import Variant

    a, b = (Variant.from_name(v) for v in _claim.CLAIM_PAIRS[0])
    assert (a.distance, a.penalty) == (b.distance, b.penalty) and a.init != b.init
    smoke = _claim.claim_config(smoke=True)
    assert smoke.protocol == _claim.SMOKE_PROTOCOL and len(smoke.seeds) == _claim.SMOKE_SEEDS and smoke.quick
    with pytest.raises(ValueError, match="--seeds must be >= 2"):
        _claim.claim_config(seeds=1)


def _intervals_in_text(text: str) -> list[tuple[float, float]]:
    import re

    return [(float(lo), float(hi)) for lo, hi in re.findall(r"\[(-?\d+\.\d+), (-?\d+\.\d+)\]", text)]


@pytest.mark.slow
def test_smoke_claim_end_to_end(tmp_path, microns_dir):
    out = tmp_path / "claim"
    assert _claim.main(["--smoke", "--no-progress", "--out", str(out), "--data-dir", str(microns_dir)]) == 0
    report = (out / "report.md").read_text()
    assert report.splitlines()[2].startswith("**SMOKE RUN")
    assert (out / "claim.png").stat().st_size > 1000
    saved = json.loads((out / "claim.json").read_text())
    assert {v: s["n"] for v, s in saved["summary"]["variants"].items()} == {v: 2 for v in _claim.CLAIM_VARIANTS}
    assert (out / "ablation" / "report.md").exists()
    # no interval of the claim's report leaves [-1, 1] (differences) -- and none of accuracy leaves [0, 1]
    assert all(-1.0 <= lo <= hi <= 1.0 for lo, hi in _intervals_in_text(report))
    assert not math.isnan(saved["summary"]["variants"]["W*D*C"]["learn"]["rate"])
    # rerunning resumes: nothing to train, the same numbers
    assert _claim.main(["--smoke", "--no-progress", "--out", str(out), "--data-dir", str(microns_dir)]) == 0
    assert json.loads((out / "claim.json").read_text())["summary"] == saved["summary"]
