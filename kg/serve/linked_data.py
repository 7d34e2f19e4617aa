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

**JSON.** ``Accept: application/json`` is answered with the JSON-LD document (JSON-LD is
JSON); ``application/xhtml+xml`` with the HTML one.

What a description holds is :mod:`kg.serve.descriptions`; the HTML is made by
:mod:`kg.serve.pages` from templates. The page's language follows ``?lang=`` or
``Accept-Language``, with the fallbacks of :func:`_languages`. Documents once made are
kept for repeated requests (up to :data:`CACHE_BYTES`; the store is read-only). Lookups go
through pyoxigraph's pattern index (:meth:`pyoxigraph.Store.quads_for_pattern`), so no
text from the request is ever parsed as SPARQL.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any
from urllib.parse import parse_qsl, quote, unquote

import pyoxigraph as ox

from kg.rdf.vocab import DCTERMS, DEFAULT_BASE, OWL
from kg.serve.descriptions import (
    DOCUMENT_SUFFIXES,
    LANGUAGES,
    ONTOLOGY_NS,
    PREFIX_MAP,
    describe,
    exists,
    load_ontology,
    main_dataset,
    term_text,
    triple_key,
    triples_of,
    uri_space,
    void_store,
)
from kg.serve.pages import Page
from kg.serve.protocol import GRAPH_TYPES, Response, negotiate

__all__ = [
    "CACHE_BYTES",
    "RESOURCE_PREFIXES",
    "respond",
]

#: Path prefixes under which the graph mints IRIs of things: an unknown one there is a 404
#: from here (any other IRI under the base that the graph uses dereferences as well).
RESOURCE_PREFIXES = ("place", "twinning", "membership", "source", "network", "period",
                     "graph", "dataset")
_MEDIA_SUFFIX = {media: suffix for suffix, media in DOCUMENT_SUFFIXES.items()}
#: What a client may ask for: the documents' types, XHTML (answered with HTML) and plain
#: JSON (answered with JSON-LD, which is JSON).
_OFFERS = [*DOCUMENT_SUFFIXES.values(), "application/xhtml+xml", "application/json"]
_ANSWERED_AS = {"application/xhtml+xml": "text/html", "application/json": "application/ld+json"}
_MAX_PATH = 2048
_ONTOLOGY_IRI = ONTOLOGY_NS[:-1]

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
        # A Japanese reader without a Japanese name gets the Chinese one before the English:
        # Japanese writes Chinese place names in kanji (北京市), and kanji are closer to the
        # Traditional forms than to the Simplified ones.
        low = {"zh-tw": "zh-hant", "zh-hk": "zh-hant", "zh-mo": "zh-hant",
               "zh-cn": "zh-hans", "zh-sg": "zh-hans", "ja-jp": "ja"}.get(low, low)
        related = {"zh-hant": ["zh-hant", "zh", "zh-hans"],
                   "zh-hans": ["zh-hans", "zh", "zh-hant"],
                   "zh": ["zh", "zh-hant", "zh-hans"],
                   "ja": ["ja", "zh-hant", "zh", "zh-hans"]}.get(low, [low])
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
        return _ontology(rel, accept, langs, None if void is None else void_store(void))
    base = uri_space(void)
    stores = [store] if void is None else [store, void_store(void)]
    for candidate in _spellings(rel):
        iri = _node_iri(base, candidate)
        if iri is not None and "#" not in candidate and exists(stores, iri):
            return _see_other(candidate, accept, query)
    stem, dot, suffix = rel.rpartition(".")
    if dot and "." + suffix in DOCUMENT_SUFFIXES and "/" not in suffix:
        for candidate in _spellings(stem):
            iri = _node_iri(base, candidate)
            if iri is not None and "#" not in candidate and exists(stores, iri):
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
    answer = _document(store, None if void is None else void_store(void), iri, base, media,
                       langs)
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
    media = _ANSWERED_AS.get(media, media)
    # The query (?lang=) goes along: it is about the page, not the thing.
    target = _header_uri(f"/{rel}{_MEDIA_SUFFIX[media]}"
                         + (f"?{query}" if query else ""))
    body = f"See Other: {target}\n".encode()
    return Response(303, body, headers={"Location": target, "Vary": "Accept"})


