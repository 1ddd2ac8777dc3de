"""The subset-sum construction (Pensia et al. 2020; docs/theory.md §2-4): construct/subsetsum_network.py.

Oracles: the dense G of a tiny network, the gadget identity evaluated from it, and brute force over
every subset of a block's candidates.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from strategies import admissible_targets, unit_sphere

from stronglth import InvalidInputError, RandomNetwork, TargetNetwork, Ticket, TicketNotFound, bounds, random_target
from stronglth.constructions import METHODS, construct
from stronglth.constructions.subsetsum import auto as auto_module
from stronglth.constructions.subsetsum import layer as layer_module
from stronglth.constructions.subsetsum import network as module
from stronglth.verification import certified_bound


def same_ticket(a: Ticket, b: Ticket) -> bool:
    return (
        a.network == b.network
        and a.certified_error == b.certified_error
        and all(
            np.array_equal(x.rows, y.rows) and np.array_equal(x.cols, y.cols) and np.array_equal(x.vals, y.vals)
            for x, y in zip(a.entries, b.entries, strict=False)
        )
    )


def dense_gadgets(ticket: Ticket) -> list[tuple[np.ndarray, np.ndarray]]:
    """``(A_i, B_i)`` from the dense G and the masks: ``A[o, j] = sum v_oh u_h`` over kept ``h``
    with ``u_h > 0`` in block ``j``, ``B`` likewise over ``u_h < 0`` with ``|u_h|``, added in unit order."""
    out = []
    for i, (w, k) in enumerate(zip(ticket.target.weights, ticket.meta["block_sizes"], strict=False), start=1):
        m1, m2 = ticket.network.dense(2 * i - 1), ticket.network.dense(2 * i)
        first, second = ticket.kept(2 * i - 1), ticket.kept(2 * i)
        assert np.all(first.rows // k == first.cols), "a kept first-layer weight outside its block"
        assert set(second.cols.tolist()) <= set(first.rows.tolist()), "a kept output weight from an unused unit"
        a, b = np.zeros_like(w), np.zeros_like(w)
        for o, h in zip(second.rows.tolist(), second.cols.tolist(), strict=False):  # sorted by (o, h): unit order
            u, j = m1[h, h // k], h // k
            if u > 0:
                a[o, j] += m2[o, h] * u
            else:
                b[o, j] += m2[o, h] * -u
        out.append((a, b))
    return out


@given(
    target=admissible_targets(max_d=3, max_width=3, max_depth=2),
    eps=st.floats(0.05, 0.5),
    seed=st.integers(0, 2**32),
    negative_half_everywhere=st.booleans(),
)
def test_auto_ticket_properties(target, eps, seed, negative_half_everywhere):
    """A true subnetwork; sampled error <= certified error <= eps; every per-weight error within
    eta_i; the certified error is verify.certified_bound's, recomputed from the kept weights."""
    ticket = construct(target, method="subsetsum", eps=eps, seed=seed, negative_half_everywhere=negative_half_everywhere)
    ticket.audit()
    etas = bounds.per_weight_tolerance(target.dims, eps, negative_half_everywhere=negative_half_everywhere)
    assert ticket.meta["eta"] == list(etas) and ticket.meta["failures"] == 0
    for i, ((a, b), w, eta) in enumerate(zip(dense_gadgets(ticket), target.weights, etas, strict=False), start=1):
        assert np.abs(a - w).max() <= eta
        if i == 1 or negative_half_everywhere:
            assert np.abs(b + w).max() <= eta
        else:
            assert not np.any(b), "the N half is left out after a ReLU"
    x = unit_sphere(target.d, 2_000, seed)
    sampled = np.abs(ticket.forward(x) - target.forward(x)).max()
    assert sampled <= ticket.certified_error * (1 + 1e-9) + 1e-15
    assert ticket.certified_error <= eps
    assert certified_bound(ticket) == pytest.approx(ticket.certified_error, rel=1e-12, abs=1e-300)


