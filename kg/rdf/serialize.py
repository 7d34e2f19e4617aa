"""The dataset -> the ``dist/`` files, byte-identical for the same dataset.

Formats: Turtle and JSON-LD (the union of the named graphs), N-Triples (sorted lines), TriG
(one named graph per source document, graphs in IRI order) and ``void.ttl`` (VoID/DCAT
description). The graph has no blank nodes, and every writer orders its output, so the
bytes depend only on the triples. rdflib's Turtle writer sorts subjects and predicates; its
TriG and JSON-LD writers do not order graphs or nodes, so those two are assembled here.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from rdflib import Dataset, Graph, Literal, URIRef
from rdflib.term import BNode, Node

from kg.errors import RdfError
from kg.rdf.vocab import (
    DCAT,
    DCTERMS,
    DEFAULT_SPARQL_ENDPOINT,
    FOAF,
    ONTOLOGY_IRI,
    ORG,
    OWL,
    PREFIXES,
    PROV,
    RDF,
    SCHEMA,
    SKOS,
    TIME,
    VOID,
    WD,
    XSD,
    Iris,
)

__all__ = [
    "DATA_LICENSE",
    "FORMATS",
    "DistFile",
    "serialize_dataset",
    "to_jsonld",
    "to_ntriples",
    "to_trig",
    "to_turtle",
    "union_graph",
    "void_graph",
]

#: The data's licence: it restates zh.wikipedia content (CC BY-SA 4.0, share-alike).
DATA_LICENSE = URIRef("https://creativecommons.org/licenses/by-sa/4.0/")


@dataclass(frozen=True)
class DistFile:
    """One distribution format: file name and media type."""

    name: str
    media_type: str


#: The formats ``kg build --formats`` accepts, by name.
FORMATS: dict[str, DistFile] = {
    "ttl": DistFile("twinning.ttl", "text/turtle"),
    "nt": DistFile("twinning.nt", "application/n-triples"),
    "jsonld": DistFile("twinning.jsonld", "application/ld+json"),
    "trig": DistFile("twinning.trig", "application/trig"),
}


def _bind(graph: Graph) -> None:
    for prefix, ns in PREFIXES:
        graph.bind(prefix, ns, override=True, replace=True)


def _no_bnodes(graph: Graph) -> None:
    for s, _, o in graph:
        if isinstance(s, BNode) or isinstance(o, BNode):
            raise RdfError(f"blank node in the emitted graph ({s} … {o}): unstable output")


def union_graph(ds: Dataset) -> Graph:
    """All triples of every named graph of ``ds`` in one graph (duplicates merged)."""
    graph = Graph()
    _bind(graph)
    for s, p, o, _ in ds.quads((None, None, None, None)):
        graph.add((s, p, o))
    return graph


def to_turtle(graph: Graph) -> bytes:
    """Turtle, subjects and predicates sorted (rdflib's writer). Raises RdfError on blank nodes."""
    _no_bnodes(graph)
    _bind(graph)
    return _bcp47_case(graph.serialize(format="turtle", encoding="utf-8"))


def to_ntriples(graph: Graph) -> bytes:
    """N-Triples, one triple a line, lines sorted."""
    _no_bnodes(graph)
    text = graph.serialize(format="nt", encoding="utf-8").decode("utf-8")
    lines = sorted({line for line in text.split("\n") if line.strip()})
    return _bcp47_case(("\n".join(lines) + "\n").encode("utf-8"))


# rdflib lower-cases language tags; BCP 47 writes the script subtag in title case (zh-Hant).
_TAG_TEXT = re.compile(r'(?<!\\)"@zh-han([st])\b')
_TAG_JSON = re.compile(r'"@language": "zh-han([st])"')


def _bcp47_case(data: bytes) -> bytes:
    text = data.decode("utf-8")
    text = _TAG_TEXT.sub(lambda m: f'"@zh-Han{m.group(1)}', text)
    return _TAG_JSON.sub(lambda m: f'"@language": "zh-Han{m.group(1)}"', text).encode("utf-8")


_PREFIX_LINE = re.compile(r"^@prefix [^\n]*\n", re.MULTILINE)


def to_trig(ds: Dataset) -> bytes:
    """TriG with one block per non-empty named graph, graphs in IRI order, prefixes once."""
    blocks: list[str] = []
    used: set[str] = set()
    for graph in sorted(ds.graphs(), key=lambda g: str(g.identifier)):
        if len(graph) == 0 or not isinstance(graph.identifier, URIRef):
            continue
        body_graph = Graph()
        _bind(body_graph)
        for triple in graph:
            body_graph.add(triple)
        turtle = to_turtle(body_graph).decode("utf-8")
        used.update(re.findall(r"^@prefix (\w*):", turtle, re.MULTILINE))
        body = _PREFIX_LINE.sub("", turtle).strip("\n")
        indented = "\n".join(("    " + line) if line else "" for line in body.split("\n"))
        blocks.append(f"<{graph.identifier}> {{\n{indented}\n}}\n")
    header = "".join(f"@prefix {p}: <{ns}> .\n" for p, ns in sorted(PREFIXES) if p in used)
    return (header + "\n" + "\n".join(blocks)).encode("utf-8")


_SIMPLE_LOCAL = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")


def _compact(iri: str, context: Mapping[str, str]) -> str:
    # A compact IRI only where its local part is plain; otherwise the full IRI.
    for prefix, ns in context.items():
        if iri.startswith(ns) and _SIMPLE_LOCAL.match(iri[len(ns) :]):
            return f"{prefix}:{iri[len(ns):]}"
    return iri


def _jsonld_value(node: Node, context: Mapping[str, str]) -> dict[str, Any]:
    if isinstance(node, URIRef):
        return {"@id": _compact(str(node), context)}
    if isinstance(node, Literal):
        value: dict[str, Any] = {"@value": str(node)}
        if node.language:
            value["@language"] = node.language
        elif node.datatype is not None and node.datatype != XSD.string:
            value["@type"] = _compact(str(node.datatype), context)
        return value
    raise RdfError(f"blank node in the emitted graph: {node}")


def _sort_key(node: Node) -> tuple[str, str, str]:
    if isinstance(node, Literal):
        return (str(node), node.language or "", str(node.datatype or ""))
    return (str(node), "", "")


def to_jsonld(graph: Graph) -> bytes:
    """Flattened JSON-LD with an inline ``@context`` of the project's prefixes (``tw`` first).

    Nodes sorted by ``@id``, properties by compact name, values by text; stable bytes.
    """
    _no_bnodes(graph)
    context = dict(PREFIXES)
    nodes: list[dict[str, Any]] = []
    for subject in sorted({s for s in graph.subjects()}, key=str):
        if not isinstance(subject, URIRef):
            raise RdfError(f"blank node in the emitted graph: {subject}")
        node: dict[str, Any] = {"@id": _compact(str(subject), context)}
        types = sorted(str(o) for o in graph.objects(subject, RDF.type))
        if types:
            node["@type"] = [_compact(t, context) for t in types]
        props: dict[str, list[dict[str, Any]]] = {}
        for pred in sorted({p for p in graph.predicates(subject) if p != RDF.type}, key=str):
            values = sorted(graph.objects(subject, pred), key=_sort_key)
            props[_compact(str(pred), context)] = [_jsonld_value(v, context) for v in values]
        for key in sorted(props):
            node[key] = props[key]
        nodes.append(node)
    doc = {"@context": context, "@graph": nodes}
    return _bcp47_case((json.dumps(doc, ensure_ascii=False, indent=1) + "\n").encode("utf-8"))


def void_graph(
    ds: Dataset,
    *,
    base: str,
    files: Mapping[str, bytes],
    sparql_endpoint: str = DEFAULT_SPARQL_ENDPOINT,
) -> Graph:
    """The VoID/DCAT description of the dataset and of the distribution ``files`` written.

    ``files`` maps format names of :data:`FORMATS` to the bytes written (for their sizes).
    Counts come from the union graph; one ``void:subset`` per named graph; one
    ``void:Linkset`` for the ``owl:sameAs`` links to Wikidata.
    """
    iris = Iris(base)
    union = union_graph(ds)
    g = Graph()
    _bind(g)
    dataset = iris.dataset()
    g.add((dataset, RDF.type, VOID.Dataset))
    g.add((dataset, RDF.type, DCAT.Dataset))
    g.add((dataset, DCTERMS.title, Literal("Twinning knowledge graph", lang="en")))
    g.add((dataset, DCTERMS.title, Literal("友好城市知识图谱", lang="zh-Hans")))
    g.add((dataset, DCTERMS.title, Literal("姉妹都市ナレッジグラフ", lang="ja")))
    g.add((
        dataset,
        DCTERMS.description,
        Literal(
            "Twinned places (sister cities) of the People's Republic of China from zh.wikipedia "
            "and the member cities of the League of Historical Cities, reconciled with Wikidata, "
            "with provenance to the source line.",
            lang="en",
        ),
    ))
    g.add((dataset, DCTERMS.license, DATA_LICENSE))
    g.add((dataset, DCTERMS.creator, Literal("twinning-kg contributors")))
    g.add((dataset, DCTERMS.conformsTo, ONTOLOGY_IRI))
    # The ontology the data conforms to has its own licence (LICENSE-DATA, section 2).
    g.add((ONTOLOGY_IRI, DCTERMS.license, URIRef("https://creativecommons.org/licenses/by/4.0/")))
    g.add((dataset, VOID.uriSpace, Literal(base)))
    g.add((dataset, VOID.sparqlEndpoint, URIRef(sparql_endpoint)))
    g.add((dataset, VOID.triples, Literal(len(union), datatype=XSD.integer)))
    subjects = set(union.subjects())
    g.add((dataset, VOID.distinctSubjects, Literal(len(subjects), datatype=XSD.integer)))
    objects = set(union.objects())
    g.add((dataset, VOID.distinctObjects, Literal(len(objects), datatype=XSD.integer)))
    g.add((dataset, VOID.entities, Literal(
        len({s for s in subjects if isinstance(s, URIRef) and str(s).startswith(base)}),
        datatype=XSD.integer,
    )))
    classes = Counter(o for o in union.objects(None, RDF.type))
    g.add((dataset, VOID.classes, Literal(len(classes), datatype=XSD.integer)))
    properties = Counter(p for _, p, _ in union)
    g.add((dataset, VOID.properties, Literal(len(properties), datatype=XSD.integer)))
    for vocab in (ONTOLOGY_IRI, URIRef(str(SCHEMA)), URIRef(str(ORG)), URIRef(str(PROV)),
                  URIRef(str(SKOS)), URIRef(str(TIME)), URIRef(str(DCTERMS))):
        g.add((dataset, VOID.vocabulary, vocab))
    for cls, count in classes.items():
        name = quote(_compact(str(cls), dict(PREFIXES)).replace(":", "-"), safe="")
        part = iris.dataset(f"class/{name}")
        g.add((dataset, VOID.classPartition, part))
        g.add((part, VOID["class"], cls))
        g.add((part, VOID.entities, Literal(count, datatype=XSD.integer)))
    for example in sorted({s for s in union.subjects(RDF.type, None)}, key=str)[:1]:
        if isinstance(example, URIRef):
            g.add((dataset, VOID.exampleResource, example))

    for graph in sorted(ds.graphs(), key=lambda x: str(x.identifier)):
        if len(graph) == 0 or not isinstance(graph.identifier, URIRef):
            continue
        sub = graph.identifier
        g.add((dataset, VOID.subset, sub))
        g.add((sub, RDF.type, VOID.Dataset))
        g.add((sub, VOID.triples, Literal(len(graph), datatype=XSD.integer)))
        doc = URIRef(str(sub).replace("/graph/", "/source/"))
        g.add((sub, DCTERMS.source, doc))
        g.add((sub, PROV.wasDerivedFrom, doc))

    wikidata = iris.dataset("wikidata")
    g.add((wikidata, RDF.type, VOID.Dataset))
    g.add((wikidata, DCTERMS.title, Literal("Wikidata", lang="en")))
    g.add((wikidata, FOAF.homepage, URIRef("https://www.wikidata.org/")))
    g.add((wikidata, VOID.uriSpace, Literal(str(WD))))
    linkset = iris.dataset("linkset/wikidata")
    g.add((dataset, VOID.subset, linkset))
    g.add((linkset, RDF.type, VOID.Linkset))
    g.add((linkset, VOID.linkPredicate, OWL.sameAs))
    g.add((linkset, VOID.subjectsTarget, dataset))
    g.add((linkset, VOID.objectsTarget, wikidata))
    same_as = len(list(union.triples((None, OWL.sameAs, None))))
    g.add((linkset, VOID.triples, Literal(same_as, datatype=XSD.integer)))

    for name in sorted(files):
        dist = FORMATS[name]
        node = iris.dataset(dist.name)
        g.add((dataset, DCAT.distribution, node))
        g.add((dataset, VOID.dataDump, URIRef(base + dist.name)))
        g.add((node, RDF.type, DCAT.Distribution))
        g.add((node, DCAT.mediaType, URIRef(
            f"https://www.iana.org/assignments/media-types/{dist.media_type}"
        )))
        g.add((node, DCAT.downloadURL, URIRef(base + dist.name)))
        g.add((node, DCAT.byteSize, Literal(len(files[name]), datatype=XSD.nonNegativeInteger)))
        g.add((node, DCTERMS.license, DATA_LICENSE))
        g.add((node, DCTERMS.title, Literal(dist.name)))
    service = URIRef(sparql_endpoint)
    g.add((service, RDF.type, DCAT.DataService))
    g.add((service, DCAT.endpointURL, service))
    g.add((service, DCAT.servesDataset, dataset))
    g.add((dataset, DCAT.accessService, service))
    return g


def serialize_dataset(ds: Dataset, formats: list[str]) -> dict[str, bytes]:
    """The bytes of each requested format (names of :data:`FORMATS`), by format name.

    Raises :class:`RdfError` for an unknown format or a blank node in the data.
    """
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise RdfError(f"unknown format(s) {', '.join(unknown)} (known: {', '.join(FORMATS)})")
    union = union_graph(ds)
    writers = {
        "ttl": lambda: to_turtle(union),
        "nt": lambda: to_ntriples(union),
        "jsonld": lambda: to_jsonld(union),
        "trig": lambda: to_trig(ds),
    }
    return {name: writers[name]() for name in formats}
