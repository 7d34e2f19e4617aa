"""Source documents -> typed records, through a registry of source plug-ins.

Entry point: :func:`parse_path`. It reads a file (refusing missing files, anything but a
regular file, files over the size limit, empty files and non-UTF-8 bytes with a
:class:`~kg.errors.SourceError`), detects its kind (or
takes the one given), and runs that kind's parser, which returns a
:class:`~kg.model.ParseResult`: records plus rejections and warnings, each with its line,
and the count of data rows they account for.

A **source plug-in** is any object (a module will do) with

- ``parse(text: str, file: str) -> ParseResult``: the records of a document;
- ``looks_like(text: str) -> bool``: true when the text is a document of this kind;
- optionally ``TITLES``: ``((text, BCP 47 tag), ...)``, the document's titles, used when
  the parse result carries none;
- optionally ``near_miss(text: str) -> str | None``: why a text that is almost of this
  kind is not (a CSV header without ``city_b``), said by format detection instead of
  "cannot tell the document format".

Plug-ins are registered as Python entry points in the group ``twinning_kg.sources``
(:data:`ENTRY_POINT_GROUP`); the entry point's name is the kind (``kg parse --source``).
The built-in kinds (``lhc``, ``zhwiki``, ``csv``) are registered there too, and are also
known without any installed metadata (running from a checkout). So a third list format
is a package of its own that declares, in its ``pyproject.toml``::

    [project.entry-points."twinning_kg.sources"]
    mylist = "my_package.mylist"
"""

from __future__ import annotations

import dataclasses
import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from kg.errors import SourceError
from kg.fsutil import check_line_lengths, read_input
from kg.model import ParseResult

__all__ = [
    "BUILTIN",
    "ENTRY_POINT_GROUP",
    "SourceKind",
    "check_text",
    "detect_format",
    "kinds",
    "parse_path",
    "parse_text",
]

#: The entry point group source plug-ins register under.
ENTRY_POINT_GROUP = "twinning_kg.sources"

#: Built-in kinds and their modules (also declared as entry points in pyproject.toml).
BUILTIN: dict[str, str] = {
    "lhc": "kg.sources.lhc",
    "zhwiki": "kg.sources.zhwiki",
    "csv": "kg.sources.csvlist",
}

#: Titles of the built-in documents, by kind (their parsers predate ``TITLES``).
_BUILTIN_TITLES: dict[str, tuple[tuple[str, str], ...]] = {
    "lhc": (
        ("League of Historical Cities: member cities (as of December 2025)", "en"),
        ("世界歴史都市連盟 加盟都市一覧（令和7年12月現在）", "ja"),
    ),
    "zhwiki": (
        ("List of sister cities of the People's Republic of China (zh.wikipedia)", "en"),
        ("中華人民共和國友好城市列表", "zh-Hant"),
    ),
}


@dataclass(frozen=True)
class SourceKind:
    """A registered source plug-in: its kind name and what it provides."""

    name: str
    parse: Callable[[str, str], ParseResult]
    looks_like: Callable[[str], bool]
    titles: tuple[tuple[str, str], ...] = ()
    near_miss: Callable[[str], str | None] | None = None


def _kind(name: str, plugin: Any) -> SourceKind:
    parse = getattr(plugin, "parse", None)
    looks_like = getattr(plugin, "looks_like", None)
    if not callable(parse) or not callable(looks_like):
        raise SourceError(
            f"source plug-in {name!r} ({plugin!r}) lacks parse(text, file) or looks_like(text)"
        )
    titles = tuple(getattr(plugin, "TITLES", ())) or _BUILTIN_TITLES.get(name, ())
    near_miss = getattr(plugin, "near_miss", None)
    return SourceKind(name, parse, looks_like, titles,
                      near_miss if callable(near_miss) else None)


