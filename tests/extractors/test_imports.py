"""The extractor modules import each other one way only: no import circle,
and no import hidden inside a function to dodge one."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "extractors"


def _graph() -> tuple[dict[str, set[str]], dict[str, list[int]]]:
    """module -> extractor modules it imports at module level; and the lines
    of imports made inside functions."""
    modules = {p.stem for p in PACKAGE.glob("*.py")}
    graph: dict[str, set[str]] = {}
    nested: dict[str, list[int]] = {}
    for path in PACKAGE.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        deps: set[str] = set()
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module:
                if node.module == "extractors":  # from extractors import actors
                    names = [a.name for a in node.names if a.name in modules]
                elif node.module.startswith("extractors."):
                    names = [node.module.split(".")[1]]
            elif isinstance(node, ast.Import):
                names = [a.name.split(".")[1] for a in node.names
                         if a.name.startswith("extractors.")]
            if names:
                deps.update(names)
        for fn in ast.walk(tree):
            if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
                for node in ast.walk(fn):
                    if isinstance(node, ast.Import | ast.ImportFrom):
                        nested.setdefault(path.stem, []).append(node.lineno)
        graph[path.stem] = deps - {path.stem}
    return graph, nested


def test_no_import_circle() -> None:
    graph, _ = _graph()
    # The package __init__ re-exports; the modules below it must not lean on it.
    graph.pop("__init__")
    done: set[str] = set()

    def visit(mod: str, path: tuple[str, ...]) -> None:
        assert mod not in path, f"import circle: {' -> '.join((*path, mod))}"
        if mod in done:
            return
        for dep in sorted(graph.get(mod, ())):
            visit(dep, (*path, mod))
        done.add(mod)

    for mod in sorted(graph):
        visit(mod, ())


def test_no_imports_inside_functions() -> None:
    _, nested = _graph()
    assert nested == {}, f"imports inside functions (module: lines): {nested}"
