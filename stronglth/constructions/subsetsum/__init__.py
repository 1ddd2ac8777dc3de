"""Pensia, Rajput, Nagle, Vishwakarma, Papailiopoulos (NeurIPS 2020): each weight a subset sum.

One step a module (docs/theory.md §5):

- :mod:`~stronglth.constructions.subsetsum.solver`: exact subset sums, many problems at once (meet in the middle);
- :mod:`~stronglth.constructions.subsetsum.layer`: one layer's events, in tasks, serially or in worker processes;
- :mod:`~stronglth.constructions.subsetsum.network`: per-weight tolerances, block sizes (explicit or
  ``"auto"``), the ticket and its certified error.
"""

from stronglth.constructions.subsetsum.network import construct_subsetsum

__all__ = ["construct_subsetsum"]
