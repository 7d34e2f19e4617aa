"""The SPARQL 1.1 Protocol, independent of any HTTP framework.

* :func:`parse_request` turns a method, query string, ``Content-Type`` and body into an
  :class:`Operation` (query text and protocol dataset) or raises :class:`ProtocolError`
  carrying the HTTP status to answer.
* :class:`Response` is an answer: status, headers, and a body in memory or a file to
  stream (a long query answer, :mod:`kg.serve.execute`).

Content negotiation is :mod:`kg.serve.formats`; running queries :mod:`kg.serve.engine`.

Statuses (also in the README):

=====  ==========================================================================
200    a result (``X-Result-Truncated: true`` if the row cap cut it)
400    bad query syntax, missing query, ``query`` given twice, query *and* update,
       bad ``default-graph-uri``/``named-graph-uri``, body not UTF-8, a ``SERVICE``
       to an endpoint that is not allowed, a query longer than ``--max-query-length``,
       nested deeper than ``--max-depth`` or chaining more operators than
       ``--max-chain`` (the message names the limit)
403    SPARQL Update in any form (``update=``, ``application/sparql-update``): read-only
405    a method other than GET, HEAD, POST, OPTIONS (``Allow`` header given)
406    no result format the ``Accept`` header allows
413    request body larger than the limit
415    POST with a ``Content-Type`` other than form or ``application/sparql-query``, or a
       charset other than UTF-8
500    the query's worker crashed ("query worker crashed"; it is replaced)
502    an allowed ``SERVICE`` endpoint failed
503    the query ran past the timeout (its worker killed), or the server is busy: the
       queue is full, or no worker came free before the timeout (``Retry-After`` given)
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

from dataclasses import dataclass, field
from typing import IO
from urllib.parse import parse_qsl

import pyoxigraph as ox

from kg.errors import ServeError

# Kept importable from here for the modules that still do (kg.serve.resources, app).
from kg.serve.formats import GRAPH_TYPES, negotiate, parse_media_type
from kg.serve.results import serialize_graph
from kg.sparql import outline

__all__ = [
    "CORS_HEADERS",
    "GRAPH_TYPES",
    "Operation",
    "ProtocolError",
    "QueryInfo",
    "Response",
    "analyse_query",
    "negotiate",
    "parse_request",
    "serialize_graph",
]

#: Headers every response carries (CORS: the endpoint is public and read-only).
CORS_HEADERS: dict[str, str] = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "X-Result-Truncated, X-Result-Limit, "
                                     "X-Result-Bytes-Limit, Content-Length",
}


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
    """An HTTP answer: status, body, content type and extra headers; or, when ``file`` is
    given, ``length`` bytes to stream from it (the sender closes it)."""

    status: int
    body: bytes
    content_type: str = "text/plain; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    file: IO[bytes] | None = None
    length: int | None = None

    @classmethod
    def error(cls, exc: ProtocolError) -> Response:
        """The plain-text answer to ``exc``."""
        return cls(exc.status, (exc.message + "\n").encode("utf-8"),
                   headers=dict(exc.headers))


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


