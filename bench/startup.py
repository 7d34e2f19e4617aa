"""Start-up and memory of ``kg serve FILE`` against an in-memory ``oxigraph serve`` loading
the same file. Usage: ``python bench/startup.py FILE [ROUNDS]`` (default 2 rounds, the two
servers taking turns in each).

Time to the first answer: ``kg serve FILE`` from its start until ``ASK {}`` is answered
(it answers once the store is loaded); ``oxigraph serve`` from its start until the file,
POSTed to ``/store?default``, is loaded. Memory: the PSS of each server's whole process
tree (pages shared by the server and its forked workers count once), after the start and,
for ``kg serve``, again after four full scans (``SELECT (COUNT(*) AS ?n) { ?s ?p ?o }``),
which make the workers touch the whole store.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
from slow_readers import tree_pss_mib  # a sibling: bench/ is sys.path[0] for a script

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests.stores

from tests.stores import free_port, wait_until_up

__all__ = ["main"]

_SCAN = "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }"


def _started(argv: list[str], url: str) -> tuple[subprocess.Popen[bytes], float]:
    """Start ``argv``; return it and the seconds until ``url`` answered ``ASK {}``."""
    started = time.monotonic()
    with tempfile.NamedTemporaryFile(prefix="kg-startup-", suffix=".log") as log:
        server = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        wait_until_up(url, server, 3600, Path(log.name))
    return server, time.monotonic() - started


def _kg(data: Path) -> tuple[float, int, int]:
    port = free_port()
    url = f"http://127.0.0.1:{port}/sparql"
    server, took = _started([sys.executable, "-m", "kg", "serve", str(data), "--port",
                             str(port), "--timeout", "600"], url)
    try:
        after_start = tree_pss_mib(server.pid)
        for _ in range(4):
            requests.post(url, data={"query": _SCAN}, headers={"Accept": "text/csv"},
                          timeout=600)
        return took, after_start, tree_pss_mib(server.pid)
    finally:
        server.terminate()
        server.wait(60)


def _oxigraph(data: Path) -> tuple[float, int]:
    port = free_port()
    started = time.monotonic()
    server, _ = _started(["oxigraph", "serve", "--bind", f"127.0.0.1:{port}"],
                         f"http://127.0.0.1:{port}/query")
    try:
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
