"""shapes/geo.ttl on small graphs: a well-formed point conforms; a malformed WKT, an
out-of-range latitude or longitude, a second geometry and a bad distance are violations."""

from __future__ import annotations

import pytest
from rdflib import RDF, XSD, Graph, Literal, Namespace, URIRef
from rdflib.namespace import SH

from kg import paths
from kg.validate import load_graph, validate_with_shapes

GEO = Namespace("http://www.opengis.net/ont/geosparql#")
TW = Namespace("https://w3id.org/twinning-kg/ontology#")
PLACE = URIRef("https://w3id.org/twinning-kg/place/Q956")
GEOM = URIRef(str(PLACE) + "#geometry")
TWINNING = URIRef("https://w3id.org/twinning-kg/twinning/zhwiki/L7")


@pytest.fixture(scope="module")
def shapes() -> Graph:
    return load_graph(paths.SHAPES_DIR / "geo.ttl", what="shapes")


@pytest.fixture(scope="module")
def ontology() -> Graph:
    return load_graph(paths.ONTOLOGY, what="ontology")


def _graph(wkt: str | None = "POINT(116.388286 39.928892)", km: Literal | None = None) -> Graph:
    g = Graph()
    g.add((PLACE, RDF.type, TW.Place))
    g.add((PLACE, GEO.hasGeometry, GEOM))
    g.add((GEOM, RDF.type, GEO.Geometry))
    if wkt is not None:
        g.add((GEOM, GEO.asWKT, Literal(wkt, datatype=GEO.wktLiteral)))
    g.add((TWINNING, RDF.type, TW.Twinning))
    if km is not None:
        g.add((TWINNING, TW.distanceKm, km))
    return g


def _violations(g: Graph, shapes: Graph, ontology: Graph) -> list[tuple[str, str]]:
    result = validate_with_shapes(g, shapes, ont_graph=ontology)
    report = result.report_graph
    out = []
    for node in report.subjects(RDF.type, SH.ValidationResult):
        assert report.value(node, SH.resultSeverity) == SH.Violation
        out.append((str(report.value(node, SH.focusNode)), str(report.value(node, SH.resultPath))))
    return out


def test_a_good_point_and_distance_conform(shapes: Graph, ontology: Graph) -> None:
    good = _graph(km=Literal("2101.3", datatype=XSD.decimal))
    assert _violations(good, shapes, ontology) == []
    for wkt in ("POINT(-180 -90)", "POINT(180 90)", "POINT(0 0)", "POINT(-70.25 -33.5)"):
        assert _violations(_graph(wkt), shapes, ontology) == [], wkt


@pytest.mark.parametrize("wkt", [
    "POINT(116.388286 91)",          # latitude out of range
    "POINT(116.388286 -90.5)",
    "POINT(180.1 39.9)",             # longitude out of range
    "POINT(39.928892)",              # one number
    "POINT(116.388286,39.928892)",   # a comma, not WKT
    "POINT 116.3 39.9",
    "LINESTRING(0 0, 1 1)",
    "point(116.3 39.9) trailing",
])
def test_bad_wkt_is_a_violation(wkt: str, shapes: Graph, ontology: Graph) -> None:
    assert _violations(_graph(wkt), shapes, ontology) == [(str(GEOM), str(GEO.asWKT))]


def test_wrong_datatype_missing_wkt_and_two_geometries(shapes: Graph, ontology: Graph) -> None:
    g = _graph()
    g.set((GEOM, GEO.asWKT, Literal("POINT(116.3 39.9)")))  # a plain string
    assert _violations(g, shapes, ontology) == [(str(GEOM), str(GEO.asWKT))]
    assert _violations(_graph(None), shapes, ontology) == [(str(GEOM), str(GEO.asWKT))]
    g = _graph()
    other = URIRef(str(PLACE) + "#other")
    g.add((PLACE, GEO.hasGeometry, other))
    g.add((other, RDF.type, GEO.Geometry))
    g.add((other, GEO.asWKT, Literal("POINT(1 2)", datatype=GEO.wktLiteral)))
    assert _violations(g, shapes, ontology) == [(str(PLACE), str(GEO.hasGeometry))]


@pytest.mark.parametrize("km", [Literal("-1.0", datatype=XSD.decimal),
                                Literal("20100.5", datatype=XSD.decimal),
                                Literal("12.5")])
def test_bad_distance_is_a_violation(km: Literal, shapes: Graph, ontology: Graph) -> None:
    found = _violations(_graph(km=km), shapes, ontology)
    assert found and set(found) == {(str(TWINNING), str(TW.distanceKm))}
