"""What the server says about the dataset (kg.serve.site): the page's title and description
come from the served data, never from a file name (issue 19); the VoID has a Traditional
title for the zh-Hant view; the VoID and the service description served stay correct.

The graph is built from the seeds (``kg build``); the self-describing file below is made
up (``example.org``, no QIDs).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
import requests
import zhconv

from kg.serve.app import open_site
from kg.serve.limits import Limits
from kg.serve.site import build_void
from tests.serve.conftest import serve_site

DATASET = "https://w3id.org/twinning-kg/dataset"
TITLE = "http://purl.org/dc/terms/title"
VOID_NS = "http://rdfs.org/ns/void#"


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from kg.build import build

    out = tmp_path_factory.mktemp("site") / "dist"
    build(out=out, formats=("trig", "ttl"))
    return out


def _titles(void: bytes) -> dict[str, str]:
    return {q.object.language or "": q.object.value
            for q in ox.parse(void, format=ox.RdfFormat.TURTLE)
            if q.subject == ox.NamedNode(DATASET) and q.predicate.value == TITLE
            and isinstance(q.object, ox.Literal)}


def test_void_has_a_traditional_title(dist: Path) -> None:
    titles = _titles((dist / "void.ttl").read_bytes())
    assert titles["zh-hant"] == zhconv.convert(titles["zh-hans"], "zh-hant")
    assert titles["zh-hant"] != titles["zh-hans"]


@pytest.fixture(scope="module")
def file_server(dist: Path) -> Iterator[str]:
    # Served as `kg serve dist/twinning.trig` does: the files, no VoID given.
    with serve_site(open_site([dist / "twinning.trig"], dumps=[dist / "twinning.trig"],
                              limits=Limits(workers=1))) as url:
        yield url


def test_served_file_takes_its_title_from_its_build(file_server: str) -> None:
    info = requests.get(file_server + "/api/info", timeout=30).json()
    assert info["title"] == "Twinning knowledge graph"
    assert "twinning.trig" not in info["title"]
    assert info["titles"]["zh-hant"] == "友好城市知識圖譜"
    assert info["description"].startswith("Twinned places")
    assert info["license"] == "https://creativecommons.org/licenses/by-sa/4.0/"


def test_served_void_is_the_builds_rebased(file_server: str) -> None:
    void = requests.get(file_server + "/.well-known/void", headers={"Accept": "text/turtle"},
                        timeout=30).content
    triples = {q.triple for q in ox.parse(void, format=ox.RdfFormat.TURTLE)}
    dataset = ox.NamedNode(DATASET)
    endpoints = {t.object.value for t in triples
                 if t.subject == dataset and t.predicate.value == VOID_NS + "sparqlEndpoint"}
    assert endpoints == {file_server + "/sparql"}
    dumps = {t.object.value for t in triples
             if t.subject == dataset and t.predicate.value == VOID_NS + "dataDump"}
    assert dumps == {file_server + "/dumps/twinning.trig"}  # only what this server serves
    assert _titles(void)["zh-hant"] == "友好城市知識圖譜"


def test_dataset_dereferences_to_the_void_as_served(file_server: str) -> None:
    # /dataset is described from the VoID this server serves: its own endpoint and dumps,
    # not those the build was made for.
    answer = requests.get(file_server + "/dataset.ttl", timeout=30)
    assert answer.status_code == 200
    triples = {q.triple for q in ox.parse(answer.content, format=ox.RdfFormat.TURTLE)}
    endpoints = {t.object.value for t in triples if t.subject == ox.NamedNode(DATASET)
                 and t.predicate.value == VOID_NS + "sparqlEndpoint"}
    assert endpoints == {file_server + "/sparql"}


def test_service_description_points_to_the_void(file_server: str) -> None:
    answer = requests.get(file_server + "/sparql", headers={"Accept": "text/turtle"},
                          timeout=30)
    triples = {q.triple for q in ox.parse(answer.content, format=ox.RdfFormat.TURTLE)}
    sd = "http://www.w3.org/ns/sparql-service-description#"
    assert ox.Triple(ox.NamedNode(file_server + "/sparql#service"), ox.NamedNode(sd + "endpoint"),
                     ox.NamedNode(file_server + "/sparql")) in triples
    assert any(t.object == ox.NamedNode(file_server + "/.well-known/void") for t in triples)


def test_void_beside_is_used_only_for_files_of_that_build(dist: Path, tmp_path: Path) -> None:
    assert build_void([dist / "twinning.trig"]) == dist / "void.ttl"
    assert build_void([dist / "twinning.trig", dist / "twinning.ttl"]) == dist / "void.ttl"
    # A copy elsewhere, a changed file, a file the build did not write: no VoID.
    copy = tmp_path / "twinning.trig"
    shutil.copy(dist / "twinning.trig", copy)
    assert build_void([copy]) is None
    other = tmp_path / "other"
    shutil.copytree(dist, other)
    with (other / "twinning.trig").open("a", encoding="utf-8") as out:
        out.write("\n# edited\n")
    assert build_void([other / "twinning.trig"]) is None
    (other / "mine.ttl").write_text("", encoding="utf-8")
    assert build_void([other / "mine.ttl"]) is None


SELF_DESCRIBED = """\
@prefix void: <http://rdfs.org/ns/void#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
<https://example.org/ds> a void:Dataset ; dcterms:title "My twins"@en , "私の姉妹都市"@ja ;
  dcterms:description "A list of my own."@en .
