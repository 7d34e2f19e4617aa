"""Linked Data: every IRI the graph mints dereferences on the server.

The graph names things under a base (``https://w3id.org/twinning-kg/`` unless the VoID's
``void:uriSpace`` says otherwise); the server's path ``/place/Q956`` stands for the IRI
``<base>place/Q956``. What a request for such a path gets:

**Things: 303 See Other to a document (W3C "Cool URIs for the Semantic Web", §4.3).**
``place/…``, ``twinning/…``, ``membership/…``, ``source/…``, ``network/…``, ``period/…``,
``graph/…`` and ``dataset…`` name places, agreements, memberships, documents, datasets:
things, not web pages (as is any other IRI under the base the graph uses, should the
graph mint new kinds). A request for one is answered ``303 See Other`` with ``Location``
the document that describes it in the format the ``Accept`` header prefers (q-values
honoured, HTML for browsers and for ``*/*``): ``/place/Q956.html``, ``.ttl``, ``.nt``,
``.jsonld`` or ``.rdf``. We chose 303 over a direct description with ``Content-Location``
because (1) Beijing is not a web page, and a 200 at its IRI would make the IRI name the
page (the httpRange-14 reading that Wikidata and DBpedia also follow with their 303s);
(2) each description then has its own URL, which can be bookmarked, cached and linked
without ``Vary``; (3) the w3id.org rules (``w3id/``) can send a client straight to the
same document URLs, so the deployment and the redirect service agree. The cost is one more
round trip (``curl -L``).

**The ontology: direct description.** ``/ontology`` is the ontology document itself (its
terms are hash IRIs, ``…/ontology#Place``), so it is answered ``200`` with the negotiated
representation, ``Content-Location`` naming the format's own URL (``/ontology.ttl``…) and
``Vary: Accept``. Its HTML documents every term with its labels and definitions in en, ja,
zh-Hans and zh-Hant, one anchor per term (``/ontology#Place``).

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
and ``https`` IRIs become links, IRIs under the base link to their local page, Wikidata
items to Wikidata. The page's language follows ``?lang=`` or ``Accept-Language``.
Documents once made are kept for repeated requests (up to :data:`CACHE_BYTES`; the store
is read-only). Lookups go through pyoxigraph's pattern index
(:meth:`pyoxigraph.Store.quads_for_pattern`), so no text from the request is ever parsed
as SPARQL.
"""

from __future__ import annotations

import functools
import html
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, unquote

import pyoxigraph as ox

from kg.rdf.vocab import DEFAULT_BASE, PREFIXES
from kg.serve.protocol import GRAPH_TYPES, Response, negotiate

__all__ = [
    "CACHE_BYTES",
    "DOCUMENT_SUFFIXES",
    "LANGUAGES",
    "MAX_IN",
    "MAX_LINKED",
    "MAX_OUT",
    "ONTOLOGY_NS",
    "RESOURCE_PREFIXES",
    "Description",
    "curie",
    "describe",
    "load_ontology",
    "respond",
    "term_labels",
    "uri_space",
]

#: Path prefixes under which the graph mints IRIs of things: an unknown one there is a 404
#: from here (any other IRI under the base that the graph uses dereferences as well).
RESOURCE_PREFIXES = ("place", "twinning", "membership", "source", "network", "period",
                     "graph", "dataset")
#: Document suffix -> media type; the order is the server's preference.
DOCUMENT_SUFFIXES: dict[str, str] = {
    ".html": "text/html",
    ".ttl": "text/turtle",
    ".nt": "application/n-triples",
    ".jsonld": "application/ld+json",
    ".rdf": "application/rdf+xml",
}
_MEDIA_SUFFIX = {media: suffix for suffix, media in DOCUMENT_SUFFIXES.items()}
_OFFERS = [*DOCUMENT_SUFFIXES.values(), "application/xhtml+xml"]
#: Languages the pages offer, in the default order of preference.
LANGUAGES = ("en", "ja", "zh-Hant", "zh-Hans")
#: Bounds of a description: outgoing triples, incoming triples, linked nodes labelled.
MAX_OUT = 5000
MAX_IN = 2000
MAX_LINKED = 2000
_MAX_PATH = 2048

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
_DUMP = re.compile(r"[\w.-]+\.(?:ttl|nt|nq|jsonld|trig|rdf|txt)")


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


# --- answering a request ----------------------------------------------------------------------

def _canonical(rel: str) -> str:
    # The emitter percent-encodes each segment (vocab._seg): a client may send raw UTF-8 or
    # lower-case escapes, which map to the same IRI.
    return "/".join(quote(unquote(seg), safe="") for seg in rel.split("/"))


def _spellings(rel: str) -> list[str]:
    # As sent, as the emitter encodes it, and decoded (an IRI may hold non-ASCII as is).
    return list(dict.fromkeys((rel, _canonical(rel), unquote(rel))))


