"""verify.py: the sampled sup-norm error."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from stronglth import ShapeError, TargetNetwork, random_target
from stronglth.verify import sampled_error, unit_sphere_points


@given(d=st.integers(1, 6), n=st.integers(1, 200), seed=st.integers(0, 2**32))
def test_sphere_points_have_norm_one(d, n, seed):
    x = unit_sphere_points(d, n, seed=seed)
    assert x.shape == (n, d)
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1.0, rtol=1e-12)


def test_sampled_error_of_a_known_1d_gap():
    # f(x) = 0.5 s(x) - 0.25 s(-x) vs g(x) = 0.4 x: errors 0.1 at x = 1 and |0.25 - 0.4| = 0.15 at x = -1
    f = TargetNetwork([np.array([[1.0], [-1.0]]), np.array([[0.5, -0.25]])])
    g = TargetNetwork([np.array([[0.4]])])
    error, where = sampled_error(f, g, n=50, seed=0)
    assert error == pytest.approx(0.15) and where[0] == -1.0


def test_sampled_error_is_a_lower_bound_and_batches_do_not_matter():
    a, b = random_target(3, [5, 2], seed=0), random_target(3, [5, 2], seed=1)
    full, _ = sampled_error(a, b, n=5000, seed=3)
    batched, _ = sampled_error(a, b, n=5000, seed=3, batch=7)
    assert full == batched
    x = unit_sphere_points(3, 5000, seed=3)
    assert full == np.abs(a.forward(x) - b.forward(x)).max()


def test_dimension_mismatch():
    with pytest.raises(ShapeError):
        sampled_error(random_target(3, [1], seed=0), random_target(2, [1], seed=0))
