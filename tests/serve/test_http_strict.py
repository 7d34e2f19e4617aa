"""Strict HTTP/1.1 on ``kg serve`` (issue 9), over raw sockets to the real server process.

Each malformed request is refused with its status, the connection is closed where leaving it
open would let the unread bytes be parsed as another request (request smuggling), and the
server keeps answering; its log holds no traceback. Idle and slow connections are closed,
and idle sockets never make the thread count grow past ``--max-connections``.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.stores import free_port

ASK = b"GET /sparql?query=ASK%7B%7D HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


@dataclass
class Server:
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def threads(self) -> int:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("Threads:"):
                return int(line.split()[1])
        raise AssertionError("no Threads line")


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    closed: bool  # the server closed the connection after the answer


def _start(data: Path, tmp: Path, *options: str) -> Server:
    port = free_port()
    log = tmp / f"serve-{port}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "kg", "serve", str(data), "--port", str(port), *options],
            stdout=out, stderr=subprocess.STDOUT)
    server = Server(port, process, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, server.log_text()
        try:
            if _exchange(server, ASK, check_closed=False).status == 200:
                return server
        except OSError:
            time.sleep(0.2)
    process.kill()
    pytest.fail("kg serve did not come up")


def _stop(server: Server) -> None:
    server.process.terminate()
    server.process.wait(timeout=30)
    assert "Traceback" not in server.log_text(), server.log_text()


@pytest.fixture(scope="module")
def server(data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = _start(data_dir / "places.ttl", tmp_path_factory.mktemp("strict"),
                     "--max-connections", "32", "--idle-timeout", "30", "--max-body", "4096")
    try:
        yield running
    finally:
        _stop(running)


def _read_answer(sock: socket.socket, buffer: bytearray) -> tuple[int, dict[str, str], bytes]:
    while b"\r\n\r\n" not in buffer:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed before an answer: {bytes(buffer)!r}")
        buffer += chunk
    head, _, rest = bytes(buffer).partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    assert lines[0].startswith("HTTP/1.1 "), lines[0]
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        assert name.lower() not in headers, f"{name} sent twice"
        headers[name.lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    buffer[:] = rest[length:]
    return int(lines[0].split()[1]), headers, rest[:length]


def _is_closed(sock: socket.socket, buffer: bytearray, wait: float = 5.0) -> bool:
    """True if the server closed the connection with nothing more to say."""
    if buffer:
        return False
    sock.settimeout(wait)
    try:
        return sock.recv(65536) == b""
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True


def _exchange(server: Server, raw: bytes, *, check_closed: bool = True) -> Answer:
    """Send ``raw`` on a fresh connection; read one answer (and whether the server closed
    the connection after it: waits up to 5 s when it stays open)."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(raw)
        buffer = bytearray()
        status, headers, body = _read_answer(sock, buffer)
        return Answer(status, headers, body, check_closed and _is_closed(sock, buffer))


def _still_answers(server: Server) -> None:
    answer = _exchange(server, ASK, check_closed=False)
    assert answer.status == 200 and b'"boolean":true' in answer.body.replace(b" ", b"")


def _post(*headers: str, body: bytes = b"ASK {}") -> bytes:
    head = "POST /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\n" \
           "Content-Type: application/sparql-query\r\n" + "".join(h + "\r\n" for h in headers)
    return head.encode() + b"\r\n" + body


SMUGGLED = b"GET /smuggled HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


