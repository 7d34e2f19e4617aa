"""The place apart from the record (issue 17): facts about a place on the place; how a
document named it and how it was matched on a tw:PlaceRecord pointing at the place; so an
OWL-RL closure (owlrl) over the ontology and the data puts nothing of our namespace on a
Wikidata item. Before, owl:sameAs copied 1,795 record facts onto 933 items."""

from __future__ import annotations

import owlrl
import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import OWL, RDF, SKOS
from rdflib.term import _toPythonMapping

from kg import paths
from kg.rdf import emit
from kg.rdf.serialize import union_graph
from kg.rdf.vocab import PROV, SCHEMA, TW, WD
from tests.rdf.fixtures import links, results

RECORD_TERMS = {TW.namedIn, TW.reconciliationStatus, TW.reconciliation, TW.candidate}


@pytest.fixture(scope="module")
def data() -> Graph:
    return union_graph(emit(results(), links())[0])


def closure(data: Graph) -> Graph:
    g = Graph()
    g.parse(paths.ONTOLOGY, format="turtle")
    g += data
    # owlrl swaps rdflib's lexical conversions for its own and, after, puts back rdflib's
    # table, not the one in use (pySHACL then reads "1979Z"^^xsd:gYear as ill-typed): keep
    # and restore the mapping, so later tests see rdflib as it was.
    saved = dict(_toPythonMapping)
    try:
        owlrl.DeductiveClosure(owlrl.OWLRL_Semantics).expand(g)
    finally:
        _toPythonMapping.clear()
        _toPythonMapping.update(saved)
    return g


def ours_on_wikidata(g: Graph) -> set[tuple[str, str]]:
    return {(str(s), str(p)) for s, p, _ in g
            if str(s).startswith(str(WD)) and str(p).startswith(str(TW))}


def test_places_carry_no_record_facts(data: Graph) -> None:
    places = set(data.subjects(RDF.type, TW.Place))
    assert places
    for place in places:
        assert not {p for p in data.predicates(place, None)} & RECORD_TERMS, place
        assert not list(data.objects(place, OWL.sameAs)), place
    records = set(data.subjects(RDF.type, TW.PlaceRecord))
    assert {data.value(r, SCHEMA.about) for r in records} <= places
    for record in records:
        assert data.value(record, TW.namedIn) is not None
        assert data.value(record, TW.reconciliationStatus) is not None
        assert data.value(record, PROV.wasDerivedFrom) is not None


def test_owl_rl_puts_nothing_of_ours_on_wikidata(data: Graph) -> None:
    entailed = closure(data)
    assert len(entailed) > len(data)  # the reasoner did run
    assert ours_on_wikidata(entailed) == set()


def test_owl_same_as_would_copy_the_place_onto_wikidata(data: Graph) -> None:
    """Why skos:exactMatch: with owl:sameAs in its place, the same closure states the
    place's own tw: facts (country, twins) again with the Wikidata item as subject."""
    same_as = Graph()
    for s, p, o in data:
        same_as.add((s, OWL.sameAs if p == SKOS.exactMatch else p, o))
    copied = ours_on_wikidata(closure(same_as))
    assert (str(WD["Q956"]), str(TW.twinnedWith)) in copied
    assert not {p for _, p in copied} & {str(t) for t in RECORD_TERMS}


def test_the_ontology_declares_the_record_terms_on_the_record() -> None:
    ontology = Graph().parse(paths.ONTOLOGY, format="turtle")
    for term in RECORD_TERMS:
        assert ontology.value(term, URIRef("http://www.w3.org/2000/01/rdf-schema#domain")) \
            == TW.PlaceRecord, term
    assert (TW.Reconciliation, URIRef("http://www.w3.org/2000/01/rdf-schema#subClassOf"),
            PROV.Activity) in ontology
