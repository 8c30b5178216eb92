"""The README's main job (``python -m connectome_priors claim``): its statistics, verdicts and pipeline."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import stats

from connectome_priors.benchmarks import _claim


def _runs(per_variant: dict[str, list[float]]) -> list[dict]:
    return [{"task": "Task3", "variant": v, "seed": s, "metrics": {"Test_Accuracy": a}}
            for v, accs in per_variant.items() for s, a in enumerate(accs)]


def test_paired_difference_matches_scipy_paired_t_interval():
    a = [1.0, 0.98, 0.51, 1.0, 0.97]
    b = [0.50, 0.51, 0.49, 0.52, 0.50]
    d = _claim.paired_difference(_claim.test_accuracy_by_seed(_runs({"W*D*C": a, "W": b})), "W*D*C", "W")
    diff = np.subtract(a, b)
    lo, hi = stats.ttest_rel(a, b).confidence_interval(0.95)
    assert d["n"] == 5 and d["mean"] == pytest.approx(diff.mean())
    assert (d["lo"], d["hi"]) == pytest.approx((lo, hi))
    assert d["a_better"] == 4 and d["b_better"] == 0  # seed 2: 0.51 vs 0.49 is within the margin


def test_pairs_only_seeds_present_in_both_and_skips_non_finite():
    runs = _runs({"W*D*C": [1.0, 1.0, 0.9], "W": [0.5, float("nan"), 0.5, 0.5]})
    by_seed = _claim.test_accuracy_by_seed(runs + [{"task": "Task1", "variant": "W", "seed": 1,
                                                    "metrics": {"Test_Accuracy": 0.6}}])
    assert sorted(by_seed["W"]) == [0, 2, 3]  # NaN and other tasks dropped
    assert _claim.paired_difference(by_seed, "W*D*C", "W")["seeds"] == [0, 2]


@pytest.mark.parametrize("a, b, finding", [
    ([1.0, 0.99, 1.0, 0.98], [0.5, 0.51, 0.49, 0.5], "supported"),
    ([0.5, 0.51, 0.49, 0.5], [1.0, 0.99, 1.0, 0.98], "contradicted"),
    ([1.0, 0.5, 1.0, 0.5], [0.5, 0.5, 0.5, 0.5], "inconclusive"),
])
def test_claim_finding(a, b, finding):
    d = _claim.paired_difference(_claim.test_accuracy_by_seed(_runs({"W*D*C": a, "W": b})), "W*D*C", "W")
    assert _claim.claim_finding(d) == finding


@pytest.mark.parametrize("a, b, finding", [
    ([1.0, 0.99, 0.5, 1.0], [1.0, 0.995, 0.5, 0.99], "equivalent"),
    ([0.5, 0.5, 0.5, 0.5], [1.0, 0.99, 1.0, 0.98], "worse"),
    ([1.0, 0.5, 1.0, 0.5], [1.0, 1.0, 0.5, 0.5], "inconclusive"),
])
def test_equivalence_finding(a, b, finding):
    by_seed = _claim.test_accuracy_by_seed(_runs({"Wdiag-D*C": a, "W*D*C": b}))
    assert _claim.equivalence_finding(_claim.paired_difference(by_seed, "Wdiag-D*C", "W*D*C")) == finding


def test_verdict_names_claim_numbers_and_smoke_warning():
    summary = _claim.summarize_claim(_runs({"W*D*C": [1.0, 1.0, 0.99], "W": [0.5, 0.5, 0.51],
                                            "Wdiag-D*C": [1.0, 1.0, 0.99]}))
    text = _claim.verdict_paragraph(summary)
    assert "**supported**" in text and "3 of 3 seeds learned" in text and "0 of 3 seeds learned" in text
    assert "diagonal alone does as well" in text and "SMOKE" not in text
    assert _claim.verdict_paragraph(summary, smoke=True).startswith("**SMOKE RUN")


def test_verdict_of_a_variant_without_runs_shows_no_nan():
    summary = _claim.summarize_claim(_runs({"W*D*C": [1.0, 1.0, 0.99], "W": [0.5, 0.5, 0.51]}))
    text = _claim.verdict_paragraph(summary)
    assert "nan" not in text and "– held-out test accuracy, 0 of 0 seeds learned" in text


def test_claim_config_is_full_protocol_and_rejects_one_seed():
    from connectome_priors._protocol import PAPER
    from connectome_priors.benchmarks._schema import AblationConfig

    cfg = _claim.claim_config()
    assert (cfg.epochs, cfg.n_train, cfg.batch_size, cfg.n_test) == (10, 5120, 128, 2560)
    assert cfg.protocol == PAPER.replace(n_val=512)  # the paper's, with a smaller validation set
    # the same configuration (and hash, so existing claim folders resume) as when the sizes were written out
    assert cfg.config_hash() == AblationConfig(seeds=range(4), tasks=("Task3",), variants=_claim.CLAIM_VARIANTS,
                                               epochs=10, n_train=5120, n_val=512, n_test=2560).config_hash()
    smoke = _claim.claim_config(smoke=True)
    assert smoke.protocol == _claim.SMOKE_PROTOCOL and len(smoke.seeds) == _claim.SMOKE_SEEDS and smoke.quick
    assert cfg.tasks == ("Task3",) and set(cfg.variants) == set(_claim.CLAIM_VARIANTS)
    assert not cfg.reference_compat and len(cfg.seeds) == _claim.DEFAULT_SEEDS
    with pytest.raises(ValueError, match="--seeds must be >= 2"):
        _claim.claim_config(seeds=1)


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
    # rerunning resumes: nothing to train, the same numbers
    assert _claim.main(["--smoke", "--no-progress", "--out", str(out), "--data-dir", str(microns_dir)]) == 0
    assert json.loads((out / "claim.json").read_text())["summary"] == saved["summary"]
