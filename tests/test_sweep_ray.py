"""The sweep's Ray backend on a local two-CPU Ray instance: worker death, driver death, real cells.

One Ray instance serves the whole module (start-up takes 10-20 s). Test-only cell functions
live here and are shipped to the workers by value (``register_pickle_by_value``), since the
workers cannot import the test module.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

ray = pytest.importorskip("ray")

from sweep_helpers import planned_keys, stored_keys  # noqa: E402 - after the importorskip of ray

from connectome_priors.benchmarks.sweep import _plan as plan  # noqa: E402
from connectome_priors.benchmarks.sweep import _run as sweep_run  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

OPTIONS = plan.SweepOptions(seeds=2, epochs=1, tasks=("Task1", "Task3"), variants=("W*D*C", "WD*C", "W"))
FIELDS = ("5_3_8", "5_3_4")


@pytest.fixture(scope="module")
def ray_local():
    if ray.is_initialized():
        ray.shutdown()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env={"env_vars": {"JAX_PLATFORMS": "cpu"}})
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])
    yield ray
    ray.shutdown()


class CrashOnce:
    """Cell function whose worker process dies (``os._exit``) the first time it meets ``victim``.

    A marker file, created just before dying, tells the retried attempt to go on. Every call
    appends a line to ``log`` (``<cell key> <seeds> <pid>``) so the test sees each attempt.
    """

    def __init__(self, victim: str, marker: Path, log: Path):
        self.victim, self.marker, self.log = victim, str(marker), str(log)

    def __call__(self, cell, out_dir, options):
        with open(self.log, "a") as fh:
            fh.write(f"{cell.key} {','.join(map(str, cell.seeds))} {os.getpid()}\n")
        if cell.key == self.victim and not os.path.exists(self.marker):
            Path(self.marker).write_text(str(os.getpid()))
            os._exit(1)  # the worker dies mid-sweep, as on a lost node
        return [{"variant": v, "task": cell.task, "seed": s,
                 "metrics": {"Accuracy": (len(v) + s) / 100}}
                for v in cell.variants for s in cell.seeds]


def expected_keys(fields=FIELDS, options=OPTIONS):
    return planned_keys(fields, options)


def test_a_worker_killed_mid_sweep_loses_and_duplicates_nothing(ray_local, tmp_path):
    victim = plan.Cell("5_3_4", "free", "Task1", ("WD*C",), (0, 1)).key
    fn = CrashOnce(victim, tmp_path / "crashed", tmp_path / "calls.log")
    out = tmp_path / "sweep"
    summary = sweep_run.run_sweep(FIELDS, OPTIONS, out, backend="ray", cell_fn=fn, max_retries=2, progress=False)
    assert (tmp_path / "crashed").exists(), "the worker never died: the test tested nothing"
    calls = (tmp_path / "calls.log").read_text().split("\n")[:-1]
    victim_calls = [c for c in calls if c.startswith(victim)]
    assert len(victim_calls) == 2  # died once, retried once by Ray
    dead_pid = int((tmp_path / "crashed").read_text())
    assert int(victim_calls[1].split()[-1]) != dead_pid  # the retry ran in a fresh worker
    assert summary.failed == [] and summary.cells_run == 12
    keys = stored_keys(out)
    assert len(keys) == len(set(keys)) and set(keys) == expected_keys()
    records = [json.loads(p.read_text()) for p in out.glob("cells/*.json")]
    assert sorted(r["cell"] for r in records) == sorted(c.key for c in plan.plan_cells(FIELDS, OPTIONS))
    assert all(r["backend"] == "ray" and r["wall_s"] >= 0 for r in records)


def test_a_driver_killed_mid_sweep_resumes_on_ray_to_every_run_exactly_once(ray_local, tmp_path):
    fn = CrashOnce("-none-", tmp_path / "unused", tmp_path / "calls.log")
    done = []

    class Interrupt(Exception):
        pass

    def killer(outcome):
        done.append(outcome.cell.key)
        if len(done) == 3:
            raise Interrupt

    with pytest.raises(Interrupt):
        sweep_run.run_sweep(FIELDS, OPTIONS, tmp_path, backend="ray", cell_fn=fn, on_cell_done=killer, progress=False)
    assert len(set(stored_keys(tmp_path))) == 3 * 2
    sweep_run.run_sweep(FIELDS, OPTIONS, tmp_path, backend="ray", cell_fn=fn, progress=False)
    keys = stored_keys(tmp_path)
    assert len(keys) == len(set(keys)) and set(keys) == expected_keys()
    # A local rerun finds nothing to do: both backends share the storage and the resume rule.
    assert sweep_run.run_sweep(FIELDS, OPTIONS, tmp_path, cell_fn=fn, progress=False).cells_run == 0


def test_the_real_ablation_cell_runs_on_ray(ray_local, tmp_path, microns_dir):
    ablation = pytest.importorskip("connectome_priors.benchmarks._ablation")
    try:
        import connectome_priors as cp
        from connectome_priors import models  # noqa: F401

        cp.MICrONSInit, cp.communicability_cost  # noqa: B018 - the priors the cell needs
    except (ImportError, AttributeError) as exc:
        pytest.skip(f"the ablation's dependencies are not complete yet: {exc}")
    opts = plan.SweepOptions(seeds=1, epochs=1, tasks=("Task3",), variants=("W*D*C",), quick=True,
                           extra={"n_train": 128, "n_val": 64, "n_test": 64, "data_dir": str(microns_dir)})
    summary = sweep_run.run_sweep(("5_3_8",), opts, tmp_path, backend="ray", progress=False)
    assert summary.failed == [], summary.failed
    runs = ablation.RUN_STORE.load(tmp_path / "free" / "5_3_8")
    assert [(r["variant"], r["task"], r["seed"]) for r in runs] == [("W*D*C", "Task3", 0)]
    assert 0.0 <= runs[0]["metrics"]["Accuracy"] <= 1.0
    assert (tmp_path / "free" / "5_3_8" / "config.json").exists()
