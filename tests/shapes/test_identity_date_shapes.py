"""Shapes issue 11 adds, on small graphs, with both engines (the default ``shacl`` and the
reference pySHACL give the same violations): one place per Wikidata item, skos:exactMatch
naming the QID of the place's IRI, end date not before the start date, no start date in
the future, and a schema:Place type that must be asserted (the ontology merged into the
data graph no longer satisfies it)."""

from __future__ import annotations

import datetime as dt

import pytest
from rdflib import RDF, RDFS, XSD, Graph, Literal, Namespace, URIRef
from rdflib.namespace import SH, SKOS

from kg.validate import ENGINES, validate_with_shapes

TW = Namespace("https://w3id.org/twinning-kg/ontology#")
SCHEMA = Namespace("https://schema.org/")
WD = Namespace("http://www.wikidata.org/entity/")
BASE = "https://w3id.org/twinning-kg/"
Q956 = URIRef(BASE + "place/Q956")
TWINNING = URIRef(BASE + "twinning/zhwiki/L7")


def add_place(g: Graph, node: URIRef, qid: str | None, *, schema_type: bool = True) -> None:
    g.add((node, RDF.type, TW.Place))
    if schema_type:
        g.add((node, RDF.type, SCHEMA.Place))
    g.add((node, RDFS.label, Literal("x", lang="en")))
    if qid is not None:
        g.add((node, SKOS.exactMatch, WD[qid]))


def twinning(start: Literal | None, end: Literal | None = None) -> Graph:
    g = Graph()
    g.add((TWINNING, RDF.type, TW.Twinning))
    if start is not None:
        g.add((TWINNING, TW.startDate, start))
    if end is not None:
        g.add((TWINNING, TW.endDate, end))
    return g


def violations(g: Graph, shapes: Graph, ontology: Graph, engine: str,
               paths_: set[URIRef]) -> set[tuple[str, str]]:
    """(focus, path) of the violations on ``paths_`` (the small graphs leave other
    properties out on purpose); an inverse path ``^p`` is written ``^<p>``."""
    result = validate_with_shapes(g, shapes, ont_graph=ontology, allow_warnings=True,
                                  engine=engine)
    report = result.report_graph
    found = set()
    for r in report.subjects(RDF.type, SH.ValidationResult):
        path = report.value(r, SH.resultPath)
        inverse = report.value(path, SH.inversePath) if path is not None else None
        name = f"^<{inverse}>" if inverse is not None else str(path)
        on_path = path in paths_ or inverse in paths_
        if report.value(r, SH.resultSeverity) == SH.Violation and on_path:
            found.add((str(report.value(r, SH.focusNode)), name))
    return found


def d(text: str, datatype: URIRef = XSD.date) -> Literal:
    return Literal(text, datatype=datatype)


@pytest.mark.parametrize("engine", ENGINES)
def test_one_place_per_wikidata_item(engine: str, shapes: Graph, ontology: Graph) -> None:
    g = Graph()
    add_place(g, Q956, "Q956")
    assert violations(g, shapes, ontology, engine, {SKOS.exactMatch}) == set()
    other = URIRef(BASE + "place/zhwiki/%E5%8C%97%E4%BA%AC")
    add_place(g, other, "Q956")
    found = violations(g, shapes, ontology, engine, {SKOS.exactMatch})
    # At the Wikidata item (two places claim it) and at the node whose IRI is not Q956's.
    assert found == {(str(WD.Q956), f"^<{SKOS.exactMatch}>"),
                     (str(other), str(SKOS.exactMatch))}


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("node", "qid", "bad"), [
    ("place/Q956", "Q956", False),
    ("place/Q956", "Q95", True),  # a QID that is a prefix of the IRI's
    ("place/Q95", "Q956", True),
    ("place/Q956", "Q148", True),
    ("place/lhc/Japan/Kyoto", "Q34600", True),  # only a place/Q… node has skos:exactMatch
])
def test_same_as_names_the_qid_of_the_iri(
    engine: str, node: str, qid: str, bad: bool, shapes: Graph, ontology: Graph
) -> None:
    g = Graph()
    add_place(g, URIRef(BASE + node), qid)
    expected = {(BASE + node, str(SKOS.exactMatch))} if bad else set()
    assert violations(g, shapes, ontology, engine, {SKOS.exactMatch}) == expected


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("start", "end", "bad"), [
    (d("1979-03-14"), d("1985-01-01"), False),
    (d("1979-03-14"), d("1979-03-14"), False),            # same day
    (d("1979", XSD.gYear), d("1979-01-05"), False),       # same year, coarser start
    (d("1979-03", XSD.gYearMonth), d("1979", XSD.gYear), False),
    (d("1979-03-14"), d("1979-03-13"), True),
    (d("1985", XSD.gYear), d("1979-12", XSD.gYearMonth), True),
    (d("1979-03", XSD.gYearMonth), d("1979-02-28"), True),
])
def test_end_date_not_before_start(
    engine: str, start: Literal, end: Literal, bad: bool, shapes: Graph, ontology: Graph
) -> None:
    expected = {(str(TWINNING), str(TW.endDate))} if bad else set()
    found = violations(twinning(start, end), shapes, ontology, engine, {TW.endDate})
    assert found == expected


@pytest.mark.parametrize("engine", ENGINES)
def test_no_start_date_in_the_future(engine: str, shapes: Graph, ontology: Graph) -> None:
    today = dt.datetime.now(dt.UTC).date()
    last_year = str(today.year - 1)
    past = [d("1979-03-14"), d(last_year, XSD.gYear), d(f"{last_year}-12", XSD.gYearMonth)]
    future = [d(str(today.year + 1), XSD.gYear), d(f"{today.year + 1}-01", XSD.gYearMonth),
              d((today + dt.timedelta(days=400)).isoformat()), d("2999-12-31")]
    for value in past:
        assert violations(twinning(value), shapes, ontology, engine, {TW.startDate}) == set()
    for value in future:
        found = violations(twinning(value), shapes, ontology, engine, {TW.startDate})
        assert found == {(str(TWINNING), str(TW.startDate))}, value


@pytest.mark.parametrize("engine", ENGINES)
def test_schema_place_type_must_be_asserted(engine: str, shapes: Graph, ontology: Graph) -> None:
    # The ontology makes tw:Place a sub-class of schema:Place and is merged into the data
    # graph: the check reads the asserted rdf:type, so a missing one is still reported.
    g = Graph()
    add_place(g, Q956, "Q956")
    assert violations(g, shapes, ontology, engine, {RDF.type}) == set()
    g = Graph()
    add_place(g, Q956, "Q956", schema_type=False)
    assert violations(g, shapes, ontology, engine, {RDF.type}) == {(str(Q956), str(RDF.type))}
