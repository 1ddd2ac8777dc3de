"""failure-prob (stronglth/experiments/failure_prob.py): predictions, a cell against its exact
failure probability, and the aggregation of cells."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats
from strategies import admissible_targets

from stronglth import bounds
from stronglth.experiments import failure_prob as fp
from stronglth.experiments.toolkit import ONE_WEIGHT, make_target
from stronglth.sweep import Row, config_hash


@given(
    target=admissible_targets(max_d=3, max_width=3, max_depth=2),
    eps=st.floats(0.05, 1.0),
    k=st.integers(1, 3000),
    rule=st.sampled_from(fp.RULES),
)
def test_the_targets_own_union_bound_is_below_the_worst_case_one(target, eps, k, rule):
    p = fp.predictions(target, rule, eps, [k] * target.depth)
    assert 0.0 <= p["instance_bound"] <= p["union_bound"] * (1 + 1e-9) + 1e-300


@given(eps=st.floats(0.05, 1.0), k=st.integers(1, 5000), rule=st.sampled_from(fp.RULES))
def test_one_weight_exact_probability(eps, k, rule):
    target = make_target(1, (1,), ONE_WEIGHT, 0)
    p = fp.predictions(target, rule, eps, (k,))
    eta = bounds.per_weight_tolerance((1, 1), eps)[0]
    q = (bounds.hit_probability if rule == "best" else bounds.matching_probability)(1.0, eta)
    # inclusion-exclusion: P(fail) = P(miss P) + P(miss N) - P(miss both) <= the union bound 2 (1 - q)^k
    assert p["exact"] == pytest.approx(2 * (1 - q) ** k - (1 - 2 * q) ** k, rel=1e-9, abs=1e-300)
    assert p["exact"] <= p["union_bound"] * (1 + 1e-12) + 1e-300


def test_measured_failures_match_the_exact_probability():
    config = fp.FailureProbCell(
        family=ONE_WEIGHT, d=1, widths=(1,), target_seed=0, rule="best", eps=0.5, block_sizes=(150,), first_seed=0, seeds=300
    )
    result = fp.cell(config)
    assert result["trials"] == 300 and math.isclose(result["exact"], 0.3255, abs_tol=1e-3)
    assert stats.binomtest(result["failures"], 300, result["exact"]).pvalue > 1e-3


def test_aggregate_sums_distinct_seed_runs_once():
    def row(first_seed, failures):
        config = fp.FailureProbCell(
            family=ONE_WEIGHT,
            d=1,
            widths=(1,),
            target_seed=0,
            rule="best",
            eps=0.5,
            block_sizes=(100,),
            first_seed=first_seed,
            seeds=200,
        )
        result = {
            "failures": failures,
            "trials": 200,
            "union_bound": 0.6,
            "instance_bound": 0.6,
            "exact": 0.4,
            "theorem_k": [201],
        }
        return Row(config_hash(config), fp.NAME, "FailureProbCell", config.to_dict(), result)

    (record,) = fp.aggregate([row(0, 100), row(200, 110), row(200, 110)])
    assert record["trials"] == 400 and record["failures"] == 210
    assert record["cp_low"] < 210 / 400 < record["cp_high"] and record["exact_in_ci"] is False