@given(
    w=st.lists(st.floats(-0.7, 0.7), min_size=2, max_size=4),
    k=st.integers(1, 14),
    seed=st.integers(0, 2**32),
    max_size=st.sampled_from([None, 0, 1, 2]),
    max_candidates=st.sampled_from([None, 1, 3, 5]),
)
def test_errors_are_the_optimum_over_all_subsets(w, k, seed, max_size, max_candidates):
    """Per (o, j, side) the kept units are a subset of the block's candidates of that side (the
    first max_candidates in unit order) whose error equals the least over every subset of them
    (brute force; at most max_size units)."""
    w = np.array(w) / max(1.0, float(np.linalg.norm(w)))  # admissible: ||W||_2 <= 1
    target = TargetNetwork([w.reshape(-1, 1)])
    ticket = construct(
        target,
        method="subsetsum",
        eta=0.05,
        seed=seed,
        block_sizes=[k],
        on_failure="best_effort",
        max_size=max_size,
        max_candidates=max_candidates,
        objective="least_error",
    )
    ticket.audit()
    ((a, b),) = dense_gadgets(ticket)
    u = ticket.network.dense(1)[:, 0]
    v = ticket.network.dense(2)
    second = ticket.kept(2)
    for o, target_w in enumerate(w.tolist()):
        for side, found in ((+1, a[o, 0] - target_w), (-1, b[o, 0] + target_w)):
            units = np.flatnonzero(np.sign(u) == side)[:max_candidates]
            chosen = second.cols[second.rows == o]
            chosen = chosen[np.sign(u[chosen]) == side]
            assert set(chosen.tolist()) <= set(units.tolist())
            assert max_size is None or chosen.size <= max_size
            values = v[o, units] * np.abs(u[units])
            best = min(
                abs(math.fsum(values[list(subset)]) - side * target_w)
                for size in range((units.size if max_size is None else min(max_size, units.size)) + 1)
                for subset in itertools.combinations(range(units.size), size)
            )
            scale = np.abs(values).sum() + abs(target_w)
            assert abs(abs(found) - best) <= 1e-12 * scale + 1e-300


@given(
    w=st.lists(st.floats(-0.7, 0.7), min_size=2, max_size=4),
    k=st.integers(1, 12),
    seed=st.integers(0, 2**32),
    eta=st.sampled_from([0.01, 0.05, 0.2]),
    subset_size=st.sampled_from([None, 1, 2, 3]),
)
def test_sparsest_and_fixed_size_subsets_against_brute_force(w, k, seed, eta, subset_size):
    """Per (o, j, side) the kept units are, by default, a least-cardinality subset of the side's
    candidates within eta (the least-error one where none is), and with subset_size the least-error
    subset of exactly that size (brute force over every subset); the ticket's G is G's own."""
    w = np.array(w) / max(1.0, float(np.linalg.norm(w)))
    target = TargetNetwork([w.reshape(-1, 1)])
    ticket = construct(
        target, method="subsetsum", eta=eta, seed=seed, block_sizes=[k], on_failure="best_effort", subset_size=subset_size
    )
    ticket.audit()
    assert ticket.meta["objective"] == "sparsest" and ticket.meta["subset_size"] == subset_size
    ((a, b),) = dense_gadgets(ticket)
    u = ticket.network.dense(1)[:, 0]
    v = ticket.network.dense(2)
    second = ticket.kept(2)
    for o, target_w in enumerate(w.tolist()):
        for side, found in ((+1, a[o, 0] - target_w), (-1, b[o, 0] + target_w)):
            units = np.flatnonzero(np.sign(u) == side)
            chosen = second.cols[second.rows == o]
            chosen = chosen[np.sign(u[chosen]) == side]
            assert set(chosen.tolist()) <= set(units.tolist())
            values = v[o, units] * np.abs(u[units])
            subsets = [
                (size, abs(math.fsum(values[list(subset)]) - side * target_w))
                for size in range(units.size + 1)
                for subset in itertools.combinations(range(units.size), size)
            ]
            scale = np.abs(values).sum() + abs(target_w)
            slack = 1e-12 * scale + 1e-300
            if subset_size is not None:
                if units.size < subset_size:
                    assert chosen.size == units.size
                    continue
                assert chosen.size == subset_size
                best = min(error for size, error in subsets if size == subset_size)
                assert abs(abs(found) - best) <= slack
                continue
            within = [(size, error) for size, error in subsets if error <= eta - slack]
            if within:  # clearly feasible: a subset of least size, and no more error than any of that size
                assert chosen.size == min(size for size, _ in within)
                assert abs(found) <= eta + slack
            elif not any(error <= eta + slack for _, error in subsets):  # clearly infeasible: the least error
                assert abs(abs(found) - min(error for _, error in subsets)) <= slack


