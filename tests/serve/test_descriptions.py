"""Complete descriptions over real HTTP (issue 17): a resource's description holds the hash
resources it links to, the datasets it belongs to with their licences (per named graph,
from VoID), and ``Accept: application/json`` gets JSON-LD.

Data used, with its evidence: Q956 Beijing (``seeds/wikidata-links.tsv`` row ``zhwiki cn
北京市``, gazetteer ``gf_wikidata_cities.tsv:90``), whose ``#geometry`` and
``#reconciliation/…`` nodes the build makes. The two-licence dataset below is made up
for the test (``example.org`` places, no QIDs): the CC BY-SA and ODbL licence IRIs are
those ``LICENSE-DATA`` and ``shared/gazetteer/README.md`` name.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
import requests
from rdflib.compare import isomorphic

from kg import paths
from kg.serve.app import open_site
from kg.serve.limits import Limits
from tests.serve.conftest import serve_site

BASE = "https://w3id.org/twinning-kg/"
BEIJING = BASE + "place/Q956"
VOID_NS = "http://rdfs.org/ns/void#"
LICENSE = "http://purl.org/dc/terms/license"
CC_BY_SA = "https://creativecommons.org/licenses/by-sa/4.0/"
ODBL = "https://opendatacommons.org/licenses/odbl/1-0/"


def get(url: str, accept: str | None = None) -> requests.Response:
    return requests.get(url, headers={"Accept": accept} if accept else {},
                        allow_redirects=False, timeout=60)


def triples_of(body: bytes, fmt: ox.RdfFormat) -> set[ox.Triple]:
    return {q.triple for q in ox.parse(body, format=fmt)}


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The graph built from the seeds, as ``kg build`` writes it."""
    from kg.build import build

    out = tmp_path_factory.mktemp("descriptions") / "dist"
    build(out=out, formats=("trig",))
    return out


@pytest.fixture(scope="module")
def graph(dist: Path) -> ox.Store:
    store = ox.Store()
    store.bulk_load(path=str(dist / "twinning.trig"), format=ox.RdfFormat.TRIG)
    return store


@pytest.fixture(scope="module")
def server(dist: Path) -> Iterator[str]:
    site = open_site([dist / "twinning.trig"], void=dist / "void.ttl",
                     queries_dir=paths.QUERIES_DIR, limits=Limits(workers=1))
    with serve_site(site) as url:
        yield url


def test_place_description_holds_the_hash_resources_it_links_to(server: str,
                                                                 graph: ox.Store) -> None:
    described = triples_of(get(f"{server}/place/Q956.nt").content, ox.RdfFormat.N_TRIPLES)
    own = {q.triple for q in graph if isinstance(q.subject, ox.NamedNode)
           and q.subject.value.startswith(BEIJING + "#")}
    kinds = {t.subject.value[len(BEIJING):].split("/")[0] for t in own}
    # The geometry, the reconciliation and its scored candidates (two levels down).
    assert {"#geometry", "#reconciliation"} <= kinds
    assert any("/candidate/" in t.subject.value for t in own)
    assert own <= described


def test_place_page_shows_its_hash_resources_under_their_anchors(server: str,
                                                                 graph: ox.Store) -> None:
    import lxml.html

    tree = lxml.html.fromstring(get(f"{server}/place/Q956.html").text)
    geometry = tree.get_element_by_id("geometry")
    wkt = next(q.object.value for q in graph.quads_for_pattern(
        ox.NamedNode(BEIJING + "#geometry"),
        ox.NamedNode("http://www.opengis.net/ont/geosparql#asWKT"), None))
    assert wkt in geometry.text_content()
    # The reconciliation node under its fragment, its scored candidate inside it.
    # (linked from the place records about Beijing, tw:PlaceRecord schema:about it)
    records = [q.subject for q in graph.quads_for_pattern(
        None, ox.NamedNode("https://schema.org/about"), ox.NamedNode(BEIJING))]
    reconciliation = next(q.object.value for record in records for q in graph.quads_for_pattern(
        record, ox.NamedNode("https://w3id.org/twinning-kg/ontology#reconciliation"), None))
    block = tree.get_element_by_id(reconciliation[len(BEIJING) + 1:])
    assert "gazetteer-exact" in block.text_content()
    assert block.xpath('.//a[@href="https://www.wikidata.org/wiki/Q956"]')


