"""The scaling experiments of ``stronglth sweep`` (one module each), registered in
:data:`stronglth.sweep.EXPERIMENTS` on import.

- :mod:`~stronglth.experiments.width_vs_eps`: smallest working block size vs eps, per method, against the theorem;
- :mod:`~stronglth.experiments.failure_prob`: failure rate vs block size against the union bound;
- :mod:`~stronglth.experiments.depth`: certified and adversarial error vs depth and width at a fixed block size;
- :mod:`~stronglth.experiments.looseness`: measured sup error at the theorem's width vs eps;
- :mod:`~stronglth.experiments.toy`: a cheap experiment for the engine's tests (hidden).
"""

from stronglth.experiments import width_vs_eps, failure_prob, depth, looseness, toy  # noqa: F401, I001  (registration, in this order)

__all__ = ["depth", "failure_prob", "looseness", "toy", "width_vs_eps"]
