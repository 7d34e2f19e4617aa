"""Which HTTP server base for ``kg serve``: keep-alive requests per second on a trivial route.

Starts, in turn, ``kg serve``'s own server (the standard library's ``http.server`` with the
checks of :mod:`kg.serve.app`) answering ``GET /static/style.css``, and uvicorn (h11, the
pure-Python HTTP/1.1 parser; httptools is not installed) running a bare ASGI app that answers
the same bytes, each in its own process on a free loopback port. ``--clients`` threads, each
on one keep-alive connection, send GET requests for ``--seconds``; the figure is completed
requests per second of wall time. Loopback only; bounded in time.

    python bench/http_base.py --seconds 10 --clients 4
"""

from __future__ import annotations

import argparse
import http.client
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

__all__ = ["app", "main"]

ROOT = Path(__file__).resolve().parent.parent
_BODY = (ROOT / "kg" / "serve" / "static" / "style.css").read_bytes()


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """A bare ASGI app: the page's style sheet, as ``kg serve`` sends it."""
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": [
        (b"content-type", b"text/css; charset=utf-8"),
        (b"content-length", str(len(_BODY)).encode()),
        (b"x-content-type-options", b"nosniff")]})
    await send({"type": "http.response.body", "body": _BODY})


_KG = """
import sys
from pathlib import Path
from kg.serve.app import make_server, open_site
data = Path(sys.argv[2])
data.write_text('<http://e/s> <http://e/p> "o" .\\n', encoding="utf-8")
server = make_server(open_site([data]), host="127.0.0.1", port=int(sys.argv[1]))
server.serve_forever()
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("server did not start")


def _load(port: int, seconds: float, clients: int) -> float:
    done = [0] * clients
    stop = time.monotonic() + seconds

    def client(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while time.monotonic() < stop:
            conn.request("GET", "/static/style.css")
            answer = conn.getresponse()
            answer.read()
            if answer.status == 200:
                done[i] += 1
        conn.close()

    started = time.monotonic()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(done) / (time.monotonic() - started)


def main(argv: list[str] | None = None) -> int:
    """Measure both servers and print one line each."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args(argv)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    tmp = Path(os.environ.get("TMPDIR", "/tmp")) / f"http-base-{os.getpid()}.nt"
    servers = {
        "kg serve (http.server)": lambda port: [sys.executable, "-c", _KG, str(port), str(tmp)],
        "uvicorn (h11)": lambda port: [
            sys.executable, "-m", "uvicorn", "--app-dir", str(Path(__file__).parent),
            "http_base:app", "--host", "127.0.0.1", "--port", str(port), "--http", "h11",
            "--no-access-log", "--log-level", "warning", "--limit-concurrency", "256",
            "--timeout-keep-alive", "15"],
    }
    for name, command in servers.items():
        port = _free_port()
        process = subprocess.Popen(command(port), env=env)
        try:
            _wait(port, process)
            _load(port, 1.0, args.clients)  # warm-up
            rate = _load(port, args.seconds, args.clients)
            print(f"{name}: {rate:.0f} req/s ({args.clients} keep-alive clients, "
                  f"{args.seconds:g} s)", flush=True)
        finally:
            process.terminate()
            process.wait(timeout=30)
    tmp.unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
