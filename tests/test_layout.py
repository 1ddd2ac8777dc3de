"""The package's shape (the redesign issue): small modules, no import cycle, no public name that
shadows a module beside it, and a test folder that mirrors the package."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "stronglth"
MAX_LINES = 400


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node of ``tree`` except those under ``if TYPE_CHECKING:`` (never executed)."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            skipped.update(id(n) for child in node.body for n in ast.walk(child))
    return [n for n in ast.walk(tree) if id(n) not in skipped]


def imported_modules(name: str, path: Path) -> set[str]:
    """Every module of the package that ``name`` imports when it runs, anywhere in the file (inside
    functions too; not under ``if TYPE_CHECKING:``): ``from a import b`` counts as ``a.b`` when that is
    a module."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in runtime_nodes(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            for alias in node.names:
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base)
    return {m for m in found if m in MODULES and m != name}


def import_graph() -> dict[str, set[str]]:
    return {name: imported_modules(name, path) for name, path in MODULES.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
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
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_the_cycle_finder_finds_a_planted_cycle():
    graph = import_graph()
    graph["stronglth.errors"] = graph["stronglth.errors"] | {"stronglth.ticket"}  # ticket imports errors
    assert any("stronglth.errors" in c and "stronglth.ticket" in c for c in cycles(graph))


def test_no_import_cycle_between_modules():
    assert cycles(import_graph()) == []


@pytest.mark.parametrize("name", sorted(MODULES))
def test_no_module_over_400_lines(name):
    lines = len(MODULES[name].read_text().splitlines())
    assert lines <= MAX_LINES, f"{MODULES[name]} has {lines} lines; split it (at most {MAX_LINES})"


@pytest.mark.parametrize("name", sorted(n for n, p in MODULES.items() if p.name == "__init__.py"))
def test_no_public_name_shadows_a_module_beside_it(name):
    package = importlib.import_module(name)
    children = {p.stem for p in MODULES[name].parent.glob("*.py") if p.name != "__init__.py"}
    children |= {p.name for p in MODULES[name].parent.iterdir() if (p / "__init__.py").exists()}
    for public in getattr(package, "__all__", []):
        if public in children:  # allowed only as the module itself, re-exported (stronglth.bounds)
            module = importlib.import_module(f"{name}.{public}")
            assert getattr(package, public) is module, f"{name}.{public} is both a public name and a module"


def test_the_submodules_behind_the_entry_points_import_as_modules():
    import stronglth.constructions.malach.gadget as gadget
    import stronglth.verification.exact as exact

    assert gadget.__name__ == "stronglth.constructions.malach.gadget" and hasattr(gadget, "weight_gadget")
    assert exact.__name__ == "stronglth.verification.exact" and hasattr(exact, "exact_error")


def test_tests_mirror_the_package():
    """Every test folder is a package folder (tests/constructions/malach/ for stronglth/constructions/malach/)."""
    tests = Path(__file__).resolve().parent
    for folder in (p for p in tests.rglob("*") if p.is_dir() and any(p.glob("test_*.py"))):
        relative = folder.relative_to(tests)
        assert relative == Path(".") or (PACKAGE / relative).is_dir(), f"tests/{relative} has no stronglth/{relative}"