def _header_uri(text: str) -> str:
    # Headers are Latin-1 on the wire: an IRI with non-ASCII characters (data served with
    # `kg serve FILE` may have them) goes as its URI, percent-encoded.
    return quote(text, safe="!#$%&'()*+,/:;=?@[]~-._")


def _rdf(triples: list[ox.Triple], media: str) -> bytes:
    fmt = GRAPH_TYPES[media]
    prefixes = None
    if fmt in (ox.RdfFormat.TURTLE, ox.RdfFormat.RDF_XML):
        # Only the prefixes the description uses.
        used = {term.value for t in triples for term in (t.subject, t.predicate, t.object)
                if isinstance(term, ox.NamedNode)}
        used |= {t.object.datatype.value for t in triples if isinstance(t.object, ox.Literal)}
        prefixes = {p: ns for p, ns in PREFIX_MAP.items()
                    if any(v.startswith(ns) for v in used)}
    return ox.serialize(triples, format=fmt, prefixes=prefixes) or b""


def _document(store: ox.Store, void: ox.Store | None, iri: str, base: str, media: str,
              langs: list[str]) -> Response:
    stores = [store] if void is None else [store, void]
    desc = describe(stores, iri, void=void)
    headers = {"Link": f'<{_header_uri(iri)}>; rel="describes"'}
    if desc.truncated:
        headers["X-Description-Truncated"] = "true"
    if media == "text/html":
        page = Page(stores, base, langs, home=_home(void, langs))
        body = page.resource(iri, desc).encode("utf-8")
        headers["Vary"] = "Accept-Language"
        return Response(200, body, "text/html; charset=utf-8", headers=headers)
    content_type = f"{media}; charset=utf-8" if media.startswith("text/") else media
    return Response(200, _rdf(desc.triples, media), content_type, headers=headers)


def _ontology(rel: str, accept: str | None, langs: list[str],
              void: ox.Store | None) -> Response:
    onto = load_ontology()
    if not len(onto):
        return Response(404, b"no ontology on this server\n")
    versions = {term_text(t.object) for t in triples_of([onto], ox.NamedNode(_ONTOLOGY_IRI),
                                                 ox.NamedNode(str(OWL.versionInfo)))}
    stem, dot, suffix = rel.rpartition(".")
    if dot and "." + suffix in DOCUMENT_SUFFIXES and stem == "ontology":
        media: str | None = DOCUMENT_SUFFIXES["." + suffix]
        headers: dict[str, str] = {}
    elif rel == "ontology" or rel in {f"ontology/{v}" for v in versions}:
        media = negotiate(accept, _OFFERS)
        if media is None:
            return Response(406, b"the ontology is available as "
                            + ", ".join(DOCUMENT_SUFFIXES.values()).encode() + b"\n")
        media = _ANSWERED_AS.get(media, media)
        headers = {"Vary": "Accept",
                   "Content-Location": "/ontology" + _MEDIA_SUFFIX[media]}
    else:
        return Response(404, f"no ontology document {rel!r}\n".encode())
    assert media is not None
    if media == "text/html":
        page = Page([onto], DEFAULT_BASE, langs, home=_home(void, langs))
        headers["Vary"] = ", ".join(filter(None, (headers.get("Vary"), "Accept-Language")))
        return Response(200, page.ontology(onto).encode("utf-8"), "text/html; charset=utf-8",
                        headers=headers)
    triples = sorted((q.triple for q in onto), key=triple_key)
    content_type = f"{media}; charset=utf-8" if media.startswith("text/") else media
    return Response(200, _rdf(triples, media), content_type, headers=headers)



def _home(void: ox.Store | None, langs: list[str]) -> str:
    """The site's name in the page's language: the VoID's title of the main dataset."""
    main = None if void is None else main_dataset(void)
    if void is None or main is None:
        return "home"
    titles = {(t.object.language or ""): t.object.value
              for t in triples_of([void], main, ox.NamedNode(str(DCTERMS.title)))
              if isinstance(t.object, ox.Literal)}
    for lang in [*langs, "", "en"]:
        if lang in titles:
            return titles[lang]
    return min(titles.items())[1] if titles else "home"
