"""Burkholz, "Most activation functions can win the lottery without excessive depth" (NeurIPS 2022):
a random network of depth ``l + 1`` for a target of depth ``l`` with the ReLU or a leaky ReLU
``max(t, a t)`` (docs/theory.md §14, §14.6).

One step a module:

- :mod:`~stronglth.constructions.burkholz.first`: the univariate first layer and the copies of target
  layer 1 (product subset sums, both sides);
- :mod:`~stronglth.constructions.burkholz.copies`: the copy lemma, each later layer's copies from the
  copies before (plain subset sums over G's weights);
- :mod:`~stronglth.constructions.burkholz.certified`: the certified a-posteriori bound, and its
  recomputation from a ticket;
- :mod:`~stronglth.constructions.burkholz.network`: block sizes (``"theorem"``, ``"auto"``, explicit),
  the ticket.
"""

from stronglth.constructions.burkholz.network import construct_burkholz, plan_burkholz

__all__ = ["construct_burkholz", "plan_burkholz"]
