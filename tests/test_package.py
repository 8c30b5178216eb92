"""Package-level promises: the JAX-free layer imports without JAX; the public API resolves."""

from __future__ import annotations

import subprocess
import sys

import connectome_priors as cp

JAX_FREE = """
import sys
import connectome_priors as cp
cp.list_fields()
for name in ("load_field", "load_spikes", "distance_matrix", "sttc_matrix", "binned_correlation",
             "precision_matrix", "surrogate_field", "functional_weights", "FieldDataError"):
    getattr(cp, name)
cp.graph_metrics, cp.GRAPH_METRIC_NAMES
cp.stats.summarize, cp.stats.paired_comparisons
heavy = sorted(m for m in ("jax", "brainstate", "brainpy", "braintools") if m in sys.modules)
assert not heavy, f"the JAX-free layer imported {heavy}"
"""


def test_data_metrics_and_stats_import_without_jax():
    result = subprocess.run([sys.executable, "-c", JAX_FREE], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_every_public_name_resolves():
    for name in cp.__all__:
        assert getattr(cp, name) is not None, name


def test_unknown_attribute_is_a_clear_attribute_error():
    try:
        cp.no_such_prior
    except AttributeError as err:
        assert "no_such_prior" in str(err)
    else:  # pragma: no cover - the assertion below reports it
        raise AssertionError("expected AttributeError")
