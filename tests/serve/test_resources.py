"""Linked Data over real HTTP: every IRI the graph mints dereferences on a live server.

The server serves a graph built from the seeds into a temporary folder, as ``kg serve``
does. QIDs and lines used, with their evidence: Q956 Beijing (``seeds/wikidata-links.tsv``
row ``zhwiki cn 北京市``, gazetteer ``gf_wikidata_cities.tsv:90``); its twinning with Tokyo
(Q1490, ``gf_wikidata_cities.tsv:153``) at ``seeds/zhwiki-prc-sister-cities.md`` line 7
(1979-03-14); ``membership/lhc/L10`` is Tunis (``seeds/lhc-member-cities-2025-12.txt``
line 10); 華盛頓 is left ambiguous in the links table (row ``zhwiki partner 華盛頓``), so
its node is ``place/zhwiki/<title>``, percent-encoded.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import pyoxigraph as ox
import pytest
import requests

from kg import paths
from kg.serve import descriptions, linked_data
from kg.serve.app import Site, open_site
from tests.serve.conftest import serve_site

BASE = "https://w3id.org/twinning-kg/"
ONTOLOGY_NS = BASE + "ontology#"
WASHINGTON = "place/zhwiki/" + quote("華盛頓", safe="")
KINDS = {
    "place": "place/Q956",
    "unresolved place": WASHINGTON,
    "twinning": "twinning/zhwiki/L12",
    "membership": "membership/lhc/L10",
    "source": "source/zhwiki",
    "network": "network/league-of-historical-cities",
    "period": "period/as-of-2025-12",
    "graph": "graph/lhc",
}
FORMATS = {
    "text/turtle": (".ttl", ox.RdfFormat.TURTLE),
    "application/n-triples": (".nt", ox.RdfFormat.N_TRIPLES),
    "application/ld+json": (".jsonld", ox.RdfFormat.JSON_LD),
    "application/rdf+xml": (".rdf", ox.RdfFormat.RDF_XML),
}


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The graph built from the seeds, as ``kg build`` writes it."""
    from kg.build import build

    out = tmp_path_factory.mktemp("deref") / "dist"
    build(out=out, formats=("trig", "ttl"))
    return out


@pytest.fixture(scope="module")
def graph(dist: Path) -> ox.Store:
    """The built graph, read directly (what the descriptions are checked against)."""
    store = ox.Store()
    store.bulk_load(path=str(dist / "twinning.trig"), format=ox.RdfFormat.TRIG)
    return store


def _site(dist: Path) -> Site:
    return open_site([dist / "twinning.trig"], void=dist / "void.ttl",
                     dumps=sorted(p for p in dist.iterdir() if p.is_file()),
                     queries_dir=paths.QUERIES_DIR, title="twinning-kg")


@pytest.fixture(scope="module")
def server(dist: Path) -> Iterator[str]:
    with serve_site(_site(dist)) as url:
        yield url


def get(url: str, accept: str | None = None, **kwargs: Any) -> requests.Response:
    headers = {"Accept": accept} if accept else {}
    headers.update(kwargs.pop("headers", {}))
    return requests.get(url, headers=headers, allow_redirects=False, timeout=60, **kwargs)


def parse(body: bytes, fmt: ox.RdfFormat) -> set[ox.Triple]:
    return {q.triple for q in ox.parse(body, format=fmt)}


def ground(triples: set[ox.Triple]) -> set[ox.Triple]:
    return {t for t in triples
            if not isinstance(t.subject, ox.BlankNode) and not isinstance(t.object, ox.BlankNode)}


def outgoing(graph: ox.Store, iri: str) -> set[ox.Triple]:
    return {q.triple for q in graph.quads_for_pattern(ox.NamedNode(iri), None, None, None)}


# --- content negotiation: 303 to a document, then the document ---------------------------------

@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("media", list(FORMATS))
def test_things_redirect_to_their_description(server: str, graph: ox.Store, kind: str,
                                              media: str) -> None:
    path = KINDS[kind]
    suffix, fmt = FORMATS[media]
    answer = get(f"{server}/{path}", media)
    assert answer.status_code == 303, answer.text
    assert answer.headers["Location"] == f"/{path}{suffix}"
    assert "Accept" in answer.headers["Vary"]
    document = get(server + answer.headers["Location"], media)
    assert document.status_code == 200
    assert document.headers["Content-Type"].split(";")[0] == media
    triples = parse(document.content, fmt)
    iri = BASE + path
    # The bounded description holds every statement about the resource...
    assert outgoing(graph, iri) <= triples
    # ...and every statement pointing to it (none of these is over the cap).
    incoming = {q.triple for q in graph.quads_for_pattern(None, None, ox.NamedNode(iri), None)}
    assert incoming <= triples
    assert triples, "a description is never empty"
    assert document.headers.get("X-Description-Truncated") is None


