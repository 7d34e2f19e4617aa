"""kg.serve.engine and kg.serve.execute without HTTP: guards that count what they bound
(operator chains, the cache in bytes), one evaluation of a capped SELECT, spooled answers."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pyoxigraph as ox
import pytest

from kg.serve.engine import Cache, Engine, cache_key
from kg.serve.execute import INLINE_BYTES, Outcome, chain_length
from kg.serve.limits import Limits
from kg.serve.protocol import Operation, ProtocolError


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    store = ox.Store()
    store.extend(ox.Quad(ox.NamedNode(f"http://e/s{i}"), ox.NamedNode("http://e/p"),
                         ox.Literal(f"{i} {'x' * 40}")) for i in range(20_000))
    made = Engine(store, len(store), Limits(max_query_length=10**6, max_rows=5, cache=0,
                                            workers=1, express_workers=0))
    yield made
    made.close()


@pytest.mark.parametrize("query", [
    "ASK { FILTER(" + "!" * 50_000 + "true) }",
    "PREFIX : <http://e/> ASK { ?s " + "/".join([":p"] * 12_000) + " ?o }",
    "ASK { FILTER(" + " || ".join(["false"] * 10_000) + ") }",
    "ASK { FILTER(" + " && ".join(["true"] * 10_000) + ") }",
])
def test_unbracketed_nesting_is_400_naming_the_limit(engine: Engine, query: str) -> None:
    """Regression (issue 20): these crashed a worker (500); the depth limit counted only
    brackets."""
    with pytest.raises(ProtocolError) as info:
        engine.run(Operation(query), None)
    assert info.value.status == 400 and "--max-chain" in info.value.message
    assert engine.run(Operation("ASK {}"), None).status == 200


def test_chain_length_counts_per_group() -> None:
    assert chain_length("ASK { FILTER(!!true && (false || true)) }") == 3
    assert chain_length("SELECT * { ?s <http://e/a/b/c> 'a/b||c' }") == 1  # IRIs, strings
    assert chain_length("ASK { FILTER(((1 + 1))) }") == 1


def test_capped_select_cut_once_in_every_format(engine: Engine) -> None:
    for accept in ("application/sparql-results+json", "application/sparql-results+xml",
                   "text/csv", "text/tab-separated-values"):
        answer = engine.run(Operation("SELECT ?s ?o { ?s ?p ?o }"), accept)
        assert answer.headers == {"X-Result-Truncated": "true", "X-Result-Limit": "5"}
        if accept.endswith("json"):
            doc = json.loads(answer.body)
            assert len(doc["results"]["bindings"]) == 5 and doc["truncated"]["limit"] == 5
            # Regression: the "truncated" member after "results" made pyoxigraph's parser
            # (and other streaming parsers) refuse the document.
            parsed = ox.parse_query_results(answer.body, format=ox.QueryResultsFormat.JSON)
            assert len(list(parsed)) == 5  # type: ignore[arg-type]
        elif accept.endswith("xml"):
            assert answer.body.count(b"<result>") == 5 and b"truncated" in answer.body
        else:
            assert answer.body.count(b"\n") == 6


def test_long_answer_is_spooled_not_held(engine: Engine) -> None:
    bigger = Engine(engine.store, engine.triples, Limits(max_rows=10**6, cache=64 * 1024**2,
                                                         workers=1, express_workers=0))
    try:
        answer = bigger.run(Operation("SELECT ?s ?o { ?s ?p ?o }"), "text/csv")
        assert answer.body == b"" and answer.file is not None
        assert answer.length is not None and answer.length > INLINE_BYTES
        data = answer.file.read()
        answer.file.close()
        assert len(data) == answer.length and data.count(b"\r\n") == 20_001
        assert len(bigger.cache) == 0  # a spooled answer is never cached
    finally:
        bigger.close()


def test_cache_counts_utf8_bytes() -> None:
    """Regression (issue 20): 1,500 distinct 100k-character queries with one emoji each
    grew the server by 410 MB against a 64 MiB cache, which counted characters."""
    cache = Cache(4 * 1024 * 1024)
    for i in range(300):
        query = f"ASK {{}} # {i} \N{GRINNING FACE} " + "é" * 20_000
        cache.put(cache_key(Operation(query)), Outcome("boolean", "application/json", b"x"))
        assert cache.size <= cache.limit
    assert len(cache) * 40_000 <= cache.limit  # each entry counted at >= 40,000 bytes


@pytest.mark.parametrize("accept", ["application/sparql-results+json",
                                    "application/sparql-results+xml", "text/csv",
                                    "text/tab-separated-values", "application/n-triples",
                                    "text/turtle"])
def test_byte_cap_cuts_at_a_row_and_says_so(engine: Engine, accept: str) -> None:
    capped = Engine(engine.store, engine.triples,
                    Limits(max_rows=10**6, max_answer_bytes=100_000, cache=0, workers=1,
                           express_workers=0))
    try:
        graph = "/n" in accept or "turtle" in accept
        query = "CONSTRUCT WHERE { ?s ?p ?o }" if graph else "SELECT ?s ?o { ?s ?p ?o }"
        answer = capped.run(Operation(query), accept)
        body = answer.file.read() if answer.file is not None else answer.body
        assert 50_000 < len(body) <= 100_000
        assert answer.headers["X-Result-Truncated"] == "true"
        assert answer.headers["X-Result-Bytes-Limit"] == "100000"
        if graph:  # still a whole document
            fmt = ox.RdfFormat.N_TRIPLES if "/n" in accept else ox.RdfFormat.TURTLE
            assert len(list(ox.parse(body, format=fmt))) > 500
        elif accept.endswith(("json", "xml")):
            fmt = ox.QueryResultsFormat.JSON if accept.endswith("json") \
                else ox.QueryResultsFormat.XML
            assert len(list(ox.parse_query_results(body, format=fmt))) > 500
        else:
            assert body.endswith(b"\n") and body.count(b"\n") > 500
    finally:
        capped.close()
