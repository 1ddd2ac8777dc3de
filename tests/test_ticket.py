"""Ticket: sparse evaluation against a dense masked oracle, compaction, torch, files, audit."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from strategies import dense_masked_forward, small_tickets

from stronglth import (
    InvalidInputError,
    RandomNetwork,
    ShapeError,
    Ticket,
    TicketAuditError,
    TicketFormatError,
    construct,
    random_target,
)
from stronglth.testing import assert_homogeneous, assert_true_subnetwork


def points(d: int, n: int = 16, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, d))


@given(ticket=small_tickets())
def test_forward_compact_torch_and_dense_oracle_agree(ticket):
    x = points(ticket.network.dims[0])
    expected = dense_masked_forward(ticket, x)
    np.testing.assert_allclose(ticket.forward(x), expected, rtol=1e-12, atol=1e-13)
    compact = ticket.compact()
    np.testing.assert_allclose(compact.forward(x), expected, rtol=1e-12, atol=1e-13)
    with torch.no_grad():
        out = ticket.to_torch()(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-13)
    assert_homogeneous(ticket)
    # compaction never keeps more units than G has, nor more weights than the ticket
    assert all(c <= g for c, g in zip(compact.dims, ticket.network.dims, strict=False))
    assert np.count_nonzero(np.concatenate([w.ravel() for w in compact.weights])) <= ticket.nnz


def test_dead_units_are_removed():
    network = RandomNetwork([(5, 2), (3, 5), (4, 3), (1, 4)], seed=0)
    # unit 0 of layer 1 is live; unit 1 has no input; unit 2 has no output; path 0 -> 0 -> 0 -> 0
    positions = [
        ([0, 2], [0, 1]),
        ([0, 1], [0, 1]),  # unit 1 of layer 2 reads the input-less unit 1: dead
        ([0, 3], [0, 1]),
        ([0, 0], [0, 3]),
    ]
    ticket = Ticket.from_positions(network, positions)
    assert ticket.live_widths == (1, 1, 1)
    assert ticket.compact().dims == (2, 1, 1, 1, 1)
    x = points(2)
    np.testing.assert_allclose(ticket.forward(x), dense_masked_forward(ticket, x), rtol=1e-12, atol=1e-14)


def test_empty_ticket_is_the_zero_function():
    network = RandomNetwork([(5, 2), (3, 5)], seed=0)
    ticket = Ticket(network, [([], [], []), ([], [], [])])
    assert ticket.nnz == 0 and ticket.density == 0
    assert np.array_equal(ticket.forward(points(2)), np.zeros((16, 3)))
    assert np.array_equal(ticket.compact().forward(points(2)), np.zeros((16, 3)))


def test_nnz_density_and_single_point():
    network = RandomNetwork([(4, 3), (2, 4)], seed=3)
    ticket = Ticket.from_positions(network, [np.nonzero(np.ones((4, 3))), ([1], [2])])
    assert ticket.nnz == 13
    assert ticket.density == pytest.approx(13 / 20)
    x = points(3)
    assert np.array_equal(ticket.forward(x[0]), ticket.forward(x)[0])


@given(ticket=small_tickets(), with_target=st.booleans())
def test_save_load_round_trip(tmp_path_factory, ticket, with_target):
    path = tmp_path_factory.mktemp("t") / "ticket.npz"
    target = None
    if with_target:
        target = random_target(ticket.network.dims[0], [3, ticket.network.dims[-1]], seed=1)
    ticket = Ticket(ticket.network, ticket.entries, target=target, certified_error=0.25, meta={"method": "test", "eps": 0.5})
    ticket.save(path)
    loaded = Ticket.load(path)
    assert loaded.network == ticket.network
    assert loaded.certified_error == 0.25 and loaded.meta["method"] == "test" and loaded.meta["eps"] == 0.5
    for a, b in zip(loaded.entries, ticket.entries, strict=False):
        assert np.array_equal(a.rows, b.rows) and np.array_equal(a.cols, b.cols) and a.vals.tobytes() == b.vals.tobytes()
    x = points(ticket.network.dims[0])
    assert loaded.forward(x).tobytes() == ticket.forward(x).tobytes()
    if with_target:
        assert all(np.array_equal(a, b) for a, b in zip(loaded.target.weights, target.weights, strict=False))
    else:
        assert loaded.target is None


def test_load_in_a_fresh_process(tmp_path):
    network = RandomNetwork([(30, 3), (2, 30)], seed=42)
    Ticket.from_positions(network, [([1, 2, 7], [0, 1, 2]), ([0, 1], [1, 7])]).save(tmp_path / "t.npz")
    code = f"from stronglth import Ticket; t = Ticket.load({str(tmp_path / 't.npz')!r}); print(t.nnz, t.network.seed)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["5", "42"]


def test_audit_catches_one_ulp():
    network = RandomNetwork([(30, 3), (2, 30)], seed=5)
    ticket = Ticket.from_positions(network, [np.nonzero(np.ones((30, 3))), np.nonzero(np.ones((2, 30)))])
    assert_true_subnetwork(ticket)
    entries = list(ticket.entries)
    vals = entries[1].vals.copy()
    vals[17] = np.nextafter(vals[17], 2.0)
    entries[1] = (entries[1].rows, entries[1].cols, vals)
    with pytest.raises(TicketAuditError, match=r"M_2\[0, 17\].*1 of 60"):
        Ticket(network, entries).audit()


def test_audit_catches_a_value_from_another_seed():
    positions = [([0, 1], [0, 0]), ([0], [1])]
    other = Ticket.from_positions(RandomNetwork([(3, 1), (1, 3)], seed=1), positions)
    with pytest.raises(TicketAuditError):
        Ticket(RandomNetwork([(3, 1), (1, 3)], seed=2), other.entries).audit()


def test_save_is_atomic_on_failure(tmp_path, monkeypatch):
    network = RandomNetwork([(3, 1), (1, 3)], seed=1)
    ticket = Ticket.from_positions(network, [([0], [0]), ([0], [0])])

    def explode(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(np, "savez", explode)
    with pytest.raises(RuntimeError):
        ticket.save(tmp_path / "t.npz")
    assert list(tmp_path.iterdir()) == []


# -- bad input -------------------------------------------------------------------------------


def _write(path, arrays):
    with open(path, "wb") as f:
        np.savez(f, **arrays)


@pytest.fixture
def good_arrays(tmp_path):
    network = RandomNetwork([(6, 2), (2, 6)], seed=8)
    ticket = Ticket.from_positions(network, [([0, 3], [0, 1]), ([1, 0], [0, 3])], target=random_target(2, [2], seed=0))
    ticket.save(tmp_path / "good.npz")
    with np.load(tmp_path / "good.npz") as z:
        return {k: z[k] for k in z.files}


def _meta(arrays, **changes):
    meta = json.loads(str(arrays["meta"]))
    meta.update(changes)
    return {**arrays, "meta": np.array(json.dumps(meta))}


@pytest.mark.parametrize(
    "mutate, error, message",
    [
        (lambda a: {k: v for k, v in a.items() if k != "vals_2"}, TicketFormatError, "missing keys vals_2"),
        (lambda a: {k: v for k, v in a.items() if k != "meta"}, TicketFormatError, "missing key 'meta'"),
        (lambda a: {k: v for k, v in a.items() if k != "target_1"}, TicketFormatError, "missing keys target_1"),
        (lambda a: {**a, "extra": np.zeros(1)}, TicketFormatError, "unexpected keys extra"),
        (lambda a: _meta(a, format="stronglth-ticket/9"), TicketFormatError, "unknown format"),
        (lambda a: _meta(a, generator="mt19937"), TicketFormatError, "unknown generator"),
        (lambda a: _meta(a, seed=-1), TicketFormatError, "seed"),
        (lambda a: _meta(a, shapes=[[6, 2], [2, 5]]), TicketFormatError, "chain"),
        (lambda a: {**a, "meta": np.array("{not json")}, TicketFormatError, "JSON"),
        (lambda a: {**a, "rows_1": np.array([0, 6])}, TicketFormatError, "out of range"),
        (lambda a: {**a, "cols_2": np.array([0, -1])}, TicketFormatError, "out of range"),
        (lambda a: {**a, "rows_1": np.array([0, 3], dtype=np.int32)}, TicketFormatError, "int64"),
        (lambda a: {**a, "vals_1": a["vals_1"][:1]}, TicketFormatError, "differ in length"),
        (lambda a: {**a, "vals_2": a["vals_2"] * 0.5}, TicketAuditError, "not G's"),
        (lambda a: {**a, "target_1": np.ones((3, 2))}, TicketFormatError, "target"),
    ],
)
def test_bad_files_are_rejected(tmp_path, good_arrays, mutate, error, message):
    path = tmp_path / "bad.npz"
    _write(path, mutate(dict(good_arrays)))
    with pytest.raises(error, match=message):
        Ticket.load(path)


def test_a_file_without_version_loads(tmp_path, good_arrays):
    """The version is provenance: a ticket written by another tool from the published format loads."""
    meta = json.loads(str(good_arrays["meta"]))
    del meta["version"]
    path = tmp_path / "other-writer.npz"
    _write(path, {**good_arrays, "meta": np.array(json.dumps(meta))})
    assert Ticket.load(path).nnz == 4


@pytest.mark.parametrize("claimed", [1e-6, 0.0])
def test_a_file_claiming_a_smaller_certified_error_is_refused(tmp_path, claimed):
    target = random_target(2, [3, 1], seed=0)
    ticket = construct(target, eps=0.5, seed=0, block_sizes=[4, 4], on_failure="best_effort")
    ticket.save(tmp_path / "t.npz")
    with np.load(tmp_path / "t.npz") as z:
        arrays = {k: z[k] for k in z.files}
    _write(tmp_path / "bad.npz", _meta(arrays, certified_error=claimed))
    with pytest.raises(TicketAuditError, match=rf"stored certified_error {claimed!r} is smaller than .*recomputed"):
        Ticket.load(tmp_path / "bad.npz")
    _write(tmp_path / "larger.npz", _meta(arrays, certified_error=2 * ticket.certified_error))  # a looser claim is true
    assert Ticket.load(tmp_path / "larger.npz").certified_error == 2 * ticket.certified_error


def test_pickled_objects_are_refused(tmp_path, good_arrays):
    path = tmp_path / "pickled.npz"
    arrays = {**good_arrays, "meta": np.array([{"format": "x"}], dtype=object)}
    with open(path, "wb") as f:
        np.savez(f, **arrays)
    with pytest.raises(TicketFormatError, match="pickled"):
        Ticket.load(path)
    raw = tmp_path / "raw.pickle"
    raw.write_bytes(pickle.dumps({"meta": 1}))
    with pytest.raises(TicketFormatError):
        Ticket.load(raw)


def test_missing_and_garbage_files(tmp_path):
    with pytest.raises(InvalidInputError, match="no such ticket file"):
        Ticket.load(tmp_path / "absent.npz")
    (tmp_path / "garbage.npz").write_bytes(b"not a zip at all")
    with pytest.raises(TicketFormatError):
        Ticket.load(tmp_path / "garbage.npz")


@pytest.mark.parametrize(
    "entries, error, message",
    [
        ([([0], [0], [0.1])], ShapeError, "each of the 2"),
        ([([0, 0], [1, 1], [0.1, 0.1]), ([], [], [])], InvalidInputError, "kept twice"),
        ([([0.5], [0], [0.1]), ([], [], [])], InvalidInputError, "integer"),
        ([([0], [0], [np.nan]), ([], [], [])], InvalidInputError, "non-finite"),
        ([([0], [0], [1]), ([], [], [])], InvalidInputError, "float"),
        ([([9], [0], [0.1]), ([], [], [])], ShapeError, "out of range"),
    ],
)
def test_bad_entries(entries, error, message):
    with pytest.raises(error, match=message):
        Ticket(RandomNetwork([(3, 2), (1, 3)], seed=0), entries)


def test_bad_target_and_certificate():
    network = RandomNetwork([(3, 2), (1, 3)], seed=0)
    empty = [([], [], []), ([], [], [])]
    with pytest.raises(ShapeError, match="R\\^3"):
        Ticket(network, empty, target=random_target(3, [1], seed=0))
    with pytest.raises(InvalidInputError, match="certified_error"):
        Ticket(network, empty, certified_error=float("nan"))
    with pytest.raises(InvalidInputError, match="JSON"):
        Ticket(network, empty, meta={"x": object()})
