"""The HTTP server: the SPARQL endpoint, named queries, dumps, VoID and the web page.

The transport is :mod:`kg.serve.http` (strict HTTP/1.1, connection and per-client
limits); query work runs in :class:`~kg.serve.engine.Engine`.

Routes:

``/``                    the web page (``static/index.html``); ``/static/NAME`` its files
``/sparql``              SPARQL 1.1 Protocol; without a query, the Service Description
                         (a browser's GET with a query gets the page: :mod:`kg.serve.browser`)
``/queries``             the named queries as JSON (name, title, description, params, text)
``/queries/NAME``        runs a named query; its parameters are URL query parameters (a
                         browser's GET gets the page, which runs it)
``/dumps/``, ``/dumps/NAME``   the data files for download (JSON list, then each file)
``/.well-known/void``    the VoID description (``dist/void.ttl``, or generated)
``/api/info``            what the page shows about the dataset, as JSON
``/favicon.ico``         the page's icon (``static/favicon.svg``)
``/place/Q956`` & co.    every IRI the graph mints, and ``/ontology``: Linked Data,
                         kg.serve.linked_data (303 to ``.html``/``.ttl``/… documents)
"""

from __future__ import annotations

import json
import mimetypes
import os
import sys
import threading
import traceback
from dataclasses import replace
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import pyoxigraph as ox

from kg.errors import KGError, QueryError, ServeError
from kg.serve import browser, linked_data
from kg.serve.fairness import TooMany, client_name
from kg.serve.http import (
    DEFAULT_IDLE_TIMEOUT,
    DEFAULT_MAX_CONNECTIONS,
    SECURITY_HEADERS,
    SERVER_NAME,
    StrictHandler,
    StrictServer,
    check_public_url,
)
from kg.serve.limits import Limits
from kg.serve.protocol import (
    GRAPH_TYPES,
    Operation,
    ProtocolError,
    Response,
    negotiate,
    parse_request,
    serialize_graph,
)
from kg.serve.site import DEFAULT_MAX_BODY, Site, dataset_info, open_site, service_description

__all__ = [
    "DEFAULT_IDLE_TIMEOUT",
    "DEFAULT_MAX_BODY",
    "DEFAULT_MAX_CONNECTIONS",
    "SECURITY_HEADERS",
    "SERVER_NAME",
    "STATIC_DIR",
    "Site",
    "check_public_url",
    "dataset_info",
    "make_server",
    "open_site",
]

STATIC_DIR = Path(__file__).resolve().parent / "static"
_STATIC_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                 ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml",
                 ".png": "image/png", ".ico": "image/x-icon",
                 ".json": "application/json"}
_DUMP_TYPES = {".ttl": "text/turtle; charset=utf-8", ".nt": "application/n-triples",
               ".nq": "application/n-quads", ".trig": "application/trig",
               ".jsonld": "application/ld+json", ".json": "application/json",
               ".rdf": "application/rdf+xml", ".tsv": "text/tab-separated-values; charset=utf-8",
               ".csv": "text/csv; charset=utf-8", ".txt": "text/plain; charset=utf-8",
               ".md": "text/markdown; charset=utf-8", ".html": "text/html; charset=utf-8"}



# --- the request handler ----------------------------------------------------------------

