"""adversarial.py on the box [-1, 1]^d: projected gradient ascent (clipping, then onto the surface for
bias-free networks), a lower bound that never exceeds the dense grid oracle nor a closed form."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stronglth import InvalidInputError, ReLUNetwork, TargetNetwork
from stronglth.verification import adversarial_error, adversarial_search, sampled_error
from stronglth.verification._common import onto_domain
from stronglth.verification.adversarial import ascend_from

from ._oracle import SMALL_PAIRS, errors, random_pair, sup_bounds


def split_layer_pair(d_plus: np.ndarray, d_minus: np.ndarray, w: np.ndarray):
    """f(x) = (W + D+) s(x) + (-W + D-) s(-x) against g(x) = W x: the error is D+ s(x) + D- s(-x)."""
    d = w.shape[1]
    split = np.vstack((np.eye(d), -np.eye(d)))
    return ReLUNetwork([split, np.hstack((w + d_plus, -w + d_minus))]), TargetNetwork([w])


def box_closed_form(d_plus: np.ndarray, d_minus: np.ndarray) -> float:
    """sup over [-1, 1]^d of |D+ s(x) + D- s(-x)|_inf: each coordinate independently at the sign and
    the end (+-1) that pushes output o up (or down): the sum of the best non-negative coefficients."""
    up = np.maximum(np.maximum(d_plus, d_minus), 0.0).sum(axis=1)
    down = np.maximum(np.maximum(-d_plus, -d_minus), 0.0).sum(axis=1)
    return float(max(up.max(), down.max()))


@given(**SMALL_PAIRS)
@settings(max_examples=12)
def test_adversarial_on_the_box_is_a_lower_bound_of_the_grid_oracle(d, widths, n_out, seed, norm):
    f, g = random_pair(d, widths, n_out, seed)
    _, upper = sup_bounds(f, g, d, "box", norm=norm)
    sampled, _ = sampled_error(f, g, n=1000, seed=1, norm=norm, domain="box")
    value, point, finals = adversarial_search(f, g, n=1000, starts=8, steps=100, seed=1, norm=norm, domain="box")
    assert sampled <= value <= upper
    assert np.all(np.abs(finals) <= 1.0) and np.abs(point).max() == 1.0  # in the box, on its surface
    assert errors(f, g, point[None], norm)[0] == pytest.approx(value, rel=1e-12, abs=1e-15)


@given(d=st.integers(1, 4), n_out=st.integers(1, 3), seed=st.integers(0, 2**32))
@settings(max_examples=10)
def test_adversarial_on_the_box_never_exceeds_the_closed_form(d, n_out, seed):
    rng = np.random.default_rng(seed)
    w = rng.uniform(-1, 1, (n_out, d))
    d_plus, d_minus = 0.01 * rng.standard_normal((2, n_out, d))
    f, g = split_layer_pair(d_plus, d_minus, w)
    truth = box_closed_form(d_plus, d_minus)
    value, point = adversarial_error(f, g, n=2000, norm="linf", domain="box")
    assert value <= truth * (1 + 1e-12) + 1e-15
    ball, _ = adversarial_error(f, g, n=2000, norm="linf")
    assert ball <= truth * (1 + 1e-12) + 1e-15  # the ball lies in the box


def test_the_domain_projections():
    x = np.array([[3.0, 4.0], [0.3, 0.4], [0.0, 0.0], [2.0, -0.5]])
    np.testing.assert_allclose(onto_domain(x, "ball", True)[:2], [[0.6, 0.8], [0.6, 0.8]])
    np.testing.assert_allclose(onto_domain(x, "ball", False)[:3], [[0.6, 0.8], [0.3, 0.4], [0.0, 0.0]])
    np.testing.assert_allclose(onto_domain(x, "box", True)[[0, 3]], [[0.75, 1.0], [1.0, -0.25]])
    np.testing.assert_allclose(onto_domain(x, "box", False)[[0, 1, 3]], [[1.0, 1.0], [0.3, 0.4], [1.0, -0.5]])


def test_ascend_from_puts_its_starts_on_the_box_surface():
    f, g = random_pair(3, [6], 2, 5)
    starts = np.array([[0.1, 0.2, 0.05], [5.0, -1.0, 0.0]])
    value, point, finals = ascend_from(f, g, starts, steps=30, domain="box")
    on_surface = starts / np.abs(starts).max(axis=1, keepdims=True)
    assert np.allclose(np.abs(finals).max(axis=1), 1.0) and value >= errors(f, g, on_surface, "l2").max() * (1 - 1e-12)
    with pytest.raises(InvalidInputError, match="domain"):
        ascend_from(f, g, starts, domain="disc")


@given(
    d=st.integers(1, 2),
    seed=st.integers(0, 2**32),
    norm=st.sampled_from(["l2", "linf"]),
    domain=st.sampled_from(["ball", "box"]),
)
@settings(max_examples=12)
def test_with_biases_the_ascent_projects_onto_the_domain_and_stays_below_the_oracle(d, seed, norm, domain):
    """Projected onto the ball (``x / max(1, ||x||)``) or clipped to the box, never normalised onto the
    sphere: every final point lies in the domain, the best is a lower bound of the grid oracle's sup."""
    f, g = random_pair(d, [5, 3], 2, seed, biases=True)
    lower, upper = sup_bounds(f, g, d, domain, norm=norm)
    sampled, _ = sampled_error(f, g, n=1000, seed=1, norm=norm, domain=domain)
    value, point, finals = adversarial_search(f, g, n=1000, starts=8, steps=100, seed=1, norm=norm, domain=domain)
    assert sampled <= value <= upper
    if domain == "ball":
        assert np.all(np.linalg.norm(finals, axis=1) <= 1 + 1e-12)
    else:
        assert np.all(np.abs(finals) <= 1.0)
    assert errors(f, g, point[None], norm)[0] == pytest.approx(value, rel=1e-12, abs=1e-15)


def test_with_biases_an_interior_maximum_is_found_where_the_sphere_would_miss_it():
    """e(x) = 1 - |x| (one unit each side): largest at the centre; a search on the sphere would say 0."""
    one = np.array([[1.0], [-1.0]])
    f = ReLUNetwork([one, np.array([[-1.0, -1.0]])], [None, np.array([1.0])])  # 1 - s(x) - s(-x) = 1 - |x|
    g = ReLUNetwork([one, np.zeros((1, 2))])
    value, point = adversarial_error(f, g, n=200, starts=4, steps=200, domain="ball")
    assert value == pytest.approx(1.0, abs=1e-3) and abs(point[0]) < 1e-3
