"""sampled.py: the points of each domain (sphere, ball, the box's surface, the box), drawn in blocks
without changing a value, and the sampled error on the box against a dense grid oracle."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stronglth import InvalidInputError
from stronglth.verification import domain_points, sampled_error, unit_sphere_points
from stronglth.verification.sampled import POINT_KINDS, _draw, draw_blocks, point_kind

from ._oracle import SMALL_PAIRS, random_pair, sup_bounds


@pytest.mark.parametrize("kind", POINT_KINDS)
@pytest.mark.parametrize("d, n, rows", [(1, 10, 3), (2, 1000, 64), (5, 777, 100), (3, 5, 5)])
def test_points_in_blocks_are_one_draw_bit_for_bit(kind, d, n, rows):
    blocks = list(draw_blocks(np.random.default_rng(7), d, n, rows, kind=kind))
    assert [start for _, start, _ in blocks] == list(range(0, n, rows))
    joined = np.concatenate([block for _, _, block in blocks])
    assert np.array_equal(joined, _draw(np.random.default_rng(7), n, d, kind))


def test_the_sphere_points_are_todays_bit_for_bit():
    assert np.array_equal(domain_points(4, 300, seed=3), unit_sphere_points(4, 300, seed=3))
    assert point_kind("ball", True) == "sphere" and point_kind("box", True) == "box_surface"
    assert point_kind("ball", False) == "ball" and point_kind("box", False) == "box"


@given(d=st.integers(1, 6), seed=st.integers(0, 2**32))
@settings(max_examples=15)
def test_each_kind_lies_where_it_says(d, seed):
    sphere = domain_points(d, 500, seed=seed)
    ball = domain_points(d, 500, seed=seed, homogeneous=False)
    surface = domain_points(d, 500, seed=seed, domain="box")
    box = domain_points(d, 500, seed=seed, domain="box", homogeneous=False)
    np.testing.assert_allclose(np.linalg.norm(sphere, axis=1), 1.0, rtol=1e-12)
    assert np.all(np.linalg.norm(ball, axis=1) <= 1.0)
    assert np.all(np.abs(surface).max(axis=1) == 1.0) and np.all(np.abs(surface) <= 1.0)
    assert np.all(np.abs(box) <= 1.0)


def test_the_box_surface_is_uniform_over_its_faces_and_the_ball_over_its_volume():
    """Deterministic at a fixed seed: 2d faces drawn about equally often; radii of the ball points
    have the law r^d (the fraction within radius 1/2 is 2^-d), with a generous margin."""
    d, n = 3, 60_000
    surface = domain_points(d, n, seed=1, domain="box")
    faces = [np.count_nonzero(surface[:, j] == s) for j in range(d) for s in (-1.0, 1.0)]
    assert min(faces) > 0.9 * n / (2 * d) and max(faces) < 1.1 * n / (2 * d)
    inner = np.count_nonzero(np.linalg.norm(domain_points(d, n, seed=1, homogeneous=False), axis=1) <= 0.5) / n
    assert abs(inner - 0.5**d) < 0.01


def test_a_bad_domain_is_refused():
    f, g = random_pair(2, [3], 1, 0)
    with pytest.raises(InvalidInputError, match="domain"):
        sampled_error(f, g, n=10, domain="sphere")
    with pytest.raises(InvalidInputError, match="domain"):
        domain_points(2, 10, seed=0, domain="cube")


@given(**SMALL_PAIRS)
@settings(max_examples=12)
def test_sampled_on_the_box_never_exceeds_the_grid_oracle(d, widths, n_out, seed, norm):
    """A lower bound: the error at points of the box, at most the sup the dense grid bounds; and the
    points lie on the box's surface (bias-free: the sup is attained there)."""
    f, g = random_pair(d, widths, n_out, seed)
    _, upper = sup_bounds(f, g, d, "box", norm=norm)
    value, point = sampled_error(f, g, n=2000, seed=seed % 1000, norm=norm, domain="box")
    assert value <= upper
    assert np.abs(point).max() == 1.0
    ball_value, _ = sampled_error(f, g, n=2000, seed=seed % 1000, norm=norm)
    assert ball_value <= upper  # the ball lies in the box


@given(
    d=st.integers(1, 2),
    seed=st.integers(0, 2**32),
    norm=st.sampled_from(["l2", "linf"]),
    domain=st.sampled_from(["ball", "box"]),
)
@settings(max_examples=12)
def test_with_biases_the_points_fill_the_domain_and_stay_below_the_oracle(d, seed, norm, domain):
    """Networks with biases are not homogeneous: the sampled points are uniform in the domain (not on
    its surface), and their max is a lower bound of the grid oracle's sup over the whole domain."""
    f, g = random_pair(d, [5, 3], 2, seed, biases=True)
    _, upper = sup_bounds(f, g, d, domain, norm=norm)
    value, point = sampled_error(f, g, n=3000, seed=1, norm=norm, domain=domain)
    assert value <= upper
    length = np.linalg.norm(point) if domain == "ball" else np.abs(point).max()
    assert length <= 1.0
