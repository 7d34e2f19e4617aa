"""What the graph says about a resource: its bounded description, labels and prefixed
names, the ontology, and what the VoID says about datasets (IRI base, licences).

**The bounded description** (what ``.ttl`` & co. contain) of a resource ``r``:

- every triple with subject ``r`` (at most :data:`MAX_OUT`);
- every triple with object ``r`` (at most :data:`MAX_IN`, the first in the store's index
  order, sorted);
- the resources of ``r``'s own document, followed to any depth: its hash IRIs that point
  to it (``source/zhwiki#L612`` comes with ``source/zhwiki``) and those it links to
  (``place/Q956#geometry``, ``#reconciliation/…`` and the scored candidates under it), and
  the blank nodes it links to (a concise bounded description), each with every triple of
  which it is the subject (within :data:`MAX_OUT` in all);
- the datasets it belongs to: ``r void:inDataset G`` for every named graph ``G`` holding a
  triple about ``r`` or its hash resources that the VoID describes as a dataset (or, for
  triples only in the default graph, the VoID's main dataset), with ``G``'s
  ``dcterms:license`` as the VoID gives it, or inherited from the dataset ``G`` is a
  ``void:subset`` of: a licence per named graph, so a graph under another licence
  (ODbL coordinates, say) says so;
- the ``rdfs:label``, ``skos:prefLabel`` and ``rdf:type`` of every other IRI these name
  (at most :data:`MAX_LINKED` nodes); for a named graph, its ``void:triples`` if nothing
  else gives it.

Each triple once, whatever named graphs hold it; the ``X-Description-Truncated`` header
says when a cap cut something. The VoID description (when the server has one) is read as
well, so ``graph/lhc`` and ``dataset`` dereference.
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

from kg.rdf.vocab import (
    DBO,
    DCTERMS,
    DEFAULT_BASE,
    PREFIXES,
    RDF,
    RDFS,
    SKOS,
    TW,
    VANN,
    VOID,
    WDT,
    XSD,
)

__all__ = [
    "DOCUMENT_SUFFIXES",
    "LANGUAGES",
    "MAX_IN",
    "MAX_LINKED",
    "MAX_OUT",
    "ONTOLOGY_NS",
    "PREFIX_MAP",
    "Description",
    "curie",
    "describe",
    "exists",
    "labels_of",
    "load_ontology",
    "main_dataset",
    "term_labels",
    "term_text",
    "triple_key",
    "triples_of",
    "uri_space",
    "void_store",
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

ONTOLOGY_NS = str(TW)
_VOID = str(VOID)
_TYPE = ox.NamedNode(str(RDF.type))
_LABELS = (ox.NamedNode(str(RDFS.label)), ox.NamedNode(str(SKOS.prefLabel)))
_IN_DATASET = ox.NamedNode(str(VOID.inDataset))
_LICENSE = ox.NamedNode(str(DCTERMS.license))
#: Prefixes for Turtle documents and prefixed names: the graph's, and a few it links to.
PREFIX_MAP: dict[str, str] = {
    **dict(PREFIXES), "wdt": str(WDT), "dbo": str(DBO), "vann": str(VANN),
    "sd": "http://www.w3.org/ns/sparql-service-description#",
}


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
    for prefix, ns in PREFIX_MAP.items():
        if iri.startswith(ns) and len(ns) > len(PREFIX_MAP.get(best, "")):
            local = iri[len(ns):]
            if local and re.fullmatch(r"[A-Za-z_][\w.-]*", local):
                best = prefix
    return f"{best}:{iri[len(PREFIX_MAP[best]):]}" if best else iri


def term_labels(iri: str, store: ox.Store | None = None) -> dict[str, str]:
    """Labels of a term by language tag (``rdfs:label``, ``skos:prefLabel``), from the
    ontology and, if given, ``store``; one per language, the first in code-point order."""
    out: dict[str, str] = {}
    for source in (load_ontology(), store):
        if source is None:
            continue
        for lang, text in labels_of(source, ox.NamedNode(iri)):
            out.setdefault(lang, text)
    return out


def labels_of(store: ox.Store, node: ox.NamedNode) -> list[tuple[str, str]]:
    """The (language tag, text) of every ``rdfs:label`` and ``skos:prefLabel`` of
    ``node`` in ``store``'s default graph, sorted."""
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


