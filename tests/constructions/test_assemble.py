"""_assemble.py: the refusal of leaky targets is in each ReLU-only construction's own entry point,
not only in the dispatcher (docs/theory.md §14.6)."""

from __future__ import annotations

import pytest

from stronglth import InvalidInputError, random_target
from stronglth.constructions._assemble import LEAKY_METHODS, refuse_leaky
from stronglth.constructions.malach.network import construct_malach, plan_malach
from stronglth.constructions.orseau.network import construct_orseau, plan_orseau
from stronglth.constructions.subsetsum.network import construct_subsetsum, plan_subsetsum


@pytest.mark.parametrize(
    "call",
    [construct_malach, construct_orseau, construct_subsetsum, plan_malach, plan_orseau, plan_subsetsum],
    ids=lambda f: f.__name__,
)
def test_a_direct_call_of_a_relu_only_construction_refuses_a_leaky_target(call):
    leaky = random_target(2, [3, 1], seed=0, negative_slope=0.25)
    with pytest.raises(InvalidInputError, match=r"negative_slope=0\.25.*method='burkholz'"):
        call(leaky, eps=0.3, seed=0)


def test_only_burkholz_builds_leaky_targets_and_relu_targets_pass():
    assert LEAKY_METHODS == ("burkholz",)
    refuse_leaky("burkholz", random_target(2, [3, 1], seed=0, negative_slope=0.5))
    refuse_leaky("malach", random_target(2, [3, 1], seed=0))
    with pytest.raises(InvalidInputError, match="bias-free: no method builds a leaky target with biases"):
        refuse_leaky("subsetsum", random_target(2, [3, 1], seed=0, biases=True, negative_slope=0.5))
