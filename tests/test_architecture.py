"""Architecture rules (docs/architecture.md): one import name, no import cycles between the project's modules,
imports only downward along the flow, and the data, graph-metric and statistics layer works without JAX.

The import graph is read with the standard library's ``ast`` from the source files (nothing is imported):
every ``import x`` / ``from x import y`` anywhere in a module -- at the top, inside functions (lazy imports) and
under ``if TYPE_CHECKING`` -- is an edge, with relative imports resolved against the module's package. A lazy
import is still a dependency: it only postpones the cycle to the first call. ``from pkg import name`` is an edge to
the submodule ``pkg.name`` when that is a module of the project, else to ``pkg`` itself. Modules are named as
installed: the repository's ``envs/``, ``models/`` and ``benchmarks/`` folders are ``connectome_priors.envs``,
``.models`` and ``.benchmarks``. Imports by string (the lazy tables of ``connectome_priors._lazy.attach`` and the
command table of ``connectome_priors.benchmarks.__main__``) are not seen; they point from a package's front door
down into its own modules, which never import the front door back by string.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# repository folder -> its installed package (pyproject.toml [tool.setuptools.package-dir])
FOLDERS = {"connectome_priors": "connectome_priors", "envs": "connectome_priors.envs",
           "models": "connectome_priors.models", "benchmarks": "connectome_priors.benchmarks"}


def project_modules() -> dict[str, Path]:
    """Installed dotted module name -> file, for every ``.py`` file of the project's packages."""
    modules = {}
    for folder, package in FOLDERS.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            parts = list(path.relative_to(ROOT / folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join([package, *parts])] = path
    return modules


def _resolve(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    """Module -> the project modules it imports (anywhere in its source)."""
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        is_package = path.name == "__init__.py"
        edges = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            targets = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(module, is_package, node)
                for alias in node.names:
                    sub = f"{base}.{alias.name}"
                    targets.append(sub if sub in modules else base)
            for target in targets:
                # the longest project module the dotted name starts with (import a.b.c -> a.b.c, or a.b, or a)
                parts = target.split(".")
                while parts and ".".join(parts) not in modules:
                    parts.pop()
                if parts and ".".join(parts) != module:
                    edges.add(".".join(parts))
        graph[module] = edges
    return graph


def find_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One concrete cycle (``[a, b, ..., a]``) per strongly connected component with more than one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def strongconnect(v: str) -> None:  # Tarjan; the project graph is small, recursion is fine
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                strongconnect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            strongconnect(v)
    cycles = []
    for component in components:
        members = set(component)
        start = component[0]
        # breadth-first back to the start inside the component: the shortest cycle through it
        previous = {start: None}
        queue = [start]
        found = None
        while queue and found is None:
            v = queue.pop(0)
            for w in sorted(graph[v] & members):
                if w == start:
                    found = v
                    break
                if w not in previous:
                    previous[w] = v
                    queue.append(w)
        path = [start]
        v = found
        while v is not None and v != start:
            path.append(v)
            v = previous[v]
        cycles.append([start] + path[1:][::-1] + [start])
    return cycles


def cycle_report(graph: dict[str, set[str]]) -> str:
    """One line per cycle: the cycle, and every module of its strongly connected component."""
    lines = []
    for cycle in find_cycles(graph):
        members = _component_of(graph, cycle[0])
        tangled = f"   (all tangled: {', '.join(members)})" if len(members) > 2 else ""
        lines.append("  " + " -> ".join(cycle) + tangled)
    return "\n".join(lines)


def _component_of(graph: dict[str, set[str]], start: str) -> list[str]:
    def reach(v: str, edges) -> set[str]:
        seen, todo = {v}, [v]
        while todo:
            for w in edges(todo.pop()):
                if w not in seen:
                    seen.add(w)
                    todo.append(w)
        return seen

    forward = reach(start, lambda v: graph.get(v, ()))
    backward = reach(start, lambda v: [u for u, ws in graph.items() if v in ws])
    return sorted(forward & backward)


def test_the_import_graph_reader_sees_lazy_relative_and_package_imports():
    graph = import_graph(project_modules())
    # from ._schema import ...
    assert "connectome_priors.benchmarks._schema" in graph["connectome_priors.benchmarks._ablation"]
    assert "connectome_priors.benchmarks.report._write" in graph["connectome_priors.benchmarks._ablation"]  # lazy
    assert "connectome_priors.graph._binary" in graph["connectome_priors.graph._small_world"]
    # from connectome_priors.stats import ...
    assert "connectome_priors.stats" in graph["connectome_priors.benchmarks._variants"]
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]


def test_no_import_cycles_between_project_modules():
    graph = import_graph(project_modules())
    assert not find_cycles(graph), (
        "import cycles (break out what both sides share into a module they both import):\n" + cycle_report(graph))


# The flow runs downward only (docs/architecture.md): field -> priors -> model -> training -> run store -> analysis
# -> report. Each module belongs to one layer; a layer may import itself and the layers it lists. The front door
# (``connectome_priors/__init__``: lazy tables only) is imported by users, never by the package's own modules.
_CORE = {"base", "fields", "priors", "regularizers", "graph", "stats", "envs"}
LAYERS: dict[str, set[str]] = {
    "base": set(),                                   # _lazy, _atomic, _compat, _protocol
    "fields": {"base"},
    "graph": {"base"},
    "stats": {"base"},
    "envs": {"base"},
    "priors": {"base", "fields"},
    "regularizers": {"base", "priors"},
    "models": {"base", "fields", "priors", "regularizers", "envs"},
    "benchmarks.store": _CORE | {"models"},          # _variants, _schema, _run_store: what a run is and where it lives
    "benchmarks.report": _CORE | {"models", "benchmarks.store"},
    "benchmarks.runner": _CORE | {"models", "benchmarks.store", "benchmarks.report"},
    "benchmarks.evidence": _CORE | {"benchmarks.store", "benchmarks.report"},
    "benchmarks.sweep": _CORE | {"models", "benchmarks.store", "benchmarks.report", "benchmarks.runner"},
    "cli": _CORE | {"models", "benchmarks.store", "benchmarks.report", "benchmarks.runner", "benchmarks.evidence",
                    "benchmarks.sweep"},
    "front": {"base", "envs"},                       # lazy tables + registering the gymnasium ids
}
_CLI = {"connectome_priors.__main__", "connectome_priors.benchmarks.__main__", "connectome_priors.benchmarks._cli",
        "connectome_priors.benchmarks._claim", "connectome_priors.benchmarks._perf",
        "connectome_priors.benchmarks.sweep._cli", "connectome_priors.benchmarks.evidence._cli"}


def layer(module: str) -> str:
    parts = module.split(".")
    if module in _CLI:
        return "cli"
    if module == "connectome_priors":
        return "front"
    if parts[1] == "benchmarks":
        if module == "connectome_priors.benchmarks._ablation":
            return "benchmarks.runner"
        sub = parts[2] if len(parts) > 2 else ""
        return f"benchmarks.{sub}" if sub in ("report", "evidence", "sweep") else "benchmarks.store"
    return parts[1] if parts[1] in LAYERS else "base"


def test_every_module_has_a_known_layer():
    bases = sorted(m for m in project_modules() if layer(m) == "base")
    assert bases == ["connectome_priors._atomic", "connectome_priors._compat", "connectome_priors._lazy",
                     "connectome_priors._protocol"], bases


def test_packages_import_downwards_only():
    graph = import_graph(project_modules())
    wrong = sorted(f"{m} ({layer(m)}) -> {t} ({layer(t)})" for m, targets in graph.items() for t in targets
                   if layer(t) != layer(m) and layer(t) not in LAYERS[layer(m)])
    assert not wrong, "imports against the layering (docs/architecture.md):\n  " + "\n  ".join(wrong)


def _bare_imports(path: Path) -> list[str]:
    hits = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                 else [node.module or ""] if isinstance(node, ast.ImportFrom) and node.level == 0 else [])
        hits += [f"{path.relative_to(ROOT)}:{node.lineno} imports {n}" for n in names
                 if n.split(".")[0] in ("envs", "models", "benchmarks")]
    return hits


