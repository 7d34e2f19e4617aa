"""kg.serve.protocol without HTTP: request parsing, negotiation, analysis, results, engine."""

from __future__ import annotations

import json

import pyoxigraph as ox
import pytest

from kg.serve.protocol import (
    Engine,
    Operation,
    ProtocolError,
    analyse_query,
    negotiate,
    parse_request,
    serialize_solutions,
)

FORM = "application/x-www-form-urlencoded"


def test_get_query_and_dataset() -> None:
    op = parse_request("GET", "query=ASK%7B%7D&default-graph-uri=http%3A%2F%2Fe%2Fg"
                              "&named-graph-uri=http%3A%2F%2Fe%2Fh", None, b"")
    assert op == Operation("ASK{}", ("http://e/g",), ("http://e/h",))


def test_form_post_merges_url_parameters() -> None:
    op = parse_request("POST", "default-graph-uri=http%3A%2F%2Fe%2Fg", FORM + "; charset=UTF-8",
                       b"query=ASK+%7B%7D")
    assert op == Operation("ASK {}", ("http://e/g",))


def test_direct_post() -> None:
    op = parse_request("POST", "named-graph-uri=http%3A%2F%2Fe%2Fh",
                       "application/sparql-query", "ASK { \"京都\" }".encode())
    assert op == Operation('ASK { "京都" }', (), ("http://e/h",))


def test_no_query_is_none() -> None:
    assert parse_request("GET", "", None, b"").query is None


@pytest.mark.parametrize(("method", "qs", "ctype", "body", "status"), [
    ("GET", "query=a&query=b", None, b"", 400),
    ("GET", "query=", None, b"", 400),
    ("GET", "query=a&update=b", None, b"", 400),
    ("GET", "update=CLEAR+ALL", None, b"", 403),
    ("GET", "query=a&using-graph-uri=http%3A%2F%2Fe", None, b"", 403),
    ("POST", "", "application/sparql-update", b"CLEAR ALL", 403),
    ("POST", "", FORM, b"update=CLEAR+ALL&update=CLEAR+NAMED", 403),
    ("POST", "", None, b"ASK {}", 415),
    ("POST", "", "text/plain", b"ASK {}", 415),
    ("POST", "", "application/sparql-query; charset=utf-16", b"A\x00", 415),
    ("POST", "", FORM + "; charset=latin-1", b"query=a", 415),
    ("POST", "", "application/sparql-query", b"\xff\xfe", 400),
    ("POST", "query=x", "application/sparql-query", b"ASK {}", 400),
    ("GET", "query=%FF", None, b"", 400),
    ("GET", "query=a&default-graph-uri=not%20an%20iri", None, b"", 400),
    ("PUT", "query=a", None, b"", 405),
])
def test_refusals(method: str, qs: str, ctype: str | None, body: bytes, status: int) -> None:
    with pytest.raises(ProtocolError) as caught:
        parse_request(method, qs, ctype, body)
    assert caught.value.status == status
    assert caught.value.message


@pytest.mark.parametrize(("accept", "expected"), [
    (None, "a/json"),
    ("", "a/json"),
    ("*/*", "a/json"),
    ("t/csv", "t/csv"),
    ("t/*", "t/csv"),
    ("a/json;q=0.2, a/xml;q=0.8", "a/xml"),
    ("*/*;q=0.1, t/tsv", "t/tsv"),
    ("a/*;q=0, */*", "t/csv"),
    ("a/json;q=0", None),
    ("image/png", None),
    ("a/xml;q=oops, t/csv;q=0.3", "t/csv"),
])
def test_negotiate(accept: str | None, expected: str | None) -> None:
    assert negotiate(accept, ["a/json", "a/xml", "t/csv", "t/tsv"]) == expected


def test_analyse_finds_services_and_datasets() -> None:
    info = analyse_query("""
        BASE <http://base.example/>
        PREFIX wdq: <https://query.wikidata.org/>
        # SERVICE <http://in-a-comment/> FROM
        SELECT * FROM <g> WHERE {
          ?s <p> "SERVICE <http://in-a-string/>" .
          SERVICE SILENT wdq:sparql { ?s ?p ?o }
          service <rel> { }
          SERVICE ?endpoint { }
          ?SERVICE ex:SERVICE ?x .
        }""")
    assert info.services == ("https://query.wikidata.org/sparql", "http://base.example/rel", None)
    assert info.has_dataset
    assert analyse_query("SELECT * { ?s ?p '''FROM''' }") == analyse_query("ASK {}")


def _store() -> ox.Store:
    store = ox.Store()
    ex = "http://example.org/"
    for i in range(5):
        store.add(ox.Quad(ox.NamedNode(f"{ex}s{i}"), ox.NamedNode(ex + "p"),
                          ox.Literal(str(i), datatype=ox.NamedNode(
                              "http://www.w3.org/2001/XMLSchema#integer")),
                          ox.NamedNode(ex + "g")))
    store.add(ox.Quad(ox.NamedNode(ex + "s"), ox.NamedNode(ex + "label"),
                      ox.Literal('a "b",\tc', language="en")))
    return store