def test_every_iri_the_graph_mints_dereferences(server: str, graph: ox.Store) -> None:
    """Each IRI under the base in the built graph (subject, object or named graph; a hash
    IRI through its document) is answered with a 303 to a description that names it, and
    the w3id.org rules send it to the same document."""
    from tests.test_w3id import DEPLOY, parse_rules, resolve

    rules = parse_rules((paths.PROJECT_ROOT / "w3id" / "twinning-kg" / ".htaccess")
                        .read_text(encoding="utf-8"))
    iris = {term.value for q in graph for term in (q.subject, q.object, q.graph_name)
            if isinstance(term, ox.NamedNode) and term.value.startswith(BASE)
            and not term.value.startswith(ONTOLOGY_NS)}
    documents = {iri.split("#")[0] for iri in iris}
    assert len(documents) > 1000
    session = requests.Session()
    for iri in sorted(documents):
        path = iri[len(BASE):]
        answer = session.get(f"{server}/{path}", headers={"Accept": "application/n-triples"},
                             allow_redirects=False, timeout=60)
        assert answer.status_code == 303, (iri, answer.status_code)
        assert answer.headers["Location"] == f"/{path}.nt"
        body = session.get(server + answer.headers["Location"], timeout=60)
        assert body.status_code == 200 and f"<{iri}>".encode() in body.content, iri
        status, location = resolve(rules, path, "application/n-triples") or (0, "")
        # Apache re-escapes in lower-case hex: the same IRI to the server.
        assert (status, unquote(location)) == (303, unquote(f"{DEPLOY}/{path}.nt")), iri


def test_place_description_carries_labels_of_linked_nodes(server: str, graph: ox.Store) -> None:
    body = get(f"{server}/place/Q956.ttl").content
    triples = parse(body, ox.RdfFormat.TURTLE)
    tokyo = ox.NamedNode(BASE + "place/Q1490")
    label = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
    expected = {q.triple for q in graph.quads_for_pattern(tokyo, label, None, None)}
    assert expected and expected <= triples


def test_source_document_carries_its_lines(server: str, graph: ox.Store) -> None:
    triples = parse(get(f"{server}/source/zhwiki.nt").content, ox.RdfFormat.N_TRIPLES)
    line = BASE + "source/zhwiki#L7"
    assert outgoing(graph, line) and outgoing(graph, line) <= triples


def test_graph_and_dataset_are_described_from_void(server: str) -> None:
    triples = parse(get(f"{server}/graph/lhc.ttl").content, ox.RdfFormat.TURTLE)
    void_triples = ox.NamedNode("http://rdfs.org/ns/void#triples")
    assert any(t.subject == ox.NamedNode(BASE + "graph/lhc") and t.predicate == void_triples
               for t in triples)
    assert get(f"{server}/dataset", "text/turtle").status_code == 303
    dataset = parse(get(f"{server}/dataset.ttl").content, ox.RdfFormat.TURTLE)
    assert any(t.subject == ox.NamedNode(BASE + "dataset") for t in dataset)


@pytest.mark.parametrize(("accept", "suffix"), [
    ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", ".html"),  # Chromium
    ("*/*", ".html"),
    (None, ".html"),
    ("text/turtle;q=0.5, application/rdf+xml", ".rdf"),
    ("application/ld+json, text/html;q=0.1", ".jsonld"),
    ("text/*", ".html"),
])
def test_accept_with_q_values(server: str, accept: str | None, suffix: str) -> None:
    answer = get(f"{server}/place/Q956", accept)
    assert answer.status_code == 303 and answer.headers["Location"] == "/place/Q956" + suffix


def test_unacceptable_accept_is_406(server: str) -> None:
    assert get(f"{server}/place/Q956", "image/png").status_code == 406


def test_redirect_followed_as_curl_L_does(server: str) -> None:
    answer = requests.get(f"{server}/place/Q956", headers={"Accept": "text/turtle"}, timeout=60)
    assert answer.status_code == 200 and answer.url.endswith("/place/Q956.ttl")
    assert "<https://w3id.org/twinning-kg/place/Q956>" in answer.text


