"""verify.py and exact.py: sup-norm error four ways, against closed forms and each other."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from strategies import admissible_targets

from stronglth import InvalidInputError, ReLUNetwork, ShapeError, TargetNetwork, construct, random_target
from stronglth.constructions import gadget_network
from stronglth.errors import VerificationInconclusive
from stronglth.verification import (
    adversarial_error,
    certified_bound,
    exact_error,
    sampled_error,
    sup_error,
    unit_sphere_points,
    verify,
)
from stronglth.verification.exact import exact_error_circle, exact_error_milp


def split_layer_pair(d_plus: np.ndarray, d_minus: np.ndarray, w: np.ndarray):
    """f(x) = (W + D+) s(x) + (-W + D-) s(-x) against g(x) = W x: the error is D+ s(x) + D- s(-x)."""
    d = w.shape[1]
    split = np.vstack((np.eye(d), -np.eye(d)))
    f = ReLUNetwork([split, np.hstack((w + d_plus, -w + d_minus))])
    return f, TargetNetwork([w])


def closed_form(d_plus: np.ndarray, d_minus: np.ndarray) -> float:
    """sup over the unit sphere of |D+ s(x) + D- s(-x)|_inf: per output, each coordinate picks its
    sign to push the sum one way, so the sup is the norm of the best non-negative coefficients."""
    up = np.maximum(np.maximum(d_plus, d_minus), 0.0)
    down = np.maximum(np.maximum(-d_plus, -d_minus), 0.0)
    return float(max(np.linalg.norm(up, axis=1).max(), np.linalg.norm(down, axis=1).max()))


@given(d=st.integers(1, 4), n_out=st.integers(1, 3), seed=st.integers(0, 2**32))
@example(d=4, n_out=1, seed=1)  # adversarial / truth = 0.9886 here: gradient ascent is a heuristic
@settings(max_examples=10)
def test_every_method_recovers_a_known_layer_error(d, n_out, seed):
    """What always holds: sampled <= adversarial <= the truth (both are errors at points of the
    sphere), and the exact methods recover the truth (d <= 2) or bound it within the MILP's gap."""
    rng = np.random.default_rng(seed)
    w = random_target(d, [n_out], seed=seed).weights[0]
    d_plus, d_minus = 0.01 * rng.standard_normal((2, n_out, d))
    f, g = split_layer_pair(d_plus, d_minus, w)
    truth = closed_form(d_plus, d_minus)  # in the max norm over outputs
    sampled = sup_error(f, g, method="sampled", n=20_000, norm="linf")
    adversarial = sup_error(f, g, method="adversarial", n=20_000, norm="linf")
    exact = sup_error(f, g, method="exact", time_limit=60, norm="linf")
    assert sampled <= adversarial <= truth * (1 + 1e-12)
    if d <= 2:
        assert exact == pytest.approx(truth, rel=1e-12)
    else:  # MILP: an upper bound within 1% of the truth
        assert truth * (1 - 1e-9) <= exact <= truth * 1.01 + 1e-12


@given(w=st.floats(-1, 1), a=st.floats(-1, 1), b=st.floats(-1, 1))
def test_one_dimensional_gadget_exact_error(w, a, b):
    """g(x) = a s(x) + b s(-x) against w x: the sup is max(|a - w|, |b + w|) (docs/theory.md §2)."""
    f = ReLUNetwork([np.array([[1.0], [-1.0]]), np.array([[a, b]])])
    g = TargetNetwork([np.array([[w]])])
    truth = max(abs(a - w), abs(b + w))
    assert sup_error(f, g, method="exact") == pytest.approx(truth, abs=1e-15)
    assert sup_error(f, g, method="adversarial", n=100) == pytest.approx(truth, abs=1e-15)


@given(target=admissible_targets(max_d=2, max_width=3, max_depth=2), seed=st.integers(0, 2**32))
@settings(max_examples=10)
def test_four_measures_nest_on_construction_tickets(target, seed):
    ticket = construct(target, eps=0.2, delta=1e-9, seed=seed)
    report = verify(ticket, exact=True, samples=5_000)
    assert report.nested, report
    assert report.exact_status == "exact"
    assert report.certified == pytest.approx(ticket.certified_error, rel=1e-12)
    assert report.certified <= 0.2


@given(seed=st.integers(0, 2**32), widths=st.lists(st.integers(1, 4), min_size=1, max_size=3))
@settings(max_examples=8)
def test_milp_agrees_with_enumeration_in_two_dimensions(seed, widths):
    f = random_target(2, widths, seed=seed)
    g = random_target(2, widths, seed=seed + 1)
    circle = exact_error_circle(f, g, norm="linf")
    milp = exact_error_milp(f, g, norm="linf", rel_gap=1e-3, time_limit=60)
    assert milp.status == "within_gap"
    assert milp.lower <= circle.upper * (1 + 1e-9) + 1e-12
    assert circle.lower <= milp.upper * (1 + 1e-6) + 1e-12
    assert milp.upper <= circle.upper * (1 + 1.01e-3) + 1e-12


