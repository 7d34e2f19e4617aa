"""ontology.ttl: parses strictly, has its header, labels and definitions in four languages,
domains and ranges, and declares every tw: term the emitter and the shapes use."""

from __future__ import annotations

import pyoxigraph
import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS

from kg import paths
from kg.rdf import emit
from kg.rdf.serialize import union_graph
from kg.rdf.vocab import ONTOLOGY_IRI, ONTOLOGY_VERSION_IRI, TW, VANN
from tests.rdf.fixtures import links, results

LANGS = {"en", "ja", "zh-hans", "zh-hant"}


@pytest.fixture(scope="module")
def ontology() -> Graph:
    pyoxigraph.parse(paths.ONTOLOGY.read_bytes(), pyoxigraph.RdfFormat.TURTLE)  # strict
    return Graph().parse(paths.ONTOLOGY, format="turtle")


def _own_terms(graph: Graph) -> set[URIRef]:
    return {
        t for triple in graph for t in triple
        if isinstance(t, URIRef) and str(t).startswith(str(TW)) and t != URIRef(str(TW))
    }


def _declared(ontology: Graph) -> set[URIRef]:
    return {s for s in ontology.subjects(RDF.type, None) if isinstance(s, URIRef)}


def test_header(ontology: Graph) -> None:
    assert (ONTOLOGY_IRI, RDF.type, OWL.Ontology) in ontology
    assert (ONTOLOGY_IRI, OWL.versionIRI, ONTOLOGY_VERSION_IRI) in ontology
    for prop in (DCTERMS.license, DCTERMS.creator, DCTERMS.issued, DCTERMS.modified,
                 VANN.preferredNamespacePrefix, VANN.preferredNamespaceUri):
        assert ontology.value(ONTOLOGY_IRI, prop) is not None, prop
    assert str(ontology.value(ONTOLOGY_IRI, VANN.preferredNamespaceUri)) == str(TW)


def test_every_own_term_has_labels_and_comments_in_four_languages(ontology: Graph) -> None:
    terms = _own_terms(ontology)
    assert len(terms) > 20
    for term in terms:
        for prop in (RDFS.label, RDFS.comment):
            langs = {o.language for o in ontology.objects(term, prop)}  # type: ignore[attr-defined]
            assert {str(x).lower() for x in langs} >= LANGS, f"{term} {prop}"


def test_own_properties_have_domain_and_range(ontology: Graph) -> None:
    props = set(ontology.subjects(RDF.type, OWL.ObjectProperty)) | set(
        ontology.subjects(RDF.type, OWL.DatatypeProperty)
    )
    own = {p for p in props if str(p).startswith(str(TW))}
    assert TW.twinnedWith in own
    for prop in own:
        assert ontology.value(prop, RDFS.domain) is not None, prop
        if prop != TW.candidate:  # a Wikidata item: no class of ours to name
            assert ontology.value(prop, RDFS.range) is not None, prop


def test_twinned_with_is_symmetric_and_aligned(ontology: Graph) -> None:
    assert (TW.twinnedWith, RDF.type, OWL.SymmetricProperty) in ontology
    close = set(ontology.objects(TW.twinnedWith, URIRef("http://www.w3.org/2004/02/skos/core#closeMatch")))
    assert URIRef("http://www.wikidata.org/prop/direct/P190") in close
    assert URIRef("http://dbpedia.org/ontology/twinTown") in close


def test_no_undefined_own_term_in_ontology_emitter_or_shapes(ontology: Graph) -> None:
    declared = _declared(ontology)
    assert _own_terms(ontology) <= declared
    data = union_graph(emit(results(), links())[0])
    assert _own_terms(data) - declared == set()
    shapes = Graph()
    for path in sorted(paths.SHAPES_DIR.glob("*.ttl")):
        shapes.parse(path, format="turtle")
    assert _own_terms(shapes) - declared == set()


def test_every_reused_term_has_a_label(ontology: Graph) -> None:
    """Issue 17: 44 of the 49 reused external terms had no label."""
    reused = {s for s in _declared(ontology)
              if not str(s).startswith(str(TW)) and s != ONTOLOGY_IRI}
    assert len(reused) > 40
    unlabelled = sorted(str(s) for s in reused if ontology.value(s, RDFS.label) is None)
    assert unlabelled == []


def test_twinning_maps_to_wikidata_statements_and_schema_org(ontology: Graph) -> None:
    close = URIRef("http://www.w3.org/2004/02/skos/core#closeMatch")
    schema = "https://schema.org/"
    pq = "http://www.wikidata.org/prop/qualifier/"
    # dbo:twinCity beside dbo:twinTown and P190.
    assert URIRef("http://dbpedia.org/ontology/twinCity") in set(
        ontology.objects(TW.twinnedWith, close))
    # A schema.org consumer reads tw:startDate/tw:endDate as schema:startDate/endDate of a
    # schema:Role, the class those properties are meant for.
    assert (TW.Twinning, RDFS.subClassOf, URIRef(schema + "Role")) in ontology
    assert (TW.startDate, RDFS.subPropertyOf, URIRef(schema + "startDate")) in ontology
    # A P190 statement: start and end qualifiers.
    assert (TW.startDate, close, URIRef(pq + "P580")) in ontology
    assert (TW.endDate, close, URIRef(pq + "P582")) in ontology
    assert (TW.Twinning, close, URIRef("http://wikiba.se/ontology#Statement")) in ontology
