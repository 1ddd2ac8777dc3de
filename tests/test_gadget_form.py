"""A construction ticket in gadget form (docs/theory.md §2-3): stronglth/gadget_form.py.

The oracle is the dense ticket: with one first-layer unit per coordinate, ``A[o, j]`` and
``B[o, j]`` are sums of ``v_oh u_h`` over the kept units of each sign, read off the dense matrices.
"""

from __future__ import annotations

import numpy as np
import pytest

from stronglth import construct, random_target
from stronglth.gadget_form import recomputed_certified_error, weight_errors


@pytest.mark.parametrize("method, options", [("subsetsum", {"eta": 0.05}), ("malach", {"eps": 0.3})])
def test_weight_errors_against_the_dense_ticket(method, options):
    target = random_target(3, [4, 2], seed=1)
    ticket = construct(target, method=method, seed=3, **options)
    errors = weight_errors(ticket)
    assert errors is not None and len(errors) == target.depth
    for i, (error, w) in enumerate(zip(errors, target.weights, strict=True), start=1):
        first = ticket.kept(2 * i - 1)
        second = ticket.kept(2 * i)
        a, b = np.zeros_like(w), np.zeros_like(w)
        unit = {h: (j, val) for h, j, val in zip(first.rows.tolist(), first.cols.tolist(), first.vals.tolist(), strict=True)}
        for o, h, v in zip(second.rows.tolist(), second.cols.tolist(), second.vals.tolist(), strict=True):
            if h in unit:
                j, val = unit[h]
                (a if val > 0 else b)[o, j] += v * abs(val)
        expected = np.hstack((a - w, b + w)) if i == 1 else a - w
        np.testing.assert_allclose(error, expected, rtol=0, atol=1e-12)
        if method == "subsetsum":  # every event succeeded: each per-weight error within eta
            assert np.abs(error).max() <= options["eta"]
    assert recomputed_certified_error(ticket) == pytest.approx(ticket.certified_error, rel=1e-12)


def test_not_a_gadget_ticket():
    assert weight_errors(object()) is None
