"""Shared pieces of the built-in experiments: re-exported from the public
:mod:`stronglth.experiments.toolkit`, where they are defined and documented (targets from config
fields, fits with confidence intervals, Clopper-Pearson intervals, figures and markdown written
atomically). A custom experiment imports :mod:`stronglth.experiments.toolkit` instead."""

from __future__ import annotations

from stronglth.experiments.toolkit import (
    ONE_WEIGHT,
    Fit,
    check_target_fields,
    clopper_pearson,
    fmt,
    linear_fit,
    make_target,
    markdown_table,
    median,
    new_figure,
    power_fit,
    require,
    save_figure,
    target_label,
)

__all__ = [
    "ONE_WEIGHT",
    "Fit",
    "check_target_fields",
    "clopper_pearson",
    "fmt",
    "linear_fit",
    "make_target",
    "markdown_table",
    "median",
    "new_figure",
    "power_fit",
    "require",
    "save_figure",
    "target_label",
]