@pytest.mark.parametrize("spelling", [
    WASHINGTON,                       # as the graph mints it
    WASHINGTON.lower(),               # lower-case escapes
    "place/zhwiki/華盛頓",             # raw UTF-8, as some clients send it
])
def test_percent_encoding_variants_reach_one_resource(server: str, spelling: str) -> None:
    answer = get(f"{server}/{spelling}", "text/turtle")
    assert answer.status_code == 303
    assert answer.headers["Location"] == f"/{WASHINGTON}.ttl"


def test_head_answers_like_get(server: str) -> None:
    answer = requests.head(f"{server}/place/Q956.ttl", timeout=60)
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/turtle")
    assert requests.head(f"{server}/place/Q956", timeout=60).status_code == 303


@pytest.mark.parametrize("path", [
    "/place/Q1", "/place/nowhere", "/place/Q956.xyz", "/place/Q956.html.ttl",
    "/twinning/zhwiki/L999999", "/membership/lhc/L1", "/source/nope", "/graph/none",
    "/place/%3Cscript%3E", "/place/%00", "/place/" + "a" * 5000, "/place/Q956%23L1",
    "/source/zhwiki%23L7", "/ontology.exe", "/ontology/9.9.9",
])
def test_unknown_is_404(server: str, path: str) -> None:
    answer = get(server + path, "text/turtle")
    assert answer.status_code == 404, (path, answer.status_code)
    assert "<script>" not in answer.text or answer.headers["Content-Type"].startswith("text/plain")


# --- HTML for people --------------------------------------------------------------------------

def test_place_page(server: str) -> None:
    answer = get(f"{server}/place/Q956.html")
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "text/html; charset=utf-8"
    page = answer.text
    assert "Beijing" in page and "北京市" in page  # the names, in every language
    assert 'href="https://www.wikidata.org/wiki/Q956"' in page
    assert 'href="/static/style.css"' in page
    # No inline script: only the map's own files (static/map.js and its vendored libraries).
    assert page.count("<script") == page.count('<script src="/static/')
    assert 'data-kg-place-map="https://w3id.org/twinning-kg/place/Q956"' in page
    # Tokyo, its date and the source line behind it (seeds/zhwiki-prc-sister-cities.md:7).
    assert 'href="/place/Q1490"' in page and "1979-03-14" in page
    assert 'href="/source/zhwiki#L7"' in page and "zhwiki-prc-sister-cities.md:7" in page
    assert 'href="/twinning/zhwiki/L7"' in page
    # The alternates of the page, for machines that follow links.
    assert 'rel="alternate" type="text/turtle" href="/place/Q956.ttl"' in page


def test_membership_and_its_member(server: str) -> None:
    page = get(f"{server}/membership/lhc/L10.html").text
    assert 'href="/place/Q3572"' in page  # Tunis
    assert 'href="/network/league-of-historical-cities"' in page
    assert 'href="/source/lhc#L10"' in page
    tunis = get(f"{server}/place/Q3572.html").text
    assert 'id="memberships"' in tunis and 'href="/membership/lhc/L10"' in tunis


def test_unresolved_place_shows_its_reconciliation(server: str) -> None:
    page = get(f"{server}/{WASHINGTON}.html").text
    assert "華盛頓" in page and 'id="reconciliation"' in page
    # The candidates of the links table row, as Wikidata links (gf_wikidata_cities.tsv:2926).
    assert 'href="https://www.wikidata.org/wiki/Q79281"' in page


def test_source_page_lists_lines_with_what_they_state(server: str) -> None:
    page = get(f"{server}/source/zhwiki.html").text
    assert 'id="L7"' in page and 'href="/twinning/zhwiki/L7"' in page


def test_twinning_page(server: str) -> None:
    page = get(f"{server}/twinning/zhwiki/L12.html").text
    assert 'href="/place/Q956"' in page and 'href="/source/zhwiki#L12"' in page


def test_page_language_follows_lang_and_accept_language(server: str) -> None:
    onto = get(f"{server}/ontology.html", headers={"Accept-Language": "ja"}).text
    assert '<html lang="ja">' in onto and "<title>姉妹都市オントロジー</title>" in onto
    hant = get(f"{server}/ontology.html?lang=zh-Hant").text
    assert "<title>友好城市本體</title>" in hant
    tw = get(f"{server}/ontology.html", headers={"Accept-Language": "zh-TW"}).text
    assert "<title>友好城市本體</title>" in tw


