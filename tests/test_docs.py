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


def test_the_api_reference_lists_every_public_module():
    package = DOCS.parent / "stronglth"
    public = set()
    for path in package.rglob("*.py"):
        parts = list(path.relative_to(DOCS.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        if not any(p.startswith("_") for p in parts):
            public.add(".".join(parts))
    listed = set((DOCS / "modules.txt").read_text().split())
    assert public - listed == set(), "public modules missing from docs/modules.txt (make docs)"
    assert listed - public == set(), "docs/modules.txt names modules that do not exist"


def test_every_theory_section_a_docstring_cites_exists():
    """Docstrings, proofs and tests cite ``docs/theory.md §n``: section n must be there."""
    sections = set(re.findall(r"^## (\d+)\. ", (DOCS / "theory.md").read_text(), re.M))
    root = DOCS.parent
    cited: set[str] = set()
    for path in [*root.glob("stronglth/**/*.py"), *root.glob("proofs/*.py"), root / "README.md", DOCS / "guide.md"]:
        for first, last in re.findall(r"docs/theory\.md §(\d+)(?:-(\d+))?", path.read_text()):
            cited.update(str(n) for n in range(int(first), int(last or first) + 1))
    assert cited and cited <= sections, f"cited sections without a heading: {sorted(cited - sections)}"
