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
import re
import sys
from collections.abc import Sequence
from typing import Any

from kg import __version__
from kg.errors import KGError

__all__ = ["SUBCOMMANDS", "HelpFormatter", "build_parser", "main", "plain_text"]

#: Subcommand modules, in the order of the data flow.
SUBCOMMANDS = ("parse", "reconcile", "build", "validate", "serve", "query", "load", "wikidata",
               "bench")


_ROLE = re.compile(r":[a-z]+:`~?(?:[\w.]+\.)?([^`]+)`")
_LITERAL = re.compile(r"``(.+?)``")


def plain_text(text: str) -> str:
    """Help text without reST markup: ``x`` -> x, :class:`~a.b.C` -> C, :func:`f` -> f."""
    return _LITERAL.sub(r"\1", _ROLE.sub(r"\1", text))


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Every subcommand's help: descriptions as written (docstrings keep their lines),
    reST markup stripped, and each option's default shown unless its help already says it
    or there is none worth showing (None, False, an empty list)."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        default = action.default
        if (
            "%(default)" in text
            or "default" in text.lower()
            or default in (None, False, [], argparse.SUPPRESS)
            or action.nargs == 0  # a flag: its default is just "not given"
            or not (action.option_strings or action.nargs in ("?", "*"))
        ):
            return text
        return text + " (default: %(default)s)"

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        # A docstring keeps its lines; a one-line description is wrapped to the terminal.
        if "\n" in text.strip():
            return super()._fill_text(text, width, indent)
        return argparse.HelpFormatter._fill_text(self, text, width, indent)

    def _format_text(self, text: str) -> str:
        return super()._format_text(plain_text(text))

    def _expand_help(self, action: argparse.Action) -> str:
        return plain_text(super()._expand_help(action))


class _SubcommandParser(argparse.ArgumentParser):
    # Subcommand modules pick their own formatter; all get HelpFormatter, so help looks
    # the same everywhere without touching each module.
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["formatter_class"] = HelpFormatter
        super().__init__(*args, **kwargs)


def build_parser() -> argparse.ArgumentParser:
    """The ``kg`` argument parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="kg",
        description="Twinned cities and city-network memberships as linked data.",
        epilog="Exit codes: 0 success, 1 data does not conform, 2 error, 130 interrupted.",
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", parser_class=_SubcommandParser
    )
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
