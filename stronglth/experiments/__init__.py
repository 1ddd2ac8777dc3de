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
- :mod:`~stronglth.experiments.toy`: a cheap experiment for the engine's own tests (hidden).

Each module defines ``EXPERIMENT``, a :class:`stronglth.sweep.Experiment`; :data:`EXPERIMENTS`
lists them in the order of the CLI and of the results index.
"""

from __future__ import annotations

from stronglth.errors import InvalidInputError
from stronglth.experiments import (
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
from stronglth.sweep import Experiment

__all__ = ["EXPERIMENTS", "get_experiment"]

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
        lottery_ticket.EXPERIMENT,
        planted_tickets.EXPERIMENT,
        early_bird.EXPERIMENT,
        toy.EXPERIMENT,
    )
}
"""Registry: experiment name -> :class:`~stronglth.sweep.Experiment`, in the CLI's order."""


def get_experiment(name: str | Experiment) -> Experiment:
    """The experiment called ``name`` (an :class:`~stronglth.sweep.Experiment` is returned as is)."""
    if isinstance(name, Experiment):
        return name
    if not isinstance(name, str) or name not in EXPERIMENTS:
        known = sorted(n for n, e in EXPERIMENTS.items() if not e.hidden)
        raise InvalidInputError(f"unknown experiment {name!r}; choose one of {known}")
    return EXPERIMENTS[name]