# --- the ontology -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def ontology() -> ox.Store:
    store = ox.Store()
    store.load(path=str(paths.ONTOLOGY), format=ox.RdfFormat.TURTLE)
    return store


@pytest.mark.parametrize("media", list(FORMATS))
def test_ontology_by_content_negotiation(server: str, ontology: ox.Store, media: str) -> None:
    suffix, fmt = FORMATS[media]
    answer = get(f"{server}/ontology", media)
    assert answer.status_code == 200  # the ontology document: a direct description
    assert answer.headers["Content-Location"] == "/ontology" + suffix
    assert "Accept" in answer.headers["Vary"]
    expected = {q.triple for q in ontology}
    for body in (answer.content, get(f"{server}/ontology{suffix}").content):
        got = parse(body, fmt)
        # Blank nodes (owl:unionOf lists) get new names: compare the rest, and the counts.
        assert ground(got) == ground(expected) and len(got) == len(expected)


def test_ontology_page_documents_every_term(server: str, ontology: ox.Store) -> None:
    answer = get(f"{server}/ontology", "text/html")
    assert answer.status_code == 200 and answer.headers["Content-Location"] == "/ontology.html"
    page = answer.text
    terms = {q.subject.value for q in ontology
             if isinstance(q.subject, ox.NamedNode) and q.subject.value.startswith(ONTOLOGY_NS)}
    assert len(terms) > 20
    label = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
    comment = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#comment")
    import html as html_module

    for term in sorted(terms):
        local = term[len(ONTOLOGY_NS):]
        assert f'id="{local}"' in page, local
        for predicate in (label, comment):
            texts = {q.object for q in ontology.quads_for_pattern(ox.NamedNode(term), predicate,
                                                                   None, None)}
            langs = {t.language for t in texts if isinstance(t, ox.Literal)}
            if predicate == label:
                assert {"en", "ja", "zh-hans", "zh-hant"} <= langs, term
            for text in texts:
                # As a browser reads it (escapers spell an apostrophe differently).
                assert text.value in html_module.unescape(page), (term, text.value)


def test_ontology_version_iri_dereferences(server: str) -> None:
    answer = get(f"{server}/ontology/0.1.0", "text/turtle")
    assert answer.status_code == 200 and "owl:Ontology" in answer.text


# --- hostile data, bounds -----------------------------------------------------------------------

HOSTILE_TTL = """\
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix tw: <https://w3id.org/twinning-kg/ontology#> .
<https://w3id.org/twinning-kg/place/京都> a tw:Place ; rdfs:label "raw IRI"@en .
<https://w3id.org/twinning-kg/place/x> a tw:Place ;
  rdfs:label "<script>alert(1)</script>"@en , "\\" onmouseover=\\"alert(2)"@ja ;
  rdfs:seeAlso <javascript:alert(3)> , <https://example.org/a?b=1&c=<2>> .
"""


# A place with a reconciliation node as the graph may describe it (whatever its properties
# are called, the page shows them). Q34600 Kyoto: gazetteer gf_wikidata_cities.tsv:1735;
# Q956 (Beijing, see above) stands in as a losing candidate.
RECONCILIATION_TTL = """\
@prefix tw: <https://w3id.org/twinning-kg/ontology#> .
@prefix prov: <http://www.w3.org/ns/prov#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix wd: <http://www.wikidata.org/entity/> .
@prefix r: <https://w3id.org/twinning-kg/reconciliation/lhc/Kyoto> .
<https://w3id.org/twinning-kg/place/Q34600> a tw:Place ; rdfs:label "Kyoto"@en ;
  tw:reconciliation <https://w3id.org/twinning-kg/reconciliation/lhc/Kyoto> .
<https://w3id.org/twinning-kg/reconciliation/lhc/Kyoto> a tw:Reconciliation ;
  tw:method "gazetteer-exact" ; tw:score 1.4 ; tw:reconciliationStatus tw:Resolved ;
  tw:evidenceText "gf_wikidata_cities.tsv:1735 Q34600 'Kyoto'" ;
  prov:wasDerivedFrom <https://w3id.org/twinning-kg/source/links#L134> ;
  tw:hasCandidate <https://w3id.org/twinning-kg/reconciliation/lhc/Kyoto/c1> ,
    [ tw:item wd:Q956 ; tw:score 0.25 ] .
<https://w3id.org/twinning-kg/reconciliation/lhc/Kyoto/c1> tw:item wd:Q34600 ; tw:score 1.4 .
"""


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory: pytest.TempPathFactory) -> Callable[[], Site]:
    folder = tmp_path_factory.mktemp("hostile")
    data = folder / "hostile.ttl"
    data.write_text(HOSTILE_TTL.replace("<2>", "%3C2%3E"), encoding="utf-8")
    hub = ["@prefix tw: <https://w3id.org/twinning-kg/ontology#> ."]
    hub += [f"<https://w3id.org/twinning-kg/twinning/t/L{i}> tw:place "
            "<https://w3id.org/twinning-kg/place/hub> ." for i in range(40)]
    (folder / "hub.ttl").write_text("\n".join(hub) + "\n", encoding="utf-8")
    (folder / "recon.ttl").write_text(RECONCILIATION_TTL, encoding="utf-8")
    return lambda: open_site([data, folder / "hub.ttl", folder / "recon.ttl"], title="hostile")


