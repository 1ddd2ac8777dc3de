"""stronglth.testing: strategies generate only valid objects; assertions fail usefully on broken input."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from stronglth import RandomNetwork, ReLUNetwork, TargetNetwork, Ticket, construct, random_target
from stronglth.bounds import failure_probability, hit_probability, theorem_block_sizes
from stronglth.constructions.malach.gadget import weight_gadget
from stronglth.errors import TicketNotFound, TooLargeError
from stronglth.testing import (
    MAX_COVERING_VALUES,
    admissible_targets,
    assert_homogeneous,
    assert_rate_at_most,
    assert_sup_error_at_most,
    assert_true_subnetwork,
    covering_radius,
    gadget_blocks,
    random_block,
    random_blocks,
    random_networks,
    seeds,
    tickets,
    unit_ball_points,
    unit_sphere_points,
)


@given(admissible_targets())
@settings(max_examples=100)
def test_admissible_targets_pass_the_package_check(target):
    target.check(tolerance=1e-12)


@given(admissible_targets(d=3, widths=[2, 1], families=["rank1"]))
def test_admissible_targets_respect_fixed_arguments(target):
    assert target.dims == (3, 2, 1)
    assert all(np.linalg.matrix_rank(w) == 1 for w in target.weights)


def test_admissible_targets_refuse_unknown_families():
    with pytest.raises(ValueError, match="unknown target families"):
        admissible_targets(families=["cauchy"])


@given(st.integers(1, 5).flatmap(lambda d: st.tuples(st.just(d), unit_sphere_points(d), unit_ball_points(d))))
@settings(max_examples=100)
def test_sphere_and_ball_points(args):
    d, x, y = args
    assert x.shape == (d,) and y.shape == (d,)
    assert abs(np.linalg.norm(x) - 1.0) < 1e-12
    assert np.linalg.norm(y) <= 1.0 + 1e-12


@given(random_networks())
@settings(max_examples=50)
def test_random_networks_are_valid(network):
    rebuilt = RandomNetwork(network.shapes, seed=network.seed)  # the package's own validation
    assert rebuilt == network and network.depth % 2 == 0


@given(tickets())
@settings(max_examples=10)
def test_constructed_tickets_are_valid(ticket):
    assert isinstance(ticket, Ticket) and ticket.target is not None
    assert_true_subnetwork(ticket)
    assert ticket.certified_error <= ticket.meta["eps"]


@given(gadget_blocks(st.integers(1, 10)))
def test_gadget_blocks(block):
    u, v = block
    assert u.shape == v.shape and 1 <= u.size <= 10
    assert np.all(np.abs(u) <= 1) and np.all(np.abs(v) <= 1)


# -- assertions fail, with useful messages, on broken input --------------------------------------


def test_assert_true_subnetwork_catches_a_changed_value():
    network = RandomNetwork([(6, 2), (1, 6)], seed=3)
    ticket = Ticket.from_positions(network, [([0, 4], [0, 1]), ([0], [4])])
    assert_true_subnetwork(ticket)
    first = ticket.kept(1)
    broken = Ticket(network, [(first.rows, first.cols, first.vals * 1.5), ticket.kept(2)])
    with pytest.raises(AssertionError, match=r"not a true subnetwork.*M_1\["):
        assert_true_subnetwork(broken)
    with pytest.raises(AssertionError, match="expected a stronglth.Ticket"):
        assert_true_subnetwork(network)


def test_assert_sup_error_reports_the_point_and_both_outputs():
    target = TargetNetwork([np.array([[0.5]])])
    net = TargetNetwork([np.array([[0.8]])])  # error 0.3 at x = +-1
    assert_sup_error_at_most(net, target, 0.3, method="exact")
    for method in ("sampled", "adversarial"):
        with pytest.raises(
            AssertionError, match=r"sup l2 error 0\.3 exceeds the bound 0\.25 .* at x = \[-?1\.\].*net\(x\) = .*target\(x\) = "
        ):
            assert_sup_error_at_most(net, target, 0.25, method=method)
    with pytest.raises(
        AssertionError, match=r"cannot show sup l2 error <= 0\.25: 0\.3 <= sup <= 0\.3;.* at x = \[-?1\.\].*net\(x\) = .*target"
    ):
        assert_sup_error_at_most(net, target, 0.25, method="exact")


def test_assert_homogeneous_catches_a_bias():
    assert_homogeneous(random_target(3, [4, 2], seed=0))

    class Biased:
        def forward(self, x):
            return x.sum(axis=1, keepdims=True) + 0.1

    with pytest.raises(AssertionError, match="not positively homogeneous"):
        assert_homogeneous(Biased(), points=np.eye(2))
    with pytest.raises(AssertionError, match="not positively homogeneous"):
        assert_homogeneous(lambda x: np.tanh(x), points=np.eye(2))
    with pytest.raises(ValueError, match="points="):
        assert_homogeneous(lambda x: x)
    assert_homogeneous(ReLUNetwork([np.eye(2)]))


# -- probabilistic lemmas: i.i.d. blocks of G, rates, covering radii ------------------------------


@given(k=st.integers(1, 12), seed=seeds, w=st.floats(-1, 1))
@settings(max_examples=30)
def test_random_block_is_the_block_of_G_that_for_target_reads(k, seed, w):
    network = RandomNetwork.for_target(TargetNetwork([np.array([[w]])]), [k], seed=seed)
    u, v = random_block(k, seed=seed)
    assert np.array_equal(u, network.dense(1)[:, 0]) and np.array_equal(v, network.dense(2)[0])
    assert np.array_equal(random_block(k, seed=seed, shape="values"), u)
    assert np.array_equal(random_block(k, seed=seed, shape="products"), v * u)
    normal = RandomNetwork([(k, 1), (1, k)], seed=seed, distributions=["normal", "normal"])
    u_normal, v_normal = random_block(k, seed=seed, distribution="normal")
    assert np.array_equal(u_normal, normal.dense(1)[:, 0]) and np.array_equal(v_normal, normal.dense(2)[0])


@given(random_blocks(st.integers(1, 8)), random_blocks(5, shape="values"), random_blocks(3, shape="products"))
def test_random_blocks_have_the_shapes_asked_for(gadget, values, products):
    u, v = gadget
    assert u.shape == v.shape and 1 <= u.size <= 8 and values.shape == (5,) and products.shape == (3,)
    for a in (u, v, values, products):
        assert a.dtype == np.float64 and np.all(np.abs(a) <= 1)


@given(random_blocks(6, shape="values", distribution="hyperbolic(0.01)"))
def test_random_blocks_follow_the_distribution_asked_for(values):
    assert values.shape == (6,) and np.all((np.abs(values) >= 0.01) & (np.abs(values) <= 1))  # Orseau et al.'s support


def test_a_falsifying_random_block_names_the_seed_that_reproduces_it():
    seen = []

    @given(random_blocks(4, shape="values"))
    @settings(database=None, max_examples=200)
    def inner(values):
        seen.append(values)
        assert values.max() < 0.9

    with pytest.raises(AssertionError) as failure:
        inner()
    notes = [n for n in getattr(failure.value, "__notes__", []) if n.startswith("random_blocks: ")]
    assert len(notes) == 1, notes
    call = re.fullmatch(r"random_blocks: random_block\(4, seed=(\d+), shape='values', distribution='uniform'\)", notes[0])
    assert call, notes[0]
    reproduced = random_block(4, seed=int(call.group(1)), shape="values")
    assert np.array_equal(reproduced, seen[-1]) and reproduced.max() >= 0.9


def test_random_blocks_refuse_unknown_shapes_and_distributions():
    with pytest.raises(ValueError, match="shape must be one of"):
        random_blocks(3, shape="matrix")
    with pytest.raises(ValueError, match="cauchy"):
        random_blocks(3, distribution="cauchy")
    with pytest.raises(ValueError, match="k must be a positive integer"):
        random_block(0, seed=0)


def _subset_sums(values):
    """Every subset sum by itertools (the oracle), accumulated in index order as covering_radius does."""
    return [sum(c, 0.0) for r in range(len(values) + 1) for c in itertools.combinations(values, r)]


finite_values = st.lists(st.floats(-1, 1, allow_nan=False), max_size=8)
intervals = st.tuples(st.floats(-2, 2), st.floats(1e-3, 2)).map(lambda t: (t[0], t[0] + t[1]))


@given(st.one_of(finite_values, random_blocks(st.integers(1, 8), shape="values")), intervals)
@settings(max_examples=60)
def test_covering_radius_against_a_dense_grid_and_every_subset(values, interval):
    radius = covering_radius(values, interval)
    a, b = interval
    grid = np.linspace(a, b, 2001)
    spacing = (b - a) / 2000
    sums = np.array(_subset_sums(list(values)))
    grid_radius = np.abs(grid[:, None] - sums[None, :]).min(axis=1).max()
    # a lower bound attained on the grid; the distance is 1-Lipschitz, so the sup is within spacing / 2 of it
    assert grid_radius <= radius + 1e-12
    assert radius <= grid_radius + spacing / 2 + 1e-12


@given(st.one_of(finite_values, random_blocks(st.integers(1, 10), shape="products")), intervals, st.floats(-1, 1))
@settings(max_examples=60)
def test_covering_radius_exact_properties(values, interval, extra):
    values = list(values)
    a, b = interval
    radius = covering_radius(values, interval)
    sums = np.unique(_subset_sums(values))
    # 2^k balls of radius r cover [a, b]: radius 0 is impossible and r >= (b - a) / 2^(k+1)
    assert radius > 0 and radius >= (b - a) / 2 ** (len(values) + 1) * (1 - 1e-12)
    # never more than half the largest gap between consecutive sums, or the distance from the sums' hull
    hull = max(sums[0] - a, b - sums[-1], 0.0)
    assert radius <= max(np.max(np.diff(sums), initial=0.0) / 2, hull) * (1 + 1e-12) + 1e-300
    # one more value only adds sums; mirroring values and interval changes nothing (bit for bit)
    assert covering_radius([*values, extra], interval) <= radius * (1 + 1e-12)
    assert covering_radius([-x for x in values], (-b, -a)) == radius


def test_covering_radius_small_cases_by_hand():
    assert covering_radius([]) == 0.5  # only the empty sum 0: the ends are at distance 1/2
    assert covering_radius([0.5, 0.25], (0.0, 0.75)) == 0.125  # sums 0, 1/4, 1/2, 3/4: half gaps
    assert covering_radius([1.0], (0.0, 1.0)) == 0.5  # the midpoint 1/2 of the sums 0 and 1
    assert covering_radius([0.25], (0.5, 1.0)) == 0.75  # both sums below the interval: its far end


def test_covering_radius_refuses_bad_input_clearly():
    with pytest.raises(TooLargeError, match="k = 21 values is above MAX_COVERING_VALUES = 20"):
        covering_radius(np.full(21, 0.1))
    assert MAX_COVERING_VALUES == 20 and covering_radius(np.full(20, 2.0**-5), (0.0, 0.625)) == 2.0**-6  # sums j / 32
    for interval in [(0.5, 0.5), (1.0, 0.0), (0.0, np.inf), (0.0,), "ab"]:
        with pytest.raises(ValueError, match="interval"):
            covering_radius([0.1], interval)
    for values in [[np.nan], [[0.1, 0.2]], [np.inf]]:
        with pytest.raises(ValueError, match="values"):
            covering_radius(values)


def _rejects(events, n, bound, confidence):
    try:
        assert_rate_at_most([True] * events + [False] * (n - events), bound, confidence=confidence)
    except AssertionError:
        return True
    return False


confidences = st.one_of(st.sampled_from([0.9, 0.95, 0.99, 0.999]), st.floats(0.501, 0.9999))


@given(st.integers(1, 300).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n))), st.floats(0, 1), confidences)
@settings(max_examples=100)
def test_rate_test_agrees_with_scipy_binomtest(n_events, bound, confidence):
    n, events = n_events
    p_value = stats.binomtest(events, n, bound, alternative="greater").pvalue  # P(Bin(n, bound) >= events)
    alpha = 1 - confidence
    if abs(p_value - alpha) > 1e-6 * alpha:  # away from the boundary, where both are rounded
        assert _rejects(events, n, bound, confidence) == (p_value < alpha)


@given(st.integers(1, 120), st.floats(1e-6, 1 - 1e-6), confidences)
@settings(max_examples=30)
def test_rate_test_fails_a_true_bound_with_probability_at_most_one_minus_confidence(n, bound, confidence):
    rejected = [events for events in range(n + 1) if _rejects(events, n, bound, confidence)]
    if rejected:  # an upper set of event counts: more events never look better
        assert rejected == list(range(rejected[0], n + 1))
        # exact type I error at rate = bound; any rate below the bound rejects less often (upper set)
        type_one = stats.binom.sf(rejected[0] - 1, n, bound)
        assert type_one <= (1 - confidence) * (1 + 1e-9)


def test_rate_failure_names_the_rate_the_interval_and_the_first_failing_seed():
    with pytest.raises(
        AssertionError,
        match=r"observed rate 0\.1 \(10 of 100 trials\) refutes H0 rate <= 0\.01 at confidence 0\.99: one-sided"
        r" Clopper-Pearson lower bound 0\.04\d+ > 0\.01, p-value 7\.6\de-08; two-sided 0\.99 Clopper-Pearson"
        r" interval \[0\.038\d+, 0\.20\d+\]; first with the event: seed 3$",
    ):
        assert_rate_at_most(lambda seed: seed % 10 == 3, 0.01, seeds=100)
    with pytest.raises(AssertionError, match=r"first with the event: seed 13$"):
        assert_rate_at_most(lambda seed: seed % 10 == 3, 0.01, seeds=range(10, 110))
    assert_rate_at_most(lambda seed: seed % 10 == 3, 0.5, seeds=np.arange(10))  # numpy seeds: no truth-value trap
    with pytest.raises(AssertionError, match=r"\(3 of 3 trials\).*first with the event: trial 0$"):
        assert_rate_at_most(np.ones(3, dtype=bool), 0.1)
    assert_rate_at_most(iter([True] * 3 + [False] * 97), 0.01)  # 3 in 100 is plausible for a rate of 1%
    assert_rate_at_most([True] * 5, 1.0)  # a bound of 1 is never refuted
    with pytest.raises(AssertionError, match="refutes H0 rate <= 0"):
        assert_rate_at_most([False] * 99 + [True], 0.0)  # one event refutes a rate of 0


def test_rate_test_refuses_bad_input_clearly():
    with pytest.raises(ValueError, match=r"seed 0 gave 0\.5 \(float\), not a bool"):
        assert_rate_at_most(lambda seed: 0.5, 0.1, seeds=3)
    with pytest.raises(ValueError, match=r"trial 1 gave 1 \(int\), not a bool"):
        assert_rate_at_most([False, 1], 0.1)
    with pytest.raises(ValueError, match="callable seed -> bool with seeds="):
        assert_rate_at_most(lambda seed: True, 0.1)
    with pytest.raises(ValueError, match="callable seed -> bool with seeds="):
        assert_rate_at_most([True], 0.1, seeds=3)
    with pytest.raises(ValueError, match="no trials"):
        assert_rate_at_most([], 0.1)
    with pytest.raises(ValueError, match=r"bound is a rate: it must lie in \[0, 1\]"):
        assert_rate_at_most([True], 1.5)
    for confidence in (0.5, 1.0, 0.3):
        with pytest.raises(ValueError, match="confidence"):
            assert_rate_at_most([True], 0.1, confidence=confidence)
    with pytest.raises(ValueError, match="each of seeds must be a non-negative integer"):
        assert_rate_at_most(lambda seed: True, 0.1, seeds=[0, -1])


# -- lemmas of the package that hold with high probability over G (docs/theory.md §4-§5) ---------


def test_the_weight_lemma_misses_with_probability_one_minus_p_to_the_k():
    """docs/theory.md §4.2: for ``|w| >= eta`` one candidate is on side P within ``eta`` of ``w`` with
    probability exactly ``p(w, eta)`` (``bounds.hit_probability``), so a block of ``k`` misses with
    probability ``(1 - p)^k``, the bound the union bound of §4.5 sums. Fixed seeds: deterministic."""
    for w, eta in [(0.5, 0.05), (-0.9, 0.1), (0.3, 0.2)]:  # |w| > eta: keeping no unit is not within eta
        p = hit_probability(w, eta)
        k = round(np.log(0.25) / np.log1p(-p))  # a block that misses about one time in four
        bound = (1 - p) ** k

        def misses(seed, w=w, eta=eta, k=k):
            u, v = random_block(k, seed=seed)
            return not weight_gadget(u, v, w, eta=eta, negative_half=False).accepted_positive

        assert_rate_at_most(misses, bound, seeds=4000, confidence=0.999)
        with pytest.raises(AssertionError, match="refutes H0"):  # the test has power: a bound 25% too low is refuted
            assert_rate_at_most(misses, 0.75 * bound, seeds=4000, confidence=0.999)


def test_the_construction_at_theorem_block_sizes_fails_in_at_most_delta_of_the_seeds():
    """Malach et al.'s theorem as the package instantiates it (docs/theory.md §4.5-§4.6): with
    ``bounds.theorem_block_sizes(dims, eps, delta)`` the construction fails with probability at most
    ``bounds.failure_probability(...) <= delta`` over G, for every admissible target."""
    eps, delta = 0.5, 0.5
    for target in (random_target(2, [2, 1], seed=0), random_target(2, [2, 1], seed=1, family="max_norm")):
        block_sizes = theorem_block_sizes(target.dims, eps, delta)
        union_bound = failure_probability(target.dims, block_sizes, eps)
        assert union_bound <= delta

        def fails(seed, target=target):
            try:
                construct(target, method="malach", eps=eps, delta=delta, block_sizes="theorem", seed=seed)
            except TicketNotFound:
                return True
            return False

        assert_rate_at_most(fails, union_bound, seeds=400, confidence=0.999)


def _positive_side_sums(u, v):
    return (v * u)[u > 0]  # side P of the subset-sum construction: the values v_h |u_h| (docs/theory.md §5)


@given(random_blocks(st.integers(1, 16)), st.floats(-1, 1), st.floats(1e-3, 0.2))
@settings(max_examples=60)
def test_subset_sums_cover_at_least_as_well_as_the_best_single_unit(block, w, half_width):
    """docs/theory.md §5: subsets include the singletons and the empty set, so on every block the
    subset sums of side P are within ``min(|w|, min_h |v_h u_h - w|) + h`` of every point of ``[w - h, w + h]``."""
    u, v = block
    best_single = min([abs(w), *np.abs(v * u - w)[u > 0]])
    radius = covering_radius(_positive_side_sums(u, v), (w - half_width, w + half_width))
    assert radius <= best_single + half_width + 1e-12


def test_the_subset_sum_construction_misses_at_most_as_often_as_the_weight_lemma_says():
    """With high probability over G: the side-P subset sums of a block of ``k`` cover ``[w - h, w + h]``
    within ``eta + h`` except with probability at most ``(1 - p(w, eta))^k`` (the property above and
    docs/theory.md §4.2). Pensia et al.'s construction needs far fewer units; the bound holds anyway."""
    w, eta, half_width, k = 0.5, 0.05, 0.05, 16
    bound = (1 - hit_probability(w, eta)) ** k

    def misses(seed):
        u, v = random_block(k, seed=seed)
        return covering_radius(_positive_side_sums(u, v), (w - half_width, w + half_width)) > eta + half_width

    assert_rate_at_most(misses, bound, seeds=500)
