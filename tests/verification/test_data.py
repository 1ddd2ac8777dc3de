"""data.py: the max and mean error on the rows of a data set, accuracies and agreement, against a
plain numpy loop; blocks that change nothing; bounded memory; clear errors for bad data."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stronglth import InvalidInputError, ShapeError, construct, random_target
from stronglth.verification import data_errors, verify

from ._oracle import forward, parts, random_pair


def loop_reference(f, g, x, labels, norm):
    """One row at a time, with the oracle's own forward pass."""
    errors, right_f, right_g, agree = [], 0, 0, 0
    for i in range(len(x)):
        out_f, out_g = forward(*parts(f)[:2], x[i : i + 1])[0], forward(*parts(g)[:2], x[i : i + 1])[0]
        diff = out_f - out_g
        errors.append(np.abs(diff).max() if norm == "linf" else np.sqrt(np.sum(diff**2)))
        if labels is not None:
            right_f += int(np.argmax(out_f) == labels[i])
            right_g += int(np.argmax(out_g) == labels[i])
            agree += int(np.argmax(out_f) == np.argmax(out_g))
    return np.array(errors), right_f, right_g, agree


@given(
    d=st.integers(1, 5),
    n_out=st.integers(2, 4),
    rows=st.integers(1, 300),
    seed=st.integers(0, 2**32),
    norm=st.sampled_from(["l2", "linf"]),
    scale=st.sampled_from([0.5, 1.0, 3.0]),
)
@settings(max_examples=20)
def test_data_errors_match_a_plain_loop(d, n_out, rows, seed, norm, scale):
    f, g = random_pair(d, [6], n_out, seed)
    rng = np.random.default_rng(seed)
    x = scale * rng.standard_normal((rows, d))
    labels = rng.integers(0, n_out, rows)
    errors, right_f, right_g, agree = loop_reference(f, g, x, labels, norm)
    result = data_errors(f, g, x, labels=labels, norm=norm)
    assert result.rows == rows and result.norm == norm and result.labelled
    assert result.max_error == pytest.approx(errors.max(), rel=1e-12, abs=1e-15)
    assert errors[result.max_row] == pytest.approx(errors.max(), rel=1e-12, abs=1e-15)
    assert result.mean_error == pytest.approx(errors.mean(), rel=1e-12, abs=1e-15)
    assert result.ticket_accuracy == right_f / rows and result.target_accuracy == right_g / rows
    assert result.agreement == agree / rows
    assert result.rows_outside_ball == int(np.sum(np.linalg.norm(x, axis=1) > 1))
    assert result.rows_outside_box == int(np.sum(np.abs(x).max(axis=1) > 1))


def test_blocks_change_nothing_and_memory_stays_bounded(monkeypatch, tmp_path):
    """Blocks of 1,024 rows (a small budget) give the same max, row and counts as one block; a
    memory-mapped .npy of 25.6 MB is read block by block, never copied whole."""
    import tracemalloc

    import stronglth.verification.sampled as sampled

    f, g = random_pair(16, [8], 3, 2)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((200_000, 16))
    labels = rng.integers(0, 3, len(x))
    whole = data_errors(f, g, x, labels=labels, batch=10**6)
    np.save(tmp_path / "x.npy", x)
    mapped = np.load(tmp_path / "x.npy", mmap_mode="r")
    monkeypatch.setattr(sampled, "BATCH_BYTES", 8 * 16 * 1024)
    tracemalloc.start()
    try:
        blocked = data_errors(f, g, mapped, labels=labels)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * 2**20, f"peak {peak / 2**20:.1f} MiB"
    assert (blocked.max_error, blocked.max_row, blocked.ticket_accuracy, blocked.agreement) == (
        whole.max_error,
        whole.max_row,
        whole.ticket_accuracy,
        whole.agreement,
    )
    assert blocked.mean_error == pytest.approx(whole.mean_error, rel=1e-14)


def test_verify_reports_the_data_as_data():
    target = random_target(3, [4, 3], seed=1)
    ticket = construct(target, eps=0.1, seed=1)
    x = np.random.default_rng(2).standard_normal((500, 3))
    y = np.argmax(target.forward(x), axis=1)
    report = verify(ticket, samples=500, data=x, labels=y)
    assert report.data is not None and report.data.target_accuracy == 1.0
    assert report.data.max_error <= ticket.certified_error * np.sqrt(np.max(np.sum(x**2, axis=1))) * (1 + 1e-9)  # homogeneity
    as_json = report.to_dict()["data"]
    assert as_json["domain"] == "data" and as_json["rows"] == 500 and as_json["agreement"] == report.data.agreement
    assert verify(ticket, samples=500).to_dict()["data"] is None


def test_bad_data_is_refused_with_a_clear_error():
    f, g = random_pair(3, [4], 2, 0)
    good = np.zeros((5, 3))
    with pytest.raises(ShapeError, match=r"shape \(rows, 3\)"):
        data_errors(f, g, np.zeros(3))
    with pytest.raises(ShapeError, match=r"shape \(rows, 3\)"):
        data_errors(f, g, np.zeros((4, 2)))
    with pytest.raises(ShapeError, match="no rows"):
        data_errors(f, g, np.zeros((0, 3)))
    bad = good.copy()
    bad[3, 1] = np.nan
    with pytest.raises(InvalidInputError, match="row 3"):
        data_errors(f, g, bad)
    with pytest.raises(InvalidInputError, match="real"):
        data_errors(f, g, np.array([["a", "b", "c"]]))
    with pytest.raises(InvalidInputError, match="integer"):
        data_errors(f, g, good, labels=np.zeros(5))
    with pytest.raises(ShapeError, match=r"\(5,\)"):
        data_errors(f, g, good, labels=np.zeros(4, dtype=int))
    with pytest.raises(InvalidInputError, match=r"\[0, 2\).*row 2"):
        data_errors(f, g, good, labels=np.array([0, 1, 2, 0, -1]))
    with pytest.raises(InvalidInputError, match="at least 2 outputs"):
        data_errors(*random_pair(3, [4], 1, 0), good, labels=np.zeros(5, dtype=int))
    with pytest.raises(InvalidInputError, match="labels= needs data="):
        verify(f, g, samples=10, labels=np.zeros(5, dtype=int))
    assert data_errors(f, g, good.astype(np.int32)).max_error == 0.0  # integer data are fine
