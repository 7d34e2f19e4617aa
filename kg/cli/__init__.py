"""``kg``: a thin group of stage subcommands.

Each subcommand lives in its own module under ``kg.cli`` with ``register(subparsers)``,
which adds its parser and sets ``func`` to a callable ``(argparse.Namespace) -> int``.
Stage modules are imported inside those callables, so ``kg --help`` stays fast.
A :class:`~kg.errors.KGError` becomes one line on stderr and its exit code (2); see
:mod:`kg.errors` for the exit codes.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from kg import __version__
from kg.errors import KGError

__all__ = ["SUBCOMMANDS", "build_parser", "main"]

#: Subcommand modules, in the order of the data flow.
SUBCOMMANDS = ("parse", "reconcile", "build", "validate", "serve", "query", "load", "wikidata",
               "bench")


def build_parser() -> argparse.ArgumentParser:
    """The ``kg`` argument parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="kg",
        description="Twinned cities and city-network memberships as linked data.",
        epilog="Exit codes: 0 success, 1 data does not conform, 2 error, 130 interrupted.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in SUBCOMMANDS:
        importlib.import_module(f"kg.cli.{name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``kg``; returns the exit code (the console script exits with it)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except KGError as exc:
        print(f"kg {args.command}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"kg {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `kg parse ... | head` closes the pipe early: not an error worth a traceback.
        sys.stderr.close()
        return 0
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
