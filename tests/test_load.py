"""kg.load against real stores: an Oxigraph server and Virtuoso, started here on 127.0.0.1."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pyoxigraph as ox
import pytest
import requests

from kg.cli import main
from kg.errors import LoadError
from kg.load import (
    DEFAULT_CONNECTIONS,
    STAGING_PREFIX,
    Auth,
    batches,
    count_triples,
    guess_query_endpoint,
    guess_update_endpoint,
    load,
    read_triples,
)
from kg.paths import installed_program
from tests.stores import Store, free_port, stop, wait_until_up

GRAPH = "http://example.org/twinning-kg/test-graph"
EX = "http://example.org/t/"


SAMPLE = f"""\
<{EX}kyoto> <{EX}twinnedWith> <{EX}paris> .
<{EX}paris> <{EX}twinnedWith> <{EX}kyoto> .
<{EX}kyoto> <{EX}name> "京都市"@ja .
<{EX}kyoto> <{EX}name> "Kyoto"@en .
<{EX}kyoto> <{EX}since> "1958"^^<http://www.w3.org/2001/XMLSchema#gYear> .
<{EX}kyoto> <{EX}note> "a \\"quoted\\" note\\nwith a line break" .
<{EX}kyoto> <{EX}twinning> _:t1 .
_:t1 <{EX}partner> <{EX}paris> .
_:t1 <{EX}source> _:s1 .
_:s1 <{EX}line> "12"^^<http://www.w3.org/2001/XMLSchema#integer> .
<{EX}kyoto> <{EX}name> "Kyoto"@en .
"""
SAMPLE_TRIPLES = 10  # one line is a duplicate


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    path = tmp_path / "sample.nt"
    path.write_text(SAMPLE, encoding="utf-8")
    return path


def chained_twinning_count(store: Store, graph: str) -> int:
    """Rows where the blank twinning node still joins partner and source after loading."""
    query = f"""SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{
        <{EX}kyoto> <{EX}twinning> ?t . ?t <{EX}partner> <{EX}paris> ; <{EX}source> ?s .
        ?s <{EX}line> ?line }} }}"""
    answer = requests.post(store.query, data={"query": query},
                           headers={"Accept": "application/sparql-results+json"}, timeout=30)
    answer.raise_for_status()
    return int(answer.json()["results"]["bindings"][0]["n"]["value"])


# --- pure parts --------------------------------------------------------------------------


def test_read_triples_dedupes_and_reports_syntax_errors(sample: Path, tmp_path: Path) -> None:
    assert len(read_triples(sample)) == SAMPLE_TRIPLES
    bad = tmp_path / "bad.nt"
    bad.write_text(f"<{EX}a> <{EX}b> <{EX}c> .\n<{EX}a> <{EX}b> .\n", encoding="utf-8")
    with pytest.raises(LoadError, match=r"bad\.nt:2: not valid RDF"):
        read_triples(bad)
    with pytest.raises(LoadError, match="unknown RDF file extension"):
        read_triples(tmp_path / "x.csv")
    with pytest.raises(LoadError, match="cannot read"):
        read_triples(tmp_path / "missing.nt")


def test_batches_keep_blank_node_components_together(sample: Path) -> None:
    triples = read_triples(sample)
    chunks = list(batches(triples, 2))
    assert sum(len(c) for c in chunks) == len(triples)
    owner = {}
    for index, chunk in enumerate(chunks):
        for t in chunk:
            for node in (t.subject, t.object):
                if isinstance(node, ox.BlankNode):
                    assert owner.setdefault(node.value, index) == index
    assert len(set(owner.values())) == 1
    assert list(batches([], 5)) == []


def test_guess_query_endpoint() -> None:
    assert guess_query_endpoint("http://h:7878/store") == "http://h:7878/query"
    assert guess_query_endpoint("http://h:8890/sparql-graph-crud-auth") == "http://h:8890/sparql"
    assert guess_query_endpoint("http://h:3030/ds/data") == "http://h:3030/ds/query"
    assert guess_query_endpoint("http://h/gsp") is None
    assert guess_update_endpoint("http://h:7878/store") == "http://h:7878/update"
    assert guess_update_endpoint("http://h:8890/sparql-graph-crud-auth") == \
        "http://h:8890/sparql-auth"
    assert guess_update_endpoint("http://h:3030/ds/data") == "http://h:3030/ds/update"
    assert guess_update_endpoint("http://h/gsp") is None


def test_refuses_bad_options_before_sending(sample: Path) -> None:
    with pytest.raises(LoadError, match="absolute IRI"):
        load("http://127.0.0.1:9/store", sample, "not an iri")
    with pytest.raises(LoadError, match="cannot guess the query endpoint"):
        load("http://127.0.0.1:9/gsp", sample)
    with pytest.raises(LoadError, match="batch size"):
        load("http://127.0.0.1:9/store", sample, batch_size=0)
    with pytest.raises(LoadError, match="timeout"):
        load("http://127.0.0.1:9/store", sample, timeout=0)
    with pytest.raises(LoadError, match="MOVE must be 0"):
        load("http://127.0.0.1:9/store", sample, max_move_triples=-1)
    with pytest.raises(LoadError, match="not a valid URL"):
        load("http://[::1", sample)
    with pytest.raises(LoadError, match=r"--replace cannot be atomic.*--replace-non-atomic"):
        load("http://127.0.0.1:9/gsp", sample, GRAPH, replace=True,
             query_endpoint="http://127.0.0.1:9/query")


@pytest.mark.parametrize("argv, message", [
    (["--endpoint", "http://[::1"], "malformed URL"),
    (["--endpoint", "ftp://h/store"], "http(s) URL"),
    (["--endpoint", "http://127.0.0.1:9/store", "--timeout", "0"], "timeout"),
    (["--endpoint", "http://127.0.0.1:9/store", "--timeout", "-1"], "timeout"),
    (["--endpoint", "http://127.0.0.1:9/store", "--timeout", "nan"], "timeout"),
    (["--endpoint", "http://127.0.0.1:9/store", "--batch-size", "0"], "--batch-size"),
    (["--endpoint", "http://127.0.0.1:9/store", "--batch-size", "-5"], "--batch-size"),
    (["--endpoint", "http://127.0.0.1:9/store", "--query-endpoint", "http://[x"],
     "malformed URL"),
    (["--endpoint", "http://127.0.0.1:9/gsp", "--no-check", "--replace"], "atomic"),
    (["--endpoint", "http://127.0.0.1:9/store", "--max-move-triples", "-1"],
     "--max-move-triples"),
])
def test_cli_bad_options_are_one_line(
    argv: list[str], message: str, sample: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["load", str(sample), *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("kg load: error: ") and message in err[0], err


def test_unreachable_store_is_a_load_error(sample: Path) -> None:
    port = free_port()  # nothing listens there
    store = f"http://127.0.0.1:{port}"
    for check in (True, False):
        with pytest.raises(LoadError, match=rf"^cannot reach the store at {store} "
                           r"\(Connection refused\); nothing was (sent|changed)$"):
            load(f"{store}/store", sample, GRAPH, replace=True, check=check)
    with pytest.raises(LoadError, match=rf"^cannot reach the store at {store} "):
        load(f"{store}/store", sample, GRAPH)


# --- Oxigraph server -----------------------------------------------------------------------


def test_oxigraph_replace_append_and_batches(oxigraph: Store, sample: Path) -> None:
    result = load(oxigraph.gsp, sample, GRAPH, replace=True, batch_size=3)
    assert (result.triples, result.after) == (SAMPLE_TRIPLES, SAMPLE_TRIPLES)
    assert result.requests > 1
    assert chained_twinning_count(oxigraph, GRAPH) == 1
    # Appending the same triples adds nothing (but blank nodes are new nodes).
    again = load(oxigraph.gsp, sample, GRAPH, batch_size=3)
    assert again.before == SAMPLE_TRIPLES
    assert again.after is not None and SAMPLE_TRIPLES <= again.after <= 2 * SAMPLE_TRIPLES
    # Replacing brings the graph back to exactly the file.
    final = load(oxigraph.gsp, sample, GRAPH, replace=True)
    assert final.after == SAMPLE_TRIPLES == count_triples(oxigraph.query, GRAPH)


def test_oxigraph_default_graph(oxigraph: Store, sample: Path) -> None:
    result = load(oxigraph.gsp, sample, None, replace=True)
    assert result.after == SAMPLE_TRIPLES


def test_cli_load_into_oxigraph(
    oxigraph: Store, sample: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    graph = GRAPH + "/cli"
    code = main(["load", "--endpoint", oxigraph.gsp, "--graph", graph, "--replace",
                 "--batch-size", "4", str(sample)])
    assert code == 0
    out = capsys.readouterr().out
    assert f"loaded {SAMPLE_TRIPLES} triples into <{graph}> at {oxigraph.gsp} (replaced in " \
        "one step" in out
    assert f"the store now holds {SAMPLE_TRIPLES} there" in out
    # A bad file is one line on stderr and exit code 2, not a traceback.
    bad = sample.with_name("bad.ttl")
    bad.write_text("@prefix x: <http://x/> .\nx:a x:b\n", encoding="utf-8")
    assert main(["load", "--endpoint", oxigraph.gsp, "--graph", graph, str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("kg load: error: ") and "bad.ttl:" in err[0]


# --- Virtuoso --------------------------------------------------------------------------------


@pytest.mark.virtuoso
def test_virtuoso_digest_load_in_batches(virtuoso: Store, sample: Path) -> None:
    result = load(virtuoso.gsp, sample, GRAPH, replace=True, auth=virtuoso.auth, batch_size=3)
    assert (result.triples, result.after) == (SAMPLE_TRIPLES, SAMPLE_TRIPLES)
    assert result.requests > 1
    assert chained_twinning_count(virtuoso, GRAPH) == 1
    # Language tags and datatypes survive.
    query = f'ASK {{ GRAPH <{GRAPH}> {{ <{EX}kyoto> <{EX}name> "京都市"@ja ; <{EX}since> ?y .' \
        ' FILTER(datatype(?y) = <http://www.w3.org/2001/XMLSchema#gYear>) } }'
    answer = requests.post(virtuoso.query, data={"query": query},
                           headers={"Accept": "application/sparql-results+json"}, timeout=30)
    assert answer.json()["boolean"] is True


@pytest.mark.virtuoso
def test_virtuoso_refusals_are_one_line_errors(virtuoso: Store, sample: Path) -> None:
    with pytest.raises(LoadError, match=r"HTTP 401.*--auth digest"):
        load(virtuoso.gsp, sample, GRAPH, replace=True, auth=Auth("dba", "wrong", "digest"))
    with pytest.raises(LoadError, match="HTTP 401"):
        load(virtuoso.gsp, sample, GRAPH, replace=True)
    # Virtuoso's Graph Store endpoint has no default graph: its own message is passed on.
    with pytest.raises(LoadError, match="not configured to have default graph"):
        load(virtuoso.gsp, sample, None, auth=virtuoso.auth)
    with pytest.raises(LoadError, match=r"MOVE.*default graph.*; the target graph is "
                       "unchanged; the staging graph was dropped"):
        load(virtuoso.gsp, sample, None, replace=True, auth=virtuoso.auth)


@pytest.mark.virtuoso
def test_cli_load_into_virtuoso(
    virtuoso: Store, sample: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KG_LOAD_PASSWORD", "dba")
    graph = GRAPH + "/cli"
    code = main(["load", "--endpoint", virtuoso.gsp, "--graph", graph, "--replace",
                 "--user", "dba", "--auth", "digest", str(sample)])
    assert code == 0, capsys.readouterr().err
    assert f"the store now holds {SAMPLE_TRIPLES} there" in capsys.readouterr().out


def test_module_runs_as_cli() -> None:
    done = subprocess.run([sys.executable, "-m", "kg", "load", "--help"],
                          capture_output=True, text=True, check=True)
    assert "--endpoint" in done.stdout and "--auth" in done.stdout


# --- the built graph, then a known twinning queried from each store ---------------------------


@pytest.fixture(scope="module")
def built_nt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``kg build --out TMP``'s N-Triples dump of the seeds."""

    out = tmp_path_factory.mktemp("dist")
    done = subprocess.run([sys.executable, "-m", "kg", "build", "--out", str(out)],
                          capture_output=True, text=True, timeout=600, check=False)
    if not (out / "twinning.nt").is_file():
        reason = (done.stderr.strip().splitlines() or ["no output"])[-1]
        pytest.fail(f"kg build failed (exit {done.returncode}): {reason}")
    return out / "twinning.nt"


