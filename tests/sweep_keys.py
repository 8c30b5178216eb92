"""Run keys on disk and planned, shared by the sweep tests (local and Ray); a helper module, not a test file."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks import _sweep_plan as plan


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
