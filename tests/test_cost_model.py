"""The sweep's cost model: LPT makespan, the cell-cost fit, predictions."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from connectome_priors.benchmarks.sweep import _cost_model as cm
from connectome_priors.benchmarks.sweep import _plan as plan


def brute_force_makespan(durations, workers):
    best = float("inf")
    for assignment in itertools.product(range(workers), repeat=len(durations)):
        loads = np.zeros(workers)
        np.add.at(loads, list(assignment), durations)
        best = min(best, loads.max())
    return best


def test_lpt_makespan_is_between_the_optimum_and_four_thirds_of_it():
    rng = np.random.default_rng(0)
    for _ in range(30):
        d = rng.uniform(0.1, 10, size=rng.integers(1, 8))
        w = int(rng.integers(1, 4))
        opt = brute_force_makespan(d, w)
        got = cm.lpt_makespan(d, w)
        assert opt - 1e-9 <= got <= (4 / 3 - 1 / (3 * w)) * opt + 1e-9
    assert cm.lpt_makespan([3.0, 3.0], 1) == 6.0
    with pytest.raises(ValueError, match="workers"):
        cm.lpt_makespan([1.0], 0)


def test_cost_model_recovers_a_known_cell_cost_and_predicts_a_sweep():
    true = np.array([2.0, 0.5, 1.5, 0.3, 0.8])
    rng = np.random.default_rng(1)
    records = []
    groups = [("W",), ("WD*C",), ("W", "WD"), ("W*D*C", "WD*C*", "WD")]  # V and Vc independent
    for n, variants, s, e in itertools.product((42, 88, 160, 312), groups, (1, 4), (1, 2)):
        x = cm.cell_features(n, len(variants), s, e, cm.n_comm_variants(variants))
        wall = x @ true * (1 + 0.01 * rng.standard_normal())
        records.append(dict(n_neurons=n, n_variants=len(variants), variants=list(variants), n_seeds=s,
                            work=e, wall_s=wall))
    model = cm.fit_cost_model(records)
    X = np.stack([cm.cell_features(r["n_neurons"], r["n_variants"], r["n_seeds"], r["work"],
                                   cm.n_comm_variants(r["variants"])) for r in records])
    oracle = np.linalg.lstsq(X, [r["wall_s"] for r in records], rcond=None)[0]
    np.testing.assert_allclose(model.coef, oracle, rtol=0.05, atol=0.05)
    big = cm.cell_features(632, 11, 20, 10, 7) @ true
    assert model.predict_cell(632, 11, 20, 10, 7) == pytest.approx(big, rel=0.05)
    # Records that all look alike: the time is attributed to the work, so it scales with it.
    alike = cm.fit_cost_model([dict(n_neurons=42, n_variants=1, n_seeds=2, work=3.0, wall_s=12.0)] * 3)
    assert alike.predict_cell(42, 1, 2, 6.0) == pytest.approx(24.0)
    cells = plan.plan_cells(("5_3_8", "6_6_2"), plan.SweepOptions(seeds=2, epochs=1, tasks=("Task1",),
                                                             variants=("W", "WDC")))
    pred = cm.predict_sweep(model, cells, 1, {"5_3_8": 42, "6_6_2": 312}, workers=2)
    per = sorted((model.predict_cell(n, 1, 2, 1, int(v == "WDC")) for n in (42, 312) for v in ("W", "WDC")),
                 reverse=True)
    a, b, c, d = per  # LPT by hand: a | b, then c joins b, then d joins the lighter of a and b+c
    expected = max(a + d, b + c) if a <= b + c else max(a, b + c + d)
    assert pred["makespan_s"] == pytest.approx(expected)
    assert pred["cell_seconds_total"] == pytest.approx(sum(per))
    with pytest.raises(ValueError, match="no cell records"):
        cm.fit_cost_model([])
    assert cm.check_prediction(10, 25)["within"] is False and cm.check_prediction(10, 19)["within"]