def beijing_tokyo(query_endpoint: str) -> str:
    """Twins of 北京市 through the named query, as a table from the store."""
    from kg.query import bind, load_named, run_remote

    # seeds/zhwiki-prc-sister-cities.md line 7: 北京市 — 東京, 1979-03-14.
    return run_remote(bind(load_named("twins-of-place"), {"place": "北京市"}), query_endpoint)


def test_built_graph_into_oxigraph(oxigraph: Store, built_nt: Path) -> None:
    # The default graph: Oxigraph's query endpoint does not union named graphs by default.
    result = load(oxigraph.gsp, built_nt, None, replace=True, batch_size=1000)
    assert result.after == len(read_triples(built_nt)) and result.requests > 1
    assert "東京" in beijing_tokyo(oxigraph.query)


@pytest.mark.virtuoso
def test_built_graph_into_virtuoso(virtuoso: Store, built_nt: Path) -> None:
    graph = GRAPH + "/built"
    result = load(virtuoso.gsp, built_nt, graph, replace=True, auth=virtuoso.auth,
                  batch_size=1000)
    assert result.after == len(read_triples(built_nt)) and result.requests > 1
    # Virtuoso's /sparql default graph is the union of its graphs.
    assert "東京" in beijing_tokyo(virtuoso.query)


