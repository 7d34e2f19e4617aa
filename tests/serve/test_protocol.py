"""kg.serve.protocol without HTTP: request parsing, negotiation, analysis, results, engine."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest

from kg.serve.engine import Engine
from kg.serve.formats import negotiate
from kg.serve.limits import Limits
from kg.serve.protocol import Operation, ProtocolError, analyse_query, parse_request
from kg.serve.results import serialize_solutions
from kg.store import load_memory, prepare_store

HEAVY = "SELECT (COUNT(*) AS ?n) { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"

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


EX = "http://example.org/"
_XSD_INTEGER = "http://www.w3.org/2001/XMLSchema#integer"


def _data(folder: Path, extra: int = 0) -> Path:
    """Five quads in graph ex:g and one labelled triple in the default graph (and
    ``extra`` more triples, to make a cartesian product heavy)."""
    lines = [f'<{EX}s{i}> <{EX}p> "{i}"^^<{_XSD_INTEGER}> <{EX}g> .' for i in range(5)]
    lines += [f'<{EX}x{i}> <{EX}q> "{i}" .' for i in range(extra)]
    lines.append(f'<{EX}s> <{EX}label> "a \\"b\\",\\tc"@en .')
    path = folder / "data.nq"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def engine_factory(tmp_path: Path) -> Iterator[Callable[..., Engine]]:
    """Engines over :func:`_data` in their own store folders, closed after the test."""
    made: list[Engine] = []

    def make(extra: int = 0, **options: Any) -> Engine:
        data = _data(tmp_path, extra)
        engine = Engine(*load_memory([data]), Limits(**options))
        made.append(engine)
        return engine

    yield make
    for engine in made:
        engine.close()


def test_results_roundtrip_through_pyoxigraph(engine_factory: Callable[..., Engine]) -> None:
    engine = engine_factory()
    query = "SELECT ?s ?o ?none WHERE { ?s ?p ?o OPTIONAL { ?s <urn:x> ?none } }"
    expected = {(str(s["s"]), str(s["o"])) for s in engine.store.query(
        query)}  # type: ignore[union-attr]
    assert len(expected) == 6
    for media, fmt in (("application/sparql-results+json", ox.QueryResultsFormat.JSON),
                       ("application/sparql-results+xml", ox.QueryResultsFormat.XML),
                       ("text/tab-separated-values", ox.QueryResultsFormat.TSV)):
        answer = engine.run(Operation(query), media)
        assert answer.status == 200
        parsed = ox.parse_query_results(answer.body, format=fmt)
        assert {(str(s["s"]), str(s["o"])) for s in parsed} == expected  # type: ignore


def test_csv_quotes_cells() -> None:
    rows = [[ox.Literal('a "b",c'), ox.BlankNode("x"), None]]
    assert serialize_solutions(["v", "b", "n"], rows, "csv") == (
        b'v,b,n\r\n"a ""b"",c",_:x,\r\n')


@pytest.mark.parametrize("accept", ["application/sparql-results+json",
                                    "application/sparql-results+xml", "text/csv",
                                    "text/tab-separated-values"])
def test_row_cap(engine_factory: Callable[..., Engine], accept: str) -> None:
    engine = engine_factory(max_rows=3, cache=0)
    answer = engine.run(Operation("SELECT * WHERE { ?s ?p ?o }"), accept)
    assert answer.headers == {"X-Result-Truncated": "true", "X-Result-Limit": "3"}
    if accept.endswith("json"):
        assert len(json.loads(answer.body)["results"]["bindings"]) == 3
    else:
        marks = {"application/sparql-results+xml": b"<result>"}.get(accept, b"\n")
        assert answer.body.count(marks) == 3 + (marks == b"\n")
    # Its own LIMIT within the cap, a larger one, one in a subquery, a trailing VALUES.
    for query, cut in (("SELECT * WHERE { ?s ?p ?o } LIMIT 3", False),
                       ("SELECT * WHERE { ?s ?p ?o } LIMIT 2", False),
                       ("SELECT * WHERE { ?s ?p ?o } ORDER BY ?s LIMIT 50", True),
                       ("SELECT * { { SELECT * { ?s ?p ?o } LIMIT 5 } }", True),
                       ("SELECT * { ?s ?p ?o } VALUES ?p { <http://example.org/p> }", True),
                       ("SELECT ?s WHERE { ?s ?p ?o } OFFSET 4", False)):
        answer = engine.run(Operation(query), accept)
        assert answer.status == 200
        assert ("X-Result-Truncated" in answer.headers) is cut, query
    graph = engine.run(Operation("CONSTRUCT WHERE { ?s ?p ?o }"), "application/n-triples")
    assert graph.body.count(b"\n") == 3 and graph.headers["X-Result-Truncated"] == "true"


def test_default_graph_is_set_union_and_protocol_dataset(
        engine_factory: Callable[..., Engine], tmp_path: Path) -> None:
    engine = engine_factory()
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"

    def n(op: Operation, on: Engine = engine) -> int:
        body = json.loads(on.run(op, None).body)
        return int(body["results"]["bindings"][0]["n"]["value"])

    assert n(Operation(count)) == 6 == engine.triples
    assert n(Operation(count, ("http://example.org/g",))) == 5
    assert n(Operation(count, (), ("http://example.org/g",))) == 0
    assert n(Operation(count.replace("WHERE", "FROM <http://example.org/g> WHERE"))) == 5
    # A triple in two named graphs counts once in the default graph (issue 11).
    twice = tmp_path / "twice.trig"
    twice.write_text("<http://e/a> <http://e/p> <http://e/b> <http://e/g1> .\n"
                     "<http://e/a> <http://e/p> <http://e/b> <http://e/g2> .\n"
                     "<http://e/c> <http://e/p> <http://e/b> <http://e/g2> .\n",
                     encoding="utf-8")
    twice = twice.rename(tmp_path / "twice.nq")
    served = prepare_store([twice])  # on disk, as with --store
    other = Engine(ox.Store.read_only(str(served.path)), served.triples, Limits(),
                   served=served)
    try:
        assert n(Operation(count), other) == 2 == other.triples
        graphs = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
        assert n(Operation(graphs), other) == 3
    finally:
        other.close()


def test_errors(engine_factory: Callable[..., Engine]) -> None:
    engine = engine_factory(allowed_services=("http://127.0.0.1:9/sparql",))
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


def test_guards_name_their_limit(engine_factory: Callable[..., Engine]) -> None:
    engine = engine_factory(max_query_length=1000, max_depth=10)
    with pytest.raises(ProtocolError) as caught:
        engine.run(Operation("ASK {}" + " " * 1000), None)
    assert caught.value.status == 400 and "--max-query-length" in caught.value.message
    with pytest.raises(ProtocolError) as caught:
        engine.run(Operation("ASK { FILTER(" + "(" * 20 + "1" + ")" * 20 + ") }"), None)
    assert caught.value.status == 400 and "--max-depth" in caught.value.message
    assert engine.run(Operation("ASK { FILTER(((1))) }"), None).status == 200


def test_timeout_kills_the_worker(engine_factory: Callable[..., Engine]) -> None:
    engine = engine_factory(extra=300, timeout=0.5, max_rows=10**9, express_workers=0, workers=1)
    before = engine.pool.pids()
    with pytest.raises(ProtocolError) as caught:
        engine.run(Operation(HEAVY), None)
    assert caught.value.status == 503 and "Retry-After" in caught.value.headers
    after = engine.pool.pids()
    assert len(after) == 1 and after != before
    assert not Path(f"/proc/{before[0]}").exists()
    assert engine.run(Operation("ASK {}"), None).status == 200


def test_cache_zero_keeps_nothing(engine_factory: Callable[..., Engine]) -> None:
    """``kg serve --cache 0``: nothing is kept, not even a query's form."""
    engine = engine_factory(cache=0)
    for i in range(50):
        engine.run(Operation(f"SELECT * {{ ?s ?p ?o }} # {'x' * 1000}{i}"), None)
    assert len(engine.cache) == 0 and engine.cache.size == 0
    capped = engine_factory(cache=64 * 1024)
    for i in range(200):
        capped.run(Operation(f"ASK {{ ?s ?p ?o }} # {'x' * 1000}{i}"), None)
    assert capped.cache.size <= 64 * 1024 and 0 < len(capped.cache) < 200
