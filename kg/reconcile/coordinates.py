"""Coordinates for resolved places, each from a record that carries the place's own QID.

The gazetteer files with ``lat``/``lon`` (Natural Earth, Who's On First, dr5hn; the
gf_wikidata files have none) are read into an index QID -> records. A place gets the
coordinates of the best record of its QID, never of a neighbour, a parent or a name match:

1. ``naturalearth_populated_places.tsv`` (a point chosen for the map; public domain),
2. ``wof_places.tsv``: current records first, then by place type (locality before region…),

ties broken by line number. Only then, and only online, Wikidata's P625 of the same item.
The evidence is ``file:line QID name`` (or the Wikidata answer), kept in the links table's
``coord_evidence`` column beside ``lat`` and ``lon``; the numbers are the record's own text.
The dr5hn files (``dr5hn_states.tsv``, ``dr5hn_us_counties.tsv``, ``dr5hn_countries.tsv``)
are read by the same :func:`load_coordinates`, but under ODbL their coordinates fill a
table of their own for what is left (:mod:`kg.reconcile.odbl_coordinates`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from kg.errors import GazetteerError
from kg.fsutil import read_lines
from kg.model import LinkRow

__all__ = [
    "COORD_FILES",
    "CoordRecord",
    "OnlineCoordinates",
    "add_coordinates",
    "format_degrees",
    "load_coordinates",
]

#: The files that carry coordinates, in order of precedence, with the columns read:
#: (QID column, name column, and for WOF the status and place type columns). The dr5hn
#: files have coordinates too, but they are ODbL (share-alike, "keep apart from
#: differently licensed data", gazetteer README) and the dataset is CC BY-SA 4.0: the links
#: table takes only their QIDs (CC0) and match evidence; their coordinates go into a table
#: and a dataset of their own (:mod:`kg.reconcile.odbl_coordinates`, :mod:`kg.rdf.odbl`).
COORD_FILES: tuple[tuple[str, str], ...] = (
    ("naturalearth_populated_places.tsv", "name_en"),
    ("wof_places.tsv", "name_eng"),
)

# WOF keeps several records per QID (a locality and its localadmin, a deprecated record and
# its successor): prefer the current one, and the place type that is a point-like place.
_WOF_STATUS = ("current", "unknown", "not_current", "superseded", "deprecated")
_WOF_TYPES = ("locality", "localadmin", "borough", "county", "region", "macroregion",
              "country", "dependency", "macrohood", "neighbourhood", "microhood", "campus")

#: Online fallback: QIDs -> {QID: (lat, lon, evidence)} (see OnlineResolver.coordinates).
OnlineCoordinates = Callable[[Sequence[str]], Mapping[str, tuple[float, float, str]]]


@dataclass(frozen=True, slots=True)
class CoordRecord:
    """One gazetteer record with coordinates: the text of its ``lat``/``lon`` cells and where
    it is (``file:line``). ``rank`` orders the records of one QID, best first."""

    qid: str
    lat: str
    lon: str
    file: str
    line: int
    name: str
    rank: tuple[int, int, int, int]

    @property
    def evidence(self) -> str:
        """``file:line QID name``, the form of the links table's evidence columns."""
        return " ".join(f"{self.file}:{self.line} {self.qid} {self.name}".split())


def format_degrees(value: float) -> str:
    """Decimal degrees as the gazetteer writes them: at most 6 decimals, no trailing zeros.

    >>> format_degrees(39.9), format_degrees(116.383333333), format_degrees(-0.0)
    ('39.9', '116.383333', '0')
    """
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _valid(lat: str, lon: str) -> bool:
    try:
        return abs(float(lat)) <= 90 and abs(float(lon)) <= 180
    except ValueError:
        return False


def load_coordinates(directory: Path,
                     files: Sequence[tuple[str, str]] = COORD_FILES) -> dict[str, CoordRecord]:
    """The best coordinate record of every QID the gazetteer ``files`` (name, name column;
    default :data:`COORD_FILES`, in order of precedence) give coordinates for.

    Records with an empty or out-of-range ``lat``/``lon`` are skipped. Raises
    :class:`~kg.errors.GazetteerError` (with ``file:line``) for a missing file, a header
    without ``qid``, ``lat`` or ``lon``, or a row with the wrong number of cells.
    """
    best: dict[str, CoordRecord] = {}
    for order, (name, name_col) in enumerate(files):
        path = Path(directory) / name
        lines = read_lines(path, GazetteerError, "gazetteer file")
        columns = lines[0].split("\t") if lines else []
        missing = [c for c in ("qid", "lat", "lon", name_col) if c not in columns]
        if missing:
            raise GazetteerError(f"header lacks {' '.join(missing)}", path=path, line=1)
        for number, line in enumerate(lines[1:], start=2):
            cells = line.split("\t")
            if len(cells) != len(columns):
                raise GazetteerError(f"expected {len(columns)} cells, found {len(cells)}",
                                     path=path, line=number)
            row = dict(zip(columns, cells, strict=True))
            if not _valid(row["lat"], row["lon"]):
                continue
            status, ptype = row.get("status", ""), row.get("placetype", "")
            rank = (order,
                    _WOF_STATUS.index(status) if status in _WOF_STATUS else len(_WOF_STATUS),
                    _WOF_TYPES.index(ptype) if ptype in _WOF_TYPES else len(_WOF_TYPES),
                    number)
            record = CoordRecord(row["qid"], row["lat"], row["lon"], name, number,
                                 row[name_col], rank)
            old = best.get(record.qid)
            if old is None or record.rank < old.rank:
                best[record.qid] = record
    return best


def add_coordinates(rows: Iterable[LinkRow], records: Mapping[str, CoordRecord],
                    online: OnlineCoordinates | None = None) -> list[LinkRow]:
    """``rows`` with ``lat``, ``lon`` and ``coord_evidence`` set for every resolved row.

    A gazetteer record of the row's QID wins; else, with ``online``, Wikidata's P625 of the
    same item; else a row keeps coordinates an earlier online answer gave (evidence
    ``wikidata …``), and has none otherwise. Unresolved rows have none. No other
    column changes. Raises what ``online`` raises (a :class:`~kg.errors.WikidataError`).
    """
    rows = list(rows)
    missing = sorted({r.qid for r in rows if r.qid and r.qid not in records and not r.lat},
                     key=lambda q: int(q[1:]))
    answers = online(missing) if online is not None and missing else {}
    out: list[LinkRow] = []
    for row in rows:
        if not row.qid:
            out.append(replace(row, lat="", lon="", coord_evidence=""))
        elif row.qid in records:
            rec = records[row.qid]
            out.append(replace(row, lat=rec.lat, lon=rec.lon, coord_evidence=rec.evidence))
        elif row.qid in answers:
            lat, lon, evidence = answers[row.qid]
            out.append(replace(row, lat=format_degrees(lat), lon=format_degrees(lon),
                               coord_evidence=evidence))
        elif row.coord_evidence.startswith("wikidata "):
            out.append(row)  # an earlier online answer for this QID: the gazetteer has none
        else:
            out.append(replace(row, lat="", lon="", coord_evidence=""))
    return out
