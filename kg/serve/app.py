"""The HTTP server: the SPARQL endpoint, named queries, dumps, VoID and the web page.

Built on the standard library's :class:`~http.server.ThreadingHTTPServer`, made strict for a
public endpoint (issue 9): exactly one ``Content-Length`` of digits, ``Transfer-Encoding``
refused (411/501), header names that are tokens and values without folding or control
characters, one valid ``Host`` in HTTP/1.1, HTTP/0.9 refused; after any refusal, and
whenever a request body is left unread, the connection is closed, so no byte of one request
can be read as another (request smuggling). At most ``max_connections`` connections get a
thread; past it a new connection takes the slot of the oldest idle one (closed), or, with
none idle, gets 503 and is closed by the accepting thread, so idle sockets can neither make
threads without bound nor keep other clients out. Each request must arrive whole within
``idle_timeout`` of its first byte, and its first byte within ``idle_timeout`` of the
previous answer (slowloris); writes time out per 64 KiB chunk. Every answer carries
``nosniff``, a Content-Security-Policy (``default-src 'self'; frame-ancestors 'none'``…) and
``Server: kg-serve`` (no Python version). The public URL (``--public-url``, default the
listening address) names the endpoint in VoID, the service description and base IRIs; the
``Host`` header is only checked, never used.

Why not an ASGI server: measured by ``bench/http_base.py`` (keep-alive GETs of a static
file, 4 clients, 10 s, 2 shared cores, 2026-11-29) this server answered 806, 966 and 835
req/s in three runs against 456, 470 and 559 for uvicorn 0.54 with h11 and a bare ASGI app
(httptools is not installed), and uvicorn would still need most of the checks above: h11
accepts two equal ``Content-Length`` headers, does not check ``Host``, and uvicorn sets no
deadline on a request's head once its first bytes arrived (only a keep-alive timer), while
every query would cross from the event loop to a thread. So the standard library stays, with
about 150 lines of checks that the tests in ``tests/serve/test_http_strict.py`` hold it to.
Query work runs in :class:`~kg.serve.protocol.Engine`.

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
                         :mod:`kg.serve.resources` (303 to ``.html``/``.ttl``/… documents)
"""

from __future__ import annotations

import contextlib
import io
import json
import mimetypes
import re
import socket
import sys
import threading
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import pyoxigraph as ox

from kg.errors import KGError, QueryError, ServeError
from kg.serve import browser, resources
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
    "DEFAULT_IDLE_TIMEOUT",
    "DEFAULT_MAX_BODY",
    "DEFAULT_MAX_CONNECTIONS",
    "SECURITY_HEADERS",
    "SERVER_NAME",
    "STATIC_DIR",
    "Site",
    "check_public_url",
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


# --- preparing what to serve ----------------------------------------------------------------

def ensure_built(dist: Path, *, root: Path, build: bool = True) -> Path:
    """The built graph ``dist/twinning.trig``, building ``dist`` first (with
    :mod:`kg.build`) unless its build manifest says it was built, complete, from the
    current seeds, corrections, links table, ontology and shapes under ``root``
    (:func:`kg.manifest.is_current`).

    Raises :class:`ServeError` if the graph is missing and ``build`` is false, and whatever
    the build raises (a :class:`~kg.errors.KGError`) if building fails, e.g. when ``dist``
    holds files no build wrote (the build replaces only a previous build).
    """
    from kg.manifest import BuildInputs, is_current

    trig = dist / "twinning.trig"
    inputs = BuildInputs.under(root)
    if build and not (trig.is_file() and is_current(dist, inputs)):
        # Lazily: serving given files needs none of the build.
        from kg.build import build as build_graph

        print(f"kg serve: building {dist} (missing, or not built from the current inputs)",
              file=sys.stderr)
        build_graph(out=dist, seeds=inputs.seeds, links_path=inputs.links,
                    ontology=inputs.ontology, shapes_dir=inputs.shapes_dir)
    if not trig.is_file():
        raise ServeError("no built graph (run `kg build`, or drop --no-build)", path=trig)
    return trig