# --- faults: a real store behind a proxy that fails or kills it midway --------------------------


class FaultProxy:
    """A real HTTP proxy in front of a real store. Graph Store writes (PUT/POST to
    ``gsp_path``) are counted, those carrying credentials only when ``auth_only`` (digest
    sends each request twice); write number ``fail_at`` is answered 500 without reaching the
    store, or, with ``kill``, the store is killed and the connection closed. ``fail_move``
    answers 500 to a SPARQL Update MOVE instead. The writes numbered in ``deadlocks`` are
    answered as Virtuoso answers a deadlocked transaction (500, ``SR172``), without reaching
    the store. ``rename`` maps a path prefix to another.
    Everything else is passed through."""

    def __init__(self, upstream: str, gsp_path: str, *, fail_at: int | None = None,
                 kill: Callable[[], None] | None = None, fail_move: bool = False,
                 auth_only: bool = False, rename: tuple[str, str] | None = None,
                 deadlocks: range = range(0)) -> None:
        self.upstream, self.gsp_path, self.rename = upstream, gsp_path, rename
        self.fail_at, self.kill, self.fail_move = fail_at, kill, fail_move
        self.auth_only = auth_only
        self.deadlocks = deadlocks  # writes answered as Virtuoso answers a deadlock
        self.writes = 0
        self.write_paths: list[str] = []  # the path and query of every write, in order
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def handle_any(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if proxy.rename and self.path.startswith(proxy.rename[0]):
                    self.path = proxy.rename[1] + self.path[len(proxy.rename[0]):]
                if proxy.injected(self, body):
                    return
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() not in ("host", "content-length", "connection")}
                try:
                    answer = requests.request(self.command, proxy.upstream + self.path,
                                              data=body, headers=headers, timeout=60,
                                              allow_redirects=False, stream=True)
                    content = answer.raw.read()
                except requests.RequestException:
                    self.close_connection = True  # like the dead store: no answer
                    return
                self.send_response(answer.status_code)
                for key, value in answer.headers.items():
                    if key.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            do_GET = do_POST = do_PUT = do_DELETE = handle_any

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def injected(self, handler: BaseHTTPRequestHandler, body: bytes) -> bool:
        if self.fail_move and body.startswith(b"update=MOVE"):
            self.answer_500(handler)
            return True
        write = handler.command in ("PUT", "POST") and handler.path.startswith(self.gsp_path)
        if not write or (self.auth_only and "Authorization" not in handler.headers):
            return False
        self.writes += 1
        self.write_paths.append(handler.path)
        if self.writes in self.deadlocks:
            self.answer_500(handler, b"Virtuoso 40001 Error SR172: Transaction deadlocked")
            return True
        if self.writes != self.fail_at:
            return False
        if self.kill is not None:
            self.kill()
            handler.close_connection = True
        else:
            self.answer_500(handler)
        return True

    @staticmethod
    def answer_500(handler: BaseHTTPRequestHandler, message: bytes = b"injected failure"
                   ) -> None:
        handler.send_response(500)
        handler.send_header("Content-Type", "text/plain")
        handler.send_header("Content-Length", str(len(message)))
        handler.end_headers()
        handler.wfile.write(message)

    def __enter__(self) -> FaultProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


