"""The links table ``seeds/wikidata-links.tsv``: read, look up, write (sorted, atomically).

The table is the contract between reconciliation and everything after it: ``kg build``
reads it and needs neither the gazetteer nor the network.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import get_args

from kg.errors import LinksError
from kg.fsutil import atomic_write_text, read_lines
from kg.model import DOCS, LINK_COLUMNS, LinkRow, ParseResult, Role, is_doc_id

__all__ = [
    "COORD_COLUMNS",
    "QID_RE",
    "LinksTable",
    "degrees_problem",
    "missing_rows",
    "qid_problem",
    "read_links",
    "write_links",
]

#: A Wikidata item id. Wikidata has issued ids of up to 9 digits; more than 10 is a typo or
#: garbage, not a future item.
QID_RE = re.compile(r"Q[1-9][0-9]{0,9}")
_QID_SHAPE = re.compile(r"Q[1-9][0-9]*")
_ROLES = set(get_args(Role))
_STATUSES = {"resolved", "ambiguous", "unresolved"}


class LinksTable:
    """The rows of a links table, indexed by place reference ``(doc, role, key, country)``."""

    def __init__(self, rows: Iterable[LinkRow]) -> None:
        self.rows: tuple[LinkRow, ...] = tuple(sorted(rows, key=lambda r: r.ref))
        self._index = {row.ref: row for row in self.rows}

    def __iter__(self) -> Iterator[LinkRow]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def get(self, doc: str, role: str, key: str, country: str = "") -> LinkRow | None:
        """The row for a place reference, or ``None`` if the table has none."""
        return self._index.get((doc, role, key, country))


def qid_problem(value: str) -> str | None:
    """Why ``value`` is not a QID (``Q`` and 1 to 10 digits, no leading 0), or None."""
    if QID_RE.fullmatch(value):
        return None
    shown = repr(value if len(value) <= 24 else value[:20] + "…")
    if _QID_SHAPE.fullmatch(value):
        return f"QID {shown} has {len(value) - 1} digits: longer than any Wikidata has issued"
    return f"{shown} is not a QID (expected Q<digits>)"


def _check(row: LinkRow, path: Path, line: int) -> None:
    if not is_doc_id(row.doc):
        raise LinksError(f"malformed doc id {row.doc!r} (expected e.g. {DOCS})", path=path,
                         line=line)
    if row.role not in _ROLES:
        raise LinksError(f"unknown role {row.role!r}", path=path, line=line)
    if row.status not in _STATUSES:
        raise LinksError(f"unknown status {row.status!r}", path=path, line=line)
    for name in ("qid", "country_qid"):
        value = getattr(row, name)
        problem = qid_problem(value) if value else None
        if problem:
            raise LinksError(f"malformed {name}: {problem}", path=path, line=line)
    if (row.status == "resolved") != bool(row.qid):
        raise LinksError(
            f"status {row.status!r} does not agree with qid {row.qid!r}", path=path, line=line
        )
    if row.qid and not row.evidence:
        raise LinksError(f"QID {row.qid} has no evidence", path=path, line=line)


#: The coordinate columns, last in the header (older tables end before them).
COORD_COLUMNS = ("lat", "lon", "coord_evidence")
_DEGREES = re.compile(r"-?[0-9]{1,3}(\.[0-9]+)?")


def _check_coordinates(row: LinkRow, path: Path, line: int) -> None:
    """Coordinates are both or neither, in range, on a resolved row, with their evidence."""
    if not (row.lat or row.lon or row.coord_evidence):
        return
    if not (row.lat and row.lon and row.coord_evidence and row.qid):
        raise LinksError("coordinates need lat, lon, coord_evidence and a qid", path=path,
                         line=line)
    for name, value, bound in (("lat", row.lat, 90.0), ("lon", row.lon, 180.0)):
        problem = degrees_problem(name, value, bound)
        if problem:
            raise LinksError(problem, path=path, line=line)


def degrees_problem(name: str, value: str, bound: float) -> str | None:
    """Why ``value`` is not decimal degrees within ±``bound`` (the coordinate ``name``), or
    None."""
    if _DEGREES.fullmatch(value) and abs(float(value)) <= bound:
        return None
    return f"malformed {name} {value!r} (decimal degrees within ±{bound:g})"


def read_links(path: Path) -> LinksTable:
    """Read and check a links table.

    Raises :class:`LinksError` (with file:line) for a missing file, anything but a regular
    file or one over the input size limit (:func:`kg.fsutil.read_input`), a wrong header, a
    table with no rows (an empty table would leave every place unresolved without a
    word), a row with the wrong number of cells, a malformed QID or one of more than 10
    digits, a QID without evidence, malformed or out-of-range coordinates or coordinates
    without evidence, or a duplicated place reference. A table without the coordinate
    columns (the older header) is read with empty coordinates.
    """
    lines = read_lines(path, LinksError, "links table", " (run `kg reconcile`)")
    header = tuple(lines[0].split("\t")) if lines else ()
    # A table written before the coordinate columns existed reads with empty coordinates.
    if header not in (LINK_COLUMNS, LINK_COLUMNS[:-len(COORD_COLUMNS)]):
        raise LinksError(f"header must be: {' '.join(LINK_COLUMNS)}", path=path, line=1)
    rows: list[LinkRow] = []
    seen: dict[tuple[str, str, str, str], int] = {}
    for number, line in enumerate(lines[1:], start=2):
        cells = line.split("\t")
        if len(cells) != len(header):
            raise LinksError(
                f"expected {len(header)} cells, found {len(cells)}", path=path, line=number
            )
        row = LinkRow(**dict(zip(header, cells, strict=True)))  # type: ignore[arg-type]
        _check(row, path, number)
        _check_coordinates(row, path, number)
        if row.ref in seen:
            raise LinksError(
                f"duplicate place reference {row.ref} (first on line {seen[row.ref]})",
                path=path,
                line=number,
            )
        seen[row.ref] = number
        rows.append(row)
    if not rows:
        raise LinksError(
            "the links table has a header but no rows: run `kg reconcile` to fill it",
            path=path,
            line=1,
        )
    return LinksTable(rows)


def missing_rows(
    results: Iterable[ParseResult], table: LinksTable
) -> list[tuple[str, str, str, str]]:
    """The place references ``(doc, role, key, country)`` of the parsed documents that have
    no row in ``table``, in first-seen order: places a build leaves unresolved because the
    table does not know them (a deleted row, a table older than the documents)."""
    from kg.reconcile import collect_refs  # the one definition of a place reference

    refs = [(r.doc, r.role, r.key, r.country) for r in collect_refs(results)]
    return [ref for ref in refs if table.get(*ref) is None]


def _cell(value: str) -> str:
    # The format has no quoting: a TAB or newline inside a value would break the table.
    return value.replace("\t", " ").replace("\r", " ").replace("\n", " ")


def write_links(rows: Iterable[LinkRow], path: Path) -> None:
    """Write rows sorted by place reference, atomically (a temporary file then rename,
    :func:`~kg.fsutil.atomic_write_bytes`). Raises :class:`LinksError` (one line) if the
    table cannot be written; it is then unchanged."""
    table = LinksTable(rows)
    lines = ["\t".join(LINK_COLUMNS)]
    lines += ["\t".join(_cell(getattr(row, col)) for col in LINK_COLUMNS) for row in table]
    atomic_write_text(path, "\n".join(lines) + "\n", error=LinksError, what="the links table")
