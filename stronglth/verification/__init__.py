"""The sup error over the unit ball (or the box), four ways that nest: sampled <= adversarial <= exact
<= certified; and the error on data.

Every measure names its norm of the output difference: ``norm="l2"`` (default; the Euclidean norm
the certified bound controls) or ``"linf"`` (the largest output coordinate, never larger), and its
domain: ``domain="ball"`` (the unit ``l2`` ball, default) or ``"box"`` (``[-1, 1]^d``), or the rows
of a data set (``verify(..., data=X, labels=y)``: exact on those rows, not a bound over a domain).

The entry points are :func:`verify` (all four measures in one :class:`VerificationReport`) and
:func:`sup_error` (one number by one method); docs/theory.md §6 states what each measures. Every
method takes ReLU networks and leaky ReLU networks (``negative_slope``, docs/theory.md §14.6), each
network of a pair with its own activation.

- :mod:`~stronglth.verification.sampled`: seeded points of the domain (a lower bound);
- :mod:`~stronglth.verification.adversarial`: projected gradient ascent (a better lower bound);
- :mod:`~stronglth.verification.exact`: endpoints (d = 1), activation arcs (d = 2),
  :mod:`~stronglth.verification.milp` (small networks, any d, lower and upper bounds) and
  :mod:`~stronglth.verification.branch_and_bound` (any size, lower and upper bounds), on
  :mod:`~stronglth.verification.differential` (a certified upper bound for any d and size,
  docs/theory.md §10);
- :mod:`~stronglth.verification.certified`: the a-posteriori bound of docs/theory.md §3;
- :mod:`~stronglth.verification.data`: the max and mean error on data, accuracies and agreement;
- :mod:`~stronglth.verification.report`: :func:`verify`, :func:`sup_error` and the report.
"""

from stronglth.verification._common import NORMS, STATUSES, ExactResult, as_relu_network
from stronglth.verification.adversarial import adversarial_error, adversarial_search
from stronglth.verification.certified import certified_bound
from stronglth.verification.data import DataErrors, data_errors
from stronglth.verification.differential import DOMAINS, differential_bound
from stronglth.verification.exact import exact_error
from stronglth.verification.report import METHODS, VerificationReport, sup_error, verify
from stronglth.verification.sampled import domain_points, sampled_error, unit_sphere_points

__all__ = [
    "METHODS",
    "DOMAINS",
    "NORMS",
    "STATUSES",
    "VerificationReport",
    "ExactResult",
    "DataErrors",
    "verify",
    "sup_error",
    "as_relu_network",
    "unit_sphere_points",
    "domain_points",
    "sampled_error",
    "adversarial_error",
    "adversarial_search",
    "exact_error",
    "certified_bound",
    "differential_bound",
    "data_errors",
]
