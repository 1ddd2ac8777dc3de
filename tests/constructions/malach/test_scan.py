"""The fused chunked scan (constructions/malach/scan.py) and selection="first" (docs/theory.md §11),
against the dense weight gadget and a naive unit-by-unit loop."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from stronglth import RandomNetwork, random_target
from stronglth.constructions import construct, plan
from stronglth.constructions.malach import layer as layer_module
from stronglth.constructions.malach import scan as scan_module
from stronglth.constructions.malach.gadget import weight_gadget
from stronglth.constructions.malach.layer import approximate_layer
from stronglth.errors import InvalidInputError


def small_scan(patch, chunk: int, sub: int, piece: int) -> None:
    """Chunk, sub-chunk and piece sizes small enough for every boundary to be crossed."""
    patch.setattr(scan_module, "CHUNK", chunk)
    patch.setattr(scan_module, "FIRST_CHUNK", max(1, chunk // 4))
    patch.setattr(scan_module, "FIRST_CHUNK_FIRST", max(1, chunk // 3))
    patch.setattr(scan_module, "SUBCHUNK", sub)
    patch.setattr(scan_module, "BLOCK_VALUES", 3 * chunk)
    patch.setattr(scan_module, "MATCHING_BLOCK_VALUES", 2 * chunk)
    patch.setattr(layer_module, "PIECE", piece)


def naive_first(u, v, w, eta, rule, side):
    """The first acceptable unit of one side, one unit at a time in index order (None: none)."""
    for h in range(u.size):
        if np.sign(u[h]) != side:
            continue
        if rule == "best" and abs(v[h] * u[h] - w) <= eta:
            return h
        sign_w = 1.0 if w >= 0 else -1.0
        if rule == "matching" and abs(abs(u[h]) - abs(w)) <= eta / 2 and v[h] * sign_w * side >= 1 - eta / 2:
            return h
    return None


@settings(max_examples=150, deadline=None)
@example(d=2, n_out=1, k=32, seed=0, rule="best", selection="first", eta=0.1, chunk=1, sub=1, piece=1, negative_half=True)
@given(
    d=st.integers(1, 3),
    n_out=st.integers(1, 4),
    k=st.integers(1, 90),
    seed=st.integers(0, 2**32),
    rule=st.sampled_from(["best", "matching"]),
    selection=st.sampled_from(["best", "first"]),
    eta=st.sampled_from([0.02, 0.1, 0.4]),
    chunk=st.integers(1, 24),
    sub=st.integers(1, 9),
    piece=st.integers(1, 50),
    negative_half=st.booleans(),
)
def test_streaming_choice_is_the_dense_choice(d, n_out, k, seed, rule, selection, eta, chunk, sub, piece, negative_half):
    """Whatever the chunk, sub-chunk and piece sizes: the units kept are the dense gadget's for
    every accepted event (the least error, or the first acceptable unit), the errors are its errors
    bit for bit, and selection "first" agrees with a naive loop over the units in order. (The
    example: a block where one side of an output finds its unit and the other fails; the failed
    side's fallback must leave the found side alone.)"""
    target = random_target(d, [n_out], seed=seed)
    network = RandomNetwork.for_target(target, [k], seed=seed)
    w = target.weights[0]
    with pytest.MonkeyPatch.context() as patch:
        small_scan(patch, chunk, sub, piece)
        result = approximate_layer(
            network, 1, w, block_size=k, eta=eta, rule=rule, selection=selection, negative_half=negative_half
        )
    m1, m2 = network.dense(1), network.dense(2)
    kept = set(zip(result.second[0].tolist(), result.second[1].tolist(), strict=True))
    failed = {(f.output, f.input, f.side) for f in result.failures}
    for j in range(d):
        u = m1[j * k : (j + 1) * k, j]
        for o in range(n_out):
            v = m2[o, j * k : (j + 1) * k]
            choice = weight_gadget(u, v, w[o, j], rule=rule, eta=eta, selection=selection, negative_half=negative_half)
            sides = [(+1, choice.positive, choice.error_positive, choice.accepted_positive, result.d_plus)]
            if negative_half:
                sides.append((-1, choice.negative, choice.error_negative, choice.accepted_negative, result.d_minus))
            for side, h, error, accepted, deviation in sides:
                assert ((o, j, side) not in failed) == accepted
                if selection == "first" and not (rule == "best" and abs(w[o, j]) <= eta):
                    assert h == naive_first(u, v, w[o, j], eta, rule, side) or not accepted
                if accepted or rule == "best":
                    assert deviation[o, j] == error
                    if h is not None:
                        assert (o, j * k + h) in kept
    if selection == "best":
        assert result.values_read == d * k * (n_out + 1)
    else:
        assert result.values_read <= d * k * (n_out + 1) * (1 + 2 * (result.failures != ()))


def test_first_accepts_a_unit_exactly_at_eta():
    """The tolerance is inclusive, as in the gadget: eta set to one unit's exact error accepts it."""
    target = random_target(2, [3], seed=5)
    k = 400
    network = RandomNetwork.for_target(target, [k], seed=5)
    w = target.weights[0]
    u, v = network.dense(1)[:k, 0], network.dense(2)[0, :k]
    errors = np.abs(v * u - w[0, 0])
    h = int(np.flatnonzero(u > 0)[np.argsort(errors[u > 0])[3]])  # a good, not the best, P unit
    eta = float(errors[h])
    result = approximate_layer(network, 1, w, block_size=k, eta=eta, rule="best", selection="first")
    first = weight_gadget(u, v, w[0, 0], rule="best", eta=eta, selection="first")
    assert first.positive is not None and first.positive <= h and abs(first.error_positive) <= eta
    assert result.d_plus[0, 0] == first.error_positive


def test_first_reads_far_less_and_stays_within_tolerance():
    target = random_target(3, [4, 2], seed=1)
    best = construct(target, eps=0.1, seed=1, progress=False)
    first = construct(target, eps=0.1, seed=1, selection="first", progress=False)
    assert "selection" not in best.meta and first.meta["selection"] == "first"
    assert first.meta["values_read"] < 0.3 * plan(target, eps=0.1, seed=1).values
    assert first.certified_error <= 0.1 and best.certified_error <= first.certified_error
    first.audit()


def test_first_does_not_depend_on_processes_or_pieces(tmp_path, monkeypatch):
    monkeypatch.setattr(layer_module, "PIECE", 700)
    target = random_target(3, [3, 2], seed=2)
    kwargs = dict(eps=0.3, seed=2, selection="first", block_sizes=[5000, 3000], progress=False, on_failure="best_effort")
    serial = construct(target, **kwargs)
    parallel = construct(target, jobs=2, **kwargs)
    a, b = serial.save(tmp_path / "a.npz"), parallel.save(tmp_path / "b.npz")
    assert a.read_bytes() == b.read_bytes()


def test_failed_first_events_fall_back_to_the_best_unit():
    """A block too small: every event fails, and its fallback is selection "best"'s, byte for byte."""
    target = random_target(2, [2], seed=3)
    kwargs = dict(eps=0.05, seed=3, block_sizes=[3], on_failure="best_effort", progress=False)
    best = construct(target, **kwargs)
    first = construct(target, selection="first", **kwargs)
    assert first.meta["failures"] == best.meta["failures"] > 0
    assert first.certified_error == best.certified_error
    for a, b in zip(best.entries, first.entries, strict=True):
        assert np.array_equal(a.rows, b.rows) and np.array_equal(a.cols, b.cols) and np.array_equal(a.vals, b.vals)


def test_parallel_first_scan_equals_serial(monkeypatch):
    monkeypatch.setattr(layer_module, "PIECE", 300)
    target = random_target(3, [4], seed=4)
    network = RandomNetwork.for_target(target, [2_000], seed=4)
    w = target.weights[0]
    serial = approximate_layer(network, 1, w, block_size=2_000, eta=0.05, selection="first")
    with ProcessPoolExecutor(2) as pool:
        parallel = approximate_layer(network, 1, w, block_size=2_000, eta=0.05, selection="first", executor=pool)
    assert serial.values_read == parallel.values_read
    for a, b in zip(serial.first + serial.second, parallel.first + parallel.second, strict=True):
        assert np.array_equal(a, b)


def test_bad_selection_is_refused():
    target = random_target(2, [2], seed=0)
    with pytest.raises(InvalidInputError, match="selection"):
        construct(target, eps=0.3, seed=0, selection="fastest")
    with pytest.raises(InvalidInputError, match="eta"):
        weight_gadget(np.ones(2), np.ones(2), 0.5, selection="first")
