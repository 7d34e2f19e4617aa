"""Coordinates in the links table: each from a gazetteer record of the row's own QID, with
that record as evidence; the reader's checks; ``kg reconcile --coordinates-only``."""

from __future__ import annotations

import functools
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from kg import paths
from kg.errors import LinksError
from kg.model import LINK_COLUMNS, LinkRow
from kg.reconcile.coordinates import COORD_FILES, add_coordinates, load_coordinates
from kg.reconcile.links import COORD_COLUMNS, read_links, write_links

GAZ = paths.GAZETTEER_DIR
needs_gazetteer = pytest.mark.skipif(not (GAZ / COORD_FILES[0][0]).is_file(),
                                     reason="the shared gazetteer is not here")

# naturalearth_populated_places.tsv:196 carries Q1899 (Kiev), as tests/reconcile/test_links.py.
ROW = LinkRow("zhwiki", "partner", "基輔", "烏克蘭", "Q1899", "resolved", "gazetteer-exact",
              "1.15", "city", "Kiev", "", "naturalearth_populated_places.tsv:196 Q1899 '基輔'",
              "Q1899:1.15", "")


@functools.cache
def _lines(name: str) -> list[str]:
    return (GAZ / name).read_text(encoding="utf-8").splitlines()


def _gazetteer_row(where: str) -> dict[str, str]:
    """The cells of the gazetteer record ``file:line``."""
    name, _, line = where.partition(":")
    lines = _lines(name)
    header = lines[0].split("\t")
    return dict(zip(header, lines[int(line) - 1].split("\t"), strict=True))


@needs_gazetteer
def test_every_coordinate_of_the_committed_table_is_its_evidence_record() -> None:
    table = read_links(paths.LINKS_TSV)
    placed = [row for row in table if row.lat]
    assert len(placed) > 400
    for row in placed:
        where = row.coord_evidence.split()[0]
        record = _gazetteer_row(where)
        assert record["qid"] == row.qid, (row.ref, where)
        assert (record["lat"], record["lon"]) == (row.lat, row.lon), (row.ref, where)


@needs_gazetteer
def test_every_resolved_place_with_a_record_has_coordinates() -> None:
    records = load_coordinates(GAZ)
    table = read_links(paths.LINKS_TSV)
    for row in table:
        assert bool(row.lat) == (bool(row.qid) and row.qid in records), row.ref
    # Beijing (Q956): row `zhwiki cn 北京市`, the Natural Earth record first.
    beijing = table.get("zhwiki", "cn", "北京市")
    assert beijing is not None and beijing.qid == "Q956"
    assert beijing.coord_evidence.startswith("naturalearth_populated_places.tsv:80 Q956")


@needs_gazetteer
def test_precedence_natural_earth_then_current_wof() -> None:
    records = load_coordinates(GAZ)
    # Every QID's record is the best of its own: Natural Earth where it has the QID…
    ne_qids = {r.split("\t")[0] for r in _lines(COORD_FILES[0][0])[1:]}
    assert all(records[q].file == COORD_FILES[0][0] for q in ne_qids if q in records)
    # …and a current WOF record before a deprecated or superseded one of the same QID.
    wof = [r for r in records.values() if r.file == "wof_places.tsv"]
    assert wof
    for rec in wof:
        assert _gazetteer_row(f"{rec.file}:{rec.line}")["qid"] == rec.qid


def test_add_coordinates_rules() -> None:
    from kg.reconcile.coordinates import CoordRecord

    record = CoordRecord("Q1899", "50.433367", "30.516665", "naturalearth_populated_places.tsv",
                         196, "Kiev", (0, 0, 0, 196))
    open_row = LinkRow("lhc", "member", "Kong", "Iran", "", "unresolved", "", "", "city", "",
                       "", "", "", "no gazetteer candidate", lat="1", lon="2",
                       coord_evidence="stale")
    asked: list[list[str]] = []

    def online(qids: object) -> dict[str, tuple[float, float, str]]:
        asked.append(list(qids))  # type: ignore[call-overload]
        return {"Q2044": (43.780001, 11.25, "wikidata https://example.test retrieved T (P625)")}

    florence = replace(ROW, key="佛羅倫斯", qid="Q2044", evidence="test")
    out = add_coordinates([ROW, open_row, florence], {"Q1899": record}, online)
    assert (out[0].lat, out[0].lon) == ("50.433367", "30.516665")
    assert out[0].coord_evidence == "naturalearth_populated_places.tsv:196 Q1899 Kiev"
    assert (out[1].lat, out[1].lon, out[1].coord_evidence) == ("", "", "")
    assert (out[2].lat, out[2].lon) == ("43.780001", "11.25")
    assert out[2].coord_evidence.endswith("(P625)")
    assert asked == [["Q2044"]]  # only what the gazetteer lacks is asked
    # No other column changes.
    for before, after in zip([ROW, open_row, florence], out, strict=True):
        assert replace(after, lat=before.lat, lon=before.lon,
                       coord_evidence=before.coord_evidence) == before
    # Offline, a row's earlier P625 answer is kept; stale gazetteer coordinates are not.
    again = add_coordinates(out, {})
    assert again[2] == out[2] and again[0].lat == ""