class _Handler(StrictHandler):
    site: Site  # set on the subclass made by make_server
    server: _Server

    def _dispatch(self) -> None:
        try:
            response = self._route()
        except ProtocolError as exc:
            response = Response.error(exc)
        except KGError as exc:
            response = Response(400, f"{exc}\n".encode())
        except Exception:  # a bug: answer 500 and keep the traceback
            traceback.print_exc(file=sys.stderr)
            response = Response(500, b"internal server error\n")
        self._send(response)

    def _route(self) -> Response:
        parts = urlsplit(self.path)
        path = unquote(parts.path)
        body = self._body()
        if path in ("/sparql", "/sparql/"):
            op = parse_request(self.command, parts.query, self.headers.get("Content-Type"),
                               body)
            if op.query is None:
                if self.command == "POST":
                    raise ProtocolError(400, "missing query parameter")
                return self._description()
            if browser.wants_page(self.command, parts.query, self.headers.get("Accept")):
                # A browser following a link to a query: the page loads and runs it.
                return _static("index.html")
            op = replace(op, base_iri=self._base() + "/sparql")
            return self._run(op)
        if self.command == "POST":
            raise ProtocolError(405, "only /sparql accepts POST", {"Allow": "GET, HEAD"})
        if path in ("/", "/index.html"):
            return _static("index.html")
        if path.startswith("/static/"):
            return _static(path.removeprefix("/static/"))
        if path == "/api/info":
            return _json({**self.site.info, "dumps": self._dump_list(),
                          "endpoint": "/sparql", "void": "/.well-known/void"})
        if path in ("/queries", "/queries/"):
            return _json(self._query_list())
        if path.startswith("/queries/"):
            return self._named(path.removeprefix("/queries/"), parts.query)
        if path in ("/dumps", "/dumps/"):
            return _json(self._dump_list())
        if path.startswith("/dumps/"):
            return self._dump(path.removeprefix("/dumps/"))
        if path == "/.well-known/void":
            return self._void()
        if path == "/favicon.ico":
            return _static("favicon.svg")
        linked = linked_data.respond(self.site.engine.store, parts.path, parts.query,
                                   accept=self.headers.get("Accept"),
                                   accept_language=self.headers.get("Accept-Language"),
                                   # As served: this server's endpoint and dumps.
                                   void=self.server.void() if self.site.void else None)
        if linked is not None:
            return linked
        raise ProtocolError(404, f"nothing at {path}")

    def _description(self) -> Response:
        media = negotiate(self.headers.get("Accept"), list(GRAPH_TYPES))
        if media is None:
            raise ProtocolError(406, "the service description is available as "
                                + ", ".join(GRAPH_TYPES))
        triples = service_description(self._base() + "/sparql",
                                      union_default_graph=self.site.engine.union_default_graph,
                                      triples=self.site.engine.triples,
                                      void=self._base() + "/.well-known/void")
        return Response(200, serialize_graph(triples, media), _with_charset(media))

    def _void(self) -> Response:
        media = negotiate(self.headers.get("Accept"), list(GRAPH_TYPES))
        if media is None:
            raise ProtocolError(406, "VoID is available as " + ", ".join(GRAPH_TYPES))
        turtle = self.server.void()
        if media == "text/turtle":
            return Response(200, turtle, _with_charset(media))
        triples = [q.triple for q in ox.parse(turtle, format=ox.RdfFormat.TURTLE)]
        return Response(200, serialize_graph(triples, media), _with_charset(media))

    def _query_list(self) -> list[dict[str, Any]]:
        from kg.query import list_named

        if self.site.queries_dir is None or not self.site.queries_dir.is_dir():
            return []
        return [{"name": q.name, "title": q.title, "description": q.description,
                 "text": q.text,
                 "params": [{"name": p.name, "types": list(p.types), "default": p.default,
                             "required": p.required, "description": p.description}
                            for p in q.params]}
                for q in list_named(self.site.queries_dir)]

    def _named(self, name: str, query_string: str) -> Response:
        from kg.query import bind, load_named

        folder = self.site.queries_dir
        if folder is None or not (folder / f"{name}.rq").is_file() or "/" in name:
            raise ProtocolError(404, f"no named query {name!r} (list: /queries)")
        if browser.wants_named_page(self.command, query_string, self.headers.get("Accept")):
            return _static("index.html")  # a browser: the page fills it in and runs it
        pairs = parse_qsl(query_string, keep_blank_values=True)
        params: dict[str, str] = {}
        for key, value in pairs:
            if key in params:
                raise ProtocolError(400, f"parameter {key} given twice")
            params[key] = value
        try:
            text = bind(load_named(name, directory=folder), params)
        except QueryError as exc:
            raise ProtocolError(400, str(exc)) from exc
        return self._run(Operation(text, base_iri=self._base() + "/sparql"))

    def _run(self, op: Operation) -> Response:
        """The engine's answer, counted against this client's running queries."""
        client = client_name(str(self.client_address[0]), self.headers,
                             self.server.trusted_proxies)
        try:
            with self.server.client_queries.hold(client):
                return self.site.engine.run(op, self.headers.get("Accept"))
        except TooMany:
            raise ProtocolError(
                429, f"too many queries at once from {client}: at most "
                     f"{self.server.client_queries.limit} may run or wait per client "
                     "(kg serve --max-client-queries); retry later",
                {"Retry-After": "2"}) from None

    def _dump_list(self) -> list[dict[str, Any]]:
        return [{"name": name, "url": f"/dumps/{name}", "bytes": path.stat().st_size,
                 "type": _dump_type(path)}
                for name, path in sorted(self.site.dumps.items()) if path.is_file()]

    def _dump(self, name: str) -> Response:
        path = self.site.dumps.get(name)
        if path is None or not path.is_file():
            raise ProtocolError(404, f"no dump {name!r} (list: /dumps/)")
        try:
            handle = path.open("rb")
        except OSError as exc:
            raise ProtocolError(404, f"no dump {name!r} (list: /dumps/)") from exc
        return Response(200, b"", _dump_type(path), file=handle,
                        length=os.fstat(handle.fileno()).st_size)

