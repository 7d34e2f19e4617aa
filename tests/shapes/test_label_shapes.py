"""skos:prefLabel on small graphs (issue 11), both engines: one preferred name per language
tag, never also an alternative name; the emitter gives each place one per language."""

from __future__ import annotations

import pytest
from rdflib import RDF, RDFS, Graph, Literal, Namespace, URIRef
from rdflib.namespace import PROV, SH, SKOS

from kg.rdf import emit
from kg.validate import ENGINES, ValidationResult, validate_with_shapes
from tests.rdf.fixtures import links, results

TW = Namespace("https://w3id.org/twinning-kg/ontology#")
SCHEMA = Namespace("https://schema.org/")
PLACE = URIRef("https://w3id.org/twinning-kg/place/Q956")
SOURCE = URIRef("https://w3id.org/twinning-kg/source/zhwiki")


def place(*names: tuple[URIRef, Literal]) -> Graph:
    """A resolved place that conforms, with ``names`` added."""
    g = Graph()
    g.add((PLACE, RDF.type, TW.Place))
    g.add((PLACE, RDF.type, SCHEMA.Place))
    g.add((PLACE, RDFS.label, Literal("北京市", lang="zh")))
    g.add((PLACE, SKOS.exactMatch, URIRef("http://www.wikidata.org/entity/Q956")))
    record = URIRef(f"{PLACE}#record/zhwiki/cn/x")
    line = URIRef(f"{SOURCE}#L1")
    g.add((record, RDF.type, TW.PlaceRecord))
    g.add((record, SCHEMA.about, PLACE))
    g.add((record, TW.namedIn, SOURCE))
    g.add((record, TW.reconciliationStatus, TW.Resolved))
    g.add((record, PROV.wasDerivedFrom, line))
    g.add((line, RDF.type, TW.SourceLine))
    g.add((SOURCE, RDF.type, TW.SourceDocument))
    for predicate, name in names:
        g.add((PLACE, predicate, name))
    return g


def violations(result: ValidationResult) -> set[tuple[str, str]]:
    """(focus, path) of the violations about the place (its source document is left bare)."""
    report = result.report_graph
    return {
        (str(report.value(r, SH.focusNode)), str(report.value(r, SH.resultPath)))
        for r in report.subjects(RDF.type, SH.ValidationResult)
        if report.value(r, SH.resultSeverity) == SH.Violation
        and report.value(r, SH.focusNode) == PLACE
    }


CASES = {
    "one per language": (
        [(SKOS.prefLabel, Literal("Beijing", lang="en")),
         (SKOS.prefLabel, Literal("北京市", lang="zh")),
         (SKOS.altLabel, Literal("Peking", lang="en"))],
        set(),
    ),
    "two in one language": (
        [(SKOS.prefLabel, Literal("Beijing", lang="en")),
         (SKOS.prefLabel, Literal("Peking", lang="en"))],
        {(str(PLACE), str(SKOS.prefLabel))},
    ),
    "also an alternative name": (
        [(SKOS.prefLabel, Literal("Beijing", lang="en")),
         (SKOS.altLabel, Literal("Beijing", lang="en"))],
        {(str(PLACE), str(SKOS.prefLabel))},
    ),
    "untagged": (
        [(SKOS.prefLabel, Literal("Beijing"))],
        {(str(PLACE), str(SKOS.prefLabel))},
    ),
}


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("case", sorted(CASES))
def test_pref_label_shape(case: str, engine: str, shapes: Graph, ontology: Graph) -> None:
    names, expected = CASES[case]
    result = validate_with_shapes(
        place(*names), shapes, ont_graph=ontology, allow_warnings=True, engine=engine
    )
    assert violations(result) == expected


def test_emitter_prefers_one_name_per_language() -> None:
    ds = emit(results(), links())[0].to_rdflib()
    g = Graph()
    for s, p, o in ds:
        g.add((s, p, o))
    places = set(g.subjects(RDF.type, TW.Place))
    assert places
    for node in places:
        labels = {o for o in g.objects(node, RDFS.label) if isinstance(o, Literal)}
        prefs = [o for o in g.objects(node, SKOS.prefLabel) if isinstance(o, Literal)]
        alts = {o for o in g.objects(node, SKOS.altLabel) if isinstance(o, Literal)}
        # One preferred name per tag a label has, chosen among the labels.
        assert sorted(p.language or "" for p in prefs) == sorted(
            {lab.language or "" for lab in labels}
        ), node
        assert set(prefs) <= labels
        assert not set(prefs) & alts
        assert labels - set(prefs) <= alts  # every other name is an alternative one
