"""The dataset -> the ``dist/`` files, byte-identical for the same dataset.

Formats: Turtle and JSON-LD (the union of the named graphs), N-Triples (sorted lines), TriG
(one named graph per source document, graphs in IRI order) and ``void.ttl`` (VoID/DCAT
description). The graph has no blank nodes, and every writer reads the triples in one
order (sorted N-Triples lines, :class:`~kg.rdf.quads.Quads`), so the bytes depend only on
the triples. Every writer streams (``write_*``): the lines go through pyoxigraph's parser
and writer a chunk at a time and onto the output file, so no serialisation is ever held
whole (``to_*`` give the same bytes in memory, for small graphs and tests). pyoxigraph
writes Turtle and TriG; N-Triples are the sorted lines themselves; nothing is copied into an
rdflib graph. JSON-LD is assembled here, one node at a time, because pyoxigraph writes
expanded JSON-LD only and the published file uses a context with the project's prefixes.
VoID is small and made with rdflib, then written by the same Turtle writer.
"""

from __future__ import annotations

import functools
import io
import json
import os
import re
import struct
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, BinaryIO, cast
from urllib.parse import quote

import pyoxigraph
from rdflib import Graph, Literal, URIRef
from rdflib.term import BNode

from kg.errors import RdfError
from kg.rdf.quads import Quads, SpooledQuads
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
    RDFS,
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
    "SAMEAS_LINKSET_NAME",
    "DistFile",
    "UnionStats",
    "add_sameas_void",
    "sameas_linkset",
    "serialize_dataset",
    "to_jsonld",
    "to_ntriples",
    "to_trig",
    "to_turtle",
    "union_graph",
    "void_graph",
    "write_format",
    "write_jsonld",
    "write_ntriples",
    "write_trig",
    "write_turtle",
]

#: The data's licence: it restates zh.wikipedia content (CC BY-SA 4.0, share-alike).
DATA_LICENSE = URIRef("https://creativecommons.org/licenses/by-sa/4.0/")

#: The ``owl:sameAs`` linkset to Wikidata, a file of its own beside the dumps (the graph
#: links places with ``skos:exactMatch``; see the ontology's header for why).
SAMEAS_LINKSET_NAME = "twinning-sameas.nt"
_EXACT_MATCH = f"<{SKOS.exactMatch}>".encode()
_SAME_AS = f"<{OWL.sameAs}>".encode()
_WD_OBJECT = f"<{WD}".encode()


def sameas_linkset(data: Quads | Path) -> bytes:
    """The ``owl:sameAs`` linkset as N-Triples: one ``<place> owl:sameAs <wd:Q…>`` line for
    each ``skos:exactMatch`` of ``data`` (the dataset, or its union as sorted N-Triples
    written by kg, read as it streams) to a Wikidata item, sorted, nothing else (a
    consumer who reasons with ``owl:sameAs`` loads it on purpose)."""
    # A substring test first (C speed): only the matching lines are split. The lines come
    # sorted by subject, and each keeps its subject and object, so they stay sorted.
    marker = b" " + _EXACT_MATCH + b" " + _WD_OBJECT
    out = []
    for line in _union_lines(data, None):
        if marker in line:
            subject, _predicate, rest = line.split(b" ", 2)
            out.append(b" ".join((subject, _SAME_AS, rest)) + b"\n")
    return b"".join(out)