def _node_iri(base: str, rel: str) -> str | None:
    try:
        return ox.NamedNode(base + rel).value
    except ValueError:
        return None


def _languages(query: str, accept_language: str | None) -> list[str]:
    # Tags in lower case: Oxigraph normalises language tags so (zh-Hant -> zh-hant).
    chosen = [v for k, v in parse_qsl(query)
              if k == "lang" and v.lower() in {t.lower() for t in LANGUAGES}]
    ranked: list[tuple[float, str]] = []
    for item in (accept_language or "").split(","):
        tag, _, params = item.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        if tag and q > 0:
            ranked.append((-q, tag.strip()))
    wanted = chosen + [tag for _, tag in sorted(ranked, key=lambda x: x[0])]
    out: list[str] = []
    for tag in [*wanted, *LANGUAGES, "zh"]:
        low = tag.lower()
        # zh-TW/zh-HK read Traditional, zh-CN/zh-SG Simplified; a reader of one script
        # reads script-neutral Chinese (zh) and the other script before any other language.
        low = {"zh-tw": "zh-hant", "zh-hk": "zh-hant", "zh-mo": "zh-hant",
               "zh-cn": "zh-hans", "zh-sg": "zh-hans"}.get(low, low)
        related = {"zh-hant": ["zh-hant", "zh", "zh-hans"],
                   "zh-hans": ["zh-hans", "zh", "zh-hant"],
                   "zh": ["zh", "zh-hant", "zh-hans"]}.get(low, [low])
        for item in related:
            if item not in out:
                out.append(item)
    return out


def respond(store: ox.Store, raw_path: str, query: str = "", *,
            accept: str | None = None, accept_language: str | None = None,
            void: bytes | None = None) -> Response | None:
    """The answer to a GET of ``raw_path`` (the request's path, still percent-encoded) if it
    is a Linked Data path: ``/ontology…``, a path under :data:`RESOURCE_PREFIXES`, or any
    other path whose IRI the graph uses (so IRI kinds added later dereference too); else
    None. Call it after the server's own routes.

    ``store`` holds the graph, ``void`` the VoID description (Turtle; its ``uriSpace`` gives
    the IRI base and its triples describe graphs and the dataset). Answers 303 to a
    document, 200 with a document, 404 for a path that names nothing, 406 for an ``Accept``
    that allows no offered format. Never raises for any path.
    """
    if len(raw_path) > _MAX_PATH or not raw_path.startswith("/"):
        return None
    rel = raw_path[1:]
    head = rel.split("/", 1)[0].split(".", 1)[0]
    langs = _languages(query, accept_language)
    if head == "ontology":
        return _ontology(rel, accept, langs)
    base = uri_space(void)
    stores = [store] if void is None else [store, _void_store(void)]
    for candidate in _spellings(rel):
        iri = _node_iri(base, candidate)
        if iri is not None and "#" not in candidate and _exists(stores, iri):
            return _see_other(candidate, accept, query)
    stem, dot, suffix = rel.rpartition(".")
    if dot and "." + suffix in DOCUMENT_SUFFIXES and "/" not in suffix:
        for candidate in _spellings(stem):
            iri = _node_iri(base, candidate)
            if iri is not None and "#" not in candidate and _exists(stores, iri):
                media = DOCUMENT_SUFFIXES["." + suffix]
                return _cached_document(store, void, iri, base, media, langs)
    if head not in RESOURCE_PREFIXES:
        return None  # not a path of ours: the router's own 404
    return Response(404, f"nothing is known about {base}{rel}\n".encode())


#: Rendered documents kept for repeated requests (the store is read-only, so they never go
#: stale): at most this many bytes of bodies.
CACHE_BYTES = 32 * 1024 * 1024
_CACHE: OrderedDict[tuple[Any, ...], Response] = OrderedDict()
_CACHE_LOCK = threading.Lock()
_cache_size = 0


def _cached_document(store: ox.Store, void: bytes | None, iri: str, base: str, media: str,
                     langs: list[str]) -> Response:
    # A large page costs tens of milliseconds of the interpreter's lock: asked again, it is
    # answered from memory. The key holds the store itself, so it cannot be confused with
    # another store that reuses its id.
    global _cache_size
    key = (store, void, iri, media, tuple(langs[:4]) if media == "text/html" else ())
    with _CACHE_LOCK:
        hit = _CACHE.get(key)
        if hit is not None:
            _CACHE.move_to_end(key)
            return Response(hit.status, hit.body, hit.content_type, dict(hit.headers))
    stores = [store] if void is None else [store, _void_store(void)]
    answer = _document(stores, iri, base, media, langs)
    if len(answer.body) <= CACHE_BYTES // 8:
        with _CACHE_LOCK:
            if key not in _CACHE:
                _CACHE[key] = answer
                _cache_size += len(answer.body)
            while _cache_size > CACHE_BYTES and _CACHE:
                _, old = _CACHE.popitem(last=False)
                _cache_size -= len(old.body)
    return Response(answer.status, answer.body, answer.content_type, dict(answer.headers))


