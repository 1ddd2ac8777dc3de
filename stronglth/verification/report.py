"""The verification report: the four measures of the sup error, and :func:`verify` / :func:`sup_error`.

sampled <= adversarial <= exact <= certified (docs/theory.md §6):

- sampled: ``n`` points uniform on the sphere (a lower bound; :mod:`~stronglth.verification.sampled`);
- adversarial: projected gradient ascent on the sphere from the best sampled points (a better
  lower bound, with the point found; :mod:`~stronglth.verification.adversarial`);
- exact: endpoints (``d = 1``), enumeration of activation arcs (``d = 2``), or a MILP with lower
  and upper bounds (small networks, any ``d``); :mod:`~stronglth.verification.exact`;
- certified: the a-posteriori bound ``E_l`` of docs/theory.md §3, recomputed from the ticket's own
  kept weights (:mod:`~stronglth.verification.certified`).

Networks may be :class:`~stronglth.Ticket` (evaluated through its compacted form), any
:class:`~stronglth.ReLUNetwork` (targets included), or a torch ``nn.Sequential`` of bias-free
``Linear`` and ``ReLU``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from stronglth.errors import InvalidInputError, VerificationInconclusive
from stronglth.ticket import Ticket
from stronglth.verification._common import network_pair
from stronglth.verification.adversarial import adversarial_error, adversarial_search
from stronglth.verification.certified import certified_bound
from stronglth.verification.exact import exact_error
from stronglth.verification.sampled import sampled_error

__all__ = ["METHODS", "VerificationReport", "verify", "sup_error"]

METHODS = ("sampled", "adversarial", "exact", "certified")


@dataclass(frozen=True)
class VerificationReport:
    """The four measures of the sup error of a network against a target over the unit ball.

    ``exact`` is the error attained at ``exact_point`` and ``exact_upper`` the upper bound (equal
    when the method enumerates); both ``None`` unless requested. ``certified`` is ``None`` for
    networks that are not construction tickets.
    """

    sampled: float
    sampled_point: np.ndarray
    adversarial: float
    adversarial_point: np.ndarray
    exact: float | None
    exact_upper: float | None
    exact_point: np.ndarray | None
    exact_status: str | None
    certified: float | None

    @property
    def nested(self) -> bool:
        """``sampled <= adversarial <= exact <= exact_upper <= certified`` over the measures present
        (a relative slack of 1e-9 for rounding)."""
        chain = [self.sampled, self.adversarial, self.exact, self.exact_upper, self.certified]
        values = [v for v in chain if v is not None]
        return all(a <= b * (1 + 1e-9) + 1e-15 for a, b in zip(values, values[1:], strict=False))

    def to_dict(self) -> dict[str, Any]:
        return {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in asdict(self).items()} | {"nested": self.nested}


def verify(
    net: Any,
    target: Any = None,
    *,
    exact: bool = False,
    samples: int = 100_000,
    seed: int = 0,
    time_limit: float = 60.0,
    rel_gap: float = 0.01,
) -> VerificationReport:
    """Measure the sup error of ``net`` (a ticket, by default against its own target) four ways."""
    if target is None:
        if not isinstance(net, Ticket) or net.target is None:
            raise InvalidInputError("verify needs a target: pass one, or a ticket that carries its target")
        target = net.target
    f, g = network_pair(net, target)
    sampled, sampled_point = sampled_error(f, g, n=samples, seed=seed)
    adversarial, adversarial_point, local_maxima = adversarial_search(f, g, n=samples, seed=seed)
    exact_result = None
    if exact:
        exact_result = exact_error(
            net,
            target,
            time_limit=time_limit,
            rel_gap=rel_gap,
            lower_bound=adversarial,
            start_point=adversarial_point,
            seed_points=local_maxima,
        )
    return VerificationReport(
        sampled=sampled,
        sampled_point=sampled_point,
        adversarial=adversarial,
        adversarial_point=adversarial_point,
        exact=None if exact_result is None else exact_result.lower,
        exact_upper=None if exact_result is None else exact_result.upper,
        exact_point=None if exact_result is None else exact_result.point,
        exact_status=None if exact_result is None else exact_result.status,
        certified=certified_bound(net),
    )


def sup_error(net: Any, target: Any, *, method: str = "sampled", **options: Any) -> float:
    """One number: the sup error by ``method`` (one of :data:`METHODS`). ``"exact"`` returns the
    upper bound, and raises :class:`VerificationInconclusive` if the time limit came first;
    ``"certified"`` needs a construction ticket."""
    if method == "sampled":
        return sampled_error(net, target, **options)[0]
    if method == "adversarial":
        return adversarial_error(net, target, **options)[0]
    if method == "exact":
        result = exact_error(net, target, **options)
        if result.status == "inconclusive":
            raise VerificationInconclusive(
                f"exact sup error not settled within the time limit: between {result.lower:.6g} and {result.upper:.6g}"
            )
        return result.upper
    if method == "certified":
        value = certified_bound(net)
        if value is None:
            raise InvalidInputError("the certified bound applies to tickets of the constructions (with their target)")
        return value
    raise InvalidInputError(f"unknown method {method!r}; choose one of {METHODS}")
