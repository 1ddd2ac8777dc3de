"""Malach, Yehudai, Shalev-Shwartz, Shamir (ICML 2020): two units per target weight, G of depth 2l.

One lemma a module (docs/theory.md §2-4):

- :mod:`~stronglth.constructions.malach.gadget`: the weight lemma (one weight, one block of units);
- :mod:`~stronglth.constructions.malach.layer`: the layer lemma (shared blocks, all outputs, streaming G);
- :mod:`~stronglth.constructions.malach.scan`: the fused chunked scan of one piece of a block (both rules,
  ``selection="best"`` or ``"first"``, docs/theory.md §11);
- :mod:`~stronglth.constructions.malach.network`: the theorem (budgets, block sizes, certified error).
"""

from stronglth.constructions.malach.network import construct_malach

__all__ = ["construct_malach"]