def test_auto_finds_a_block_size_whose_predecessor_fails():
    """The documented contract of "auto": every event succeeds at k_i, some event fails at k_i - 1;
    for this target and seed the search goes up in layers 1-2 and down in layer 3."""
    target = random_target(4, [8, 8, 1], seed=1)
    ticket = construct(target, method="subsetsum", eps=0.1, seed=1)
    ks, tried = ticket.meta["block_sizes"], ticket.meta["auto_tried"]
    assert ticket.meta["failures"] == 0 and ticket.meta["block_sizes_rule"] == "auto"
    assert ticket.network == RandomNetwork.for_target(target, ks, seed=1)
    assert ticket.meta["auto_start"] == list(auto_module.auto_start(target.dims, ticket.meta["eta"], 0.05))
    assert tried[0][0] < ks[0] and tried[2][0] > ks[2], "both directions of the search are exercised"
    for i in range(len(ks)):
        assert tried[i][0] == ticket.meta["auto_start"][i] and ks[i] in tried[i]
        if ks[i] > 1:
            smaller = list(ks)
            smaller[i] -= 1
            worse = construct(target, method="subsetsum", eps=0.1, seed=1, block_sizes=smaller, on_failure="best_effort")
            assert worse.meta["failures"] > 0
    explicit = construct(target, method="subsetsum", eps=0.1, seed=1, block_sizes=ks)
    assert same_ticket(ticket, explicit)


@pytest.mark.parametrize("task_values", [1, 7, 1 << 20])
def test_jobs_and_task_sizes_do_not_change_the_ticket(task_values, monkeypatch):
    target = random_target(3, [4, 2], seed=1)
    reference = construct(target, method="subsetsum", eps=0.1, seed=5, block_sizes=[20, 18], on_failure="best_effort")
    monkeypatch.setattr(layer_module, "TASK_VALUES", task_values)
    for jobs in (1, 2):
        ticket = construct(target, method="subsetsum", eps=0.1, seed=5, block_sizes=[20, 18], on_failure="best_effort", jobs=jobs)
        assert same_ticket(ticket, reference)
    auto = construct(target, method="subsetsum", eps=0.1, seed=5, jobs=2)
    monkeypatch.undo()
    assert same_ticket(auto, construct(target, method="subsetsum", eps=0.1, seed=5))


def test_ticket_not_found_names_the_event_and_best_effort_returns_a_ticket():
    target = random_target(2, [3, 1], seed=0)
    start = auto_module.auto_start(target.dims, bounds.per_weight_tolerance(target.dims, 0.01), 0.05)[0]
    with pytest.raises(
        TicketNotFound,
        match=(
            r"layer 1, output \d, input \d, side [PN] \([^)]*\): best error \S+ > eta = \S+ with block size 4"
            rf" \(\d candidates on this side\); the 'auto' rule .* suggests block size {start} .*best_effort"
        ),
    ):
        construct(target, method="subsetsum", eps=0.01, seed=0, block_sizes=[4, 4])
    ticket = construct(target, method="subsetsum", eps=0.01, seed=0, block_sizes=[4, 4], on_failure="best_effort")
    assert ticket.meta["failures"] > 0
    ticket.audit()
    assert ticket.certified_error > 0.01
    x = unit_sphere(2, 500, 0)
    assert np.abs(ticket.forward(x) - target.forward(x)).max() <= ticket.certified_error * (1 + 1e-9)
    assert certified_bound(ticket) == pytest.approx(ticket.certified_error, rel=1e-12)


