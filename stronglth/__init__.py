"""stronglth: the strong lottery ticket hypothesis, executable.

Malach et al. (2020) proved that a random ReLU network G of depth 2l with U[-1, 1] weights
contains a subnetwork (a mask, no training) approximating any admissible target of depth l;
Pensia et al. (2020) showed logarithmic width suffices. This package builds G lazily from a
seed, constructs tickets inside it as in the proofs, and checks their sup-norm error. The
mathematics, with every constant the code uses, is in docs/theory.md.

The public API is re-exported here explicitly; everything else is internal.
"""

from stronglth import bounds
from stronglth._version import __version__
from stronglth.constructions import METHODS, ConstructionPlan, construct, plan
from stronglth.errors import (
    AssumptionError,
    CellFailed,
    InvalidInputError,
    ShapeError,
    StrongLTHError,
    TicketAuditError,
    TicketFormatError,
    TicketNotFound,
    TooLargeError,
    VerificationInconclusive,
)
from stronglth.random_network import GENERATOR, RandomNetwork
from stronglth.relu import ReLUNetwork
from stronglth.target import TARGET_FAMILIES, TargetNetwork, load_target, random_target
from stronglth.ticket import TICKET_FORMAT, KeptEntries, Ticket
from stronglth.verification import VerificationReport, sup_error, verify

__all__ = [
    "__version__",
    "bounds",
    "construct",
    "plan",
    "ConstructionPlan",
    "METHODS",
    "GENERATOR",
    "TICKET_FORMAT",
    "TARGET_FAMILIES",
    "RandomNetwork",
    "ReLUNetwork",
    "TargetNetwork",
    "random_target",
    "load_target",
    "Ticket",
    "KeptEntries",
    "verify",
    "sup_error",
    "VerificationReport",
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
]
