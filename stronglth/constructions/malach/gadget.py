"""The weight lemma (docs/theory.md §2): one target weight from one block of random hidden units.

For ``a != 0``: ``s(a x) = a s(x)`` if ``a > 0`` and ``|a| s(-x)`` if ``a < 0``. A block of hidden
units ``h`` reading the same coordinate ``x`` with first-layer weights ``u_h`` and second-layer
weights ``v_h`` therefore computes, on subsets ``P`` of ``{u_h > 0}`` and ``N`` of ``{u_h < 0}``,

    g(x) = sum_{h in P u N} v_h s(u_h x) = A s(x) + B s(-x),  A = sum_P v_h u_h,  B = sum_N v_h |u_h|,

and, since ``x = s(x) - s(-x)``, ``sup_{|x| <= r} |g(x) - w x| = r max(|A - w|, |B + w|)`` exactly.
Malach et al. (ICML 2020) keep one unit on each side (``|P|, |N| <= 1``); this module chooses them.

Rules (docs/theory.md §4):

- ``"best"``: the unit minimising ``|v u - w|`` on each side (or none, when ``|w|`` is smaller).
- ``"matching"``: only units in the sufficient event of the proof style of Malach et al.:
  ``||u| - |w|| <= eta/2`` and ``|v| >= 1 - eta/2`` with the sign that makes ``v u`` point
  towards ``w``; among those, the one with the least error. Any such unit has error ``<= eta``.

Selections (docs/theory.md §11): ``"best"`` as above; ``"first"`` takes, on each side, the first
acceptable unit in index order instead (rule ``"best"``: the first with ``|v u - w| <= eta``, or no
unit at all when ``|w| <= eta``; rule ``"matching"``: the first in the event). A side with no
acceptable unit is filled as by ``"best"``.

Note that on both sides the error of a single unit is ``|v u - w|``: on the ``P`` side it is
``A - w = v u - w``, on the ``N`` side ``B + w = v |u| + w = -(v u - w)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stronglth.errors import InvalidInputError

__all__ = ["RULES", "SELECTIONS", "GadgetChoice", "weight_gadget", "gadget_output", "gadget_sup_error"]

RULES = ("best", "matching")
SELECTIONS = ("best", "first")


@dataclass(frozen=True)
class GadgetChoice:
    """The units chosen for one target weight ``w`` in one block.

    ``positive`` / ``negative``: index (in the block) of the unit on the ``P`` / ``N`` side, or
    ``None`` when that side keeps no unit. ``error_positive = A - w`` and ``error_negative = B + w``
    (``None`` when the ``N`` side is not used). ``accepted_*``: whether the side met the rule
    (``"best"``: error within ``eta``; ``"matching"``: a unit in the sufficient event was found).
    """

    positive: int | None
    negative: int | None
    error_positive: float
    error_negative: float | None
    accepted_positive: bool
    accepted_negative: bool

    @property
    def sup_error(self) -> float:
        """``max(|A - w|, |B + w|)``: the exact sup of ``|g(x) - w x|`` over ``|x| <= 1``."""
        return gadget_sup_error(self.error_positive, self.error_negative)


def _matching_event(u: np.ndarray, v: np.ndarray, w: float, eta: float, side: int) -> np.ndarray:
    """Units of one side (``side = +1``: ``u > 0``, ``-1``: ``u < 0``) in the matching event."""
    sign_w = 1.0 if w >= 0 else -1.0
    return (np.sign(u) == side) & (np.abs(np.abs(u) - abs(w)) <= eta / 2) & (v * sign_w * side >= 1.0 - eta / 2)


def weight_gadget(
    u: np.ndarray,
    v: np.ndarray,
    w: float,
    *,
    rule: str = "best",
    eta: float | None = None,
    negative_half: bool = True,
    selection: str = "best",
) -> GadgetChoice:
    """Choose ``P`` and ``N`` (at most one unit each) for target weight ``w`` from a block with
    first-layer weights ``u`` and second-layer weights ``v`` (Malach et al. 2020; docs/theory.md §2).

    ``eta`` is the per-weight tolerance: required for ``rule="matching"``, and used by ``"best"``
    only to report acceptance. With ``negative_half=False`` the ``N`` side is left out (inputs
    after a ReLU are ``>= 0``, so ``s(-y) = 0`` and ``N`` would never be active).
    Ties are broken towards the lowest index, so the choice is a function of the block.
    ``selection="first"`` (needs ``eta``) keeps the first acceptable unit of each side instead
    (module docstring); this dense version is the reference the streaming scan is tested against.
    """
    u = np.asarray(u, dtype=np.float64)
    v = np.asarray(v, dtype=np.float64)
    if u.shape != v.shape or u.ndim != 1:
        raise InvalidInputError(f"u and v must be 1-D of one length, got shapes {u.shape} and {v.shape}")
    if rule not in RULES:
        raise InvalidInputError(f"unknown rule {rule!r}; choose one of {RULES}")
    if selection not in SELECTIONS:
        raise InvalidInputError(f"unknown selection {selection!r}; choose one of {SELECTIONS}")
    if (rule == "matching" or selection == "first") and eta is None:
        raise InvalidInputError(f"rule {rule!r} with selection {selection!r} needs the per-weight tolerance eta")
    w = float(w)
    error = v * u - w  # the error of each unit on its own side, up to sign (module docstring)

    def side(sign: int) -> tuple[int | None, float, bool]:
        on_side = np.sign(u) == sign
        if rule == "matching":
            assert eta is not None  # refused above: rule "matching" needs eta
            allowed = _matching_event(u, v, w, eta, sign)
        else:
            allowed = on_side
        candidates = np.flatnonzero(allowed)
        best = None
        if selection == "first":
            assert eta is not None  # refused above: selection "first" needs eta
            if rule == "best" and abs(w) <= eta:
                return None, float(-sign * w), True  # the empty side is acceptable: no unit read
            acceptable = candidates if rule == "matching" else candidates[np.abs(error[candidates]) <= eta]
            if acceptable.size:
                first = int(acceptable[0])
                return first, float(sign * error[first]), True
        if candidates.size:
            best = int(candidates[np.argmin(np.abs(error[candidates]))])  # argmin: first of ties
        if rule == "best" and (best is None or abs(w) <= abs(error[best])):
            best = None  # keeping no unit (error -w on the P side, +w on N) is at least as good
        signed = sign * error[best] if best is not None else -sign * w
        accepted = (best is not None) if rule == "matching" else (eta is None or abs(signed) <= eta)
        return best, float(signed), bool(accepted)

    positive, error_positive, accepted_positive = side(+1)
    if not negative_half:
        return GadgetChoice(positive, None, error_positive, None, accepted_positive, True)
    negative, error_negative, accepted_negative = side(-1)
    return GadgetChoice(positive, negative, error_positive, error_negative, accepted_positive, accepted_negative)


def gadget_output(u: np.ndarray, v: np.ndarray, units: list[int], x: np.ndarray) -> np.ndarray:
    """``g(x) = sum_{h in units} v_h s(u_h x)`` evaluated directly (a reference for tests)."""
    x = np.asarray(x, dtype=np.float64)
    out = np.zeros_like(x)
    for h in units:
        out += v[h] * np.maximum(u[h] * x, 0.0)
    return out


def gadget_sup_error(error_positive: float, error_negative: float | None, radius: float = 1.0) -> float:
    """``r max(|A - w|, |B + w|)``: the exact sup of ``|g(x) - w x|`` over ``|x| <= r`` (docs/theory.md §2).

    With the ``N`` side left out (``error_negative=None``) the gadget serves inputs after a ReLU,
    and this is the sup over ``0 <= x <= r``: ``r |A - w|``.
    """
    if error_negative is None:
        return radius * abs(error_positive)
    return radius * max(abs(error_positive), abs(error_negative))
