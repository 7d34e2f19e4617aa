"""Soak and fault test of ``kg serve``: many clients for a while, with faults injected.

Starts ``kg serve`` on the built graph (``dist/``, on a free loopback port), then for
``--seconds`` runs ``--clients`` client threads, each on its own keep-alive connection,
sending a mix of named queries with varied parameters (``twins-of-place`` for places drawn
from the graph, by name, QID or IRI; the other named queries; ad-hoc counts per place),
while one injector thread sends, in turn:

- a heavy query (a four-way cartesian ``COUNT``, every ``--heavy-every`` seconds): expected
  503 past ``--timeout``;
- a malformed query (bad syntax): expected 400;
- bad HTTP over a raw socket (two ``Content-Length``\\ s, chunked, a broken request line,
  ``Host: a b``): expected 400/411 and the connection closed;
- an oversized body (2 MiB): expected 413;
- with ``--deep``, a 20 kB query of nested parentheses: expected 400.

Every second it samples the resident memory (VmRSS) and thread count of the server's
process tree (the server and its descendants, from /proc). At the end it prints, as
Markdown, per kind of request: count, unexpected answers, status counts, p50/p99 latency;
then memory and throughput over time. Loopback only, bounded in time (the server is stopped
at the end, or on Ctrl-C). Needs a built ``dist/`` (``kg build``).

    python bench/soak.py --seconds 60
    python bench/soak.py --seconds 20 --clients 8 --server-arg=--cache --server-arg=0
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

__all__ = ["main"]

ROOT = Path(__file__).resolve().parent.parent
HEAVY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
PLACES = """PREFIX tw: <https://w3id.org/twinning-kg/ontology#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT DISTINCT ?p ?wd ?label WHERE {
  ?p tw:twinnedWith ?x . OPTIONAL { ?p skos:exactMatch ?wd } OPTIONAL { ?p rdfs:label ?label } }"""
COUNT_TWINS = """PREFIX tw: <https://w3id.org/twinning-kg/ontology#>
SELECT (COUNT(DISTINCT ?x) AS ?n) WHERE {{ <{iri}> tw:twinnedWith ?x }}"""
JSON = "application/sparql-results+json"
BAD_HTTP = [
    b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\n"
    b"Content-Length: 6\r\nContent-Length: 40\r\n\r\nASK {}GET /x HTTP/1.1\r\nHost: x\r\n\r\n",
    b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n6\r\nASK {}\r\n0\r\n\r\n",
    b"GET /sparql?query=ASK%7B%7D HTTP/1.1\r\nHost: a b\r\n\r\n",
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03 not http at all\r\n\r\n",
]


@dataclass
class Record:
    """What one kind of request gave."""

    latencies: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    unexpected: int = 0


class Results:
    """Thread-safe tally of requests by kind, and by second for the time series."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.kinds: dict[str, Record] = defaultdict(Record)
        self.per_second: Counter[int] = Counter()
        self.errors_per_second: Counter[int] = Counter()

    def add(self, kind: str, status: str, seconds: float, ok: bool, at: int) -> None:
        with self.lock:
            record = self.kinds[kind]
            record.latencies.append(seconds)
            record.statuses[status] += 1
            record.unexpected += not ok
            self.per_second[at] += 1
            self.errors_per_second[at] += not ok


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants, from /proc."""
    children: dict[int, list[int]] = defaultdict(list)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children[ppid].append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        todo.extend(children.get(current, []))
    return out


def _memory(pid: int) -> tuple[int, int, int]:
    """(resident KiB, threads, processes) of the process tree under ``pid``."""
    rss = threads = count = 0
    for member in _tree(pid):
        try:
            status = Path(f"/proc/{member}/status").read_text()
        except OSError:
            continue
        count += 1
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                rss += int(line.split()[1])
            elif line.startswith("Threads:"):
                threads += int(line.split()[1])
    return rss, threads, count


class Client:
    """One keep-alive connection; reconnects when the server closes it."""

    def __init__(self, port: int, timeout: float) -> None:
        self.port, self.timeout = port, timeout
        self.conn: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                                       timeout=self.timeout)
            try:
                self.conn.request(method, path, body=body, headers=headers or {})
                answer = self.conn.getresponse()
                data = answer.read()
                if answer.will_close:
                    self.close()
                return answer.status, data
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.close()  # a keep-alive connection closed while idle: retry once
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def _places(port: int) -> list[tuple[str, str]]:
    """(kind, value) place parameters drawn from the graph: names, QIDs and IRIs."""
    client = Client(port, 120)
    status, data = client.request("GET", "/sparql?" + urlencode({"query": PLACES}),
                                  headers={"Accept": JSON})
    client.close()
    if status != 200:
        raise SystemExit(f"cannot list places: HTTP {status} {data[:200]!r}")
    out: set[tuple[str, str]] = set()
    for row in json.loads(data)["results"]["bindings"]:
        out.add(("iri", row["p"]["value"]))
        if "wd" in row:
            out.add(("qid", row["wd"]["value"].rsplit("/", 1)[-1]))
        if "label" in row:
            out.add(("name", row["label"]["value"]))
    return sorted(out)


def _client_loop(port: int, stop: float, results: Results, started: float, seed: int,
                 places: list[tuple[str, str]], named: list[str], timeout: float) -> None:
    rng = random.Random(seed)
    client = Client(port, timeout)
    while time.monotonic() < stop:
        roll = rng.random()
        if roll < 0.6:
            kind = "twins-of-place"
            path = "/queries/twins-of-place?" + urlencode({"place": rng.choice(places)[1]})
            args: tuple[str, str, bytes | None] = ("GET", path, None)
        elif roll < 0.85:
            kind = "other named"
            args = ("GET", "/queries/" + rng.choice(named), None)
        else:
            kind = "ad-hoc count"
            iris = [v for k, v in places if k == "iri"]
            body = urlencode({"query": COUNT_TWINS.format(iri=rng.choice(iris))}).encode()
            args = ("POST", "/sparql", body)
        headers = {"Accept": JSON}
        if args[0] == "POST":
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        begin = time.monotonic()
        try:
            status, _ = client.request(args[0], args[1], args[2], headers)
            label, ok = str(status), status == 200
        except (OSError, http.client.HTTPException) as exc:
            client.close()
            label, ok = type(exc).__name__, False
        results.add(kind, label, time.monotonic() - begin, ok, int(begin - started))
    client.close()


def _raw(port: int, data: bytes, timeout: float) -> tuple[str, bool]:
    """Send ``data`` on a fresh socket; (status or error, closed after the answer)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(data)
        received = b""
        while b"\r\n\r\n" not in received:
            chunk = sock.recv(65536)
            if not chunk:
                return ("closed" if not received else "short"), True
            received += chunk
        status = received.split(b" ", 2)[1].decode("latin-1")
        sock.settimeout(5)
        try:
            while sock.recv(65536):
                pass
            closed = True
        except TimeoutError:
            closed = False
        except ConnectionResetError:
            closed = True
        return status, closed


