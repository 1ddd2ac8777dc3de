"""The ledger: one record per lemma, linking statement, implementing code and property test.

A :class:`Lemma` names what a step of docs/theory.md §2-4 states, which function of ``stronglth``
implements it and which property test in ``tests/`` checks the implementation. :func:`run_lemma`
verifies the links (the function is importable, the test function exists in its file, found by
parsing the file with :mod:`ast`) and then runs the lemma's ``check()``; :func:`format_ledger`
prints the result as an aligned plain-text table with a status word ``pass`` or ``FAIL`` per row.
"""

from __future__ import annotations

import ast
import importlib
import sys
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
"""The repository root: property-test paths are relative to it."""

PASS, FAIL = "pass", "FAIL"


@dataclass(frozen=True)
class Lemma:
    """One row of the ledger.

    ``name``: short name of the lemma; ``statement``: the statement in one line;
    ``implemented_by``: dotted path of the implementing function (``package.module.function``,
    or ``package.module.Class.attribute``); ``property_test``: ``path/to/test_file.py::test_name``
    relative to the repository root; ``reference``: where the mathematics is written down.
    """

    name: str
    statement: str
    implemented_by: str
    property_test: str
    reference: str


@dataclass(frozen=True)
class Row:
    """The outcome for one lemma: ``status`` is ``pass`` or ``FAIL``; ``message`` says why it failed."""

    lemma: Lemma
    status: str
    message: str = ""

    @property
    def passed(self) -> bool:
        return self.status == PASS


def resolve_implementation(dotted: str) -> object:
    """Import the object named by ``dotted``: the longest importable module prefix, then attributes.

    Raises AssertionError naming the part that could not be found.
    """
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        module_name = ".".join(parts[:cut])
        try:
            obj = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            missing = exc.name or ""
            if missing == module_name or module_name.startswith(missing + "."):
                continue  # not a module (an attribute further down), or a package that does not exist
            raise AssertionError(f"implementing function {dotted!r}: importing {module_name} failed: {exc}") from exc
        for attr in parts[cut:]:
            if not hasattr(obj, attr):
                raise AssertionError(
                    f"implementing function {dotted!r} not found: {'.'.join(parts[:cut])} has no {attr!r} on the path"
                )
            obj = getattr(obj, attr)
        if not callable(obj) and not isinstance(obj, property):
            raise AssertionError(f"implementing function {dotted!r} is not callable (a {type(obj).__name__})")  # noqa: TRY004
        return obj
    raise AssertionError(f"implementing function {dotted!r}: no importable module in the path")


def _test_names(tree: ast.Module) -> set[str]:
    """Names of test functions in a test module: top level, and methods of top-level classes
    (as ``Class::method``)."""
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names.add(node.name)
        elif isinstance(node, ast.ClassDef):
            for item in node.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    names.add(f"{node.name}::{item.name}")
    return names


def find_property_test(spec: str, root: Path = REPO_ROOT) -> None:
    """Check that ``path::name`` names a test function that exists (parsed with :mod:`ast`)."""
    path, sep, name = spec.partition("::")
    if not sep or not name:
        raise AssertionError(f"property test {spec!r} must read 'path/to/test_file.py::test_name'")
    file = root / path
    if not file.is_file():
        raise AssertionError(f"property test {spec!r}: no file {path}")
    tree = ast.parse(file.read_text(encoding="utf-8"), filename=str(file))
    if name not in _test_names(tree):
        raise AssertionError(f"property test {spec!r}: {path} defines no test {name!r}")
    if not name.split("::")[-1].startswith("test"):
        raise AssertionError(f"property test {spec!r}: {name!r} is not collected by pytest (no 'test' prefix)")


def run_lemma(lemma: Lemma, check: Callable[[], None], root: Path = REPO_ROOT) -> Row:
    """Verify the links of ``lemma`` and run its ``check``; any exception is a ``FAIL`` row."""
    try:
        resolve_implementation(lemma.implemented_by)
        find_property_test(lemma.property_test, root)
        check()
    except AssertionError as exc:
        return Row(lemma, FAIL, f"{type(exc).__name__}: {exc}" if str(exc) else "".join(traceback.format_exception(exc)))
    except Exception as exc:  # noqa: BLE001 - a crash in a check fails its row, not the ledger
        return Row(lemma, FAIL, "".join(traceback.format_exception(exc)).rstrip())
    return Row(lemma, PASS)


def run_ledger(entries: Iterable[tuple[Lemma, Callable[[], None]]], root: Path = REPO_ROOT) -> list[Row]:
    """Run every ``(lemma, check)`` pair; one :class:`Row` each, in order."""
    return [run_lemma(lemma, check, root) for lemma, check in entries]


COLUMNS = ("lemma", "statement", "implemented by", "property test", "status")


def format_ledger(rows: list[Row]) -> str:
    """An aligned plain-text table, then the failure messages (if any) below it."""
    cells = [COLUMNS] + [(r.lemma.name, r.lemma.statement, r.lemma.implemented_by, r.lemma.property_test, r.status) for r in rows]
    widths = [max(len(row[c]) for row in cells) for c in range(len(COLUMNS))]

    def line(row) -> str:
        return " | ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)).rstrip()

    out = [line(cells[0]), "-+-".join("-" * w for w in widths)]
    out += [line(row) for row in cells[1:]]
    failed = [r for r in rows if not r.passed]
    out.append("")
    out.append(f"{len(rows) - len(failed)} of {len(rows)} lemmas pass")
    for r in failed:
        out.append("")
        out.append(f"FAIL {r.lemma.name} ({r.lemma.reference}):")
        out.extend("    " + text for text in r.message.splitlines())
    return "\n".join(out)


def main(entries: Iterable[tuple[Lemma, Callable[[], None]]], stream=None) -> int:
    """Print the ledger of ``entries``; return 0 when every row passes, 1 otherwise."""
    stream = sys.stdout if stream is None else stream
    rows = run_ledger(entries)
    print(format_ledger(rows), file=stream)
    return 0 if all(r.passed for r in rows) else 1
