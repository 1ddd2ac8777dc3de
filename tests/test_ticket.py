"""Ticket: sparse evaluation against a dense masked oracle, compaction, torch, files, audit."""

from __future__ import annotations

import errno
import json
import os
import pickle
import stat
import subprocess
import sys
import time
import tracemalloc

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from strategies import biased_tickets, dense_biased_forward, dense_masked_forward, small_tickets

from stronglth import (
    InvalidInputError,
    RandomNetwork,
    ShapeError,
    Ticket,
    TicketAuditError,
    TicketFormatError,
    TooLargeError,
    construct,
    random_target,
)
from stronglth.gadget_form import recomputed_certified_error
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
        # a target in G's layout: one layer per pair (M_2i-1, M_2i), of the widths n_i of G
        target = random_target(ticket.network.dims[0], list(ticket.network.dims[2::2]), seed=1)
    ticket = Ticket(ticket.network, ticket.entries, target=target, meta={"method": "test", "eps": 0.5})
    # a claim the audit accepts: 0.25, or the bound the kept weights give when that is larger (a
    # ticket in its target's gadget form, docs/theory.md §3)
    claimed = max(0.25, recomputed_certified_error(ticket) or 0.0)
    ticket = Ticket(ticket.network, ticket.entries, target=target, certified_error=claimed, meta={"method": "test", "eps": 0.5})
    ticket.save(path)
    loaded = Ticket.load(path)
    assert loaded.network == ticket.network
    assert loaded.certified_error == claimed and loaded.meta["method"] == "test" and loaded.meta["eps"] == 0.5
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


# -- careless and hostile API input (the reliability issue) ---------------------------------------

SMALL = RandomNetwork([(3, 2), (1, 3)], seed=0)
EMPTY = [([], [], []), ([], [], [])]
ONE = [([0], [0]), ([0], [0])]


@pytest.mark.parametrize(
    "value, shown", [(float("inf"), "inf"), (-1.0, "-1.0"), ("0.5", "'0.5'"), ("abc", "'abc'"), (True, "True"), ([1], r"\[1\]")]
)
def test_certified_error_must_be_a_finite_non_negative_number(value, shown):
    with pytest.raises(InvalidInputError, match=rf"certified_error must be None \(null\) or a finite number >= 0, got {shown}"):
        Ticket(SMALL, EMPTY, certified_error=value)