def _inject(port: int, stop: float, results: Results, started: float, heavy_every: float,
            deep: bool, timeout: float) -> None:
    kinds = ["malformed query", "bad HTTP", "oversized"] + (["deep nesting"] if deep else [])
    client = Client(port, timeout)
    next_heavy = time.monotonic()
    turn = 0
    heavy_threads = []
    while time.monotonic() < stop:
        now = time.monotonic()
        if now >= next_heavy:
            next_heavy = now + heavy_every

            def heavy() -> None:
                own = Client(port, timeout)
                begin = time.monotonic()
                try:
                    status, _ = own.request("GET", "/sparql?" + urlencode({"query": HEAVY}),
                                            headers={"Accept": JSON})
                    label = str(status)
                except (OSError, http.client.HTTPException) as exc:
                    label = type(exc).__name__
                own.close()
                results.add("heavy (4-way COUNT)", label, time.monotonic() - begin,
                            label == "503", int(begin - started))

            thread = threading.Thread(target=heavy, daemon=True)
            thread.start()
            heavy_threads.append(thread)
        kind = kinds[turn % len(kinds)]
        turn += 1
        begin = time.monotonic()
        try:
            if kind == "malformed query":
                status, _ = client.request("GET", "/sparql?" + urlencode(
                    {"query": f"SELECT * WHERE {{ ?s ?p {turn} ."}), headers={"Accept": JSON})
                label, ok = str(status), status == 400
            elif kind == "oversized":
                status, _ = client.request(
                    "POST", "/sparql", b"#" * (2 * 1024 * 1024),
                    {"Content-Type": "application/sparql-query", "Accept": JSON})
                label, ok = str(status), status == 413
            elif kind == "deep nesting":
                query = "ASK { FILTER(" + "(" * 10_000 + "1" + ")" * 10_000 + ") }"
                status, _ = client.request("POST", "/sparql", query.encode(), {
                    "Content-Type": "application/sparql-query", "Accept": JSON})
                label, ok = str(status), status == 400
            else:
                status_text, closed = _raw(port, BAD_HTTP[turn % len(BAD_HTTP)], timeout)
                label = status_text + ("" if closed else " (left open)")
                ok = status_text in ("400", "411", "501", "closed") and closed
        except (OSError, http.client.HTTPException) as exc:
            client.close()
            label, ok = type(exc).__name__, False
        results.add(kind, label, time.monotonic() - begin, ok, int(begin - started))
        time.sleep(0.5)
    client.close()
    for thread in heavy_threads:
        thread.join(timeout=timeout)


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def _report(results: Results, samples: list[tuple[float, int, int, int]], seconds: float,
            clients: int) -> str:
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    lines = [f"{clients} clients, {seconds:g} s; load average at the end {load} on "
             f"{os.cpu_count()} CPUs", "",
             "| requests | count | unexpected | statuses | p50 ms | p99 ms |",
             "|---|---:|---:|---|---:|---:|"]
    for kind, record in sorted(results.kinds.items()):
        statuses = ", ".join(f"{s}: {n}" for s, n in record.statuses.most_common())
        lines.append(f"| {kind} | {len(record.latencies)} | {record.unexpected} | {statuses} | "
                     f"{_percentile(record.latencies, 50) * 1000:.1f} | "
                     f"{_percentile(record.latencies, 99) * 1000:.1f} |")
    lines += ["", "| t (s) | RSS MiB | threads | processes | requests in the last 10 s | "
              "unexpected |", "|---:|---:|---:|---:|---:|---:|"]
    shown = -1
    for t, rss, threads, processes in samples:
        if int(t) // 10 == shown and t != samples[-1][0]:
            continue  # one row per 10 s, and the last
        shown = int(t) // 10
        window = range(max(0, int(t) - 10), int(t))
        done = sum(results.per_second[s] for s in window)
        bad = sum(results.errors_per_second[s] for s in window)
        lines.append(f"| {t:.0f} | {rss / 1024:.0f} | {threads} | {processes} | {done} | "
                     f"{bad} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Run the soak; print the report. Exit 0 even with unexpected answers (they are the
    finding); exit 1 if the server dies."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--dist", type=Path, default=ROOT / "dist")
    parser.add_argument("--timeout", type=float, default=10.0,
                        help="the server's query timeout (default 10 s)")
    parser.add_argument("--heavy-every", type=float, default=10.0, metavar="SECONDS")
    parser.add_argument("--deep", action="store_true",
                        help="also inject 20 kB nested-parenthesis queries")
    parser.add_argument("--server-arg", action="append", default=[],
                        help="extra option for kg serve (repeatable)")
    args = parser.parse_args(argv)
    if not (args.dist / "twinning.trig").is_file():
        raise SystemExit(f"no built graph in {args.dist} (run `kg build`)")

    port = _free_port()
    log = Path(os.environ.get("TMPDIR", "/tmp")) / f"soak-{os.getpid()}.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "kg", "serve", "--no-build", "--dist", str(args.dist),
             "--host", "127.0.0.1", "--port", str(port), "--timeout", str(args.timeout),
             *args.server_arg],
            stdout=out, stderr=subprocess.STDOUT, cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        deadline = time.monotonic() + 120
        while True:
            if server.poll() is not None:
                raise SystemExit(f"kg serve exited: {log.read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("kg serve did not start") from None
                time.sleep(0.2)
        places = _places(port)
        probe = Client(port, 60)
        named = [q["name"] for q in json.loads(probe.request("GET", "/queries")[1])
                 if q["name"] not in ("compare-with-wikidata-p190", "twins-of-place")]
        probe.close()
        print(f"kg serve pid {server.pid} on port {port}; {len(places)} place parameters, "
              f"{len(named)} other named queries; log {log}", file=sys.stderr, flush=True)

        results = Results()
        started = time.monotonic()
        stop = started + args.seconds
        client_timeout = args.timeout + 60
        threads = [threading.Thread(target=_client_loop, daemon=True, args=(
            port, stop, results, started, seed, places, named, client_timeout))
            for seed in range(args.clients)]
        threads.append(threading.Thread(target=_inject, daemon=True, args=(
            port, stop, results, started, args.heavy_every, args.deep, client_timeout)))
        for thread in threads:
            thread.start()
        samples = []
        while time.monotonic() < stop + 1:
            rss, count, processes = _memory(server.pid)
            samples.append((time.monotonic() - started, rss, count, processes))
            if server.poll() is not None:
                break
            time.sleep(1.0)
        for thread in threads:
            thread.join(timeout=client_timeout)
        died = server.poll() is not None
        print(_report(results, samples, args.seconds, args.clients))
        if died:
            print(f"\nthe server died (exit {server.returncode}); log {log}")
        tracebacks = log.read_text(errors="replace").count("Traceback")
        print(f"\ntracebacks in the server log: {tracebacks}")
        return 1 if died else 0
    finally:
        if server.poll() is None:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main())