@given(target=admissible_targets(max_d=3), seed=st.integers(0, 2**32))
@settings(max_examples=10)
def test_gadget_form_is_the_ticket_exactly(target, seed):
    ticket = construct(target, eps=0.3, delta=1e-9, seed=seed)
    f, g = gadget_network(ticket)
    x = unit_sphere_points(target.d, 200, seed=seed)
    np.testing.assert_allclose(f.forward(x), ticket.forward(x), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(g.forward(x), target.forward(x), rtol=1e-12, atol=1e-14)
    assert certified_bound(ticket) == pytest.approx(ticket.certified_error, rel=1e-12)


def test_milp_on_a_ticket_in_three_dimensions():
    target = random_target(3, [4, 1], seed=1)
    ticket = construct(target, eps=0.1, seed=2)
    report = verify(ticket, exact=True, samples=20_000, time_limit=120)
    assert report.exact_status == "within_gap"
    assert report.exact_upper <= 1.01 * report.exact_lower and report.exact == report.exact_upper
    assert report.nested


def test_time_limit_gives_an_explicit_inconclusive_result():
    f, g = random_target(4, [16, 16, 1], seed=0), random_target(4, [16, 16, 1], seed=1)
    result = exact_error_milp(f, g, time_limit=0.5)
    assert result.status == "inconclusive"
    assert result.lower <= result.upper
    with pytest.raises(VerificationInconclusive, match="between"):
        sup_error(f, g, method="exact", time_limit=0.5)


@pytest.mark.parametrize("norm, measure", [("l2", np.linalg.norm), ("linf", lambda v: np.abs(v).max())])
def test_adversarial_improves_on_sampled_and_reports_its_point(norm, measure):
    f, g = random_target(3, [6, 2], seed=3), random_target(3, [6, 2], seed=4)
    sampled, _ = sampled_error(f, g, n=200, seed=0, norm=norm)
    adversarial, point = adversarial_error(f, g, n=200, seed=0, norm=norm)
    assert adversarial >= sampled
    assert np.linalg.norm(point) == pytest.approx(1.0)
    assert measure(f.forward(point) - g.forward(point)) == pytest.approx(adversarial)


@given(d=st.integers(1, 6), n=st.integers(1, 200), seed=st.integers(0, 2**32))
def test_sphere_points_have_norm_one(d, n, seed):
    x = unit_sphere_points(d, n, seed=seed)
    assert x.shape == (n, d)
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1.0, rtol=1e-12)


def test_sampled_error_batches_do_not_matter():
    a, b = random_target(3, [5, 2], seed=0), random_target(3, [5, 2], seed=1)
    assert sampled_error(a, b, n=5000, seed=3)[0] == sampled_error(a, b, n=5000, seed=3, batch=7)[0]


def test_torch_modules_are_verified_too():
    target = random_target(2, [3, 1], seed=0)
    assert sup_error(target.to_torch(), target, method="exact") == 0.0


def test_bad_input():
    a = random_target(3, [1], seed=0)
    with pytest.raises(ShapeError):
        sampled_error(a, random_target(2, [1], seed=0))
    with pytest.raises(InvalidInputError, match="method"):
        sup_error(a, a, method="guess")
    with pytest.raises(InvalidInputError, match="circle"):
        exact_error(a, a, method="circle")  # d = 3
    with pytest.raises(InvalidInputError, match="target"):
        verify(a)
    with pytest.raises(InvalidInputError, match="certified"):
        sup_error(a, a, method="certified")
    with pytest.raises(InvalidInputError, match="cannot verify"):
        sampled_error("net", a)


# -- sampled points in blocks: the same points, bounded memory (the reliability issue) -------------


def one_shot_sphere_points(d: int, n: int, seed: int) -> np.ndarray:
    """The points as they were drawn before blocks: one draw of shape (n, d), then normalised."""
    x = np.random.default_rng(seed).standard_normal((n, d))
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return x / norms


@pytest.mark.parametrize("d, n, rows", [(1, 10, 3), (3, 1000, 7), (5, 4096, 64), (17, 3001, 1000), (2, 5, 5), (4, 9, 100)])
def test_points_in_blocks_are_the_one_shot_draw_bit_for_bit(d, n, rows):
    from stronglth.verification.sampled import sphere_point_batches

    blocks = list(sphere_point_batches(d, n, seed=11, rows=rows))
    assert [start for start, _ in blocks] == list(range(0, n, rows))
    assert all(len(block) <= rows for _, block in blocks)
    expected = one_shot_sphere_points(d, n, 11)
    assert np.array_equal(np.concatenate([block for _, block in blocks]), expected)
    assert np.array_equal(unit_sphere_points(d, n, seed=11), expected)


