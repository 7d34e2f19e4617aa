"""The HTTP server, live on a loopback port: routes, statuses, CORS, page data, CLI."""

from __future__ import annotations

import csv
import http.client
import io
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote, urlsplit

import pyoxigraph as ox
import pytest
import requests

from kg.cli.serve import ensure_built
from kg.errors import KGError, ServeError
from kg.serve.app import Site
from tests.serve.conftest import serve_site

SELECT_CITIES = "SELECT ?s WHERE { ?s a <http://example.org/City> } ORDER BY ?s"


def _raw(base: str, method: str, path: str, body: bytes = b"",
         headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """One request with exactly these headers (requests would add its own)."""
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
    conn.request(method, path, body=body or None, headers=headers or {})
    answer = conn.getresponse()
    data = answer.read()
    conn.close()
    return answer.status, {k.lower(): v for k, v in answer.getheaders()}, data


def test_get_post_form_and_post_direct_agree(base_url: str) -> None:
    url = base_url + "/sparql"
    by_get = requests.get(url, params={"query": SELECT_CITIES}, timeout=30)
    by_form = requests.post(url, data={"query": SELECT_CITIES}, timeout=30)
    by_direct = requests.post(url, data=SELECT_CITIES.encode(), timeout=30,
                              headers={"Content-Type": "application/sparql-query"})
    for answer in (by_get, by_form, by_direct):
        assert answer.status_code == 200
        assert answer.headers["Content-Type"] == "application/sparql-results+json"
        assert [b["s"]["value"] for b in answer.json()["results"]["bindings"]] == [
            "http://example.org/beijing", "http://example.org/kyoto",
            "http://example.org/nowhere"]


@pytest.mark.parametrize(("accept", "media"), [
    ("application/sparql-results+xml", "application/sparql-results+xml"),
    ("text/csv", "text/csv; charset=utf-8"),
    ("text/tab-separated-values", "text/tab-separated-values; charset=utf-8"),
    ("text/csv;q=0.5, application/sparql-results+xml;q=0.9", "application/sparql-results+xml"),
    ("text/*", "text/csv; charset=utf-8"),
    ("*/*", "application/sparql-results+json"),
])
def test_select_formats_by_accept(base_url: str, accept: str, media: str) -> None:
    answer = requests.get(base_url + "/sparql", params={"query": SELECT_CITIES},
                          headers={"Accept": accept}, timeout=30)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == media
    if media.startswith("text/csv"):  # pyoxigraph does not parse the lossy CSV format
        rows = list(csv.reader(io.StringIO(answer.text)))[1:]
    else:
        fmt = ox.QueryResultsFormat.from_media_type(media.split(";")[0])
        assert fmt is not None
        rows = list(ox.parse_query_results(answer.content, format=fmt))  # type: ignore
    assert len(rows) == 3


@pytest.mark.parametrize("accept", ["text/turtle", "application/n-triples",
                                    "application/ld+json", "application/rdf+xml"])
def test_construct_formats(base_url: str, accept: str) -> None:
    query = "CONSTRUCT { ?s a ?c } WHERE { ?s a ?c }"
    answer = requests.post(base_url + "/sparql", data={"query": query},
                           headers={"Accept": accept}, timeout=30)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"].split(";")[0] == accept
    fmt = ox.RdfFormat.from_media_type(accept)
    assert fmt is not None
    assert len(list(ox.parse(answer.content, format=fmt))) == 3


def test_describe_defaults_to_turtle(base_url: str) -> None:
    answer = requests.get(base_url + "/sparql",
                          params={"query": "DESCRIBE <http://example.org/kyoto>"}, timeout=30)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "text/turtle; charset=utf-8"
    assert "Q34600" in answer.text  # gazetteer gf_wikidata_cities.tsv:1735


def test_ask_json(base_url: str) -> None:
    answer = requests.get(base_url + "/sparql", params={"query": "ASK { ?s ?p ?o }"},
                          timeout=30)
    assert answer.json() == {"head": {}, "boolean": True}


def test_default_graph_is_the_union(base_url: str) -> None:
    query = "SELECT ?s WHERE { ?s <http://example.org/namedIn> ?d } ORDER BY ?s"
    answer = requests.get(base_url + "/sparql", params={"query": query}, timeout=30)
    assert len(answer.json()["results"]["bindings"]) == 2
    # A protocol dataset replaces it: only doc1 as the default graph.
    answer = requests.get(base_url + "/sparql", params={
        "query": query, "default-graph-uri": "http://example.org/doc1"}, timeout=30)
    assert [b["s"]["value"] for b in answer.json()["results"]["bindings"]] == [
        "http://example.org/kyoto"]
    # FROM in the query is honoured too.
    answer = requests.get(base_url + "/sparql", params={
        "query": "SELECT ?s FROM <http://example.org/doc2> WHERE { ?s ?p ?o }"}, timeout=30)
    assert [b["s"]["value"] for b in answer.json()["results"]["bindings"]] == [
        "http://example.org/beijing"]


@pytest.mark.parametrize(("method", "path", "body", "headers", "status"), [
    ("GET", "/sparql?query=SELECT", b"", {}, 400),
    ("GET", "/sparql?query=ASK%7B%7D&query=ASK%7B%7D", b"", {}, 400),
    ("POST", "/sparql", b"", {"Content-Type": "application/x-www-form-urlencoded"}, 400),
    ("POST", "/sparql", b"query=ASK%7B%7D&update=CLEAR%20ALL",
     {"Content-Type": "application/x-www-form-urlencoded"}, 400),
    ("GET", "/sparql?update=CLEAR%20ALL", b"", {}, 403),
    ("POST", "/sparql", b"update=CLEAR%20ALL",
     {"Content-Type": "application/x-www-form-urlencoded"}, 403),
    ("POST", "/sparql", b"CLEAR ALL", {"Content-Type": "application/sparql-update"}, 403),
    ("PUT", "/sparql?query=ASK%7B%7D", b"", {}, 405),
    ("DELETE", "/sparql", b"", {}, 405),
    ("PATCH", "/sparql", b"", {}, 405),
    ("BREW", "/sparql", b"", {}, 405),
    ("GET", "/sparql?query=ASK%7B%7D", b"", {"Accept": "text/turtle"}, 406),
    ("GET", "/sparql?query=SELECT%20*%7B%7D", b"", {"Accept": "image/png"}, 406),
    ("GET", "/sparql?query=CONSTRUCT%20WHERE%7B%7D", b"",
     {"Accept": "application/sparql-results+json"}, 406),
    ("POST", "/sparql", b"x" * 5000, {"Content-Type": "application/sparql-query"}, 413),
    ("POST", "/sparql", b"ASK {}", {"Content-Type": "text/plain"}, 415),
    ("POST", "/sparql", b"ASK {}", {}, 415),
    ("POST", "/sparql", "ASK {}".encode("utf-16"),
     {"Content-Type": "application/sparql-query; charset=UTF-16"}, 415),
    ("POST", "/sparql", b"ASK { \xff }", {"Content-Type": "application/sparql-query"}, 400),
    ("GET", "/sparql?query=ASK%7B%7D&default-graph-uri=not%20an%20iri", b"", {}, 400),
    ("GET", "/sparql?query=SELECT%20*%20%7B%20SERVICE%20%3Chttp%3A%2F%2Fexample.org%2Fs%3E"
            "%20%7B%20%3Fs%20%3Fp%20%3Fo%20%7D%20%7D", b"", {}, 400),
    ("GET", "/nothing-here", b"", {}, 404),
    ("GET", "/queries/no-such-query", b"", {}, 404),
    ("GET", "/queries/cities?nosuch=1", b"", {}, 400),
    ("GET", "/dumps/../../etc/passwd", b"", {}, 404),
    ("POST", "/queries/cities", b"", {"Content-Type": "application/sparql-query"}, 405),
])
def test_status_codes(base_url: str, method: str, path: str, body: bytes,
                      headers: dict[str, str], status: int) -> None:
    got, answer_headers, data = _raw(base_url, method, path, body, headers)
    assert got == status, data
    assert data.strip(), "an error answer says why"
    assert answer_headers["access-control-allow-origin"] == "*"
    if status == 405:
        assert "GET" in answer_headers["allow"]


def test_update_refusal_is_clear(base_url: str) -> None:
    answer = requests.post(base_url + "/sparql", data={"update": "CLEAR ALL"}, timeout=30)
    assert answer.status_code == 403
    assert "read-only" in answer.text


def test_service_refusal_names_the_option(base_url: str) -> None:
    query = "PREFIX wdq: <https://query.wikidata.org/> SELECT * { SERVICE wdq:sparql { } }"
    answer = requests.get(base_url + "/sparql", params={"query": query}, timeout=30)
    assert answer.status_code == 400
    assert "https://query.wikidata.org/sparql" in answer.text
    assert "--allow-service" in answer.text


def test_cors_preflight(base_url: str) -> None:
    status, headers, _ = _raw(base_url, "OPTIONS", "/sparql", headers={
        "Origin": "http://elsewhere.example", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    assert status == 204
    assert headers["access-control-allow-origin"] == "*"
    assert "POST" in headers["access-control-allow-methods"]
    assert "content-type" in headers["access-control-allow-headers"].lower()


def test_head_has_no_body(base_url: str) -> None:
    status, headers, data = _raw(base_url, "HEAD", "/sparql?query=ASK%7B%7D")
    assert status == 200 and data == b"" and int(headers["content-length"]) > 0


def test_service_description(base_url: str) -> None:
    answer = requests.get(base_url + "/sparql", timeout=30)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "text/turtle; charset=utf-8"
    store = ox.Store()
    store.load(answer.content, format=ox.RdfFormat.TURTLE)
    assert store.query("""ASK { ?s a <http://www.w3.org/ns/sparql-service-description#Service> ;
        <http://www.w3.org/ns/sparql-service-description#feature>
        <http://www.w3.org/ns/sparql-service-description#UnionDefaultGraph> }""")
    answer = requests.get(base_url + "/sparql", headers={"Accept": "application/ld+json"},
                          timeout=30)
    assert answer.headers["Content-Type"] == "application/ld+json"


def test_generated_void_lists_dumps(base_url: str) -> None:
    answer = requests.get(base_url + "/.well-known/void", timeout=30)
    assert answer.status_code == 200
    assert f"{base_url}/dumps/places.ttl" in answer.text
    assert f"{base_url}/sparql" in answer.text


def test_given_void_is_served(site_factory: Callable[..., Site], tmp_path: Path) -> None:
    void = tmp_path / "void.ttl"
    void.write_text("""@prefix void: <http://rdfs.org/ns/void#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
<http://example.org/ds> a void:Dataset ; dcterms:title "Fixture set"@en ;
  dcterms:license <https://creativecommons.org/publicdomain/zero/1.0/> ;
  dcterms:modified "2026-01-02"^^<http://www.w3.org/2001/XMLSchema#date> ;
  dcterms:source <http://example.org/source-a> .
""", encoding="utf-8")
    with serve_site(site_factory(void=void)) as url:
        answer = requests.get(url + "/.well-known/void", headers={"Accept": "text/turtle"},
                              timeout=30)
        # The given triples, and the endpoint this server answers at (it had none).
        given = {q.triple for q in ox.parse(void.read_bytes(), format=ox.RdfFormat.TURTLE)}
        served = {q.triple for q in ox.parse(answer.content, format=ox.RdfFormat.TURTLE)}
        assert served - given == {ox.Triple(ox.NamedNode("http://example.org/ds"),
                                            ox.NamedNode("http://rdfs.org/ns/void#sparqlEndpoint"),
                                            ox.NamedNode(url + "/sparql"))}
        assert given <= served
        info = requests.get(url + "/api/info", timeout=30).json()
    assert info["title"] == "Fixture set"
    assert info["license"] == "https://creativecommons.org/publicdomain/zero/1.0/"
    assert info["modified"] == "2026-01-02"
    assert info["sources"] == ["http://example.org/source-a"]


def test_page_data(base_url: str) -> None:
    info = requests.get(base_url + "/api/info", timeout=30).json()
    assert info["triples"] == 13 and info["graphs"] == 2
    assert info["wikidata_entities"] == 2
    assert {"class": "http://example.org/City", "count": 3, "curie": "http://example.org/City",
            "labels": {}} in info["classes"]
    assert [d["name"] for d in info["dumps"]] == ["graphs.trig", "places.ttl"]
    page = requests.get(base_url + "/", timeout=30)
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "/static/app.js" in page.text
    for name in ("app.js", "style.css"):
        assert requests.get(f"{base_url}/static/{name}", timeout=30).status_code == 200


def test_page_needs_no_other_host() -> None:
    from kg.serve.app import STATIC_DIR

    # Every file, the vendored libraries and base map (static/vendor/) included.
    for path in sorted(p for p in STATIC_DIR.rglob("*") if p.is_file()):
        text = path.read_text(encoding="utf-8")
        # The only absolute URLs are links for people (Wikidata pages), never fetched.
        for marker in ("<script src=\"http", "<link rel=\"stylesheet\" href=\"http",
                       "@import", "fetch(\"http", "fetch('http", "cdn"):
            assert marker not in text, (path.name, marker)


def test_dumps(base_url: str, data_dir: Path) -> None:
    listing = requests.get(base_url + "/dumps/", timeout=30).json()
    assert {d["name"] for d in listing} == {"places.ttl", "graphs.trig"}
    answer = requests.get(base_url + "/dumps/places.ttl", timeout=30)
    assert answer.content == (data_dir / "places.ttl").read_bytes()
    assert answer.headers["Content-Type"] == "text/turtle; charset=utf-8"


def test_named_queries(base_url: str) -> None:
    listing = requests.get(base_url + "/queries", timeout=30).json()
    assert [q["name"] for q in listing] == ["cities"]
    assert listing[0]["params"][0]["name"] == "name"
    answer = requests.get(base_url + "/queries/cities", timeout=30)
    rows = answer.json()["results"]["bindings"]
    assert [r["label"]["value"] for r in rows][:2] == ["Beijing", "Kyoto"]
    answer = requests.get(base_url + "/queries/cities", params={"name": "Kyoto"},
                          headers={"Accept": "text/csv"}, timeout=30)
    assert answer.text.splitlines()[1] == (
        "http://example.org/kyoto,Kyoto,http://www.wikidata.org/entity/Q34600")
    # Parameters are bound as terms: an injection attempt is just a string that matches nothing.
    answer = requests.get(base_url + "/queries/cities",
                          params={"name": '" ) } SELECT * { ?s ?p ?o } #'}, timeout=30)
    assert answer.status_code == 200 and answer.json()["results"]["bindings"] == []


def test_row_cap_is_stated(site_factory: Callable[..., Site]) -> None:
    with serve_site(site_factory(max_rows=2)) as url:
        answer = requests.get(url + "/sparql", params={"query": SELECT_CITIES}, timeout=30)
        assert answer.status_code == 200
        assert answer.headers["X-Result-Truncated"] == "true"
        assert answer.headers["X-Result-Limit"] == "2"
        data = answer.json()
        assert len(data["results"]["bindings"]) == 2
        assert data["truncated"]["limit"] == 2
        assert data["head"]["link"] == ["urn:x-kg:truncated?limit=2"]
        small = requests.get(url + "/sparql", params={"query": "ASK {}"}, timeout=30)
        assert "X-Result-Truncated" not in small.headers


def test_timeout_answers_503(tmp_path: Path) -> None:
    from kg.serve.app import open_site
    from kg.serve.limits import Limits

    data = tmp_path / "many.nt"
    data.write_text("".join(f"<http://e/s{i}> <http://e/p> \"{i}\" .\n" for i in range(200)),
                    encoding="utf-8")
    site = open_site([data], limits=Limits(timeout=0.3, max_rows=10**9))
    with serve_site(site) as url:
        started = time.monotonic()
        answer = requests.get(url + "/sparql", params={
            "query": "SELECT * { ?a ?p ?b . ?c ?q ?d . ?e ?r ?f }"}, timeout=60)
        assert answer.status_code == 503
        assert "timeout" in answer.text and answer.headers["Retry-After"]
        assert time.monotonic() - started < 20


def test_cached_answers_are_identical(base_url: str) -> None:
    first = requests.get(base_url + "/sparql", params={"query": SELECT_CITIES + " "}, timeout=30)
    second = requests.get(base_url + "/sparql", params={"query": SELECT_CITIES + " "},
                          timeout=30)
    xml = requests.get(base_url + "/sparql", params={"query": SELECT_CITIES + " "},
                       headers={"Accept": "application/sparql-results+xml"}, timeout=30)
    assert first.content == second.content
    assert xml.headers["Content-Type"] == "application/sparql-results+xml"


def test_ensure_built_without_build(tmp_path: Path) -> None:
    with pytest.raises(ServeError, match="no built graph"):
        ensure_built(tmp_path / "dist", root=tmp_path, build=False)
    dist = tmp_path / "dist"
    dist.mkdir()
    (dist / "twinning.trig").write_text("", encoding="utf-8")
    assert ensure_built(dist, root=tmp_path, build=False) == dist / "twinning.trig"
    # Not built by kg build (no manifest): rebuilding it would destroy what it holds.
    with pytest.raises(KGError, match=r"holds no manifest\.json"):
        ensure_built(dist, root=tmp_path, build=True)
    assert [p.name for p in dist.iterdir()] == ["twinning.trig"]


def _kg(*args: str, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "kg", "serve", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd,
                            env={**os.environ, "PYTHONPATH": str(Path.cwd())})


def test_cli_serves_files(data_dir: Path, tmp_path: Path) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = _kg(str(data_dir / "places.ttl"), "--port", str(port), "--store",
                  str(tmp_path / "db"), cwd=tmp_path)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                answer = requests.get(f"http://127.0.0.1:{port}/sparql",
                                      params={"query": "SELECT * { ?s ?p ?o }"}, timeout=5)
                break
            except requests.ConnectionError:
                assert process.poll() is None, process.communicate()
                assert time.monotonic() < deadline
                time.sleep(0.2)
        assert answer.status_code == 200
        assert len(answer.json()["results"]["bindings"]) == 11
    finally:
        process.terminate()
        process.communicate(timeout=30)


def test_cli_bad_data_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.ttl"
    bad.write_text("<http://a> <http://b> <http://c> .\n<http://a> <http://b> .\n",
                   encoding="utf-8")
    process = _kg(str(bad), "--port", "0", cwd=tmp_path)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 2
    assert err.strip().splitlines() == [err.strip()]
    assert f"{bad}:2:" in err


def test_cli_port_in_use(data_dir: Path, tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        process = _kg(str(data_dir / "places.ttl"), "--port",
                      str(taken.getsockname()[1]), cwd=tmp_path)
        _, err = process.communicate(timeout=60)
    assert process.returncode == 2
    assert "cannot listen" in err and "Traceback" not in err


def test_quoted_query_path(base_url: str) -> None:
    answer = requests.get(base_url + "/sparql?query=" + quote("ASK { }"), timeout=30)
    assert answer.json()["boolean"] is True
    assert json.loads(answer.content)["head"] == {}


VOID_WITH_ENDPOINT = """@prefix void: <http://rdfs.org/ns/void#> .
@prefix dcat: <http://www.w3.org/ns/dcat#> .
<https://w3id.org/x/dataset> a void:Dataset ;
  void:sparqlEndpoint <http://127.0.0.1:8000/sparql> ;
  void:dataDump <https://w3id.org/x/places.ttl>, <https://w3id.org/x/not-served.nt> ;
  dcat:accessService <http://127.0.0.1:8000/sparql> .
<http://127.0.0.1:8000/sparql> a dcat:DataService ;
  dcat:endpointURL <http://127.0.0.1:8000/sparql> .
<https://w3id.org/x/dist/places.ttl> dcat:downloadURL <https://w3id.org/x/places.ttl> .
"""


@pytest.mark.parametrize("public", [None, "https://kg.example.org/twinning/"])
def test_void_names_this_server(site_factory: Callable[..., Site], tmp_path: Path,
                                public: str | None) -> None:
    """The VoID announces the endpoint and dumps this server answers at (issue 11), from
    --public-url or the listening address; the Host header changes nothing."""
    void = tmp_path / "void.ttl"
    void.write_text(VOID_WITH_ENDPOINT, encoding="utf-8")
    site = site_factory(void=void)
    with serve_site(site, public_url=public) as url:
        base = (public or url).rstrip("/")
        answers = [requests.get(url + "/.well-known/void", timeout=30,
                                headers={"Accept": "text/turtle", "Host": host})
                   for host in ("evil.example", "other.example:81")]
        assert answers[0].content == answers[1].content
        text = answers[0].text
        assert "evil" not in text and "other.example" not in text
        assert "127.0.0.1:8000" not in text and "not-served" not in text
        store = ox.Store()
        store.load(answers[0].content, format=ox.RdfFormat.TURTLE)
        assert store.query(f"""PREFIX void: <http://rdfs.org/ns/void#>
            PREFIX dcat: <http://www.w3.org/ns/dcat#>
            ASK {{ <https://w3id.org/x/dataset> void:sparqlEndpoint <{base}/sparql> ;
                     void:dataDump <{base}/dumps/places.ttl> ;
                     dcat:accessService <{base}/sparql> .
                   <{base}/sparql> dcat:endpointURL <{base}/sparql> .
                   ?d dcat:downloadURL <{base}/dumps/places.ttl> }}""")
        # The dump it names is served.
        dump = requests.get(f"{url}/dumps/places.ttl", timeout=30)
        assert dump.status_code == 200
        description = requests.get(url + "/sparql", headers={"Host": "evil.example"},
                                   timeout=30)
        assert f"<{base}/sparql" in description.text and "evil" not in description.text


def test_public_url_is_checked() -> None:
    from kg.serve.app import check_public_url

    assert check_public_url("https://kg.example.org/a/") == "https://kg.example.org/a"
    for bad in ("ftp://x.org", "kg.example.org", "http://x.org/?q=1", "http://u@x.org",
                "http://x.org/#f", "http://x .org"):
        with pytest.raises(ServeError):
            check_public_url(bad)


def test_cli_bad_public_url_is_one_line(data_dir: Path, tmp_path: Path) -> None:
    process = _kg(str(data_dir / "places.ttl"), "--port", "0", "--public-url",
                  "javascript:alert(1)", cwd=tmp_path)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 2
    assert err.strip().splitlines() == [err.strip()] and "--public-url" in err


def test_a_build_of_other_inputs_is_served_not_rebuilt(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 19: `kg serve` rebuilt a user's build made from other inputs (and `--dist`
    folders) over what it held; such a build is now served as it is."""
    from kg.manifest import BuildInputs, InputDigest, manifest_bytes

    dist = tmp_path / "dist"
    dist.mkdir()
    trig = b"<http://e/a> <http://e/p> <http://e/b> <http://e/g> .\n"
    (dist / "twinning.trig").write_bytes(trig)
    mine = [InputDigest("seed", "my-own-list.csv", 10, "0" * 64)]
    (dist / "manifest.json").write_bytes(
        manifest_bytes({"twinning.trig": trig}, BuildInputs(), digests=mine))
    before = {p.name: p.stat().st_mtime_ns for p in dist.iterdir()}
    assert ensure_built(dist, root=tmp_path) == dist / "twinning.trig"
    assert {p.name: p.stat().st_mtime_ns for p in dist.iterdir()} == before
    assert "a build of other inputs; serving it as it is" in capsys.readouterr().err
    # --dist: never built, whatever it holds.
    assert ensure_built(dist, root=tmp_path, build=False) == dist / "twinning.trig"


def test_dist_without_a_graph_is_refused_in_one_line(tmp_path: Path) -> None:
    process = _kg("--dist", str(tmp_path / "empty"), "--port", "0", cwd=tmp_path)
    _out, err = process.communicate(timeout=60)
    assert process.returncode == 2
    assert err.count("\n") == 1 and "never built" in err
    assert not (tmp_path / "empty").exists()  # nothing made there
