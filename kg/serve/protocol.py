"""The SPARQL 1.1 Protocol, independent of any HTTP framework.

* :func:`parse_request` turns a method, query string, ``Content-Type`` and body into an
  :class:`Operation` (query text and protocol dataset) or raises :class:`ProtocolError`
  carrying the HTTP status to answer.
* :func:`negotiate` picks a media type from an ``Accept`` header with q-values.
* :class:`Engine` runs a query in a worker process (:mod:`kg.serve.workers`) on a read-only
  on-disk pyoxigraph store, with a timeout that kills the worker, guards on length and
  nesting depth, a row cap, a ``SERVICE`` allow-list and a byte-capped answer cache, and
  returns a :class:`Response`. :func:`execute` is what a worker runs.

Statuses (also in the README):

=====  ==========================================================================
200    a result (``X-Result-Truncated: true`` if the row cap cut it)
400    bad query syntax, missing query, ``query`` given twice, query *and* update,
       bad ``default-graph-uri``/``named-graph-uri``, body not UTF-8, a ``SERVICE``
       to an endpoint that is not allowed, a query longer than ``--max-query-length``
       or nested deeper than ``--max-depth`` (the message names the limit)
403    SPARQL Update in any form (``update=``, ``application/sparql-update``): read-only
405    a method other than GET, HEAD, POST, OPTIONS (``Allow`` header given)
406    no result format the ``Accept`` header allows
413    request body larger than the limit
415    POST with a ``Content-Type`` other than form or ``application/sparql-query``, or a
       charset other than UTF-8
500    the query's worker crashed ("query worker crashed"; it is replaced)
502    an allowed ``SERVICE`` endpoint failed
503    the query ran past the timeout (its worker killed), or the server is busy: the
       queue is full, or a query on the reserved worker ran past ``--express-timeout``
       (``Retry-After`` given)
=====  ==========================================================================

The default graph: unless the request names a dataset (``default-graph-uri``,
``named-graph-uri``) or the query does (``FROM``, ``FROM NAMED``), the default graph is the
store's default graph, which :func:`kg.store.prepare_store` makes the *set* union of all
graphs (a triple in two named graphs counts once; Oxigraph's
``use_default_graph_as_union`` would repeat it), and ``GRAPH ?g`` ranges over the named
graphs. A
protocol dataset replaces the query's, as the protocol requires; a dataset that names only
default graphs has no named graphs, and one that names only named graphs has an empty
default graph.
"""

from __future__ import annotations

import atexit
import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape as xml_escape
from xml.sax.saxutils import quoteattr

import pyoxigraph as ox

from kg.errors import ServeError
from kg.serve.workers import Busy, Pool, QueryTimeout, WorkerCrashed
from kg.sparql import Outline, outline
from kg.store import ServedStore

