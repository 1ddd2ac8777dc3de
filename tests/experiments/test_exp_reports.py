"""Every experiment end to end on a tiny grid: rows, then CSV + PNG + summary.md."""

from __future__ import annotations

import csv

import pytest

from stronglth import sweep
from stronglth.experiments import depth, failure_prob, get_experiment, looseness, width_vs_eps
from stronglth.experiments.toolkit import ONE_WEIGHT

TINY = {
    "width-vs-eps": [
        width_vs_eps.WidthVsEpsCell(method=m, eps=e, seeds=3, delta=0.1)
        for m, eps in (("malach-best", (0.4, 0.2, 0.1)), ("subsetsum", (0.4, 0.1)))
        for e in eps
    ],
    "failure-prob": [
        failure_prob.FailureProbCell(
            family=ONE_WEIGHT, d=1, widths=(1,), target_seed=0, rule="best", eps=0.5, block_sizes=(k,), first_seed=s, seeds=10
        )
        for k in (50, 200)
        for s in (0, 10)
    ]
    + [
        failure_prob.FailureProbCell(
            family="gaussian",
            d=2,
            widths=(2, 1),
            target_seed=0,
            rule="best",
            eps=0.2,
            block_sizes=(100, 50),
            first_seed=0,
            seeds=10,
        )
    ],
    "depth": [
        depth.DepthCell(method="subsetsum", depth=l, width=n, block_size=8, seed=0, samples=1000, steps=10)
        for l in (1, 2)
        for n in (2, 3)
    ],
    "looseness": [
        looseness.LoosenessCell(rule="best", eps=e, seed=s, samples=1000, steps=10) for e in (0.4, 0.2) for s in (0, 1)
    ],
}


@pytest.mark.parametrize("name", sorted(TINY))
def test_experiment_end_to_end(tmp_path, name):
    summary = sweep.run(get_experiment(name), out=tmp_path, configs=TINY[name], jobs=1, progress=False)
    assert summary.computed == len(TINY[name])
    directory = tmp_path / name
    names = {p.name for p in summary.report_files}
    assert {"cells.csv", f"{name}.csv", f"{name}.png", "summary.md", "README.md"} <= names
    with open(directory / f"{name}.csv", newline="") as f:
        records = list(csv.DictReader(f))
    assert records
    assert (directory / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = (directory / "summary.md").read_text()
    assert text.startswith(f"# {name}") and f"({name}.png)" in text
    assert name in (tmp_path / "README.md").read_text()
    rows = list(sweep.load_rows(directory).values())
    assert sorted(r.hash for r in rows) == sorted(sweep.config_hash(c) for c in TINY[name])
