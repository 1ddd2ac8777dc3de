"""Tables printed by the commands: aligned key-value rows, and the summary of a constructed ticket."""

from __future__ import annotations

from collections.abc import Sequence

from stronglth.errors import InvalidInputError
from stronglth.ticket import Ticket
from stronglth.verification import VerificationReport

__all__ = ["table", "columns", "ticket_table", "activation_row"]


def table(rows: Sequence[tuple[str, str]]) -> str:
    """``key  value`` rows, keys left-aligned to one width, indented by two spaces."""
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"  {k:<{width}}  {v}" for k, v in rows)


def columns(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A right-aligned table with a header line and a rule under it."""
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=False)]

    def line(cells: Sequence[str]) -> str:
        return "  " + "  ".join(f"{str(c):>{w}}" for c, w in zip(cells, widths, strict=False))

    return "\n".join([line(header), "  " + "  ".join("-" * w for w in widths)] + [line(r) for r in rows])


def activation_row(g_slope: float, target_slope: float) -> list[tuple[str, str]]:
    """The table row naming the activations, or none for a ReLU G with a ReLU (or no) target."""
    return [("activation", _activation(g_slope, target_slope))] if g_slope or target_slope else []


def _activation(g_slope: float, target_slope: float) -> str:
    """G's hidden activation, and the target's where it differs (docs/theory.md §14.6)."""
    name = "ReLU" if g_slope == 0 else f"leaky ReLU max(t, a t), a = {g_slope:g}"
    return name + ("" if target_slope == g_slope else f" (target: a = {target_slope:g})")


def ticket_table(ticket: Ticket, *, seconds: float, report: VerificationReport, samples: int) -> str:
    """The short table printed after a construction: G, the ticket, one number per measure of its
    error (from ``report``, each naming its norm and whether it is a lower or an upper bound), the time."""
    net = ticket.network
    target = ticket.target
    if target is None:
        raise InvalidInputError("a construction ticket carries its target")
    eps = ticket.meta.get("eps")
    method = str(ticket.meta.get("method"))
    rule = ticket.meta.get("rule")
    cert = "n/a" if report.certified is None else f"{report.certified:.4g}"
    # bias-free networks are homogeneous: the sup over the ball is on the sphere (docs/theory.md §1.5, §6)
    where = "in the unit ball" if ticket.has_biases or target.has_biases else "of the unit sphere"
    rows = [
        ("method", f"{method} (rule {rule})" if rule else method),
        ("target dims", " x ".join(str(n) for n in target.dims)),
        ("block sizes k_i", ", ".join(f"{k:,}" for k in ticket.meta.get("block_sizes", []))),
        ("G widths", " x ".join(f"{n:,}" for n in net.dims)),
        *activation_row(net.negative_slope, target.negative_slope),
        ("G parameters", f"{net.parameter_count:,} (generated on the fly, never stored)"),
        ("ticket nnz", f"{ticket.nnz:,} (density {ticket.density:.3g})"),
        *(
            [
                (
                    "output scale c",
                    f"{ticket.output_scale:.6g} (not a weight of G: output = c x subnetwork; F/c was built at eps/c)",
                )
            ]
            if ticket.output_scale != 1.0
            else []
        ),
        ("certified error", f"{cert}  upper bound, l2" + (f"  (eps = {eps:g})" if eps is not None else "")),
        ("sampled error", f"{report.sampled:.4g}  lower bound, {report.norm}: max over {samples:,} points {where}"),
        ("adversarial error", f"{report.adversarial:.4g}  lower bound, {report.norm}: gradient ascent from the best of them"),
        ("failed events", str(ticket.meta.get("failures", 0))),
        ("time", f"{seconds:.2f} s (construction)"),
    ]
    return table(rows)
