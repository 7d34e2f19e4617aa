"""kg.query: header syntax, safe binding, running locally and on a real Oxigraph server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kg.cli import main
from kg.errors import QueryError
from kg.query import (
    NamedQuery,
    Param,
    bind,
    list_named,
    load_named,
    parse_header,
    parse_value,
    query_form,
    render_table,
    resolve,
    run_local,
    run_remote,
)
from tests.stores import free_port, oxigraph_read_only

EX = "http://example.org/t/"
DATA = f"""\
@prefix ex: <{EX}> .
ex:kyoto ex:name "京都市"@ja, "Kyoto"@en ; ex:twin ex:paris, ex:boston ; ex:founded 794 .
ex:paris ex:name "Paris"@en ; ex:twin ex:kyoto .
ex:boston ex:name "Boston"@en .
"""

TWINS = f"""\
# title: Twins of a place
# description: The places twinned with one place,
#   by IRI or by name.
# param: place (qid|iri|string) required — the place: Q-id, IRI or name
# param: lang (language) = en — language of the labels
PREFIX ex: <{EX}>
SELECT DISTINCT ?twin ?label WHERE {{
  ?p ex:name ?n . FILTER(sameTerm(?p, ?place) || STR(?n) = STR(?place))
  ?p ex:twin ?twin .
  ?twin ex:name ?label . FILTER(langMatches(lang(?label), ?lang))
}}
ORDER BY ?twin
"""


@pytest.fixture
def data(tmp_path: Path) -> Path:
    path = tmp_path / "data.ttl"
    path.write_text(DATA, encoding="utf-8")
    return path


@pytest.fixture
def store(data: Path) -> ox.Store:
    result = ox.Store()
    result.bulk_load(path=str(data), format=ox.RdfFormat.TURTLE)
    return result


@pytest.fixture
def twins() -> NamedQuery:
    return parse_header(TWINS, name="twins")


# --- header ----------------------------------------------------------------------------


def test_header(twins: NamedQuery) -> None:
    assert twins.title == "Twins of a place"
    assert twins.description == "The places twinned with one place, by IRI or by name."
    assert twins.params == (
        Param("place", ("qid", "iri", "string"), None, True,
              "the place: Q-id, IRI or name"),
        Param("lang", ("language",), "en", False, "language of the labels"),
    )


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("# param: place iri", "malformed param line"),
        ("# param: place (uri)", "unknown type uri"),
        ("# param: 1place (iri)", "not a SPARQL variable name"),
        ("# param: n (integer) = ten", "default refused"),
    ],
)
def test_bad_header_is_located(line: str, message: str, tmp_path: Path) -> None:
    path = tmp_path / "bad.rq"
    with pytest.raises(QueryError, match=message) as info:
        parse_header(f"# title: x\n{line}\nSELECT * {{}}", path=path)
    assert str(info.value).startswith(f"{path}:2: ")


def test_duplicate_param_refused() -> None:
    with pytest.raises(QueryError, match="declared twice: a"):
        parse_header("# param: a (iri)\n# param: a (string)\nSELECT * {}")


# --- values ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("types", "value", "term"),
    [
        (("qid",), "Q35", "<http://www.wikidata.org/entity/Q35>"),
        (("qid",), "wd:Q35", "<http://www.wikidata.org/entity/Q35>"),
        (("qid", "iri"), "<http://example.org/x>", "<http://example.org/x>"),
        (("qid", "iri", "string"), "京都市", '"京都市"'),
        (("qid", "iri", "string"), 'a" } ; DROP ALL #', '"a\\" } ; DROP ALL #"'),
        (("string",), "line\nbreak\\", '"line\\nbreak\\\\"'),
        (("langstring",), "Kyoto@en", '"Kyoto"@en'),
        (("language",), "zh-Hans", '"zh-hans"'),
        (("integer",), "-12", '"-12"^^<http://www.w3.org/2001/XMLSchema#integer>'),
        (("decimal",), "1.5", '"1.5"^^<http://www.w3.org/2001/XMLSchema#decimal>'),
        (("boolean",), "TRUE", '"true"^^<http://www.w3.org/2001/XMLSchema#boolean>'),
        (("date",), "1985-09-12", '"1985-09-12"^^<http://www.w3.org/2001/XMLSchema#date>'),
        (("gYear",), "1958", '"1958"^^<http://www.w3.org/2001/XMLSchema#gYear>'),
    ],
)
def test_values_become_terms(types: tuple[str, ...], value: str, term: str) -> None:
    assert str(parse_value(Param("x", types), value)) == term


@pytest.mark.parametrize(
    ("types", "value"),
    [
        (("qid",), "Q0"),
        (("qid",), "Q35 } "),
        (("iri",), "http://example.org/a> } ; DROP ALL { <x"),
        (("iri",), "http://example.org/a b"),
        (("iri",), "not-absolute"),
        (("qid", "iri"), "Kyoto"),
        (("integer",), "1; DROP ALL"),
        (("decimal",), "NaN"),
        (("date",), "1985-13-01"),
        (("language",), "en us"),
        (("langstring",), "Kyoto@"),
        (("boolean",), "yes"),
    ],
)
def test_malformed_values_are_refused(types: tuple[str, ...], value: str) -> None:
    with pytest.raises(QueryError, match=r"parameter x=.* is not a valid"):
        parse_value(Param("x", types), value)


# --- binding ---------------------------------------------------------------------------


def test_bind_injects_values_into_the_where_group(twins: NamedQuery, store: ox.Store) -> None:
    text = bind(twins, {"place": "京都市"})
    assert 'VALUES (?place ?lang) { ("京都市" "en") }' in text
    assert text.index("VALUES") > text.index("WHERE {")
    rows = [(s["twin"].value, s["label"].value) for s in store.query(text)]
    assert rows == [(f"{EX}boston", "Boston"), (f"{EX}paris", "Paris")]
    by_iri = bind(twins, {"place": f"{EX}paris", "lang": "en"})
    assert [s["label"].value for s in store.query(by_iri)] == ["Kyoto"]


def test_bind_refuses_unknown_missing_and_keeps_text_without_params(
    twins: NamedQuery,
) -> None:
    with pytest.raises(QueryError, match="has no parameter city"):
        bind(twins, {"place": "x", "city": "y"})
    with pytest.raises(QueryError, match="needs --param place=VALUE"):
        bind(twins, {})
    plain = parse_header("SELECT * WHERE { ?s ?p ?o }")
    assert bind(plain, {}) == plain.text


def test_bind_finds_the_where_group_past_templates_comments_and_strings() -> None:
    construct = parse_header(
        "# param: s (iri)\n"
        'CONSTRUCT { ?s <http://x/p> "WHERE { not here }" } # WHERE { nor here\n'
        "WHERE { ?s ?p ?o }"
    )
    text = bind(construct, {"s": "http://x/a"})
    assert text.endswith("WHERE {\n  VALUES (?s) { (<http://x/a>) } ?s ?p ?o }")
    ox.Store().query(text)  # still parses
    select_expr = parse_header(
        "# param: s (iri)\nSELECT ?s (EXISTS { ?s ?p ?o } AS ?e) { ?s ?q ?r }"
    )
    assert "{ ?s ?q ?r }" not in bind(select_expr, {"s": "http://x/a"})
    assert "AS ?e) {\n  VALUES" in bind(select_expr, {"s": "http://x/a"})
    with pytest.raises(QueryError, match="cannot find the query's WHERE group"):
        bind(parse_header("# param: s (iri)\nDESCRIBE ?s"), {"s": "http://x/a"})


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",),
                                      blacklist_characters="\x00")))
def test_any_string_is_bound_as_one_literal(value: str) -> None:
    """Whatever the text, the bound query parses and the value comes back unchanged."""
    named = parse_header("# param: v (string)\nSELECT ?v WHERE { }")
    solutions = list(ox.Store().query(bind(named, {"v": value})))
    assert [s["v"].value for s in solutions] == [value]


def test_query_form() -> None:
    assert query_form("PREFIX a: <http://select/> # ASK\nconstruct {} where {}") == "CONSTRUCT"
    with pytest.raises(QueryError, match="Update"):
        query_form("INSERT DATA { <a:b> <a:b> <a:b> }")


# --- registry --------------------------------------------------------------------------


def test_registry(tmp_path: Path) -> None:
    (tmp_path / "b.rq").write_text("# title: B\nASK {}\n", encoding="utf-8")
    (tmp_path / "a.rq").write_text("SELECT * {}\n", encoding="utf-8")
    assert [(q.name, q.title) for q in list_named(tmp_path)] == [("a", "a"), ("b", "B")]
    assert load_named("b", directory=tmp_path).text == "# title: B\nASK {}\n"
    with pytest.raises(QueryError, match=r"unknown named query 'c' \(known: a, b\)"):
        load_named("c", directory=tmp_path)
    with pytest.raises(QueryError, match="not a query name"):
        load_named("../b", directory=tmp_path)
    assert resolve(str(tmp_path / "b.rq")).title == "B"
    with pytest.raises(QueryError, match="no queries folder"):
        list_named(tmp_path / "missing")


def test_every_shipped_query_has_a_header() -> None:
    named = list_named()
    assert len(named) >= 10
    for query in named:
        assert query.title != query.name and query.description, query.name
        query_form(query.text)


# --- running ---------------------------------------------------------------------------

SELECT_ALL_NAMES = f"SELECT ?s ?n WHERE {{ ?s <{EX}name> ?n }} ORDER BY ?s ?n"


def test_run_local_formats(store: ox.Store, data: Path) -> None:
    table = run_local(SELECT_ALL_NAMES, store, "table")
    assert table.splitlines()[0].split() == ["s", "n"]
    assert f"{EX}kyoto   京都市@ja" in table and table.endswith("(4 rows)\n")
    answer = json.loads(run_local(SELECT_ALL_NAMES, data, "json"))
    assert len(answer["results"]["bindings"]) == 4
    assert run_local(SELECT_ALL_NAMES, store, "csv").splitlines()[0] == "s,n"
    assert run_local(SELECT_ALL_NAMES, store, "tsv").splitlines()[0] == "?s\t?n"
    assert "<sparql" in run_local(SELECT_ALL_NAMES, store, "xml")
    assert run_local("ASK { ?s ?p ?o }", store, "table") == "true\n"
    ttl = run_local(f"CONSTRUCT WHERE {{ ?s <{EX}twin> ?o }}", store, "ttl")
    assert len(list(ox.parse(ttl.encode(), format=ox.RdfFormat.TURTLE))) == 3


def test_run_local_errors(store: ox.Store, tmp_path: Path) -> None:
    with pytest.raises(QueryError, match="query syntax error"):
        run_local("SELECT WHERE", store)
    with pytest.raises(QueryError, match="ttl is for CONSTRUCT"):
        run_local(SELECT_ALL_NAMES, store, "ttl")
    with pytest.raises(QueryError, match="csv is for SELECT"):
        run_local("CONSTRUCT WHERE { ?s ?p ?o }", store, "csv")
    with pytest.raises(QueryError, match="unknown format"):
        run_local(SELECT_ALL_NAMES, store, "html")
    with pytest.raises(QueryError, match="no such file"):
        run_local(SELECT_ALL_NAMES, tmp_path / "missing.trig")


def test_render_table_counts_wide_characters() -> None:
    table = render_table(["a", "b"], [["京都", "x"], ["ab", "y"]])
    lines = table.splitlines()
    assert lines[2] == "京都  x" and lines[3] == "ab    y"  # both x and y in display column 6


@pytest.fixture(scope="module")
def oxigraph_endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Oxigraph server holding DATA, for run_remote."""
    folder = tmp_path_factory.mktemp("oxigraph-query")
    (folder / "data.ttl").write_text(DATA, encoding="utf-8")
    with oxigraph_read_only(folder, folder / "data.ttl") as url:
        yield url


