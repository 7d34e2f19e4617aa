"""``kg``: a thin group of stage subcommands.

Each subcommand lives in its own module under ``kg.cli`` with ``register(subparsers)``,
which adds its parser and sets ``func`` to a callable ``(argparse.Namespace) -> int``.
Stage modules are imported inside those callables, so ``kg --help`` stays fast.
A :class:`~kg.errors.KGError` becomes one line on stderr and its exit code (2); see
:mod:`kg.errors` for the exit codes. A bad option is one line too (``kg CMD: error: …``,
exit 2): the parser does not print its usage block, and option values are checked by the
``type=`` functions here (:func:`positive_int`, :func:`positive_float`, :func:`http_url`,
:func:`byte_size`) before any work starts.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import re
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn, TextIO
from urllib.parse import urlsplit

from kg import __version__
from kg.errors import KGError

__all__ = [
    "SUBCOMMANDS",
    "HelpFormatter",
    "OneLineParser",
    "add_max_input_size",
    "add_names_lang",
    "build_parser",
    "byte_size",
    "comma_list",
    "encode_safely",
    "http_url",
    "input_file",
    "int_range",
    "ip_address",
    "main",
    "non_negative_int",
    "one_default_style",
    "plain_text",
    "port",
    "positive_float",
    "positive_int",
    "require_built",
]

#: Subcommand modules, in the order of the data flow.
SUBCOMMANDS = ("parse", "reconcile", "build", "validate", "serve", "query", "load", "wikidata",
               "bench")


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line on stderr (``prog: error: message``)
    and exit code 2, as every other ``kg`` error; ``--help`` still shows the usage."""

    def error(self, message: str) -> NoReturn:
        """Print ``message`` as one line and exit 2."""
        self.exit(2, f"{self.prog}: error: {' '.join(message.split())}\n")