def old_adversarial_search(f, g, *, n, starts, steps, seed, norm="l2"):
    """adversarial_search as it was, with every point in memory at once: the reference."""
    from stronglth.verification._common import output_errors
    from stronglth.verification.adversarial import _ascend, _on_sphere

    points = one_shot_sphere_points(f.d, n, seed)
    errors = output_errors(f, g, points, norm)
    best = float(errors.max())
    order = np.argsort(errors)[::-1][: max(1, starts)]
    x, value = points[order], errors[order]
    _ascend(f, g, x, value, steps, norm, _on_sphere)
    i = int(np.argmax(value))
    return (float(value[i]), x[i], x) if value[i] >= best else (best, points[int(np.argmax(errors))], x)


def random_pair(dims, seed):
    r = np.random.default_rng(seed)
    make = lambda: ReLUNetwork([r.standard_normal((o, i)) / np.sqrt(i) for i, o in zip(dims[:-1], dims[1:], strict=True)])  # noqa: E731
    return make(), make()


@pytest.mark.parametrize("budget", [None, 8 * 30 * 64, 8 * 30 * 192])
@pytest.mark.parametrize("norm", ["l2", "linf"])
def test_sampled_and_adversarial_errors_do_not_depend_on_the_blocks(monkeypatch, budget, norm):
    """Bit for bit as with every point at once, for blocks of 65,536 (the default here), 64 or 192 rows.
    (Blocks are a multiple of 64 rows unless a layer is wider than 131,072: BLAS groups rows, and a
    row's last bits depend on its group, so a block of 1 row may differ from one large product.)"""
    import stronglth.verification.adversarial as adversarial
    import stronglth.verification.sampled as sampled
    from stronglth.verification._common import output_errors

    f, g = random_pair((5, 30, 3), 2)
    if budget is not None:
        monkeypatch.setattr(sampled, "BATCH_BYTES", budget)
    errors = output_errors(f, g, one_shot_sphere_points(5, 3000, 4), norm)
    value, point = sampled_error(f, g, n=3000, seed=4, norm=norm)
    assert value == errors.max() and np.array_equal(point, one_shot_sphere_points(5, 3000, 4)[np.argmax(errors)])
    reference = old_adversarial_search(f, g, n=3000, starts=8, steps=30, seed=4, norm=norm)
    found = adversarial.adversarial_search(f, g, n=3000, starts=8, steps=30, seed=4, norm=norm)
    assert found[0] == reference[0] and np.array_equal(found[1], reference[1]) and np.array_equal(found[2], reference[2])


def test_adversarial_starts_are_the_same_ranked_or_streamed_and_redrawn_from_any_checkpoint(monkeypatch):
    import stronglth.verification.adversarial as adversarial
    import stronglth.verification.sampled as sampled

    f, g = random_pair((4, 20, 2), 5)
    monkeypatch.setattr(sampled, "BATCH_BYTES", 8 * 20 * 64)  # blocks of 64 rows
    reference = adversarial.adversarial_search(f, g, n=5000, starts=12, steps=20, seed=1)
    for checkpoints in (1, 3):  # the blocks redrawn from few saved generator states
        monkeypatch.setattr(adversarial, "_CHECKPOINTS", checkpoints)
        again = adversarial.adversarial_search(f, g, n=5000, starts=12, steps=20, seed=1)
        assert again[0] == reference[0] and np.array_equal(again[2], reference[2])
    monkeypatch.setattr(adversarial, "RANKED_SAMPLES", 100)  # beyond it: the best starts kept block by block
    streamed = adversarial.adversarial_search(f, g, n=5000, starts=12, steps=20, seed=1)
    assert streamed[0] == reference[0] and np.array_equal(streamed[2], reference[2])


def test_verify_of_a_wide_input_stays_in_bounded_memory():
    """d = 2000 and 100,000 samples: 1.6 GB as one array of points; in blocks, a few times 64 MiB."""
    import tracemalloc

    f, g = random_target(2000, [3, 1], seed=0), random_target(2000, [3, 1], seed=1)
    tracemalloc.start()
    try:
        report = verify(f, g, samples=100_000)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert report.nested and peak < 400 * 2**20, f"peak {peak / 2**20:.0f} MiB"


@pytest.mark.parametrize("domain", ["ball", "box"])
def test_with_biases_every_measure_nests_over_the_whole_domain(domain):
    """Networks with biases (not homogeneous): sampled and adversarial inside the domain, exact by a
    method that does not assume homogeneity, no certified bound, and the nesting holds."""
    from ._oracle import random_pair as oracle_pair
    from ._oracle import sup_bounds

    f, g = oracle_pair(2, [4, 3], 1, 7, biases=True)
    lower, upper = sup_bounds(f, g, 2, domain)
    report = verify(f, g, exact=True, samples=3000, domain=domain, time_limit=30)
    assert report.nested and report.domain == domain and report.certified is None
    assert report.exact_method in ("milp", "bab")
    assert report.adversarial <= upper and lower <= report.exact_upper * (1 + 1e-9)