def add_sameas_void(g: Graph, *, base: str, linkset: bytes) -> None:
    """Describe the file :data:`SAMEAS_LINKSET_NAME` (``linkset``, its bytes) in the VoID
    graph ``g``: a ``void:Linkset`` with ``owl:sameAs`` as link predicate, its dump, size,
    count and licence. It is not a subset of the dataset: the dumps and the endpoint hold
    the ``skos:exactMatch`` links, this file the same links as ``owl:sameAs``."""
    iris = Iris(base)
    dataset = iris.dataset()
    node = iris.dataset("linkset/wikidata-sameas")
    dump = URIRef(base + SAMEAS_LINKSET_NAME)
    g.add((node, RDF.type, VOID.Linkset))
    g.add((node, RDF.type, DCAT.Dataset))
    g.add((node, DCTERMS.title, Literal("owl:sameAs links to Wikidata", lang="en")))
    g.add((node, RDFS.comment, Literal(
        "The skos:exactMatch links of the dataset stated as owl:sameAs, in a file of their "
        "own: an OWL reasoner given them copies the places' statements onto the Wikidata "
        "items, so they are kept out of the dumps and the endpoint.", lang="en")))
    g.add((node, VOID.linkPredicate, OWL.sameAs))
    g.add((node, VOID.subjectsTarget, dataset))
    g.add((node, VOID.objectsTarget, iris.dataset("wikidata")))
    g.add((node, VOID.triples, Literal(linkset.count(b"\n"), datatype=XSD.integer)))
    g.add((node, PROV.wasDerivedFrom, dataset))
    g.add((node, DCTERMS.license, DATA_LICENSE))
    g.add((node, VOID.dataDump, dump))
    g.add((node, DCAT.distribution, dump))
    g.add((dump, RDF.type, DCAT.Distribution))
    g.add((dump, DCAT.downloadURL, dump))
    g.add((dump, DCAT.mediaType,
           URIRef("https://www.iana.org/assignments/media-types/application/n-triples")))
    g.add((dump, DCAT.byteSize, Literal(len(linkset), datatype=XSD.nonNegativeInteger)))
    g.add((dump, DCTERMS.license, DATA_LICENSE))


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


class _Rewriter:
    """A binary sink for pyoxigraph's writers that puts the project's own prefix header
    first (dropping the writer's ``@prefix`` lines: pyoxigraph writes every given prefix,
    in an order of its own, so the bytes would depend on its internals) and gives language
    tags their BCP 47 case, whole lines at a time, as the writer streams."""

    def __init__(self, out: BinaryIO, header: bytes) -> None:
        self._out = out
        self._pending = bytearray()
        self._in_header = True
        out.write(header)

    def write(self, data: bytes) -> int:
        self._pending += data
        if len(self._pending) >= _FLUSH:
            end = self._pending.rfind(b"\n") + 1
            if end:
                self._emit(bytes(self._pending[:end]))
                del self._pending[:end]
        return len(data)

    def flush(self) -> None:
        """Nothing: lines are written whole, by :meth:`close`."""

    def io(self) -> IO[bytes]:
        """This sink as the writer's output type: pyoxigraph calls ``write`` and ``flush``
        only, which it has."""
        return cast("IO[bytes]", self)

    def close(self) -> None:
        """Write what is left (the writer has finished)."""
        self._emit(bytes(self._pending))
        self._pending.clear()

    def _emit(self, data: bytes) -> None:
        if self._in_header:
            end = 0
            while data.startswith(b"@prefix ", end):
                end = data.index(b"\n", end) + 1
            if end < len(data):
                self._in_header = False
            data = data[end:]
        self._out.write(_bcp47_case(data))


_FLUSH = 1 << 20


def write_turtle(data: Quads | Graph, out: BinaryIO, *,
                 extra_prefixes: Sequence[tuple[str, str]] = (),
                 counted: Callable[[int], None] | None = None) -> None:
    """Write Turtle to ``out`` by pyoxigraph's writer, streamed from the sorted triples (a
    subject's triples together, so ``;`` and ``,`` lists): stable bytes. ``extra_prefixes``
    follow the project's; ``counted`` gets the number of triples read, chunk by chunk.
    Raises RdfError on blank nodes in a graph."""
    quads = _as_quads(data)
    prefixes = {**_PREFIX_MAP, **dict(extra_prefixes)}
    header = _PREFIX_HEADER + "".join(
        f"@prefix {p}: <{ns}> .\n" for p, ns in extra_prefixes
    ).encode()
    sink = _Rewriter(out, header)
    pyoxigraph.serialize(quads.default_graph_quads(counted=counted), sink.io(),
                         format=pyoxigraph.RdfFormat.TURTLE, prefixes=prefixes)
    sink.close()