def test_results_roundtrip_through_pyoxigraph() -> None:
    store = _store()
    query = "SELECT ?s ?o ?none WHERE { ?s ?p ?o OPTIONAL { ?s <urn:x> ?none } }"
    expected = {(str(s["s"]), str(s["o"])) for s in store.query(
        query, use_default_graph_as_union=True)}  # type: ignore[union-attr]
    engine = Engine(store)
    for media, fmt in (("application/sparql-results+json", ox.QueryResultsFormat.JSON),
                       ("application/sparql-results+xml", ox.QueryResultsFormat.XML),
                       ("text/tab-separated-values", ox.QueryResultsFormat.TSV)):
        answer = engine.run(Operation(query), media)
        assert answer.status == 200
        parsed = ox.parse_query_results(answer.body, format=fmt)
        assert {(str(s["s"]), str(s["o"])) for s in parsed} == expected  # type: ignore
    engine.close()


def test_csv_quotes_cells() -> None:
    rows = [[ox.Literal('a "b",c'), ox.BlankNode("x"), None]]
    assert serialize_solutions(["v", "b", "n"], rows, "csv") == (
        b'v,b,n\r\n"a ""b"",c",_:x,\r\n')


def test_row_cap() -> None:
    engine = Engine(_store(), max_rows=3)
    answer = engine.run(Operation("SELECT * WHERE { ?s ?p ?o }"), None)
    data = json.loads(answer.body)
    assert len(data["results"]["bindings"]) == 3
    assert answer.headers == {"X-Result-Truncated": "true", "X-Result-Limit": "3"}
    graph = engine.run(Operation("CONSTRUCT WHERE { ?s ?p ?o }"), "application/n-triples")
    assert graph.body.count(b"\n") == 3 and graph.headers["X-Result-Truncated"] == "true"
    exact = engine.run(Operation("SELECT * WHERE { ?s ?p ?o } LIMIT 3"), None)
    assert "X-Result-Truncated" not in exact.headers
    engine.close()


def test_default_graph_union_and_protocol_dataset() -> None:
    engine = Engine(_store())
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"

    def n(op: Operation) -> int:
        body = json.loads(engine.run(op, None).body)
        return int(body["results"]["bindings"][0]["n"]["value"])

    assert n(Operation(count)) == 6
    assert n(Operation(count, ("http://example.org/g",))) == 5
    assert n(Operation(count, (), ("http://example.org/g",))) == 0
    assert n(Operation(count.replace("WHERE", "FROM <http://example.org/g> WHERE"))) == 5
    engine.close()
    stored = Engine(_store(), union_default_graph=False)
    assert int(json.loads(stored.run(Operation(count), None).body)
               ["results"]["bindings"][0]["n"]["value"]) == 1
    stored.close()


def test_errors() -> None:
    engine = Engine(_store(), allowed_services=["http://127.0.0.1:9/sparql"])
    with pytest.raises(ProtocolError) as caught:
        engine.run(Operation("SELECT * WHERE {"), None)
    assert caught.value.status == 400 and "syntax" in caught.value.message
    with pytest.raises(ProtocolError) as caught:
        engine.run(Operation("SELECT * { SERVICE <http://other/> { ?s ?p ?o } }"), None)
    assert caught.value.status == 400
    with pytest.raises(ProtocolError) as caught:
        engine.run(Operation("ASK {}"), "text/csv")
    assert caught.value.status == 406
    # An allowed SERVICE that fails is the upstream's fault: 502.
    with pytest.raises(ProtocolError) as caught:
        engine.run(Operation("SELECT * { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }"),
                   None)
    assert caught.value.status == 502
    with pytest.raises(ProtocolError) as caught:
        engine.run(Operation(None), None)
    assert caught.value.status == 400
    engine.close()


def test_timeout() -> None:
    store = ox.Store()
    for i in range(200):
        store.add(ox.Quad(ox.NamedNode(f"http://e/s{i}"), ox.NamedNode("http://e/p"),
                          ox.Literal(str(i))))
    engine = Engine(store, timeout=0.2, max_rows=10**9)
    with pytest.raises(ProtocolError) as caught:
        engine.run(Operation("SELECT * { ?a ?p ?b . ?c ?q ?d . ?e ?r ?f }"), None)
    assert caught.value.status == 503 and "Retry-After" in caught.value.headers
    engine.close()


def test_cache_zero_evaluates_every_request() -> None:
    """``kg serve --cache 0``: no answer is kept, so each request reads the store."""
    count = Operation("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    extra = ox.Quad(ox.NamedNode("urn:x:s"), ox.NamedNode("urn:x:p"), ox.Literal("o"))
    for cache_bytes, counts_extra in ((64 * 1024, False), (0, True)):
        store = _store()
        engine = Engine(store, cache_bytes=cache_bytes)
        before = engine.run(count, None).body
        store.add(extra)  # the server never writes; the test does, to see what is cached
        assert (engine.run(count, None).body != before) is counts_extra
        engine.close()
