"""The HTTP server: the SPARQL endpoint, named queries, dumps, VoID and the web page.

Built on the standard library's :class:`~http.server.ThreadingHTTPServer` (one thread per
connection, HTTP/1.1 keep-alive, Nagle off): measured on 500 keep-alive requests it served
as many requests per second as uvicorn (h11) with a bare ASGI app, and it adds no runtime
dependency. Query work runs in :class:`~kg.serve.protocol.Engine`'s worker pool.

Routes:

``/``                    the web page (``static/index.html``); ``/static/NAME`` its files
``/sparql``              SPARQL 1.1 Protocol; without a query, the Service Description
``/queries``             the named queries as JSON (name, title, description, params, text)
``/queries/NAME``        runs a named query; its parameters are URL query parameters
``/dumps/``, ``/dumps/NAME``   the data files for download (JSON list, then each file)
``/.well-known/void``    the VoID description (``dist/void.ttl``, or generated)
``/api/info``            what the page shows about the dataset, as JSON
"""

from __future__ import annotations

import json
import mimetypes
import sys
import threading
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import pyoxigraph as ox

from kg.errors import KGError, QueryError, ServeError
from kg.serve.protocol import (
    CORS_HEADERS,
    GRAPH_TYPES,
    Engine,
    Operation,
    ProtocolError,
    Response,
    negotiate,
    parse_request,
    serialize_graph,
    service_description,
)

__all__ = [
    "DEFAULT_MAX_BODY",
    "STATIC_DIR",
    "Site",
    "dataset_info",
    "ensure_built",
    "make_server",
    "open_site",
]

STATIC_DIR = Path(__file__).resolve().parent / "static"
#: Largest request body accepted (bytes); larger ones get 413.
DEFAULT_MAX_BODY = 1024 * 1024
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
_WIKIDATA = "http://www.wikidata.org/entity/"

#: Inputs of the build: dist/ older than any of them is rebuilt before serving.
_BUILD_INPUTS_GLOBS = ("seeds/*", "ontology.ttl", "shapes/*")


# --- preparing what to serve ----------------------------------------------------------------

def _newest_input(root: Path) -> float:
    newest = 0.0
    for pattern in _BUILD_INPUTS_GLOBS:
        for path in root.glob(pattern):
            if path.is_file():
                newest = max(newest, path.stat().st_mtime)
    return newest


def ensure_built(dist: Path, *, root: Path, build: bool = True) -> Path:
    """The built graph ``dist/twinning.trig``, building ``dist`` first (with
    :mod:`kg.build`) if it is missing or older than the seeds, links table, ontology or
    shapes under ``root``.

    Raises :class:`ServeError` if the graph is missing and ``build`` is false, and whatever
    the build raises (a :class:`~kg.errors.KGError`) if building fails.
    """
    trig = dist / "twinning.trig"
    stale = not trig.is_file() or trig.stat().st_mtime < _newest_input(root)
    if stale and build:
        # Lazily: serving given files needs none of the build.
        from kg.build import build as build_graph

        print(f"kg serve: building {dist} (missing or older than its inputs)", file=sys.stderr)
        build_graph(out=dist)
    if not trig.is_file():
        raise ServeError("no built graph (run `kg build`, or drop --no-build)", path=trig)
    return trig


@dataclass
class Site:
    """Everything the server serves: the query engine, the dumps, VoID, the page data."""

    engine: Engine
    dumps: dict[str, Path] = field(default_factory=dict)
    void: bytes | None = None  # a Turtle document, or None to generate one per host
    queries_dir: Path | None = None
    max_body: int = DEFAULT_MAX_BODY
    info: dict[str, Any] = field(default_factory=dict)
    _generated_void: dict[str, bytes] = field(default_factory=dict)

    def void_turtle(self, base: str) -> bytes:
        """The VoID description: the given one, or one generated for ``base`` (the
        server's own URL, so its IRIs resolve)."""
        if self.void is not None:
            return self.void
        cached = self._generated_void.get(base)
        if cached is None:
            cached = serialize_graph(_void_triples(self, base), "text/turtle")
            self._generated_void[base] = cached
        return cached


def _void_triples(site: Site, base: str) -> list[ox.Triple]:
    void = "http://rdfs.org/ns/void#"
    dataset = ox.NamedNode(base + "/.well-known/void#dataset")
    rdf_type = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    integer = ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")
    out = [
        ox.Triple(dataset, rdf_type, ox.NamedNode(void + "Dataset")),
        ox.Triple(dataset, ox.NamedNode(void + "sparqlEndpoint"), ox.NamedNode(base + "/sparql")),
        ox.Triple(dataset, ox.NamedNode(void + "triples"),
                  ox.Literal(str(len(site.engine.store)), datatype=integer)),
    ]
    for name in sorted(site.dumps):
        out.append(ox.Triple(dataset, ox.NamedNode(void + "dataDump"),
                             ox.NamedNode(f"{base}/dumps/{name}")))
    return out