def to_turtle(data: Quads | Graph, *, extra_prefixes: Sequence[tuple[str, str]] = ()) -> bytes:
    """Turtle as bytes (see :func:`write_turtle`); for small graphs (VoID, reports)."""
    out = io.BytesIO()
    write_turtle(data, out, extra_prefixes=extra_prefixes)
    return out.getvalue()


def write_ntriples(data: Quads, out: BinaryIO, *,
                   counted: Callable[[int], None] | None = None) -> None:
    """Write N-Triples to ``out``: one triple a line, lines sorted (bytewise, which is
    code-point order), a chunk at a time. Its literals were made with their BCP 47 case."""
    for chunk in data.chunks(counted=counted):
        out.write(chunk)


def to_ntriples(data: Quads | Graph) -> bytes:
    """N-Triples, one triple a line, lines sorted (bytewise, which is code-point order)."""
    if isinstance(data, Quads):
        return data.ntriples()  # its literals were made with their BCP 47 case
    return _bcp47_case(_as_quads(data).ntriples())


# pyoxigraph lower-cases language tags; BCP 47 writes the script subtag in title case (zh-Hant).
_TAG_TEXT = re.compile(rb'(?<!\\)"@zh-han([st])\b')
_TAG_JSON = re.compile(rb'"@language": "zh-han([st])"')


_TAG_WORD_AFTER = re.compile(rb'"@zh-han[st]\w')


def _bcp47_case(data: bytes) -> bytes:
    if b'"@zh-han' in data:
        if b'\\"@zh-han' in data or _TAG_WORD_AFTER.search(data):
            data = _TAG_TEXT.sub(lambda m: b'"@zh-Han' + m.group(1), data)
        else:
            # What the pattern would do where no tag follows an escaped quote or runs on
            # into a longer word: bytes.replace, six times faster than the substitution.
            data = data.replace(b'"@zh-hant', b'"@zh-Hant').replace(b'"@zh-hans', b'"@zh-Hans')
    if b'"@language": "zh-han' in data:
        data = _TAG_JSON.sub(lambda m: b'"@language": "zh-Han' + m.group(1) + b'"', data)
    return data


_PREFIX_MAP: dict[str, str] = dict(PREFIXES)
_PREFIX_HEADER = "".join(f"@prefix {p}: <{ns}> .\n" for p, ns in PREFIXES).encode()


def write_trig(data: Quads, out: BinaryIO, *,
               counted: Callable[[int], None] | None = None) -> None:
    """Write TriG to ``out`` by pyoxigraph's writer, streamed: one block per non-empty named
    graph, graphs in IRI order, triples sorted within each."""
    sink = _Rewriter(out, _PREFIX_HEADER)
    pyoxigraph.serialize(data.quads(counted=counted), sink.io(), format=pyoxigraph.RdfFormat.TRIG,
                         prefixes=_PREFIX_MAP)
    sink.close()


def to_trig(data: Quads) -> bytes:
    """TriG as bytes (see :func:`write_trig`)."""
    out = io.BytesIO()
    write_trig(data, out)
    return out.getvalue()


_SIMPLE_LOCAL = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")


def _compact(iri: str, context: Mapping[str, str]) -> str:
    # A compact IRI only where its local part is plain; otherwise the full IRI.
    for prefix, ns in context.items():
        if iri.startswith(ns) and _SIMPLE_LOCAL.match(iri[len(ns) :]):
            return f"{prefix}:{iri[len(ns):]}"
    scheme, colon, rest = iri.partition(":")
    if colon and scheme in context and not rest.startswith("//"):
        # A reader would expand it through the context into another IRI (wd:x is read as
        # http://www.wikidata.org/entity/x): refused rather than written wrong.
        raise RdfError(f"the IRI <{iri}> cannot be written in JSON-LD: its scheme "
                       f"{scheme!r} is a prefix of the context, so a reader would take it "
                       "for another IRI")
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


