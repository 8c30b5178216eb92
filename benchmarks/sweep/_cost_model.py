"""Cost model of a sweep: measured seconds per cell -> predicted wall time on W workers.

Every executed cell leaves a record (``<sweep>/cells/*.json``) with its wall seconds and its
size: neurons N, variants V (Vc of them with a communicability term, C or C*), seeds S and the
work of one run K, in thousands of trial passes (``K = (epochs * (n_train + n_val) + n_test) /
1000``; :func:`run_work`). A cell's time is modelled as

    t(cell) = c0 + c1 V + c2 Vc + c3 V S K + c4 V S K (N/100)^2

(c0 start-up and data; c1, c2 compilation per variant, larger with the matrix exponential of
the communicability penalty; c3 the per-step overheads of the training scan; c4 the recurrent
matmuls), fitted by non-negative least squares on the records. Features with no independent
spread in the records are dropped (greedily, in the order c0, c3, c2, c4, c1), so a model fitted
on one field size scales with work only: calibrate on the field sizes and work you will predict
for. (A term for the penalty's N^3 matrix exponential per step was tried and dropped: on this
CPU it is invisible up to N = 312 and, fitted on small fields, it over-predicted a 312-neuron
cell ninefold.) A sweep's wall time on W workers is the makespan of
the longest-processing-time-first (LPT) schedule of its predicted cells, plus the sweep's
fixed overhead (driver start, imports) measured from the sweep records::

    >>> lpt_makespan([4.0, 3.0, 3.0, 2.0], workers=2)
    6.0

LPT is within 4/3 of the optimal makespan (Graham 1969), and cells are independent, so it is
what a work-stealing scheduler such as Ray's achieves in practice.
"""

from __future__ import annotations

import dataclasses
import heapq
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

FEATURES = ("const", "variants", "comm_variants", "run_work", "run_work_n2")
_GREEDY_ORDER = (3, 2, 4, 1)  # after the constant: work first, then the finer terms


def run_work(epochs: int, n_train: int, n_val: int, n_test: int) -> float:
    """Work of one run in thousands of trial passes: ``(epochs * (n_train + n_val) + n_test) / 1000``.

    Example::

        >>> run_work(10, 5120, 2560, 2560)
        79.36
    """
    return (epochs * (n_train + n_val) + n_test) / 1000.0


def n_comm_variants(variants: Iterable[str]) -> int:
    """How many variants carry a communicability term (``C`` or ``C*`` in the name)."""
    return sum("C" in v for v in variants)


def cell_features(n_neurons: float, n_variants: float, n_seeds: float, work: float,
                  n_comm: float = 0) -> np.ndarray:
    """Feature vector of one cell (the columns of :data:`FEATURES`); ``work`` from :func:`run_work`."""
    runs_work = n_variants * n_seeds * work
    return np.array([1.0, n_variants, n_comm, runs_work, runs_work * (n_neurons / 100.0) ** 2])


@dataclasses.dataclass(frozen=True)
class CostModel:
    """Non-negative linear model of a cell's seconds; ``overhead_s`` per sweep invocation."""

    coef: tuple[float, ...]
    overhead_s: float = 0.0
    n_records: int = 0
    rel_rmse: float = float("nan")  # in-sample, relative to the mean cell time

    def predict_cell(self, n_neurons: float, n_variants: float, n_seeds: float, work: float,
                     n_comm: float = 0) -> float:
        return float(cell_features(n_neurons, n_variants, n_seeds, work, n_comm) @ np.asarray(self.coef))


def load_cell_records(dirs: Iterable[str | Path]) -> list[dict[str, Any]]:
    """Successful cell records (``cells/*.json``) of the given sweep folders."""
    records = []
    for d in dirs:
        for p in sorted(Path(d).glob("cells/*.json")):
            r = json.loads(p.read_text())
            if r.get("error") is None and r.get("n_neurons") and r.get("wall_s", 0) > 0:
                records.append(r)
    return records


def load_sweep_records(dirs: Iterable[str | Path]) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for d in dirs for p in sorted(Path(d).glob("sweeps/*.json"))]