OLD_TRIPLES = 1000
NEW_TRIPLES = 800


def sorted_nt(path: Path, prefix: str, count: int) -> Path:
    """``count`` triples about ``EX + prefix + i`` written to ``path`` in sorted, distinct
    lines (as kg build writes them, so kg load streams the file and can resume it)."""
    lines = sorted(f'<{EX}{prefix}{i}> <{EX}p> "{i}" .\n' for i in range(count))
    path.write_text("".join(lines), encoding="utf-8")
    return path


@pytest.fixture
def old_and_new(tmp_path: Path) -> tuple[Path, Path]:
    """Two N-Triples files: the graph already in the store, and the one to load (8 batches
    of 100)."""
    old = tmp_path / "old.nt"
    old.write_text("".join(f"<{EX}old{i}> <{EX}p> \"{i}\" .\n" for i in range(OLD_TRIPLES)),
                   encoding="utf-8")
    new = tmp_path / "new.nt"
    new.write_text("".join(f"<{EX}new{i}> <{EX}p> \"{i}\" .\n" for i in range(NEW_TRIPLES)),
                   encoding="utf-8")
    return old, new


def graph_state(query_endpoint: str, graph: str) -> tuple[int, int, list[str]]:
    """(triples in ``graph``, of which old ones, the staging graphs in the store)."""
    def select(query: str) -> list[dict[str, dict[str, str]]]:
        answer = requests.post(query_endpoint, data={"query": query},
                               headers={"Accept": "application/sparql-results+json"},
                               timeout=60)
        answer.raise_for_status()
        rows: list[dict[str, dict[str, str]]] = answer.json()["results"]["bindings"]
        return rows

    total = count_triples(query_endpoint, graph)
    old = int(select(f"SELECT (COUNT(*) AS ?n) {{ GRAPH <{graph}> {{ ?s ?p ?o "
                     f"FILTER(STRSTARTS(STR(?s), '{EX}old')) }} }}")[0]["n"]["value"])
    staging = [row["g"]["value"] for row in select(
        f"SELECT DISTINCT ?g {{ GRAPH ?g {{ ?s ?p ?o }} FILTER(STRSTARTS(STR(?g), "
        f"'{STAGING_PREFIX}')) }}")]
    return total, old, staging