@pytest.mark.parametrize(("raw", "status"), [
    # Two Content-Lengths, equal or not: which one ends the body is ambiguous.
    (_post("Content-Length: 6", "Content-Length: 6"), 400),
    (_post("Content-Length: 6", "Content-Length: 50", body=b"ASK {}" + SMUGGLED), 400),
    (_post("Content-Length: 6, 6"), 400),
    (_post("Content-Length: +6"), 400),
    (_post("Content-Length: 0x6"), 400),
    # Chunked bodies are refused, with or without a Content-Length beside them.
    (_post("Transfer-Encoding: chunked", body=b"6\r\nASK {}\r\n0\r\n\r\n" + SMUGGLED), 411),
    (_post("Transfer-Encoding: chunked", "Content-Length: 6",
           body=b"0\r\n\r\n" + SMUGGLED), 411),
    (_post("Transfer-Encoding: gzip, chunked", body=b"0\r\n\r\n"), 501),
    # Host: exactly one, well formed, in HTTP/1.1.
    (b"GET /sparql?query=ASK%7B%7D HTTP/1.1\r\nHost: a b\r\n\r\n", 400),
    (b"GET /sparql?query=ASK%7B%7D HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
    (b"GET /sparql?query=ASK%7B%7D HTTP/1.1\r\n\r\n", 400),
    (b"GET / HTTP/1.1\r\nHost: <script>\r\n\r\n", 400),
    # Header lines another parser would read differently.
    (_post("Content-Length : 6"), 400),
    (_post("Content-Length: 6", "X-Folded: a", " b"), 400),
    (b"GET / HTTP/1.1\r\nHost: x\r\nX-Nul: a\x00b\r\n\r\n", 400),
    # Versions: 0.9 is not served, 2.0 is not spoken here.
    (b"GET /\r\n", 400),
    (b"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505),
    (b"GET / HTTP/1.1.1\r\nHost: x\r\n\r\n", 400),
    # A request line past 64 KiB.
    (b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
    # An unread body after a refusal must not become the next request.
    (b"PUT /sparql HTTP/1.1\r\nHost: x\r\nContent-Length: " + str(len(SMUGGLED)).encode()
     + b"\r\n\r\n" + SMUGGLED, 405),
    (_post("Content-Length: 5000", body=b"x" * 5000), 413),
], ids=lambda value: None if isinstance(value, int) else repr(value[:60]))
def test_malformed_request_is_refused_and_closed(server: Server, raw: bytes,
                                                 status: int) -> None:
    answer = _exchange(server, raw)
    assert answer.status == status, answer.body
    assert answer.closed, "the connection must be closed after this refusal"
    assert answer.headers.get("connection") == "close"
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.body.strip() and b"<" not in answer.body  # a plain-text reason
    _still_answers(server)


def test_expect_continue_only_for_a_body_that_will_be_read(server: Server) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(_post("Content-Length: 6", "Expect: 100-continue", body=b""))
        buffer = bytearray()
        assert _read_answer(sock, buffer)[0] == 100
        sock.sendall(b"ASK {}")
        assert _read_answer(sock, buffer)[0] == 200
    big = _exchange(server, _post("Content-Length: 999999", "Expect: 100-continue", body=b""))
    assert big.status == 413 and big.closed


def test_body_on_get_closes_the_connection(server: Server) -> None:
    # A GET body is not read; the connection is closed rather than parse it as a request.
    raw = b"GET /sparql?query=ASK%7B%7D HTTP/1.1\r\nHost: x\r\nContent-Length: " \
        + str(len(SMUGGLED)).encode() + b"\r\n\r\n" + SMUGGLED
    answer = _exchange(server, raw)
    assert answer.status == 200 and answer.closed


def test_http_1_0_without_host_and_keep_alive_and_pipelining(server: Server) -> None:
    answer = _exchange(server, b"GET /sparql?query=ASK%7B%7D HTTP/1.0\r\n\r\n")
    assert answer.status == 200 and answer.closed
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(ASK + _post("Content-Length: 6") + ASK)  # three pipelined requests
        buffer = bytearray()
        assert [_read_answer(sock, buffer)[0] for _ in range(3)] == [200, 200, 200]
        assert not _is_closed(sock, buffer, wait=0.5)
        sock.sendall(ASK)
        assert _read_answer(sock, buffer)[0] == 200


def test_security_headers_and_server_name(server: Server) -> None:
    page = _exchange(server, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", check_closed=False)
    assert page.status == 200
    assert page.headers["server"] == "kg-serve"  # no Python version
    assert page.headers["x-content-type-options"] == "nosniff"
    policy = page.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    for raw in (ASK, b"GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n",
                b"GET /static/app.js HTTP/1.1\r\nHost: x\r\n\r\n"):
        answer = _exchange(server, raw, check_closed=False)
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["server"] == "kg-serve"


def test_idle_sockets_do_not_make_threads(data_dir: Path, tmp_path: Path) -> None:
    """1,000 idle connections against a cap of 16: at most 16 handler threads at any time
    (each newcomer takes the slot of the oldest idle connection, which is closed), and a
    real request is still answered."""
    server = _start(data_dir / "places.ttl", tmp_path, "--max-connections", "16",
                    "--idle-timeout", "60")
    sockets: list[socket.socket] = []
    try:
        before = server.threads()
        for _ in range(1000):
            sockets.append(socket.create_connection(("127.0.0.1", server.port), timeout=30))
        assert server.threads() <= before + 16 + 2
        # A real request is served; all but at most 16 idle sockets were closed to make
        # room (or, when none was idle yet, turned away with 503).
        _still_answers(server)
        time.sleep(1)
        still_open = 0
        for sock in sockets:
            sock.setblocking(False)
            try:
                data = sock.recv(12)
            except BlockingIOError:
                still_open += 1
                continue
            except ConnectionResetError:
                data = b""
            assert data in (b"", b"HTTP/1.1 503")
        assert still_open <= 16
        assert server.threads() <= before + 16 + 2
    finally:
        for sock in sockets:
            sock.close()
    _still_answers(server)
    _stop(server)


def test_busy_slots_turn_newcomers_away(data_dir: Path, tmp_path: Path) -> None:
    """With every slot held by a request in progress (not idle), a new connection gets 503
    with Retry-After and is closed; once they end, the server answers again."""
    server = _start(data_dir / "places.ttl", tmp_path, "--max-connections", "4",
                    "--idle-timeout", "60")
    busy = []
    try:
        for _ in range(4):  # requests begun, never finished: not idle, so never evicted
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
            busy.append(sock)
        for _ in range(20):
            late = socket.create_connection(("127.0.0.1", server.port), timeout=5)
            try:
                buffer = bytearray()
                status, headers, body = _read_answer(late, buffer)
            except TimeoutError:
                # A begun request not read yet counted as idle and gave this one its slot:
                # make this one busy too, and try again.
                late.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
                busy.append(late)
                continue
            with late:
                assert status == 503 and headers["retry-after"]
                assert headers["connection"] == "close"
                assert headers["x-content-type-options"] == "nosniff" and body.strip()
                assert _is_closed(late, buffer)
            break
        else:
            pytest.fail("never turned away")
    finally:
        for sock in busy:
            sock.close()
    deadline = time.monotonic() + 30
    while True:
        try:
            answer = _exchange(server, ASK, check_closed=False)
        except ConnectionError:
            answer = None
        if (answer is not None and answer.status == 200) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert answer is not None and answer.status == 200
    _stop(server)


def test_idle_and_slow_connections_are_closed(data_dir: Path, tmp_path: Path) -> None:
    """An idle keep-alive connection and a slowloris (one header byte every 0.2 s) are both
    closed after about --idle-timeout; neither leaves a traceback."""
    server = _start(data_dir / "places.ttl", tmp_path, "--idle-timeout", "1")
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=30) as idle:
            idle.sendall(ASK)
            buffer = bytearray()
            assert _read_answer(idle, buffer)[0] == 200
            assert _is_closed(idle, buffer, wait=20)

        with socket.create_connection(("127.0.0.1", server.port), timeout=30) as slow:
            slow.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
            started = time.monotonic()
            closed = False
            while time.monotonic() - started < 20:
                try:
                    slow.sendall(b"X")
                except OSError:
                    closed = True
                    break
                slow.settimeout(0.2)
                try:
                    if slow.recv(1) == b"":
                        closed = True
                        break
                except TimeoutError:
                    pass
            assert closed, "a request trickled in byte by byte must be cut off"

        with socket.create_connection(("127.0.0.1", server.port), timeout=30) as body:
            body.sendall(_post("Content-Length: 100", body=b"ASK"))  # the rest never comes
            buffer = bytearray()
            status, _, _ = _read_answer(body, buffer)
            assert status == 408 and _is_closed(body, buffer, wait=20)
        _still_answers(server)
    finally:
        _stop(server)