def test_every_place_description_is_complete(server: str, graph: ox.Store) -> None:
    # Every place of the graph: its hash resources all come with it.
    place = ox.NamedNode("https://w3id.org/twinning-kg/ontology#Place")
    rdf_type = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    places = sorted({q.subject.value for q in graph.quads_for_pattern(None, rdf_type, place)})
    assert len(places) > 100
    with_hash = 0
    for iri in places[:: max(1, len(places) // 40)]:
        own = {q.triple for q in graph if isinstance(q.subject, ox.NamedNode)
               and q.subject.value.startswith(iri + "#")}
        with_hash += bool(own)
        path = iri[len(BASE):]
        described = triples_of(get(f"{server}/{path}.nt").content, ox.RdfFormat.N_TRIPLES)
        assert own <= described, iri
    assert with_hash > 10


def test_description_names_its_datasets_and_their_licence(server: str) -> None:
    described = triples_of(get(f"{server}/place/Q956.ttl").content, ox.RdfFormat.TURTLE)
    node = ox.NamedNode(BEIJING)
    datasets = {t.object.value for t in described
                if t.subject == node and t.predicate.value == VOID_NS + "inDataset"}
    # The named graphs that hold what is said about Beijing, as VoID lists them.
    assert datasets == {BASE + "graph/zhwiki", BASE + "graph/links"}
    for dataset in datasets:
        licences = {t.object.value for t in described
                    if t.subject.value == dataset and t.predicate.value == LICENSE}
        assert licences == {CC_BY_SA}
    page = get(f"{server}/place/Q956.html").text
    section = page.split('id="dataset"', 1)[1].split("</section>", 1)[0]
    assert f'href="{CC_BY_SA}"' in section and 'href="/graph/zhwiki"' in section


def test_application_json_gets_json_ld(server: str) -> None:
    answer = get(f"{server}/place/Q956", "application/json")
    assert answer.status_code == 303
    assert answer.headers["Location"] == "/place/Q956.jsonld"
    document = get(server + answer.headers["Location"], "application/json")
    assert document.status_code == 200
    assert document.headers["Content-Type"] == "application/ld+json"
    json.loads(document.content)  # JSON, as asked for
    as_jsonld = triples_of(document.content, ox.RdfFormat.JSON_LD)
    as_turtle = triples_of(get(f"{server}/place/Q956.ttl").content, ox.RdfFormat.TURTLE)
    assert as_jsonld == as_turtle and as_jsonld
    # A browser still gets HTML; a client that prefers JSON-LD by name gets it too.
    assert get(f"{server}/place/Q956", "text/html,*/*;q=0.8").headers["Location"].endswith(
        ".html")
    onto = get(f"{server}/ontology", "application/json")
    assert onto.status_code == 200 and onto.headers["Content-Type"] == "application/ld+json"
    assert onto.headers["Content-Location"] == "/ontology.jsonld"


# Two named graphs under two licences, as the ODbL coordinates will be: the place's names
# in graph/names (which inherits the dataset's CC BY-SA), its geometry in graph/coords
# (ODbL, stated on the graph). A candidate is a blank node.
TWO_LICENCES_TRIG = """\
@prefix tw: <https://w3id.org/twinning-kg/ontology#> .
@prefix geo: <http://www.opengis.net/ont/geosparql#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
<https://example.org/kg/graph/names> {
  <https://example.org/kg/place/a> a tw:Place ; rdfs:label "A"@en ;
    tw:reconciliation <https://example.org/kg/place/a#reconciliation> .
  <https://example.org/kg/place/a#reconciliation> tw:method "by hand" ;
    tw:scoredCandidate [ tw:candidateScore 0.5 ; rdfs:label "second best" ] .
}
<https://example.org/kg/graph/coords> {
  <https://example.org/kg/place/a> geo:hasGeometry <https://example.org/kg/place/a#geometry> .
  <https://example.org/kg/place/a#geometry> geo:asWKT "POINT(1 2)"^^geo:wktLiteral .
}
"""
TWO_LICENCES_VOID = f"""\
@prefix void: <http://rdfs.org/ns/void#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
<https://example.org/kg/dataset> a void:Dataset ; dcterms:title "Example"@en ;
  void:uriSpace "https://example.org/kg/" ; void:triples 9 ;
  dcterms:license <{CC_BY_SA}> ;
  void:subset <https://example.org/kg/graph/names> , <https://example.org/kg/graph/coords> .
<https://example.org/kg/graph/names> a void:Dataset .
<https://example.org/kg/graph/coords> a void:Dataset ; dcterms:license <{ODBL}> .
"""


def test_licence_is_taken_per_named_graph(tmp_path: Path) -> None:
    data = tmp_path / "two.trig"
    data.write_text(TWO_LICENCES_TRIG, encoding="utf-8")
    void = tmp_path / "void.ttl"
    void.write_text(TWO_LICENCES_VOID, encoding="utf-8")
    with serve_site(open_site([data], void=void, limits=Limits(workers=1))) as url:
        document = get(f"{url}/place/a.ttl")
        page = get(f"{url}/place/a.html").text
    assert document.status_code == 200
    described = rdflib.Graph().parse(data=document.content, format="turtle")
    ex = "https://example.org/kg/"
    expected = rdflib.Graph().parse(data=f"""
        @prefix void: <http://rdfs.org/ns/void#> .
        @prefix dcterms: <http://purl.org/dc/terms/> .
        <{ex}place/a> void:inDataset <{ex}graph/names> , <{ex}graph/coords> .
        <{ex}graph/names> dcterms:license <{CC_BY_SA}> .
        <{ex}graph/coords> dcterms:license <{ODBL}> .
        """, format="turtle")
    # The datasets and licences, and the document's hash and blank nodes, all of them.
    got = rdflib.Graph()
    for triple in described:
        if str(triple[1]) in (VOID_NS + "inDataset", LICENSE):
            got.add(triple)
    assert isomorphic(got, expected)
    # Every statement of the data (the blank-node candidate included) is in the
    # description, and nothing else but types, datasets and licences.
    def untyped(graph: rdflib.Graph) -> rdflib.Graph:
        out = rdflib.Graph()
        for triple in graph:
            if str(triple[1]) not in (str(rdflib.RDF.type), VOID_NS + "inDataset", LICENSE):
                out.add(triple)
        return out

    # The data's triples, whatever graph holds them (read by a second engine, pyoxigraph).
    stated = {q.triple for q in ox.parse(TWO_LICENCES_TRIG.encode(), format=ox.RdfFormat.TRIG)}
    whole = rdflib.Graph().parse(data=ox.serialize(list(stated), format=ox.RdfFormat.N_TRIPLES),
                                 format="nt")
    assert isomorphic(untyped(described), untyped(whole))
    section = page.split('id="dataset"', 1)[1].split("</section>", 1)[0]
    assert f'href="{ODBL}"' in section and f'href="{CC_BY_SA}"' in section
