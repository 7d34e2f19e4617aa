"""The ODbL coordinates table: dr5hn coordinates for resolved places the links table has none for.

The dr5hn files of the gazetteer (Countries States Cities Database) carry coordinates for
states, provinces, US counties and countries, which Natural Earth and Who's On First often
lack; but they are under the Open Database License (ODbL 1.0, share-alike), and the links
table and the graph built from it are CC BY-SA 4.0. So their coordinates live apart, in a
table of their own (``seeds/geo-odbl.tsv``, ODbL like its source), from which ``kg build``
makes a dataset of its own (:mod:`kg.rdf.odbl`).

The rule is the links table's (:mod:`kg.reconcile.coordinates`): a place gets the
coordinates of a record that carries **its own QID** (never a name match's, a parent's or
a neighbour's), precedence ``dr5hn_states.tsv``, ``dr5hn_us_counties.tsv``,
``dr5hn_countries.tsv``, ties by line, with ``file:line QID name`` as evidence. Only QIDs
the links table resolves and gives no coordinates (from Natural Earth, WOF or Wikidata)
get a row: data under the more open licences always wins.

Table: UTF-8, LF, tab-separated, header ``qid lat lon coord_evidence``, one row per QID,
rows in numeric QID order (so a refill is byte-identical and a ``git diff`` shows changes).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from kg import paths
from kg.errors import LinksError
from kg.fsutil import atomic_write_text, read_lines
from kg.model import LinkRow
from kg.reconcile.coordinates import CoordRecord, load_coordinates
from kg.reconcile.links import degrees_problem, qid_problem

__all__ = [
    "ODBL_COLUMNS",
    "ODBL_FILES",
    "ODBL_TSV",
    "OdblCoordinate",
    "load_odbl_records",
    "odbl_coordinates",
    "read_odbl_table",
    "write_odbl_table",
]

#: The ODbL gazetteer files with coordinates, in order of precedence, with their name column.
ODBL_FILES: tuple[tuple[str, str], ...] = (
    ("dr5hn_states.tsv", "name"),
    ("dr5hn_us_counties.tsv", "name"),
    ("dr5hn_countries.tsv", "name"),
)
#: The committed table (ODbL 1.0, attribution in seeds/README.md).
ODBL_TSV = paths.ODBL_COORDINATES_TSV
ODBL_COLUMNS = ("qid", "lat", "lon", "coord_evidence")



@dataclass(frozen=True, slots=True)
class OdblCoordinate:
    """One row: the coordinates (the record's own text) of a QID and the record giving them."""

    qid: str
    lat: str
    lon: str
    coord_evidence: str

    @property
    def source_file(self) -> str:
        """The gazetteer file named by the evidence (``dr5hn_states.tsv``)."""
        return self.coord_evidence.split(":", 1)[0]


def load_odbl_records(directory: Path) -> dict[str, CoordRecord]:
    """The best dr5hn record with coordinates of every QID (see the module docstring).

    Raises :class:`~kg.errors.GazetteerError` as
    :func:`~kg.reconcile.coordinates.load_coordinates` does.
    """
    return load_coordinates(directory, ODBL_FILES)


def odbl_coordinates(rows: Iterable[LinkRow],
                     records: Mapping[str, CoordRecord]) -> list[OdblCoordinate]:
    """One row per QID that ``rows`` (the links table) resolve without giving it coordinates
    and that ``records`` (:func:`load_odbl_records`) have, in numeric QID order."""
    rows = list(rows)
    placed = {row.qid for row in rows if row.qid and row.lat}
    wanted = {row.qid for row in rows if row.qid} - placed
    out = []
    for qid in sorted(wanted & records.keys(), key=lambda q: int(q[1:])):
        rec = records[qid]
        out.append(OdblCoordinate(qid, rec.lat, rec.lon, rec.evidence))
    return out


def read_odbl_table(path: Path) -> list[OdblCoordinate]:
    """The rows of the table at ``path``.

    Raises :class:`~kg.errors.LinksError` with ``file:line`` for a missing or unreadable
    file, a wrong header, a row with the wrong number of cells, a malformed QID, latitude
    or longitude (or one out of range), an empty evidence, or a QID given twice.
    """
    lines = read_lines(path, LinksError, "ODbL coordinates table",
                       " (`kg reconcile --odbl-coordinates-only` writes it)")
    if not lines or tuple(lines[0].split("\t")) != ODBL_COLUMNS:
        raise LinksError(f"the header must be {' '.join(ODBL_COLUMNS)} (tab-separated)",
                         path=path, line=1)
    out: list[OdblCoordinate] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(lines[1:], start=2):
        cells = line.split("\t")
        if len(cells) != len(ODBL_COLUMNS):
            raise LinksError(f"expected {len(ODBL_COLUMNS)} cells, found {len(cells)}",
                             path=path, line=number)
        row = OdblCoordinate(*cells)
        # The links table's own checks (kg.reconcile.links): one rule for a QID and degrees.
        problem = qid_problem(row.qid)
        if problem:
            raise LinksError(f"malformed qid: {problem}", path=path, line=number)
        problem = (degrees_problem("lat", row.lat, 90.0)
                   or degrees_problem("lon", row.lon, 180.0))
        if problem:
            raise LinksError(problem, path=path, line=number)
        if not row.coord_evidence.strip():
            raise LinksError("coordinates need coord_evidence", path=path, line=number)
        if row.qid in seen:
            raise LinksError(f"{row.qid} is given twice (first on line {seen[row.qid]})",
                             path=path, line=number)
        seen[row.qid] = number
        out.append(row)
    return out


def write_odbl_table(rows: Iterable[OdblCoordinate], path: Path) -> None:
    """Write ``rows`` in numeric QID order, atomically (a temporary file, then a rename).

    Raises :class:`~kg.errors.LinksError` (naming ``path``) if it cannot be written;
    ``path`` is then unchanged.
    """
    ordered = sorted(rows, key=lambda r: int(r.qid[1:]))
    lines = ["\t".join(ODBL_COLUMNS)]
    lines += ["\t".join((r.qid, r.lat, r.lon, r.coord_evidence)) for r in ordered]
    atomic_write_text(path, "\n".join(lines) + "\n", error=LinksError,
                      what="the ODbL coordinates table")
