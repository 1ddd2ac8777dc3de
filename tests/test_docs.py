"""The guide's code runs as written, and the API reference builds offline."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_guide_code_runs_and_its_property_test_passes():
    text = (DOCS / "guide.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) >= 2
    namespace: dict = {}
    exec(compile("\n".join(blocks), str(DOCS / "guide.md"), "exec"), namespace)
    tests = [f for name, f in namespace.items() if name.startswith("test_") and callable(f)]
    assert tests
    for test in tests:
        test()


def test_api_reference_builds(tmp_path):
    modules = (DOCS / "modules.txt").read_text().split()  # the list `make docs` documents
    result = subprocess.run([sys.executable, "-m", "pdoc", *modules, "-o", str(tmp_path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "stronglth.html").is_file()
    assert "assert_sup_error_at_most" in (tmp_path / "stronglth" / "testing.html").read_text()