def test_oxigraph_replace_answered_500_midway_keeps_the_old_graph(
    oxigraph: Store, old_and_new: tuple[Path, Path]
) -> None:
    old, new = old_and_new
    graph = GRAPH + "/fault-500"
    load(oxigraph.gsp, old, graph, replace=True)
    base = oxigraph.gsp.rsplit("/", 1)[0]
    with FaultProxy(base, "/store", fail_at=3) as proxy, \
            pytest.raises(LoadError) as info:
        load(proxy.url + "/store", new, graph, replace=True, batch_size=100, connections=1)
    message = str(info.value)
    assert "batch 3/8" in message and "200 of 800 triples acknowledged" in message
    assert "HTTP 500: injected failure" in message
    assert "the target graph is unchanged; the staging graph was dropped" in message
    assert graph_state(oxigraph.query, graph) == (OLD_TRIPLES, OLD_TRIPLES, [])
    # A MOVE refused: still the old graph, staging dropped.
    with FaultProxy(base, "/store", fail_move=True) as proxy, \
            pytest.raises(LoadError, match=r"MOVE.*target graph is unchanged; the staging "
                          "graph was dropped"):
        load(proxy.url + "/store", new, graph, replace=True, batch_size=100)
    assert graph_state(oxigraph.query, graph) == (OLD_TRIPLES, OLD_TRIPLES, [])
    # Then, through the same proxy without faults, the replace goes through.
    with FaultProxy(base, "/store") as proxy:
        result = load(proxy.url + "/store", new, graph, replace=True, batch_size=100)
    assert result.after == NEW_TRIPLES
    assert graph_state(oxigraph.query, graph) == (NEW_TRIPLES, 0, [])


def test_oxigraph_append_failure_says_what_was_stored(
    oxigraph: Store, old_and_new: tuple[Path, Path]
) -> None:
    old, new = old_and_new
    graph = GRAPH + "/fault-append"
    load(oxigraph.gsp, old, graph, replace=True)
    base = oxigraph.gsp.rsplit("/", 1)[0]
    with FaultProxy(base, "/store", fail_at=4) as proxy, pytest.raises(LoadError) as info:
        load(proxy.url + "/store", new, graph, batch_size=100, connections=1)
    message = str(info.value)
    assert "POST of batch 4/8 (100 triples; 300 of 800 triples acknowledged before it)" in \
        message
    # Oxigraph's bulk path, without a transaction a batch: a failed one may be left in part.
    assert "the store may hold part or all of that batch" in message
    assert all("no_transaction" in path for path in proxy.write_paths)
    assert graph_state(oxigraph.query, graph)[:2] == (OLD_TRIPLES + 300, OLD_TRIPLES)


