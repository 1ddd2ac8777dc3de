"""Branch-and-bound (stronglth/verification/branch_and_bound.py, docs/theory.md §10): its bounds
bracket the exact value where an exact method runs (enumeration at d = 2, the MILP at d = 3), its
lower bound is the error at its point, and it says inconclusive when time runs out."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stronglth import ReLUNetwork, construct, random_target
from stronglth.errors import VerificationInconclusive
from stronglth.verification import exact_error, sup_error, unit_sphere_points, verify
from stronglth.verification._common import output_errors
from stronglth.verification.branch_and_bound import branch_and_bound
from stronglth.verification.differential import pair_layers
from stronglth.verification.exact import exact_error_circle, exact_error_milp


def ticket_pair(d, widths, seed, eps=0.2):
    target = random_target(d, widths, seed=seed)
    return construct(target, eps=eps, seed=seed, block_sizes=[12] * len(widths), on_failure="best_effort"), target


def bracket(seed, widths, norm, time_limit):
    ticket, target = ticket_pair(2, widths, seed)
    layers = pair_layers(ticket, target)
    exact = exact_error_circle(layers.f, layers.g, norm).upper
    result = branch_and_bound(ticket, target, norm=norm, time_limit=time_limit)
    assert result.lower <= exact * (1 + 1e-9) and exact <= result.upper * (1 + 1e-12)
    assert float(output_errors(layers.f, layers.g, result.point[None], norm)[0]) == pytest.approx(result.lower, rel=1e-12)
    if result.status == "within_gap":
        assert result.upper <= 1.01 * result.lower
    return result


@given(seed=st.integers(0, 2**32 - 1), widths=st.sampled_from([[3, 1], [4, 2], [3, 3, 1]]), norm=st.sampled_from(["l2", "linf"]))
@settings(max_examples=10, deadline=None)
def test_bab_brackets_the_enumerated_value_in_two_dimensions(seed, widths, norm):
    """Always true bounds around the enumerated sup; convergence is asserted on fixed pairs below (a
    random pair may need longer than a test should take: a property asserts only what always holds)."""
    bracket(seed, widths, norm, time_limit=5)


@pytest.mark.parametrize("seed, widths, norm", [(0, [3, 1], "l2"), (1, [4, 2], "linf"), (2, [3, 3, 1], "l2")])
def test_bab_converges_to_one_percent_in_two_dimensions(seed, widths, norm):
    assert bracket(seed, widths, norm, time_limit=60).status == "within_gap"


@given(seed=st.integers(0, 2**32 - 1))
@settings(max_examples=4, deadline=None)
def test_bab_and_the_milp_agree_in_three_dimensions(seed):
    ticket, target = ticket_pair(3, [3, 1], seed)
    layers = pair_layers(ticket, target)
    milp = exact_error_milp(layers.f, layers.g, rel_gap=1e-3, time_limit=60)
    bab = branch_and_bound(ticket, target, rel_gap=1e-3, time_limit=60)
    assert milp.lower <= bab.upper * (1 + 1e-9) and bab.lower <= milp.upper * (1 + 1e-9)


def test_bab_on_random_pairs_and_on_the_box_is_above_every_point():
    rng = np.random.default_rng(3)
    f = ReLUNetwork([rng.standard_normal((5, 3)), rng.standard_normal((2, 5))])
    g = ReLUNetwork([w + 0.05 * rng.standard_normal(w.shape) for w in f.weights])
    for domain in ("ball", "box"):
        result = branch_and_bound(f, g, domain=domain, time_limit=20)
        x = rng.uniform(-1, 1, (5000, 3))
        if domain == "ball":
            x /= np.linalg.norm(x, axis=1, keepdims=True)
        assert output_errors(f, g, x, "l2").max() <= result.upper * (1 + 1e-12)
        assert result.status == "within_gap"


def test_activation_splitting_beyond_input_splitting_is_sound_and_anytime():
    ticket, target = ticket_pair(8, [6, 2], 5)
    result = branch_and_bound(ticket, target, time_limit=3)
    x = unit_sphere_points(8, 20000, seed=1)
    layers = pair_layers(ticket, target)
    assert output_errors(layers.f, layers.g, x, "l2").max() <= result.upper * (1 + 1e-12)
    assert result.lower <= result.upper and result.status in ("within_gap", "inconclusive")
    assert result.seconds < 60


def test_time_limit_says_inconclusive_and_the_dispatcher_names_its_method():
    f, g = random_target(4, [16, 16, 1], seed=0), random_target(4, [16, 16, 1], seed=1)
    result = exact_error(f, g, method="bab", time_limit=0.5)
    assert result.status == "inconclusive" and result.lower <= result.upper and result.method == "bab"
    with pytest.raises(VerificationInconclusive, match="between"):
        sup_error(f, g, method="bab", time_limit=0.5)
    small, big = ticket_pair(3, [3, 1], 0), ticket_pair(3, [8, 8, 1], 0)
    assert verify(*small, exact=True, samples=2000).exact_method == "milp"
    report = verify(*big, exact=True, samples=2000, time_limit=30)
    assert report.exact_method == "bab" and report.nested


def test_a_pair_without_hidden_units_is_bracketed_around_its_closed_form():
    """Two linear maps (no hidden layer; found when "auto" sent a one-layer subset-sum pair here): the
    sup over the ball of ||(W_f - W_g) x|| is the spectral norm of the difference."""
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(2, 4)), rng.normal(size=(2, 4))
    result = exact_error(ReLUNetwork([a]), ReLUNetwork([b]), method="bab")
    truth = float(np.linalg.norm(a - b, 2))
    assert result.lower <= truth * (1 + 1e-12) and truth <= result.upper * (1 + 1e-12)
    assert result.status in ("exact", "within_gap")


@given(
    seed=st.integers(0, 2**32 - 1),
    d=st.integers(1, 2),
    norm=st.sampled_from(["l2", "linf"]),
    domain=st.sampled_from(["ball", "box"]),
)
@settings(max_examples=10, deadline=None)
def test_with_biases_bab_brackets_the_dense_grid_over_the_whole_domain(seed, d, norm, domain):
    """Networks with biases: the sup may lie inside the domain, so no box is dropped for missing the
    surface; the bounds bracket the grid oracle's, the lower one is the error at a point of the domain."""
    from ._oracle import random_pair as oracle_pair
    from ._oracle import sup_bounds

    f, g = oracle_pair(d, [4, 3], 1, seed, biases=True)
    grid_lower, grid_upper = sup_bounds(f, g, d, domain, norm=norm)
    result = branch_and_bound(f, g, norm=norm, domain=domain, rel_gap=0.01, time_limit=30)
    assert result.lower <= grid_upper and grid_lower <= result.upper * (1 + 1e-12)
    inside = np.linalg.norm(result.point) <= 1 + 1e-12 if domain == "ball" else np.all(np.abs(result.point) <= 1.0)
    assert inside and float(output_errors(f, g, result.point[None], norm)[0]) == pytest.approx(result.lower, rel=1e-12)
