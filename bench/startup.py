"""Start-up and memory of ``kg serve FILE`` against an in-memory ``oxigraph serve`` loading
the same file. Usage: ``python bench/startup.py FILE [ROUNDS]`` (default 2 rounds, the two
servers taking turns in each).

Time to the first answer: ``kg serve FILE`` from its start until ``ASK { ?s ?p ?o }`` is
answered; ``oxigraph serve`` from its start until the file, POSTed to ``/store?default``,
is loaded. Memory: the PSS of each server's whole process tree (pages shared by the server
and its forked workers count once), after the start and, for ``kg serve``, again after four
full scans (``SELECT (COUNT(*) AS ?n) { ?s ?p ?o }``), which make the workers touch the
whole store.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import requests
from slow_readers import tree_pss_mib  # a sibling: bench/ is sys.path[0] for a script

__all__ = ["main"]

_SCAN = "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _kg(data: Path) -> tuple[float, int, int]:
    port = _port()
    url = f"http://127.0.0.1:{port}/sparql"
    started = time.monotonic()
    server = subprocess.Popen([sys.executable, "-m", "kg", "serve", str(data), "--port",
                               str(port), "--timeout", "600"], stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                if requests.post(url, data={"query": "ASK { ?s ?p ?o }"}, timeout=5).ok:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.1)
        took = time.monotonic() - started
        after_start = tree_pss_mib(server.pid)
        for _ in range(4):
            requests.post(url, data={"query": _SCAN}, headers={"Accept": "text/csv"},
                          timeout=600)
        return took, after_start, tree_pss_mib(server.pid)
    finally:
        server.terminate()
        server.wait(60)


def _oxigraph(data: Path) -> tuple[float, int]:
    port = _port()
    started = time.monotonic()
    server = subprocess.Popen(["oxigraph", "serve", "--bind", f"127.0.0.1:{port}"],
                              stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                requests.get(f"http://127.0.0.1:{port}/query", params={"query": "ASK {}"},
                             timeout=5)
                break
            except requests.RequestException:
                time.sleep(0.05)
        with data.open("rb") as body:
            requests.post(f"http://127.0.0.1:{port}/store?default", data=body,
                          headers={"Content-Type": "text/turtle"}, timeout=3600).raise_for_status()
        return time.monotonic() - started, tree_pss_mib(server.pid)
    finally:
        server.terminate()
        server.wait(60)


def main(argv: list[str]) -> int:
    """Run the measurement; 0 when done, 2 on a bad argument."""
    if not 1 <= len(argv) <= 2 or not Path(argv[0]).is_file():
        sys.stderr.write("usage: python bench/startup.py FILE.ttl [ROUNDS]\n")
        return 2
    data = Path(argv[0])
    rounds = int(argv[1]) if len(argv) > 1 else 2
    for n in range(rounds):
        # Taking turns, the first one alternating: neither always meets a cold page cache.
        for job in ((_oxigraph, _kg) if n % 2 == 0 else (_kg, _oxigraph)):
            if job is _oxigraph:
                took, pss = _oxigraph(data)
                print(f"round {n + 1}: oxigraph serve (memory) {took:.1f} s to the loaded "
                      f"file, tree PSS {pss} MiB", flush=True)
            else:
                took, pss, scanned = _kg(data)
                print(f"round {n + 1}: kg serve FILE {took:.1f} s to the first answer, tree "
                      f"PSS {pss} MiB after start, {scanned} MiB after 4 full scans",
                      flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
