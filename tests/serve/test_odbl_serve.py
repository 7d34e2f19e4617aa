"""``kg serve`` on a built folder serves the ODbL geometry dataset beside the CC BY-SA graph:
in the endpoint (its own named graph, in the union), as dumps, and in the VoID."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pyoxigraph as ox
import pytest
import requests

from kg import paths
from kg.build import build
from kg.rdf.odbl import ODBL_LICENSE, odbl_graph_iri
from kg.rdf.vocab import DEFAULT_BASE


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("odbl-serve") / "dist"
    build(out=out, formats=("nt", "trig"))
    return out


def _lines(path: Path) -> int:
    return len(path.read_bytes().splitlines())


def test_kg_serve_serves_both_datasets(dist: Path, tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(paths.PROJECT_ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "kg", "serve", "--dist", str(dist), "--no-build",
         "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                requests.get(base + "/", timeout=5)
                break
            except requests.ConnectionError:
                assert process.poll() is None, process.communicate()
                assert time.monotonic() < deadline
                time.sleep(0.3)

        def count(query: str) -> int:
            answer = requests.post(base + "/sparql", data={"query": query}, timeout=60,
                                   headers={"Accept": "application/sparql-results+json"})
            answer.raise_for_status()
            return int(answer.json()["results"]["bindings"][0]["n"]["value"])

        odbl = _lines(dist / "twinning-geo-odbl.nt")
        cc = _lines(dist / "twinning.nt")
        assert count(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{odbl_graph_iri(DEFAULT_BASE)}>"
                     " { ?s ?p ?o } }") == odbl
        assert count("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }") == cc + odbl
        dump = requests.get(base + "/dumps/twinning-geo-odbl.nt", timeout=30)
        assert dump.ok and dump.content == (dist / "twinning-geo-odbl.nt").read_bytes()
        void = requests.get(base + "/.well-known/void", headers={"Accept": "text/turtle"},
                            timeout=30)
        assert void.ok
        graph = ox.Store()
        graph.load(void.content, format=ox.RdfFormat.TURTLE)
        licences = {r[0].value for r in graph.query(  # type: ignore[index, union-attr]
            "SELECT ?l WHERE { ?d <http://purl.org/dc/terms/license> ?l }")}
        assert ODBL_LICENSE in licences and "https://creativecommons.org/licenses/by-sa/4.0/" \
            in licences
    finally:
        process.terminate()
        process.communicate(timeout=60)
