"""The core (numpy, scipy, tqdm) works alone; a missing extra is a package error naming the extra."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

BLOCK = """
import importlib.abc, sys
BLOCKED = {blocked!r}
class Blocker(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {{name!r}} (blocked by the test)")
        return None
sys.meta_path.insert(0, Blocker())
"""
EXTRA_PACKAGES = ["torch", "sklearn", "mnist1d", "hypothesis", "matplotlib", "sympy"]


def run_without(blocked: list[str], code: str) -> subprocess.CompletedProcess:
    script = BLOCK.format(blocked=blocked) + textwrap.dedent(code)
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)


def test_construct_verify_and_audit_work_with_the_core_alone(tmp_path):
    result = run_without(
        EXTRA_PACKAGES,
        f"""
        import stronglth as slth
        target = slth.random_target(2, [3, 1], seed=0)
        ticket = slth.construct(target, eps=0.3, seed=0)
        report = slth.verify(ticket, samples=500, exact=True)
        assert report.nested and report.certified <= 0.3
        loaded = slth.Ticket.load(ticket.save({str(tmp_path / "t.npz")!r}))
        assert loaded.nnz == ticket.nnz
        sub = slth.construct(target, method="subsetsum", eps=0.3, seed=0)
        assert sub.certified_error <= 0.3
        import sys
        assert not {{"torch", "hypothesis", "matplotlib", "sympy"}} & set(sys.modules)
        print("ok")
        """,
    )
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr


@pytest.mark.parametrize(
    "blocked, code, extra",
    [
        (["torch"], "import stronglth.baselines", "torch"),
        (["torch"], "import stronglth as s; s.random_target(2, [2], seed=0).to_torch()", "torch"),
        (["hypothesis"], "import stronglth.testing", "testing"),
        (["matplotlib"], "from stronglth.experiments.toolkit import new_figure; new_figure()", "plots"),
        (["sklearn"], "from stronglth.baselines.data import load_digits; load_digits()", "torch"),
    ],
)
def test_a_missing_extra_names_the_extra(blocked, code, extra):
    result = run_without(
        blocked,
        f"""
        from stronglth.errors import MissingExtraError
        try:
            {code}
        except MissingExtraError as exc:
            print(exc)
        else:
            print("no error")
        """,
    )
    assert result.returncode == 0, result.stderr
    assert f"pip install 'stronglth[{extra}]'" in result.stdout, result.stdout
