"""The copy layer and its certified bound - docs/theory.md §14.4 (derived here; the layout is §14.2).

Paper: Burkholz, NeurIPS 2022: each hidden layer of G holds copies of the target's neurons, and the
next layer's weights from the copies of neuron ``j`` form one subset sum for ``w_oj`` (Pensia et al.
2020's subset sums, without their second layer); the error propagation with two norms is ours, in
the manner of Malach et al.'s recursion (docs/theory.md §3).

Statement. ``E`` repeats each coordinate ``c`` times; with ``V`` the kept weights, ``A = V E'`` (block
sums over the ``k`` copies of each input) and ``D = A - E W``, for the ticket's copies ``y' = E' y + e``:

    V y' - E W y = D y + V e,        s(E z) = E s(z),

so ``||e_next|| <= ||D|| ||y|| + min(||V|| ||e||, || |V| b ||)`` with ``|e| <= b`` entrywise, and
``|e_next| <= rows(D) ||y|| + min(|V| b, rows(V) ||e||)`` entrywise.

Derivation. ``V E' y = A y``, so ``V (E' y + e) - E W y = (A - E W) y + V e``; then the triangle
inequality, Cauchy-Schwarz per row (``|D_r y| <= ||D_r|| ||y||``, ``|V_r e| <= ||V_r|| ||e||``) and
``|V e| <= |V| |e|`` entrywise; the ReLU is 1-Lipschitz entrywise and commutes with ``E``.

Check. Symbolic: the identity for ``n_out = 2, copies = 2, n_in = 2, k = 2`` with every entry a
symbol; ``s(E z) = E s(z)`` (a repeated coordinate); ``|v e| <= |v| b`` for ``|e| <= b``. Numeric: the
package's trace (``copy_error_trace``) against a direct evaluation of both recursions.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp_sparse
import sympy as sp

from proofs._ledger import Lemma
from proofs._sym import assert_close, assert_identity, relu

LEMMA = Lemma(
    name="burkholz copy layer",
    statement="V (E'y + e) - E W y = D y + V e, D = V E' - E W; err_i = ||D_i|| R + min(||V_i|| err, |||V_i| b||)",
    implemented_by="stronglth.constructions.burkholz.certified.copy_error_trace",
    property_test="tests/constructions/burkholz/test_certified.py::test_the_bound_is_above_the_measured_error_of_any_ticket_in_the_layout",
    reference="docs/theory.md §14.4",
)


def _repeat(n: int, copies: int) -> sp.Matrix:
    return sp.Matrix(n * copies, n, lambda r, j: 1 if r // copies == j else 0)


def check_identity() -> None:
    n_out, copies, n_in, k = 2, 2, 2, 2
    v = sp.Matrix(n_out * copies, n_in * k, lambda r, c: sp.Symbol(f"v_{r}_{c}"))
    w = sp.Matrix(n_out, n_in, lambda o, j: sp.Symbol(f"w_{o}_{j}"))
    y = sp.Matrix(n_in, 1, lambda j, _: sp.Symbol(f"y_{j}"))
    e = sp.Matrix(n_in * k, 1, lambda c, _: sp.Symbol(f"e_{c}"))
    e_in, e_out = _repeat(n_in, k), _repeat(n_out, copies)
    d = v * e_in - e_out * w
    lhs = v * (e_in * y + e) - e_out * w * y
    rhs = d * y + v * e
    for a, b in zip(lhs, rhs, strict=True):
        assert_identity(a, b, "V y' - E W y = D y + V e")
    for r in range(n_out * copies):  # D's entries are block sums minus the target
        for j in range(n_in):
            assert_identity(d[r, j], sum(v[r, j * k + h] for h in range(k)) - w[r // copies, j], "D = block sum - w")
    z = sp.Symbol("z", real=True)
    assert relu(z).subs(z, 3) == 3 and relu(z).subs(z, -2) == 0  # s acts entrywise: a repeated coordinate stays repeated
    a, b = sp.symbols("a b", positive=True)
    for value, bound in ((a, b), (-a, b)):  # |v e| <= |v| b when |e| <= b: |v e| = |v| |e|
        assert sp.Abs(value * bound) == sp.Abs(value) * bound


def _direct(d_first, later, spectral):
    err = np.linalg.norm(d_first, 2)
    b = np.linalg.norm(d_first, axis=1)
    out, radius = [err], 1.0
    for i, (v, d) in enumerate(later):
        radius *= spectral[i]
        dense = v.toarray()
        through = np.abs(dense) @ b
        err, b = (
            np.linalg.norm(d, 2) * radius + min(np.linalg.norm(dense, 2) * err, np.linalg.norm(through)),
            np.linalg.norm(d, axis=1) * radius + np.minimum(through, np.linalg.norm(dense, axis=1) * err),
        )
        out.append(err)
    return out


def check_against_package() -> None:
    from stronglth.constructions.burkholz.certified import copy_error_trace

    rng = np.random.default_rng(0)
    for _ in range(20):
        d_first = rng.normal(size=(6, 4)) * 0.01
        later = [(sp_sparse.csr_matrix(rng.normal(size=(4, 6)) * (rng.random((4, 6)) < 0.5)), rng.normal(size=(4, 3)) * 0.01)]
        later.append((sp_sparse.csr_matrix(rng.normal(size=(2, 4))), rng.normal(size=(2, 2)) * 0.01))
        spectral = [0.9, 0.7, 0.5]
        assert_close(copy_error_trace(d_first, later, spectral), _direct(d_first, later, spectral), "copy_error_trace", rel=1e-12)


def check() -> None:
    check_identity()
    check_against_package()
