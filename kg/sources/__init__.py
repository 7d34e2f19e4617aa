"""Source documents -> typed records: one parser per document format.

Entry point: :func:`parse_path`. It reads a file (refusing missing files, anything but a
regular file, files over the size limit, empty files and non-UTF-8 bytes with a
:class:`~kg.errors.SourceError`), detects its format (or takes the one given), and runs
the format's parser, which returns a :class:`~kg.model.ParseResult`: records plus
rejections and warnings, each with its line, and the count of data rows they account for.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from kg.errors import SourceError
from kg.fsutil import read_input
from kg.model import DocId, ParseResult
from kg.sources import lhc, zhwiki

__all__ = ["PARSERS", "detect_format", "parse_path", "parse_text"]

#: Parsers by document id; each takes (text, file name) and returns a ParseResult.
PARSERS: dict[DocId, Callable[[str, str], ParseResult]] = {
    "lhc": lhc.parse,
    "zhwiki": zhwiki.parse,
}

#: Format sniffers by document id: true when the text looks like that format.
_SNIFFERS: dict[DocId, Callable[[str], bool]] = {
    "lhc": lhc.looks_like,
    "zhwiki": zhwiki.looks_like,
}


def detect_format(text: str, file: str) -> DocId:
    """The document id whose parser recognises ``text``.

    Raises :class:`SourceError` if no format, or more than one, recognises it.
    """
    found = [doc for doc, sniff in _SNIFFERS.items() if sniff(text)]
    if len(found) != 1:
        what = "neither" if not found else "more than one"
        raise SourceError(
            f"cannot tell the document format ({what} of: {', '.join(PARSERS)}); "
            "pass --source to name it",
            path=file,
        )
    return found[0]


def parse_text(text: str, file: str, *, source: DocId | None = None) -> ParseResult:
    """Parse a document already read; ``source`` names the format, else it is detected."""
    if not text.strip():
        raise SourceError("document is empty", path=file)
    doc = source if source is not None else detect_format(text, file)
    if doc not in PARSERS:
        raise SourceError(f"unknown source format {doc!r}", path=file)
    return PARSERS[doc](text, file)


def parse_path(path: Path, *, source: DocId | None = None) -> ParseResult:
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