def _with_charset(media: str) -> str:
    return f"{media}; charset=utf-8" if media.startswith("text/") else media


def _dump_type(path: Path) -> str:
    return _DUMP_TYPES.get(path.suffix.lower()) or (
        mimetypes.guess_type(path.name)[0] or "application/octet-stream")


def _json(value: Any) -> Response:
    return Response(200, json.dumps(value, ensure_ascii=False).encode("utf-8"),
                    "application/json")


_STATIC_CACHE: dict[str, bytes] = {}
_STATIC_LOCK = threading.Lock()


def _static(name: str) -> Response:
    suffix = Path(name).suffix
    parts = name.split("/")
    # One level of folders only, the vendored libraries (static/vendor/NAME); no dot files.
    if (len(parts) > 2 or (len(parts) == 2 and parts[0] != "vendor")
            or any(p.startswith(".") or not p for p in parts) or suffix not in _STATIC_TYPES):
        raise ProtocolError(404, f"no page file {name!r}")
    with _STATIC_LOCK:
        data = _STATIC_CACHE.get(name)
        if data is None:
            path = STATIC_DIR / name
            if not path.is_file():
                raise ProtocolError(404, f"no page file {name!r}")
            data = _STATIC_CACHE[name] = path.read_bytes()
    return Response(200, data, _STATIC_TYPES[suffix],
                    headers={"Cache-Control": "no-cache"})


class _Server(StrictServer):
    """The strict server (:class:`~kg.serve.http.StrictServer`) with the site it serves."""

    def __init__(self, address: tuple[str, int], handler: type[_Handler], *, site: Site,
                 limits: Limits, public_url: str | None) -> None:
        super().__init__(address, handler, limits=limits, public_url=public_url)
        self.site = site
        self._void: bytes | None = None
        self._void_lock = threading.Lock()

    def void(self) -> bytes:
        """The VoID description served, made once for the public URL."""
        with self._void_lock:
            if self._void is None:
                self._void = self.site.void_turtle(self.public_url)
            return self._void


def make_server(site: Site, *, host: str = "127.0.0.1", port: int = 8000,
                public_url: str | None = None,
                max_connections: int | None = None,
                idle_timeout: float | None = None) -> ThreadingHTTPServer:
    """A server for ``site`` bound to ``host:port`` (port 0: any free port; read it from
    ``server.server_address``). Call ``serve_forever()`` on it, ``shutdown()`` to stop.

    ``public_url`` is the address clients reach it at, named in the VoID description, the
    service description and query base IRIs (default: ``http://HOST:PORT`` as bound).
    At most ``max_connections`` connections are served at once (more get 503 and are
    closed); a connection idle for ``idle_timeout`` seconds, or taking longer than that to
    send one request, is closed (both default to the site's limits,
    :class:`~kg.serve.limits.Limits`, as do the per-client limits).

    Raises :class:`ServeError` if the address cannot be bound (port in use, bad host) or an
    option is out of range.
    """
    max_connections = max_connections or site.engine.limits.max_connections
    idle_timeout = idle_timeout or site.engine.limits.idle_timeout
    if max_connections < 1 or idle_timeout <= 0:
        raise ServeError("--max-connections and --idle-timeout must be positive")
    checked = None if public_url is None else check_public_url(public_url)
    handler = type("Handler", (_Handler,), {"site": site})
    limits = replace(site.engine.limits, max_connections=max_connections,
                     idle_timeout=idle_timeout, max_body=site.max_body)
    try:
        return _Server((host, port), handler, site=site, limits=limits, public_url=checked)
    except OSError as exc:
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