@dataclass
class Site:
    """Everything the server serves: the query engine, the dumps, VoID, the page data."""

    engine: Engine
    dumps: dict[str, Path] = field(default_factory=dict)
    void: bytes | None = None  # a Turtle document, or None to generate one
    queries_dir: Path | None = None
    max_body: int = DEFAULT_MAX_BODY
    info: dict[str, Any] = field(default_factory=dict)

    def void_turtle(self, base: str) -> bytes:
        """The VoID description for a server at ``base`` (its public URL): the given one
        with its SPARQL endpoint and dump IRIs replaced by those this server answers at,
        or one generated. Nothing is cached here: the server makes it once."""
        if self.void is not None:
            return _rebased_void(self.void, base, set(self.dumps))
        return serialize_graph(_void_triples(self, base), "text/turtle")


_VOID = "http://rdfs.org/ns/void#"
_DOWNLOAD_PREDICATES = (_VOID + "dataDump", "http://www.w3.org/ns/dcat#downloadURL")


def _rebased_void(void: bytes, base: str, served: set[str]) -> bytes:
    """``void`` (Turtle) announcing this server: every IRI that is a ``void:sparqlEndpoint``
    becomes ``BASE/sparql`` wherever it occurs; a ``void:dataDump`` or ``dcat:downloadURL``
    becomes ``BASE/dumps/NAME`` when NAME (its last path segment) is served, and is dropped
    when it is not. Without any endpoint, the top datasets get one."""
    parser = ox.parse(void, format=ox.RdfFormat.TURTLE)
    triples = [q.triple for q in parser]
    endpoint_p = ox.NamedNode(_VOID + "sparqlEndpoint")
    endpoint = ox.NamedNode(base + "/sparql")
    old_endpoints = {t.object for t in triples if t.predicate == endpoint_p}

    def swap(term: Any) -> Any:
        return endpoint if term in old_endpoints else term

    out: list[ox.Triple] = []
    for t in triples:
        obj = t.object
        if t.predicate.value in _DOWNLOAD_PREDICATES and isinstance(obj, ox.NamedNode):
            name = obj.value.rstrip("/").rsplit("/", 1)[-1]
            if name not in served:
                continue
            obj = ox.NamedNode(f"{base}/dumps/{name}")
        out.append(ox.Triple(swap(t.subject), t.predicate, swap(obj)))
    if not old_endpoints:
        rdf_type = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
        subsets = {t.object for t in triples if t.predicate.value == _VOID + "subset"}
        for t in triples:
            if (t.predicate == rdf_type and t.object.value == _VOID + "Dataset"
                    and t.subject not in subsets):
                out.append(ox.Triple(t.subject, endpoint_p, endpoint))
    return ox.serialize(list(dict.fromkeys(out)), format=ox.RdfFormat.TURTLE,
                        prefixes=parser.prefixes) or b""


