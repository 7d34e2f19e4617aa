"""Parser stub: replaced by the real zhwiki parser."""

from __future__ import annotations

from kg.model import ParseResult

__all__ = ["looks_like", "parse"]


def looks_like(text: str) -> bool:
    """True when ``text`` looks like this format."""
    return False


def parse(text: str, file: str) -> ParseResult:
    """Parse the document."""
    return ParseResult(doc="zhwiki", file=file, records=())