def _see_other(rel: str, accept: str | None, query: str = "") -> Response:
    media = negotiate(accept, _OFFERS)
    if media is None:
        offered = ", ".join(DOCUMENT_SUFFIXES.values())
        return Response(406, f"this resource is described as {offered}\n".encode())
    # The query (?lang=) goes along: it is about the page, not the thing.
    target = _header_uri(f"/{rel}{_MEDIA_SUFFIX.get(media, '.html')}"
                         + (f"?{query}" if query else ""))
    body = f"See Other: {target}\n".encode()
    return Response(303, body, headers={"Location": target, "Vary": "Accept"})


def _header_uri(text: str) -> str:
    # Headers are Latin-1 on the wire: an IRI with non-ASCII characters (data served with
    # `kg serve FILE` may have them) goes as its URI, percent-encoded.
    return quote(text, safe="!#$%&'()*+,/:;=?@[]~-._")


def _with_curie(label: str, iri: str) -> str:
    short = curie(iri)
    return short if label == short else f"{label} ({short})"


def _rdf(triples: list[ox.Triple], media: str) -> bytes:
    fmt = GRAPH_TYPES[media]
    prefixes = None
    if fmt in (ox.RdfFormat.TURTLE, ox.RdfFormat.RDF_XML):
        # Only the prefixes the description uses.
        used = {term.value for t in triples for term in (t.subject, t.predicate, t.object)
                if isinstance(term, ox.NamedNode)}
        used |= {t.object.datatype.value for t in triples if isinstance(t.object, ox.Literal)}
        prefixes = {p: ns for p, ns in _PREFIX_MAP.items()
                    if any(v.startswith(ns) for v in used)}
    return ox.serialize(triples, format=fmt, prefixes=prefixes) or b""


def _document(stores: list[ox.Store], iri: str, base: str, media: str,
              langs: list[str]) -> Response:
    desc = describe(stores, iri)
    headers = {"Link": f'<{_header_uri(iri)}>; rel="describes"'}
    if desc.truncated:
        headers["X-Description-Truncated"] = "true"
    if media == "text/html":
        page = _Page(stores, base, langs)
        body = page.resource(iri, desc).encode("utf-8")
        headers["Vary"] = "Accept-Language"
        return Response(200, body, "text/html; charset=utf-8", headers=headers)
    content_type = f"{media}; charset=utf-8" if media.startswith("text/") else media
    return Response(200, _rdf(desc.triples, media), content_type, headers=headers)


def _ontology(rel: str, accept: str | None, langs: list[str]) -> Response:
    onto = load_ontology()
    if not len(onto):
        return Response(404, b"no ontology on this server\n")
    versions = {_text(t.object) for t in _triples([onto], ox.NamedNode(_ONTOLOGY_IRI),
                                                 ox.NamedNode(_OWL + "versionInfo"))}
    stem, dot, suffix = rel.rpartition(".")
    if dot and "." + suffix in DOCUMENT_SUFFIXES and stem == "ontology":
        media: str | None = DOCUMENT_SUFFIXES["." + suffix]
        headers: dict[str, str] = {}
    elif rel == "ontology" or rel in {f"ontology/{v}" for v in versions}:
        media = negotiate(accept, _OFFERS)
        if media is None:
            return Response(406, b"the ontology is available as "
                            + ", ".join(DOCUMENT_SUFFIXES.values()).encode() + b"\n")
        media = "text/html" if media == "application/xhtml+xml" else media
        headers = {"Vary": "Accept",
                   "Content-Location": "/ontology" + _MEDIA_SUFFIX[media]}
    else:
        return Response(404, f"no ontology document {rel!r}\n".encode())
    assert media is not None
    if media == "text/html":
        page = _Page([onto], DEFAULT_BASE, langs)
        headers["Vary"] = ", ".join(filter(None, (headers.get("Vary"), "Accept-Language")))
        return Response(200, page.ontology(onto).encode("utf-8"), "text/html; charset=utf-8",
                        headers=headers)
    triples = sorted((q.triple for q in onto), key=_key)
    content_type = f"{media}; charset=utf-8" if media.startswith("text/") else media
    return Response(200, _rdf(triples, media), content_type, headers=headers)


# --- HTML -------------------------------------------------------------------------------------

def _tag(lang: str) -> str:
    # A language tag as BCP 47 writes it (Oxigraph gives them in lower case).
    parts = lang.split("-")
    return "-".join([parts[0], *(p.title() if len(p) == 4 else p.upper() if len(p) == 2
                                 else p for p in parts[1:])]) if lang else ""


def _e(text: str) -> str:
    return html.escape(text, quote=True)