def _void_triples(site: Site, base: str) -> list[ox.Triple]:
    void = "http://rdfs.org/ns/void#"
    dataset = ox.NamedNode(base + "/.well-known/void#dataset")
    rdf_type = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    integer = ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")
    out = [
        ox.Triple(dataset, rdf_type, ox.NamedNode(void + "Dataset")),
        ox.Triple(dataset, ox.NamedNode(void + "sparqlEndpoint"), ox.NamedNode(base + "/sparql")),
        ox.Triple(dataset, ox.NamedNode(void + "triples"),
                  ox.Literal(str(site.engine.triples), datatype=integer)),
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


def dataset_info(store: ox.Store, void: bytes | None, *, title: str,
                 built: str = "") -> dict[str, Any]:
    """What the web page says about the data, from the VoID description (when there is
    one) and the store: title and description in every language the VoID gives
    (``titles``, ``descriptions``; ``title``/``description`` the English or untagged
    ones), licence, the sources of the dataset and of its subsets (``sources``, IRIs, and
    ``source_details`` with their titles and files from the store), ``modified``/``created``
    from the VoID, ``built`` (given: the build's file time) for a VoID without dates,
    ``uri_space`` (the base of the data IRIs), counts, and the classes with their prefixed
    names and labels."""
    info: dict[str, Any] = {"title": title, "description": "", "license": "", "sources": [],
                            "modified": "", "created": "", "built": built, "classes": [],
                            "titles": {}, "descriptions": {}, "source_details": [],
                            "uri_space": resources.uri_space(void)}
    if void is not None:
        meta = ox.Store()
        meta.load(void, format=ox.RdfFormat.TURTLE)
        # The main dataset: no other's subset, the most triples (not the Wikidata target).
        rows = _values(meta, """
            PREFIX void: <http://rdfs.org/ns/void#>
            PREFIX dcterms: <http://purl.org/dc/terms/>
            PREFIX prov: <http://www.w3.org/ns/prov#>
            SELECT ?p ?o ?lang WHERE {
              { SELECT ?d WHERE { ?d a void:Dataset . FILTER NOT EXISTS { ?x void:subset ?d }
                                  OPTIONAL { ?d void:triples ?t } }
                ORDER BY DESC(COALESCE(?t, -1)) ?d LIMIT 1 }
              { ?d ?p ?o } UNION {
                ?d void:subset+ ?sub . ?sub ?p ?o
                FILTER(?p IN (dcterms:source, prov:wasDerivedFrom)) }
              BIND(LANG(?o) AS ?lang)
            }""")
        names = {"http://purl.org/dc/terms/title": "title",
                 "http://purl.org/dc/terms/description": "description",
                 "http://purl.org/dc/terms/license": "license",
                 "http://purl.org/dc/terms/modified": "modified",
                 "http://purl.org/dc/terms/created": "created",
                 "http://purl.org/dc/terms/issued": "created"}
        sources: set[str] = set()
        for row in rows:
            key = names.get(row["p"])
            lang = row.get("lang", "")
            if key in ("title", "description"):
                info[key + "s"].setdefault(lang, row["o"])
                if lang in ("", "en"):
                    info[key] = row["o"]
            elif key:
                info[key] = row["o"]
            elif row["p"] in ("http://purl.org/dc/terms/source",
                              "http://www.w3.org/ns/prov#wasDerivedFrom"):
                sources.add(row["o"])
        info["sources"] = sorted(sources)
        for key in ("title", "description"):
            if not info[key] and info[key + "s"]:
                info[key] = next(iter(sorted(info[key + "s"].items())))[1]
    info["source_details"] = [_source_detail(store, iri, info["uri_space"])
                              for iri in info["sources"]]
    info["triples"] = len(store)
    info["graphs"] = sum(1 for _ in store.named_graphs())
    counted = _values(store, f"""SELECT (COUNT(DISTINCT ?o) AS ?n) WHERE {{
        ?s ?p ?o FILTER(isIRI(?o) && STRSTARTS(STR(?o), "{_WIKIDATA}Q")) }}""",
                      )
    info["wikidata_entities"] = int(counted[0]["n"]) if counted else 0
    info["classes"] = [
        {"class": row["c"], "count": int(row["n"]), "curie": resources.curie(row["c"]),
         "labels": resources.term_labels(row["c"], store)}
        for row in _values(store, """SELECT ?c (COUNT(DISTINCT ?s) AS ?n)
            WHERE { ?s a ?c } GROUP BY ?c ORDER BY DESC(?n) ?c LIMIT 12""")
    ]
    return info


def _source_detail(store: ox.Store, iri: str, base: str) -> dict[str, Any]:
    # A source's titles and file name from the graph; its local page if it is ours.
    titles: dict[str, str] = {}
    files: list[str] = []
    if iri.startswith(("http://", "https://")):
        node = ox.NamedNode(iri)
        for quad in store.quads_for_pattern(node, None, None, None):
            obj = quad.object
            if not isinstance(obj, ox.Literal):
                continue
            if quad.predicate.value == "http://purl.org/dc/terms/title":
                titles.setdefault(obj.language or "", obj.value)
            elif quad.predicate.value == "http://purl.org/dc/terms/identifier":
                files.append(obj.value)
    href = "/" + iri[len(base):] if iri.startswith(base) else iri
    return {"iri": iri, "href": href, "titles": titles, "file": min(files, default="")}


def open_site(files: Sequence[Path], *, store_location: Path | None = None,
              void: Path | None = None, dumps: Sequence[Path] = (),
              queries_dir: Path | None = None, timeout: float = 30.0,
              max_rows: int = 100_000, allowed_services: Sequence[str] = (),
              max_body: int = DEFAULT_MAX_BODY, title: str = "RDF data",
              cache_bytes: int = 64 * 1024 * 1024, workers: int = 2,
              express_workers: int = 1, express_timeout: float = 0.5, queue: int = 16,
              max_query_length: int = 100_000, max_depth: int = 100,
              worker_memory: int = 2048 * 1024 * 1024) -> Site:
    """Load ``files`` into an on-disk store (:func:`kg.store.prepare_store`: in
    ``store_location``, reused when it was made from the same files, or in a temporary
    folder removed by ``site.engine.close()``), start the query workers
    (:class:`~kg.serve.protocol.Engine`, which documents the limits) and prepare what the
    server serves.

    Raises :class:`~kg.errors.StoreError` for bad data or a store folder that is not
    ours to write, and :class:`ServeError` for an unreadable VoID file or workers that
    cannot start.
    """
    from kg.store import prepare_store

    void_bytes = None
    if void is not None:
        try:
            void_bytes = void.read_bytes()
        except OSError as exc:
            raise ServeError(f"cannot read the VoID description: {exc}", path=void) from exc
    served = prepare_store(files, store_location)
    try:
        engine = Engine(served, timeout=timeout, max_rows=max_rows,
                        allowed_services=allowed_services, cache_bytes=cache_bytes,
                        workers=workers, express=express_workers,
                        express_timeout=express_timeout, queue=queue,
                        max_length=max_query_length, max_depth=max_depth,
                        worker_memory=worker_memory)
    except OSError as exc:
        served.remove()
        raise ServeError(f"cannot start the query workers: {exc}") from exc
    site = Site(engine, dumps={p.name: p for p in dumps}, void=void_bytes,
                queries_dir=queries_dir, max_body=max_body)
    built = max((p.stat().st_mtime for p in [*files, *([void] if void else [])]
                 if p.is_file()), default=None)
    try:
        site.info = dataset_info(engine.store, void_bytes, title=title,
                                 built="" if built is None else _iso_time(built))
        site.info["triples"] = engine.triples
    except SyntaxError as exc:
        engine.close()
        raise ServeError(f"bad VoID description: {exc}", path=void) from exc
    return site


# --- the request handler ----------------------------------------------------------------

#: Concurrent connections served (one thread each); past it the oldest idle one is closed
#: to make room, or, with none idle, the new one gets 503 and is closed.
DEFAULT_MAX_CONNECTIONS = 256
#: Seconds a connection may wait between requests, and may take to send one request.
DEFAULT_IDLE_TIMEOUT = 20.0
#: The ``Server`` header: the software, never the Python version.
SERVER_NAME = "kg-serve"
#: Headers on every response. The page loads nothing from elsewhere and is never framed.
SECURITY_HEADERS: dict[str, str] = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; "
                               "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
_WRITE_CHUNK = 64 * 1024
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_DIGITS = re.compile(r"[0-9]{1,18}")
# RFC 9110 Host = uri-host [ ":" port ]: a bracketed IP literal or a reg-name/IPv4 address.
_HOST = re.compile(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]+)(:[0-9]{0,5})?")
_BAD_VALUE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


