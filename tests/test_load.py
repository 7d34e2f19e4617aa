"""kg.load against real stores: an Oxigraph server and Virtuoso, started here on 127.0.0.1."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest
import requests

from kg.cli import main
from kg.errors import LoadError
from kg.load import Auth, batches, count_triples, guess_query_endpoint, load, read_triples
from tests.stores import Store, free_port

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


def test_refuses_bad_options_before_sending(sample: Path) -> None:
    with pytest.raises(LoadError, match="absolute IRI"):
        load("http://127.0.0.1:9/store", sample, "not an iri")
    with pytest.raises(LoadError, match="cannot guess the query endpoint"):
        load("http://127.0.0.1:9/gsp", sample)
    with pytest.raises(LoadError, match="batch size"):
        load("http://127.0.0.1:9/store", sample, batch_size=0)


def test_unreachable_store_is_a_load_error(sample: Path) -> None:
    port = free_port()  # nothing listens there
    with pytest.raises(LoadError, match="cannot reach"):
        load(f"http://127.0.0.1:{port}/store", sample, GRAPH, replace=True, check=False)


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
    assert f"loaded {SAMPLE_TRIPLES} triples into <{graph}>" in out
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
