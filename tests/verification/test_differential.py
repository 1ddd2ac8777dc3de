"""The differential bound (stronglth/verification/differential.py, docs/theory.md §10): never below
an error at any point of its domain, never below an exact value, on tickets (gadget form, shared
first layer) and on arbitrary pairs (paired or not); the sub-box and sign-constrained bounds the
branch-and-bound builds on, checked against the points that lie in them."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stronglth import ReLUNetwork, construct, random_target
from stronglth.errors import InvalidInputError
from stronglth.verification import domain_points, exact_error, sup_error, unit_sphere_points
from stronglth.verification._common import output_errors
from stronglth.verification.differential import bound_subdomains, differential_bound, pair_layers
from stronglth.verification.exact import exact_error_circle

SLACK = 1e-12  # relative: the bounds are rounded outward; the points' errors are the networks' own floats


def random_pair(dims, seed, scale=1.0, other_dims=None):
    rng = np.random.default_rng(seed)

    def make(ds):
        return ReLUNetwork([rng.standard_normal((o, i)) / np.sqrt(i) for i, o in zip(ds[:-1], ds[1:], strict=True)])

    f = make(dims)
    if other_dims is None:  # g close to f: f's weights perturbed
        g = ReLUNetwork([w + scale * rng.standard_normal(w.shape) / np.sqrt(w.shape[1]) for w in f.weights])
    else:
        g = make(other_dims)
    return f, g


def ticket_pair(d, widths, seed, eps=0.2):
    target = random_target(d, widths, seed=seed)
    return construct(target, eps=eps, seed=seed, block_sizes=[12] * len(widths), on_failure="best_effort"), target


def box_points(lo, hi, n, seed, ball):
    """Points of the box [lo, hi], half on the sphere (when it meets it), half inside, in the ball."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(lo, hi, (n, lo.size))
    if ball:
        x = x[np.linalg.norm(x, axis=1) <= 1]
        on = rng.uniform(lo, hi, (n, lo.size))
        on /= np.linalg.norm(on, axis=1, keepdims=True)
        x = np.vstack([x, on[np.all((on >= lo) & (on <= hi), axis=1)]])
    return x


@given(
    seed=st.integers(0, 2**32 - 1),
    d=st.integers(1, 5),
    hidden=st.lists(st.integers(1, 6), min_size=0, max_size=2),
    n_out=st.integers(1, 3),
    scale=st.sampled_from([1e-3, 0.1, 1.0]),
    norm=st.sampled_from(["l2", "linf"]),
)
@settings(max_examples=40, deadline=None)
def test_the_bound_is_above_every_sampled_error_on_random_pairs(seed, d, hidden, n_out, scale, norm):
    f, g = random_pair([d, *hidden, n_out], seed, scale)
    result = differential_bound(f, g, norm=norm)
    x = unit_sphere_points(d, 2000, seed=seed)
    assert output_errors(f, g, x, norm).max() <= result.upper * (1 + SLACK)
    assert result.lower <= result.upper and np.linalg.norm(result.point) == pytest.approx(1.0)
    assert result.lower == pytest.approx(float(output_errors(f, g, result.point[None], norm)[0]))


@given(seed=st.integers(0, 2**32 - 1), d=st.integers(1, 4), n_out=st.integers(1, 3), norm=st.sampled_from(["l2", "linf"]))
@settings(max_examples=20, deadline=None)
def test_unpaired_networks_are_bounded_apart_and_still_above_every_point(seed, d, n_out, norm):
    f, g = random_pair([d, 5, 4, n_out], seed, other_dims=[d, 3, n_out])
    assert not pair_layers(f, g).paired
    result = differential_bound(f, g, norm=norm)
    x = unit_sphere_points(d, 2000, seed=seed)
    assert output_errors(f, g, x, norm).max() <= result.upper * (1 + SLACK)