@cache
def kinds() -> dict[str, SourceKind]:
    """Every registered source kind by name: the built-ins, then the entry points of
    :data:`ENTRY_POINT_GROUP` (an installed plug-in of a built-in's name replaces it).

    Raises :class:`SourceError` for a plug-in that cannot be loaded or lacks the interface.
    """
    found: dict[str, SourceKind] = {
        name: _kind(name, importlib.import_module(module)) for name, module in BUILTIN.items()
    }
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in BUILTIN and ep.value == BUILTIN[ep.name]:
            continue
        try:
            plugin = ep.load()
        except Exception as exc:  # a broken third-party plug-in: one line, not a traceback
            raise SourceError(
                f"cannot load source plug-in {ep.name!r} ({ep.value}): {exc}"
            ) from None
        found[ep.name] = _kind(ep.name, plugin)
    return found


def detect_format(text: str, file: str) -> str:
    """The kind whose plug-in recognises ``text``.

    Raises :class:`SourceError` if no kind, or more than one, recognises it; when none does
    but a kind says why the text almost is one of its documents (``near_miss``), that
    reason is the message.
    """
    registry = kinds()
    found = [name for name, kind in registry.items() if kind.looks_like(text)]
    if not found:
        for name, kind in registry.items():
            reason = kind.near_miss(text) if kind.near_miss is not None else None
            if reason:
                raise SourceError(f"not a {name} document: {reason}", path=file)
    if len(found) != 1:
        what = "neither" if not found else "more than one"
        raise SourceError(
            f"cannot tell the document format ({what} of: {', '.join(registry)}); "
            "pass --source to name it",
            path=file,
        )
    return found[0]


# Control characters: C0 but TAB, LF and CR, then DEL and C1. No list format uses them, a
# parser would pass them into names (a NUL became U+FFFD in labels without a word), and
# the zhwiki parser uses NUL and SOH as its own markers.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_CONTROL_NAMES = {0x00: "NUL", 0x1B: "ESC", 0x7F: "DEL"}


def check_text(text: str, file: str) -> None:
    """Raise :class:`SourceError` (``file:line``, with the column and the character's code)
    for the first control character in ``text`` other than TAB, LF and CR: documents are
    text, and such a character is damage (a NUL byte, an escape sequence), not a name."""
    found = _CONTROL.search(text)
    if found is None:
        return
    start = found.start()
    line = text.count("\n", 0, start) + 1
    column = start - (text.rfind("\n", 0, start) + 1) + 1
    code = ord(found.group())
    name = f" ({_CONTROL_NAMES[code]})" if code in _CONTROL_NAMES else ""
    raise SourceError(
        f"control character U+{code:04X}{name} at column {column}: a document is text; "
        "remove it (a damaged file?)", path=file, line=line)


def parse_text(text: str, file: str, *, source: str | None = None) -> ParseResult:
    """Parse a document already read; ``source`` names its kind, else it is detected.

    The result carries the kind and, when its parser gave none, the plug-in's titles.
    Raises :class:`SourceError` for an empty document, a control character (see
    :func:`check_text`) or an unknown kind.
    """
    check_text(text, file)
    check_line_lengths(text.split("\n"), SourceError, "document", file)
    if not text.strip():
        raise SourceError("document is empty", path=file)
    name = source if source is not None else detect_format(text, file)
    registry = kinds()
    if name not in registry:
        raise SourceError(
            f"unknown source format {name!r} (known: {', '.join(registry)})", path=file
        )
    kind = registry[name]
    result = kind.parse(text, file)
    return dataclasses.replace(result, kind=name, titles=result.titles or kind.titles)


def parse_path(path: Path, *, source: str | None = None) -> ParseResult:
    """Read and parse one document.

    Records carry the file's name (not its folder) so that output does not depend on where
    the checkout lives. Raises :class:`SourceError` for a missing file, anything but a
    regular file (a folder, FIFO or device is refused before any read), a file over the
    input size limit (:func:`kg.fsutil.set_max_input_size`), an unreadable or non-UTF-8
    file, an empty document, or an unrecognised format.
    """
    data = read_input(path, SourceError, "document", missing="no such file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise SourceError(
            f"not UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})", path=path, line=line
        ) from None
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        return parse_text(text, path.name, source=source)
    except SourceError as exc:
        # Report the path the user gave, not just the file name the parser saw.
        raise SourceError(exc.message, path=path, line=exc.line) from None