def test_values_are_escaped_and_only_http_iris_are_links(hostile_site: Callable[[], Site]) -> None:
    with serve_site(hostile_site()) as url:
        page = get(f"{url}/place/x.html").text
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert '" onmouseover="' not in page
    assert 'href="javascript:' not in page and "javascript:alert(3)" in page
    assert 'href="https://example.org/a?b=1&amp;c=%3C2%3E"' in page


def test_non_ascii_iri_goes_percent_encoded_in_headers(
        hostile_site: Callable[[], Site]) -> None:
    with serve_site(hostile_site()) as url:
        answer = get(f"{url}/place/京都", "text/turtle")  # requests sends it percent-encoded
        assert answer.status_code == 303
        assert answer.headers["Location"] == "/place/%E4%BA%AC%E9%83%BD.ttl"
        document = get(url + answer.headers["Location"])
        assert document.status_code == 200
        assert document.headers["Link"] == (
            '<https://w3id.org/twinning-kg/place/%E4%BA%AC%E9%83%BD>; rel="describes"')
        assert "<https://w3id.org/twinning-kg/place/京都>" in document.text


def test_named_graph_without_void_gets_its_size(tmp_path: Path) -> None:
    data = tmp_path / "g.trig"
    data.write_text("<https://w3id.org/twinning-kg/graph/a> {\n"
                    "  <https://w3id.org/twinning-kg/place/p> a <http://example.org/C> .\n"
                    "  <https://w3id.org/twinning-kg/place/q> a <http://example.org/C> . }\n",
                    encoding="utf-8")
    with serve_site(open_site([data], title="graphs")) as url:
        answer = get(f"{url}/graph/a.nt")
    assert answer.status_code == 200
    assert ('<https://w3id.org/twinning-kg/graph/a> <http://rdfs.org/ns/void#triples> '
            '"2"^^<http://www.w3.org/2001/XMLSchema#integer> .') in answer.text


