"""Dates checked for their lexical form (issue 17), under both engines (the default
``shacl`` and the reference pySHACL): neither checks the form of an ``xsd:gYear`` or
``xsd:gYearMonth`` by itself, so ``"2006-13"^^xsd:gYearMonth`` conformed and ``"20x6"^^xsd:gYear``
was caught only by the future-date check comparing strings. The shapes' ``sh:pattern``s
(XSD's lexical spaces) report them as broken dates (``sh:or`` of datatype and form), on
start and end dates and on a membership instant's month."""

from __future__ import annotations

import pytest
from rdflib import RDF, XSD, Graph, Literal, Namespace, URIRef
from rdflib.namespace import SH

from kg.validate import ENGINES, validate_with_shapes

TW = Namespace("https://w3id.org/twinning-kg/ontology#")
TIME = Namespace("http://www.w3.org/2006/time#")
TWINNING = URIRef("https://w3id.org/twinning-kg/twinning/zhwiki/L7")
INSTANT = URIRef("https://w3id.org/twinning-kg/period/2025-12")


def broken_forms(g: Graph, shapes: Graph, ontology: Graph, engine: str) -> set[tuple[str, str]]:
    """(focus, path) of the violations of a date's datatype-and-form constraint."""
    result = validate_with_shapes(g, shapes, ont_graph=ontology, allow_warnings=True,
                                  engine=engine)
    report = result.report_graph
    components = {SH.OrConstraintComponent, SH.PatternConstraintComponent,
                  SH.DatatypeConstraintComponent}
    return {
        (str(report.value(r, SH.focusNode)), str(report.value(r, SH.resultPath)))
        for r in report.subjects(RDF.type, SH.ValidationResult)
        if report.value(r, SH.resultSeverity) == SH.Violation
        and report.value(r, SH.sourceConstraintComponent) in components
        and report.value(r, SH.resultPath) in (TW.startDate, TW.endDate, TIME.inXSDgYearMonth)
    }


CASES = [
    ("1979-03-14", XSD.date, False),
    ("1979-03", XSD.gYearMonth, False),
    ("1979", XSD.gYear, False),
    ("1979Z", XSD.gYear, False),
    ("2006-13", XSD.gYearMonth, True),  # no 13th month
    ("2006-00", XSD.gYearMonth, True),
    ("20x6", XSD.gYear, True),
    ("206", XSD.gYear, True),  # four digits at least
    ("2006-1", XSD.gYearMonth, True),
    ("2006-01-32", XSD.date, True),
    ("2006-01", XSD.gYear, True),  # a month under the year type
]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("text", "datatype", "bad"), CASES)
@pytest.mark.parametrize("path", [TW.startDate, TW.endDate])
def test_twinning_date_forms(engine: str, text: str, datatype: URIRef, bad: bool,
                             path: URIRef, shapes: Graph, ontology: Graph) -> None:
    g = Graph()
    g.add((TWINNING, RDF.type, TW.Twinning))
    g.add((TWINNING, path, Literal(text, datatype=datatype)))
    expected = {(str(TWINNING), str(path))} if bad else set()
    assert broken_forms(g, shapes, ontology, engine) == expected


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("text", "bad"), [("2025-12", False), ("2025-13", True),
                                            ("2025-1x", True)])
def test_instant_month_form(engine: str, text: str, bad: bool, shapes: Graph,
                            ontology: Graph) -> None:
    g = Graph()
    g.add((INSTANT, RDF.type, TIME.Instant))
    g.add((INSTANT, TIME.inXSDgYearMonth, Literal(text, datatype=XSD.gYearMonth)))
    expected = {(str(INSTANT), str(TIME.inXSDgYearMonth))} if bad else set()
    assert broken_forms(g, shapes, ontology, engine) == expected