def write_jsonld(data: Quads | Path, out: BinaryIO, *, spool_dir: str | Path | None = None,
                 counted: Callable[[int], None] | None = None) -> None:
    """Write flattened JSON-LD to ``out``, with an inline ``@context`` of the project's
    prefixes (``tw`` first), in the streaming JSON-LD profile's key order (``@context``,
    ``@type``, ``@id``). Nodes sorted by ``@id``, properties by compact name, values by text;
    stable bytes. Made here, one node at a time from the sorted triples: pyoxigraph writes
    expanded JSON-LD only. ``data`` is the dataset, or the path of its union as sorted
    N-Triples (the build's ``twinning.nt``, read as it streams: what a second process does).

    The sorted lines group a subject's triples but do not order subjects by IRI (``<…/Q10>``
    sorts before ``<…/Q1>``), so each node's text goes to an anonymous spool file in
    ``spool_dir`` (default: the system's) as it is made, with a small index entry (IRI,
    offset, length), and is copied to ``out`` in IRI order: no document held in memory.
    """
    context = dict(PREFIXES)
    head = json.dumps({"@context": context}, ensure_ascii=False, indent=1)[:-2].encode("utf-8")
    # One bytes per node: the IRI (UTF-8 keeps code-point order), a NUL (below any IRI
    # character, so a prefix sorts first), then offset and length in the spool.
    index: list[bytes] = []
    with tempfile.TemporaryFile(dir=spool_dir) as spool:
        offset = 0

        for iri, text in _jsonld_nodes(_union_lines(data, counted), context):
            node = _bcp47_case(text.encode("utf-8"))
            spool.write(node)
            index.append(iri.encode("utf-8") + _NODE_AT.pack(offset, len(node)))
            offset += len(node)
        index.sort()
        if not index:
            out.write(head + b',\n "@graph": []\n}\n')
            return
        out.write(head + b',\n "@graph": [\n')
        spool.flush()
        size = _NODE_AT.size
        for number, entry in enumerate(index):
            start, length = _NODE_AT.unpack(entry[-size:])
            if number:
                out.write(b",\n")
            out.write(os.pread(spool.fileno(), length, start))
        out.write(b"\n ]\n}\n")


_NODE_AT = struct.Struct(">xQQ")  # the NUL separator, offset, length


def _union_lines(data: Quads | Path,
                 counted: Callable[[int], None] | None) -> Iterator[bytes]:
    """The union's sorted N-Triples lines, without their newline: from the dataset, or read
    from the N-Triples file (a spooled dataset's union file) as it streams."""
    if isinstance(data, SpooledQuads):
        data = data.union_file
    if isinstance(data, Quads):
        lines = data.union
        step = 8192
        for start in range(0, len(lines), step):
            part = lines[start : start + step]
            if counted is not None:
                counted(len(part))
            yield from part
        return
    with open(data, "rb") as handle:
        count = 0
        for line in handle:
            yield line.rstrip(b"\n")
            count += 1
            if count == 8192 and counted is not None:
                counted(count)
                count = 0
        if count and counted is not None:
            counted(count)


_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"


def _lexical(raw: bytes, line: bytes) -> str:
    # Most lexical forms hold no escape: their text is the bytes. Escapes pyoxigraph writes
    # (\" \\ \n \r \t \uXXXX) are JSON's too; any other goes through pyoxigraph.
    if b"\\" not in raw:
        return raw.decode("utf-8")
    try:
        text: str = json.loads(b'"' + raw + b'"')
        return text
    except ValueError:
        triple = next(iter(pyoxigraph.parse(line, pyoxigraph.RdfFormat.N_TRIPLES)))
        return str(triple.object.value)