def _values(store: ox.Store, query: str, **kwargs: Any) -> list[dict[str, str]]:
    rows = []
    result: Any = store.query(query, **kwargs)
    for solution in result:
        rows.append({v.value: solution[v].value for v in result.variables
                     if solution[v] is not None})
    return rows


def dataset_info(store: ox.Store, void: bytes | None, *, title: str) -> dict[str, Any]:
    """What the web page says about the data: title, description, licence, sources and
    dates from the VoID description (when there is one) and counts from the store."""
    info: dict[str, Any] = {"title": title, "description": "", "license": "", "sources": [],
                            "modified": "", "created": "", "classes": []}
    if void is not None:
        meta = ox.Store()
        meta.load(void, format=ox.RdfFormat.TURTLE)
        rows = _values(meta, """
            PREFIX void: <http://rdfs.org/ns/void#>
            PREFIX dcterms: <http://purl.org/dc/terms/>
            SELECT ?p ?o WHERE {
              { SELECT ?d WHERE { ?d a void:Dataset . FILTER NOT EXISTS { ?x void:subset ?d } }
                LIMIT 1 }
              ?d ?p ?o
              FILTER(!isLiteral(?o) || lang(?o) = "" || langMatches(lang(?o), "en"))
            }""")
        names = {"http://purl.org/dc/terms/title": "title",
                 "http://purl.org/dc/terms/description": "description",
                 "http://purl.org/dc/terms/license": "license",
                 "http://purl.org/dc/terms/modified": "modified",
                 "http://purl.org/dc/terms/created": "created",
                 "http://purl.org/dc/terms/issued": "created"}
        for row in rows:
            key = names.get(row["p"])
            if key:
                info[key] = row["o"]
            elif row["p"] in ("http://purl.org/dc/terms/source",
                              "http://www.w3.org/ns/prov#wasDerivedFrom"):
                info["sources"].append(row["o"])
        info["sources"].sort()
    info["triples"] = len(store)
    info["graphs"] = sum(1 for _ in store.named_graphs())
    counted = _values(store, f"""SELECT (COUNT(DISTINCT ?o) AS ?n) WHERE {{
        ?s ?p ?o FILTER(isIRI(?o) && STRSTARTS(STR(?o), "{_WIKIDATA}Q")) }}""",
                      use_default_graph_as_union=True)
    info["wikidata_entities"] = int(counted[0]["n"]) if counted else 0
    info["classes"] = [
        {"class": row["c"], "count": int(row["n"])}
        for row in _values(store, """SELECT ?c (COUNT(DISTINCT ?s) AS ?n)
            WHERE { ?s a ?c } GROUP BY ?c ORDER BY DESC(?n) ?c LIMIT 12""",
                           use_default_graph_as_union=True)
    ]
    return info


def open_site(files: Sequence[Path], *, store_location: Path | None = None,
              void: Path | None = None, dumps: Sequence[Path] = (),
              queries_dir: Path | None = None, timeout: float = 30.0,
              max_rows: int = 100_000, allowed_services: Sequence[str] = (),
              max_body: int = DEFAULT_MAX_BODY, title: str = "RDF data",
              cache_bytes: int = 64 * 1024 * 1024) -> Site:
    """Load ``files`` (see :mod:`kg.store`) and prepare what the server serves.

    Raises :class:`~kg.errors.StoreError` for bad data and :class:`ServeError` for an
    unreadable VoID file.
    """
    from kg.store import load_store

    store = load_store(files, location=store_location)
    void_bytes = None
    if void is not None:
        try:
            void_bytes = void.read_bytes()
        except OSError as exc:
            raise ServeError(f"cannot read the VoID description: {exc}", path=void) from exc
    engine = Engine(store, timeout=timeout, max_rows=max_rows,
                    allowed_services=allowed_services, cache_bytes=cache_bytes)
    site = Site(engine, dumps={p.name: p for p in dumps}, void=void_bytes,
                queries_dir=queries_dir, max_body=max_body)
    try:
        site.info = dataset_info(store, void_bytes, title=title)
    except SyntaxError as exc:
        raise ServeError(f"bad VoID description: {exc}", path=void) from exc
    return site


# --- the request handler ----------------------------------------------------------------

