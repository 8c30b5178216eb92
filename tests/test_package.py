"""Package-level promises: the JAX-free layer imports without JAX; the public API resolves; installing the
package never shadows, or is shadowed by, a user's own ``envs`` / ``models`` / ``benchmarks`` packages."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import connectome_priors as cp

JAX_FREE = """
import sys
import pytest

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
    for package in (cp.fields, cp.priors, cp.regularizers, cp.graph, cp.stats, cp.envs, cp.models):
        for name in package.__all__:
            assert getattr(package, name) is not None, f"{package.__name__}.{name}"


USER_PROJECT = """
import gymnasium as gym
gym.make("CartPole-v1").reset(seed=0)                      # gymnasium's own envs still load
env = gym.make("connectome_priors:cortex/Task3-v0")        # ours, on gymnasium 0.29 and 1.x
env.reset(seed=0)
import pytest

import connectome_priors as cp
from connectome_priors import models
assert models.RNNSpec.__module__.startswith("connectome_priors.models"), models.RNNSpec.__module__
import importlib                                           # the user's own packages are theirs
assert {importlib.import_module(n).OWNER for n in ("envs", "models", "benchmarks")} == {"user"}
print("ok")
"""


def test_a_users_envs_models_benchmarks_packages_break_nothing(tmp_path):
    """A project folder with its own ``envs/``, ``models/``, ``benchmarks/`` (common in RL code): gymnasium, the
    cortex tasks and the library all import, and the user's packages stay the user's."""
    for name in ("envs", "models", "benchmarks"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text('OWNER = "user"\n')
    result = subprocess.run([sys.executable, "-c", USER_PROJECT], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr[-3000:]


def test_unknown_attribute_is_a_clear_attribute_error():
    with pytest.raises(AttributeError, match="'connectome_priors' has no attribute 'no_such_prior'"):
        _ = cp.no_such_prior


ANALYSIS_MODULES = (
    "graph._binary", "graph._entropy", "graph._modularity", "graph._assortativity", "graph._clustering",
    "graph._nulls", "graph._small_world", "graph._metrics", "stats", "stats._design", "stats._intervals",
    "stats._rank_tests", "stats._simple_effects", "stats._paired", "stats._anova", "stats._variants",
)


def test_the_analysis_docstring_examples_run():
    """The public graph metrics and statistics are documented with a formula and a runnable example each."""
    import doctest
    import importlib
    import importlib.util

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


def test_the_python_examples_of_the_docs_parse_and_import_what_exists():
    """Every ```python block of the README and docs/ is valid Python, and every name it imports from the package
    exists (a renamed function or a pasted typo fails here, not in a user's session)."""
    import ast
    import importlib
    import importlib.util
    import re

    root = Path(__file__).resolve().parents[1]
    files = [root / "README.md", *sorted((root / "docs").glob("*.md"))]
    blocks = 0
    for path in files:
        for i, code in enumerate(re.findall(r"```python\n(.*?)```", path.read_text(encoding="utf-8"), re.S)):
            where = f"{path.name}, python block {i + 1}"
            try:
                tree = ast.parse(code)
            except SyntaxError as exc:
                raise AssertionError(f"{where}: {exc}") from None
            blocks += 1
            for node in ast.walk(tree):
                if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("connectome_priors"):
                    module = importlib.import_module(node.module)
                    for alias in node.names:
                        assert alias.name == "*" or hasattr(module, alias.name) or importlib.util.find_spec(
                            f"{node.module}.{alias.name}") is not None, f"{where}: {node.module} has no {alias.name}"
                elif isinstance(node, ast.Import):
                    for alias in node.names:
                        if alias.name.startswith("connectome_priors"):
                            importlib.import_module(alias.name)
    assert blocks >= 4, f"only {blocks} python blocks found in {[p.name for p in files]}"