class _IdleConnections:
    """The connections waiting for a request's first byte, oldest first: when a new
    connection finds every slot taken, the oldest of them is closed to make room, so idle
    sockets (fresh or kept alive) can hold slots only while nobody else needs them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: dict[socket.socket, None] = {}

    def add(self, sock: socket.socket) -> None:
        with self._lock:
            self._waiting[sock] = None

    def discard(self, sock: socket.socket) -> None:
        with self._lock:
            self._waiting.pop(sock, None)

    def evict(self) -> bool:
        """Close the oldest idle connection (its blocked read returns end-of-file); False
        if there is none."""
        with self._lock:
            if not self._waiting:
                return False
            sock = next(iter(self._waiting))
            del self._waiting[sock]
            with contextlib.suppress(OSError):  # already closed by its client
                sock.shutdown(socket.SHUT_RDWR)
            return True


class _DeadlineReader(io.RawIOBase):
    """The socket's bytes, each request's within ``timeout`` seconds.

    :meth:`arm` starts a request: its first byte must come within ``timeout`` (the
    keep-alive idle time) and, from then on, the whole request (line, headers, body) within
    ``timeout`` again, so a client trickling bytes (slowloris) is cut off rather than holding
    a thread for ever. A late read raises :class:`TimeoutError`. While it waits for a
    request's first byte the connection is listed in ``idle``, to be closed if a new
    connection needs its slot.
    """

    def __init__(self, sock: socket.socket, timeout: float, idle: _IdleConnections) -> None:
        super().__init__()
        self._sock = sock
        self._timeout = timeout
        self._idle = idle
        self._deadline = time.monotonic() + timeout
        self._waiting = True

    def arm(self) -> None:
        """Start the clock for the next request."""
        self._deadline = time.monotonic() + self._timeout
        self._waiting = True

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("request not received in time")
        self._sock.settimeout(left)
        if not self._waiting:
            return self._sock.recv_into(buffer)
        self._idle.add(self._sock)
        try:
            count = self._sock.recv_into(buffer)
        finally:
            self._idle.discard(self._sock)
        if count:
            self._waiting = False
            self._deadline = time.monotonic() + self._timeout
        return count


def _header_problem(headers: Message, version: str) -> tuple[int, str] | None:
    """Why the request head ``headers`` must be refused (status, reason), or None.

    Strict where leniency lets two parsers disagree on where a request ends (request
    smuggling): one Content-Length of digits only, no Transfer-Encoding, header names that
    are tokens, no folded or control characters in values, one valid Host."""
    if headers.defects or headers.get_payload():
        return 400, "malformed header line"
    for name, value in headers.items():
        if not _TOKEN.fullmatch(name):
            return 400, "malformed header name"
        if _BAD_VALUE.search(value):
            return 400, f"control character or line folding in header {name}"
    lengths = headers.get_all("Content-Length") or []
    if len(lengths) > 1:
        return 400, "more than one Content-Length"
    if lengths and not _DIGITS.fullmatch(lengths[0].strip()):
        return 400, "malformed Content-Length"
    codings = headers.get_all("Transfer-Encoding") or []
    if codings:
        if [c.strip().lower() for c in codings] == ["chunked"]:
            return 411, "chunked request bodies are not accepted: send a Content-Length"
        return 501, "Transfer-Encoding is not supported: send a Content-Length"
    hosts = headers.get_all("Host") or []
    if len(hosts) > 1:
        return 400, "more than one Host header"
    if not hosts and version != "HTTP/1.0":
        return 400, "missing Host header (required in HTTP/1.1)"
    if hosts and hosts[0].strip() and not _HOST.fullmatch(hosts[0].strip()):
        return 400, "malformed Host header"
    return None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = SERVER_NAME
    disable_nagle_algorithm = True  # a response is one write; no 40 ms delayed-ACK stalls
    site: Site  # set on the subclass made by make_server
    server: _Server

    # Methods other than these get 405, not the standard library's 501.
    _METHODS = frozenset({"GET", "HEAD", "POST", "OPTIONS"})

    def setup(self) -> None:
        super().setup()
        # Reads go through the request deadline, not the socket's plain timeout.
        self.rfile.close()
        self._reader = _DeadlineReader(self.connection, self.server.idle_timeout,
                                       self.server.idle_connections)
        self.rfile = io.BufferedReader(self._reader)

    def version_string(self) -> str:
        return SERVER_NAME

    def handle_one_request(self) -> None:
        self._reader.arm()
        self._body_left = 0
        self.path = self.requestline = ""
        super().handle_one_request()

    def parse_request(self) -> bool:
        line: bytes = getattr(self, "raw_requestline", b"")
        words = str(line, "iso-8859-1").rstrip("\r\n").split()
        if len(words) == 2:  # HTTP/0.9: no version, no headers; refused before any read
            self.command, self.request_version = "", "HTTP/1.1"
            self._refuse(400, "HTTP/0.9 requests are not served")
            return False
        if not super().parse_request():
            self.close_connection = True
            return False
        problem = _header_problem(self.headers, self.request_version)
        if problem is not None:
            self._refuse(*problem)
            return False
        self._body_left = int((self.headers.get("Content-Length") or "0").strip())
        if self.command not in self._METHODS:
            self.refused_method = self.command
            self.command = "REFUSED"
        return True

    def handle_expect_100(self) -> bool:
        # Only a request whose body will be read gets "100 Continue".
        length = (self.headers.get("Content-Length") or "0").strip()
        if (_header_problem(self.headers, self.request_version) is not None
                or not length.isdigit() or int(length) > self.site.max_body):
            return True
        return super().handle_expect_100()

    def send_error(self, code: int, message: str | None = None,
                   explain: str | None = None) -> None:
        # The standard library's own refusals (bad request line, 414, 431, 505): plain text,
        # the security headers, and the connection closed (the rest of its bytes are unread).
        if self.request_version == "HTTP/0.9" or not self.request_version:
            self.request_version = "HTTP/1.1"  # so the answer has a status line
        self._refuse(code, message or self.responses.get(code, ("error",))[0])

    def _refuse(self, status: int, message: str) -> None:
        self.close_connection = True
        self._send(Response(status, f"{message}\n".encode("utf-8", "replace")))

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

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass

    def _base(self) -> str:
        # The configured public URL, never the Host header (client-controlled).
        return self.server.public_url

    def _body(self) -> bytes:
        if self.command != "POST":
            return b""
        length = self._body_left
        if length > self.site.max_body:
            raise ProtocolError(413, f"request body of {length} bytes is over the "
                                     f"{self.site.max_body}-byte limit")
        try:
            body = self.rfile.read(length) if length > 0 else b""
        except TimeoutError as exc:
            raise ProtocolError(408, "request body not received within "
                                     f"{self.server.idle_timeout:g} s") from exc
        if len(body) < length:
            raise ProtocolError(400, "request body shorter than its Content-Length")
        self._body_left = 0
        return body

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
        if path == "/favicon.ico":
            return _static("favicon.svg")
        linked = resources.respond(self.site.engine.store, parts.path, parts.query,
                                   accept=self.headers.get("Accept"),
                                   accept_language=self.headers.get("Accept-Language"),
                                   void=self.site.void)
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
        if self._body_left:
            # A body left unread would be parsed as the next request: close instead.
            self.close_connection = True
        self.send_response(response.status)
        headers = {**CORS_HEADERS, **SECURITY_HEADERS, **response.headers}
        if response.status != 204:
            headers["Content-Type"] = response.content_type
            headers["Content-Length"] = str(len(response.body))
        path = getattr(self, "path", "")
        if response.status in (200, 406) and path.startswith(("/sparql", "/queries/")):
            headers["Vary"] = "Accept"
        if self.close_connection:
            headers["Connection"] = "close"
        for key, value in headers.items():
            self.send_header(key, value)
        # Writes time out per chunk: a stalled reader is dropped, a slow one still served.
        self.connection.settimeout(self.server.idle_timeout)
        self.end_headers()
        if self.command != "HEAD" and response.status != 204:
            body = memoryview(response.body)
            for start in range(0, len(body), _WRITE_CHUNK):
                self.wfile.write(body[start:start + _WRITE_CHUNK])


def _iso_time(seconds: float) -> str:
    from datetime import datetime

    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


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
    """One thread per connection, at most ``max_connections`` of them.

    A connection past the cap takes the slot of the oldest idle one (waiting for a request's
    first byte), which is closed; with none idle it gets a canned 503 and is closed at once,
    in the accepting thread. So idle or slow clients can never make the thread count grow
    without bound, and idle ones cannot keep others out."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], handler: type[_Handler], *,
                 max_connections: int, idle_timeout: float, site: Site,
                 public_url: str | None) -> None:
        super().__init__(address, handler)
        self.max_connections = max_connections
        self.idle_timeout = idle_timeout
        self.site = site
        self._slots = threading.BoundedSemaphore(max_connections)
        self.idle_connections = _IdleConnections()
        self.public_url = public_url or _listening_url(self.server_address)
        self._void: bytes | None = None
        self._void_lock = threading.Lock()

    def void(self) -> bytes:
        """The VoID description served, made once for the public URL."""
        with self._void_lock:
            if self._void is None:
                self._void = self.site.void_turtle(self.public_url)
            return self._void

    def process_request(self, request: Any, client_address: Any) -> None:
        # Every slot taken: close the oldest idle connection and take its slot (it frees
        # within milliseconds); with none idle, turn the newcomer away with 503.
        if not self._slots.acquire(blocking=False) and not (
                self.idle_connections.evict() and self._slots.acquire(timeout=2.0)):
            _turn_away(request)
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], OSError):
            return  # the client went away or timed out: nothing to report
        super().handle_error(request, client_address)