class _Page:
    """Renders HTML about resources of ``stores``; IRIs under ``base`` link locally."""

    def __init__(self, stores: list[ox.Store], base: str, langs: list[str]) -> None:
        self.stores = stores
        self.base = base
        self.langs = langs
        self.onto = load_ontology()

    # -- terms -----------------------------------------------------------------------------

    def href(self, iri: str) -> str | None:
        """Where a link to ``iri`` goes (None: not a link)."""
        if iri.startswith(self.base):
            rest = iri[len(self.base):]
            if _DUMP.fullmatch(rest):
                return "/dumps/" + rest  # a dump's w3id IRI, as the w3id rules send it
            return "/" + rest
        if iri.startswith(ONTOLOGY_NS):
            return "/ontology#" + iri[len(ONTOLOGY_NS):]
        if iri == _ONTOLOGY_IRI:
            return "/ontology"
        if iri.startswith(_WD) and _QID.match(iri[len(_WD):]):
            return "https://www.wikidata.org/wiki/" + iri[len(_WD):]
        if iri.startswith(("http://", "https://")):
            return iri
        return None

    def label(self, iri: str) -> str:
        """The label of ``iri`` in the page's language (else any language, else a prefixed
        name)."""
        found: dict[str, str] = {}
        for store in [*self.stores, self.onto]:
            for lang, text in _labels(store, ox.NamedNode(iri)):
                found.setdefault(lang, text)
        for lang in self.langs:
            if lang in found:
                return found[lang]
        if found:
            return found[sorted(found)[0]]
        if iri.startswith(_WD):
            return "wd:" + iri[len(_WD):]
        return curie(iri)

    def link(self, iri: str, text: str | None = None) -> str:
        shown = _e(text if text is not None else self.label(iri))
        target = self.href(iri)
        if target is None:
            return f'<span class="iri">{shown}</span>'
        extra = ' rel="noopener"' if not target.startswith("/") else ""
        out = f'<a href="{_e(target)}"{extra}>{shown}</a>'
        if iri.startswith(_WD):
            return out
        qid = _wikidata_of(iri, self.stores)
        if qid:
            out += (f' <a class="wd" href="https://www.wikidata.org/wiki/{qid}" '
                    f'rel="noopener">wd:{qid}</a>')
        return out

    def term(self, term: Any) -> str:
        if isinstance(term, ox.NamedNode):
            return self.link(term.value)
        if isinstance(term, ox.Literal):
            out = _e(term.value)
            if term.language:
                out += f' <span class="lang">@{_e(_tag(term.language))}</span>'
            elif term.datatype.value not in ("http://www.w3.org/2001/XMLSchema#string",):
                out += f' <span class="dt">{_e(curie(term.datatype.value))}</span>'
            return out
        return _e(str(term))

    def values(self, subject: str, predicate: str) -> list[Any]:
        return sorted({t.object for t in _triples(self.stores, ox.NamedNode(subject),
                                                  ox.NamedNode(predicate))}, key=str)

    def value(self, subject: str, predicate: str) -> str:
        found = self.values(subject, predicate)
        return ", ".join(self.term(v) for v in found)

    # -- page frame --------------------------------------------------------------------------

    def frame(self, title: str, body: str, *, alternates: str = "") -> str:
        lang = _tag(self.langs[0]) if self.langs else "en"
        return (
            "<!DOCTYPE html>\n"
            f'<html lang="{_e(lang)}">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{_e(title)}</title>\n"
            '<link rel="stylesheet" href="/static/style.css">\n'
            '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">\n'
            f"{alternates}</head>\n<body class=\"resource\">\n"
            '<header><p class="crumbs"><a href="/">twinning-kg</a> · '
            '<a href="/ontology">ontology</a> · <a href="/sparql">SPARQL</a></p>\n'
            f"{body}</main>\n</body>\n</html>\n"
        )

    def _formats(self, path: str) -> tuple[str, str]:
        names = {".ttl": "Turtle", ".nt": "N-Triples", ".jsonld": "JSON-LD", ".rdf": "RDF/XML"}
        head = "".join(
            f'<link rel="alternate" type="{DOCUMENT_SUFFIXES[s]}" href="{_e(path + s)}">\n'
            for s in names)
        links = " · ".join(f'<a href="{_e(path + s)}">{n}</a>' for s, n in names.items())
        return head, f'<p class="formats">Also as {links}.</p>\n'

    # -- a resource --------------------------------------------------------------------------

    def resource(self, iri: str, desc: Description) -> str:
        """The HTML page of ``iri`` from its description (and a few lookups for places)."""
        node = ox.NamedNode(iri)
        types = sorted({t.object.value for t in desc.triples
                        if t.subject == node and t.predicate == _TYPE
                        and isinstance(t.object, ox.NamedNode)})
        title = self.label(iri)
        path = "/" + iri[len(self.base):]
        alternates, formats = self._formats(path)
        kinds = ", ".join(self.link(t, _with_curie(self.label(t), t)) for t in types)
        parts = [
            f"<h1>{_e(title)}</h1>\n",
            f'<p class="iri-line"><code>{_e(iri)}</code>'
            + (f" · {kinds}" if kinds else "") + "</p>\n",
            formats,
            "</header>\n<main>\n",
        ]
        if desc.truncated:
            parts.append('<p class="warning">This description is cut at the server\'s '
                         f"bounds ({MAX_OUT} statements about it, {MAX_IN} pointing to it); "
                         'the <a href="/sparql">SPARQL endpoint</a> has the rest.</p>\n')
        if ONTOLOGY_NS + "Place" in types:
            parts.append(self._place(iri))
            parts.append(self._place_map(iri))
        if ONTOLOGY_NS + "SourceDocument" in types:
            parts.append(self._source_lines(iri, desc))
        parts.append(self._statements(iri, desc))
        parts.append(self._incoming(iri, desc))
        return self.frame(title, "".join(parts), alternates=alternates)

    def _names(self, iri: str) -> str:
        rows = []
        for predicate in (_SKOS + "prefLabel", _RDFS + "label", _SKOS + "altLabel"):
            for obj in self.values(iri, predicate):
                if isinstance(obj, ox.Literal):
                    rows.append((obj.language or "", obj.value, curie(predicate)))
        if not rows:
            return ""
        order = {lang: i for i, lang in enumerate(self.langs)}
        rows.sort(key=lambda r: (order.get(r[0], len(order)), r[0], r[2], r[1]))
        body = "".join(f'<tr><td lang="{_e(_tag(lang))}">{_e(text)}</td>'
                       f'<td>{_e(_tag(lang)) or "—"}</td>'
                       f"<td>{_e(kind)}</td></tr>\n" for lang, text, kind in rows)
        return ('<section id="names"><h2>Names</h2>\n<table><thead><tr><th>name</th>'
                '<th>language</th><th>as</th></tr></thead><tbody>\n' + body
                + "</tbody></table></section>\n")

    def _sources_of(self, node: str) -> str:
        lines = self.values(node, _PROV + "wasDerivedFrom")
        out = []
        for line in lines:
            if not isinstance(line, ox.NamedNode):
                continue
            number = self.values(line.value, ONTOLOGY_NS + "lineNumber")
            doc = self.values(line.value, _DCTERMS + "isPartOf")
            # file:line, as the build report and the links table cite sources
            files = self.values(doc[0].value, _DCTERMS + "identifier") if doc else []
            name = files[0].value if files else _path_text(line.value.split("#")[0], self.base)
            text = f"{name}:{number[0].value}" if number else _path_text(line.value, self.base)
            out.append(self.link(line.value, text))
        return ", ".join(out)

    def _place_map(self, iri: str) -> str:
        """A small map of a place with a point geometry and its twins, drawn in the browser
        by ``static/map.js`` (``kgPlaceMap``) from the SPARQL endpoint; "" without one."""
        if not self.values(iri, "http://www.opengis.net/ont/geosparql#hasGeometry"):
            return ""
        scripts = "".join(f'<script src="/static/{name}"></script>\n' for name in (
            "vendor/d3-array.min.js", "vendor/d3-geo.min.js", "vendor/topojson-client.min.js",
            "map.js"))
        return ('<section id="place-map"><h2>Map</h2>\n'
                '<link rel="stylesheet" href="/static/map.css">\n'
                f'<div class="place-map" data-kg-place-map="{_e(iri)}"></div>\n'
                '<p class="note">The place and its twins, as great-circle lines.</p>\n'
                f"{scripts}</section>\n")

    def _place(self, iri: str) -> str:
        node = ox.NamedNode(iri)
        parts = [self._names(iri)]
        same = [t.object.value for t in _triples(self.stores, node)
                if isinstance(t.object, ox.NamedNode) and t.object.value.startswith(_WD)
                and t.predicate.value in (_OWL + "sameAs", _SKOS + "exactMatch")]
        facts = []
        for qiri in sorted(set(same)):
            qid = qiri[len(_WD):]
            facts.append(("Wikidata", f'<a href="https://www.wikidata.org/wiki/{_e(qid)}" '
                                      f'rel="noopener">{_e(qid)}</a> (<code>{_e(qiri)}</code>)'))
        for name, predicate in (("Country", ONTOLOGY_NS + "country"),
                                ("Named in", ONTOLOGY_NS + "namedIn"),
                                ("Article", "https://schema.org/subjectOf")):
            value = self.value(iri, predicate)
            if value:
                facts.append((name, value))
        if facts:
            parts.append('<section id="facts"><dl class="facts">\n' + "".join(
                f"<dt>{_e(k)}</dt><dd>{v}</dd>\n" for k, v in facts) + "</dl></section>\n")
        parts.append(self._twins(iri))
        parts.append(self._memberships(iri))
        parts.append(self._reconciliation(iri))
        return "".join(parts)

    def _twins(self, iri: str) -> str:
        node = ox.NamedNode(iri)
        twinnings = sorted({t.subject.value for t in _triples(
            self.stores, None, ox.NamedNode(ONTOLOGY_NS + "place"), node)
            if isinstance(t.subject, ox.NamedNode)})
        rows = []
        for tw in twinnings:
            others = [p.value for p in self.values(tw, ONTOLOGY_NS + "place")
                      if isinstance(p, ox.NamedNode) and p.value != iri] or [iri]
            start = self.values(tw, ONTOLOGY_NS + "startDate")
            end = self.values(tw, ONTOLOGY_NS + "endDate")
            rows.append((start[0].value if start else "", (
                f"<tr><td>{', '.join(self.link(o) for o in others)}</td>"
                f"<td>{self.value(tw, ONTOLOGY_NS + 'startDate')}</td>"
                f"<td>{''.join(self.term(v) for v in end)}</td>"
                f"<td>{self.value(tw, ONTOLOGY_NS + 'agreementKind')}</td>"
                f"<td>{self.link(tw, _path_text(tw, self.base))}</td>"
                f"<td>{self._sources_of(tw)}</td></tr>\n")))
        if not rows:
            return ""
        rows.sort(key=lambda r: r[0])
        return ('<section id="twins"><h2>Twinned with</h2>\n<table><thead><tr><th>place</th>'
                "<th>since</th><th>until</th><th>agreement</th><th>twinning</th>"
                "<th>source</th></tr></thead><tbody>\n" + "".join(r[1] for r in rows)
                + "</tbody></table></section>\n")

    def _memberships(self, iri: str) -> str:
        node = ox.NamedNode(iri)
        found = sorted({t.subject.value for t in _triples(
            self.stores, None, ox.NamedNode(_ORG + "member"), node)
            if isinstance(t.subject, ox.NamedNode)})
        rows = []
        for m in found:
            rows.append(
                f"<tr><td>{self.value(m, _ORG + 'organization')}</td>"
                f"<td>{self.value(m, _ORG + 'memberDuring')}</td>"
                f"<td>{self.value(m, ONTOLOGY_NS + 'listedRegion')}</td>"
                f"<td>{self.link(m, _path_text(m, self.base))}</td>"
                f"<td>{self._sources_of(m)}</td></tr>\n")
        if not rows:
            return ""
        return ('<section id="memberships"><h2>Memberships</h2>\n<table><thead><tr>'
                "<th>network</th><th>during</th><th>region</th><th>membership</th>"
                "<th>source</th></tr></thead><tbody>\n" + "".join(rows)
                + "</tbody></table></section>\n")

    def _reconciliation(self, iri: str) -> str:
        """Status, candidates and any reconciliation node the graph links to the place."""
        node = ox.NamedNode(iri)
        facts = []
        status = self.value(iri, ONTOLOGY_NS + "reconciliationStatus")
        if status:
            facts.append(("Status", status))
        candidates = self.value(iri, ONTOLOGY_NS + "candidate")
        if candidates:
            facts.append(("Candidates", candidates))
        nodes = []
        reconciliation = ox.NamedNode(ONTOLOGY_NS + "Reconciliation")
        for t in _triples(self.stores, node):
            obj = t.object
            if isinstance(obj, ox.NamedNode | ox.BlankNode) and any(
                    True for _ in _triples(self.stores, obj, _TYPE, reconciliation)):
                nodes.append(obj)
        # The place records about the place (tw:PlaceRecord schema:about it: how a document
        # named it, its status and candidates) and the reconciliations they link to.
        record = ox.NamedNode(ONTOLOGY_NS + "PlaceRecord")
        via = ox.NamedNode(ONTOLOGY_NS + "reconciliation")
        for t in _triples(self.stores, None, None, node):
            if not isinstance(t.subject, ox.NamedNode | ox.BlankNode):
                continue
            if any(True for _ in _triples(self.stores, t.subject, _TYPE, reconciliation)):
                nodes.append(t.subject)
            elif any(True for _ in _triples(self.stores, t.subject, _TYPE, record)):
                nodes.append(t.subject)
                nodes.extend(r.object for r in _triples(self.stores, t.subject, via)
                             if isinstance(r.object, ox.NamedNode))
        blocks = []
        for rec in sorted(set(nodes), key=str):
            rows = sorted(_triples(self.stores, rec), key=_key)
            blocks.append('<dl class="facts reconciliation">\n' + "".join(
                f"<dt>{self.link(t.predicate.value)}</dt>"
                f"<dd>{self._deep(t.object, str(rec.value))}</dd>\n"
                for t in rows if t.predicate != _TYPE) + "</dl>\n")
        if not facts and not blocks:
            return ""
        return ('<section id="reconciliation"><h2>Reconciliation with Wikidata</h2>\n'
                + ('<dl class="facts">\n' + "".join(f"<dt>{_e(k)}</dt><dd>{v}</dd>\n"
                                                    for k, v in facts) + "</dl>\n"
                   if facts else "")
                + "".join(blocks) + "</section>\n")

    def _deep(self, term: Any, parent: str, depth: int = 2) -> str:
        # A part of the reconciliation (a candidate with its score, say: a blank node or an
        # IRI under the reconciliation node's own) is shown by its own statements.
        part = isinstance(term, ox.BlankNode) or (
            isinstance(term, ox.NamedNode) and term.value.startswith((parent + "/", parent + "#")))
        if not part or depth == 0:
            return self.term(term)
        inner = sorted(_triples(self.stores, term), key=_key)
        shown = "; ".join(f"{self.link(t.predicate.value, curie(t.predicate.value))} "
                          f"{self._deep(t.object, parent, depth - 1)}"
                          for t in inner if t.predicate != _TYPE)
        return f'<span class="part">{shown or self.term(term)}</span>'


    def _source_lines(self, iri: str, desc: Description) -> str:
        lines: dict[str, list[str]] = {}
        for t in desc.triples:
            if (isinstance(t.subject, ox.NamedNode) and t.subject.value.startswith(iri + "#")
                    and t.predicate.value == ONTOLOGY_NS + "lineNumber"):
                lines.setdefault(t.subject.value, [])
        derived = ox.NamedNode(_PROV + "wasDerivedFrom")
        rows = []
        for line in sorted(lines, key=lambda v: (len(v), v)):
            things = sorted({t.subject.value for t in _triples(
                self.stores, None, derived, ox.NamedNode(line))
                if isinstance(t.subject, ox.NamedNode)})
            anchor = line[len(iri) + 1:]
            rows.append(f'<tr id="{_e(anchor)}"><td><a href="#{_e(anchor)}">{_e(anchor)}</a></td>'
                        f"<td>{'<br>'.join(self.link(x) for x in things)}</td></tr>\n")
        if not rows:
            return ""
        return ('<section id="lines"><h2>Lines and what the graph derives from them</h2>\n'
                "<table><thead><tr><th>line</th><th>statements</th></tr></thead><tbody>\n"
                + "".join(rows) + "</tbody></table></section>\n")

    def _statements(self, iri: str, desc: Description) -> str:
        node = ox.NamedNode(iri)
        by_predicate: dict[str, list[Any]] = {}
        for t in desc.triples:
            if t.subject == node:
                by_predicate.setdefault(t.predicate.value, []).append(t.object)
        rows = "".join(
            f"<tr><th scope=\"row\">{self.link(p, curie(p))}</th><td>"
            + "<br>".join(self.term(o) for o in objs) + "</td></tr>\n"
            for p, objs in sorted(by_predicate.items(), key=lambda kv: curie(kv[0])))
        return ('<section id="statements"><h2>All statements about it</h2>\n<table>'
                "<tbody>\n" + rows + "</tbody></table></section>\n")

    def _incoming(self, iri: str, desc: Description) -> str:
        node = ox.NamedNode(iri)
        rows = [(t.predicate.value, t.subject) for t in desc.triples
                if t.object == node and isinstance(t.subject, ox.NamedNode)
                and not t.subject.value.startswith(iri + "#")]
        if not rows:
            return ""
        body = "".join(f"<tr><td>{self.link(s.value)}</td><td>{self.link(p, curie(p))}</td></tr>\n"
                       for p, s in rows)
        return ('<section id="incoming"><h2>Pointing to it</h2>\n<table><tbody>\n' + body
                + "</tbody></table></section>\n")

    # -- the ontology ------------------------------------------------------------------------

    def ontology(self, onto: ox.Store) -> str:
        """The ontology's documentation: its header, then every ``tw:`` term with its labels
        and definitions in every language and its other statements, then the reused terms."""
        head = ox.NamedNode(_ONTOLOGY_IRI)
        title = self.label(_ONTOLOGY_IRI)
        titles = self.values(_ONTOLOGY_IRI, _DCTERMS + "title")
        for lang in self.langs:
            match = [t.value for t in titles if isinstance(t, ox.Literal) and t.language == lang]
            if match:
                title = match[0]
                break
        alternates, formats = self._formats("/ontology")
        parts = [f"<h1>{_e(title)}</h1>\n", f'<p class="iri-line"><code>{_e(_ONTOLOGY_IRI)}'
                 f"</code> · prefix <code>tw:</code> = <code>{_e(ONTOLOGY_NS)}</code></p>\n",
                 formats, "</header>\n<main>\n"]
        parts.append('<section id="about"><dl class="facts">\n' + "".join(
            f"<dt>{self.link(t.predicate.value, curie(t.predicate.value))}</dt>"
            f"<dd>{self.term(t.object)}</dd>\n"
            for t in sorted(_triples([onto], head), key=_key) if t.predicate != _TYPE)
            + "</dl></section>\n")
        terms = sorted({t.subject.value for t in _triples([onto])
                        if isinstance(t.subject, ox.NamedNode)
                        and t.subject.value.startswith(ONTOLOGY_NS)})
        groups: dict[str, list[str]] = {}
        group_names = [
            (_OWL + "Class", "Classes"), (_OWL + "ObjectProperty", "Object properties"),
            (_OWL + "DatatypeProperty", "Datatype properties"),
            (_OWL + "AnnotationProperty", "Annotation properties"),
            (_SKOS + "ConceptScheme", "Concept schemes"), (_SKOS + "Concept", "Concepts"),
            (_RDFS + "Datatype", "Datatypes"),
        ]
        for iri in terms:
            kinds = {_text(t.object) for t in _triples([onto], ox.NamedNode(iri), _TYPE)}
            group = next((name for kind, name in group_names if kind in kinds), "Other terms")
            groups.setdefault(group, []).append(iri)
        toc = []
        for _, name in [*group_names, ("", "Other terms")]:
            if name not in groups:
                continue
            toc.append(f"<li>{_e(name)}: " + ", ".join(
                f'<a href="#{_e(i[len(ONTOLOGY_NS):])}">{_e(curie(i))}</a>' for i in groups[name])
                + "</li>\n")
        parts.append('<nav id="toc"><ul>\n' + "".join(toc) + "</ul></nav>\n")
        for _, name in [*group_names, ("", "Other terms")]:
            if name not in groups:
                continue
            parts.append(f"<section><h2>{_e(name)}</h2>\n")
            for iri in groups[name]:
                parts.append(self._term_doc(onto, iri))
            parts.append("</section>\n")
        reused = sorted({t.subject.value for t in _triples([onto], None, ox.NamedNode(
            _RDFS + "isDefinedBy")) if isinstance(t.subject, ox.NamedNode)
            and not t.subject.value.startswith(ONTOLOGY_NS)})
        parts.append('<section id="reused"><h2>Terms reused from other vocabularies</h2>\n'
                     "<ul>\n" + "".join(f"<li>{self.link(i, curie(i))}</li>\n" for i in reused)
                     + "</ul></section>\n")
        return self.frame(title, "".join(parts), alternates=alternates)

    def _term_doc(self, onto: ox.Store, iri: str) -> str:
        local = iri[len(ONTOLOGY_NS):]
        node = ox.NamedNode(iri)
        triples = sorted(_triples([onto], node), key=_key)
        order = {lang: i for i, lang in enumerate(self.langs)}
        texts = [(t.object.language or "", t.predicate.value, t.object.value) for t in triples
                 if isinstance(t.object, ox.Literal)
                 and t.predicate.value in (*_LABEL_PREDICATES, *_DEFINITIONS)]
        texts.sort(key=lambda r: (order.get(r[0], len(order)), r[0], r[1]))
        by_lang: dict[str, dict[str, str]] = {}
        for lang, predicate, text in texts:
            kind = "definition" if predicate in _DEFINITIONS else "label"
            by_lang.setdefault(lang, {}).setdefault(kind, text)
        rows = "".join(
            f'<tr><td>{_e(_tag(lang)) or "—"}</td>'
            f'<td lang="{_e(_tag(lang))}">{_e(v.get("label", ""))}</td>'
            f'<td lang="{_e(_tag(lang))}">{_e(v.get("definition", ""))}</td></tr>\n'
            for lang, v in by_lang.items())
        other = "".join(
            f"<dt>{self.link(t.predicate.value, curie(t.predicate.value))}</dt>"
            f"<dd>{self.term(t.object)}</dd>\n" for t in triples
            if not (isinstance(t.object, ox.Literal)
                    and t.predicate.value in (*_LABEL_PREDICATES, *_DEFINITIONS)))
        return (f'<article class="term" id="{_e(local)}"><h3>{_e(curie(iri))} '
                f'<span class="term-label">{_e(self.label(iri))}</span></h3>\n'
                f"<p><code>{_e(iri)}</code></p>\n"
                "<table><thead><tr><th>language</th><th>label</th><th>definition</th></tr>"
                f"</thead><tbody>\n{rows}</tbody></table>\n"
                f'<dl class="facts">\n{other}</dl></article>\n')


def _path_text(iri: str, base: str) -> str:
    """``iri`` relative to ``base`` (``twinning/zhwiki/L12``), for link texts."""
    return unquote(iri[len(base):]) if iri.startswith(base) else curie(iri)


def _wikidata_of(iri: str, stores: list[ox.Store]) -> str | None:
    # The QID beside a local link: owl:sameAs (or skos:exactMatch) to a Wikidata item.
    node = ox.NamedNode(iri)
    for predicate in (_OWL + "sameAs", _SKOS + "exactMatch"):
        for t in _triples(stores, node, ox.NamedNode(predicate)):
            value = _text(t.object)
            if value.startswith(_WD) and _QID.match(value[len(_WD):]):
                return str(value[len(_WD):])
    return None