def _object(obj: bytes, line: bytes) -> tuple[str, str, str] | None:
    """The sort key (value, language, datatype) of an N-Triples object; IRIs have no
    language or datatype (None: a blank node)."""
    first = obj[:1]
    if first == b"<":
        return (obj[1:-1].decode("utf-8"), "", "")
    if first != b'"':
        return None
    end = obj.rindex(b'"')
    value = _lexical(obj[1:end], line)
    rest = obj[end + 1 :]
    if not rest:
        return (value, "", _XSD_STRING)
    if rest[:1] == b"@":
        # pyoxigraph's parser lower-cases tags; _bcp47_case re-cases the Chinese ones.
        return (value, rest[1:].decode("ascii").lower(), _LANG_STRING)
    return (value, "", rest[3:-1].decode("utf-8"))


def _value_text(key: tuple[str, str, str]) -> str:
    # One value object at json.dumps(indent=1)'s layout inside a property's list.
    value, language, datatype = key
    if not datatype:
        return f'    {{\n     "@id": {_STR(_compact_project(value))}\n    }}'
    if language:
        return (f'    {{\n     "@value": {_STR(value)},\n     "@language": {_STR(language)}'
                "\n    }")
    if datatype != _XSD_STRING:
        # "@type" first: the streaming profile's order.
        return (f'    {{\n     "@type": {_STR(_compact_project(datatype))},\n     "@value": '
                f"{_STR(value)}\n    }}")
    return f'    {{\n     "@value": {_STR(value)}\n    }}'


def _jsonld_nodes(lines: Iterable[bytes],
                  context: Mapping[str, str]) -> Iterator[tuple[str, str]]:
    """``(IRI, node text)`` of each subject of the sorted lines, in line order, as
    :func:`_jsonld_node` lays them out; read from the lines' bytes (no term objects)."""
    subject = b""
    rdf_type = f"<{_RDF_TYPE}>".encode()
    types: list[str] = []
    props: dict[bytes, list[tuple[str, str, str]]] = {}

    def node() -> tuple[str, str]:
        iri = subject[1:-1].decode("utf-8")
        fields = []
        if types:
            items = ",\n".join(f"    {_STR(_compact_project(t))}" for t in sorted(types))
            fields.append(f'   "@type": [\n{items}\n   ]')
        fields.append(f'   "@id": {_STR(_compact(iri, context))}')
        named = sorted((_compact_project(p[1:-1].decode("utf-8")), values)
                       for p, values in props.items())
        for key, values in named:
            items = ",\n".join(_value_text(v) for v in sorted(values))
            fields.append(f"   {_STR(key)}: [\n{items}\n   ]")
        return iri, "  {\n" + ",\n".join(fields) + "\n  }"

    for line in lines:
        s_end = line.index(b"> ") + 1
        if line[:1] != b"<":
            raise RdfError(f"blank node in the emitted graph: {line[:s_end].decode()}")
        p_end = line.index(b"> ", s_end + 1) + 1
        if line[:s_end] != subject:
            if subject:
                yield node()
            subject, types, props = line[:s_end], [], {}
        predicate = line[s_end + 1 : p_end]
        key = _object(line[p_end + 1 : -2], line)
        if key is None:
            raise RdfError(f"blank node in the emitted graph: {line.decode()}")
        if predicate == rdf_type:
            if not key[2]:  # an IRI; a literal type is not a JSON-LD @type
                types.append(key[0])
            continue
        props.setdefault(predicate, []).append(key)
    if subject:
        yield node()