_BUSY_BODY = b"too many connections; try again shortly\n"
_BUSY = (b"HTTP/1.1 503 Service Unavailable\r\nServer: " + SERVER_NAME.encode()
         + b"\r\nContent-Type: text/plain; charset=utf-8\r\nRetry-After: 1\r\n"
         + b"X-Content-Type-Options: nosniff\r\nConnection: close\r\n"
         + b"Content-Length: " + str(len(_BUSY_BODY)).encode() + b"\r\n\r\n" + _BUSY_BODY)


def _turn_away(sock: socket.socket) -> None:
    # Never block the accepting thread: a fresh socket's send buffer takes this at once.
    try:
        sock.setblocking(False)
        sock.send(_BUSY)
    except OSError:
        pass


def _listening_url(address: Any) -> str:
    host, port = str(address[0]), int(address[1])
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def check_public_url(url: str) -> str:
    """``url`` checked as the server's public address (absolute ``http``/``https``, no
    query, fragment or user info), without a trailing slash.

    Raises :class:`ServeError` if it is not one."""
    parts = urlsplit(url)
    if (parts.scheme not in ("http", "https") or not parts.hostname or parts.query
            or parts.fragment or parts.username is not None or "@" in parts.netloc):
        raise ServeError(f"--public-url must be an absolute http(s) URL without query, "
                         f"fragment or user info: {url!r}")
    clean = url.rstrip("/")
    try:
        ox.NamedNode(clean + "/sparql")
    except ValueError as exc:
        raise ServeError(f"--public-url is not a valid IRI: {url!r} ({exc})") from exc
    return clean


