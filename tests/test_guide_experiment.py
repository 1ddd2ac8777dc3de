"""docs/guide-experiment.md runs as written: its module, extracted from the page, is the shipped
examples/width_vs_dim.py, and the guide's commands (two shards, merge, plot) run it from the CLI and
give the rows of an unsharded run, its figure and an index section; its Python block runs too."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

from stronglth import sweep
from stronglth.cli import main

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "guide-experiment.md"
EXAMPLE = ROOT / "examples" / "width_vs_dim.py"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", GUIDE.read_text(), re.S)


def module_block() -> str:
    (block,) = [b for b in python_blocks() if "EXPERIMENT = Experiment(" in b]
    return block


def commands() -> list[list[str]]:
    lines = [line for block in re.findall(r"```sh\n(.*?)```", GUIDE.read_text(), re.S) for line in block.splitlines()]
    return [shlex.split(line)[1:] for line in lines if line.startswith("stronglth ")]


def stored(directory: Path) -> dict[str, tuple]:
    """Rows by hash: what is a function of the config (not ``seconds``, ``finished``)."""
    return {h: (r.experiment, r.type, r.config, r.result) for h, r in sweep.load_rows(directory).items()}


def test_the_guide_module_is_the_shipped_example_and_its_line_count_is_stated():
    assert module_block() == EXAMPLE.read_text(), "docs/guide-experiment.md and examples/width_vs_dim.py differ"
    lines = len(EXAMPLE.read_text().splitlines())
    assert f"It is {lines} lines" in GUIDE.read_text()


@pytest.fixture(scope="module")
def guide_run(tmp_path_factory):
    """The guide's commands in a fresh directory holding the guide's module, and an unsharded run."""
    work = tmp_path_factory.mktemp("guide")
    (work / "width_vs_dim.py").write_text(module_block())
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(work)
        steps = commands()
        assert [s[:2] for s in steps] == [["sweep", "--module"], ["sweep", "--module"], ["sweep", "merge"], ["plot", "results"]]
        assert [s[s.index("--shard") + 1] for s in steps[:2]] == ["0/2", "1/2"]
        for argv in steps:
            assert main(argv) == 0, argv
        assert main(["sweep", "--module", "width_vs_dim.py", "width-vs-dim", "--out", "unsharded", "--quiet"]) == 0
        namespace: dict = {}
        (python,) = [b for b in python_blocks() if b != module_block()]
        exec(compile(python, str(GUIDE), "exec"), namespace)
    return work, namespace


def test_sharded_merged_rows_equal_an_unsharded_run(guide_run):
    work, _ = guide_run
    merged = stored(work / "results" / "width-vs-dim")
    assert len(merged) == 8 == len(sweep.read_rows(work / "results" / "width-vs-dim" / "results.jsonl"))
    assert merged == stored(work / "unsharded" / "width-vs-dim")
    assert {r[2]["d"] for r in merged.values()} == {1, 2, 4, 8}
    for _, _, config, result in merged.values():  # a block size above one that fails, within rtol
        assert result["k"] is not None and result["k"] > result["k_fail"]
        assert result["k"] <= max(result["k_fail"] + 1, result["k_fail"] * (1 + config["rtol"]))
        assert result["successes"] >= config["seeds"] - result["allowed_failures"]


def test_the_report_figure_and_index_exist(guide_run):
    work, _ = guide_run
    directory = work / "results" / "width-vs-dim"
    png = directory / "width-vs-dim.png"
    assert png.is_file() and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "| malach-best | 0.2 | 8 |" in (directory / "summary.md").read_text()
    manifest = json.loads((directory / "experiment.json").read_text())
    assert manifest["origin"] == f"file:{(work / 'width_vs_dim.py').resolve()}" and manifest["name"] == "width-vs-dim"
    index = (work / "results" / "README.md").read_text()
    assert (
        "## Plugin experiments" in index
        and "### width-vs-dim" in index
        and "![width-vs-dim](width-vs-dim/width-vs-dim.png)" in index
    )


def test_the_python_block_runs_the_same_cells_in_a_process_pool(guide_run):
    work, namespace = guide_run
    summary = namespace["summary"]
    assert summary.computed == 8 and summary.experiment == "width-vs-dim"
    assert stored(work / "results-from-python" / "width-vs-dim") == stored(work / "results" / "width-vs-dim")
