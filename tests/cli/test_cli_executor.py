"""--selection, --executor and --scheduler of `stronglth construct` and `stronglth sweep` (stronglth/cli/_executor.py)."""

from __future__ import annotations

import argparse

import pytest

from stronglth import random_target
from stronglth.cli import main
from stronglth.cli._executor import executor_from_args
from stronglth.constructions import plan
from stronglth.errors import InvalidInputError


def args(executor=None, scheduler=None) -> argparse.Namespace:
    return argparse.Namespace(executor=executor, scheduler=scheduler)


def test_executor_flags_name_the_executor():
    assert executor_from_args(args()) is None
    assert executor_from_args(args("dask-local")) == "dask-local"
    assert executor_from_args(args(scheduler="tcp://10.0.0.1:8786")) == "tcp://10.0.0.1:8786"
    assert executor_from_args(args(scheduler="10.0.0.1:8786")) == "tcp://10.0.0.1:8786"
    with pytest.raises(InvalidInputError, match="--scheduler"):
        executor_from_args(args("process", "tcp://10.0.0.1:8786"))
    with pytest.raises(InvalidInputError, match="address"):
        executor_from_args(args(scheduler="  "))


def test_the_plan_of_selection_first_says_at_most_and_typically(capsys):
    target = random_target(16, [8, 4], seed=0)
    values = plan(target, eps=0.1, seed=0).values
    common = ["construct", "--d", "16", "--widths", "8", "4", "--eps", "0.1", "--jobs", "2", "--dry-run"]
    assert main([*common, "--selection", "first"]) == 0
    first = capsys.readouterr().out
    assert "selection first" in first and f"reads at most {values:,} values (typically about" in first
    assert plan(target, eps=0.1, seed=0, selection="first").typical_values < values / 4
    assert main(common) == 0
    best = capsys.readouterr().out
    assert f"reads {values:,} values," in best and "typically" not in best


def test_selection_and_executors_are_for_malach(capsys):
    for extra in (["--selection", "first"], ["--executor", "dask-local"], ["--scheduler", "tcp://h:1"]):
        assert main(["construct", "--method", "subsetsum", "--eps", "0.3", "--dry-run", *extra]) == 2
        assert "--method malach" in capsys.readouterr().err


def test_sweep_takes_the_executor_flags(tmp_path, capsys):
    assert main(["sweep", "toy", "--executor", "process", "--jobs", "2", "--out", str(tmp_path), "--quiet"]) == 0
    assert "20 computed" in capsys.readouterr().out
    assert main(["sweep", "toy", "--executor", "process", "--scheduler", "tcp://h:1", "--out", str(tmp_path)]) == 2
    assert "--scheduler" in capsys.readouterr().err