def test_one_import_name_no_bare_envs_models_benchmarks():
    files = [*project_modules().values(), *sorted((ROOT / "tests").glob("*.py")),
             *sorted((ROOT / "scripts").glob("*.py")), *sorted((ROOT / ".ci").glob("*.py"))]
    hits = [h for f in files for h in _bare_imports(f)]
    assert not hits, "use connectome_priors.envs / .models / .benchmarks:\n  " + "\n  ".join(hits)


def test_the_bare_import_check_can_fail(tmp_path, monkeypatch):
    bad = tmp_path / "bad.py"
    bad.write_text("import models\nfrom benchmarks._cli import main\nfrom connectome_priors import envs\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert [h.split(" imports ")[1] for h in _bare_imports(bad)] == ["models", "benchmarks._cli"]


def test_the_wheel_installs_one_top_level_name():
    """setuptools' own view of the build: every package of the wheel lives under connectome_priors."""
    import tomllib

    tool = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert all(p == "connectome_priors" or p.startswith("connectome_priors.") for p in tool["packages"])
    # every folder with an __init__.py is listed: a forgotten subpackage would be left out of the wheel
    listed = set(tool["packages"])
    found = {m for m, p in project_modules().items() if p.name == "__init__.py"}
    # data folders (no __init__.py) are listed too, each with its own package-data, so setuptools does not warn
    data = {p for p in listed - found if p in tool["package-data"]}
    assert all(tool["package-data"][p] for p in data)
    found |= data
    assert found == listed, f"missing from pyproject: {sorted(found - listed)}; stale: {sorted(listed - found)}"


BLOCK_JAX = """
import importlib.abc, sys
BLOCKED = {"jax", "jaxlib", "brainstate", "brainpy", "braintools", "optax"}
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"{name} is blocked: this code path must not need JAX")
sys.meta_path.insert(0, Block())
"""


@pytest.mark.parametrize("code", [
    "import connectome_priors as cp; cp.graph_metrics(cp.load_field('5_3_8').connectome)",
    "import connectome_priors as cp; import pandas as pd; "
    "df = pd.DataFrame(dict(variant=['W', 'WD'] * 3, task=1, seed=[0, 0, 1, 1, 2, 2], metric='m', "
    "value=[1., 2., 2., 3., 3., 5.])); cp.stats.summarize(df); cp.stats.paired_comparisons(df)",
])
def test_analysis_works_with_jax_blocked(code):
    env = dict(os.environ)
    result = subprocess.run([sys.executable, "-c", BLOCK_JAX + code], capture_output=True, text=True, env=env,
                            cwd=ROOT)
    assert result.returncode == 0, result.stderr[-3000:]
