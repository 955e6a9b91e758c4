"""The package's layers, checked: every import (at module level or inside a function; only ``if TYPE_CHECKING:``
blocks are left out, since they never run) points to the importer's own layer or one below it, and the import
graph has no cycle, neither between the flat modules and sub-packages nor between the modules of one
sub-package."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).parent.parent / "summarizer"

#: The declared order, lowest first. A unit is a flat module or a sub-package (extractive, engines, cache,
#: runners, service): it may import its own layer and the layers below, never one above.
LAYERS: list[set[str]] = [
    # the vocabulary and the plumbing, which know nothing of summaries
    {"terms", "errors", "secrets", "files", "text", "tokens", "jsonguard", "netguard", "resources", "wordlists"},
    {"keys", "templates", "pricing", "urllists", "throttle"},
    # settings, per-call options, results and what is logged of them
    {"config", "options", "result", "exchanges", "render"},
    # articles, schemas and their checks, prompts; a resolved call
    {"sources", "archives", "quality", "grounding", "schemas", "pointing", "prompts", "calls", "outcome", "chunking"},
    {"density"},
    # the rules of the extractive engine, and the hybrid way built on them
    {"extractive", "hybrid"},
    # what answers: the engines (models behind one registry), and the answer cache
    {"cache", "engines"},
    # one call, and many calls through it
    {"workflow", "batching", "core"},
    # files in, files out; measuring
    {"runners", "evaluate", "field_scores"},
    # the front ends
    {"service", "testing", "cli", "__main__", "__init__"},
]
SUB_PACKAGES = {"engines", "cache", "runners", "service", "extractive"}


def _resolved(path: Path, node: ast.ImportFrom) -> list[str]:
    """The dotted names (below ``summarizer``) an import names."""
    package = list(path.relative_to(PACKAGE).with_suffix("").parts[:-1])
    if node.level:
        base = package[: len(package) - (node.level - 1)] if node.level > 1 else package
        if node.module:
            return [".".join([*base, node.module])]
        return [".".join([*base, alias.name]) for alias in node.names]
    module = node.module or ""
    if module == "summarizer":
        return [alias.name for alias in node.names]
    if module.startswith("summarizer."):
        return [module[len("summarizer.") :]]
    return []


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(child) for stmt in node.body for child in ast.walk(stmt))
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) not in skipped and isinstance(node, ast.ImportFrom):
            found.update(_resolved(path, node))
    return found


def _unit(dotted: str) -> str:
    return dotted.split(".")[0]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" and len(parts) > 1 else parts)


def graph() -> dict[str, set[str]]:
    """Unit -> the units it imports (a flat module or a sub-package is one unit)."""
    units: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        unit = _unit(_module_name(path))
        targets = {_unit(name) for name in imports_of(path)} - {unit, "__version__", ""}
        units.setdefault(unit, set()).update(targets)
    return units


def module_graph(package: str) -> dict[str, set[str]]:
    """Within one sub-package: module -> the modules of the same sub-package it imports."""
    modules = {_module_name(path): path for path in (PACKAGE / package).rglob("*.py")}
    edges: dict[str, set[str]] = {}
    for name, path in modules.items():
        found = set()
        for target in imports_of(path):
            while target and target not in modules:
                target = target.rpartition(".")[0]  # ``from .client import X``: the module, not the name
            if target and target != name and target != package:
                found.add(target)
        edges[name] = found
    return edges


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def against_the_order(edges: dict[str, set[str]], layers: list[set[str]]) -> list[str]:
    """Imports that point to a higher layer, as ``a (layer i) -> b (layer j)``."""
    layer_of = {unit: number for number, units in enumerate(layers) for unit in units}
    return sorted(
        f"{unit} (layer {layer_of[unit]}) -> {target} (layer {layer_of[target]})"
        for unit, targets in edges.items()
        for target in targets
        if target in layer_of and unit in layer_of and layer_of[target] > layer_of[unit]
    )


def test_the_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_the_order_check_finds_an_import_that_points_up():
    layers = [{"low"}, {"high"}]
    assert against_the_order({"low": {"high"}, "high": set()}, layers) == ["low (layer 0) -> high (layer 1)"]
    assert against_the_order({"high": {"low"}, "low": set()}, layers) == []


def test_every_unit_has_a_declared_layer():
    declared = set().union(*LAYERS)
    units = set(graph())
    assert units - declared == set(), "place these in LAYERS"
    assert declared - units == set(), "these are declared but do not exist"
    assert {unit for unit in units if (PACKAGE / unit).is_dir()} == SUB_PACKAGES


def test_no_import_points_to_a_higher_layer():
    edges = graph()
    assert "engines" in edges["core"] and "core" in edges["runners"]  # the graph is really read
    assert against_the_order(edges, LAYERS) == []


def test_the_package_import_graph_has_no_cycle():
    edges = graph()
    assert find_cycle(edges) is None, " -> ".join(find_cycle(edges) or [])


def test_no_cycle_inside_a_sub_package():
    for package in sorted(SUB_PACKAGES):
        edges = module_graph(package)
        assert edges, package
        assert find_cycle(edges) is None, f"{package}: " + " -> ".join(find_cycle(edges) or [])


def test_no_engine_name_is_compared_outside_the_engines_package():
    """Engines are objects: what differs between them is an attribute, so no code outside ``engines/`` decides
    by an engine's name (a new engine is one module and one registry line)."""
    import re

    name = r"[\"'](?:llm|local|hybrid|extractive)[\"']"
    compares = re.compile(rf"(==|!=)\s*{name}|{name}\s*(==|!=)|\bin\s*[(\[{{][^)\]}}]*{name}")
    for line in ('if engine == "llm":', "if summarizer.engine.name != 'local':", 'engine in ("auto", "hybrid")'):
        assert compares.search(line), line  # the check sees each way of writing it
    found = [
        f"{path.relative_to(PACKAGE)}:{number}: {line.strip()}"
        for path in PACKAGE.rglob("*.py")
        if "engines" not in path.relative_to(PACKAGE).parts
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if compares.search(line)
    ]
    assert found == []


def test_the_vocabulary_and_the_options_sit_below_everything_that_uses_them():
    edges = graph()
    assert edges["terms"] == set() and edges["options"] <= {"terms", "errors"} and edges["errors"] == set()