def test_reader_checks_coordinates(tmp_path: Path) -> None:
    path = tmp_path / "links.tsv"
    good = replace(ROW, lat="50.433367", lon="30.516665",
                   coord_evidence="naturalearth_populated_places.tsv:196 Q1899 Kiev")
    write_links([good], path)
    assert read_links(path).rows[0] == good
    assert path.read_text(encoding="utf-8").splitlines()[0].split("\t")[-3:] == list(
        COORD_COLUMNS)
    for bad, message in ((replace(good, lat="91"), "malformed lat"),
                         (replace(good, lon="-180.5"), "malformed lon"),
                         (replace(good, lat="north"), "malformed lat"),
                         (replace(good, coord_evidence=""), "coordinates need"),
                         (replace(good, lon=""), "coordinates need")):
        write_links([bad], path)
        with pytest.raises(LinksError, match=f":2: .*{message}"):
            read_links(path)


def test_reader_accepts_a_table_without_coordinate_columns(tmp_path: Path) -> None:
    path = tmp_path / "links.tsv"
    old = LINK_COLUMNS[: -len(COORD_COLUMNS)]
    path.write_text("\t".join(old) + "\n" + "\t".join(getattr(ROW, c) for c in old) + "\n",
                    encoding="utf-8")
    assert read_links(path).rows == (ROW,)


@needs_gazetteer
def test_coordinates_only_refills_the_committed_table(tmp_path: Path) -> None:
    """Stripped of its coordinates, the committed table gets them back byte for byte."""
    table = read_links(paths.LINKS_TSV)
    stripped = tmp_path / "links.tsv"
    write_links([replace(r, lat="", lon="", coord_evidence="") for r in table], stripped)
    done = subprocess.run([sys.executable, "-m", "kg", "reconcile", "--coordinates-only",
                           "--out", str(stripped), "--gazetteer", str(GAZ)],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    assert stripped.read_bytes() == paths.LINKS_TSV.read_bytes()
    missing = subprocess.run([sys.executable, "-m", "kg", "reconcile", "--coordinates-only",
                              "--out", str(tmp_path / "none.tsv")],
                             capture_output=True, text=True, timeout=300, check=False)
    assert missing.returncode == 2 and len(missing.stderr.strip().splitlines()) == 1


def test_online_coordinates_are_p625_of_the_same_item(fake_wikidata: Any,
                                                      tmp_path: Path) -> None:
    """``kg reconcile --online``: Wikidata's P625, preferred statement first, with the
    answer as evidence; a redirected id (Q9900000002 -> Q34600, test data) is not taken."""
    from kg.reconcile.online import OnlineResolver

    resolver = OnlineResolver.from_options(api_url=fake_wikidata.url,
                                           sparql_url=fake_wikidata.url + "/sparql",
                                           cache_dir=tmp_path)
    got = resolver.coordinates(["Q2044", "Q9900000002"])
    assert set(got) == {"Q2044"}
    lat, lon, evidence = got["Q2044"]
    assert (lat, lon) == (43.780001, 11.25)  # the preferred of the two P625 statements
    assert evidence.startswith("wikidata http://127.0.0.1:") and "Q2044" in evidence
    rows = add_coordinates([replace(ROW, qid="Q2044", evidence="test")], {},
                           resolver.coordinates)
    assert (rows[0].lat, rows[0].lon) == ("43.780001", "11.25")
    assert "ids=Q2044" in rows[0].coord_evidence and rows[0].coord_evidence.endswith("(P625)")


@needs_gazetteer
def test_cli_coordinates_only_online(fake_wikidata: Any, tmp_path: Path) -> None:
    """``kg reconcile --coordinates-only --online``: with a gazetteer that has no record of
    the QID (the real files' headers only), the coordinates come from the item's P625."""
    gaz = tmp_path / "gazetteer"
    gaz.mkdir()
    for name, _ in COORD_FILES:
        (gaz / name).write_text(_lines(name)[0] + "\n", encoding="utf-8")
    table = tmp_path / "links.tsv"
    write_links([replace(ROW, key="佛羅倫斯", qid="Q2044", evidence="test")], table)
    done = subprocess.run([sys.executable, "-m", "kg", "reconcile", "--coordinates-only",
                           "--online", "--api-url", fake_wikidata.url,
                           "--sparql-url", fake_wikidata.url + "/sparql",
                           "--cache-dir", str(tmp_path / "cache"), "--gazetteer", str(gaz),
                           "--out", str(table)],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    row = read_links(table).rows[0]
    assert (row.lat, row.lon) == ("43.780001", "11.25")
    assert row.coord_evidence.startswith("wikidata http://127.0.0.1:")