def test_document_cache_stays_within_its_bound(hostile_site: Callable[[], Site],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(linked_data, "CACHE_BYTES", 4096)
    with serve_site(hostile_site()) as url:
        first = get(f"{url}/place/x.html").text
        for path in ("place/x.ttl", "place/x.nt", "place/hub.nt", "place/hub.html",
                     "place/Q34600.html", "place/Q34600.jsonld", "place/x.rdf"):
            assert get(f"{url}/{path}").status_code == 200
        assert get(f"{url}/place/x.html").text == first
    assert linked_data._cache_size <= 4096


def test_reconciliation_nodes_are_shown(hostile_site: Callable[[], Site]) -> None:
    with serve_site(hostile_site()) as url:
        page = get(f"{url}/place/Q34600.html").text
        node = get(f"{url}/reconciliation/lhc/Kyoto", "text/turtle")
    section = page.split('id="reconciliation"', 1)[1].split("</section>", 1)[0]
    assert "gazetteer-exact" in section and "gf_wikidata_cities.tsv:1735" in section
    assert 'href="/source/links#L134"' in section
    # Both candidates with their scores: one an IRI under the node, one a blank node.
    assert 'href="https://www.wikidata.org/wiki/Q34600"' in section and "1.4" in section
    assert 'href="https://www.wikidata.org/wiki/Q956"' in section and "0.25" in section
    # A kind of IRI the server has no rule for still dereferences.
    assert node.status_code == 303 and node.headers["Location"] == "/reconciliation/lhc/Kyoto.ttl"


def test_incoming_cap_is_stated(hostile_site: Callable[[], Site],
                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(descriptions, "MAX_IN", 10)
    with serve_site(hostile_site()) as url:
        answer = get(f"{url}/place/hub.nt")
        page = get(f"{url}/place/hub.html").text
    assert answer.headers["X-Description-Truncated"] == "true"
    triples = parse(answer.content, ox.RdfFormat.N_TRIPLES)
    hub = ox.NamedNode(BASE + "place/hub")
    assert len([t for t in triples if t.object == hub]) == 10
    assert "cut at the server" in page


# --- the page's data ----------------------------------------------------------------------------

def test_info_has_sources_build_time_and_distinct_types(server: str) -> None:
    info = requests.get(f"{server}/api/info", timeout=60).json()
    assert BASE + "source/zhwiki" in info["sources"]
    zhwiki = next(s for s in info["source_details"] if s["iri"] == BASE + "source/zhwiki")
    assert zhwiki["href"] == "/source/zhwiki" and zhwiki["file"] == "zhwiki-prc-sister-cities.md"
    assert zhwiki["titles"]["en"]
    assert info["built"] or info["modified"] or info["created"]
    curies = [c["curie"] for c in info["classes"]]
    assert "tw:Place" in curies and "schema:Place" in curies
    assert len(set(curies)) == len(curies)
    place = next(c for c in info["classes"] if c["curie"] == "tw:Place")
    assert {"en", "ja", "zh-hans", "zh-hant"} <= set(place["labels"])
    assert info["titles"]["ja"] and info["uri_space"] == BASE


def test_favicon(server: str) -> None:
    for path in ("/favicon.ico", "/static/favicon.svg"):
        answer = get(server + path)
        assert answer.status_code == 200 and answer.headers["Content-Type"] == "image/svg+xml"
        assert b"<svg" in answer.content
    assert 'rel="icon"' in get(server + "/").text


# --- the page in a real headless Chromium -------------------------------------------------------

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        pytest.skip("needs Debian's chromium and chromedriver (.ci/run installs them)")
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-dev-shm-usage", "--window-size=1280,1100",
                 "--lang=en-US", f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.mark.browser
def test_language_switch_and_local_links(browser: Any, server: str, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    wait = WebDriverWait(browser, 30)
    browser.get(server + "/")
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#classes li"))
    classes = browser.find_element(By.ID, "classes").text
    # Two types, two names: tw:Place and schema:Place are told apart.
    assert "tw:Place place: 643" in classes or "tw:Place" in classes
    assert "schema:Place" in classes and "tw:Place" in classes
    facts = browser.find_element(By.ID, "facts").text
    assert "zhwiki-prc-sister-cities.md" in facts and "Last build" in facts
    assert browser.find_element(By.CSS_SELECTOR, "link[rel=icon]")

    Select(browser.find_element(By.ID, "lang-select")).select_by_value("ja")
    wait.until(lambda d: d.find_element(By.ID, "title").text == "姉妹都市ナレッジグラフ")
    assert "場所" in browser.find_element(By.ID, "classes").text
    assert browser.find_element(By.ID, "title").get_attribute("lang") == "ja"
    Select(browser.find_element(By.ID, "lang-select")).select_by_value("zh-Hant")
    wait.until(lambda d: "地點" in d.find_element(By.ID, "classes").text)
    # The Traditional title from VoID, not the Simplified one (issue 19).
    wait.until(lambda d: d.find_element(By.ID, "title").text == "友好城市知識圖譜")

    # A result IRI under the base links to the local page, the Wikidata link beside it.
    browser.execute_script(  # the query editor (YASQE) is a CodeMirror
        "document.querySelector('#editor .CodeMirror').CodeMirror.setValue(arguments[0])",
        "SELECT ?place WHERE { VALUES ?place { <https://w3id.org/twinning-kg/place/Q956> } }")
    browser.find_element(By.ID, "run").click()
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#results tbody tr"))
    hrefs = [a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, "#results a")]
    assert f"{server}/place/Q956?lang=zh-Hant" in hrefs
    assert "https://www.wikidata.org/wiki/Q956" in hrefs
    browser.find_element(By.CSS_SELECTOR, "#results a[href^='/place/']").click()
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#twins"))
    assert browser.current_url == f"{server}/place/Q956.html?lang=zh-Hant"
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "zh-Hant"
    assert "北京市" in browser.find_element(By.TAG_NAME, "h1").text
    browser.save_screenshot(str(tmp_path / "place.png"))
