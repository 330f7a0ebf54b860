"""The house in layers: every import points down, and no module imports itself round a circle.

    pipeline/    the daemon and its stages (ingest, analysis, digest, daemon, cli)
       |
    storage/     models, queries, the records stages hand to storage
       |
    extractors/  spaCy components and their records
       |
    config/      settings, user-edited data, the exception root

Imports inside functions and under ``TYPE_CHECKING`` count too: a deferred
import may save start-up time, but it must not hide a circle or an upward arrow.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ("config", "extractors", "storage", "pipeline")  # lowest first


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for layer in LAYERS for p in (ROOT / layer).rglob("*.py")
            if "migrations" not in p.parts}


def _imports(path: Path, known: set[str]) -> set[str]:
    """Project modules imported anywhere in the file (the deepest known prefix)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            targets = [f"{node.module}.{a.name}" for a in node.names] + [node.module]
        elif isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target:
                found.add(target)
                break
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    known = set(modules)
    return {name: _imports(path, known) - {name} for name, path in modules.items()}


def _package_of(module: str) -> str:
    """A module's package; a package's __init__ belongs to its parent, which it assembles."""
    return module.rpartition(".")[0] or module


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return groups


def test_no_import_circle() -> None:
    graph = _graph()
    # A package's __init__ importing its own submodules (to re-export or register
    # them) is not a circle with those submodules importing a sibling.
    edges = {m: {d for d in deps if not (m.startswith(f"{d}.") and d == _package_of(m))}
             for m, deps in graph.items()}
    assert _circles(edges) == []


def test_every_arrow_points_down_the_layers() -> None:
    upward = sorted(
        f"{module} -> {dep}"
        for module, deps in _graph().items() for dep in deps
        if LAYERS.index(dep.split(".")[0]) > LAYERS.index(module.split(".")[0])
    )
    assert upward == []


def test_the_checker_sees_circles_and_upward_arrows() -> None:
    """The two checks above would fail on a house that had either (a test that cannot
    fail is a defect)."""
    assert _circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    graph = _graph()
    assert "storage.records" in graph["storage.queries"]
    assert all(not dep.startswith("pipeline") for dep in graph["storage.queries"])
