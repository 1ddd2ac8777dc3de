"""The experiments of ``stronglth sweep``, one module each, in an explicit registry.

- :mod:`~stronglth.experiments.width_vs_eps`: smallest working block size vs eps, per method, against the theorem;
- :mod:`~stronglth.experiments.failure_prob`: failure rate vs block size against the union bound;
- :mod:`~stronglth.experiments.depth`: certified and adversarial error vs depth and width at a fixed block size;
- :mod:`~stronglth.experiments.looseness`: measured sup error at the theorem's width vs eps;
- :mod:`~stronglth.experiments.construction_vs_edge_popup`: Malach's construction vs edge-popup inside the same G;
- :mod:`~stronglth.experiments.edge_popup_classification`: edge-popup MLPs on digits and MNIST-1D vs density and width;
- :mod:`~stronglth.experiments.lottery_ticket`: Frankle & Carbin's lottery ticket experiment on LeNet-300-100;
- :mod:`~stronglth.experiments.planted_tickets`: every ticket finder against planted tickets (Fischer & Burkholz);
- :mod:`~stronglth.experiments.early_bird`: early-bird tickets on a small Conv-2 against full training and IMP;
- :mod:`~stronglth.experiments.pensia_mnist`: Pensia et al.'s subset-sum experiment on a trained MNIST network;
- :mod:`~stronglth.experiments.fixed_size_subsets`: ticket density vs G's size with fixed subset sizes (Natale et al.);
- :mod:`~stronglth.experiments.construction_comparison`: every construction of the literature on the same targets;
- :mod:`~stronglth.experiments.toy`: a cheap experiment for the engine's own tests (hidden).

Each module defines ``EXPERIMENT``, a :class:`stronglth.sweep.Experiment`; :data:`EXPERIMENTS`
lists them in the order of the CLI and of the results index. :mod:`~stronglth.experiments.toolkit`
holds the public helpers they share (targets from config fields, the smallest-block-size search,
fits with confidence intervals, Clopper-Pearson intervals, the figure style), for experiments of
your own too: a module defining ``EXPERIMENT`` runs as ``stronglth sweep --module FILE NAME``
(:func:`get_experiment` with ``module=``, :mod:`stronglth.sweep.plugins`; docs/guide-experiment.md).
"""

from __future__ import annotations

import os
from pathlib import Path

from stronglth.errors import InvalidInputError
from stronglth.experiments import (
    construction_comparison,
    construction_vs_edge_popup,
    depth,
    early_bird,
    edge_popup_classification,
    failure_prob,
    fixed_size_subsets,
    looseness,
    lottery_ticket,
    pensia_mnist,
    planted_tickets,
    toy,
    width_vs_eps,
)
from stronglth.sweep import Experiment, plugins

__all__ = ["EXPERIMENTS", "get_experiment", "experiment_of_directory"]

EXPERIMENTS: dict[str, Experiment] = {
    experiment.name: experiment
    for experiment in (
        width_vs_eps.EXPERIMENT,
        failure_prob.EXPERIMENT,
        depth.EXPERIMENT,
        looseness.EXPERIMENT,
        construction_vs_edge_popup.EXPERIMENT,
        edge_popup_classification.EXPERIMENT,
        pensia_mnist.EXPERIMENT,
        fixed_size_subsets.EXPERIMENT,
        construction_comparison.EXPERIMENT,
        lottery_ticket.EXPERIMENT,
        planted_tickets.EXPERIMENT,
        early_bird.EXPERIMENT,
        toy.EXPERIMENT,
    )
}
"""Registry: experiment name -> :class:`~stronglth.sweep.Experiment`, in the CLI's order."""


def _builtin_names() -> list[str]:
    return sorted(n for n, e in EXPERIMENTS.items() if not e.hidden)


def get_experiment(name: str | Experiment, *, module: str | os.PathLike | None = None) -> Experiment:
    """The experiment called ``name`` (an :class:`~stronglth.sweep.Experiment` is returned as is).

    With ``module`` (a ``.py`` file or a dotted module name): that module's ``EXPERIMENT``, which
    must be called ``name`` and must not take a built-in's name
    (:func:`stronglth.sweep.plugins.load_experiment`). Without it: a built-in, else the installed
    entry point ``name`` of the group ``stronglth.experiments``."""
    if isinstance(name, Experiment):
        return name
    if module is not None:
        return plugins.load_experiment(module, name, reserved=EXPERIMENTS)
    if isinstance(name, str) and name in EXPERIMENTS:
        return EXPERIMENTS[name]
    if isinstance(name, str) and name in plugins.entry_point_names():
        return plugins.load_entry_point(name, reserved=EXPERIMENTS)
    raise InvalidInputError(
        f"unknown experiment {name!r}; choose one of {_builtin_names()}, or pass the file or module defining yours"
        " (stronglth sweep --module my_exp.py NAME; get_experiment(NAME, module=...))"
    )


def experiment_of_directory(directory: str | os.PathLike, name: str, *, modules: tuple[Experiment, ...] = ()) -> Experiment:
    """The experiment ``name`` whose rows are in ``directory``: one of ``modules`` (loaded with
    ``--module``) by name, a built-in, the plugin recorded in ``directory/experiment.json``
    (:mod:`stronglth.sweep.plugins`), or an installed entry point; else an error saying what to pass."""
    directory = Path(directory)
    for experiment in modules:
        if experiment.name == name:
            return experiment
    if name in EXPERIMENTS:
        return EXPERIMENTS[name]
    manifest = plugins.read_manifest(directory)
    if manifest is not None and manifest["name"] == name:
        try:
            return plugins.load_origin(manifest["origin"], name, reserved=EXPERIMENTS)
        except InvalidInputError as exc:
            raise InvalidInputError(
                f"the rows of {name!r} in {directory} come from {manifest['origin']} (as {directory / plugins.MANIFEST}"
                f" records), which does not load now: {exc}; pass --module PATH_OR_MODULE, the file or module defining it"
            ) from None
    if name in plugins.entry_point_names():
        return plugins.load_entry_point(name, reserved=EXPERIMENTS)
    raise InvalidInputError(
        f"unknown experiment {name!r} in {directory}: not built in, no installed entry point of that name, and no"
        f" {plugins.MANIFEST} there says where it comes from; pass --module PATH_OR_MODULE (the .py file or module"
        " defining its EXPERIMENT)"
    )
