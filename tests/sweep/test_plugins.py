"""Plugin experiments (stronglth/sweep/plugins.py): loading a file or a module, the checks on what it
defines, the experiment.json record a run leaves, merge copying it, the index's plugin section, and
a plugin file's cells on Dask workers (sent by value)."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

import distributed
import pytest

from stronglth import sweep
from stronglth.errors import InvalidInputError
from stronglth.experiments import EXPERIMENTS, experiment_of_directory, get_experiment
from stronglth.sweep import plugins

PLUGIN = """
from dataclasses import dataclass

from stronglth.sweep import Experiment, SweepConfig


@dataclass(frozen=True)
class CubeCell(SweepConfig):
    x: int
    scale: float = 1.0


def grid(full):
    return [CubeCell(x=i) for i in range(5)]


def cell(config):
    return {"cube": config.scale * config.x**3}


EXPERIMENT = Experiment("cubes", CubeCell, grid, cell, None, "cubes")
"""


@pytest.fixture
def plugin_file(tmp_path) -> Path:
    path = tmp_path / "cubes.py"
    path.write_text(PLUGIN)
    return path


def rows_of(directory) -> dict:
    return {h: (r.config, r.result) for h, r in sweep.load_rows(directory).items()}


def test_a_file_loads_with_its_origin_and_its_cells_are_pure(plugin_file):
    exp = plugins.load_experiment(plugin_file, "cubes", reserved=EXPERIMENTS)
    assert exp.name == "cubes" and exp.origin == f"file:{plugin_file.resolve()}"
    assert [exp.cell(c)["cube"] for c in exp.grid(False)] == [0.0, 1.0, 8.0, 27.0, 64.0]
    again = plugins.load_experiment(str(plugin_file))
    assert sweep.config_hash(again.grid(False)[2]) == sweep.config_hash(exp.grid(False)[2]), (
        "the hash names the config, not the load"
    )
    assert get_experiment("cubes", module=plugin_file).origin == exp.origin


def test_what_a_module_defines_is_checked(tmp_path, plugin_file):
    with pytest.raises(InvalidInputError, match="not 'squares'"):
        plugins.load_experiment(plugin_file, "squares")
    with pytest.raises(InvalidInputError, match="name of a built-in experiment"):
        plugins.load_experiment(plugin_file, reserved={"cubes": None})
    (tmp_path / "badname.py").write_text(PLUGIN.replace('"cubes", CubeCell', '"my cubes/x", CubeCell'))
    with pytest.raises(InvalidInputError, match="not a plain name"):
        plugins.load_experiment(tmp_path / "badname.py")
    (tmp_path / "badtype.py").write_text(PLUGIN.replace('"cubes", CubeCell', '"cubes", dict'))
    with pytest.raises(InvalidInputError, match="subclass of stronglth.sweep.SweepConfig"):
        plugins.load_experiment(tmp_path / "badtype.py")
    (tmp_path / "other.py").write_text(PLUGIN.replace("EXPERIMENT = ", "MINE = "))
    with pytest.raises(InvalidInputError, match="defines no EXPERIMENT .it has an Experiment called MINE"):
        plugins.load_experiment(tmp_path / "other.py")
    with pytest.raises(InvalidInputError, match="not a file"):
        plugins.load_experiment(tmp_path)
    with pytest.raises(InvalidInputError, match="neither a .py file nor a dotted module name"):
        plugins.load_experiment("not a module")


def test_a_failed_import_leaves_no_half_module_behind(tmp_path):
    (tmp_path / "half.py").write_text("A = 1\nraise RuntimeError('boom')\n")
    before = set(sys.modules)
    with pytest.raises(InvalidInputError, match=r"half.py, line 2: importing it failed: RuntimeError: boom"):
        plugins.load_experiment(tmp_path / "half.py")
    assert set(sys.modules) == before


def test_a_run_records_the_origin_and_merge_copies_it(tmp_path, plugin_file):
    exp = plugins.load_experiment(plugin_file)
    for i in range(2):
        sweep.run(exp, out=tmp_path / f"machine{i}", shard=(i, 2), progress=False)
    record = plugins.read_manifest(tmp_path / "machine0" / "cubes")
    assert record == {"name": "cubes", "origin": exp.origin, "description": "cubes"}
    summary = sweep.merge([tmp_path / "machine0", tmp_path / "machine1"], tmp_path / "merged", experiments={"cubes": exp})
    assert summary.total == {"cubes": 5}
    assert plugins.read_manifest(tmp_path / "merged" / "cubes") == record
    assert rows_of(tmp_path / "merged" / "cubes") == rows_of(_unsharded(tmp_path, exp))
    found = experiment_of_directory(tmp_path / "merged" / "cubes", "cubes")
    assert found.origin == exp.origin and found.name == "cubes"


def _unsharded(tmp_path: Path, exp) -> Path:
    sweep.run(exp, out=tmp_path / "unsharded", progress=False)
    return tmp_path / "unsharded" / "cubes"


def test_builtins_write_no_record(tmp_path):
    sweep.run(get_experiment("toy"), out=tmp_path, progress=False, configs=get_experiment("toy").grid(False)[:2])
    assert not (tmp_path / "toy" / plugins.MANIFEST).exists()
    assert plugins.write_manifest(tmp_path, EXPERIMENTS["toy"]) is None


def test_a_damaged_record_is_an_error_naming_it(tmp_path):
    (tmp_path / plugins.MANIFEST).write_text("{not json")
    with pytest.raises(InvalidInputError, match="experiment.json: not a stronglth-experiment/1 record"):
        plugins.read_manifest(tmp_path)
    (tmp_path / plugins.MANIFEST).write_text(json.dumps({"format": "other", "name": "x", "origin": "file:/x.py"}))
    with pytest.raises(InvalidInputError, match="delete it and pass --module"):
        plugins.read_manifest(tmp_path)
    with pytest.raises(InvalidInputError, match="unknown experiment origin"):
        plugins.load_origin("http://x", "x")


def test_the_index_has_a_section_for_plugins(tmp_path, plugin_file):
    exp = plugins.load_experiment(plugin_file)
    toy = get_experiment("toy")
    sweep.run(exp, out=tmp_path, progress=False)
    sweep.run(toy, out=tmp_path, progress=False, configs=toy.grid(False)[:2])
    (tmp_path / "toy" / "cells.csv").unlink()
    text = sweep.write_index(tmp_path, {**EXPERIMENTS, "toy": dataclasses.replace(toy, hidden=False)}).read_text()
    builtin, plugin_part = text.split("## Plugin experiments")
    assert "## toy" in builtin and "cubes" not in builtin
    assert "### cubes" in plugin_part and f"Defined in `{exp.origin}`" in plugin_part
    assert f"stronglth plot {tmp_path} --module {plugin_file.resolve()}" in plugin_part
    assert "cubes (5 cells)." in plugin_part, "the description comes from experiment.json when the plugin is not loaded"


def test_a_plugin_files_cells_run_on_dask_workers(tmp_path, plugin_file):
    exp = plugins.load_experiment(plugin_file)
    with (
        distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster,
        distributed.Client(cluster) as client,
    ):
        summary = sweep.run(exp, out=tmp_path / "dask", executor=client, progress=False)
    assert summary.computed == 5
    assert rows_of(tmp_path / "dask" / "cubes") == rows_of(_unsharded(tmp_path, exp))