def make_server(site: Site, *, host: str = "127.0.0.1", port: int = 8000,
                public_url: str | None = None,
                max_connections: int = DEFAULT_MAX_CONNECTIONS,
                idle_timeout: float = DEFAULT_IDLE_TIMEOUT) -> ThreadingHTTPServer:
    """A server for ``site`` bound to ``host:port`` (port 0: any free port; read it from
    ``server.server_address``). Call ``serve_forever()`` on it, ``shutdown()`` to stop.

    ``public_url`` is the address clients reach it at, named in the VoID description, the
    service description and query base IRIs (default: ``http://HOST:PORT`` as bound).
    At most ``max_connections`` connections are served at once (more get 503 and are
    closed); a connection idle for ``idle_timeout`` seconds, or taking longer than that to
    send one request, is closed.

    Raises :class:`ServeError` if the address cannot be bound (port in use, bad host) or an
    option is out of range.
    """
    if max_connections < 1 or idle_timeout <= 0:
        raise ServeError("--max-connections and --idle-timeout must be positive")
    checked = None if public_url is None else check_public_url(public_url)
    handler = type("Handler", (_Handler,), {"site": site})
    try:
        return _Server((host, port), handler, max_connections=max_connections,
                       idle_timeout=idle_timeout, site=site, public_url=checked)
    except OSError as exc:
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