def _whole(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None


def _int_at_least(text: str, low: int) -> int:
    value = _whole(text)
    if value < low:
        raise argparse.ArgumentTypeError(f"must be {low} or more, not {value}")
    return value


def positive_int(text: str) -> int:
    """An ``int`` option that must be 1 or more. Raises ``argparse.ArgumentTypeError``."""
    return _int_at_least(text, 1)


def non_negative_int(text: str) -> int:
    """An ``int`` option that must be 0 or more. Raises ``argparse.ArgumentTypeError``."""
    return _int_at_least(text, 0)


def int_range(low: int, high: int) -> Callable[[str], int]:
    """An ``int`` option type that accepts ``low``..``high`` (both included)."""

    def check(text: str) -> int:
        value = _whole(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be {low}..{high}, not {value}")
        return value

    check.__name__ = f"int_range_{low}_{high}"
    return check


def port(text: str) -> int:
    """A TCP port, 0..65535 (0: any free port). Raises ``argparse.ArgumentTypeError``."""
    return int_range(0, 65535)(text)


def positive_float(text: str) -> float:
    """A finite ``float`` option above 0 (a timeout, seconds). Raises
    ``argparse.ArgumentTypeError``."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"must be a number above 0, not {text}")
    return value


def http_url(text: str) -> str:
    """An ``http://`` or ``https://`` URL with a host (an endpoint). Raises
    ``argparse.ArgumentTypeError`` for anything else, including a malformed host or port
    (``http://[::1``, ``http://h:99999``)."""
    try:
        parts = urlsplit(text)
        port = parts.port  # raises ValueError for a port that is not 0..65535
        host = parts.hostname
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"malformed URL {text!r}: {exc}") from None
    if parts.scheme not in ("http", "https") or not host:
        raise argparse.ArgumentTypeError(f"not an http(s) URL with a host: {text!r}")
    if port == 0 or any(c.isspace() for c in text):
        raise argparse.ArgumentTypeError(f"malformed URL {text!r}")
    return text


def ip_address(text: str) -> str:
    """An IPv4 or IPv6 address (a peer as the server sees it), in its canonical form.
    Raises ``argparse.ArgumentTypeError`` for anything else (a host name, a range)."""
    import ipaddress

    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an IP address: {text!r}") from None


def comma_list(choices: Sequence[str]) -> Callable[[str], str]:
    """An option type for a comma-separated, non-empty subset of ``choices``; the text is
    returned as given (the command splits it)."""

    def check(text: str) -> str:
        items = [item.strip() for item in text.split(",") if item.strip()]
        unknown = [item for item in items if item not in choices]
        if unknown or not items:
            what = f"unknown {unknown[0]!r}" if unknown else "empty list"
            raise argparse.ArgumentTypeError(f"{what} (choose from {','.join(choices)})")
        return text

    check.__name__ = "comma_list"
    return check


def input_file(text: str) -> Path:
    """A path to an existing regular file (checked with ``stat``, not opened: a FIFO or a
    device is refused before anything reads it). Raises ``argparse.ArgumentTypeError``."""
    from kg.errors import KGError
    from kg.fsutil import check_regular_file

    path = Path(text)
    try:
        check_regular_file(path, KGError, "file", missing="no such file")
    except KGError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return path


_SIZE = re.compile(r"(?P<n>[0-9]+)\s*(?P<unit>|k|kb|kib|m|mb|mib|g|gb|gib)", re.IGNORECASE)
_UNITS = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}


def byte_size(text: str) -> int:
    """A size in bytes above 0: ``1000000``, ``64M``, ``64MiB``, ``512k`` (binary units).
    Raises ``argparse.ArgumentTypeError``."""
    m = _SIZE.fullmatch(text.strip())
    if m is None:
        raise argparse.ArgumentTypeError(f"not a size (bytes, or with K, M, G): {text!r}")
    value = int(m.group("n")) * _UNITS[m.group("unit")[:1].lower()]
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 byte or more, not {text}")
    return value


def require_built(dist: Path, command: str, *, builds: bool = False) -> None:
    """Check that ``dist`` holds a built graph (``twinning.trig`` or ``twinning.ttl``);
    the one answer ``kg query``, ``kg validate`` and ``kg serve --no-build`` give when it
    does not. ``builds``: the command builds a missing graph itself (``kg serve``), so
    there is nothing to check.

    Raises the stage's error (``QueryError``, ``ValidationError``, ``ServeError``) saying
    how to build it, and that ``kg serve`` builds it itself.
    """
    from kg import errors

    if builds or (dist / "twinning.trig").is_file() or (dist / "twinning.ttl").is_file():
        return
    error: type[KGError] = {
        "query": errors.QueryError, "validate": errors.ValidationError,
        "serve": errors.ServeError,
    }.get(command, KGError)
    raise error(f"no built graph in {dist} (run `kg build` first, or `kg serve`, which "
                "builds it; or name a graph file)")


def add_max_input_size(parser: argparse.ArgumentParser) -> None:
    """Add ``--max-input-size`` (applied by :func:`main` through
    :func:`kg.fsutil.set_max_input_size` before the command runs)."""
    from kg.fsutil import DEFAULT_MAX_INPUT_SIZE

    parser.add_argument(
        "--max-input-size", type=byte_size, default=DEFAULT_MAX_INPUT_SIZE, metavar="SIZE",
        help="refuse source documents and tables larger than this (bytes, or 64M, 1G; "
        f"default {DEFAULT_MAX_INPUT_SIZE // 1024**2}M)",
    )


def _lang_tag(text: str) -> str:
    from kg.sources.csvlist import set_names_lang

    try:
        set_names_lang(text)  # checks the shape; main() sets it again before the command
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    finally:
        set_names_lang(None)
    return text


def add_names_lang(parser: argparse.ArgumentParser) -> None:
    """Add ``--lang TAG``: the language of a CSV list's names where its ``lang_a``,
    ``lang_b`` or ``lang`` cells say nothing (applied by :func:`main` for the command's
    run, through :func:`kg.sources.csvlist.names_lang`)."""
    parser.add_argument(
        "--lang", type=_lang_tag, default=None, metavar="TAG",
        help="BCP 47 tag of the names in CSV lists (en, ja, zh-Hant…) where no lang_a, "
        "lang_b or lang column gives one (default: from each name's script)",
    )


_ROLE = re.compile(r":[a-z]+:`~?(?:[\w.]+\.)?([^`]+)`")
_LITERAL = re.compile(r"``(.+?)``")


def plain_text(text: str) -> str:
    """Help text without reST markup: ``x`` -> x, :class:`~a.b.C` -> C, :func:`f` -> f."""
    return _LITERAL.sub(r"\1", _ROLE.sub(r"\1", text))


_DEFAULT_OPEN = re.compile(r"\(default (?!:)")
_DEFAULT_LAST = re.compile(r"; default (?!:)([^();]*)\)")


def one_default_style(text: str) -> str:
    """Option help with its default in the one style ``(default: X)``: ``(default X)``
    and ``(…; default X)`` become ``(default: X)`` and ``(…) (default: X)``."""
    return _DEFAULT_LAST.sub(r") (default: \1)", _DEFAULT_OPEN.sub("(default: ", text))


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Every subcommand's help: descriptions as written (docstrings keep their lines),
    reST markup stripped, each option's default shown unless its help already says it
    or there is none worth showing (None, False, an empty list), always as
    ``(default: X)`` (:func:`one_default_style`)."""

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
        return one_default_style(plain_text(super()._expand_help(action)))


class _SubcommandParser(OneLineParser):
    # Subcommand modules pick their own formatter; all get HelpFormatter, so help looks
    # the same everywhere without touching each module.
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["formatter_class"] = HelpFormatter
        super().__init__(*args, **kwargs)


def build_parser() -> argparse.ArgumentParser:
    """The ``kg`` argument parser with every subcommand registered."""
    parser = OneLineParser(
        prog="kg",
        description="Twinned cities and city-network memberships as linked data.",
        epilog="Exit codes: 0 success, 1 data does not conform, 2 error, 130 interrupted.",
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(
        dest="command", metavar="COMMAND", parser_class=_SubcommandParser,
        title="commands", help="`kg COMMAND --help` for one command's options",
    )
    for name in SUBCOMMANDS:
        importlib.import_module(f"kg.cli.{name}").register(subparsers)
    return parser


def encode_safely(stream: TextIO) -> None:
    """The encoding policy for standard output and error: text goes out in the stream's
    own encoding (the locale's, or ``PYTHONIOENCODING``), and a character that encoding
    cannot hold is written as a backslash escape (``\\u4e2d``) instead of failing with
    ``UnicodeEncodeError``. UTF-8 streams are left as they are (they hold everything)."""
    encoding = (getattr(stream, "encoding", None) or "").lower().replace("_", "-")
    if encoding in ("utf-8", "utf8") or not hasattr(stream, "reconfigure"):
        return
    # A closed or detached stream cannot be reconfigured: nothing will be written to it.
    with contextlib.suppress(ValueError, OSError, io.UnsupportedOperation):
        stream.reconfigure(errors="backslashreplace")


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``kg``; returns the exit code (the console script exits with it).

    Ctrl-C is handled until the process exits (:mod:`kg.interrupt`): before a command's
    point of no return it stops the command (exit 130), after it the command finishes and
    reports its outcome; called as the program (``argv`` None), SIGINT is then ignored
    while the interpreter shuts down. Standard output and error follow
    :func:`encode_safely`."""
    from kg import interrupt

    previous = interrupt.install()
    try:
        return _main(argv)
    except KeyboardInterrupt:  # outside the command: parsing options, printing a message
        interrupt.hold()
        print("kg: interrupted", file=sys.stderr)
        return 130
    finally:
        if argv is None:
            interrupt.finish()
        else:
            interrupt.restore(previous)


def _main(argv: Sequence[str] | None) -> int:
    from kg import interrupt

    for stream in (sys.stdout, sys.stderr):
        encode_safely(stream)
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        # A bad option (one line already printed), --help or --version: an exit code,
        # returned like every other outcome.
        return exc.code if isinstance(exc.code, int) else 2
    if args.command is None:
        # Bare `kg`: the commands, not "the following arguments are required" (exit 2: no
        # command ran, as for any usage error).
        parser.print_help()
        return 2
    from kg.fsutil import DEFAULT_MAX_INPUT_SIZE, set_max_input_size

    set_max_input_size(getattr(args, "max_input_size", None) or DEFAULT_MAX_INPUT_SIZE)
    from kg.sources.csvlist import names_lang

    try:
        with names_lang(getattr(args, "lang", None)):
            code: int = args.func(args)
        interrupt.hold()
    except KGError as exc:
        interrupt.hold()
        # One line whatever the message holds (a server's multi-line log, a backtrace).
        print(f"kg {args.command}: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt as exc:
        interrupt.hold()
        # A command may say what the interruption left behind (KeyboardInterrupt("...")).
        what = f": {' '.join(str(exc).split())}" if str(exc) else ""
        print(f"kg {args.command}: interrupted{what}", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `kg parse ... | head` closes the pipe early: not an error worth a traceback.
        sys.stderr.close()
        return 0
    if interrupt.held():
        print(f"kg {args.command}: Ctrl-C came after the command had made its change; it "
              "is complete", file=sys.stderr)
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