class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "kg-serve"
    disable_nagle_algorithm = True  # a response is one write; no 40 ms delayed-ACK stalls
    timeout = 120  # seconds a keep-alive connection may idle
    site: Site  # set on the subclass made by make_server

    # Methods other than these get 405, not the standard library's 501.
    _METHODS = frozenset({"GET", "HEAD", "POST", "OPTIONS"})

    def parse_request(self) -> bool:
        ok = super().parse_request()
        if ok and self.command not in self._METHODS:
            self.refused_method = self.command
            self.command = "REFUSED"
        return ok

    def do_REFUSED(self) -> None:
        self._send(Response(405, f"method {self.refused_method} is not allowed\n".encode(),
                            headers={"Allow": "GET, HEAD, POST, OPTIONS"}))

    def do_GET(self) -> None:
        self._dispatch()

    def do_HEAD(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_OPTIONS(self) -> None:
        # CORS preflight: any origin may query (the endpoint is public and read-only).
        self._send(Response(204, b"", headers={
            "Allow": "GET, HEAD, POST, OPTIONS",
            "Access-Control-Allow-Methods": "GET, HEAD, POST, OPTIONS",
            "Access-Control-Allow-Headers": "Content-Type, Accept",
            "Access-Control-Max-Age": "86400",
        }))

    def log_message(self, format: str, *args: Any) -> None:
        pass  # no access log: it would cost throughput; errors are logged in _dispatch

    def _base(self) -> str:
        host = self.headers.get("Host")
        if not host:
            address: Any = self.server.server_address
            host = f"{address[0]}:{address[1]}"
        return f"http://{host}"

    def _body(self) -> bytes:
        if self.command != "POST":
            return b""
        if self.headers.get("Transfer-Encoding"):
            raise ProtocolError(411, "send the body with a Content-Length, not chunked")
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError as exc:
            raise ProtocolError(400, "malformed Content-Length") from exc
        if length > self.site.max_body:
            self.close_connection = True  # the unread body must not be parsed as a request
            raise ProtocolError(413, f"request body of {length} bytes is over the "
                                     f"{self.site.max_body}-byte limit")
        return self.rfile.read(length) if length > 0 else b""

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
            op = replace(op, base_iri=self._base() + "/sparql")
            return self.site.engine.run(op, self.headers.get("Accept"))
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
        raise ProtocolError(404, f"nothing at {path}")

    def _description(self) -> Response:
        media = negotiate(self.headers.get("Accept"), list(GRAPH_TYPES))
        if media is None:
            raise ProtocolError(406, "the service description is available as "
                                + ", ".join(GRAPH_TYPES))
        triples = service_description(self._base() + "/sparql",
                                      union_default_graph=self.site.engine.union_default_graph,
                                      triples=len(self.site.engine.store),
                                      void=self._base() + "/.well-known/void")
        return Response(200, serialize_graph(triples, media), _with_charset(media))

    def _void(self) -> Response:
        media = negotiate(self.headers.get("Accept"), list(GRAPH_TYPES))
        if media is None:
            raise ProtocolError(406, "VoID is available as " + ", ".join(GRAPH_TYPES))
        turtle = self.site.void_turtle(self._base())
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
        return self.site.engine.run(Operation(text, base_iri=self._base() + "/sparql"),
                                    self.headers.get("Accept"))

    def _dump_list(self) -> list[dict[str, Any]]:
        return [{"name": name, "url": f"/dumps/{name}", "bytes": path.stat().st_size,
                 "type": _dump_type(path)}
                for name, path in sorted(self.site.dumps.items()) if path.is_file()]

    def _dump(self, name: str) -> Response:
        path = self.site.dumps.get(name)
        if path is None or not path.is_file():
            raise ProtocolError(404, f"no dump {name!r} (list: /dumps/)")
        return Response(200, path.read_bytes(), _dump_type(path))

    def _send(self, response: Response) -> None:
        self.send_response(response.status)
        headers = {**CORS_HEADERS, **response.headers}
        if response.status != 204:
            headers["Content-Type"] = response.content_type
            headers["Content-Length"] = str(len(response.body))
        if response.status in (200, 406) and self.path.startswith(("/sparql", "/queries/")):
            headers["Vary"] = "Accept"
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD" and response.status != 204:
            self.wfile.write(response.body)


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


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


def make_server(site: Site, *, host: str = "127.0.0.1", port: int = 8000) -> ThreadingHTTPServer:
    """A server for ``site`` bound to ``host:port`` (port 0: any free port; read it from
    ``server.server_address``). Call ``serve_forever()`` on it, ``shutdown()`` to stop.

    Raises :class:`ServeError` if the address cannot be bound (port in use, bad host).
    """
    handler = type("Handler", (_Handler,), {"site": site})
    try:
        return _Server((host, port), handler)
    except OSError as exc:
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