def triples_of(stores: Iterable[ox.Store], subject: Any = None, predicate: Any = None,
               obj: Any = None) -> Iterator[ox.Triple]:
    """The triples matching the pattern in the default graph of each of ``stores``."""
    for store in stores:
        # The served default graph is the set union of the named graphs (kg.store).
        for quad in store.quads_for_pattern(subject, predicate, obj, ox.DefaultGraph()):
            yield quad.triple


def term_text(term: Any) -> str:
    """The lexical value of a term (an RDF-star quoted triple as its N-Triples text)."""
    return str(term.value) if not isinstance(term, ox.Triple) else str(term)


def triple_key(triple: ox.Triple) -> tuple[str, str, str]:
    """A sort key that orders triples the same way on every run."""
    return (str(triple.subject), str(triple.predicate), str(triple.object))


def _own(term: Any, iri: str) -> bool:
    # A resource of iri's own document: one of its hash IRIs, or a blank node.
    return isinstance(term, ox.BlankNode) or (
        isinstance(term, ox.NamedNode) and term.value.startswith(iri + "#"))


def describe(stores: Iterable[ox.Store], iri: str, *,
             void: ox.Store | None = None) -> Description:
    """The bounded description of ``iri`` over ``stores`` (see the module's docstring for
    the bound); ``void`` is the VoID description that names datasets and their licences.
    Never raises for a well-formed IRI; an empty description means the stores say nothing
    about it."""
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

    for triple in triples_of(stores, subject=node):
        if not add(triple, out, MAX_OUT):
            break
    # The first MAX_IN in the store's index order (deterministic for a given store), then
    # sorted: memory stays bounded however many triples point to a hub.
    inc: list[ox.Triple] = []
    for triple in triples_of(stores, obj=node):
        if not add(triple, inc, MAX_IN):
            break
    inc.sort(key=triple_key)
    own = _document_resources(stores, iri, out, inc, lambda t: add(t, out, MAX_OUT))
    if void is not None:
        for triple in _datasets(stores, void, node, own):
            add(triple, out, MAX_OUT)
    linked: list[ox.Triple] = []
    named = sorted({term.value for t in out + inc for term in (t.subject, t.object)
                    if isinstance(term, ox.NamedNode) and term.value != iri
                    and not term.value.startswith(iri + "#")})
    if len(named) > MAX_LINKED:
        named, desc.truncated = named[:MAX_LINKED], True
    for value in named:
        other = ox.NamedNode(value)
        for predicate in (*_LABELS, _TYPE):
            for triple in triples_of(stores, subject=other, predicate=predicate):
                add(triple, linked, MAX_LINKED * 8)
    # A named graph: its size, as the store holds it (VoID may say more).
    size = sum(sum(1 for _ in store.quads_for_pattern(None, None, None, node))
               for store in stores if node in set(store.named_graphs()))
    if size:
        counted = ox.Triple(node, ox.NamedNode(_VOID + "triples"),
                            ox.Literal(str(size), datatype=ox.NamedNode(str(XSD.integer))))
        if counted not in seen and not any(t.predicate.value == _VOID + "triples" for t in out):
            out.append(counted)
    desc.triples = sorted(out, key=triple_key) + inc + sorted(linked, key=triple_key)
    return desc


def _document_resources(stores: list[ox.Store], iri: str, out: list[ox.Triple],
                        inc: list[ox.Triple], add: Any) -> list[Any]:
    """Adds (with ``add``, which says False once the cap is reached) the triples of the
    resources of ``iri``'s document, breadth first from those its triples name; returns
    the resources visited."""
    frontier = sorted({t.subject for t in inc if _own(t.subject, iri)}
                      | {t.object for t in out if _own(t.object, iri)}, key=str)
    visited: set[Any] = set(frontier)
    order: list[Any] = []
    while frontier:
        current, frontier = frontier, []
        for resource in current:
            order.append(resource)
            for triple in triples_of(stores, subject=resource):
                if not add(triple):
                    return order
                if _own(triple.object, iri) and triple.object not in visited:
                    visited.add(triple.object)
                    frontier.append(triple.object)
        frontier.sort(key=str)
    return order


