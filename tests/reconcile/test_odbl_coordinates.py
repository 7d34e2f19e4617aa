"""The ODbL coordinates table (seeds/geo-odbl.tsv): each row the dr5hn record of the row's own
QID, only for resolved places the links table leaves without coordinates; the reader's
checks; ``kg reconcile --odbl-coordinates-only`` refills it byte for byte."""

from __future__ import annotations

import functools
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from kg import paths
from kg.errors import LinksError
from kg.model import LinkRow
from kg.reconcile.coordinates import CoordRecord
from kg.reconcile.links import read_links
from kg.reconcile.odbl_coordinates import (
    ODBL_COLUMNS,
    ODBL_FILES,
    ODBL_TSV,
    OdblCoordinate,
    load_odbl_records,
    odbl_coordinates,
    read_odbl_table,
    write_odbl_table,
)

GAZ = paths.GAZETTEER_DIR
needs_gazetteer = pytest.mark.skipif(not (GAZ / ODBL_FILES[0][0]).is_file(),
                                     reason="the shared gazetteer is not here")


@functools.cache
def _lines(name: str) -> list[str]:
    return (GAZ / name).read_text(encoding="utf-8").splitlines()


def _record(where: str) -> dict[str, str]:
    """The cells of the gazetteer record ``file:line``."""
    name, _, line = where.partition(":")
    lines = _lines(name)
    return dict(zip(lines[0].split("\t"), lines[int(line) - 1].split("\t"), strict=True))


def test_committed_table_reads_and_is_ordered() -> None:
    rows = read_odbl_table(ODBL_TSV)
    assert len(rows) > 100
    assert [int(r.qid[1:]) for r in rows] == sorted(int(r.qid[1:]) for r in rows)
    assert {r.source_file for r in rows} <= {name for name, _ in ODBL_FILES}


def test_only_places_the_links_table_resolves_without_coordinates() -> None:
    """Data under the more open licences wins: no ODbL row for a QID the links table gives
    coordinates (Natural Earth, WOF, Wikidata), and none for a QID it does not resolve."""
    table = read_links(paths.LINKS_TSV)
    resolved = {row.qid for row in table if row.qid}
    placed = {row.qid for row in table if row.qid and row.lat}
    for row in read_odbl_table(ODBL_TSV):
        assert row.qid in resolved and row.qid not in placed, row


@needs_gazetteer
def test_every_row_is_its_evidence_record() -> None:
    """Each evidence ``file:line`` is a dr5hn record carrying the row's own QID, and the
    coordinates are that record's own text."""
    for row in read_odbl_table(ODBL_TSV):
        where, qid = row.coord_evidence.split()[:2]
        record = _record(where)
        assert qid == row.qid == record["qid"], row
        assert (record["lat"], record["lon"]) == (row.lat, row.lon), row


@needs_gazetteer
def test_odbl_coordinates_only_refills_the_committed_table(tmp_path: Path) -> None:
    out = tmp_path / "geo-odbl.tsv"
    done = subprocess.run([sys.executable, "-m", "kg", "reconcile", "--odbl-coordinates-only",
                           "--odbl-out", str(out), "--gazetteer", str(GAZ)],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert out.read_bytes() == ODBL_TSV.read_bytes()
    assert "ODbL coordinates for" in done.stderr
    unwritable = subprocess.run([sys.executable, "-m", "kg", "reconcile",
                                 "--odbl-coordinates-only", "--gazetteer", str(GAZ),
                                 "--odbl-out", str(out / "x.tsv")],  # a file as folder
                                capture_output=True, text=True, timeout=300, check=False)
    assert unwritable.returncode == 2
    assert unwritable.stderr.count("\n") == 1
    assert "the ODbL coordinates table" in unwritable.stderr and "x.tsv" in unwritable.stderr
    assert out.read_bytes() == ODBL_TSV.read_bytes()
    missing = subprocess.run([sys.executable, "-m", "kg", "reconcile", "--odbl-coordinates-only",
                              "--out", str(tmp_path / "none.tsv"), "--odbl-out", str(out)],
                             capture_output=True, text=True, timeout=300, check=False)
    assert missing.returncode == 2
    assert missing.stderr.count("\n") == 1 and "none.tsv" in missing.stderr


@needs_gazetteer
def test_records_precedence_states_then_counties_then_countries() -> None:
    records = load_odbl_records(GAZ)
    order = [name for name, _ in ODBL_FILES]
    for qid, rec in records.items():
        assert _record(f"{rec.file}:{rec.line}")["qid"] == qid
    # A QID in two files takes the earlier file's record.
    qids = {name: {line.split("\t")[0] for line in _lines(name)[1:]} for name in order}
    for i, name in enumerate(order):
        for qid in qids[name]:
            if qid in records:
                assert order.index(records[qid].file) <= i


def test_rows_for_what_the_links_table_leaves_open() -> None:
    rec = CoordRecord("Q43684", "34", "114", "dr5hn_states.tsv", 1070, "Henan",
                      (0, 5, 12, 1070))
    kiev = CoordRecord("Q1899", "1", "2", "dr5hn_states.tsv", 9, "Kiev", (0, 5, 12, 9))
    base = LinkRow("zhwiki", "cn", "河南省", "", "Q43684", "resolved", "gazetteer-exact",
                   "0.90", "province", "Henan", "", "test", "Q43684:0.90", "")
    placed = replace(base, key="基輔", qid="Q1899", lat="50.4", lon="30.5",
                     coord_evidence="naturalearth_populated_places.tsv:196 Q1899 Kiev")
    unresolved = replace(base, key="x", qid="", status="unresolved")
    rows = odbl_coordinates([base, placed, unresolved, base], {"Q43684": rec, "Q1899": kiev})
    assert rows == [OdblCoordinate("Q43684", "34", "114",
                                   "dr5hn_states.tsv:1070 Q43684 Henan")]


def test_reader_checks(tmp_path: Path) -> None:
    path = tmp_path / "geo-odbl.tsv"
    good = OdblCoordinate("Q43684", "34", "114", "dr5hn_states.tsv:1070 Q43684 Henan")
    write_odbl_table([good], path)
    assert read_odbl_table(path) == [good]
    assert path.read_text(encoding="utf-8").splitlines()[0].split("\t") == list(ODBL_COLUMNS)
    for rows, message in (([replace(good, lat="91")], ":2: malformed lat"),
                          ([replace(good, lon="180.5")], ":2: malformed lon"),
                          ([replace(good, lon="1e2")], ":2: malformed lon"),
                          ([replace(good, qid="Q0")], ":2: malformed qid"),
                          ([replace(good, coord_evidence=" ")], ":2: coordinates need"),
                          ([good, good], ":3: Q43684 is given twice")):
        write_odbl_table(rows, path)
        with pytest.raises(LinksError, match=message):
            read_odbl_table(path)
    path.write_text("qid\tlat\tlon\n", encoding="utf-8")
    with pytest.raises(LinksError, match=":1: the header must be"):
        read_odbl_table(path)
    path.write_text("\t".join(ODBL_COLUMNS) + "\nQ1\t1\t2\n", encoding="utf-8")
    with pytest.raises(LinksError, match=":2: expected 4 cells, found 3"):
        read_odbl_table(path)
    with pytest.raises(LinksError, match="not found"):
        read_odbl_table(tmp_path / "missing.tsv")
