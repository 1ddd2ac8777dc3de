"""The package's exceptions: one base class, one subclass per kind of problem.

Every error raised on bad input derives from :class:`StrongLTHError`, so a caller (and the
``stronglth`` command, which prints one line and exits 2) can catch them all at once. Messages
say what was wrong and, where it helps, what to do about it.
"""

from __future__ import annotations

__all__ = [
    "StrongLTHError",
    "InvalidInputError",
    "ShapeError",
    "AssumptionError",
    "TooLargeError",
    "TicketFormatError",
    "TicketAuditError",
    "TicketNotFound",
    "VerificationInconclusive",
    "CellFailed",
    "MissingExtraError",
]


class StrongLTHError(Exception):
    """Base class of every error this package raises on purpose."""


class InvalidInputError(StrongLTHError, ValueError):
    """An argument has the wrong type or value (NaN weights, a negative seed, ...)."""


class ShapeError(InvalidInputError):
    """Shapes that do not chain, empty layers, inputs of the wrong dimension."""


class AssumptionError(StrongLTHError):
    """A target network violates the assumptions of Malach et al. (2020) (docs/theory.md §1)."""


class TooLargeError(StrongLTHError):
    """A request would materialise more memory than allowed (e.g. ``dense()`` on a huge matrix)."""


class TicketFormatError(StrongLTHError):
    """A ticket file does not follow the format "stronglth-ticket/1" (the README's "Ticket files")."""


class TicketAuditError(StrongLTHError):
    """A ticket's kept values are not the random network's own values, bit for bit."""


class TicketNotFound(StrongLTHError):
    """A construction found no acceptable candidate in some block (the random network is too narrow)."""


class VerificationInconclusive(StrongLTHError):
    """An exact verification method reached its time limit before its bounds met."""


class CellFailed(StrongLTHError):
    """A sweep cell raised a package error; the rows finished before it are kept (rerun to resume)."""


class MissingExtraError(StrongLTHError, ImportError):
    """An optional dependency is not installed; the message names the extra to install."""
