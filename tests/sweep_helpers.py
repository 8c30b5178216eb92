"""Shared by the sweep tests (plan/run, Ray, cross-field): stand-in cell functions and run keys (not a test file)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from connectome_priors.benchmarks.sweep import _plan as plan


def stored_keys(out_dir):
    """Every run key on disk, with duplicates (a list, so a duplicate would show)."""
    keys = []
    for p in Path(out_dir).glob("*/*/runs/*/*/seed_*.json"):
        r = json.loads(p.read_text())
        sign, field = p.relative_to(out_dir).parts[:2]
        keys.append(plan.RunKey(field, sign, r["task"], r["variant"], int(r["seed"])))
    return keys


def planned_keys(fields, options):
    """Every run key a sweep of ``fields`` with ``options`` plans."""
    return {k for c in plan.plan_cells(fields, options) for k in c.run_keys()}


def fake_results(cell, n_neurons=None):
    """Deterministic stand-in results: a function of (field, variant, task, seed) only."""
    out = []
    for v in cell.variants:
        for s in cell.seeds:
            tag = f"{cell.field}/{cell.sign}/{cell.task}/{v}/{s}".encode()
            rng = np.random.default_rng(int.from_bytes(hashlib.sha256(tag).digest()[:8], "little"))
            acc = float(rng.uniform(0.4, 1.0))
            out.append({"variant": v, "task": cell.task, "seed": s,
                        "metrics": {"Accuracy": acc, "Test_Accuracy": acc, "Modularity": float(rng.uniform(0, 0.5))},
                        "curve": {"step": [5, 10, 15], "train_acc": [0.5, float(rng.uniform(0.5, 1.0)), acc]}})
    return out


class FakeCells:
    """Cell function that records its calls and can fail once on chosen cells."""

    def __init__(self, fail_once=()):
        self.calls = []
        self.fail_once = set(fail_once)

    def __call__(self, cell, out_dir, options):
        self.calls.append(cell)
        if cell.key in self.fail_once:
            self.fail_once.discard(cell.key)
            raise RuntimeError(f"injected failure in {cell.key}")
        return fake_results(cell)


class ClaimingCells(FakeCells):
    """Like :class:`FakeCells`, but each field folder gets the real ``config.json`` and each run its ``config_hash``
    and ``status``, as the real cell function (``_ablation.run_cell``) writes them."""

    def __call__(self, cell, out_dir, options):
        from connectome_priors.benchmarks._ablation import config_from_sweep
        from connectome_priors.benchmarks._run_store import claim_out_dir

        config = config_from_sweep(cell, options)
        claim_out_dir(Path(out_dir), config)
        return [{**r, "config_hash": config.config_hash(), "status": "ok"} for r in super().__call__(cell, out_dir,
                                                                                                      options)]
