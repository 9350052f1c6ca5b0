"""Imports point one way: leaves ← spec ← plan ← constructs ← output | views ← app ← cli.

Every `import` / `from … import` of every rollgen module counts, inside functions too (a lazy import is
still a dependency) and under TYPE_CHECKING as well. A module may import a module of a lower layer, or
one of its own package. Read with `ast` only: nothing of rollgen is imported, so import order cannot
hide an edge.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "generator"
LEAVES = {"generator", "generator.diagnostics", "generator.names", "generator.mesh", "generator.packages"}
RANK = {"leaf": 0, "spec": 1, "plan": 2, "constructs": 3, "output": 4, "views": 4, "app": 5, "cli": 6, "__main__": 7}
# modules of the app layer besides app.py: check.py stays apart so `rollgen check` on up-to-date output
# loads neither the model nor cdk8s, and project.py (the project file) is read before any fast path
APP = {"generator.app", "generator.check", "generator.project"}
# Lazy on purpose, for start-up time: the CLI's fast path (nothing stale: no pydantic, no cdk8s; the
# output format, helm's included, is chosen before the survey), check's fast path, the schema read
# without building the models, and cdk8s started only when something is synthesized. Downward only,
# like any import.
LAZY_ON_PURPOSE = {"generator.cli", "generator.check", "generator.output.helm", "generator.spec.schema",
                   "generator.output.render", "generator.output.workers",
                   "generator.constructs.runtime", "generator.constructs.core"}



def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))
           if "schemas" not in p.relative_to(PACKAGE).parts and "__pycache__" not in p.parts}


def layer(module: str) -> str:
    if module in LEAVES:
        return "leaf"
    if module in APP:
        return "app"
    return module.split(".")[1]


def imports(module: str):
    """(imported module, line, inside a function) for every rollgen import of `module`."""
    path = MODULES[module]
    tree = ast.parse(path.read_text("utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    in_function = {id(n) for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))
                   for n in ast.walk(f)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            # `from generator.plan import routed` names a module, `from generator.plan.routed import Plan` a name
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names]
        else:
            continue
        for target in targets:
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if target and target != module and target.startswith("generator"):
                yield target, node.lineno, id(node) in in_function


EDGES = [(m, t, line, lazy) for m in MODULES for t, line, lazy in imports(m)]


def allowed(importer: str, imported: str) -> bool:
    a, b = layer(importer), layer(imported)
    if a == "leaf":
        return b == "leaf"
    if {a, b} == {"output", "views"}:
        return False
    return a == b or RANK[b] < RANK[a]


def upward() -> set[tuple[str, str]]:
    return {(m, t) for m, t, _, _ in EDGES if not allowed(m, t)}


def lazy() -> set[tuple[str, str]]:
    return {(m, t) for m, t, _, is_lazy in EDGES if is_lazy and m not in LAZY_ON_PURPOSE}


def cycles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), function-level imports included."""
    graph = {m: sorted({t for mm, t, _, _ in EDGES if mm == m}) for m in MODULES}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
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
                found.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return sorted(found)


def test_every_module_has_a_layer():
    assert {layer(m) for m in MODULES} <= set(RANK) | {"leaf"}


def test_no_module_imports_from_a_later_layer():
    edges = {(m, t): line for m, t, line, _ in EDGES}
    assert sorted(f"{m}:{edges[m, t]} imports {t} ({layer(m)} may not import {layer(t)})" for m, t in upward()) == []


def test_imports_inside_functions_only_where_start_up_time_needs_them():
    assert sorted(lazy()) == [], "import these at module level (a lazy import hides a dependency)"


def test_no_import_cycle_function_level_imports_included():
    assert cycles() == []


def test_the_layer_rule_itself():
    """The rule the tests above apply, on names rather than on the tree."""
    assert allowed("generator.plan.routed", "generator.spec.v1alpha1")
    assert allowed("generator.cli", "generator.app")
    assert allowed("generator.output.helm", "generator.plan.routed")
    assert allowed("generator.spec.checks", "generator.names")
    assert not allowed("generator.spec.checks", "generator.plan.patterns")
    assert not allowed("generator.plan.flagger", "generator.constructs.routes")
    assert not allowed("generator.views.text", "generator.output.render")
    assert not allowed("generator.names", "generator.spec.v1alpha1")
    assert not allowed("generator.app", "generator.cli")
