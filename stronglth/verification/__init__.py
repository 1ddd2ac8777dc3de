"""The sup error over the unit ball, four ways that nest: sampled <= adversarial <= exact <= certified.

Every measure names its norm of the output difference: ``norm="l2"`` (default; the Euclidean norm
the certified bound controls) or ``"linf"`` (the largest output coordinate, never larger).

The entry points are :func:`verify` (all four measures in one :class:`VerificationReport`) and
:func:`sup_error` (one number by one method); docs/theory.md §6 states what each measures.

- :mod:`~stronglth.verification.sampled`: points uniform on the sphere (a lower bound);
- :mod:`~stronglth.verification.adversarial`: projected gradient ascent (a better lower bound);
- :mod:`~stronglth.verification.exact`: endpoints (d = 1), activation arcs (d = 2),
  :mod:`~stronglth.verification.milp` (small networks, any d, lower and upper bounds) and
  :mod:`~stronglth.verification.branch_and_bound` (any size, lower and upper bounds), on
  :mod:`~stronglth.verification.differential` (a certified upper bound for any d and size,
  docs/theory.md §10);
- :mod:`~stronglth.verification.certified`: the a-posteriori bound of docs/theory.md §3;
- :mod:`~stronglth.verification.report`: :func:`verify`, :func:`sup_error` and the report.
"""

from stronglth.verification._common import NORMS, STATUSES, ExactResult, as_relu_network
from stronglth.verification.adversarial import adversarial_error, adversarial_search
from stronglth.verification.certified import certified_bound
from stronglth.verification.differential import DOMAINS, differential_bound
from stronglth.verification.exact import exact_error
from stronglth.verification.report import METHODS, VerificationReport, sup_error, verify
from stronglth.verification.sampled import sampled_error, unit_sphere_points

__all__ = [
    "METHODS",
    "DOMAINS",
    "NORMS",
    "STATUSES",
    "VerificationReport",
    "ExactResult",
    "verify",
    "sup_error",
    "as_relu_network",
    "unit_sphere_points",
    "sampled_error",
    "adversarial_error",
    "adversarial_search",
    "exact_error",
    "certified_bound",
    "differential_bound",
]
