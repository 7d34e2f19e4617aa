"""Serialisations: strict parse, same triples in every format, stable bytes, one graph per doc."""

from __future__ import annotations

import json

import pyoxigraph
import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic

from kg.errors import RdfError
from kg.rdf import emit
from kg.rdf.quads import Quads
from kg.rdf.serialize import (
    FORMATS,
    serialize_dataset,
    to_jsonld,
    to_ntriples,
    to_trig,
    to_turtle,
    union_graph,
    void_graph,
)
from kg.rdf.vocab import VOID
from tests.rdf.fixtures import links, results

_OX = {
    "ttl": pyoxigraph.RdfFormat.TURTLE,
    "nt": pyoxigraph.RdfFormat.N_TRIPLES,
    "jsonld": pyoxigraph.RdfFormat.JSON_LD,
    "trig": pyoxigraph.RdfFormat.TRIG,
}


@pytest.fixture(scope="module")
def dataset() -> Quads:
    ds, _ = emit(results(), links())
    return ds


def _triples(data: bytes, fmt: str) -> set[tuple[str, str, str]]:
    quads = pyoxigraph.parse(data, _OX[fmt])
    return {(str(q.subject), str(q.predicate), str(q.object)) for q in quads}


def test_every_format_parses_strictly_with_the_same_triples(dataset: Quads) -> None:
    files = serialize_dataset(dataset, list(FORMATS))
    expected = _triples(files["nt"], "nt")
    assert len(expected) == len(union_graph(dataset))
    for fmt, data in files.items():
        assert _triples(data, fmt) == expected, fmt


def test_bytes_are_stable(dataset: Quads) -> None:
    again, _ = emit(results(), links())
    assert serialize_dataset(dataset, list(FORMATS)) == serialize_dataset(again, list(FORMATS))


def test_trig_has_one_named_graph_per_source_document(dataset: Quads) -> None:
    data = serialize_dataset(dataset, ["trig"])["trig"]
    graphs = {str(q.graph_name) for q in pyoxigraph.parse(data, pyoxigraph.RdfFormat.TRIG)}
    assert graphs == {
        "<https://w3id.org/twinning-kg/graph/lhc>",
        "<https://w3id.org/twinning-kg/graph/zhwiki>",
        "<https://w3id.org/twinning-kg/graph/links>",
    }


def test_jsonld_context_uses_the_ontology_prefix(dataset: Quads) -> None:
    doc = json.loads(to_jsonld(dataset))
    assert doc["@context"]["tw"] == "https://w3id.org/twinning-kg/ontology#"
    ids = [node["@id"] for node in doc["@graph"]]
    assert ids == sorted(ids)


def test_language_tags_keep_bcp47_case(dataset: Quads) -> None:
    text = to_turtle(dataset).decode()
    assert '"東京"@zh-Hant' in text and "@zh-hant" not in text
    assert '"@language": "zh-Hant"' in to_jsonld(dataset).decode()
    assert "@zh-hant" not in to_trig(dataset).decode()
    assert isomorphic(Graph().parse(data=text, format="turtle"), union_graph(dataset))


def test_ntriples_lines_sorted(dataset: Quads) -> None:
    lines = to_ntriples(dataset).decode().splitlines()
    assert lines == sorted(lines)


def test_blank_nodes_and_unknown_formats_are_refused(dataset: Quads) -> None:
    g = Graph()
    from rdflib import BNode

    g.add((BNode(), URIRef("http://example.org/p"), Literal("x")))
    with pytest.raises(RdfError):
        to_turtle(g)
    with pytest.raises(RdfError, match="unknown format"):
        serialize_dataset(dataset, ["rdfxml"])


def test_void_counts_triples_distributions_and_linkset(dataset: Quads) -> None:
    files = serialize_dataset(dataset, ["ttl", "nt"])
    void = void_graph(
        dataset, base="https://w3id.org/twinning-kg/", files=files,
        sparql_endpoint="http://127.0.0.1:9999/sparql",
    )
    ds_node = URIRef("https://w3id.org/twinning-kg/dataset")
    triples = void.value(ds_node, VOID.triples)
    assert triples is not None and int(triples) == len(union_graph(dataset))
    assert (ds_node, VOID.sparqlEndpoint, URIRef("http://127.0.0.1:9999/sparql")) in void
    linkset = URIRef("https://w3id.org/twinning-kg/dataset/linkset/wikidata")
    assert int(void.value(linkset, VOID.triples)) == 5  # type: ignore[arg-type]
    assert len(list(void.objects(ds_node, URIRef("http://www.w3.org/ns/dcat#distribution")))) == 2
    _triples(to_turtle(void), "ttl")


def test_bytes_are_stable_across_processes() -> None:
    """Two interpreters (different hash seeds) write the same bytes in every format."""
    import subprocess
    import sys

    script = (
        "import hashlib; from kg.rdf import emit; from kg.rdf.serialize import "
        "FORMATS, serialize_dataset; from tests.rdf.fixtures import links, results; "
        "files = serialize_dataset(emit(results(), links())[0], list(FORMATS)); "
        "print({k: hashlib.sha256(v).hexdigest() for k, v in sorted(files.items())})"
    )
    outs = [
        subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                       check=True, env={**__import__("os").environ, "PYTHONHASHSEED": seed},
                       timeout=120).stdout
        for seed in ("1", "2")
    ]
    assert outs[0] == outs[1] and outs[0].count(":") >= 4
