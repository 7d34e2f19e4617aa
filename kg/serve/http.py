"""The strict HTTP/1.1 transport of ``kg serve``, independent of what it serves.

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
"""

from __future__ import annotations

import contextlib
import io
import re
import socket
import sys
import threading
import time
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import pyoxigraph as ox

from kg.errors import ServeError
from kg.serve.fairness import ClientCounter
from kg.serve.limits import DEFAULTS, Limits
from kg.serve.protocol import CORS_HEADERS, ProtocolError, Response

__all__ = [
    "DEFAULT_IDLE_TIMEOUT",
    "DEFAULT_MAX_CONNECTIONS",
    "SECURITY_HEADERS",
    "SERVER_NAME",
    "StrictHandler",
    "StrictServer",
    "check_public_url",
    "listening_url",
]

#: Concurrent connections served (one thread each); past it the oldest idle one is closed
#: to make room, or, with none idle, the new one gets 503 and is closed.
DEFAULT_MAX_CONNECTIONS = DEFAULTS.max_connections
#: Seconds a connection may wait between requests, and may take to send one request.
DEFAULT_IDLE_TIMEOUT = DEFAULTS.idle_timeout
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


class StrictHandler(BaseHTTPRequestHandler):
    """The strict HTTP/1.1 transport (see the module docstring); a subclass answers by
    defining ``_dispatch``, which reads the body with :meth:`_body` and answers with
    :meth:`_send`."""

    protocol_version = "HTTP/1.1"
    server_version = SERVER_NAME
    disable_nagle_algorithm = True  # a response is one write; no 40 ms delayed-ACK stalls
    # Writes are buffered and flushed at the end of each request, so a head and a short
    # body leave in one system call (and one TCP segment); a long body passes through in
    # chunks of this size.
    wbufsize = 64 * 1024
    server: StrictServer

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
                or not length.isdigit() or int(length) > self.server.max_body):
            return True
        sent = super().handle_expect_100()
        self.wfile.flush()  # "100 Continue" now, before the body is read
        return sent

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
        if length > self.server.max_body:
            raise ProtocolError(413, f"request body of {length} bytes is over the "
                                     f"{self.server.max_body}-byte limit")
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
        raise NotImplementedError

    def _send(self, response: Response) -> None:
        try:
            self._send_head(response)
            if self.command == "HEAD" or response.status == 204:
                return
            if response.file is None:
                body = memoryview(response.body)
                for start in range(0, len(body), _WRITE_CHUNK):
                    self.wfile.write(body[start:start + _WRITE_CHUNK])
                return
            # A long answer waits in a file: streamed a chunk at a time, so a slow reader
            # holds one chunk of the server's memory, never the answer.
            left = response.length or 0
            while left > 0 and (chunk := response.file.read(min(_WRITE_CHUNK, left))):
                self.wfile.write(chunk)
                left -= len(chunk)
        finally:
            if response.file is not None:
                response.file.close()

    def _send_head(self, response: Response) -> None:
        if self._body_left:
            # A body left unread would be parsed as the next request: close instead.
            self.close_connection = True
        self.send_response(response.status)
        headers = {**CORS_HEADERS, **SECURITY_HEADERS, **response.headers}
        if response.status != 204:
            headers["Content-Type"] = response.content_type
            headers["Content-Length"] = str(len(response.body) if response.file is None
                                            else response.length or 0)
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




class StrictServer(ThreadingHTTPServer):
    """One thread per connection, at most ``max_connections`` of them.

    A connection past the cap takes the slot of the oldest idle one (waiting for a request's
    first byte), which is closed; with none idle it gets a canned 503 and is closed at once,
    in the accepting thread. So idle or slow clients can never make the thread count grow
    without bound, and idle ones cannot keep others out."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], handler: type[StrictHandler], *,
                 limits: Limits, public_url: str | None) -> None:
        super().__init__(address, handler)
        self.max_connections = limits.max_connections
        self.idle_timeout = limits.idle_timeout
        self.max_body = limits.max_body
        max_connections = limits.max_connections
        self._slots = threading.BoundedSemaphore(max_connections)
        # Requests holding a slot (by id), with the address counted for them.
        self._held: dict[int, str | None] = {}
        self.trusted_proxies = frozenset(limits.trusted_proxies)
        self.client_connections = ClientCounter(limits.max_client_connections)
        self.client_queries = ClientCounter(limits.max_client_queries)
        self._held_lock = threading.Lock()
        self.idle_connections = _IdleConnections()
        self.public_url = public_url or listening_url(self.server_address)

    def process_request(self, request: Any, client_address: Any) -> None:
        # Every slot taken: close the oldest idle connection and take its slot (it frees
        # within milliseconds); with none idle, turn the newcomer away with 503.
        peer = str(client_address[0])
        counted = peer not in self.trusted_proxies
        if counted and not self.client_connections.enter(peer):
            # One address holding its share of connections waits; others still get in.
            _turn_away(request, _TOO_MANY)
            self.shutdown_request(request)
            return
        if not self._slots.acquire(blocking=False) and not (
                self.idle_connections.evict() and self._slots.acquire(timeout=2.0)):
            if counted:
                self.client_connections.leave(peer)
            _turn_away(request)
            self.shutdown_request(request)
            return
        with self._held_lock:
            self._held[id(request)] = peer if counted else None
        try:
            super().process_request(request, client_address)
        except BaseException:
            # SIGTERM may land after the request's thread started: whichever of the two
            # frees the slot first frees it, the other does nothing (no double release).
            self._free(request)
            raise

    def _free(self, request: Any) -> None:
        with self._held_lock:
            if id(request) not in self._held:
                return
            peer = self._held.pop(id(request))
        if peer is not None:
            self.client_connections.leave(peer)
        self._slots.release()

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._free(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], OSError):
            return  # the client went away or timed out: nothing to report
        super().handle_error(request, client_address)


_BUSY_BODY = b"too many connections; try again shortly\n"
_BUSY = (b"HTTP/1.1 503 Service Unavailable\r\nServer: " + SERVER_NAME.encode()
         + b"\r\nContent-Type: text/plain; charset=utf-8\r\nRetry-After: 1\r\n"
         + b"X-Content-Type-Options: nosniff\r\nConnection: close\r\n"
         + b"Content-Length: " + str(len(_BUSY_BODY)).encode() + b"\r\n\r\n" + _BUSY_BODY)
_TOO_MANY_BODY = (b"too many connections from your address at once "
                  b"(kg serve --max-client-connections); try again shortly\n")
_TOO_MANY = (b"HTTP/1.1 429 Too Many Requests\r\nServer: " + SERVER_NAME.encode()
             + b"\r\nContent-Type: text/plain; charset=utf-8\r\nRetry-After: 2\r\n"
             + b"X-Content-Type-Options: nosniff\r\nConnection: close\r\n"
             + b"Content-Length: " + str(len(_TOO_MANY_BODY)).encode() + b"\r\n\r\n"
             + _TOO_MANY_BODY)


def _turn_away(sock: socket.socket, answer: bytes | None = None) -> None:
    # Never block the accepting thread: a fresh socket's send buffer takes this at once.
    try:
        sock.setblocking(False)
        sock.send(answer or _BUSY)
    except OSError:
        pass


def listening_url(address: Any) -> str:
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


