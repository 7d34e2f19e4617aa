"""The dataset -> the ``dist/`` files, byte-identical for the same dataset.

Formats: Turtle and JSON-LD (the union of the named graphs), N-Triples (sorted lines), TriG
(one named graph per source document, graphs in IRI order) and ``void.ttl`` (VoID/DCAT
description). The graph has no blank nodes, and every writer reads the triples in one
order (sorted N-Triples lines, :class:`~kg.rdf.quads.Quads`), so the bytes depend only on
the triples. pyoxigraph writes N-Triples, Turtle and TriG, streaming: nothing is copied into
an rdflib graph. JSON-LD is assembled here, one node at a time, because pyoxigraph writes
expanded JSON-LD only and the published file uses a context with the project's prefixes.
VoID is small and made with rdflib, then written by the same Turtle writer.
"""

from __future__ import annotations

import functools
import json
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pyoxigraph
from rdflib import Graph, Literal, URIRef
from rdflib.term import BNode

from kg.errors import RdfError
from kg.rdf.quads import Quads
from kg.rdf.vocab import (
    DCAT,
    DCTERMS,
    DEFAULT_SPARQL_ENDPOINT,
    FOAF,
    ONTOLOGY_IRI,
    ORG,
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
    "UnionStats",
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


def _as_quads(data: Quads | Graph) -> Quads:
    # An rdflib graph (VoID, a report) goes through N-Triples once; the emitted dataset is
    # already lines.
    if isinstance(data, Quads):
        return data
    _no_bnodes(data)
    text = data.serialize(format="nt", encoding="utf-8")
    return Quads({"": {line for line in text.split(b"\n") if line.strip()}})


def union_graph(data: Quads) -> Graph:
    """All triples of every named graph in one rdflib graph (a copy, for tests and pySHACL;
    the build's writers stream from :class:`~kg.rdf.quads.Quads` instead)."""
    graph = data.to_rdflib()
    _bind(graph)
    return graph


def to_turtle(data: Quads | Graph, *, extra_prefixes: Sequence[tuple[str, str]] = ()) -> bytes:
    """Turtle by pyoxigraph's writer, from the sorted triples (a subject's triples together,
    so ``;`` and ``,`` lists): stable bytes. ``extra_prefixes`` follow the project's.
    Raises RdfError on blank nodes in a graph."""
    quads = _as_quads(data)
    prefixes = {**_PREFIX_MAP, **dict(extra_prefixes)}
    out = pyoxigraph.serialize(quads.default_graph_quads(), format=pyoxigraph.RdfFormat.TURTLE,
                               prefixes=prefixes) or b""
    header = _PREFIX_HEADER + "".join(
        f"@prefix {p}: <{ns}> .\n" for p, ns in extra_prefixes
    ).encode()
    return _bcp47_case(_own_prefix_header(out, header))


def to_ntriples(data: Quads | Graph) -> bytes:
    """N-Triples, one triple a line, lines sorted (bytewise, which is code-point order)."""
    if isinstance(data, Quads):
        return data.ntriples()  # its literals were made with their BCP 47 case
    return _bcp47_case(_as_quads(data).ntriples())


# pyoxigraph lower-cases language tags; BCP 47 writes the script subtag in title case (zh-Hant).
_TAG_TEXT = re.compile(rb'(?<!\\)"@zh-han([st])\b')
_TAG_JSON = re.compile(rb'"@language": "zh-han([st])"')


def _bcp47_case(data: bytes) -> bytes:
    data = _TAG_TEXT.sub(lambda m: b'"@zh-Han' + m.group(1), data)
    return _TAG_JSON.sub(lambda m: b'"@language": "zh-Han' + m.group(1) + b'"', data)


_PREFIX_MAP: dict[str, str] = dict(PREFIXES)
_PREFIX_HEADER = "".join(f"@prefix {p}: <{ns}> .\n" for p, ns in PREFIXES).encode()


def _own_prefix_header(data: bytes, header: bytes = _PREFIX_HEADER) -> bytes:
    # pyoxigraph writes every given prefix, in an order of its own; the header is ours, in
    # PREFIXES order, so the bytes do not depend on the writer's internals.
    end = 0
    while data.startswith(b"@prefix ", end):
        end = data.index(b"\n", end) + 1
    return header + data[end:]


def to_trig(data: Quads) -> bytes:
    """TriG by pyoxigraph's writer: one block per non-empty named graph, graphs in IRI order,
    triples sorted within each."""
    out = pyoxigraph.serialize(data.quads(), format=pyoxigraph.RdfFormat.TRIG,
                               prefixes=_PREFIX_MAP) or b""
    return _bcp47_case(_own_prefix_header(out))


_SIMPLE_LOCAL = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")


def _compact(iri: str, context: Mapping[str, str]) -> str:
    # A compact IRI only where its local part is plain; otherwise the full IRI.
    for prefix, ns in context.items():
        if iri.startswith(ns) and _SIMPLE_LOCAL.match(iri[len(ns) :]):
            return f"{prefix}:{iri[len(ns):]}"
    return iri


@functools.lru_cache(maxsize=1 << 16)  # predicates, classes and datatypes repeat
def _compact_project(iri: str) -> str:
    return _compact(iri, _PREFIX_MAP)


def _jsonld_value(node: pyoxigraph.NamedNode | pyoxigraph.Literal | object,
                  context: Mapping[str, str]) -> dict[str, Any]:
    if isinstance(node, pyoxigraph.NamedNode):
        return {"@id": _compact(node.value, context)}
    if isinstance(node, pyoxigraph.Literal):
        if node.language:
            return {"@value": node.value, "@language": node.language}
        if node.datatype.value != _XSD_STRING:
            # "@type" first: the streaming profile's order.
            return {"@type": _compact_project(node.datatype.value), "@value": node.value}
        return {"@value": node.value}
    raise RdfError(f"blank node in the emitted graph: {node}")


_XSD_STRING = str(XSD.string)


def _sort_key(node: object) -> tuple[str, str, str]:
    if isinstance(node, pyoxigraph.Literal):
        return (node.value, node.language or "", node.datatype.value)
    if isinstance(node, pyoxigraph.NamedNode):
        return (node.value, "", "")
    return (str(node), "", "")


_STR = json.JSONEncoder(ensure_ascii=False).encode  # C-accelerated for a str


def _jsonld_object(value: dict[str, Any], pad: str) -> str:
    # One value object at json.dumps(indent=1)'s layout, its keys in insertion order.
    inner = ",\n".join(f"{pad} {_STR(k)}: {_STR(v)}" for k, v in value.items())
    return f"{pad}{{\n{inner}\n{pad}}}"


def _jsonld_node(subject: object, pairs: list[tuple[object, object]],
                 context: Mapping[str, str]) -> tuple[str, str]:
    """One node object as text, laid out as ``json.dumps(doc, indent=1)`` lays it out inside
    ``"@graph": [ … ]`` (written here: json.dumps with an indent runs the pure-Python
    encoder, 20 times slower)."""
    if not isinstance(subject, pyoxigraph.NamedNode):
        raise RdfError(f"blank node in the emitted graph: {subject}")
    # "@type" first, then "@id": the streaming JSON-LD profile's order, so a reader (and
    # the build's own strict check) can parse the file as it streams.
    fields = []
    types = sorted(o.value for p, o in pairs
                   if isinstance(p, pyoxigraph.NamedNode) and p.value == _RDF_TYPE
                   and isinstance(o, pyoxigraph.NamedNode))
    if types:
        items = ",\n".join(f"    {_STR(_compact_project(t))}" for t in types)
        fields.append(f'   "@type": [\n{items}\n   ]')
    fields.append(f'   "@id": {_STR(_compact(subject.value, context))}')
    props: dict[str, list[object]] = {}
    for p, o in pairs:
        assert isinstance(p, pyoxigraph.NamedNode)
        if p.value != _RDF_TYPE:
            props.setdefault(_compact_project(p.value), []).append(o)
    for key in sorted(props):
        values = [_jsonld_value(v, context) for v in sorted(props[key], key=_sort_key)]
        items = ",\n".join(_jsonld_object(v, "    ") for v in values)
        fields.append(f"   {_STR(key)}: [\n{items}\n   ]")
    return subject.value, "  {\n" + ",\n".join(fields) + "\n  }"


_RDF_TYPE = str(RDF.type)


def to_jsonld(data: Quads) -> bytes:
    """Flattened JSON-LD with an inline ``@context`` of the project's prefixes (``tw`` first),
    in the streaming JSON-LD profile's key order (``@context``, ``@type``, ``@id``).

    Nodes sorted by ``@id``, properties by compact name, values by text; stable bytes. Made
    here, one node at a time from the sorted triples: pyoxigraph writes expanded JSON-LD only.
    """
    context = dict(PREFIXES)
    # Each node's text is encoded (and its tags re-cased) as it is made: one bytes object
    # per node, then one join; no second copy of the document as str.
    nodes: list[tuple[str, bytes]] = []

    def add(subject: object, pairs: list[tuple[object, object]]) -> None:
        iri, text = _jsonld_node(subject, pairs, context)
        nodes.append((iri, _bcp47_case(text.encode("utf-8"))))

    subject: object = None
    pairs: list[tuple[object, object]] = []
    for triple in data.triples():
        if triple.subject != subject:
            if pairs:
                add(subject, pairs)
            subject, pairs = triple.subject, []
        pairs.append((triple.predicate, triple.object))
    if pairs:
        add(subject, pairs)
    nodes.sort()
    head = json.dumps({"@context": context}, ensure_ascii=False, indent=1)[:-2].encode("utf-8")
    if not nodes:
        return head + b',\n "@graph": []\n}\n'
    return b"".join((head, b',\n "@graph": [\n', b",\n".join(t for _, t in nodes),
                     b"\n ]\n}\n"))


@dataclass
class UnionStats:
    """Counts of the union graph that VoID publishes, from one pass over its triples."""

    triples: int = 0
    distinct_subjects: int = 0
    distinct_objects: int = 0
    entities: int = 0
    classes: Counter[str] = field(default_factory=Counter)
    properties: int = 0
    same_as: int = 0
    example: str | None = None

    @classmethod
    def of(cls, data: Quads, base: str) -> UnionStats:
        """Count ``data``'s union in one pass over its N-Triples lines. Terms are compared
        as their N-Triples text (one text per term: every line was written by one writer),
        sliced from the line: no term objects are made."""
        subjects: set[bytes] = set()
        objects: set[bytes] = set()
        properties: set[bytes] = set()
        classes: Counter[bytes] = Counter()
        typed: set[bytes] = set()
        stats = cls()
        rdf_type = f"<{RDF.type}>".encode()
        # The links of places to Wikidata items (kg.rdf.emit: skos:exactMatch).
        same_as = f"<{SKOS.exactMatch}>".encode()
        for line in data.union:
            # <s> <p> o .   (subjects and predicates are IRIs: no space or ">" inside)
            s_end = line.index(b"> ") + 1
            p_end = line.index(b"> ", s_end + 1) + 1
            subject, predicate, obj = line[:s_end], line[s_end + 1 : p_end], line[p_end + 1 : -2]
            stats.triples += 1
            subjects.add(subject)
            objects.add(obj)
            properties.add(predicate)
            if predicate == rdf_type:
                classes[obj] += 1
                typed.add(subject)
            elif predicate == same_as:
                stats.same_as += 1
        stats.distinct_subjects = len(subjects)
        stats.distinct_objects = len(objects)
        stats.properties = len(properties)
        prefix = b"<" + base.encode()
        stats.entities = sum(1 for subject in subjects if subject.startswith(prefix))
        stats.classes = Counter({c[1:-1].decode(): n for c, n in classes.items()})
        if typed:
            stats.example = min(t[1:-1].decode() for t in typed)
        return stats


def void_graph(
    data: Quads,
    *,
    base: str,
    files: Mapping[str, bytes],
    sparql_endpoint: str = DEFAULT_SPARQL_ENDPOINT,
) -> Graph:
    """The VoID/DCAT description of the dataset and of the distribution ``files`` written.

    ``files`` maps format names of :data:`FORMATS` to the bytes written (for their sizes).
    Counts come from the union graph; one ``void:subset`` per named graph; one
    ``void:Linkset`` for the ``skos:exactMatch`` links to Wikidata.
    """
    iris = Iris(base)
    union = UnionStats.of(data, base)
    g = Graph()
    _bind(g)
    dataset = iris.dataset()
    g.add((dataset, RDF.type, VOID.Dataset))
    g.add((dataset, RDF.type, DCAT.Dataset))
    g.add((dataset, DCTERMS.title, Literal("Twinning knowledge graph", lang="en")))
    g.add((dataset, DCTERMS.title, Literal("友好城市知识图谱", lang="zh-Hans")))
    # The same title in Traditional characters (zhconv's zh-Hant of the line above), so a
    # Traditional reader is not shown the Simplified one.
    g.add((dataset, DCTERMS.title, Literal("友好城市知識圖譜", lang="zh-Hant")))
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
    g.add((dataset, VOID.triples, Literal(union.triples, datatype=XSD.integer)))
    g.add((dataset, VOID.distinctSubjects,
           Literal(union.distinct_subjects, datatype=XSD.integer)))
    g.add((dataset, VOID.distinctObjects, Literal(union.distinct_objects, datatype=XSD.integer)))
    g.add((dataset, VOID.entities, Literal(union.entities, datatype=XSD.integer)))
    g.add((dataset, VOID.classes, Literal(len(union.classes), datatype=XSD.integer)))
    g.add((dataset, VOID.properties, Literal(union.properties, datatype=XSD.integer)))
    for vocab in (ONTOLOGY_IRI, URIRef(str(SCHEMA)), URIRef(str(ORG)), URIRef(str(PROV)),
                  URIRef(str(SKOS)), URIRef(str(TIME)), URIRef(str(DCTERMS))):
        g.add((dataset, VOID.vocabulary, vocab))
    for cls, count in union.classes.items():
        name = quote(_compact(cls, dict(PREFIXES)).replace(":", "-"), safe="")
        part = iris.dataset(f"class/{name}")
        g.add((dataset, VOID.classPartition, part))
        g.add((part, VOID["class"], URIRef(cls)))
        g.add((part, VOID.entities, Literal(count, datatype=XSD.integer)))
    if union.example is not None:
        g.add((dataset, VOID.exampleResource, URIRef(union.example)))

    for name, lines in data.graphs.items():
        sub = URIRef(name)
        g.add((dataset, VOID.subset, sub))
        g.add((sub, RDF.type, VOID.Dataset))
        g.add((sub, VOID.triples, Literal(len(lines), datatype=XSD.integer)))
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
    g.add((linkset, VOID.linkPredicate, SKOS.exactMatch))
    g.add((linkset, VOID.subjectsTarget, dataset))
    g.add((linkset, VOID.objectsTarget, wikidata))
    g.add((linkset, VOID.triples, Literal(union.same_as, datatype=XSD.integer)))

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


def serialize_dataset(data: Quads, formats: list[str]) -> dict[str, bytes]:
    """The bytes of each requested format (names of :data:`FORMATS`), by format name.

    Raises :class:`RdfError` for an unknown format or a blank node in the data.
    """
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise RdfError(f"unknown format(s) {', '.join(unknown)} (known: {', '.join(FORMATS)})")
    writers = {
        "ttl": lambda: to_turtle(data),
        "nt": lambda: to_ntriples(data),
        "jsonld": lambda: to_jsonld(data),
        "trig": lambda: to_trig(data),
    }
    return {name: writers[name]() for name in formats}
