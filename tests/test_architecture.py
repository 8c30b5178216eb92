"""Architecture rules (docs/architecture.md): no import cycles between the project's modules, no module over
450 lines, and the data, graph-metric and statistics layer works without JAX.

The import graph is read with the standard library's ``ast`` from the source files (nothing is imported):
every ``import x`` / ``from x import y`` anywhere in a module -- at the top, inside functions (lazy imports) and
under ``if TYPE_CHECKING`` -- is an edge, with relative imports resolved against the module's package. A lazy
import is still a dependency: it only postpones the cycle to the first call. ``from pkg import name`` is an edge to
the submodule ``pkg.name`` when that is a module of the project, else to ``pkg`` itself. Imports by string
(``importlib.import_module`` in ``connectome_priors.__init__``'s lazy ``_EXPORTS`` table and in
``connectome_priors.benchmarks.__main__``'s command table) are not seen; both tables point from a package's front door down into
its own modules, which never import the front door back by string.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("connectome_priors", "envs", "models", "benchmarks")
MAX_LINES = 450


def project_modules() -> dict[str, Path]:
    """Dotted module name -> file, for every ``.py`` file of the project's packages."""
    modules = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join(parts)] = path
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
        lines.append("  " + " -> ".join(cycle) + (f"   (all tangled: {', '.join(members)})" if len(members) > 2 else ""))
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
    assert "connectome_priors.benchmarks._schema" in graph["connectome_priors.benchmarks._ablation"]  # from ._schema import ...
    assert "connectome_priors.benchmarks.report._write" in graph["connectome_priors.benchmarks._ablation"]  # lazy, inside run_ablation
    assert "connectome_priors.graph._binary" in graph["connectome_priors.graph._small_world"]
    assert "connectome_priors.stats" in graph["connectome_priors.benchmarks._variants"]  # from connectome_priors.stats import ...
    assert find_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]


def test_no_import_cycles_between_project_modules():
    graph = import_graph(project_modules())
    assert not find_cycles(graph), (
        "import cycles (break out what both sides share into a module they both import):\n" + cycle_report(graph))


# which package may import which (docs/architecture.md): the flow field -> priors -> model -> run store -> analysis
# -> report runs downwards only
MAY_IMPORT = {
    "connectome_priors": {"connectome_priors"},
    "envs": {"envs"},
    "models": {"models", "connectome_priors", "envs"},
    "benchmarks": set(PACKAGES),
}


def test_packages_import_downwards_only():
    graph = import_graph(project_modules())
    wrong = sorted(f"{m} -> {t}" for m, targets in graph.items() for t in targets
                   if t.split(".")[0] not in MAY_IMPORT[m.split(".")[0]])
    assert not wrong, "imports against the package layering (docs/architecture.md): " + ", ".join(wrong)


def test_no_module_over_the_line_limit():
    long = {m: n for m, p in project_modules().items() if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines (split them by idea): " + ", ".join(
        f"{m} ({n} lines)" for m, n in sorted(long.items()))


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