def _datasets(stores: list[ox.Store], void: ox.Store, node: ox.NamedNode,
              own: list[Any]) -> list[ox.Triple]:
    """``node void:inDataset G`` and ``G dcterms:license L`` for the datasets holding
    the triples about ``node`` and its document's resources (see the module's docstring)."""
    graphs: set[ox.NamedNode] = set()
    in_default = False
    for subject in [node, *(r for r in own if isinstance(r, ox.NamedNode))]:
        for store in stores:
            if store is void:
                continue
            for quad in store.quads_for_pattern(subject, None, None, None):
                if isinstance(quad.graph_name, ox.NamedNode):
                    graphs.add(quad.graph_name)
                else:
                    in_default = True
    datasets = {g for g in graphs if _is_dataset(void, g)}
    if not datasets and in_default:
        main = main_dataset(void)
        if main is not None and main != node:
            datasets.add(main)
    out = []
    for dataset in sorted(datasets, key=str):
        out.append(ox.Triple(node, _IN_DATASET, dataset))
        out.extend(ox.Triple(dataset, _LICENSE, licence) for licence in _licences(void, dataset))
    return out


def _is_dataset(void: ox.Store, node: ox.NamedNode) -> bool:
    return any(True for _ in void.quads_for_pattern(
        node, _TYPE, ox.NamedNode(_VOID + "Dataset"))) or any(
        True for _ in void.quads_for_pattern(None, ox.NamedNode(_VOID + "subset"), node))


def _licences(void: ox.Store, dataset: ox.NamedNode) -> list[Any]:
    """The dataset's own ``dcterms:license``, else the nearest one up its ``void:subset``
    chain (a subset is under its dataset's licence unless the VoID says otherwise)."""
    seen: set[Any] = {dataset}
    level: list[Any] = [dataset]
    while level:
        found = sorted({q.object for d in level
                        for q in void.quads_for_pattern(d, _LICENSE, None)}, key=str)
        if found:
            return found
        level = sorted({q.subject for d in level for q in void.quads_for_pattern(
            None, ox.NamedNode(_VOID + "subset"), d)} - seen, key=str)
        seen.update(level)
    return []


def exists(stores: Iterable[ox.Store], iri: str) -> bool:
    """Whether any of ``stores`` uses ``iri`` as a subject, an object or a graph name."""
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
def void_store(void: bytes) -> ox.Store:
    """The VoID description (Turtle) in a store of its own, read once; an empty store if
    it does not parse."""
    store = ox.Store()
    try:
        store.load(void, format=ox.RdfFormat.TURTLE)
    except SyntaxError:
        return ox.Store()
    return store


def main_dataset(store: ox.Store) -> ox.NamedNode | None:
    """The VoID's main dataset: of the ``void:Dataset`` s that are no other's subset, the
    one with the most ``void:triples`` (so not the Wikidata target of a linkset, which
    states none); None without any."""
    subsets = {t.object for t in triples_of([store], predicate=ox.NamedNode(_VOID + "subset"))}
    ranked = []
    for t in triples_of([store], predicate=_TYPE, obj=ox.NamedNode(_VOID + "Dataset")):
        if t.subject in subsets or not isinstance(t.subject, ox.NamedNode):
            continue
        sizes = [int(term_text(c.object)) for c in triples_of(
            [store], t.subject, ox.NamedNode(_VOID + "triples")) if term_text(c.object).isdigit()]
        ranked.append((max(sizes, default=-1), t.subject.value, t.subject))
    return max(ranked)[2] if ranked else None


@functools.lru_cache(maxsize=4)
def uri_space(void: bytes | None) -> str:
    """The base of the data IRIs: the ``void:uriSpace`` of the VoID's main dataset (no
    other's subset, the most ``void:triples``), else :data:`~kg.rdf.vocab.DEFAULT_BASE`."""
    if void is None:
        return DEFAULT_BASE
    store = void_store(void)
    subsets = {t.object for t in triples_of([store], predicate=ox.NamedNode(_VOID + "subset"))}
    ranked = []
    for t in triples_of([store], predicate=ox.NamedNode(_VOID + "uriSpace")):
        space = term_text(t.object)
        if t.subject in subsets or not space.startswith(("http://", "https://")):
            continue
        sizes = [int(term_text(c.object)) for c in triples_of([store], t.subject,
                                                              ox.NamedNode(_VOID + "triples"))
                 if term_text(c.object).isdigit()]
        ranked.append((max(sizes, default=-1), space))
    return max(ranked)[1] if ranked else DEFAULT_BASE
