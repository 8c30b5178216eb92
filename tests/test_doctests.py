"""Every docstring example of the package runs (``>>>`` lines, as doctests), module by module.

Examples that need the network, a GPU or minutes of training are marked ``# doctest: +SKIP`` in their
docstring; everything else is executed here, so a documented example that stops working fails CI.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

# submodules that only re-export, or that need something the test machine has not got
NOT_IMPORTABLE_HERE = {"connectome_priors.__main__", "connectome_priors.benchmarks.__main__"}


def _modules() -> list[str]:
    # envs/, models/ and benchmarks/ are mapped into the package (setuptools package-dir): in an editable install
    # they are not below connectome_priors.__path__, so each is walked from its own __path__
    names = set()
    for package in ("connectome_priors", "connectome_priors.envs", "connectome_priors.models",
                    "connectome_priors.benchmarks"):
        names.add(package)
        module = importlib.import_module(package)
        names.update(info.name for info in pkgutil.walk_packages(module.__path__, package + "."))
    return sorted(names - NOT_IMPORTABLE_HERE)


MODULES = _modules()


def test_the_walk_sees_every_subpackage():
    for package in ("fields", "priors", "regularizers", "graph", "stats", "envs", "models", "benchmarks",
                    "benchmarks.report", "benchmarks.evidence", "benchmarks.sweep"):
        assert f"connectome_priors.{package}" in MODULES, package


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # examples that write files write them here
    module = importlib.import_module(name)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in finder.find(module, name):
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{name}: {result.failed} of {result.attempted} docstring example(s) failed"
