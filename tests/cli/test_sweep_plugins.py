"""`stronglth sweep --module` / `plot` / `sweep merge` with a plugin experiment (stronglth/cli/sweep.py,
stronglth/sweep/plugins.py): runs like a built-in, and every mistake is one line, exit 2, naming the file."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from stronglth import sweep
from stronglth.cli import main
from stronglth.sweep import plugins

SQUARES = """
from dataclasses import dataclass

from stronglth.experiments import toolkit
from stronglth.sweep import Experiment, SweepConfig


@dataclass(frozen=True)
class SquareCell(SweepConfig):
    x: int


def grid(full):
    return [SquareCell(x=i) for i in range(12 if full else 6)]


def cell(config):
    return {"square": config.x * config.x}


def report(directory, rows):
    records = [{"x": r.config["x"], "square": r.result["square"]} for r in rows]
    return [toolkit.write_csv(directory / "squares.csv", records), toolkit.write_text(directory / "summary.md", "# squares\\n")]


EXPERIMENT = Experiment("{name}", SquareCell, grid, cell, report, "squares of integers")
"""


def write_plugin(path: Path, name: str = "squares") -> Path:
    path.write_text(SQUARES.replace("{name}", name))
    return path


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("stronglth: error: "), err
    return err


def run_main(argv: list[str]) -> int:
    try:
        return main(argv)
    except SystemExit as exc:  # errors found while parsing exit from argparse
        return int(exc.code or 0)


def test_a_plugin_runs_shards_merges_and_plots_like_a_builtin(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_plugin(tmp_path / "squares.py")
    assert run_main(["sweep", "--module", "squares.py", "squares", "--out", "out", "--shard", "0/2", "--quiet"]) == 0
    assert run_main(["sweep", "squares", "--module=squares.py", "--out", "out", "--shard", "1/2", "--quiet"]) == 0
    assert "stronglth sweep merge out" in capsys.readouterr().out
    assert run_main(["sweep", "merge", "out"]) == 0
    assert "squares: 6 rows appended" in capsys.readouterr().out
    rows = sweep.load_rows(tmp_path / "out" / "squares")
    assert sorted(r.result["square"] for r in rows.values()) == [0, 1, 4, 9, 16, 25]
    assert (tmp_path / "out" / "squares" / "squares.csv").is_file(), "merge wrote the plugin's report"
    assert run_main(["sweep", "--module", "squares.py", "squares", "--out", "out", "--jobs", "2", "--full", "--quiet"]) == 0
    assert "12 cells, 6 already done, 6 computed" in capsys.readouterr().out
    (tmp_path / "out" / "squares" / "squares.csv").unlink()
    assert run_main(["plot", "out"]) == 0, "plot finds the plugin from experiment.json"
    assert (tmp_path / "out" / "squares" / "squares.csv").is_file()
    assert "### squares" in (tmp_path / "out" / "README.md").read_text()


def test_plot_and_merge_of_a_moved_plugin_say_what_to_pass(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_plugin(tmp_path / "squares.py")
    assert run_main(["sweep", "--module", "squares.py", "squares", "--out", "out", "--shard", "0/2", "--quiet"]) == 0
    (tmp_path / "squares.py").rename(tmp_path / "moved.py")
    capsys.readouterr()
    assert run_main(["plot", "out"]) == 2
    err = one_line_error(capsys)
    assert "squares.py: no such file" in err and "pass --module PATH_OR_MODULE" in err
    assert run_main(["sweep", "merge", "out"]) == 0, "the rows are merged all the same"
    assert "no report written" in capsys.readouterr().out
    assert run_main(["plot", "out", "--module", "moved.py"]) == 0
    assert plugins.read_manifest(tmp_path / "out" / "squares")["origin"] == f"file:{(tmp_path / 'moved.py').resolve()}"
    assert run_main(["plot", "out"]) == 0, "plot recorded the new place"


def test_results_without_a_record_name_the_missing_module(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_plugin(tmp_path / "squares.py")
    assert run_main(["sweep", "--module", "squares.py", "squares", "--out", "out", "--quiet"]) == 0
    (tmp_path / "out" / "squares" / "experiment.json").unlink()
    capsys.readouterr()
    assert run_main(["plot", "out"]) == 2
    err = one_line_error(capsys)
    assert "unknown experiment 'squares'" in err and "--module PATH_OR_MODULE" in err
    assert run_main(["sweep", "merge", "out", "--module", "squares.py"]) == 0


BAD_MODULES = [
    ("missing.py", None, "missing.py: no such file"),
    ("broken.py", "import math\nx = 1 / 0\n", "broken.py, line 2: importing it failed: ZeroDivisionError: division by zero"),
    ("syntax.py", "def f(:\n", "syntax.py, line 1: importing it failed: SyntaxError"),
    ("exits.py", "raise SystemExit(3)\n", "exits.py, line 1: importing it failed: SystemExit"),
    ("empty.py", "X = 1\n", "empty.py defines no EXPERIMENT"),
    ("wrongtype.py", "EXPERIMENT = {'name': 'squares'}\n", "EXPERIMENT is a dict, not a stronglth.sweep.Experiment"),
]


@pytest.mark.parametrize("filename, text, message", BAD_MODULES)
def test_a_bad_module_is_one_line_exit_2_naming_the_file(tmp_path, capsys, monkeypatch, filename, text, message):
    monkeypatch.chdir(tmp_path)
    if text is not None:
        (tmp_path / filename).write_text(text)
    assert run_main(["sweep", "--module", filename, "squares", "--out", "out"]) == 2
    assert message in one_line_error(capsys)
    assert not (tmp_path / "out").exists(), "nothing written on bad input"


def test_a_name_mismatch_and_a_builtin_name_are_refused(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_plugin(tmp_path / "squares.py")
    assert run_main(["sweep", "--module", "squares.py", "cubes", "--out", "out"]) == 2
    assert "squares.py defines experiment 'squares', not 'cubes'" in one_line_error(capsys)
    write_plugin(tmp_path / "clash.py", name="width-vs-eps")
    assert run_main(["sweep", "--module", "clash.py", "width-vs-eps", "--out", "out"]) == 2
    assert "the name of a built-in experiment" in one_line_error(capsys)
    write_plugin(tmp_path / "merge.py", name="merge")
    assert run_main(["sweep", "--module", "merge.py", "x", "--out", "out"]) == 2
    assert "defines experiment 'merge', not 'x'" in one_line_error(capsys)
    assert run_main(["sweep", "cubes", "--out", "out"]) == 2
    assert "unknown experiment 'cubes'" in (err := one_line_error(capsys)) and "--module" in err
    assert not (tmp_path / "out").exists()


def test_a_dotted_module_from_the_current_directory(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", str(tmp_path))])
    package = tmp_path / "mylab"
    package.mkdir()
    (package / "__init__.py").write_text("")
    write_plugin(package / "squares_exp.py")
    monkeypatch.delitem(sys.modules, "mylab", raising=False)
    assert run_main(["sweep", "--module", "mylab.squares_exp", "squares", "--out", "out", "--quiet"]) == 0
    assert plugins.read_manifest(tmp_path / "out" / "squares")["origin"] == "module:mylab.squares_exp"
    assert run_main(["plot", "out"]) == 0
    assert run_main(["sweep", "--module", "mylab.nothere", "squares", "--out", "out"]) == 2
    assert "no module named 'mylab.nothere'" in one_line_error(capsys)
    for name in ("mylab.squares_exp", "mylab"):
        sys.modules.pop(name, None)


def test_an_installed_entry_point_runs_by_name(tmp_path, capsys, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path))
    write_plugin(tmp_path / "ep_squares.py")
    write_plugin(tmp_path / "ep_clash.py", name="toy")
    points = [
        importlib.metadata.EntryPoint(name="squares", value="ep_squares", group=plugins.ENTRY_POINT_GROUP),
        importlib.metadata.EntryPoint(name="squares-exp", value="ep_squares:EXPERIMENT", group=plugins.ENTRY_POINT_GROUP),
        importlib.metadata.EntryPoint(name="toy", value="ep_clash", group=plugins.ENTRY_POINT_GROUP),
    ]
    monkeypatch.setattr(plugins, "_entry_points", lambda: points)
    out = str(tmp_path / "out")
    assert run_main(["sweep", "squares", "--out", out, "--quiet"]) == 0
    assert plugins.read_manifest(tmp_path / "out" / "squares")["origin"] == "entry-point:squares"
    assert run_main(["plot", out]) == 0
    assert run_main(["sweep", "squares-exp", "--out", out]) == 2
    assert "defines experiment 'squares', not 'squares-exp'" in one_line_error(capsys)
    assert run_main(["sweep", "toy", "--out", out, "--quiet"]) == 0, "the built-in wins"
    assert "entry point 'toy'" in capsys.readouterr().err
    sys.modules.pop("ep_squares", None)
    sys.modules.pop("ep_clash", None)


def test_the_installed_command_reports_a_broken_module_in_one_line(tmp_path):
    (tmp_path / "broken.py").write_text(
        textwrap.dedent("""
        import numpy as np
        EXPERIMENT = np.nonexistent_function()
    """)
    )
    result = subprocess.run(
        [sys.executable, "-m", "stronglth", "sweep", "--module", "broken.py", "x"], cwd=tmp_path, capture_output=True, text=True
    )
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "broken.py, line 3: importing it failed: AttributeError" in result.stderr