@given(seed=st.integers(0, 2**32 - 1), widths=st.sampled_from([[3, 1], [4, 2], [3, 3, 1]]), norm=st.sampled_from(["l2", "linf"]))
@settings(max_examples=15, deadline=None)
def test_on_tickets_the_bound_is_above_the_exact_value(seed, widths, norm):
    ticket, target = ticket_pair(2, widths, seed)
    layers = pair_layers(ticket, target)
    assert layers.split and layers.paired  # the gadget form, its shared first layer kept exact
    exact = exact_error_circle(layers.f, layers.g, norm)
    bound = differential_bound(ticket, target, norm=norm)
    assert exact.upper <= bound.upper * (1 + SLACK)
    assert bound.lower <= exact.upper * (1 + 1e-9)


def assert_sub_box_bounds_hold(f, g, layers, seed: int, d: int, ball: bool, norm: str) -> None:
    """Six random sub-boxes (half-widths 0.5, 0.1, 0.01; clipped to [-1, 1]^d, intersected with the ball
    if ``ball``): every box's upper bound (of ``layers``) is above the error of ``f - g`` at 400 of its points."""
    rng = np.random.default_rng(seed)
    centre = rng.uniform(-1, 1, (6, d))
    half = rng.choice([0.5, 0.1, 0.01], size=(6, 1))
    lo, hi = np.clip(centre - half, -1, 1), np.clip(centre + half, -1, 1)
    result = bound_subdomains(layers, lo, hi, ball=ball, norm=norm)
    for b in range(len(lo)):
        x = box_points(lo[b], hi[b], 400, seed + b, ball)
        if len(x):
            assert output_errors(f, g, x, norm).max() <= result.upper[b] * (1 + SLACK) + 1e-300


@given(seed=st.integers(0, 2**32 - 1), d=st.integers(2, 4), ball=st.booleans(), norm=st.sampled_from(["l2", "linf"]))
@settings(max_examples=25, deadline=None)
def test_sub_box_bounds_are_above_the_errors_of_the_points_in_them(seed, d, ball, norm):
    ticket, target = ticket_pair(d, [4, 2], seed % 1000)
    layers = pair_layers(ticket, target)
    assert_sub_box_bounds_hold(layers.f, layers.g, layers, seed, d, ball, norm)


@given(seed=st.integers(0, 2**32 - 1), norm=st.sampled_from(["l2", "linf"]))
@settings(max_examples=15, deadline=None)
def test_sign_constrained_bounds_hold_on_the_points_with_those_signs(seed, norm):
    """A unit's signs fixed in both networks (four parts): each part's bound is above the error of
    every point whose signs are those; a part found empty has no such point among the samples."""
    f, g = random_pair([3, 5, 4, 2], seed, 0.05)
    layers = pair_layers(f, g)
    lo, hi = -np.ones((4, 3)), np.ones((4, 3))
    combos = np.array([(1, 1), (1, -1), (-1, 1), (-1, -1)], dtype=np.int8)
    unit = seed % 5
    splits = [(np.zeros((4, 5), np.int8), np.zeros((4, 5), np.int8)), (np.zeros((4, 4), np.int8), np.zeros((4, 4), np.int8))]
    splits[0][0][:, unit], splits[0][1][:, unit] = combos[:, 0], combos[:, 1]
    result = bound_subdomains(layers, lo, hi, ball=True, norm=norm, splits=splits)
    x = unit_sphere_points(3, 4000, seed=seed)
    z_g, z_f = x @ g.weights[0].T, x @ f.weights[0].T
    errors = output_errors(f, g, x, norm)
    for c, (sg, sf) in enumerate(combos):
        inside = (sg * z_g[:, unit] >= 0) & (sf * z_f[:, unit] >= 0)
        if inside.any():
            assert errors[inside].max() <= result.upper[c] * (1 + SLACK)


def test_identical_networks_have_a_bound_of_zero_up_to_rounding():
    f, _ = random_pair([3, 6, 6, 2], 0)
    result = differential_bound(f, f)
    assert 0 <= result.upper <= 1e-12 and result.lower == 0.0


def test_the_box_domain_covers_the_corners_of_the_cube():
    f, g = random_pair([3, 5, 2], 4, 0.1)
    corners = np.array(np.meshgrid(*[[-1.0, 1.0]] * 3)).reshape(3, -1).T
    box = differential_bound(f, g, domain="box")
    ball = differential_bound(f, g)
    assert output_errors(f, g, corners, "l2").max() <= box.upper * (1 + SLACK)
    assert ball.upper <= box.upper * (1 + SLACK)  # the ball lies in the box
    assert np.abs(box.point).max() == pytest.approx(1.0)  # on the cube's surface