def test_a_deadlocked_batch_is_sent_again(
    oxigraph: Store, old_and_new: tuple[Path, Path]
) -> None:
    """Two batches under way can deadlock in Virtuoso (seen at 10^6 twinnings): the store
    rolls the batch back and answers SR172, and kg load sends it again; a store that keeps
    deadlocking ends the load with the store's message."""
    _, new = old_and_new
    base = oxigraph.gsp.rsplit("/", 1)[0]
    graph = GRAPH + "/deadlock"
    with FaultProxy(base, "/store", deadlocks=range(3, 5)) as proxy:
        result = load(proxy.url + "/store", new, graph, batch_size=100)
    assert (result.requests, result.after) == (8, NEW_TRIPLES)
    assert proxy.writes == 8 + 2
    with FaultProxy(base, "/store", deadlocks=range(1, 100)) as proxy, \
            pytest.raises(LoadError, match="SR172: Transaction deadlocked"):
        load(proxy.url + "/store", new, graph + "/always", batch_size=100)


def test_virtuoso_digest_signs_each_batch_once(
    virtuoso: Store, old_and_new: tuple[Path, Path]
) -> None:
    """One digest challenge for the whole load, not one a batch (each body was sent twice,
    the first time refused with 401)."""
    _, new = old_and_new
    base = virtuoso.gsp.rsplit("/", 1)[0]
    with FaultProxy(base, "/sparql-graph-crud-auth") as proxy:
        result = load(proxy.url + "/sparql-graph-crud-auth", new, GRAPH + "/digest-once",
                      auth=virtuoso.auth, batch_size=100)
    assert result.requests == 8
    # A challenge for the first batch of each connection, then every batch signed at once.
    assert proxy.writes == 8 + DEFAULT_CONNECTIONS


def test_wrong_query_endpoint_fails_before_anything_is_sent(
    oxigraph: Store, old_and_new: tuple[Path, Path]
) -> None:
    old, new = old_and_new
    graph = GRAPH + "/wrong-query"
    load(oxigraph.gsp, old, graph, replace=True)
    base = oxigraph.gsp.rsplit("/", 1)[0]
    for atomic in (True, False):
        with pytest.raises(LoadError, match=r"HTTP 404.*; nothing was sent"):
            load(oxigraph.gsp, new, graph, replace=True, atomic=atomic,
                 query_endpoint=base + "/nope")
    # A wrong update endpoint: also refused before anything is sent.
    with pytest.raises(LoadError, match="nothing was changed"):
        load(oxigraph.gsp, new, graph, replace=True, update_endpoint=base + "/query")
    assert graph_state(oxigraph.query, graph) == (OLD_TRIPLES, OLD_TRIPLES, [])


