"""Tickets in a G with a leaky ReLU ``s_a(t) = max(t, a t)`` (docs/theory.md §14.6): evaluation against
a dense oracle, compaction, torch, format "stronglth-ticket/3" and its hostile files, and formats /1
and /2 unchanged for tickets without a slope."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from strategies import biased_tickets, dense_biased_forward
from torch import nn

from stronglth import (
    InvalidInputError,
    RandomNetwork,
    TargetNetwork,
    Ticket,
    TicketAuditError,
    TicketFormatError,
    load_target,
    random_target,
)

slopes = st.one_of(st.sampled_from([0.01, 0.2, 0.5, 0.999]), st.floats(0.0, 1.0, exclude_max=True))


def assert_close(got: np.ndarray, expected: np.ndarray, magnitude: np.ndarray) -> None:
    assert got.shape == expected.shape
    assert np.all(np.abs(got - expected) <= 1e-12 * magnitude + 1e-300)


@given(ticket=biased_tickets(negative_slopes=slopes), seed=st.integers(0, 2**32))
def test_leaky_tickets_agree_with_the_dense_oracle_compacted_and_in_torch(ticket, seed):
    x = np.random.default_rng(seed).uniform(-1, 1, (8, ticket.network.dims[0]))
    expected, magnitude = dense_biased_forward(ticket, x)
    assert_close(ticket.forward(x), expected, magnitude)
    compact = ticket.compact()
    assert compact.negative_slope == ticket.network.negative_slope and compact.output_scale == ticket.output_scale
    assert_close(compact.forward(x), expected, magnitude)
    module = ticket.to_torch()
    a, activations = ticket.network.negative_slope, [m for m in module if isinstance(m, (nn.ReLU, nn.LeakyReLU))]
    assert len(activations) == ticket.network.depth - 1
    assert all(type(m) is nn.ReLU if a == 0.0 else type(m) is nn.LeakyReLU and m.negative_slope == a for m in activations)
    with torch.no_grad():
        assert_close(module(torch.from_numpy(x)).numpy(), expected, magnitude)
    assert ticket.audit() is ticket  # the kept values are G's: the slope changes none of them


def test_the_slope_changes_the_function_but_not_g():
    relu = RandomNetwork([(4, 2), (1, 4)], seed=3)
    leaky = RandomNetwork([(4, 2), (1, 4)], seed=3, negative_slope=0.3)
    assert relu != leaky and relu.generator == leaky.generator and np.array_equal(relu.dense(1), leaky.dense(1))
    positions = [np.nonzero(np.ones((4, 2), bool)), np.nonzero(np.ones((1, 4), bool))]
    a, b = Ticket.from_positions(relu, positions), Ticket.from_positions(leaky, positions)
    x = np.random.default_rng(0).uniform(-1, 1, (64, 2))
    assert not np.allclose(a.forward(x), b.forward(x))
    assert "negative_slope" not in repr(a)
    assert repr(b) == "Ticket(G=(2, 4, 1), nnz=12, negative_slope=0.3, density=1, certified_error=None)"


def test_audit_of_a_leaky_ticket_catches_one_ulp():
    network = RandomNetwork([(4, 2), (1, 4)], seed=3, negative_slope=0.1)
    ticket = Ticket.from_positions(network, [([0, 1], [0, 1]), ([0], [1])])
    e = ticket.kept(1)
    bad = Ticket(network, [(e.rows, e.cols, np.array([e.vals[0], np.nextafter(e.vals[1], 2)])), ticket.kept(2)])
    with pytest.raises(TicketAuditError, match=r"M_1\[1, 1\] is .* in the ticket but .* in G \(seed 3\)"):
        bad.audit()


# -- format /3 ------------------------------------------------------------------------------------


def _ticket(kind: str) -> Ticket:
    """Tickets whose G or target has a slope (format /3), each with something else of format /2."""
    g_slope = {"relu-g": 0.0}.get(kind, 0.25)
    biases = ["uniform", None] if kind == "biases" else None
    network = RandomNetwork([(6, 2), (2, 6)], seed=8, biases=biases, negative_slope=g_slope)
    if kind == "odd-depth":
        network = RandomNetwork([(6, 2), (4, 6), (2, 4)], seed=8, negative_slope=g_slope)
    positions = [([0, 3], [0, 1]), ([0, 1], [3, 0])] + ([([1], [3])] if kind == "odd-depth" else [])
    target = None
    if kind not in ("no-target", "odd-depth"):
        target = random_target(2, [2], seed=0, biases=kind == "biases", negative_slope={"relu-target": 0.0}.get(kind, 0.5))
    return Ticket.from_positions(
        network,
        positions,
        target=target,
        bias_positions=[[0, 5], None] if kind == "biases" else None,
        output_scale=2.5 if kind == "biases" else 1.0,
        meta={"method": "test"},  # no certified claim: on a leaky ticket it must be recomputable (test below)
    )


@pytest.mark.parametrize("kind", ["both", "no-target", "relu-g", "relu-target", "biases", "odd-depth"])
def test_format_3_round_trips(tmp_path, kind):
    ticket = _ticket(kind)
    path = ticket.save(tmp_path / "t.npz")
    with np.load(path) as z:
        meta, files = json.loads(str(z["meta"])), z.files
        assert meta["format"] == "stronglth-ticket/3" and meta["generator"] == "pcg64-seedseq-v2"
        assert meta["distributions"] == list(ticket.network.distributions) and meta["biases"] == list(ticket.network.biases)
        slope_keys = ["negative_slope", "target_negative_slope"] if ticket.target is not None else ["negative_slope"]
        assert files[-len(slope_keys) :] == slope_keys and files.count("negative_slope") == 1
        assert z["negative_slope"].dtype == np.dtype("<f8") and z["negative_slope"].shape == ()
        assert float(z["negative_slope"]) == ticket.network.negative_slope
        if ticket.target is not None:
            assert float(z["target_negative_slope"]) == ticket.target.negative_slope
    loaded = Ticket.load(path)  # audits
    assert loaded.network == ticket.network and loaded.network.negative_slope == ticket.network.negative_slope
    assert loaded.output_scale == ticket.output_scale and loaded.certified_error == ticket.certified_error
    assert loaded.meta["method"] == "test" and repr(loaded) == repr(ticket)
    x = np.random.default_rng(1).uniform(-1, 1, (16, 2))
    assert loaded.forward(x).tobytes() == ticket.forward(x).tobytes()
    if ticket.target is not None:
        for target in (loaded.target, load_target(path)):
            assert type(target) is TargetNetwork and target.negative_slope == ticket.target.negative_slope
            assert target.bias_layers == ticket.target.bias_layers
            assert all(np.array_equal(a, b) for a, b in zip(target.weights, ticket.target.weights, strict=True))
            assert all(np.array_equal(a, b) for a, b in zip(target.biases, ticket.target.biases, strict=True))
            assert target.forward(x).tobytes() == ticket.target.forward(x).tobytes()
    assert path.read_bytes() == loaded.save(tmp_path / "again.npz").read_bytes()


PINNED_V2_SHA256 = {  # written by the code before format /3 existed (version "0.1.0"): /2 bytes never change
    "biased": "78628f0abb79e0e68f0a70c47e7df59c6562f05e5f6b05d36065dd6f03b16d83",
    "odd-depth": "e373ddfaa82dca012e1e02ce9904b66670b067f342e9eaaf72b5f7ab097099c8",
}


def test_tickets_without_a_slope_save_the_format_2_bytes_of_before_format_3(tmp_path, monkeypatch):
    import stronglth.ticket as ticket_module

    monkeypatch.setattr(ticket_module, "__version__", "0.1.0")
    network = RandomNetwork([(6, 3), (2, 6)], seed=7, distributions=["normal", "uniform"], biases=["uniform", None])
    target = TargetNetwork([np.array([[0.25, -0.5, 0.125], [0.5, 0.0, -0.25]])], [np.array([0.5, -0.25])])
    tickets = {
        "biased": Ticket.from_positions(
            network,
            [([0, 2, 5], [0, 1, 2]), ([0, 1, 1], [0, 2, 5])],
            bias_positions=[[0, 2], None],
            target=target,
            certified_error=0.5,
            meta={"method": "pin", "eps": 0.5, "delta": 0.1},
            output_scale=2.0,
        ),
        "odd-depth": Ticket.from_positions(
            RandomNetwork([(4, 3), (4, 4), (2, 4)], seed=3), [([0, 1], [0, 2]), ([1, 3], [0, 1]), ([0, 1], [3, 1])]
        ),
    }
    for name, ticket in tickets.items():
        path = ticket.save(tmp_path / f"{name}.npz")
        assert hashlib.sha256(path.read_bytes()).hexdigest() == PINNED_V2_SHA256[name], name
        with np.load(path) as z:
            assert json.loads(str(z["meta"]))["format"] == "stronglth-ticket/2" and "negative_slope" not in z.files


# -- hostile format /3 files ------------------------------------------------------------------------


def arrays_of(path: Path) -> dict[str, np.ndarray]:
    with np.load(path) as z:
        return {k: z[k] for k in z.files}


def rewrite(path: Path, arrays: dict[str, np.ndarray], **meta_changes: object) -> Path:
    arrays = dict(arrays)
    if meta_changes:
        meta = json.loads(str(arrays["meta"]))
        for key, value in meta_changes.items():
            if value is None:
                meta.pop(key)
            else:
                meta[key] = value
        arrays["meta"] = np.array(json.dumps(meta))
    np.savez(path, **arrays)  # type: ignore[arg-type]
    return path


@pytest.fixture(scope="module")
def v3(tmp_path_factory) -> dict[str, np.ndarray]:
    return arrays_of(_ticket("both").save(tmp_path_factory.mktemp("v3") / "v3.npz"))


BAD_VALUES = [
    (np.float32(0.25), r"must be float64 \('<f8'\), got float32"),
    (np.int64(0), r"must be float64 \('<f8'\), got int64"),
    (np.array([0.25]), r"must be 0-D, got shape \(1,\)"),
    (np.array(0.25, dtype=">f8"), r"must be float64 \('<f8'\), got >f8"),
    (np.float64(1.0), "must satisfy 0 <= .* < 1 .* got 1.0"),
    (np.float64(-0.1), "must satisfy 0 <= .* < 1 .* got -0.1"),
    (np.float64(np.nan), "must satisfy 0 <= .* < 1 .* got nan"),
    (np.float64(-np.inf), "must satisfy 0 <= .* < 1 .* got -inf"),
]


@pytest.mark.parametrize("key", ["negative_slope", "target_negative_slope"])
@pytest.mark.parametrize("value, message", BAD_VALUES)
def test_a_bad_slope_is_refused_naming_the_key(tmp_path, v3, key, value, message):
    path = rewrite(tmp_path / "bad.npz", v3 | {key: value})
    with pytest.raises(TicketFormatError, match=f"bad.npz: {key} {message}"):
        Ticket.load(path)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda a: {k: v for k, v in a.items() if k != "negative_slope"}, "missing keys negative_slope"),
        (lambda a: {k: v for k, v in a.items() if k != "target_negative_slope"}, "missing keys target_negative_slope"),
        (lambda a: {k: v for k, v in a.items() if k not in ("target_1",)}, "missing keys target_1"),
        (lambda a: a | {"slope_of_g": np.float64(0.1)}, "unexpected keys slope_of_g"),
    ],
)
def test_format_3_keys(tmp_path, v3, change, message):
    with pytest.raises(TicketFormatError, match=message):
        Ticket.load(rewrite(tmp_path / "bad.npz", change(v3)))


def test_format_3_meta(tmp_path, v3):
    cases = [
        ({"generator": "pcg64-seedseq-v1"}, "format 'stronglth-ticket/3' uses 'pcg64-seedseq-v2'"),
        ({"distributions": None, "biases": None}, "meta lacks distributions, biases"),
        ({"target_depth": 0}, "unexpected keys target_negative_slope"),
        ({"format": "stronglth-ticket/4"}, "this version reads 'stronglth-ticket/1', 'stronglth-ticket/2', 'stronglth-ticket/3'"),
    ]
    for changes, message in cases:
        with pytest.raises(TicketFormatError, match=message):
            Ticket.load(rewrite(tmp_path / "bad.npz", v3, **changes))


def test_a_slope_in_a_format_1_or_2_file_is_refused(tmp_path):
    v1 = _ticket("both")
    relu_g = RandomNetwork(v1.network.shapes, seed=v1.network.seed)
    relu_target = TargetNetwork(v1.target.weights)
    formats = {
        "stronglth-ticket/1": Ticket(relu_g, v1.entries, target=relu_target),
        "stronglth-ticket/2": Ticket(relu_g, v1.entries, target=relu_target, output_scale=2.0),
    }
    for fmt, ticket in formats.items():
        good = arrays_of(ticket.save(tmp_path / "good.npz"))
        assert json.loads(str(good["meta"]))["format"] == fmt and "negative_slope" not in good
        for key in ("negative_slope", "target_negative_slope"):
            for value in (np.float64(0.25), np.float64(0.0)):
                path = rewrite(tmp_path / "bad.npz", good | {key: value})
                with pytest.raises(TicketFormatError, match=f"{key} belongs to format 'stronglth-ticket/3', not '{fmt}'"):
                    Ticket.load(path)


def test_the_slopes_are_recorded_facts_read_as_written(tmp_path, v3):
    """G's values do not depend on its slope, so the audit cannot check it: a file whose slopes are
    0 (never written so: such a ticket is format /1 or /2) reads as the ReLU, and saves as /1 (this one)."""
    path = rewrite(tmp_path / "zero.npz", v3 | {"negative_slope": np.float64(0.0), "target_negative_slope": np.float64(0.0)})
    loaded = Ticket.load(path)
    assert loaded.network.negative_slope == 0.0 and loaded.target.negative_slope == 0.0
    with np.load(loaded.save(tmp_path / "again.npz")) as z:
        assert json.loads(str(z["meta"]))["format"] == "stronglth-ticket/1" and "negative_slope" not in z.files
    # a kept value that is not G's is caught in a /3 file as in any other
    vals = v3["vals_1"].copy()
    vals[0] = np.nextafter(vals[0], 2)
    with pytest.raises(TicketAuditError, match=r"bad.npz: M_1\[0, 0\] is .* in the ticket but"):
        Ticket.load(rewrite(tmp_path / "bad.npz", v3 | {"vals_1": vals}))


def test_a_certified_claim_that_a_changed_slope_makes_unrecomputable_is_refused(tmp_path):
    """A leaky ticket has a certified bound only in Burkholz's layout with equal slopes; a claim that
    no longer can be recomputed (a slope edited in the file, or a ReLU ticket re-paired with a leaky
    target) does not survive the audit, so neither load nor `stronglth audit` shows it."""
    from stronglth import construct

    leaky = random_target(2, [3, 1], seed=0, negative_slope=0.9)
    ticket = construct(leaky, method="burkholz", eps=0.3, seed=0)
    assert ticket.audit() is ticket and ticket.certified_error is not None
    with np.load(ticket.save(tmp_path / "t.npz")) as z:
        arrays = {k: z[k] for k in z.files}
    for edited in ({"negative_slope": np.float64(0.0)}, {"negative_slope": np.float64(0.5)}):
        path = rewrite(tmp_path / "edited.npz", arrays | edited)
        with pytest.raises(TicketAuditError, match=r"edited.npz: the stored certified_error .* cannot be recomputed"):
            Ticket.load(path)
    malach = construct(random_target(2, [3, 1], seed=0), method="malach", eps=0.3, seed=0)
    repaired = Ticket(malach.network, malach.entries, target=leaky, certified_error=malach.certified_error)
    with pytest.raises(TicketAuditError, match=r"negative_slope=0\.0 and the target's 0\.9"):
        repaired.audit()
    Ticket(malach.network, malach.entries, target=leaky).audit()  # without a claim there is nothing to refuse


def test_the_slope_keys_are_not_meta_fields():
    for key in ("negative_slope", "target_negative_slope"):
        with pytest.raises(InvalidInputError, match=key):
            Ticket.from_positions(RandomNetwork([(1, 1)], seed=0), [([], [])], meta={key: 0.0})


def test_load_target_of_a_format_3_file_needs_its_slope(tmp_path, v3):
    assert load_target(rewrite(tmp_path / "good.npz", v3)).negative_slope == v3["target_negative_slope"]
    without = {k: v for k, v in v3.items() if k != "target_negative_slope"}
    with pytest.raises(TicketFormatError, match="stores its target's slope as target_negative_slope"):
        load_target(rewrite(tmp_path / "bad.npz", without))
