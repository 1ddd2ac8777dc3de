"""What every subcommand shares: the parser that reports bad arguments in one line, and the
handler that turns a package error into one line on stderr and exit status 2."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import NoReturn

from stronglth.errors import StrongLTHError

__all__ = ["OneLineParser", "run_parsed"]


class OneLineParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line (argparse prints the usage too) and exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def run_parsed(args: argparse.Namespace) -> int:
    """Run the handler ``args.run``: a package error prints one line and returns 2, Ctrl-C returns
    130, a closed pipe (output piped into ``head``) ends quietly."""
    run: Callable[[argparse.Namespace], int] = args.run
    try:
        return run(args)
    except StrongLTHError as exc:
        print(f"stronglth: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("stronglth: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        sys.stderr.close()
        return 0
