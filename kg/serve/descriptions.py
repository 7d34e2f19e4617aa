"""What the graph says about a resource: its bounded description, labels and prefixed
names, the ontology, and the VoID's IRI base.

**The bounded description** (what ``.ttl`` & co. contain) of a resource ``r``: every
triple with subject ``r`` (at most :data:`MAX_OUT`); every triple with object ``r`` (at
most :data:`MAX_IN`, the first in the store's index order, sorted; the
``X-Description-Truncated`` header says when a cap cut something); the triples of
``r``'s hash IRIs (``source/zhwiki#L612`` comes with ``source/zhwiki``); and the
``rdfs:label``, ``skos:prefLabel`` and ``rdf:type`` of every other IRI these name (at
most :data:`MAX_LINKED` nodes); for a named graph, its ``void:triples`` if nothing else
gives it. Each triple once, whatever
named graphs hold it. The VoID description (when the server has one) is read as well, so
``graph/lhc`` and ``dataset`` dereference. A path under these prefixes that names nothing
is a ``404``.

The HTML is made here on the server, every value escaped, with no script; only ``http``
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from kg.rdf.vocab import DEFAULT_BASE, PREFIXES

__all__ = [
    "DOCUMENT_SUFFIXES",
    "LANGUAGES",
    "MAX_IN",
    "MAX_LINKED",
    "MAX_OUT",
    "ONTOLOGY_NS",
    "Description",
    "curie",
    "describe",
    "load_ontology",
    "term_labels",
    "uri_space",
]

#: Document suffix -> media type; the order is the server's preference.
DOCUMENT_SUFFIXES: dict[str, str] = {
    ".html": "text/html",
    ".ttl": "text/turtle",
    ".nt": "application/n-triples",
    ".jsonld": "application/ld+json",
    ".rdf": "application/rdf+xml",
}
#: Languages the pages offer, in the default order of preference.
LANGUAGES = ("en", "ja", "zh-Hant", "zh-Hans")
#: Bounds of a description: outgoing triples, incoming triples, linked nodes labelled.
MAX_OUT = 5000
MAX_IN = 2000
MAX_LINKED = 2000

ONTOLOGY_NS = "https://w3id.org/twinning-kg/ontology#"
_ONTOLOGY_IRI = ONTOLOGY_NS[:-1]
_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_RDFS = "http://www.w3.org/2000/01/rdf-schema#"
_SKOS = "http://www.w3.org/2004/02/skos/core#"
_OWL = "http://www.w3.org/2002/07/owl#"
_DCTERMS = "http://purl.org/dc/terms/"
_PROV = "http://www.w3.org/ns/prov#"
_ORG = "http://www.w3.org/ns/org#"
_VOID = "http://rdfs.org/ns/void#"
_WD = "http://www.wikidata.org/entity/"
_XSD_INTEGER = "http://www.w3.org/2001/XMLSchema#integer"
_TYPE = ox.NamedNode(_RDF + "type")
_LABELS = (ox.NamedNode(_RDFS + "label"), ox.NamedNode(_SKOS + "prefLabel"))
_LABEL_PREDICATES = {p.value for p in _LABELS} | {_SKOS + "altLabel", _DCTERMS + "title"}
_DEFINITIONS = (_SKOS + "definition", _RDFS + "comment")
_PREFIX_MAP: dict[str, str] = {
    **dict(PREFIXES), "wdt": "http://www.wikidata.org/prop/direct/",
    "dbo": "http://dbpedia.org/ontology/", "vann": "http://purl.org/vocab/vann/",
    "sd": "http://www.w3.org/ns/sparql-service-description#",
}
_QID = re.compile(r"^Q[1-9][0-9]*$")


# --- the ontology -----------------------------------------------------------------------------

_ONTOLOGY_LOCK = threading.Lock()
_ONTOLOGIES: dict[Path, ox.Store] = {}


def load_ontology(path: Path | None = None) -> ox.Store:
    """The ontology (``ontology.ttl`` of the project, or ``path``) in a store of its own,
    read once per process; an empty store if the file is missing or unreadable (the server
    then answers ``/ontology`` with 404 rather than failing to start)."""
    if path is None:
        from kg import paths

        path = paths.ONTOLOGY
    with _ONTOLOGY_LOCK:
        store = _ONTOLOGIES.get(path)
        if store is None:
            store = ox.Store()
            try:
                store.load(path=str(path), format=ox.RdfFormat.TURTLE)
            except (OSError, SyntaxError):
                store = ox.Store()
            _ONTOLOGIES[path] = store
        return store


def curie(iri: str) -> str:
    """``iri`` as a prefixed name with the project's prefixes (``tw:Place``,
    ``schema:Place``), or ``iri`` itself when no prefix fits."""
    best = ""
    for prefix, ns in _PREFIX_MAP.items():
        if iri.startswith(ns) and len(ns) > len(_PREFIX_MAP.get(best, "")):
            local = iri[len(ns):]
            if local and re.fullmatch(r"[A-Za-z_][\w.-]*", local):
                best = prefix
    return f"{best}:{iri[len(_PREFIX_MAP[best]):]}" if best else iri


def term_labels(iri: str, store: ox.Store | None = None) -> dict[str, str]:
    """Labels of a term by language tag (``rdfs:label``, ``skos:prefLabel``), from the
    ontology and, if given, ``store``; one per language, the first in code-point order."""
    out: dict[str, str] = {}
    for source in (load_ontology(), store):
        if source is None:
            continue
        for lang, text in _labels(source, ox.NamedNode(iri)):
            out.setdefault(lang, text)
    return out


def _labels(store: ox.Store, node: ox.NamedNode) -> list[tuple[str, str]]:
    found = set()
    for predicate in _LABELS:
        for quad in store.quads_for_pattern(node, predicate, None, ox.DefaultGraph()):
            if isinstance(quad.object, ox.Literal):
                found.add((quad.object.language or "", quad.object.value))
    return sorted(found)


# --- describing a resource --------------------------------------------------------------------

@dataclass
class Description:
    """A bounded description: the triples, and whether a cap cut any."""

    iri: str
    triples: list[ox.Triple] = field(default_factory=list)
    truncated: bool = False


def _triples(stores: Iterable[ox.Store], subject: Any = None, predicate: Any = None,
             obj: Any = None) -> Iterator[ox.Triple]:
    for store in stores:
        # The served default graph is the set union of the named graphs (kg.store).
        for quad in store.quads_for_pattern(subject, predicate, obj, ox.DefaultGraph()):
            yield quad.triple


def _text(term: Any) -> str:
    # The lexical value of a term (an RDF-star quoted triple as its N-Triples text).
    return str(term.value) if not isinstance(term, ox.Triple) else str(term)


def _key(triple: ox.Triple) -> tuple[str, str, str]:
    return (str(triple.subject), str(triple.predicate), str(triple.object))


def describe(stores: Iterable[ox.Store], iri: str) -> Description:
    """The bounded description of ``iri`` over ``stores`` (see the module's docstring for
    the bound). Never raises for a well-formed IRI; an empty description means the stores
    say nothing about it."""
    stores = list(stores)
    node = ox.NamedNode(iri)
    desc = Description(iri)
    seen: set[ox.Triple] = set()
    out: list[ox.Triple] = []

    def add(triple: ox.Triple, bucket: list[ox.Triple], cap: int) -> bool:
        if triple in seen:
            return True
        if len(bucket) >= cap:
            desc.truncated = True
            return False
        seen.add(triple)
        bucket.append(triple)
        return True

    for triple in _triples(stores, subject=node):
        if not add(triple, out, MAX_OUT):
            break
    # The first MAX_IN in the store's index order (deterministic for a given store), then
    # sorted: memory stays bounded however many triples point to a hub.
    inc: list[ox.Triple] = []
    for triple in _triples(stores, obj=node):
        if not add(triple, inc, MAX_IN):
            break
    inc.sort(key=_key)
    # Hash IRIs of the document (source/zhwiki#L612) come with it.
    children = sorted({t.subject.value for t in inc if isinstance(t.subject, ox.NamedNode)
                       and t.subject.value.startswith(iri + "#")})
    for child in children:
        for triple in _triples(stores, subject=ox.NamedNode(child)):
            if not add(triple, out, MAX_OUT):
                break
    linked: list[ox.Triple] = []
    named = sorted({term.value for t in out + inc for term in (t.subject, t.object)
                    if isinstance(term, ox.NamedNode) and term.value != iri
                    and not term.value.startswith(iri + "#")})
    if len(named) > MAX_LINKED:
        named, desc.truncated = named[:MAX_LINKED], True
    for value in named:
        other = ox.NamedNode(value)
        for predicate in (*_LABELS, _TYPE):
            for triple in _triples(stores, subject=other, predicate=predicate):
                add(triple, linked, MAX_LINKED * 8)
    # A named graph: its size, as the store holds it (VoID may say more).
    size = sum(sum(1 for _ in store.quads_for_pattern(None, None, None, node))
               for store in stores if node in set(store.named_graphs()))
    if size:
        counted = ox.Triple(node, ox.NamedNode(_VOID + "triples"),
                            ox.Literal(str(size), datatype=ox.NamedNode(_XSD_INTEGER)))
        if counted not in seen and not any(t.predicate.value == _VOID + "triples" for t in out):
            out.append(counted)
    desc.triples = sorted(out, key=_key) + inc + sorted(linked, key=_key)
    return desc


def _exists(stores: Iterable[ox.Store], iri: str) -> bool:
    node = ox.NamedNode(iri)
    for store in stores:
        for pattern in ((node, None, None, None), (None, None, node, None)):
            for _ in store.quads_for_pattern(*pattern):
                return True
        if node in set(store.named_graphs()):
            return True
    return False


# --- VoID -------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=4)
def _void_store(void: bytes) -> ox.Store:
    store = ox.Store()
    try:
        store.load(void, format=ox.RdfFormat.TURTLE)
    except SyntaxError:
        return ox.Store()
    return store


@functools.lru_cache(maxsize=4)
def uri_space(void: bytes | None) -> str:
    """The base of the data IRIs: the ``void:uriSpace`` of the VoID's main dataset (no
    other's subset, the most ``void:triples``), else :data:`~kg.rdf.vocab.DEFAULT_BASE`."""
    if void is None:
        return DEFAULT_BASE
    store = _void_store(void)
    subsets = {t.object for t in _triples([store], predicate=ox.NamedNode(_VOID + "subset"))}
    ranked = []
    for t in _triples([store], predicate=ox.NamedNode(_VOID + "uriSpace")):
        space = _text(t.object)
        if t.subject in subsets or not space.startswith(("http://", "https://")):
            continue
        sizes = [int(_text(c.object)) for c in _triples([store], t.subject,
                                                        ox.NamedNode(_VOID + "triples"))
                 if _text(c.object).isdigit()]
        ranked.append((max(sizes, default=-1), space))
    return max(ranked)[1] if ranked else DEFAULT_BASE