<https://example.org/place/a> <https://example.org/twinnedWith> <https://example.org/place/b> .
"""


def test_title_from_data_that_describes_itself(tmp_path: Path) -> None:
    data = tmp_path / "my-twins.ttl"
    data.write_text(SELF_DESCRIBED, encoding="utf-8")
    with serve_site(open_site([data], limits=Limits(workers=1))) as url:
        info = requests.get(url + "/api/info", timeout=30).json()
    assert info["title"] == "My twins" and info["titles"]["ja"] == "私の姉妹都市"
    assert info["description"] == "A list of my own."


def test_title_without_any_description_is_not_a_file_name(tmp_path: Path) -> None:
    data = tmp_path / "twinning.trig"
    data.write_text("<https://example.org/g> { <https://example.org/a> "
                    "<https://example.org/p> <https://example.org/b> . }\n", encoding="utf-8")
    with serve_site(open_site([data], limits=Limits(workers=1))) as url:
        info = requests.get(url + "/api/info", timeout=30).json()
    assert info["title"] == "RDF data"


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _served_info(*files: Path, cwd: Path) -> dict[str, object]:
    """``kg serve FILE...`` as a user runs it: the page's data, then the server stopped."""
    import os
    import subprocess
    import sys
    import time

    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "kg", "serve", *map(str, files), "--port", str(port),
         "--workers", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])})
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                info: dict[str, object] = requests.get(
                    f"http://127.0.0.1:{port}/api/info", timeout=5).json()
                return info
            except requests.ConnectionError:
                assert process.poll() is None, process.communicate()
                assert time.monotonic() < deadline
                time.sleep(0.2)
    finally:
        process.terminate()
        process.communicate(timeout=30)


def test_cli_serving_a_file_shows_the_data_title(dist: Path, tmp_path: Path) -> None:
    # Issue 19: `kg serve my-dist/twinning.trig` was titled "twinning.trig".
    info = _served_info(dist / "twinning.trig", cwd=tmp_path)
    assert info["title"] == "Twinning knowledge graph"
    plain = tmp_path / "twinning.ttl"
    plain.write_text("<https://example.org/a> <https://example.org/p> "
                     "<https://example.org/b> .\n", encoding="utf-8")
    assert _served_info(plain, cwd=tmp_path)["title"] == "RDF data"