@pytest.mark.parametrize(
    "rows, error, message",
    [
        ([1.7], InvalidInputError, r"rows of M_1 must be integers .*got dtype float64 \(e.g. 1.7\)"),
        ([1.0], InvalidInputError, "floats are refused, even 1.0"),
        ([np.nan], InvalidInputError, r"got dtype float64 \(e.g. nan\)"),
        (["1"], InvalidInputError, "got dtype <U1"),
        ([True], InvalidInputError, "got dtype bool"),
        ([None], InvalidInputError, r"got the entry None \(NoneType\)"),
        ([2**63], ShapeError, "index 9223372036854775808 is out of range"),
        ([2**70], ShapeError, "index 1180591620717411303424 is out of range"),
        ([[0], [1, 2]], InvalidInputError, "rows of M_1 must be integers"),
    ],
)
def test_positions_must_be_integers(rows, error, message):
    """1.7 was truncated to 1; NaN, strings and 2**63 raised numpy's ValueError or OverflowError."""
    with pytest.raises(error, match=message):
        Ticket.from_positions(SMALL, [(rows, [0]), ([0], [0])])
    with pytest.raises(error, match=message):
        Ticket(SMALL, [(rows, [0], [0.5]), ([], [], [])])


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: Ticket("G", EMPTY), InvalidInputError, "network must be a RandomNetwork, got str"),
        (lambda: Ticket(SMALL, 5), InvalidInputError, "entries must be a sequence of .rows, cols, vals. triples, got int"),
        (lambda: Ticket.from_positions("G", ONE), InvalidInputError, "network must be a RandomNetwork"),
        (lambda: Ticket.from_positions(SMALL, 5), InvalidInputError, "positions must be a sequence"),
        (lambda: Ticket.from_positions(SMALL, [([0], [0], [1]), ([], [])]), InvalidInputError, r"positions of M_1 must be a \("),
        (lambda: Ticket(SMALL, EMPTY, meta={"seed": 3}), InvalidInputError, "meta key 'seed' is set from the ticket itself"),
        (lambda: Ticket(SMALL, EMPTY, meta={"eps": "abc"}), InvalidInputError, "eps must be None .null. or a finite number > 0"),
        (lambda: Ticket(SMALL, EMPTY, meta={"delta": 0.0}), InvalidInputError, r"delta must be None .null. or a number in \("),
        (lambda: Ticket(SMALL, EMPTY, meta=5), InvalidInputError, "meta must be a mapping"),
        (lambda: Ticket(SMALL, EMPTY, meta={1: "x"}), InvalidInputError, "meta keys must be strings, got 1"),
        (lambda: Ticket(SMALL, EMPTY, meta={"x": json.loads("[" * 40 + "]" * 40)}), InvalidInputError, "nests 41 levels deep"),
    ],
)  # fmt: skip
def test_bad_constructor_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_a_target_must_fit_Gs_layout():
    """A target whose hidden width is not what G's shapes imply made verify raise IndexError."""
    network = RandomNetwork([(6, 2), (3, 6), (6, 3), (1, 6)], seed=0)  # layers 2 -> 3 -> 1
    empty = [([], [], [])] * 4
    with pytest.raises(ShapeError, match=r"target layer 1 has shape \(2, 2\), but G's layout \(M_1, M_2\) needs \(3, 2\)"):
        Ticket(network, empty, target=random_target(2, [2, 1], seed=0))
    assert Ticket(network, empty, target=random_target(2, [3, 1], seed=0)).target.dims == (2, 3, 1)
    # a target of another depth is compared as a function only (docs/guide.md's |x| lemma): no layout to fit
    assert Ticket(network, empty, target=random_target(2, [1], seed=0)).target.dims == (2, 1)


@pytest.mark.parametrize(
    "path, message",
    [
        (5, r"the ticket path must be a non-empty str or os.PathLike, got 5 \(int\)"),
        (b"t.npz", r"got b't.npz' \(bytes\)"),
        ("", "must be a non-empty str"),
        ("/dev/null", "not a regular file, so not a ticket file"),
    ],
)
def test_load_refuses_what_is_not_a_ticket_path(path, message):
    with pytest.raises(InvalidInputError, match=message):
        Ticket.load(path)


def test_load_refuses_a_directory_and_a_bad_audit_flag(tmp_path):
    with pytest.raises(InvalidInputError, match="is a directory, not a ticket file"):
        Ticket.load(tmp_path)
    path = Ticket.from_positions(SMALL, ONE).save(tmp_path / "t.npz")
    with pytest.raises(InvalidInputError, match="audit must be True or False, got audit='no'"):
        Ticket.load(path, audit="no")


def test_save_refuses_unwritable_paths_and_leaves_nothing(tmp_path):
    ticket = Ticket.from_positions(SMALL, ONE)
    with pytest.raises(InvalidInputError, match="cannot write the ticket: a directory, not a ticket file"):
        ticket.save(tmp_path)
    (tmp_path / "plain.txt").write_text("a regular file")
    with pytest.raises(InvalidInputError, match="cannot write"):
        ticket.save(tmp_path / "plain.txt" / "t.npz")
    with pytest.raises(InvalidInputError, match="the ticket path must be a non-empty str"):
        ticket.save(5)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plain.txt"]