def test_eta_per_layer_is_used_directly():
    target = random_target(3, [4, 2], seed=2)
    ticket = construct(target, method="subsetsum", eta=[0.02, 0.05], seed=1)
    assert ticket.meta["eps"] is None and ticket.meta["eta"] == [0.02, 0.05]
    (a1, b1), (a2, _) = dense_gadgets(ticket)
    w1, w2 = target.weights
    assert max(np.abs(a1 - w1).max(), np.abs(b1 + w1).max()) <= 0.02 and np.abs(a2 - w2).max() <= 0.05
    same = construct(
        target, method="subsetsum", eta=0.05, seed=1, block_sizes=ticket.meta["block_sizes"], on_failure="best_effort"
    )
    assert same.meta["eta"] == [0.05, 0.05]


def test_subset_sum_network_is_far_narrower_than_malach():
    """Same target and eps: the auto subset-sum G against Malach's theorem-width G (measured ratio
    of weights 85x to 165x over target seeds 0..3 and G seeds 0..9; asserted: 50x)."""
    target = random_target(3, [4, 2], seed=0)
    malach = construct(target, method="malach", eps=0.05, seed=0, block_sizes="theorem")
    for seed in range(3):
        ticket = construct(target, method="subsetsum", eps=0.05, seed=seed)
        assert ticket.certified_error <= 0.05 and malach.certified_error <= 0.05
        assert malach.network.parameter_count >= 50 * ticket.network.parameter_count
        assert all(m >= 50 * s for m, s in zip(malach.network.hidden_widths, ticket.network.hidden_widths, strict=False))


def test_ticket_file_round_trip(tmp_path):
    target = random_target(2, [3, 1], seed=4)
    ticket = construct(target, method="subsetsum", eta=0.05, seed=2)
    loaded = Ticket.load(ticket.save(tmp_path / "t.npz"))
    assert same_ticket(loaded, ticket)
    assert loaded.meta["method"] == "subsetsum" and loaded.meta["eps"] is None and loaded.meta["eta"] == [0.05, 0.05]


def test_registered():
    assert METHODS["subsetsum"] is module.construct_subsetsum


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(), "exactly one of eps"),
        (dict(eps=0.1, eta=0.01), "exactly one of eps"),
        (dict(eps=0), "eps"),
        (dict(eps=float("nan")), "eps"),
        (dict(eta=-0.1), "eta"),
        (dict(eta=float("inf")), "eta"),
        (dict(eta="small"), "eta"),
        (dict(eta=[0.1]), "one per layer"),
        (dict(eta=[0.1, 0.0]), "eta of layer 2"),
        (dict(eps=0.1, delta=1.5), "delta"),
        (dict(eps=0.1, seed=-1), "seed"),
        (dict(eps=0.1, block_sizes="theorem"), "'auto'"),
        (dict(eps=0.1, block_sizes="instance"), "'auto'"),
        (dict(eps=0.1, block_sizes="huge"), "block_sizes"),
        (dict(eps=0.1, block_sizes=[10]), "block_sizes"),
        (dict(eps=0.1, block_sizes=[10, 0]), "block size of layer 2"),
        (dict(eps=0.1, on_failure="ignore"), "on_failure"),
        (dict(eps=0.1, jobs=0), "jobs"),
        (dict(eps=0.1, max_size=-1), "max_size"),
        (dict(eps=0.1, max_candidates=0), "max_candidates"),
        (dict(eps=0.1, max_candidates=41), "max_candidates"),
        (dict(eps=0.1, max_candidates=2.0), "max_candidates"),
    ],
)
def test_bad_arguments(kwargs, message):
    kwargs = {"seed": 0, **kwargs}
    with pytest.raises(InvalidInputError, match=message):
        construct(random_target(2, [3, 1], seed=0), method="subsetsum", **kwargs)
