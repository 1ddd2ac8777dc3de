"""The verification report: the four measures of the sup error, errors on data, and :func:`verify` /
:func:`sup_error`.

sampled <= adversarial <= exact upper <= certified (docs/theory.md §6), each in one norm of the output
difference, ``norm="l2"`` (the Euclidean norm the certified bound controls; the default) or ``"linf"``,
and each over one domain, ``domain="ball"`` (the unit ``l2`` ball, default) or ``"box"`` (``[-1, 1]^d``):

- sampled: ``n`` seeded points of the domain (a lower bound; :mod:`~stronglth.verification.sampled`);
- adversarial: projected gradient ascent over the domain from the best sampled points (a better
  lower bound, with the point found; :mod:`~stronglth.verification.adversarial`);
- exact: endpoints (``d = 1``), enumeration of activation arcs (``d = 2``), or a MILP with true lower
  and upper bounds and a status (small networks, any ``d``); :mod:`~stronglth.verification.exact`;
- certified: the a-posteriori bound ``E_l`` of docs/theory.md §3, recomputed from the ticket's own
  kept weights (:mod:`~stronglth.verification.certified`); over the box ``sqrt(d) E_l`` (bias-free);
- on data (``data=X``): the max and mean error on the rows of ``X``, exact on those rows and not a
  bound over any domain, and with ``labels=`` accuracies and agreement
  (:mod:`~stronglth.verification.data`).

Networks may be :class:`~stronglth.Ticket` (evaluated through its compacted form), any
:class:`~stronglth.ReLUNetwork` (targets included), or a torch ``nn.Sequential`` of ``Linear``
and ``ReLU`` (read by :meth:`~stronglth.ReLUNetwork.from_torch`). Each may have a leaky ReLU
``max(t, a t)`` (``negative_slope = a``; a ticket's is G's, docs/theory.md §14.6), and each is
evaluated with its own: sampled, adversarial and the errors on data evaluate the leaky networks
themselves; the exact methods enumerate them (``d = 1, 2``) or bound their ReLU forms (MILP,
branch-and-bound, the differential bound; equal up to one rounding of each ``a W``).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from stronglth import _validate
from stronglth.errors import InvalidInputError, VerificationInconclusive
from stronglth.ticket import Ticket
from stronglth.verification._common import check_domain, check_norm, network_pair
from stronglth.verification.adversarial import adversarial_error, adversarial_search
from stronglth.verification.certified import certified_bound, certified_or_reason, is_own_target
from stronglth.verification.data import DataErrors, data_errors
from stronglth.verification.exact import METHODS as EXACT_METHODS
from stronglth.verification.exact import exact_error
from stronglth.verification.sampled import sampled_error

__all__ = ["METHODS", "VerificationReport", "verify", "sup_error"]

METHODS = ("sampled", "adversarial", "exact", "certified", "bounds", "endpoints", "circle", "milp", "bab")
"""What :func:`sup_error` can name: the lower bounds (``sampled``, ``adversarial``), ``exact`` (the
method ``"auto"`` picks), each exact method by name (``endpoints``, ``circle``, ``milp``, ``bab``),
and the upper bounds ``certified`` (docs/theory.md §3) and ``bounds`` (the differential bound, §10)."""


def _strict(value: Any) -> Any:
    """JSON-ready: arrays as lists, non-finite floats as ``None`` (strict JSON has no Infinity)."""
    if isinstance(value, np.ndarray):
        return [_strict(v) for v in value.tolist()]
    if isinstance(value, (list, tuple)):
        return [_strict(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _at_most(a: float, b: float) -> bool:
    return a <= b * (1 + 1e-9) + 1e-12  # slack for rounding: 1e-9 relative, 1e-12 absolute (errors of 0)


@dataclass(frozen=True)
class VerificationReport:
    """The measures of the sup error of a network against a target over ``domain`` (``"ball"``, the
    unit ``l2`` ball, or ``"box"``, ``[-1, 1]^d``), all in the norm ``norm`` of the output difference
    (docs/theory.md §6), and optionally the errors on a data set.

    - ``sampled``, ``adversarial``: lower bounds, attained at ``sampled_point``, ``adversarial_point``
      (points of the domain: of its surface for bias-free networks);
    - ``exact_lower <= sup <= exact_upper``: true bounds from the exact method ``exact_method``
      (``None`` unless requested); ``exact_status`` is ``"exact"``, ``"within_gap"`` or
      ``"inconclusive"``; ``exact`` is ``exact_upper`` when the status settles the sup (not
      ``"inconclusive"``), else ``None``; ``exact_point`` (in the domain) attains ``exact_lower``;
    - ``certified``: the a-posteriori upper bound of docs/theory.md §3 on the ``l2`` error (so on the
      ``linf`` error too) over the domain, recomputed from the kept weights (over the box
      ``sqrt(d)`` times the ball bound, for bias-free networks); ``None`` for networks that are not
      construction tickets, against any target but the ticket's own, and for networks with biases
      whose construction supplies none; ``certified_note`` says what it is, or why there is none;
    - ``data``: the errors on the rows of a data set (:class:`~stronglth.verification.data.DataErrors`;
      exact on those rows, not a bound over the domain), ``None`` unless ``verify(..., data=X)``.
    """

    norm: str
    sampled: float
    sampled_point: np.ndarray
    adversarial: float
    adversarial_point: np.ndarray
    exact_lower: float | None
    exact_upper: float | None
    exact_point: np.ndarray | None
    exact_status: str | None
    exact_method: str | None
    certified: float | None
    domain: str = "ball"
    certified_note: str | None = None
    data: DataErrors | None = None

    @property
    def exact(self) -> float | None:
        """The sup when the exact method settled it (``exact_upper``, never below the truth), else ``None``."""
        return None if self.exact_status in (None, "inconclusive") else self.exact_upper

    @property
    def lower_bounds(self) -> dict[str, float]:
        """The lower bounds that exist: each is the error at a point of the domain."""
        named = {"sampled": self.sampled, "adversarial": self.adversarial, "exact lower": self.exact_lower}
        return {name: value for name, value in named.items() if value is not None}

    @property
    def upper_bounds(self) -> dict[str, float]:
        """The upper bounds that exist (an inconclusive exact upper bound may be infinite)."""
        named = {"exact upper": self.exact_upper, "certified": self.certified}
        return {name: value for name, value in named.items() if value is not None}

    @property
    def nested(self) -> bool:
        """``sampled <= adversarial``, and every lower bound at most every upper bound (a relative slack
        of 1e-9 and an absolute one of 1e-12 for rounding): what must hold whatever the exact method's status. A measure not
        computed is skipped; an inconclusive exact result still gives true bounds, so it takes part."""
        lowers, uppers = self.lower_bounds.values(), self.upper_bounds.values()
        return _at_most(self.sampled, self.adversarial) and all(_at_most(a, b) for a in lowers for b in uppers)

    def to_dict(self) -> dict[str, Any]:
        """Every field, ``exact`` and ``nested``, as strict JSON values (no NaN or Infinity: ``None``);
        ``data`` as the :meth:`DataErrors.to_dict` object (its ``"domain"`` is ``"data"``) or ``None``."""
        out = {k: _strict(v) for k, v in asdict(self).items() if k != "data"}
        data = None if self.data is None else {k: _strict(v) for k, v in self.data.to_dict().items()}
        return out | {"data": data, "exact": _strict(self.exact), "nested": self.nested}


def verify(
    net: Any,
    target: Any = None,
    *,
    norm: str = "l2",
    exact: bool = False,
    samples: int = 100_000,
    seed: int = 0,
    time_limit: float = 60.0,
    rel_gap: float = 0.01,
    method: str = "auto",
    domain: str = "ball",
    data: Any = None,
    labels: Any = None,
) -> VerificationReport:
    """Measure the sup error of ``net`` (a ticket, by default against its own target) over ``domain``
    (``"ball"``, the unit ``l2`` ball, default, or ``"box"``, ``[-1, 1]^d``) in ``norm`` (``"l2"``,
    default, or ``"linf"``): sampled, adversarial, exact (``exact=True``, by the exact method
    ``method``, one of :data:`~stronglth.verification.exact.METHODS`; ``"auto"`` picks by size and
    the report names the one used) and certified (for a construction ticket against its own target).

    ``data``: a ``(rows, d)`` array; the report's ``data`` then holds the max and mean error on its
    rows (exact on the data, not a bound over the domain) and, with ``labels`` (one integer class
    per row), the accuracy of both networks and the agreement of their predictions
    (:func:`~stronglth.verification.data.data_errors`)."""
    norm, domain = check_norm(norm), check_domain(domain)
    if labels is not None and data is None:
        raise InvalidInputError("labels= needs data=: the labels are those of the rows of a data set")
    exact = _validate.boolean(exact, "exact")
    if not isinstance(method, str) or method not in EXACT_METHODS:
        raise InvalidInputError(f"unknown exact method {method!r}; choose one of {EXACT_METHODS}")
    time_limit = _validate.positive_float(time_limit, "time_limit")  # checked even when exact is False
    rel_gap = _validate.non_negative_float(rel_gap, "rel_gap")
    if target is None:
        if not isinstance(net, Ticket) or net.target is None:
            raise InvalidInputError("verify needs a target: pass one, or a ticket that carries its target")
        target = net.target
    f, g = network_pair(net, target)
    on_data = None if data is None else data_errors(f, g, data, labels=labels, norm=norm)  # bad data: refused first
    sampled, sampled_point = sampled_error(f, g, n=samples, seed=seed, norm=norm, domain=domain)
    adversarial, adversarial_point, local_maxima = adversarial_search(f, g, n=samples, seed=seed, norm=norm, domain=domain)
    result = None
    if exact:
        result = exact_error(
            net,
            target,
            method=method,
            norm=norm,
            time_limit=time_limit,
            rel_gap=rel_gap,
            start_point=adversarial_point,
            seed_points=local_maxima,
            domain=domain,
        )
    if is_own_target(net, target):
        certified, certified_note = certified_or_reason(net, domain)
    else:
        certified, certified_note = None, "defined for a construction ticket against its own target only"
    return VerificationReport(
        norm=norm,
        sampled=sampled,
        sampled_point=sampled_point,
        adversarial=adversarial,
        adversarial_point=adversarial_point,
        exact_lower=None if result is None else result.lower,
        exact_upper=None if result is None else result.upper,
        exact_point=None if result is None else result.point,
        exact_status=None if result is None else result.status,
        exact_method=None if result is None else result.method,
        certified=certified,
        domain=domain,
        certified_note=certified_note,
        data=on_data,
    )


def sup_error(net: Any, target: Any, *, method: str = "sampled", **options: Any) -> float:
    """One number: the sup error over ``domain=`` (``"ball"``, the unit ``l2`` ball, default, or
    ``"box"``, ``[-1, 1]^d``; an option of every method) by ``method`` (one of :data:`METHODS`), in
    ``norm=`` (``"l2"``, default, or ``"linf"``; an option of every method). ``"sampled"`` and
    ``"adversarial"`` are lower bounds; ``"exact"`` (the method ``"auto"`` picks) and each exact method
    by name (``"endpoints"``, ``"circle"``, ``"milp"``, ``"bab"``) return the upper bound and raise
    :class:`~stronglth.errors.VerificationInconclusive` when the bounds do not meet; ``"bounds"``
    returns the differential upper bound (docs/theory.md §10; options ``norm``, ``domain``) whatever
    its gap; ``"certified"`` (an ``l2`` bound, hence also a ``linf`` bound) needs a construction ticket
    and its own target (over the box: ``sqrt(d)`` times the ball bound, bias-free networks only)."""
    if method == "sampled":
        return sampled_error(net, target, **options)[0]
    if method == "adversarial":
        return adversarial_error(net, target, **options)[0]
    if method == "bounds":
        return exact_error(net, target, method="bounds", **options).upper
    if method == "exact" or (method in EXACT_METHODS and method != "auto"):
        if method != "exact":
            options["method"] = method
        result = exact_error(net, target, **options)
        if result.status == "inconclusive":
            raise VerificationInconclusive(
                f"exact {result.norm} sup error not settled ({result.method}): between {result.lower:.6g} and {result.upper:.6g}"
            )
        return result.upper
    if method == "certified":
        check_norm(options.pop("norm", "l2"))
        domain = check_domain(options.pop("domain", "ball"))
        if options:
            raise InvalidInputError(f"method='certified' takes no options besides norm and domain, got {sorted(options)}")
        value = certified_bound(net, target, domain=domain)
        if value is None:
            reason = certified_or_reason(net, domain)[1]
            raise InvalidInputError(
                f"method='certified': no certified bound ({reason}); it applies to tickets of the constructions"
                " (with their target)"
            )
        return value
    raise InvalidInputError(f"unknown method {method!r}; choose one of {METHODS}")