def fit_cost_model(records: Sequence[Mapping[str, Any]], sweeps: Sequence[Mapping[str, Any]] = ()) -> CostModel:
    """Fit :class:`CostModel` on cell records (NNLS); overhead = median per-sweep unexplained time.

    Example::

        >>> recs = [dict(n_neurons=n, n_variants=1, n_seeds=2, work=1, wall_s=1 + 0.5 * (n / 100) ** 2 * 2)
        ...         for n in (50, 100, 200)]
        >>> round(fit_cost_model(recs).predict_cell(150, 1, 2, 1), 3)
        3.25
    """
    from scipy.optimize import nnls

    if not records:
        raise ValueError("fit_cost_model: no cell records to fit (run a sweep first, or pass --calibration)")
    X = np.stack([cell_features(r["n_neurons"], r["n_variants"], r["n_seeds"], r["work"],
                                n_comm_variants(r.get("variants", ()))) for r in records])
    y = np.array([r["wall_s"] for r in records], dtype=float)
    # Keep the constant and the features that vary independently across records: a feature
    # with no spread (or collinear with those kept) is not identifiable from these records.
    # Greedy in order of physical weight: the work terms before the per-run/per-variant ones.
    keep = [0]
    for j in _GREEDY_ORDER:
        trial = keep + [j]
        if np.linalg.matrix_rank(X[:, trial], tol=1e-9 * max(1.0, np.abs(X[:, trial]).max())) == len(trial):
            keep = trial
    if keep == [0]:
        # All cells alike: attribute the time to the work, so that it scales with bigger cells.
        keep = [3]
    # Columns are scaled to unit norm so NNLS weighs them equally.
    scale = np.linalg.norm(X[:, keep], axis=0)
    sol, _ = nnls(X[:, keep] / scale, y)
    coef = np.zeros(X.shape[1])
    coef[keep] = sol / scale
    resid = X @ coef - y
    rel_rmse = float(np.sqrt(np.mean(resid ** 2)) / max(y.mean(), 1e-12))
    overheads = []
    for s in sweeps:
        mine = [r for r in records if r.get("sweep_started") == s.get("started")]
        if s.get("backend") == "local" and s.get("cells_run"):
            cell_sum = sum(r["wall_s"] for r in mine) if mine else None
            if cell_sum is not None:
                overheads.append(max(0.0, s["wall_s"] - cell_sum))
    return CostModel(tuple(float(c) for c in coef), float(np.median(overheads)) if overheads else 0.0,
                     len(records), rel_rmse)


def lpt_makespan(durations: Sequence[float], workers: int) -> float:
    """Makespan of the longest-processing-time-first schedule of ``durations`` on ``workers``.

    Each job, longest first, goes to the currently least-loaded worker.

    Example::

        >>> lpt_makespan([5, 1, 1, 1], workers=3)
        5.0
    """
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    loads = [0.0] * min(workers, max(1, len(durations)))
    heapq.heapify(loads)
    for d in sorted(durations, reverse=True):
        heapq.heappush(loads, heapq.heappop(loads) + float(d))
    return max(loads)


def predict_sweep(model: CostModel, cells: Sequence[Any], work: float, sizes: Mapping[str, int],
                  workers: int) -> dict[str, Any]:
    """Predicted seconds of ``cells`` (objects with field/variants/seeds; ``work`` per run) on ``workers``."""
    missing = sorted({c.field for c in cells} - set(sizes))
    if missing:
        raise ValueError(f"predict_sweep: no neuron count for field(s) {missing}")
    per_cell = [model.predict_cell(sizes[c.field], len(c.variants), len(c.seeds), work, n_comm_variants(c.variants))
                for c in cells]
    makespan = lpt_makespan(per_cell, workers) if per_cell else 0.0
    return {"workers": workers, "cells": len(cells), "cell_seconds_total": float(sum(per_cell)),
            "makespan_s": makespan, "overhead_s": model.overhead_s,
            "predicted_wall_s": makespan + model.overhead_s}


def check_prediction(predicted_s: float, measured_s: float, factor: float = 2.0) -> dict[str, Any]:
    """Is a prediction within ``factor`` of the measurement (both ways)?

    Example::

        >>> check_prediction(30.0, 50.0)["within"]
        True
    """
    if predicted_s <= 0 or measured_s <= 0:
        raise ValueError(f"times must be positive, got predicted={predicted_s}, measured={measured_s}")
    ratio = predicted_s / measured_s
    return {"predicted_s": predicted_s, "measured_s": measured_s, "ratio": ratio,
            "factor": factor, "within": 1.0 / factor <= ratio <= factor}