__all__ = [
    "ASK_TYPES",
    "CORS_HEADERS",
    "GRAPH_TYPES",
    "SELECT_TYPES",
    "Engine",
    "Job",
    "Operation",
    "ProtocolError",
    "QueryInfo",
    "Response",
    "analyse_query",
    "execute",
    "negotiate",
    "parse_accept",
    "parse_media_type",
    "parse_request",
    "serialize_graph",
    "serialize_solutions",
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

@dataclass(frozen=True, slots=True)
class QueryInfo:
    """What :func:`analyse_query` found: ``SERVICE`` targets (``None`` for one given by a
    variable) and whether the query has a ``FROM``/``FROM NAMED`` dataset clause."""

    services: tuple[str | None, ...]
    has_dataset: bool


def analyse_query(query: str) -> QueryInfo:
    """Find ``SERVICE`` targets (IRIs resolved against ``BASE`` and ``PREFIX``) and
    dataset clauses with the shared lexer (:mod:`kg.sparql`, linear time), so strings,
    IRIs and comments never match.

    It does not validate the query; the store's parser does that.
    """
    found = outline(query)
    return QueryInfo(found.services, found.has_dataset)


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


# --- the query engine -----------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Job:
    """A query for a worker process: the operation, the ``Accept`` header and the limits
    that the worker checks before the store sees the query."""

    query: str
    default_graphs: tuple[str, ...]
    named_graphs: tuple[str, ...]
    base_iri: str | None
    accept: str | None
    max_rows: int
    max_depth: int
    allowed_services: frozenset[str]


@dataclass(frozen=True, slots=True)
class _Outcome:
    form: str  # "solutions", "boolean", "graph"
    media: str | None  # None: nothing in Accept fits the form (406)
    body: bytes = b""
    truncated_at: int | None = None


#: What a worker returns: an outcome, or (status, message) for a refusal.
_Result = _Outcome | tuple[int, str]

_RESULT_FORMATS = {"json": ox.QueryResultsFormat.JSON, "xml": ox.QueryResultsFormat.XML,
                   "csv": ox.QueryResultsFormat.CSV, "tsv": ox.QueryResultsFormat.TSV}


def _services_refusal(services: Sequence[str | None], allowed: frozenset[str]) -> str | None:
    for target in services:
        if target is None:
            return "SERVICE with a variable endpoint is not allowed"
        if target not in allowed:
            listed = ", ".join(sorted(allowed)) or "none"
            return (f"federated SERVICE <{target}> is not allowed on this endpoint (allowed: "
                    f"{listed}; the server operator can add it with --allow-service URL)")
    return None


def execute(store: ox.Store, job: Job) -> _Result:
    """Run ``job`` on ``store`` (in a worker process) and serialise its results.

    Checks first, before the store's parser sees the query: the nesting depth (400 past
    ``job.max_depth``) and the ``SERVICE`` allow-list (400). Results are written by
    pyoxigraph wherever the row cap cannot apply: a SELECT gets a ``LIMIT`` of
    ``max_rows + 1`` (or keeps its own smaller one), pyoxigraph serialises it, and only
    when the cap did cut it are the first ``max_rows`` rows written again by
    :func:`serialize_solutions` with the truncation stated. CONSTRUCT/DESCRIBE triples are
    read up to the cap and written by pyoxigraph. Never raises: a refusal or failure is
    returned as ``(status, message)``.
    """
    found = outline(job.query)
    if found.depth > job.max_depth:
        return 400, (f"the query nests brackets {found.depth} deep, over this endpoint's "
                     f"limit of {job.max_depth} (kg serve --max-depth)")
    refusal = _services_refusal(found.services, job.allowed_services)
    if refusal is not None:
        return 400, refusal
    kwargs: dict[str, Any] = {"base_iri": job.base_iri}
    if job.default_graphs or job.named_graphs:
        kwargs["default_graph"] = [ox.NamedNode(iri) for iri in job.default_graphs]
        kwargs["named_graphs"] = [ox.NamedNode(iri) for iri in job.named_graphs]
    capped = _capped_select(job.query, found, job.max_rows)
    try:
        if capped is not None:
            try:
                outcome = _pyoxigraph_select(store.query(capped[0], **kwargs), job, capped[1])
            except SyntaxError:
                outcome = None  # our rewrite did not parse: the original decides below
            if outcome is not None:
                return outcome
        return _python_results(store.query(job.query, **kwargs), job)
    except SyntaxError as exc:
        return 400, f"query syntax error: {exc.msg or exc}"
    except OSError as exc:
        if found.services:
            return 502, f"a SERVICE endpoint failed: {exc}"
        return 500, f"query evaluation failed: {exc}"
    except (ValueError, RuntimeError) as exc:
        return 500, f"query evaluation failed: {exc}"
    except MemoryError:
        return 500, ("the query needed more memory than a query worker may use "
                     "(kg serve --worker-memory)")


def _capped_select(query: str, found: Outline, max_rows: int) -> tuple[str, bool] | None:
    """The SELECT query with a top-level LIMIT of at most ``max_rows + 1``, and whether
    its rows must be counted (``False``: its own LIMIT is within the cap); ``None`` if it
    is not a SELECT whose top level we found."""
    if found.form != "SELECT" or found.where_offset is None or found.update is not None:
        return None
    if found.limit is not None:
        value, start, end = found.limit
        if value <= max_rows:
            return query, False
        return query[:start] + str(max_rows + 1) + query[end:], True
    at = found.values_offset if found.values_offset is not None else len(query)
    return query[:at] + f"\nLIMIT {max_rows + 1}\n" + query[at:], True


def _pyoxigraph_select(result: Any, job: Job, count: bool) -> _Outcome | None:
    """pyoxigraph's serialisation of a SELECT (or ASK) result; ``None`` when the row cap
    cut it (or it cannot tell), for :func:`_python_results` to write instead."""
    if isinstance(result, ox.QueryBoolean):
        media = negotiate(job.accept, list(ASK_TYPES))
        if media is None:
            return _Outcome("boolean", None)
        return _Outcome("boolean", media,
                        result.serialize(format=_RESULT_FORMATS[ASK_TYPES[media]]) or b"")
    if not isinstance(result, ox.QuerySolutions):
        return None
    media = negotiate(job.accept, list(SELECT_TYPES))
    if media is None:
        return _Outcome("solutions", None)
    fmt = SELECT_TYPES[media]
    body = result.serialize(format=_RESULT_FORMATS[fmt]) or b""
    if count and _rows_over(body, fmt, job.max_rows):
        return None
    return _Outcome("solutions", media, body)


def _rows_over(body: bytes, fmt: str, max_rows: int) -> bool:
    """Whether a serialised result may hold more than ``max_rows`` rows (exact for XML and
    TSV, where a row mark cannot occur inside a value; an upper bound first for JSON and
    CSV, then a parse for JSON)."""
    if fmt == "xml":
        return body.count(b"<result>") > max_rows
    if fmt == "tsv":  # values escape their line breaks
        return body.count(b"\n") - 1 > max_rows
    if fmt == "csv":  # a quoted value may hold a line break: an upper bound
        return body.count(b"\n") - 1 > max_rows
    if body.count(b"{") <= max_rows:  # every row is an object: an upper bound
        return False
    rows: Any = ox.parse_query_results(body, format=ox.QueryResultsFormat.JSON)
    return sum(1 for _ in rows) > max_rows


def _python_results(result: Any, job: Job) -> _Outcome:
    """Results read in Python up to the row cap (triples written by pyoxigraph)."""
    if isinstance(result, ox.QueryBoolean):
        media = negotiate(job.accept, list(ASK_TYPES))
        if media is None:
            return _Outcome("boolean", None)
        return _Outcome("boolean", media,
                        result.serialize(format=_RESULT_FORMATS[ASK_TYPES[media]]) or b"")
    if isinstance(result, ox.QuerySolutions):
        media = negotiate(job.accept, list(SELECT_TYPES))
        if media is None:
            return _Outcome("solutions", None)
        variables = [v.value for v in result.variables]
        width = range(len(variables))
        rows, truncated = _take(result, job.max_rows, lambda s: [s[i] for i in width])
        return _Outcome("solutions", media,
                        serialize_solutions(variables, rows, SELECT_TYPES[media],
                                            truncated_at=truncated), truncated)
    media = negotiate(job.accept, list(GRAPH_TYPES))
    if media is None:
        return _Outcome("graph", None)
    triples, truncated = _take(result, job.max_rows, lambda t: t)
    return _Outcome("graph", media, serialize_graph(triples, media), truncated)


def _take(items: Iterable[Any], max_rows: int,
          convert: Callable[[Any], Any]) -> tuple[list[Any], int | None]:
    out: list[Any] = []
    for item in items:
        if len(out) == max_rows:
            return out, max_rows
        out.append(convert(item))
    return out, None


#: Cache key: query, default graphs, named graphs, base IRI.
_Key = tuple[str, tuple[str, ...], tuple[str, ...], str | None]
#: Bytes counted for a cache entry besides its query text and bodies.
_ENTRY_OVERHEAD = 512


@dataclass(slots=True)
class _Entry:
    form: str
    bodies: dict[str, _Outcome] = field(default_factory=dict)
    size: int = 0


class _Cache:
    """Answers by (query, dataset, base IRI), then by media type, least recently used
    first out, within ``limit`` bytes counting the query texts, the bodies and a fixed
    overhead per entry. A limit of 0 keeps nothing at all (not even a query's form)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.size = 0
        self._entries: OrderedDict[_Key, _Entry] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: _Key) -> tuple[str, dict[str, _Outcome]] | None:
        """The form and the answers kept for ``key`` (a copy), or ``None``."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            self._entries.move_to_end(key)
            return entry.form, dict(entry.bodies)

    def put(self, key: _Key, outcome: _Outcome) -> None:
        """Keep ``outcome`` (and its form) if it fits in a quarter of the limit."""
        grow = len(outcome.body) + (len(key[0]) + _ENTRY_OVERHEAD)
        if grow > self.limit // 4:
            return
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                entry = self._entries[key] = _Entry(outcome.form, size=grow - len(outcome.body))
                self.size += entry.size
            if outcome.media is not None and outcome.media not in entry.bodies:
                entry.bodies[outcome.media] = outcome
                entry.size += len(outcome.body)
                self.size += len(outcome.body)
            self._entries.move_to_end(key)
            while self.size > self.limit and self._entries:
                _, old = self._entries.popitem(last=False)
                self.size -= old.size


class Engine:
    """Runs queries in worker processes (:mod:`kg.serve.workers`) over a store prepared by
    :func:`kg.store.prepare_store`, which nobody writes to while the engine serves.

    Limits, each with the ``kg serve`` option that sets it and what a client sees:

    * ``max_length`` characters of query text (``--max-query-length``): longer is 400.
    * ``max_depth`` nesting of ``{ ( [`` (``--max-depth``): deeper is 400, checked before
      the store's parser sees the query (pyoxigraph's parser overflows its stack on a few
      thousand levels).
    * ``timeout`` seconds (``--timeout``): past it the query's worker is killed and
      replaced, and the answer is 503 with ``Retry-After``.
    * ``workers`` general and ``express`` reserved workers (``--workers``,
      ``--express-workers``), ``express_timeout`` seconds on a reserved worker
      (``--express-timeout``), ``queue`` waiting requests (``--queue``): a full queue is
      503 with ``Retry-After`` at once. A crashed worker is 500 ("query worker crashed").
    * ``worker_memory`` bytes of address space per worker (``--worker-memory``): a query
      that needs more fails, its worker is replaced (500).
    * ``max_rows`` rows of a SELECT or triples of a CONSTRUCT/DESCRIBE (``--max-rows``): a
      cut result is answered with ``X-Result-Truncated: true`` and ``X-Result-Limit`` and
      says so in its body (see :func:`serialize_solutions`).
    * ``allowed_services``: the only endpoints ``SERVICE`` may call (``--allow-service``).
    * ``cache_bytes`` (``--cache``): answers kept by (query, dataset, media type), counted
      in bytes with their query texts; the store is read-only, so they never go stale.
      Cached answers are served by the server process itself, without a worker.

    The default graph is the store's default graph, which :func:`kg.store.prepare_store`
    makes the set union of the named graphs (``union_default_graph`` says so in the
    service description). ``triples`` is its size, ``store`` a read-only handle on the
    store for the server's own queries.

    Raises :class:`OSError` if the store cannot be opened or the workers started.
    """

    union_default_graph = True

    def __init__(self, served: ServedStore, *, timeout: float = 30.0,
                 max_rows: int = 100_000, allowed_services: Sequence[str] = (),
                 workers: int = 2, express: int = 1, express_timeout: float = 0.5,
                 queue: int = 16, cache_bytes: int = 64 * 1024 * 1024,
                 max_length: int = 100_000, max_depth: int = 100,
                 worker_memory: int = 2048 * 1024 * 1024) -> None:
        self.served = served
        self.triples = served.triples
        self.store = ox.Store.read_only(str(served.path))
        self.timeout = timeout
        self.max_rows = max_rows
        self.max_length = max_length
        self.max_depth = max_depth
        self.allowed_services = frozenset(allowed_services)
        self.cache = _Cache(cache_bytes)
        self._closed = False
        self.pool = Pool(served.path, workers=workers, express=express,
                         express_timeout=express_timeout, queue=queue, memory=worker_memory)
        # An engine that nobody closes still removes its temporary store at exit.
        atexit.register(self.close)

    def close(self) -> None:
        """Kill the workers (whatever they run) and remove a temporary store folder."""
        if self._closed:
            return
        self._closed = True
        atexit.unregister(self.close)
        self.pool.close()
        self.served.remove()

    def run(self, op: Operation, accept: str | None) -> Response:
        """The HTTP answer to ``op`` (which must have a query) for this ``Accept`` header.

        Raises :class:`ProtocolError` (400, 406, 500, 502, 503) for a request it refuses
        or cannot answer (see the class docstring).
        """
        query = op.query
        if query is None:
            raise ProtocolError(400, "missing query parameter")
        if len(query) > self.max_length:
            raise ProtocolError(400, f"the query is {len(query)} characters long, over this "
                                     f"endpoint's limit of {self.max_length} "
                                     "(kg serve --max-query-length)")
        key: _Key = (query, op.default_graphs, op.named_graphs, op.base_iri)
        cached = self.cache.get(key)
        if cached is not None:
            form, bodies = cached
            media = negotiate(accept, list(_offers(form)))
            if media is None:
                raise _not_acceptable(form)
            if media in bodies:
                return _answer(bodies[media])
        job = Job(query, op.default_graphs, op.named_graphs, op.base_iri, accept,
                  self.max_rows, self.max_depth, self.allowed_services)
        try:
            result = self.pool.run(job, self.timeout)
        except Busy as exc:
            raise ProtocolError(503, f"the server is busy: {exc.reason}; retry later",
                                {"Retry-After": "5"}) from None
        except QueryTimeout as exc:
            if exc.express:
                raise ProtocolError(
                    503, "the server is busy: every query worker is taken and this query "
                         f"needs more than the {exc.seconds:g} s given to queries beside "
                         "them (kg serve --express-timeout); retry later",
                    {"Retry-After": "10"}) from None
            raise ProtocolError(503, f"the query ran longer than the {self.timeout:g} s "
                                     "timeout and was stopped (kg serve --timeout)",
                                {"Retry-After": "60"}) from None
        except WorkerCrashed:
            raise ProtocolError(500, "query worker crashed (the query was not answered, "
                                     "perhaps past the memory cap, kg serve "
                                     "--worker-memory; the worker was replaced)") from None
        if isinstance(result, tuple):
            status, message = result
            raise ProtocolError(status, message)
        self.cache.put(key, result)
        if result.media is None:
            raise _not_acceptable(result.form)
        return _answer(result)


def _answer(outcome: _Outcome) -> Response:
    assert outcome.media is not None
    headers = {}
    if outcome.truncated_at is not None:
        headers["X-Result-Truncated"] = "true"
        headers["X-Result-Limit"] = str(outcome.truncated_at)
    return Response(200, outcome.body, _content_type(outcome.media), headers)


def _offers(form: str) -> Iterable[str]:
    return {"solutions": SELECT_TYPES, "boolean": ASK_TYPES}.get(form, GRAPH_TYPES)


def _not_acceptable(form: str) -> ProtocolError:
    kind = {"solutions": "SELECT", "boolean": "ASK"}.get(form, "CONSTRUCT/DESCRIBE")
    return ProtocolError(406, f"no acceptable format for {kind} results; available: "
                              + ", ".join(_offers(form)))
