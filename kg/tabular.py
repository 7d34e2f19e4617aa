"""Tables for spreadsheets: the one rule against formula injection, and the CSV and TSV
writers that apply it.

A spreadsheet opening a CSV or TSV file runs a cell that starts with ``=``, ``+``, ``-``
or ``@`` (or a tab or carriage return before them) as a formula; place names come from
documents and services we do not control (``=2+2``, ``@SUM(A1:A9)``, ``+cmd|' /C
calc'!A0``). :func:`spreadsheet_safe` puts a ``'`` before such a cell, as OWASP advises,
unless the whole cell is a negative decimal number (``-2``, ``-3.75``: a spreadsheet reads
it back as that number, not a formula). Every CSV or TSV that ``kg`` writes goes through here:
``kg parse --format tsv``, ``kg query --format csv/tsv`` (SPARQL results, local or from an
endpoint, escaped in their values), ``kg wikidata diff --format csv`` and the review CSV.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence

__all__ = ["csv_text", "safe_sparql_csv", "safe_sparql_tsv", "spreadsheet_safe", "tsv_cell"]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# A negative decimal number: a spreadsheet reads it back as itself, so it is left alone
# (coordinates, scores). "+1" or "-1e3" would come back changed ("1", "-1000"): quoted.
_NUMBER = re.compile(r"-[0-9]+(?:\.[0-9]+)?")


def spreadsheet_safe(text: str) -> str:
    """``text`` with a leading ``'`` if a spreadsheet would run it as a formula (it starts
    with ``= + - @``, a tab or a CR and is not a negative decimal number); else ``text``."""
    if text[:1] in _FORMULA_START and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


def tsv_cell(value: str) -> str:
    """One cell of a plain TSV (no quoting): tabs and line breaks become spaces, so the
    row stays one line of the right width, then :func:`spreadsheet_safe`."""
    flat = value.replace("\t", " ").replace("\r", " ").replace("\n", " ")
    return spreadsheet_safe(flat)


def csv_text(header: Sequence[str], rows: Iterable[Sequence[str]], *,
             lineterminator: str = "\n") -> str:
    """A CSV (RFC 4180 quoting) of ``header`` and ``rows``, every cell of ``rows`` through
    :func:`spreadsheet_safe` (the header is ours, not data)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=lineterminator)
    writer.writerow(header)
    writer.writerows([spreadsheet_safe(cell) for cell in row] for row in rows)
    return out.getvalue()


def safe_sparql_csv(text: str) -> str:
    """SPARQL 1.1 CSV results (header, then rows; CRLF line ends as the format says) with
    every value through :func:`spreadsheet_safe`. Raises ``csv.Error`` for text that is
    not CSV."""
    rows = list(csv.reader(io.StringIO(text, newline="")))
    if not rows:
        return text
    return csv_text(rows[0], rows[1:], lineterminator="\r\n")


# A literal in SPARQL TSV: its quoted, escaped lexical form, then a tag or datatype.
_TSV_LITERAL = re.compile(r'"((?:[^"\\]|\\.)*)"(.*)', re.S)


def _tsv_term(cell: str) -> str:
    match = _TSV_LITERAL.fullmatch(cell)
    if match is None:
        return cell  # an IRI <...>, a blank node _:x, a bare number, nothing
    content, rest = match.groups()
    # \t and \r escapes are a tab and a CR at the start of the value
    starts = content[:1] in ("=", "+", "-", "@") or content[:2] in ("\\t", "\\r")
    if starts and not _NUMBER.fullmatch(content):
        return f"\"'{content}\"{rest}"
    return cell


def safe_sparql_tsv(text: str) -> str:
    """SPARQL 1.1 TSV results (terms in their Turtle form, one row a line) with every
    literal's value through :func:`spreadsheet_safe` (``"=2+2"`` -> ``"'=2+2"``)."""
    lines = text.split("\n")
    body = ["\t".join(_tsv_term(cell) for cell in line.split("\t")) for line in lines[1:]]
    return "\n".join(lines[:1] + body)
