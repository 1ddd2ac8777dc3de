"""Proof checks for ``stronglth``: one module per step of docs/theory.md §2-4, and a ledger.

Each module's docstring is the short document of one lemma (statement, derivation, where it is
written down: docs/theory.md, Malach et al. 2020, Pensia et al. 2020); its ``LEMMA`` record links the
statement to the implementing function and to the property test, and its ``check()`` verifies
the algebra with sympy (symbolically where possible, on numeric ranges and dense grids including
the endpoints where an inequality needs them) and compares ``stronglth``'s numeric
implementations with the symbolic expressions. ``python -m proofs`` runs every check and prints
the ledger; it exits 1 if any row says ``FAIL``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from proofs._ledger import Lemma, Row, format_ledger, run_ledger, run_lemma

__all__ = ["LEMMA_MODULES", "Lemma", "Row", "format_ledger", "registry", "run_ledger", "run_lemma"]

LEMMA_MODULES = (
    "proofs.gadget",  # docs/theory.md §2
    "proofs.gadget_error",  # §2
    "proofs.layer",  # §3
    "proofs.recursion",  # §3
    "proofs.budget",  # §3
    "proofs.nnz",  # §3
    "proofs.product",  # §4
    "proofs.hit_probability",  # §4
    "proofs.worst_case",  # §4
    "proofs.block_size",  # §4
    "proofs.matching",  # §4
    "proofs.orseau_decomposition",  # §13
    "proofs.orseau_product",  # §13
    "proofs.orseau_block_size",  # §13
    "proofs.burkholz_coverage",  # §14
    "proofs.burkholz_copies",  # §14
    "proofs.burkholz_budget",  # §14
    "proofs.burkholz_leaky",  # §14.6
    "proofs.burkholz_leaky_budget",  # §14.6
    "proofs.bias_recursion",  # §15
)
"""The lemma modules, in the order of the ledger (the order of docs/theory.md §2-4)."""


def registry() -> list[tuple[Lemma, Callable[[], None]]]:
    """``(LEMMA, check)`` of every module in :data:`LEMMA_MODULES`."""
    entries = []
    for name in LEMMA_MODULES:
        module = importlib.import_module(name)
        entries.append((module.LEMMA, module.check))
    return entries
