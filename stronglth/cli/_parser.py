"""What every subcommand shares: the parser that reports bad arguments in one line, and the
handler that turns a package error (or an operating-system error: a disk full mid-run) into one
line on stderr and exit status 2."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import NoReturn

from stronglth.errors import StrongLTHError

__all__ = ["OneLineParser", "run_parsed", "one_line"]


def one_line(text: object) -> str:
    """``text`` on one line (a message with newlines would break "one line on stderr")."""
    return " ".join(str(text).split())


class OneLineParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line (argparse prints the usage too) and exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"stronglth: error: {one_line(message)} (see {self.prog} --help)\n")


def _os_error(exc: OSError) -> str:
    """``<path>: <reason>`` for an ``OSError`` (the destination of a rename, when there is one)."""
    where = exc.filename2 if exc.filename2 is not None else exc.filename
    reason = exc.strerror or str(exc) or type(exc).__name__
    return f"{where}: {reason}" if where is not None else reason


def run_parsed(args: argparse.Namespace) -> int:
    """Run the handler ``args.run``: a package error or an ``OSError`` (a write failing mid-run)
    prints one line and returns 2, running out of memory likewise, Ctrl-C returns 130, a closed
    pipe (output piped into ``head``) ends quietly."""
    run: Callable[[argparse.Namespace], int] = args.run
    try:
        return run(args)
    except StrongLTHError as exc:
        print(f"stronglth: error: {one_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("stronglth: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        sys.stderr.close()
        return 0
    except OSError as exc:
        print(f"stronglth: error: {one_line(_os_error(exc))}", file=sys.stderr)
        return 2
    except MemoryError:
        print("stronglth: error: out of memory (ask for fewer samples, or a smaller network)", file=sys.stderr)
        return 2
