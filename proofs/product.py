"""Density and CDF of a product of two uniforms - docs/theory.md §4 (derived here).

Paper: the width analysis of Malach et al., ICML 2020 needs the law of ``|v| u`` for one random
candidate; we use its exact form.

Statement. For independent ``a, b ~ U[0, 1]`` the product ``Z = a b`` has density ``-ln z`` on
``(0, 1]`` and CDF ``Phi(z) = z - z ln z`` with ``Phi(0) = 0`` (by continuity) and ``Phi(1) = 1``.

Derivation. ``P(a b <= z) = int_0^1 P(b <= min(1, z/a)) da = int_0^z 1 da + int_z^1 z/a da
= z - z ln z``. Differentiating, ``Phi'(z) = 1 - ln z - 1 = -ln z``, which is also the
product-density formula ``int_z^1 f_a(a) f_b(z/a) / a da = int_z^1 da / a``. It is positive on
``(0, 1)``, integrates to 1, and ``z ln z -> 0`` as ``z -> 0+``.

Check. All of the above in sympy (the joint density integrated over ``{a b <= z}``, the
derivative, the product-density formula, the limit at 0, ``Phi(1) = 1``, total mass 1, positivity
via ``z = exp(-y)``); numerically ``product_cdf`` against ``Phi`` at 30 digits (mpmath) on a grid
including 0, 1 and points outside ``[0, 1]``.
"""

from __future__ import annotations

import mpmath
import numpy as np
import sympy as sp

from proofs._ledger import Lemma
from proofs._sym import assert_close, assert_identity

LEMMA = Lemma(
    name="product of uniforms",
    statement="Z = ab, a, b ~ U[0,1] iid: density -ln z on (0,1], CDF Phi(z) = z - z ln z, Phi(0) = 0, Phi(1) = 1",
    implemented_by="stronglth.bounds.product_cdf",
    property_test="tests/test_bounds.py::test_product_cdf_matches_integral_of_minus_log",
    reference="docs/theory.md §4",
)

z = sp.Symbol("z", positive=True)
PHI = z - z * sp.log(z)


def check_symbolic() -> None:
    a, b = sp.symbols("a b", positive=True)
    # the joint density 1 on [0,1]^2 integrated over {a b <= z}: b runs to 1 for a <= z, to z/a after
    cdf = sp.integrate(sp.integrate(1, (b, 0, 1)), (a, 0, z)) + sp.integrate(sp.integrate(1, (b, 0, z / a)), (a, z, 1))
    assert_identity(cdf, PHI, "P(ab <= z) = z - z ln z")
    density = sp.diff(PHI, z)
    assert_identity(density, -sp.log(z), "Phi'(z) = -ln z")
    assert_identity(sp.integrate(1 / a, (a, z, 1)), -sp.log(z), "int_z^1 f(a) f(z/a) / a da = -ln z")
    assert PHI.subs(z, 1) == 1, "Phi(1) = 1"
    assert sp.limit(PHI, z, 0, "+") == 0, "Phi(0+) = 0"
    assert sp.integrate(-sp.log(z), (z, 0, 1)) == 1, "int_0^1 -ln z dz = 1"
    y = sp.Symbol("y", positive=True)  # z = exp(-y) covers (0, 1)
    assert (-sp.log(sp.exp(-y))).is_positive is True, "-ln z > 0 on (0, 1)"


def check_against_package() -> None:
    from stronglth.bounds import product_cdf

    grid = np.concatenate([[-0.5, 0.0, 1e-300, 1e-12, 1e-6], np.linspace(0.0, 1.0, 1001), [1 - 1e-12, 1.0, 1.5]])
    with mpmath.workdps(30):
        expected = [0.0 if x <= 0 else 1.0 if x >= 1 else float(mpmath.mpf(x) - mpmath.mpf(x) * mpmath.log(x)) for x in grid]
    assert_close(product_cdf(grid), expected, "product_cdf = z - z ln z", rel=1e-13, abs_=1e-300)
    assert np.all(np.diff(product_cdf(np.linspace(0.0, 1.0, 1001))) > 0), "Phi is increasing on [0, 1]"


def check() -> None:
    check_symbolic()
    check_against_package()