def test_replace_non_atomic_is_explicit(
    oxigraph: Store, old_and_new: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = old_and_new
    graph = GRAPH + "/non-atomic"
    load(oxigraph.gsp, old, graph, replace=True)
    base = oxigraph.gsp.rsplit("/", 1)[0]
    # The store behind a path whose update endpoint nobody can guess.
    with FaultProxy(base, "/store", rename=("/gsp", "/store")) as proxy:
        argv = ["load", str(new), "--endpoint", proxy.url + "/gsp", "--graph", graph,
                "--query-endpoint", oxigraph.query]
        assert main([*argv, "--replace"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "--replace cannot be atomic" in err[0]
        assert "--replace-non-atomic" in err[0]
        assert graph_state(oxigraph.query, graph) == (OLD_TRIPLES, OLD_TRIPLES, [])
        assert main([*argv, "--replace", "--update-endpoint", base + "/update"]) == 0
        assert graph_state(oxigraph.query, graph) == (NEW_TRIPLES, 0, [])
        assert main([*argv, "--replace-non-atomic"]) == 0
        assert graph_state(oxigraph.query, graph) == (NEW_TRIPLES, 0, [])
    assert main(["load", str(new), "--endpoint", oxigraph.gsp, "--graph", graph, "--replace",
                 "--update-endpoint", "not a url"]) == 2
    assert "--update-endpoint" in capsys.readouterr().err
    # Non-atomic and failing midway: the message says the old graph is gone.
    with FaultProxy(base, "/store", fail_at=2) as proxy, \
            pytest.raises(LoadError, match="replaced by the first batch, its old triples "
                          "are gone"):
        load(proxy.url + "/store", old, graph, replace=True, atomic=False, batch_size=100,
             connections=1)
    assert graph_state(oxigraph.query, graph)[:2] == (100, 100)


def _start_oxigraph(folder: Path, port: int) -> subprocess.Popen[bytes]:
    binary = installed_program("oxigraph")
    if binary is None:
        pytest.skip("the oxigraph server binary is not installed (pip install oxigraph)")
    log = folder / f"server-{time.monotonic_ns()}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [binary, "serve", "--location", str(folder / "db"), "--bind", f"127.0.0.1:{port}"],
            stdout=out, stderr=subprocess.STDOUT)
    wait_until_up(f"http://127.0.0.1:{port}/query", process, 30, log)
    return process


def test_oxigraph_killed_midway_keeps_the_old_graph(
    tmp_path: Path, old_and_new: tuple[Path, Path]
) -> None:
    old, new = old_and_new
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = _start_oxigraph(tmp_path, port)
    try:
        load(base + "/store", old, GRAPH, replace=True)

        def kill() -> None:
            process.kill()
            process.wait()

        with FaultProxy(base, "/store", fail_at=2, kill=kill) as proxy, \
                pytest.raises(LoadError) as info:
            load(proxy.url + "/store", new, GRAPH, replace=True, batch_size=100, connections=1)
        message = str(info.value)
        assert "during the POST of batch 2/8" in message
        assert "100 of 800 triples acknowledged" in message
        assert "the target graph is unchanged; the staging graph <" in message
        staging = message.split("the staging graph <", 1)[1].split(">", 1)[0]
        assert staging.startswith(STAGING_PREFIX) and "may be left" in message
    finally:
        stop(process)
    # Restarted on the same data: the old graph is whole, the staging graph is the named one.
    process = _start_oxigraph(tmp_path, port)
    try:
        total, old_count, left = graph_state(base + "/query", GRAPH)
        assert (total, old_count) == (OLD_TRIPLES, OLD_TRIPLES)
        assert left in ([], [staging])
        requests.post(base + "/update", data={"update": f"DROP SILENT GRAPH <{staging}>"},
                      timeout=30).raise_for_status()
        assert graph_state(base + "/query", GRAPH)[2] == []
    finally:
        stop(process)


@pytest.mark.virtuoso
def test_virtuoso_replace_answered_500_midway_keeps_the_old_graph(
    virtuoso: Store, old_and_new: tuple[Path, Path]
) -> None:
    old, new = old_and_new
    graph = GRAPH + "/fault-500"
    load(virtuoso.gsp, old, graph, replace=True, auth=virtuoso.auth)
    base = virtuoso.gsp.rsplit("/", 1)[0]
    with FaultProxy(base, "/sparql-graph-crud-auth", fail_at=3, auth_only=True) as proxy, \
            pytest.raises(LoadError) as info:
        load(proxy.url + "/sparql-graph-crud-auth", new, graph, replace=True,
             auth=virtuoso.auth, batch_size=100, connections=1)
    message = str(info.value)
    assert "batch 3/8" in message and "200 of 800 triples acknowledged" in message
    assert "the target graph is unchanged; the staging graph was dropped" in message
    assert graph_state(virtuoso.query, graph) == (OLD_TRIPLES, OLD_TRIPLES, [])
    with FaultProxy(base, "/sparql-graph-crud-auth", fail_move=True) as proxy, \
            pytest.raises(LoadError, match="target graph is unchanged; the staging graph "
                          "was dropped"):
        load(proxy.url + "/sparql-graph-crud-auth", new, graph, replace=True,
             auth=virtuoso.auth, batch_size=100)
    assert graph_state(virtuoso.query, graph) == (OLD_TRIPLES, OLD_TRIPLES, [])
    result = load(virtuoso.gsp, new, graph, replace=True, auth=virtuoso.auth, batch_size=100)
    assert result.after == NEW_TRIPLES
    assert graph_state(virtuoso.query, graph) == (NEW_TRIPLES, 0, [])