def test_run_remote(oxigraph_endpoint: str, twins: NamedQuery) -> None:
    table = run_remote(bind(twins, {"place": "Kyoto"}), oxigraph_endpoint, "table")
    assert "Boston" in table and "Paris" in table and table.endswith("(2 rows)\n")
    answer = json.loads(run_remote(SELECT_ALL_NAMES, oxigraph_endpoint, "json"))
    assert len(answer["results"]["bindings"]) == 4
    assert run_remote(SELECT_ALL_NAMES, oxigraph_endpoint, "csv").splitlines()[0] == "s,n"
    assert run_remote("ASK { ?s ?p ?o }", oxigraph_endpoint, "table") == "true\n"
    ttl = run_remote(f"CONSTRUCT WHERE {{ ?s <{EX}twin> ?o }}", oxigraph_endpoint, "ttl")
    assert len(list(ox.parse(ttl.encode(), format=ox.RdfFormat.TURTLE))) == 3


def test_run_remote_errors(oxigraph_endpoint: str) -> None:
    with pytest.raises(QueryError, match="refused the query"):
        run_remote("SELECT * WHERE { ?s ?p }", oxigraph_endpoint)
    port = free_port()
    with pytest.raises(QueryError, match=f"cannot reach http://127.0.0.1:{port}/sparql"):
        run_remote("ASK {}", f"http://127.0.0.1:{port}/sparql")