def test_save_refuses_meta_a_ticket_file_cannot_hold(tmp_path):
    ticket = Ticket.from_positions(SMALL, ONE, meta={"notes": "x" * 2**20})
    with pytest.raises(
        TooLargeError, match="the ticket's meta is 1,048,[0-9]{3} characters of JSON; a ticket file allows 1,048,576"
    ):
        ticket.save(tmp_path / "t.npz")
    ticket = Ticket.from_positions(SMALL, ONE)
    ticket.meta["seed"] = 5  # changed after construction: it would override G's seed in the file
    with pytest.raises(InvalidInputError, match="meta key 'seed' is set from the ticket itself"):
        ticket.save(tmp_path / "t.npz")
    assert list(tmp_path.iterdir()) == []


def test_an_os_error_while_saving_is_a_package_error_and_keeps_the_old_file(tmp_path, monkeypatch):
    path = Ticket.from_positions(SMALL, ONE).save(tmp_path / "t.npz")
    before = path.read_bytes()

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(np.lib.format, "write_array", disk_full)
    with pytest.raises(InvalidInputError, match="t.npz: cannot write.*No space left on device"):
        Ticket.from_positions(SMALL, [([1], [0]), ([0], [1])]).save(path)
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["t.npz"]


@pytest.mark.parametrize("umask, mode", [(0o022, 0o644), (0o027, 0o640), (0o002, 0o664)])
def test_saved_files_get_the_users_umask(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        path = Ticket.from_positions(SMALL, ONE).save(tmp_path / "t.npz")
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == mode


def test_the_same_ticket_gives_the_same_bytes_in_any_process(tmp_path):
    make = (
        "from stronglth import RandomNetwork, Ticket, random_target;"
        "n = RandomNetwork([(6, 2), (2, 6)], seed=8);"
        "t = Ticket.from_positions(n, [([0, 3], [0, 1]), ([0, 1], [3, 0])], target=random_target(2, [2], seed=0),"
        " certified_error=2.5, meta={'method': 'test', 'eps': 0.5});"
        "import sys; t.save(sys.argv[1])"
    )
    subprocess.run([sys.executable, "-c", make, str(tmp_path / "a.npz")], check=True)
    time.sleep(2.1)  # zip dates have a 2-second resolution: a clock in the bytes would show
    subprocess.run([sys.executable, "-c", make, str(tmp_path / "b.npz")], check=True)
    ticket = Ticket.load(tmp_path / "a.npz")
    ticket.save(tmp_path / "c.npz")
    ticket.save(tmp_path / "d.npz")
    data = {p: (tmp_path / p).read_bytes() for p in ("a.npz", "b.npz", "c.npz", "d.npz")}
    assert len(set(data.values())) == 1
    with np.load(tmp_path / "a.npz") as z:  # still a plain .npz
        assert np.array_equal(z["rows_1"], ticket.kept(1).rows) and json.loads(str(z["meta"]))["certified_error"] == 2.5


def test_to_torch_takes_dtype_names_and_refuses_others():
    ticket = Ticket.from_positions(SMALL, ONE)
    assert next(ticket.to_torch("float64").parameters()).dtype == torch.float64
    assert next(ticket.to_torch("float32").parameters()).dtype == torch.float32
    for bad in ("float16x", 5, np.float64):
        with pytest.raises(InvalidInputError, match="dtype must be a torch floating-point dtype"):
            ticket.to_torch(bad)


def test_compact_refuses_a_dense_matrix_of_Gs_input_width():
    network = RandomNetwork([(1, 2**29), (1, 1)], seed=0)
    ticket = Ticket.from_positions(network, [([0], [2**29 - 1]), ([0], [0])])
    assert ticket.live_widths == (1,)
    with pytest.raises(TooLargeError, match="compacted M_1 would be a dense 1 x 536,870,912 matrix"):
        ticket.compact()


# -- cost in the ticket's size, not G's -------------------------------------------------------------


def spread(ticket: Ticket, factor: int) -> Ticket:
    """The same ticket (the same values, unaudited) in a G whose hidden widths are ``factor`` times
    larger, unit ``u`` of each hidden layer becoming unit ``factor * u``: order is kept, so the live
    units, the compacted network and the function are the same, bit for bit."""
    dims = ticket.network.dims
    scale = [1] + [factor] * (len(dims) - 2) + [1]
    shapes = [(dims[t] * scale[t], dims[t - 1] * scale[t - 1]) for t in range(1, len(dims))]
    entries = [(e.rows * scale[t], e.cols * scale[t - 1], e.vals) for t, e in enumerate(ticket.entries, start=1)]
    return Ticket(RandomNetwork(shapes, seed=ticket.network.seed), entries)


@given(ticket=small_tickets())
def test_live_units_depend_on_the_kept_entries_only(ticket):
    big = spread(ticket, 10**6)
    assert big.live_widths == ticket.live_widths
    assert all(a.tobytes() == b.tobytes() for a, b in zip(big.compact().weights, ticket.compact().weights, strict=True))
    x = points(ticket.network.dims[0])
    assert big.forward(x).tobytes() == ticket.forward(x).tobytes()
    np.testing.assert_allclose(big.forward(x), dense_masked_forward(ticket, x), rtol=1e-12, atol=1e-13)


def test_a_272_weight_ticket_in_a_G_of_1_5e9_weights_costs_kilobytes():
    """Live units, compaction, evaluation and the audit took 1.6 GB and 3-5 s (arrays as wide as G)."""
    target = random_target(4, [8, 8, 1], seed=0)
    k = 6_000_000
    network = RandomNetwork.for_target(target, [k, k, k], seed=0)
    assert network.parameter_count == 1_488_000_000
    rng = np.random.default_rng(0)
    positions = []
    for i, (n, n_out) in enumerate([(40, 8), (48, 8), (48, 1)]):
        units = rng.choice(network.dims[2 * i + 1], n, replace=False)
        positions += [(units, units // k if i == 0 else rng.integers(0, 8, n)), (rng.integers(0, n_out, n), units)]
    ticket = Ticket.from_positions(network, positions, target=target)
    assert ticket.nnz == 272
    tracemalloc.start()
    start = time.perf_counter()
    ticket.audit()
    widths = ticket.live_widths
    ticket.forward(points(4))
    ticket.compact()
    seconds = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert widths[0] == 40 and peak < 2_000_000 and seconds < 1.0


# -- biases, the output scale and format /2 (docs/theory.md §12) ---------------------------------

PINNED_V1_SHA256 = {  # written by the code before format /2 existed (version "0.1.0"): /1 bytes never change
    "with-target": "537a6c11159fac5208e3a5e448642b24e8871cc5c9a2d0de1cf4eb277c33a280",
    "plain": "9d8b7928dce240c8c673ee8dc38044bb00902a6fc7cf35cd62fd5412ac8d7146",
}


def test_a_v1_ticket_saves_the_bytes_of_before_format_2(tmp_path, monkeypatch):
    import hashlib

    import stronglth.ticket as ticket_module
    from stronglth import TargetNetwork

    monkeypatch.setattr(ticket_module, "__version__", "0.1.0")  # the version the pins were written with
    network = RandomNetwork([(6, 3), (2, 6)], seed=7)
    positions = [([0, 2, 5], [0, 1, 2]), ([0, 1, 1], [0, 2, 5])]
    target = TargetNetwork([np.array([[0.25, -0.5, 0.125], [0.5, 0.0, -0.25]])])
    meta = {"method": "pin", "eps": 0.5, "delta": 0.1, "extra": [1, 2]}
    tickets = {
        "with-target": Ticket.from_positions(network, positions, target=target, certified_error=0.5, meta=meta),
        "plain": Ticket.from_positions(network, positions),
    }
    for name, ticket in tickets.items():
        path = ticket.save(tmp_path / f"{name}.npz")
        assert hashlib.sha256(path.read_bytes()).hexdigest() == PINNED_V1_SHA256[name], name
        assert json.loads(str(np.load(path)["meta"]))["format"] == "stronglth-ticket/1"


@given(ticket=biased_tickets())
def test_biased_scaled_tickets_agree_with_the_dense_oracle(ticket):
    x = np.random.default_rng(0).uniform(-1, 1, (12, ticket.network.dims[0]))
    expected, _ = dense_biased_forward(ticket, x)
    np.testing.assert_allclose(ticket.forward(x), expected, rtol=1e-12, atol=1e-12)
    compact = ticket.compact()
    assert compact.output_scale == ticket.output_scale and (ticket.bias_nnz > 0 or not compact.has_biases)
    np.testing.assert_allclose(compact.forward(x), expected, rtol=1e-12, atol=1e-12)
    with torch.no_grad():
        np.testing.assert_allclose(ticket.to_torch()(torch.from_numpy(x)).numpy(), expected, rtol=1e-12, atol=1e-12)
    ticket.audit()
    assert ticket.has_biases == (ticket.bias_nnz > 0)


def test_a_unit_with_a_kept_bias_is_live_without_incoming_weights():
    network = RandomNetwork([(3, 1), (1, 3)], seed=5, biases=["uniform", None])
    ticket = Ticket.from_positions(network, [([], []), ([0], [1])], bias_positions=[[1], None])
    assert ticket.live_widths == (1,)
    expected = max(network.bias_vector(1)[1], 0.0) * network.dense(2)[0, 1]
    assert ticket.forward(np.array([0.7]))[0] == expected
    assert ticket.compact().dims == (1, 1, 1) and ticket.compact().bias_layers == (True, False)
    # without a path onwards, the biased unit is dead; the output bias always counts
    dead = Ticket.from_positions(network, [([], []), ([], [])], bias_positions=[[1], None])
    assert dead.live_widths == (0,) and dead.forward(np.array([0.7]))[0] == 0.0


@pytest.mark.parametrize("kind", ["biases", "scale", "normal", "target-bias", "odd-depth"])
def test_format_2_round_trips(tmp_path, kind):
    network = RandomNetwork(
        [(6, 2), (2, 6)],
        seed=8,
        **dict(
            biases={"biases": ["normal", "uniform"]}.get(kind), distributions={"normal": ["normal", "hyperbolic(1e-3)"]}.get(kind)
        ),
    )
    if kind == "odd-depth":
        network = RandomNetwork([(6, 2), (4, 6), (2, 4)], seed=8)
    positions = [([0, 3], [0, 1]), ([0, 1], [3, 0])] + ([([1], [3])] if kind == "odd-depth" else [])
    target = random_target(2, [2], seed=0, biases=kind == "target-bias") if kind != "odd-depth" else None
    kwargs = dict(bias_positions=[[0, 5], [1]]) if kind == "biases" else {}
    ticket = Ticket.from_positions(
        network, positions, target=target, output_scale=2.5 if kind == "scale" else 1.0, meta={"method": "t"}, **kwargs
    )
    path = ticket.save(tmp_path / "t.npz")
    meta = json.loads(str(np.load(path)["meta"]))
    assert meta["format"] == "stronglth-ticket/2" and meta["generator"] == "pcg64-seedseq-v2"
    assert meta["distributions"] == list(network.distributions) and meta["biases"] == list(network.biases)
    assert ("output_scale" in meta) == (kind == "scale")
    loaded = Ticket.load(path)
    assert loaded.network == network and loaded.output_scale == ticket.output_scale and loaded.bias_nnz == ticket.bias_nnz
    x = np.random.default_rng(1).uniform(-1, 1, (5, 2))
    assert loaded.forward(x).tobytes() == ticket.forward(x).tobytes()
    if target is not None:
        assert loaded.target.bias_layers == target.bias_layers
        assert all(np.array_equal(a, b) for a, b in zip(loaded.target.biases, target.biases, strict=True))
    assert path.read_bytes() == ticket.save(tmp_path / "again.npz").read_bytes()


def test_audit_catches_one_ulp_in_a_kept_bias():
    network = RandomNetwork([(4, 2), (1, 4)], seed=3, biases=["uniform", "normal"])
    ticket = Ticket.from_positions(network, [([0], [0]), ([0], [0])], bias_positions=[[0, 2], [0]])
    ticket.audit()
    b = ticket.kept_biases(1)
    bad = Ticket(
        network, ticket.entries, biases=[(b.rows, np.array([b.vals[0], np.nextafter(b.vals[1], 2)])), ticket.kept_biases(2)]
    )
    with pytest.raises(TicketAuditError, match=r"bias of M_1\[2\] is .* in the ticket but .* in G \(seed 3\): 1 of 2"):
        bad.audit()


@pytest.mark.parametrize(
    "biases, error, message",
    [
        ([None, ([0], [0.5])], InvalidInputError, "M_2: 1 kept bias entries, but G has no bias line for M_2"),
        ([([4], [0.5]), None], ShapeError, r"bias of M_1: kept row 4 out of range \[0, 4\)"),
        ([([1, 1], [0.5, 0.5]), None], InvalidInputError, "bias of M_1: row 1 is kept twice"),
        ([([0], [np.nan]), None], InvalidInputError, "non-finite kept value nan"),
        ([([0], [0.5, 0.2]), None], ShapeError, r"rows and vals differ in length \(1, 2\)"),
        ([([0.0], [0.5]), None], InvalidInputError, "floats are refused"),
        ([[0], None], InvalidInputError, "must be None or a .rows, vals. pair"),
        ([None], ShapeError, "need kept biases .or None. for each of the 2 matrices"),
        ("ab", InvalidInputError, "biases must be None or a sequence"),
    ],
)
def test_bad_kept_biases(biases, error, message):
    network = RandomNetwork([(4, 2), (1, 4)], seed=3, biases=["uniform", None])
    with pytest.raises(error, match=message):
        Ticket(network, [([], [], []), ([], [], [])], biases=biases)


def test_kept_biases_are_sorted_and_read_only():
    network = RandomNetwork([(4, 2), (1, 4)], seed=3, biases=["uniform", None])
    ticket = Ticket.from_positions(network, [([], []), ([], [])], bias_positions=[[3, 0], None])
    kept = ticket.kept_biases(1)
    assert kept.rows.tolist() == [0, 3] and not kept.vals.flags.writeable
    assert kept.vals.tobytes() == network.bias_values_at(1, [0, 3]).tobytes()
    assert len(ticket.kept_biases(2)) == 0 and "bias_nnz=2" in repr(ticket)


def test_output_scale_is_stated_and_checked():
    network = RandomNetwork([(4, 2), (1, 4)], seed=3)
    ticket = Ticket.from_positions(network, [([0], [0]), ([0], [0])], output_scale=4.0)
    assert "output_scale=4.0" in repr(ticket)
    x = np.array([[0.3, -0.2]])
    assert ticket.forward(x)[0, 0] == 4.0 * Ticket.from_positions(network, [([0], [0]), ([0], [0])]).forward(x)[0, 0]
    from stronglth.ticket import OutputScale

    module = ticket.to_torch()
    assert isinstance(module[-1], OutputScale) and float(module[-1].scale) == 4.0
    assert ticket.compact().output_scale == 4.0
    for bad in (0.0, -1.0, float("inf"), True, "2"):
        with pytest.raises(InvalidInputError, match="output_scale"):
            Ticket(network, [([], [], []), ([], [], [])], output_scale=bad)


def test_g_specs_in_meta_are_the_files_and_a_different_one_is_refused():
    network = RandomNetwork([(4, 2), (1, 4)], seed=3, distributions=["normal", "uniform"])
    ticket = Ticket(network, [([], [], []), ([], [], [])], meta={"distributions": ["normal", "uniform"], "method": "m"})
    assert "distributions" not in ticket.meta
    with pytest.raises(InvalidInputError, match="'distributions' is set from the ticket itself"):
        Ticket(network, [([], [], []), ([], [], [])], meta={"distributions": ["uniform", "uniform"]})
    with pytest.raises(InvalidInputError, match="'output_scale' is set from the ticket itself"):
        Ticket(network, [([], [], []), ([], [], [])], meta={"output_scale": 2.0})
