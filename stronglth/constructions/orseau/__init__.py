"""Orseau, Hutter, Rivasplata, "Logarithmic pruning is all you need" (NeurIPS 2020): a hyperbolic G,
every target weight from one unit per level of its base-3/2 decomposition.

One lemma a module (docs/theory.md §13):

- :mod:`~stronglth.constructions.orseau.decomposition`: the levels and the greedy base-3/2 digit rule;
- :mod:`~stronglth.constructions.orseau.block`: one block's product weights, shared by every output;
- :mod:`~stronglth.constructions.orseau.layer`: one layer read from G, its errors and constant ``c_i``;
- :mod:`~stronglth.constructions.orseau.network`: block sizes, G's distributions, the ticket.

The a-priori width and depth: :mod:`stronglth.bounds.orseau`.
"""

from stronglth.constructions.orseau.network import construct_orseau, plan_orseau

__all__ = ["construct_orseau", "plan_orseau"]