# --- CLI -------------------------------------------------------------------------------


def test_cli(tmp_path: Path, data: Path, oxigraph_endpoint: str,
             capsys: pytest.CaptureFixture[str]) -> None:
    query = tmp_path / "twins.rq"
    query.write_text(TWINS, encoding="utf-8")
    assert main(["query", str(query), "--data", str(data), "--param", "place=Kyoto"]) == 0
    assert "(2 rows)" in capsys.readouterr().out
    assert main(["query", str(query), "--endpoint", oxigraph_endpoint, "-p", "place=Paris",
                 "-f", "csv"]) == 0
    assert capsys.readouterr().out.splitlines() == ["twin,label", f"{EX}kyoto,Kyoto"]
    assert main(["query", str(query), "--show", "-p", "place=Kyoto"]) == 0
    assert 'VALUES (?place ?lang) { ("Kyoto" "en") }' in capsys.readouterr().out
    # Bad input: one line on stderr, exit code 2.
    bad = (["-p", "place"], ["-p", "place=x", "-p", "lang=en us"],
           ["-p", "place=a", "-p", "place=b"])
    for argv in bad:
        assert main(["query", str(query), "--data", str(data), *argv]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("kg query: error: ")
    assert main(["query", "--list"]) == 0
    assert len([line for line in capsys.readouterr().out.splitlines()
                if not line.startswith(" ")]) >= 10


# --- federated queries and refusals: the message names the cause ---------------------------------


def test_unreachable_service_is_named(store: ox.Store, capsys: pytest.CaptureFixture[str],
                                      tmp_path: Path, data: Path) -> None:
    port = free_port()  # nothing listens there
    for service in (f"http://127.0.0.1:{port}/sparql", "http://no-such-host.invalid/sparql"):
        text = f"SELECT * {{ ?s ?p ?o SERVICE <{service}> {{ ?s ?q ?r }} }}"
        with pytest.raises(QueryError, match=f"the SERVICE endpoint {service} cannot be "
                           "reached"):
            run_local(text, store)
        query = tmp_path / "federated.rq"
        query.write_text(text, encoding="utf-8")
        assert main(["query", str(query), "--data", str(data)]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and f"SERVICE endpoint {service}" in err[0]


def test_refusals_give_the_servers_message(oxigraph_endpoint: str, data: Path) -> None:
    from kg.serve.app import open_site
    from tests.serve.conftest import serve_site

    with pytest.raises(QueryError) as info:
        run_remote("SELECT * WHERE { ?s ?p }", oxigraph_endpoint)
    message = str(info.value)
    assert "HTTP 400: " in message and "QueryBadFormed" not in message
    assert "probably" not in message and "b'" not in message
    federated = "SELECT * { SERVICE <https://query.wikidata.org/sparql> { ?s ?p ?o } }"
    with serve_site(open_site([data])) as base, pytest.raises(QueryError) as info:
        run_remote(federated, base + "/sparql")
    message = str(info.value)
    assert "refused the query: HTTP 400: " in message and "is not allowed" in message
    assert "QueryBadFormed" not in message and "probably" not in message
