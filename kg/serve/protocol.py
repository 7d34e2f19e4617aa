"""The SPARQL 1.1 Protocol, independent of any HTTP framework.

* :func:`parse_request` turns a method, query string, ``Content-Type`` and body into an
  :class:`Operation` (query text and protocol dataset) or raises :class:`ProtocolError`
  carrying the HTTP status to answer.
* :func:`negotiate` picks a media type from an ``Accept`` header with q-values.
* :class:`Engine` runs a query on a read-only pyoxigraph store with a timeout, a row cap,
  a ``SERVICE`` allow-list and a response cache, and returns a :class:`Response`.

Statuses (also in the README):

=====  ==========================================================================
200    a result (``X-Result-Truncated: true`` if the row cap cut it)
400    bad query syntax, missing query, ``query`` given twice, query *and* update,
       bad ``default-graph-uri``/``named-graph-uri``, body not UTF-8, a ``SERVICE``
       to an endpoint that is not allowed
403    SPARQL Update in any form (``update=``, ``application/sparql-update``): read-only
405    a method other than GET, HEAD, POST, OPTIONS (``Allow`` header given)
406    no result format the ``Accept`` header allows
413    request body larger than the limit
415    POST with a ``Content-Type`` other than form or ``application/sparql-query``, or a
       charset other than UTF-8
502    an allowed ``SERVICE`` endpoint failed
503    the query ran past the timeout (``Retry-After`` given)
=====  ==========================================================================

The default graph: unless the request names a dataset (``default-graph-uri``,
``named-graph-uri``) or the query does (``FROM``, ``FROM NAMED``), the default graph is the
union of the store's default graph and all its named graphs (Oxigraph's
``use_default_graph_as_union``), and ``GRAPH ?g`` ranges over the named graphs. A
protocol dataset replaces the query's, as the protocol requires; a dataset that names only
default graphs has no named graphs, and one that names only named graphs has an empty
default graph.
"""

from __future__ import annotations

import json
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urljoin
from xml.sax.saxutils import escape as xml_escape
from xml.sax.saxutils import quoteattr

import pyoxigraph as ox

from kg.errors import ServeError

__all__ = [
    "ASK_TYPES",
    "CORS_HEADERS",
    "GRAPH_TYPES",
    "SELECT_TYPES",
    "Engine",
    "Operation",
    "ProtocolError",
    "QueryInfo",
    "Response",
    "analyse_query",
    "negotiate",
    "parse_accept",
    "parse_media_type",
    "parse_request",
    "serialize_graph",
    "serialize_solutions",
    "service_description",
]

_JSON = "application/sparql-results+json"
_XML = "application/sparql-results+xml"
#: Media types offered for SELECT results, in the server's order of preference, with the
#: serialiser name each maps to.
SELECT_TYPES: dict[str, str] = {
    _JSON: "json", _XML: "xml", "text/csv": "csv", "text/tab-separated-values": "tsv",
    "application/json": "json", "application/xml": "xml", "text/xml": "xml",
}
#: Media types offered for ASK results.
ASK_TYPES: dict[str, str] = {
    _JSON: "json", _XML: "xml",
    "application/json": "json", "application/xml": "xml", "text/xml": "xml",
}
#: Media types offered for CONSTRUCT and DESCRIBE results (and RDF documents).
GRAPH_TYPES: dict[str, ox.RdfFormat] = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "application/ld+json": ox.RdfFormat.JSON_LD,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
    "text/plain": ox.RdfFormat.N_TRIPLES,
}
#: Headers every response carries (CORS: the endpoint is public and read-only).
CORS_HEADERS: dict[str, str] = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "X-Result-Truncated, X-Result-Limit, Content-Length",
}
_XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
_RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"


