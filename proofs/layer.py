"""Layer bound (the layer lemma) - docs/theory.md §3 (derived here).

Paper: Malach et al., ICML 2020 (layer-by-layer approximation); the constant is our derivation.

Statement. With shared blocks, the ticket's pre-activation of layer ``2i`` is::

    z(y) = A s(y) + B s(-y) = W y + D+ s(y) + D- s(-y),   D+ = A - W,  D- = B + W,
    ||z(y) - W y||_2 <= c ||y||_2,                         c = ||[D+, D-]||_2,

and ``c = ||D+||_2`` when ``y >= 0`` (the input after a ReLU, where ``s(-y) = 0``).

Derivation. Row ``o`` of ``z`` is ``sum_j g_oj(y_j)`` and each ``g_oj`` obeys the gadget identity
(:mod:`proofs.gadget`); with ``y = s(y) - s(-y)`` this is the first line. Then
``z(y) - W y = [D+, D-] [s(y); s(-y)]`` and ``||[s(y); s(-y)]||_2 = ||y||_2`` because
``s(t)^2 + s(-t)^2 = t^2`` for every real ``t``. The operator-norm inequality gives the bound.

Check. Symbolic: ``s(t)^2 + s(-t)^2 = t^2`` by cases; the matrix identity for symbolic 2 x 2
``A, B, W`` and ``y`` with one positive and one negative entry; ``[D+, D-][D+, D-]^T = D+ D+^T +
D- D-^T`` (so ``c^2`` is the top eigenvalue of the latter); ``s(-y) = 0`` for ``y >= 0``. Numeric:
``layer_error_constant`` against that eigenvalue, the inequality on random ``y``, and the
``constant`` of ``approximate_layer`` on tiny layers against ``layer_error_constant`` of its own
``D+, D-``.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from proofs._ledger import Lemma
from proofs._sym import assert_close, assert_identity, relu

LEMMA = Lemma(
    name="layer bound",
    statement="||z(y) - W y|| <= ||[D+, D-]||_2 ||y|| since ||[s(y); s(-y)]|| = ||y||; ||D+||_2 for y >= 0",
    implemented_by="stronglth.constructions.malach.layer.approximate_layer",
    property_test="tests/constructions/malach/test_layer.py::test_layer_error_is_at_most_c_times_norm",
    reference="docs/theory.md §3",
)


def check_norm_identity() -> None:
    t = sp.Symbol("t", positive=True)
    for value in (t, -t, sp.Integer(0)):
        assert_identity(relu(value) ** 2 + relu(-value) ** 2, value**2, f"s(t)^2 + s(-t)^2 = t^2 at t = {value}")
    # a vector with entries of both signs: ||[s(y); s(-y)]||^2 = ||y||^2
    p, q = sp.symbols("p q", positive=True)
    y = sp.Matrix([p, -q, 0])
    stacked = sp.Matrix.vstack(y.applyfunc(relu), (-y).applyfunc(relu))
    assert_identity((stacked.T * stacked)[0], (y.T * y)[0], "||[s(y); s(-y)]||^2 = ||y||^2")
    # after a ReLU (y >= 0) the N half is never active
    n = sp.Symbol("n", nonnegative=True)
    assert relu(-n) == 0, "s(-y) = 0 for y >= 0"


def check_matrix_identity() -> None:
    A, B, W = (sp.Matrix(2, 2, sp.symbols(f"{name}1:5", real=True)) for name in ("a", "b", "w"))
    p, q = sp.symbols("p q", positive=True)
    y = sp.Matrix([p, -q])
    s_pos, s_neg = y.applyfunc(relu), (-y).applyfunc(relu)
    z = A * s_pos + B * s_neg  # the ticket's pre-activation, from the gadget identity
    d_plus, d_minus = A - W, B + W
    lhs, rhs = z - W * y, sp.Matrix.hstack(d_plus, d_minus) * sp.Matrix.vstack(s_pos, s_neg)
    for k in range(2):
        assert_identity(lhs[k], rhs[k], f"z(y) - W y = [D+, D-][s(y); s(-y)], row {k}")
    stacked = sp.Matrix.hstack(d_plus, d_minus)
    gram, split = stacked * stacked.T, d_plus * d_plus.T + d_minus * d_minus.T
    for k in range(4):
        assert_identity(gram[k], split[k], "[D+, D-][D+, D-]^T = D+ D+^T + D- D-^T")


def check_numeric() -> None:
    from stronglth import RandomNetwork, random_target
    from stronglth.bounds import layer_error_constant
    from stronglth.constructions.malach.layer import approximate_layer

    rng = np.random.default_rng(3)
    for shape in ((1, 1), (3, 2), (4, 7)):
        dp, dm = rng.normal(size=shape), rng.normal(size=shape)
        c = layer_error_constant(dp, dm)
        assert_close(c, np.sqrt(np.max(np.linalg.eigvalsh(dp @ dp.T + dm @ dm.T))), f"c = ||[D+, D-]||_2, {shape}", rel=1e-10)
        y = rng.normal(size=(200, shape[1]))
        gap = np.linalg.norm(np.maximum(y, 0) @ dp.T + np.maximum(-y, 0) @ dm.T, axis=1)
        assert np.all(gap <= c * np.linalg.norm(y, axis=1) * (1 + 1e-12)), f"||z(y) - W y|| <= c ||y|| fails, {shape}"
    for seed in (0, 1):
        target = random_target(2, [3, 2], seed=seed)
        network = RandomNetwork.for_target(target, [30, 30], seed=seed)
        for layer, negative_half in ((1, True), (2, False), (2, True)):
            result = approximate_layer(
                network, layer, target.weights[layer - 1], block_size=30, eta=0.3, negative_half=negative_half
            )
            expected = layer_error_constant(result.d_plus, result.d_minus if layer == 1 else None)
            assert_close(result.constant, expected, f"approximate_layer constant, layer {layer}", rel=1e-12)


def check() -> None:
    check_norm_identity()
    check_matrix_identity()
    check_numeric()
