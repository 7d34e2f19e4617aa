"""Reconciliation in the graph (issue 11): each links row behind a place is a
tw:Reconciliation node (hash IRI of the place, no blank node, a prov:Activity) with method,
score, outcome, evidence and scored candidates, linked from the record of the reference
(tw:PlaceRecord), not from the place; nothing is stated about a Wikidata item itself."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from rdflib import RDF, XSD, Graph, Literal, URIRef
from rdflib.namespace import SH, SKOS

from kg import paths
from kg.rdf import emit
from kg.rdf.serialize import union_graph
from kg.rdf.vocab import PROV, SCHEMA, TW, WD, Iris
from kg.validate import ENGINES, load_graph, load_shapes, validate_with_shapes
from tests.rdf.fixtures import BEIJING, DHAKA, TOKYO, links, results


@pytest.fixture(scope="module")
def graph() -> Graph:
    return union_graph(emit(results(), links())[0])


def test_resolved_place_has_its_reconciliation(graph: Graph) -> None:
    place = Iris().place_qid(BEIJING)
    rec = URIRef(f"{place}#reconciliation/zhwiki/cn/{quote('北京市', safe='')}")
    record = URIRef(f"{place}#record/zhwiki/cn/{quote('北京市', safe='')}")
    assert (record, SCHEMA.about, place) in graph
    assert (record, TW.reconciliation, rec) in graph
    assert not list(graph.objects(place, TW.reconciliation))
    assert (rec, RDF.type, TW.Reconciliation) in graph
    assert (rec, RDF.type, PROV.Activity) in graph
    assert (rec, PROV.used, Iris().source("links")) in graph
    assert (rec, TW.outcome, TW.Resolved) in graph
    assert (rec, TW.method, Literal("fixture")) in graph
    assert (rec, TW.score, Literal("1", datatype=XSD.decimal)) in graph
    assert (rec, TW.evidence, Literal("fixture")) in graph
    assert (rec, TW.chosenItem, WD[BEIJING]) in graph


def test_open_place_keeps_its_scored_candidates(graph: Graph) -> None:
    place = Iris().place_zhwiki("某市_(测试)")
    (record,) = graph.subjects(SCHEMA.about, place)
    (rec,) = graph.objects(record, TW.reconciliation)
    assert (rec, TW.outcome, TW.Ambiguous) in graph
    assert graph.value(rec, TW.chosenItem) is None
    assert (rec, SKOS.note, Literal("fixture", lang="en")) in graph
    scores = {
        graph.value(c, TW.candidateItem): graph.value(c, TW.candidateScore)
        for c in graph.objects(rec, TW.scoredCandidate)
    }
    assert scores == {WD[DHAKA]: Literal("0.5", datatype=XSD.decimal),
                      WD[TOKYO]: Literal("0.4", datatype=XSD.decimal)}


def test_nothing_is_said_about_wikidata_items(graph: Graph) -> None:
    # Record-level facts (status, naming documents, reconciliation) stay on our nodes.
    assert [s for s in set(graph.subjects()) if str(s).startswith(str(WD))] == []


@pytest.mark.parametrize("engine", ENGINES)
def test_reconciliation_shape(engine: str, graph: Graph) -> None:
    shapes = load_shapes(paths.SHAPES_DIR)
    ontology = load_graph(paths.ONTOLOGY, what="ontology")

    def bad(g: Graph) -> set[str]:
        result = validate_with_shapes(g, shapes, ont_graph=ontology, allow_warnings=True,
                                      engine=engine)
        report = result.report_graph
        # A complex path is a blank node, renamed on each run: "path" stands for them all.
        return {str(path) if isinstance(path, URIRef) else "path"
                for r in report.subjects(RDF.type, SH.ValidationResult)
                if report.value(r, SH.resultSeverity) == SH.Violation
                for path in [report.value(r, SH.resultPath)]}

    # The fixture's own violations elsewhere (a country node named in no document) aside.
    before = bad(graph)
    assert not {str(TW.outcome), str(TW.chosenItem), str(TW.score)} & before
    place = Iris().place_qid(BEIJING)
    rec = graph.value(graph.value(None, SCHEMA.about, place), TW.reconciliation)
    broken = Graph()
    broken += graph
    broken.add((rec, TW.outcome, TW.Unresolved))  # two outcomes
    broken.add((rec, TW.chosenItem, URIRef("http://example.org/not-wikidata")))
    broken.set((rec, TW.score, Literal("high")))
    assert bad(broken) - before == {str(TW.outcome), str(TW.chosenItem), str(TW.score)}