class ProtocolError(ServeError):
    """A request the endpoint refuses: ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.headers = dict(headers or {})


@dataclass(frozen=True, slots=True)
class Operation:
    """A parsed protocol request: the query (``None``: none was given) and the protocol
    dataset (``default-graph-uri`` and ``named-graph-uri`` values, in order).

    Use :func:`dataclasses.replace` to set ``base_iri``."""

    query: str | None
    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()
    #: Base IRI for relative IRIs in the query (the protocol lets it be the endpoint's URL).
    base_iri: str | None = None


@dataclass(slots=True)
class Response:
    """An HTTP answer: status, body, content type and extra headers."""

    status: int
    body: bytes
    content_type: str = "text/plain; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def error(cls, exc: ProtocolError) -> Response:
        """The plain-text answer to ``exc``."""
        return cls(exc.status, (exc.message + "\n").encode("utf-8"),
                   headers=dict(exc.headers))


# --- media types and Accept ----------------------------------------------------------------

def parse_media_type(header: str | None) -> tuple[str, dict[str, str]]:
    """``(type/subtype, params)`` of a ``Content-Type``-like header, lower-cased
    (``("", {})`` for none)."""
    if not header:
        return "", {}
    parts = header.split(";")
    params: dict[str, str] = {}
    for part in parts[1:]:
        key, _, value = part.partition("=")
        params[key.strip().lower()] = value.strip().strip('"').lower()
    return parts[0].strip().lower(), params


def parse_accept(header: str) -> list[tuple[str, float]]:
    """The media ranges of an ``Accept`` header with their q-values (malformed q: 0)."""
    ranges = []
    for item in header.split(","):
        media, params = parse_media_type(item)
        if not media:
            continue
        try:
            q = float(params.get("q", "1"))
        except ValueError:
            q = 0.0
        ranges.append((media, min(max(q, 0.0), 1.0)))
    return ranges


def _quality(offer: str, ranges: Sequence[tuple[str, float]]) -> float:
    # The most specific matching range decides (RFC 9110 §12.5.1).
    kind = offer.split("/")[0]
    best_rank, best_q = -1, 0.0
    for media, q in ranges:
        if media == offer:
            rank = 2
        elif media == f"{kind}/*":
            rank = 1
        elif media == "*/*":
            rank = 0
        else:
            continue
        if rank > best_rank:
            best_rank, best_q = rank, q
    return best_q


def negotiate(accept: str | None, offers: Sequence[str]) -> str | None:
    """The offer the ``Accept`` header prefers (highest q; ties go to the earlier offer),
    the first offer if there is no header, or ``None`` if it accepts none of them."""
    if not accept or not accept.strip():
        return offers[0]
    ranges = parse_accept(accept)
    best, best_q = None, 0.0
    for offer in offers:
        q = _quality(offer, ranges)
        if q > best_q:
            best, best_q = offer, q
    return best


def _content_type(media: str) -> str:
    return f"{media}; charset=utf-8" if media.startswith("text/") else media


# --- request parsing ------------------------------------------------------------------------

def _qsl(text: str) -> list[tuple[str, str]]:
    try:
        return parse_qsl(text, keep_blank_values=True, errors="strict")
    except (UnicodeDecodeError, ValueError) as exc:
        raise ProtocolError(400, f"malformed URL-encoded parameters: {exc}") from exc


def _utf8(body: bytes, what: str) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ProtocolError(400, f"the {what} is not UTF-8 ({exc.reason} at byte "
                                 f"{exc.start})") from exc


def _check_charset(params: dict[str, str], media: str) -> None:
    charset = params.get("charset")
    if charset is not None and charset not in ("utf-8", "utf8"):
        raise ProtocolError(415, f"{media} must be UTF-8, not charset={charset}")


_READ_ONLY = ("this endpoint is read-only: SPARQL Update is not accepted "
              "(load data with `kg serve FILE...` or push it to a store with `kg load`)")


def parse_request(method: str, query_string: str, content_type: str | None,
                  body: bytes) -> Operation:
    """The SPARQL operation a request carries (SPARQL 1.1 Protocol §2.1).

    ``query_string`` is the URL's raw query part. Parameters of a form POST are merged
    with those of the URL. Raises :class:`ProtocolError` with the status of the table in
    the module docstring (405, 415, 403, 400).
    """
    method = method.upper()
    params = _qsl(query_string)
    if method in ("GET", "HEAD"):
        pass
    elif method == "POST":
        media, ctparams = parse_media_type(content_type)
        if media == "application/x-www-form-urlencoded":
            _check_charset(ctparams, media)
            params += _qsl(_utf8(body, "form body"))
        elif media == "application/sparql-query":
            _check_charset(ctparams, media)
            if any(key in ("query", "update") for key, _ in params):
                raise ProtocolError(400, "a direct POST carries the query in its body; "
                                         "the URL must not have a query= parameter too")
            params.append(("query", _utf8(body, "query")))
        elif media == "application/sparql-update":
            raise ProtocolError(403, _READ_ONLY)
        elif not media:
            raise ProtocolError(415, "a POST needs a Content-Type: "
                                     "application/x-www-form-urlencoded or "
                                     "application/sparql-query")
        else:
            raise ProtocolError(415, f"unsupported Content-Type {media}: use "
                                     "application/x-www-form-urlencoded or "
                                     "application/sparql-query")
    else:
        raise ProtocolError(405, f"method {method} is not allowed: use GET or POST",
                            {"Allow": "GET, HEAD, POST, OPTIONS"})
    queries = [value for key, value in params if key == "query"]
    updates = [value for key, value in params if key == "update"]
    if queries and updates:
        raise ProtocolError(400, "a request carries either a query or an update, not both")
    if updates or any(key in ("using-graph-uri", "using-named-graph-uri") for key, _ in params):
        raise ProtocolError(403, _READ_ONLY)
    if len(queries) > 1:
        raise ProtocolError(400, f"{len(queries)} query parameters: give exactly one")
    defaults = tuple(v for k, v in params if k == "default-graph-uri")
    named = tuple(v for k, v in params if k == "named-graph-uri")
    for iri in defaults + named:
        try:
            ox.NamedNode(iri)
        except ValueError as exc:
            raise ProtocolError(400, f"not an IRI in the dataset: {iri!r} ({exc})") from exc
    if queries and not queries[0].strip():
        raise ProtocolError(400, "the query parameter is empty")
    return Operation(queries[0] if queries else None, defaults, named)


# --- a light lexical look at the query ------------------------------------------------------

_TOKEN = re.compile(
    r"""(?P<ws>\s+)
    |(?P<comment>\#[^\n\r]*)
    |(?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
    |(?P<string>\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"|'''(?:[^'\\]|\\.|'(?!''))*'''
        |"(?:[^"\\\n\r]|\\.)*"|'(?:[^'\\\n\r]|\\.)*')
    |(?P<var>[?$][^\s{}()\[\],;.<>"'=!|&+*/^-]+)
    |(?P<pname>[^\s{}()\[\],;<>"'\#?$=!|&+*/^]*:[^\s{}()\[\],;<>"'\#=!|&+*/^]*)
    |(?P<word>[A-Za-z_][A-Za-z0-9_]*)
    |(?P<other>.)""",
    re.X | re.S,
)


@dataclass(frozen=True, slots=True)
class QueryInfo:
    """What :func:`analyse_query` found: ``SERVICE`` targets (``None`` for one given by a
    variable) and whether the query has a ``FROM``/``FROM NAMED`` dataset clause."""

    services: tuple[str | None, ...]
    has_dataset: bool


def _tokens(query: str) -> Iterator[tuple[str, str]]:
    for match in _TOKEN.finditer(query):
        kind = match.lastgroup or "other"
        if kind not in ("ws", "comment"):
            yield kind, match.group()


def analyse_query(query: str) -> QueryInfo:
    """Find ``SERVICE`` targets (IRIs resolved against ``BASE`` and ``PREFIX``) and
    dataset clauses by scanning tokens, so strings, IRIs and comments never match.

    It does not validate the query; the store's parser does that.
    """
    tokens = list(_tokens(query))
    prefixes: dict[str, str] = {}
    base = ""
    services: list[str | None] = []
    has_dataset = False
    for index, (kind, text) in enumerate(tokens):
        if kind != "word":
            continue
        keyword = text.upper()
        following = tokens[index + 1: index + 4]
        if keyword == "BASE" and following and following[0][0] == "iri":
            base = urljoin(base, following[0][1][1:-1])
        elif (keyword == "PREFIX" and len(following) >= 2 and following[0][0] == "pname"
              and following[1][0] == "iri"):
            prefixes[following[0][1][:-1]] = urljoin(base, following[1][1][1:-1])
        elif keyword == "FROM":
            has_dataset = True
        elif keyword == "SERVICE":
            if following and following[0][0] == "word" and following[0][1].upper() == "SILENT":
                following = following[1:]
            target: str | None = None
            if following and following[0][0] == "iri":
                target = urljoin(base, following[0][1][1:-1])
            elif following and following[0][0] == "pname":
                prefix, _, local = following[0][1].partition(":")
                if prefix in prefixes:
                    target = prefixes[prefix] + local
            services.append(target)
    return QueryInfo(tuple(services), has_dataset)


# --- result serialisation -------------------------------------------------------------------

def _json_term(term: Any) -> dict[str, Any]:
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Literal):
        out: dict[str, Any] = {"type": "literal", "value": term.value}
        if term.language:
            out["xml:lang"] = term.language
        elif term.datatype.value != _XSD_STRING:
            out["datatype"] = term.datatype.value
        return out
    if isinstance(term, ox.Triple):
        return {"type": "triple", "value": {
            "subject": _json_term(term.subject), "predicate": _json_term(term.predicate),
            "object": _json_term(term.object)}}
    raise TypeError(f"unexpected term {term!r}")


def _xml_term(term: Any) -> str:
    if isinstance(term, ox.NamedNode):
        return f"<uri>{xml_escape(term.value)}</uri>"
    if isinstance(term, ox.BlankNode):
        return f"<bnode>{xml_escape(term.value)}</bnode>"
    if isinstance(term, ox.Literal):
        if term.language:
            return (f"<literal xml:lang={quoteattr(term.language)}>"
                    f"{xml_escape(term.value)}</literal>")
        if term.datatype.value != _XSD_STRING:
            return (f"<literal datatype={quoteattr(term.datatype.value)}>"
                    f"{xml_escape(term.value)}</literal>")
        return f"<literal>{xml_escape(term.value)}</literal>"
    if isinstance(term, ox.Triple):
        return (f"<triple><subject>{_xml_term(term.subject)}</subject><predicate>"
                f"{_xml_term(term.predicate)}</predicate><object>{_xml_term(term.object)}"
                "</object></triple>")
    raise TypeError(f"unexpected term {term!r}")


def _csv_cell(term: Any) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.BlankNode):
        text = f"_:{term.value}"
    elif isinstance(term, ox.NamedNode | ox.Literal):
        text = term.value
    else:
        text = str(term)
    if any(ch in text for ch in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def _tsv_cell(term: Any) -> str:
    # N-Triples syntax, which escapes tabs and newlines inside literals.
    return "" if term is None else str(term)


def serialize_solutions(variables: Sequence[str], rows: Sequence[Sequence[Any]], fmt: str,
                        *, truncated_at: int | None = None) -> bytes:
    """SELECT results (``rows`` of terms or ``None``, in ``variables`` order) as ``json``,
    ``xml``, ``csv`` or ``tsv``. ``truncated_at`` (the row cap, when it cut the results)
    is stated in the JSON and XML heads as a ``link`` and, in JSON, as a top-level
    ``"truncated"`` member; CSV and TSV carry it in the HTTP headers only."""
    link = f"urn:x-kg:truncated?limit={truncated_at}" if truncated_at is not None else None
    if fmt == "json":
        head: dict[str, Any] = {"vars": list(variables)}
        if link:
            head["link"] = [link]
        bindings = [{name: _json_term(term) for name, term in zip(variables, row, strict=True)
                     if term is not None} for row in rows]
        doc: dict[str, Any] = {"head": head, "results": {"bindings": bindings}}
        if truncated_at is not None:
            doc["truncated"] = {"limit": truncated_at, "message":
                                f"results cut at {truncated_at} rows by the server's row cap"}
        return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    if fmt == "xml":
        parts = ['<?xml version="1.0" encoding="UTF-8"?>\n'
                 '<sparql xmlns="http://www.w3.org/2005/sparql-results#"><head>']
        parts += [f"<variable name={quoteattr(name)}/>" for name in variables]
        if link:
            parts.append(f"<link href={quoteattr(link)}/>")
        parts.append("</head><results>")
        for row in rows:
            parts.append("<result>")
            parts += [f"<binding name={quoteattr(name)}>{_xml_term(term)}</binding>"
                      for name, term in zip(variables, row, strict=True) if term is not None]
            parts.append("</result>")
        parts.append("</results></sparql>\n")
        return "".join(parts).encode("utf-8")
    if fmt == "csv":
        lines = [",".join(variables)]
        lines += [",".join(_csv_cell(term) for term in row) for row in rows]
        return ("\r\n".join(lines) + "\r\n").encode("utf-8")
    if fmt == "tsv":
        lines = ["\t".join(f"?{name}" for name in variables)]
        lines += ["\t".join(_tsv_cell(term) for term in row) for row in rows]
        return ("\n".join(lines) + "\n").encode("utf-8")
    raise ValueError(f"unknown results format {fmt!r}")


def _serialize_boolean(value: bool, fmt: str) -> bytes:
    if fmt == "json":
        return json.dumps({"head": {}, "boolean": value}).encode("utf-8")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<sparql xmlns='
            '"http://www.w3.org/2005/sparql-results#"><head/>'
            f"<boolean>{'true' if value else 'false'}</boolean></sparql>\n").encode()


def serialize_graph(triples: Iterable[ox.Triple], media: str) -> bytes:
    """``triples`` in the RDF format of ``media`` (a key of :data:`GRAPH_TYPES`)."""
    return ox.serialize(list(triples), format=GRAPH_TYPES[media],
                        prefixes=_PREFIXES if GRAPH_TYPES[media] is ox.RdfFormat.TURTLE
                        else None) or b""


_PREFIXES = {
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "wd": "http://www.wikidata.org/entity/",
    "sd": "http://www.w3.org/ns/sparql-service-description#",
    "void": "http://rdfs.org/ns/void#",
    "dcterms": "http://purl.org/dc/terms/",
}


def service_description(endpoint: str, *, union_default_graph: bool, triples: int,
                        void: str | None = None) -> list[ox.Triple]:
    """The SPARQL 1.1 Service Description of the endpoint at ``endpoint`` (an absolute
    URL), with its result formats, its default-graph feature and its size."""
    sd = "http://www.w3.org/ns/sparql-service-description#"
    fmt = "http://www.w3.org/ns/formats/"
    rdf_type = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    service = ox.NamedNode(endpoint + "#service")
    dataset = ox.NamedNode(endpoint + "#dataset")
    graph = ox.BlankNode("defaultGraph")
    out = [
        ox.Triple(service, rdf_type, ox.NamedNode(sd + "Service")),
        ox.Triple(service, ox.NamedNode(sd + "endpoint"), ox.NamedNode(endpoint)),
        ox.Triple(service, ox.NamedNode(sd + "supportedLanguage"),
                  ox.NamedNode(sd + "SPARQL11Query")),
        ox.Triple(service, ox.NamedNode(sd + "defaultDataset"), dataset),
        ox.Triple(dataset, rdf_type, ox.NamedNode(sd + "Dataset")),
        ox.Triple(dataset, ox.NamedNode(sd + "defaultGraph"), graph),
        ox.Triple(graph, rdf_type, ox.NamedNode(sd + "Graph")),
        ox.Triple(graph, ox.NamedNode("http://rdfs.org/ns/void#triples"),
                  ox.Literal(str(triples),
                             datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer"))),
    ]
    if union_default_graph:
        out.append(ox.Triple(service, ox.NamedNode(sd + "feature"),
                             ox.NamedNode(sd + "UnionDefaultGraph")))
    if void:
        out.append(ox.Triple(dataset, ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#"
                                                   "seeAlso"), ox.NamedNode(void)))
    for name in ("SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV",
                 "SPARQL_Results_TSV", "Turtle", "N-Triples", "JSON-LD", "RDF_XML"):
        out.append(ox.Triple(service, ox.NamedNode(sd + "resultFormat"),
                             ox.NamedNode(fmt + name)))
    return out


# --- the query engine -----------------------------------------------------------------------

class _Cancelled(Exception):
    """The request's timeout passed while its results were being read."""


@dataclass(frozen=True, slots=True)
class _Outcome:
    form: str  # "solutions", "boolean", "graph" (or "cancelled")
    media: str | None  # None: nothing in Accept fits the form (406)
    body: bytes = b""
    truncated_at: int | None = None


#: Cache key: query, default graphs, named graphs, base IRI, media type.
_Key = tuple[str, tuple[str, ...], tuple[str, ...], str | None, str]


class Engine:
    """Runs queries on a store that nobody writes to while the engine serves.

    ``timeout`` (seconds) bounds each request: past it the answer is a 503 and the query's
    worker stops at its next result row (pyoxigraph cannot interrupt an operator that is
    still computing, such as a sort, so the worker finishes that on its own; the pool of
    ``workers`` threads bounds how many can run at once). ``max_rows`` caps the rows of a
    SELECT and the triples of a CONSTRUCT/DESCRIBE; a cut result is answered with
    ``X-Result-Truncated: true`` and ``X-Result-Limit`` and says so in its body (see
    :func:`serialize_solutions`). ``allowed_services`` are the only endpoints ``SERVICE``
    may call. Answers are cached by (query, dataset, media type) up to ``cache_bytes``:
    the store is read-only, so a cached answer never goes stale.
    """

    def __init__(self, store: ox.Store, *, union_default_graph: bool = True,
                 timeout: float = 30.0, max_rows: int = 100_000,
                 allowed_services: Sequence[str] = (), workers: int = 8,
                 cache_bytes: int = 64 * 1024 * 1024) -> None:
        self.store = store
        self.union_default_graph = union_default_graph
        self.timeout = timeout
        self.max_rows = max_rows
        self.allowed_services = frozenset(allowed_services)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="kg-query")
        self._cache: OrderedDict[_Key, _Outcome] = OrderedDict()
        self._forms: dict[str, str] = {}
        self._cache_bytes = cache_bytes
        self._cached = 0
        self._lock = threading.Lock()

    def close(self) -> None:
        """Stop accepting work; running queries finish in the background."""
        self._pool.shutdown(wait=False, cancel_futures=True)

    def check_services(self, query: str) -> QueryInfo:
        """The query's :class:`QueryInfo`; raises :class:`ProtocolError` (400) if it calls a
        ``SERVICE`` that is not allowed."""
        info = analyse_query(query)
        for target in info.services:
            if target is None:
                raise ProtocolError(400, "SERVICE with a variable endpoint is not allowed")
            if target not in self.allowed_services:
                allowed = ", ".join(sorted(self.allowed_services)) or "none"
                raise ProtocolError(400, f"federated SERVICE <{target}> is not allowed on "
                                         f"this endpoint (allowed: {allowed}; the server "
                                         "operator can add it with --allow-service URL)")
        return info

    def run(self, op: Operation, accept: str | None) -> Response:
        """The HTTP answer to ``op`` (which must have a query) for this ``Accept`` header.

        Raises :class:`ProtocolError` (400, 406, 502, 503) for a request it refuses.
        """
        query = op.query
        if query is None:
            raise ProtocolError(400, "missing query parameter")
        info = self.check_services(query)
        form = self._forms.get(query)
        if form is not None:
            media = negotiate(accept, list(_offers(form)))
            if media is None:
                raise _not_acceptable(form)
            key: _Key = (query, op.default_graphs, op.named_graphs, op.base_iri, media)
            with self._lock:
                hit = self._cache.get(key)
                if hit is not None:
                    self._cache.move_to_end(key)
            if hit is not None:
                return self._answer(hit)
        cancel = threading.Event()
        future = self._pool.submit(self._execute, op, query, info, accept, cancel)
        try:
            outcome = future.result(timeout=self.timeout)
        except FutureTimeout:
            cancel.set()
            future.cancel()
            raise ProtocolError(503, f"the query ran longer than the {self.timeout:g} s "
                                     "timeout", {"Retry-After": "60"}) from None
        if isinstance(outcome, ProtocolError):
            raise outcome
        if outcome.form == "cancelled":  # pragma: no cover - only after a timeout
            raise ProtocolError(503, "the query was cancelled", {"Retry-After": "60"})
        self._forms[query] = outcome.form
        if outcome.media is None:
            raise _not_acceptable(outcome.form)
        self._store((query, op.default_graphs, op.named_graphs, op.base_iri, outcome.media),
                    outcome)
        return self._answer(outcome)

    def _store(self, key: _Key, outcome: _Outcome) -> None:
        size = len(outcome.body) + len(key[0])
        if size > self._cache_bytes // 4:
            return
        with self._lock:
            if key in self._cache:
                return
            self._cache[key] = outcome
            self._cached += size
            while self._cached > self._cache_bytes and self._cache:
                old_key, old = self._cache.popitem(last=False)
                self._cached -= len(old.body) + len(old_key[0])

    @staticmethod
    def _answer(outcome: _Outcome) -> Response:
        assert outcome.media is not None
        headers = {}
        if outcome.truncated_at is not None:
            headers["X-Result-Truncated"] = "true"
            headers["X-Result-Limit"] = str(outcome.truncated_at)
        return Response(200, outcome.body, _content_type(outcome.media), headers)

    def _execute(self, op: Operation, query: str, info: QueryInfo, accept: str | None,
                 cancel: threading.Event) -> _Outcome | ProtocolError:
        # Runs in a worker. Errors are returned, not raised: pyoxigraph's result iterators
        # must be dropped on the thread that made them, and a raised exception's traceback
        # would carry them to the request thread.
        status, message = 500, "query evaluation failed"
        try:
            return self._evaluate(op, query, info, accept, cancel)
        except _Cancelled:
            return _Outcome("cancelled", None)
        except SyntaxError as exc:
            status, message = 400, f"query syntax error: {exc.msg or exc}"
        except OSError as exc:
            if info.services:
                status, message = 502, f"a SERVICE endpoint failed: {exc}"
            else:
                message = f"query evaluation failed: {exc}"
        return ProtocolError(status, message)

    def _evaluate(self, op: Operation, query: str, info: QueryInfo, accept: str | None,
                  cancel: threading.Event) -> _Outcome:
        kwargs: dict[str, Any] = {"base_iri": op.base_iri}
        if op.default_graphs or op.named_graphs:
            kwargs["default_graph"] = [ox.NamedNode(iri) for iri in op.default_graphs]
            kwargs["named_graphs"] = [ox.NamedNode(iri) for iri in op.named_graphs]
        elif self.union_default_graph and not info.has_dataset:
            # Oxigraph's union flag would override FROM, so only use it without one.
            kwargs["use_default_graph_as_union"] = True
        return self._serialize(self.store.query(query, **kwargs), accept, cancel)

    def _serialize(self, result: Any, accept: str | None,
                   cancel: threading.Event) -> _Outcome:
        if isinstance(result, ox.QueryBoolean):
            media = negotiate(accept, list(ASK_TYPES))
            if media is None:
                return _Outcome("boolean", None)
            return _Outcome("boolean", media, _serialize_boolean(bool(result),
                                                                 ASK_TYPES[media]))
        if isinstance(result, ox.QuerySolutions):
            media = negotiate(accept, list(SELECT_TYPES))
            if media is None:
                return _Outcome("solutions", None)
            variables = [v.value for v in result.variables]
            rows, truncated = self._take(result, cancel,
                                         lambda s: [s[i] for i in range(len(variables))])
            return _Outcome("solutions", media,
                            serialize_solutions(variables, rows, SELECT_TYPES[media],
                                                truncated_at=truncated), truncated)
        media = negotiate(accept, list(GRAPH_TYPES))
        if media is None:
            return _Outcome("graph", None)
        triples, truncated = self._take(result, cancel, lambda t: t)
        return _Outcome("graph", media, serialize_graph(triples, media), truncated)

    def _take(self, items: Iterable[Any], cancel: threading.Event,
              convert: Callable[[Any], Any]) -> tuple[list[Any], int | None]:
        out: list[Any] = []
        for item in items:
            if cancel.is_set():
                raise _Cancelled
            if len(out) == self.max_rows:
                return out, self.max_rows
            out.append(convert(item))
        return out, None


def _offers(form: str) -> Iterable[str]:
    return {"solutions": SELECT_TYPES, "boolean": ASK_TYPES}.get(form, GRAPH_TYPES)


def _not_acceptable(form: str) -> ProtocolError:
    kind = {"solutions": "SELECT", "boolean": "ASK"}.get(form, "CONSTRUCT/DESCRIBE")
    return ProtocolError(406, f"no acceptable format for {kind} results; available: "
                              + ", ".join(_offers(form)))
