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


ANALYSIS_MODULES = (
    "graph._binary", "graph._entropy", "graph._modularity", "graph._assortativity", "graph._clustering",
    "graph._nulls", "graph._small_world", "graph._metrics", "stats", "stats._design", "stats._intervals",
    "stats._rank_tests", "stats._simple_effects", "stats._paired", "stats._anova",
)


def test_the_analysis_docstring_examples_run():
    """The public graph metrics and statistics are documented with a formula and a runnable example each."""
    import doctest
    import importlib

    for name in ANALYSIS_MODULES:
        module = importlib.import_module(f"connectome_priors.{name}")
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
        assert result.failed == 0, f"connectome_priors.{name}: {result.failed} docstring example(s) failed"
    for name in ("graph_metrics", "weight_entropy", "modularity", "small_world_sigma", "null_graphs"):
        assert "Example::" in getattr(cp, name).__doc__, name
    for name in cp.stats.__all__:
        obj = getattr(cp.stats, name)
        if callable(obj) and not isinstance(obj, type):
            assert "Example::" in obj.__doc__, f"stats.{name} has no example"
