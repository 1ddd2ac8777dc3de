"""The ``stronglth`` command, one module per subcommand.

    stronglth demo | construct | verify | audit | sweep | plot | edge-popup | prune

Each module (:mod:`~stronglth.cli.demo`, :mod:`~stronglth.cli.construct`, :mod:`~stronglth.cli.verify`,
:mod:`~stronglth.cli.audit`, :mod:`~stronglth.cli.sweep`, :mod:`~stronglth.cli.edge_popup`,
:mod:`~stronglth.cli.prune`) registers its subcommand with ``add_parser(subparsers)``. Bad input prints one
line, ``stronglth: error: ...``, on stderr and exits 2: no traceback and no partial output file (files are written atomically).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from stronglth._version import __version__
from stronglth.cli import audit, construct, demo, edge_popup, prune, sweep, verify
from stronglth.cli._parser import OneLineParser, run_parsed

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``stronglth``, with every subcommand."""
    parser = OneLineParser(prog="stronglth", description="The strong lottery ticket hypothesis, executable.")
    parser.add_argument("--version", action="version", version=f"stronglth {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    for command in (demo, construct, verify, audit, sweep, edge_popup, prune):
        command.add_parser(sub)  # sweep adds `sweep {experiments..., merge}` and `plot`
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``stronglth`` with ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    return run_parsed(build_parser().parse_args(argv))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
