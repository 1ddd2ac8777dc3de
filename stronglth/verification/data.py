"""Errors on data: the max and the mean of ``||net(x) - target(x)||`` over the rows of a data set, and
with labels the accuracy of both networks and the agreement of their predictions (docs/theory.md §6).

These are exact numbers *on the data* (a max and a mean over finitely many rows, in float64), not
bounds over the ball or the box: a data row may lie outside the unit ball, where no ball bound
(certified, exact over the ball) says anything, and the counts of such rows are reported. The rows
are evaluated in blocks under the memory budget of :mod:`~stronglth.verification.sampled`
(:func:`~stronglth.verification.sampled.batch_rows`), so any number of rows (a memory-mapped
``.npy`` file, say) runs in bounded memory beside the data itself. Each network is evaluated with
its own hidden activation (the ReLU or a leaky ReLU, docs/theory.md §14.6).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from stronglth import _validate
from stronglth.errors import InvalidInputError, ShapeError
from stronglth.verification._common import check_norm, difference_norm, network_pair
from stronglth.verification.sampled import batch_rows

__all__ = ["DataErrors", "data_errors", "check_data", "check_labels"]


@dataclass(frozen=True)
class DataErrors:
    """The error of a network against a target on the ``rows`` rows of a data set, in ``norm``.

    - ``max_error``: ``max_i ||net(x_i) - target(x_i)||`` over the rows (exact in float64, attained at
      row ``max_row``, the first such row); ``mean_error``: the mean over the rows;
    - ``rows_outside_ball`` / ``rows_outside_box``: how many rows have ``||x||_2 > 1`` /
      ``||x||_inf > 1`` (where bounds over the ball / the box do not apply);
    - with labels (``labelled``): ``ticket_accuracy`` and ``target_accuracy``, the fraction of rows
      whose label is the argmax of the network's outputs (the first largest on ties), and
      ``agreement``, the fraction of rows where the two argmaxes are equal; ``None`` without labels.
    """

    norm: str
    rows: int
    max_error: float
    max_row: int
    mean_error: float
    rows_outside_ball: int
    rows_outside_box: int
    labelled: bool
    ticket_accuracy: float | None
    target_accuracy: float | None
    agreement: float | None

    def to_dict(self) -> dict[str, Any]:
        """Every field as JSON values, with ``"domain": "data"`` (what these numbers are over)."""
        return {"domain": "data", **asdict(self)}


def check_data(data: Any, d: int) -> Any:
    """``data`` if it is a real 2-D array of ``(rows, d)`` with at least one row (integer or floating;
    not copied: a memory-mapped array stays mapped), else a package error naming the problem.
    Finiteness is checked block by block as the rows are evaluated."""
    if isinstance(data, (str, bytes, dict)) or data is None:
        raise InvalidInputError(f"data must be a real array of shape (rows, {d}), got {type(data).__name__}")
    if not isinstance(data, np.ndarray):  # a memory-mapped array is one, and is not copied
        try:
            data = np.asarray(data)
        except (TypeError, ValueError) as exc:
            raise InvalidInputError(f"data must be a real array of shape (rows, {d}): {exc}") from None
    dtype = data.dtype
    if dtype == np.bool_ or not (np.issubdtype(dtype, np.floating) or np.issubdtype(dtype, np.integer)):
        raise InvalidInputError(f"data must be a real (integer or floating-point) array, got dtype {dtype}")
    if len(data.shape) != 2 or data.shape[1] != d:
        hint = f" (one point: reshape it to (1, {d}))" if len(data.shape) == 1 else ""
        raise ShapeError(f"data must have shape (rows, {d}) (one input point a row), got shape {tuple(data.shape)}{hint}")
    if data.shape[0] == 0:
        raise ShapeError(f"data has no rows (shape {tuple(data.shape)})")
    return data


def check_labels(labels: Any, rows: int, classes: int) -> np.ndarray:
    """Class indices: an integer array of ``rows`` entries in ``[0, classes)``, as int64; else a
    package error naming the problem (the first bad entry's row)."""
    if classes < 2:
        raise InvalidInputError(
            f"labels need a network with at least 2 outputs (a prediction is the argmax of the outputs), this one has {classes}"
        )
    array = np.asarray(labels)
    if array.dtype == np.bool_ or not np.issubdtype(array.dtype, np.integer):
        raise InvalidInputError(f"labels must be integer class indices, got dtype {array.dtype}")
    if array.shape != (rows,):
        raise ShapeError(f"labels must have shape ({rows},) (one label per data row), got shape {array.shape}")
    bad = np.flatnonzero((array < 0) | (array >= classes))
    if len(bad):
        raise InvalidInputError(
            f"labels must lie in [0, {classes}) (one class per output), got {int(array[bad[0]])} at row {int(bad[0])}"
            f" ({len(bad):,} rows out of range)"
        )
    return array.astype(np.int64)


def data_errors(net: Any, target: Any, data: Any, *, labels: Any = None, norm: str = "l2", batch: int = 65_536) -> DataErrors:
    """The max and mean error of ``net`` against ``target`` on the rows of ``data`` (``(rows, d)``) in
    ``norm``, and with ``labels`` (integer classes, one per row) the accuracy of both networks
    and the agreement of their predictions (:class:`DataErrors`; module docstring). Exact on the
    data, not a bound over any domain. Rows are evaluated in blocks of at most ``batch`` (fewer when
    a block of the widest layer would exceed the memory budget); a non-finite entry is refused,
    naming its row."""
    norm = check_norm(norm)
    f, g = network_pair(net, target)
    data = check_data(data, f.d)
    rows = int(data.shape[0])
    y = None if labels is None else check_labels(labels, rows, f.dims[-1])
    block_rows = batch_rows(f, g, cap=_validate.positive_int(batch, "batch"))
    best, best_row = -1.0, 0
    sums: list[float] = []
    outside_ball = outside_box = right_f = right_g = agree = 0
    for start in range(0, rows, block_rows):
        x = np.asarray(data[start : start + block_rows], dtype=np.float64)
        finite = np.isfinite(x).all(axis=1)
        if not finite.all():
            row = start + int(np.flatnonzero(~finite)[0])
            raise InvalidInputError(f"data has a non-finite entry (NaN or infinity) in row {row}")
        out_f, out_g = f.forward(x), g.forward(x)
        errors = difference_norm(out_f - out_g, norm)
        if not np.all(np.isfinite(errors)):
            row = start + int(np.flatnonzero(~np.isfinite(errors))[0])
            raise InvalidInputError(f"the error is not finite at data row {row} (the networks' outputs overflow float64)")
        i = int(np.argmax(errors))
        if errors[i] > best:
            best, best_row = float(errors[i]), start + i
        sums.append(float(np.sum(errors)))
        outside_ball += int(np.count_nonzero(np.sqrt(np.square(x).sum(axis=1)) > 1.0))
        outside_box += int(np.count_nonzero(np.abs(x).max(axis=1) > 1.0))
        if y is not None:
            pred_f, pred_g, truth = np.argmax(out_f, axis=1), np.argmax(out_g, axis=1), y[start : start + len(x)]
            right_f += int(np.count_nonzero(pred_f == truth))
            right_g += int(np.count_nonzero(pred_g == truth))
            agree += int(np.count_nonzero(pred_f == pred_g))
    labelled = y is not None
    return DataErrors(
        norm=norm,
        rows=rows,
        max_error=best,
        max_row=best_row,
        mean_error=math.fsum(sums) / rows,
        rows_outside_ball=outside_ball,
        rows_outside_box=outside_box,
        labelled=labelled,
        ticket_accuracy=right_f / rows if labelled else None,
        target_accuracy=right_g / rows if labelled else None,
        agreement=agree / rows if labelled else None,
    )