def test_sup_error_names_the_bound_and_refuses_a_bad_domain():
    ticket, target = ticket_pair(3, [3, 1], 1)
    assert sup_error(ticket, target, method="bounds") == differential_bound(ticket, target).upper
    with pytest.raises(InvalidInputError, match="domain"):
        differential_bound(ticket, target, domain="sphere")
    with pytest.raises(InvalidInputError, match="domain"):
        sup_error(ticket, target, method="milp", domain="cube")
    milp = sup_error(ticket, target, method="milp", domain="box")  # the MILP's own box: no cuts needed
    bab = exact_error(ticket, target, method="bab", domain="box")
    assert bab.lower <= milp * (1 + 1e-6) and milp <= bab.upper * (1 + 1e-6)


# -- networks with biases (issue 15): the pre-activations shift, the bound stays certified ----------


def biased_pair(dims, seed, scale):
    """f and g close (g's weights and biases perturbed from f's), every layer with a bias."""
    rng = np.random.default_rng(seed)
    weights = [rng.standard_normal((o, i)) / np.sqrt(i) for i, o in zip(dims[:-1], dims[1:], strict=True)]
    biases = [0.5 * rng.standard_normal(o) for o in dims[1:]]
    f = ReLUNetwork(weights, biases)
    g = ReLUNetwork(
        [w + scale * rng.standard_normal(w.shape) / np.sqrt(w.shape[1]) for w in weights],
        [b + scale * rng.standard_normal(b.shape) for b in biases],
    )
    return f, g


@given(
    seed=st.integers(0, 2**32 - 1),
    d=st.integers(1, 4),
    hidden=st.lists(st.integers(1, 6), min_size=0, max_size=2),
    n_out=st.integers(1, 3),
    scale=st.sampled_from([1e-3, 0.1, 1.0]),
    norm=st.sampled_from(["l2", "linf"]),
    domain=st.sampled_from(["ball", "box"]),
)
@settings(max_examples=30, deadline=None)
def test_with_biases_the_bound_is_above_every_point_of_the_domain_inside_too(seed, d, hidden, n_out, scale, norm, domain):
    """Not homogeneous: the sup may be inside, so the points are drawn in the whole domain (and on
    its surface); the bound is above all, its lower bound is the error at its point, in the domain."""
    f, g = biased_pair([d, *hidden, n_out], seed, scale)
    layers = pair_layers(f, g)
    assert not layers.homogeneous and layers.norms is None and not layers.split
    result = differential_bound(f, g, norm=norm, domain=domain)
    x = np.vstack([domain_points(d, 2000, seed=seed, domain=domain, homogeneous=h) for h in (False, True)])
    assert output_errors(f, g, x, norm).max() <= result.upper * (1 + SLACK)
    assert (np.linalg.norm(result.point) <= 1 + 1e-12) if domain == "ball" else np.all(np.abs(result.point) <= 1.0)
    assert result.lower == pytest.approx(float(output_errors(f, g, result.point[None], norm)[0]))


@given(seed=st.integers(0, 2**32 - 1), d=st.integers(2, 4), ball=st.booleans(), norm=st.sampled_from(["l2", "linf"]))
@settings(max_examples=15, deadline=None)
def test_with_biases_sub_box_bounds_are_above_the_errors_of_the_points_in_them(seed, d, ball, norm):
    f, g = biased_pair([d, 5, 3, 2], seed, 0.05)
    assert_sub_box_bounds_hold(f, g, pair_layers(f, g), seed, d, ball, norm)


def test_a_bias_alone_is_bounded_by_its_size():
    """f = g + a constant c on the output: the error is |c| everywhere, and the bound finds it."""
    rng = np.random.default_rng(0)
    weights = [rng.standard_normal((4, 3)), rng.standard_normal((2, 4))]
    f = ReLUNetwork(weights, [None, np.array([0.25, -0.5])])
    g = ReLUNetwork(weights)
    result = differential_bound(f, g, norm="linf")
    assert result.lower == pytest.approx(0.5) and 0.5 <= result.upper <= 0.5 * (1 + 1e-12)
