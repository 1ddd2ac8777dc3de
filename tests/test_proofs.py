"""The proof ledger (``python -m proofs``): every row passes, and a broken lemma is reported as FAIL."""

from __future__ import annotations

import importlib
import io
import subprocess
import sys
from pathlib import Path

import pytest
import sympy as sp

import proofs  # at the repository root, next to `stronglth` (on pytest's pythonpath)
from proofs import LEMMA_MODULES, Lemma, format_ledger, registry, run_ledger, run_lemma
from proofs._ledger import main
from proofs._sym import assert_identity, assert_nonnegative, relu

REPO_ROOT = Path(__file__).resolve().parent.parent

GOOD = Lemma(
    name="a lemma",
    statement="something true",
    implemented_by="stronglth.bounds.product_cdf",
    property_test="tests/test_bounds.py::test_product_cdf_matches_integral_of_minus_log",
    reference="docs/theory.md §4",
)


def _ledger_rows(output: str) -> list[tuple[str, str]]:
    """(lemma, status) of each table row: the lines between the rule under the header and the blank line."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if set(line) <= {"-", "+"} and line) + 1
    rows = []
    for line in lines[start:]:
        if not line.strip():
            break
        rows.append((line.split(" | ", 1)[0].strip(), line.rsplit(" | ", 1)[1].strip()))
    return rows


def _run_proofs(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], check=False, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)


def test_python_m_proofs_passes_every_row():
    result = _run_proofs("-m", "proofs")
    assert result.returncode == 0, result.stdout + result.stderr
    rows = _ledger_rows(result.stdout)
    assert [name for name, _ in rows] == [lemma.name for lemma, _ in registry()]
    assert len(rows) == len(LEMMA_MODULES)
    assert all(status == "pass" for _, status in rows), result.stdout
    assert "FAIL" not in result.stdout


def test_python_m_proofs_exits_nonzero_on_a_failing_row():
    # python -m proofs with one extra lemma whose check fails: the row says FAIL, the exit status is 1
    script = (
        "import runpy, sys\n"
        f"sys.path.insert(0, {str(REPO_ROOT)!r})\n"
        "import proofs\n"
        "from proofs import Lemma\n"
        "good = proofs.registry\n"
        "def broken():\n"
        "    assert 2 + 2 == 5, 'arithmetic is broken'\n"
        f"lemma = Lemma('broken lemma', 'false', {GOOD.implemented_by!r}, {GOOD.property_test!r}, 'nowhere')\n"
        "proofs.registry = lambda: good()[:1] + [(lemma, broken)]\n"
        "runpy.run_module('proofs', run_name='__main__')\n"
    )
    result = _run_proofs("-c", script)
    assert result.returncode == 1, result.stdout + result.stderr
    rows = dict(_ledger_rows(result.stdout))
    assert rows == {registry()[0][0].name: "pass", "broken lemma": "FAIL"}
    assert "arithmetic is broken" in result.stdout


def test_failing_check_is_a_fail_row_with_its_message():
    def broken():
        raise AssertionError("the identity does not hold")

    def crashing():
        raise ZeroDivisionError("a crash is a failure too")

    rows = run_ledger([(GOOD, lambda: None), (GOOD, broken), (GOOD, crashing)])
    assert [r.status for r in rows] == ["pass", "FAIL", "FAIL"]
    text = format_ledger(rows)
    assert "the identity does not hold" in text and "ZeroDivisionError" in text
    assert "1 of 3 lemmas pass" in text
    out = io.StringIO()
    assert main([(GOOD, lambda: None), (GOOD, broken)], stream=out) == 1
    assert main([(GOOD, lambda: None)], stream=io.StringIO()) == 0


@pytest.mark.parametrize(
    "field, stale, needle",
    [
        ("implemented_by", "stronglth.bounds.no_such_function", "no_such_function"),
        ("implemented_by", "stronglth.no_such_module.f", "no_such_module"),
        ("implemented_by", "stronglth.bounds.RULES", "not callable"),
        ("property_test", "tests/test_bounds.py::test_no_such_test", "test_no_such_test"),
        ("property_test", "tests/no_such_file.py::test_x", "no_such_file"),
        ("property_test", "tests/test_bounds.py", "must read"),
    ],
)
def test_stale_names_are_fail(field, stale, needle):
    lemma = Lemma(**{**GOOD.__dict__, field: stale})
    row = run_lemma(lemma, lambda: None)
    assert row.status == "FAIL" and needle in row.message


def test_every_registered_name_resolves():
    for lemma, _ in registry():
        assert run_lemma(lemma, lambda: None).status == "pass", lemma


@pytest.mark.parametrize(
    "module, function, wrong",
    [
        ("proofs.nnz", "nnz_bound", lambda dims: 3 * sum(dims[i] * dims[i - 1] for i in range(1, len(dims)))),
        ("proofs.budget", "per_weight_tolerance", lambda dims, eps, **kw: tuple(1.0 for _ in dims[1:])),
        ("proofs.block_size", "block_size_for", lambda p, n, delta: 1),
        ("proofs.product", "product_cdf", lambda z: z),
    ],
)
def test_a_wrong_formula_in_bounds_fails_its_lemma(monkeypatch, module, function, wrong):
    from stronglth import bounds

    lemma_module = importlib.import_module(module)
    assert run_lemma(lemma_module.LEMMA, lemma_module.check).status == "pass"
    monkeypatch.setattr(bounds, function, wrong)
    row = run_lemma(lemma_module.LEMMA, lemma_module.check)
    assert row.status == "FAIL", f"{module} did not notice a wrong {function}"


def test_symbolic_helpers_reject_false_statements():
    a, t = sp.symbols("a t", positive=True)
    assert_identity(relu(-a * t), 0, "s(-a t) = 0")
    with pytest.raises(AssertionError):
        assert_identity(relu(a * t), 0, "false")
    with pytest.raises(AssertionError):
        assert_nonnegative(a - t, "undecided sign")
    with pytest.raises(AssertionError):
        assert_nonnegative(-a * t, "negative")


def test_each_lemma_module_is_a_document():
    for name in LEMMA_MODULES:
        module = importlib.import_module(name)
        doc = module.__doc__ or ""
        papers = ("Malach", "Pensia", "Orseau", "Burkholz", "Fischer")  # each lemma names the paper it serves
        assert "docs/theory.md §" in doc and any(paper in doc for paper in papers), name
        assert "Statement." in doc and "Derivation." in doc and "Check." in doc, name
        assert module.LEMMA.reference in doc, name
    assert len({lemma.name for lemma, _ in proofs.registry()}) == len(LEMMA_MODULES)
