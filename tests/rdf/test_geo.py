"""kg.rdf.geo: WKT points, haversine distances on gazetteer coordinates, the triples, and
the emitter's geometry for a links table with coordinates."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from kg import paths
from kg.rdf import emit
from kg.rdf.geo import (
    ASWKT,
    DISTANCE_KM,
    EARTH_RADIUS_KM,
    GEOMETRY,
    HAS_GEOMETRY,
    WKT_LITERAL,
    XSD_DECIMAL,
    distance_km,
    geo_triples,
    geometry_iri,
    haversine_km,
    parse_wkt_point,
    wkt_point,
)
from kg.rdf.literals import canonical_decimal
from kg.rdf.serialize import union_graph
from kg.reconcile.links import LinksTable
from tests.rdf.fixtures import BEIJING, KYOTO, TOKYO, links, results

NE = "naturalearth_populated_places.tsv"


def _ne(line: int, qid: str) -> tuple[float, float]:
    """``(lat, lon)`` of a Natural Earth record of the shared gazetteer, checked to be ``qid``."""
    path = paths.GAZETTEER_DIR / NE
    if not path.is_file():
        pytest.skip("the shared gazetteer is not here")
    lines = path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split("\t")
    row = dict(zip(header, lines[line - 1].split("\t"), strict=True))
    assert row["qid"] == qid
    return float(row["lat"]), float(row["lon"])


def _cosines_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    # The spherical law of cosines: another formula for the same great circle.
    p1, p2 = math.radians(a[0]), math.radians(b[0])
    dl = math.radians(b[1] - a[1])
    c = math.sin(p1) * math.sin(p2) + math.cos(p1) * math.cos(p2) * math.cos(dl)
    return EARTH_RADIUS_KM * math.acos(max(-1.0, min(1.0, c)))


def _vector_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    # A third way: the angle between the two unit vectors, from their chord.
    def unit(p: tuple[float, float]) -> tuple[float, float, float]:
        lat, lon = math.radians(p[0]), math.radians(p[1])
        return (math.cos(lat) * math.cos(lon), math.cos(lat) * math.sin(lon), math.sin(lat))
    chord = math.dist(unit(a), unit(b))
    return 2 * EARTH_RADIUS_KM * math.asin(chord / 2)


def test_wkt_point_is_lon_lat() -> None:
    assert wkt_point(39.928892, 116.388286) == "POINT(116.388286 39.928892)"
    assert wkt_point(-33.5, -70.25) == "POINT(-70.25 -33.5)"
    assert wkt_point(0.0, -0.0) == "POINT(0 0)"
    assert wkt_point(90, 180) == "POINT(180 90)"
    assert parse_wkt_point("POINT(116.388286 39.928892)") == (39.928892, 116.388286)
    for lat, lon in ((90.5, 0.0), (0.0, 180.1), (-91.0, 0.0), (math.nan, 0.0)):
        with pytest.raises(ValueError):
            wkt_point(lat, lon)
    for bad in ("POINT(1)", "LINESTRING(0 0, 1 1)", "POINT(1 2 3)"):
        with pytest.raises(ValueError):
            parse_wkt_point(bad)


def test_haversine_on_known_geometry() -> None:
    assert haversine_km(0, 0, 0, 0) == 0
    assert haversine_km(0, 0, 0, 180) == pytest.approx(math.pi * EARTH_RADIUS_KM)
    assert haversine_km(0, 0, 90, 0) == pytest.approx(math.pi / 2 * EARTH_RADIUS_KM)
    assert haversine_km(10, 20, 30, 40) == pytest.approx(haversine_km(30, 40, 10, 20))


def test_haversine_on_gazetteer_coordinates() -> None:
    # naturalearth_populated_places.tsv line 80: Q956 Beijing; line 1026: Q34600 Kyoto;
    # line 207: Q2044 Florence (lines as tests/reconcile/data/README.md lists them).
    beijing, kyoto, florence = _ne(80, BEIJING), _ne(1026, KYOTO), _ne(207, "Q2044")
    for a, b in ((beijing, kyoto), (beijing, florence), (kyoto, florence)):
        assert haversine_km(*a, *b) == pytest.approx(_cosines_km(a, b), abs=0.01)
        assert haversine_km(*a, *b) == pytest.approx(_vector_km(a, b), abs=0.01)
    assert haversine_km(*beijing, *kyoto) < haversine_km(*beijing, *florence)
    text = distance_km(beijing, kyoto)
    # Rounded to 0.1 km, in the canonical decimal form stores give back (kg.rdf.literals):
    # 1789.0 km is written "1789", not "1789.0".
    assert text == canonical_decimal(f"{haversine_km(*beijing, *kyoto):.1f}")
    assert not text.endswith((".0", ".")) and text.count(".") <= 1


def test_geo_triples() -> None:
    a, b, c = "https://x.test/place/Q1", "https://x.test/place/Q2", "https://x.test/place/Q3"
    coords = {b: (10.0, 20.0), a: (-10.5, 30.25)}
    out = list(geo_triples(coords, [("https://x.test/t/1", a, b), ("https://x.test/t/2", a, c)]))
    assert geometry_iri(a) == a + "#geometry"
    assert out[:3] == [(a, HAS_GEOMETRY, a + "#geometry"),
                       (a + "#geometry", "http://www.w3.org/1999/02/22-rdf-syntax-ns#type",
                        GEOMETRY),
                       (a + "#geometry", ASWKT, ("POINT(30.25 -10.5)", WKT_LITERAL))]
    distances = [t for t in out if t[1] == DISTANCE_KM]
    # Only the twinning whose two places both have coordinates gets a distance.
    assert distances == [("https://x.test/t/1", DISTANCE_KM,
                          (distance_km(coords[a], coords[b]), XSD_DECIMAL))]
    assert all(not s.startswith("_:") for s, _, _ in out)


def test_emit_states_geometry_and_distance_from_the_links_table() -> None:
    # Coordinates as the links table would carry them (values of NE lines 80 and 1026 and a
    # made-up Tokyo point: only the emitter's wiring is under test here).
    points = {BEIJING: ("39.928892", "116.388286"), KYOTO: ("35.029992", "135.749998"),
              TOKYO: ("35.685", "139.751")}
    rows = [replace(r, lat=points[r.qid][0], lon=points[r.qid][1], coord_evidence="fixture")
            if r.qid in points else r for r in links()]
    graph = union_graph(emit(results(), LinksTable(rows))[0])
    wkts = {str(s): str(o) for s, p, o in graph if str(p) == ASWKT}
    place = "https://w3id.org/twinning-kg/place/"
    assert wkts[geometry_iri(place + BEIJING)] == "POINT(116.388286 39.928892)"
    assert set(wkts) == {geometry_iri(place + q) for q in points}
    distances = [o for _, p, o in graph if str(p) == DISTANCE_KM]
    assert distances and all(str(o.datatype) == XSD_DECIMAL for o in distances)  # type: ignore[attr-defined]
    # The fixture's table without coordinates states none (the golden file stays as it was).
    plain = union_graph(emit(results(), links())[0])
    assert not [t for t in plain if str(t[1]) in (ASWKT, DISTANCE_KM)]