def to_jsonld(data: Quads) -> bytes:
    """JSON-LD as bytes (see :func:`write_jsonld`)."""
    out = io.BytesIO()
    write_jsonld(data, out)
    return out.getvalue()


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
    #: triples of each named graph, by graph IRI
    graphs: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, data: Quads | Path, base: str, *,
           graphs: Mapping[str, int] | None = None) -> UnionStats:
        """Count ``data``'s union in one pass over its N-Triples lines: the dataset, or its
        union as sorted N-Triples written by kg (read as it streams; ``graphs`` then gives
        the triples of each named graph). Terms are compared as their N-Triples text (one
        text per term: every line was written by one writer), sliced from the line: no term
        objects are made."""
        subjects: set[bytes] = set()
        objects: set[bytes] = set()
        properties: set[bytes] = set()
        classes: Counter[bytes] = Counter()
        typed: set[bytes] = set()
        stats = cls()
        rdf_type = f"<{RDF.type}>".encode()
        # The links of places to Wikidata items (kg.rdf.emit: skos:exactMatch).
        same_as = f"<{SKOS.exactMatch}>".encode()
        for line in _union_lines(data, None):
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
        stats.graphs = (dict(graphs or {}) if isinstance(data, Path)
                        else {name: len(lines) for name, lines in data.graphs.items()})
        return stats


def void_graph(
    data: Quads | UnionStats,
    *,
    base: str,
    files: Mapping[str, bytes | int],
    sparql_endpoint: str = DEFAULT_SPARQL_ENDPOINT,
) -> Graph:
    """The VoID/DCAT description of the dataset and of the distribution ``files`` written.

    ``files`` maps format names of :data:`FORMATS` to the bytes written or their sizes.
    Counts come from the union graph (or are given: ``UnionStats.of(data, base)``, taken
    before ``kg build`` releases the lines); one ``void:subset`` per named graph; one
    ``void:Linkset`` for the ``skos:exactMatch`` links to Wikidata.
    """
    iris = Iris(base)
    union = data if isinstance(data, UnionStats) else UnionStats.of(data, base)
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

    for name, count in union.graphs.items():
        sub = URIRef(name)
        g.add((dataset, VOID.subset, sub))
        g.add((sub, RDF.type, VOID.Dataset))
        g.add((sub, VOID.triples, Literal(count, datatype=XSD.integer)))
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
        written = files[name]
        size = written if isinstance(written, int) else len(written)
        g.add((node, DCAT.byteSize, Literal(size, datatype=XSD.nonNegativeInteger)))
        g.add((node, DCTERMS.license, DATA_LICENSE))
        g.add((node, DCTERMS.title, Literal(dist.name)))
    service = URIRef(sparql_endpoint)
    g.add((service, RDF.type, DCAT.DataService))
    g.add((service, DCAT.endpointURL, service))
    g.add((service, DCAT.servesDataset, dataset))
    g.add((dataset, DCAT.accessService, service))
    return g


def _check_formats(formats: Sequence[str]) -> None:
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise RdfError(f"unknown format(s) {', '.join(unknown)} (known: {', '.join(FORMATS)})")


def write_format(data: Quads, fmt: str, out: BinaryIO, *, spool_dir: str | Path | None = None,
                 counted: Callable[[int], None] | None = None) -> None:
    """Write ``data`` in the format ``fmt`` (a name of :data:`FORMATS`) to ``out``, streamed.
    Raises :class:`RdfError` for an unknown format or a blank node in the data."""
    _check_formats([fmt])
    if fmt == "ttl":
        write_turtle(data, out, counted=counted)
    elif fmt == "nt":
        write_ntriples(data, out, counted=counted)
    elif fmt == "jsonld":
        write_jsonld(data, out, spool_dir=spool_dir, counted=counted)
    else:
        write_trig(data, out, counted=counted)


def serialize_dataset(data: Quads, formats: list[str], *,
                      spool_dir: str | Path | None = None) -> dict[str, bytes]:
    """The bytes of each requested format (names of :data:`FORMATS`), by format name (in
    memory: for tests and small graphs; ``kg build`` streams with :func:`write_format`);
    ``spool_dir`` as for :func:`write_format`.

    Raises :class:`RdfError` for an unknown format or a blank node in the data.
    """
    _check_formats(formats)
    out = {}
    for name in formats:
        buffer = io.BytesIO()
        write_format(data, name, buffer, spool_dir=spool_dir)
        out[name] = buffer.getvalue()
    return out
