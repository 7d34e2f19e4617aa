"""The query benchmark: the named queries against three endpoints on the same data.

:func:`run_bench` starts, on free loopback ports,

* ``kg serve FILE`` (this project's endpoint),
* ``oxigraph serve-read-only`` on a store loaded with ``oxigraph load``,
* ``rdflib-endpoint serve FILE`` (RDFLib behind uvicorn),

all serving the same Turtle file in their default graph, then sends every named query
(parameters at their defaults; federated ``SERVICE`` queries are left out, they would leave
the machine) to each endpoint: a warm-up request per query, then ``requests`` requests
spread over ``clients`` concurrent clients, stopped early after ``time_limit`` seconds.
It reports throughput (requests/s), latency percentiles (p50/p95/p99) and the ratios to
Oxigraph. Every response must be a 200 with the same number of result rows as Oxigraph's,
else the run reports it.

This is a measurement, not a test: nothing here asserts a speed.
"""

from __future__ import annotations

import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import requests

from kg.errors import KGError
from kg.query import NamedQuery, bind, list_named

__all__ = [
    "BenchError",
    "Endpoint",
    "Measurement",
    "format_report",
    "percentile",
    "run_bench",
]

_ACCEPT = "application/sparql-results+json"


class BenchError(KGError):
    """The benchmark cannot run: a server is missing or did not start."""


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A running endpoint under test."""

    name: str
    url: str


@dataclass(slots=True)
class Measurement:
    """Latencies (seconds) and wall time of one endpoint's run, plus problems seen."""

    endpoint: str
    latencies: list[float] = field(default_factory=list)
    wall: float = 0.0
    errors: list[str] = field(default_factory=list)
    per_query: dict[str, list[float]] = field(default_factory=dict)

    @property
    def throughput(self) -> float:
        """Successful requests per second of wall time."""
        return len(self.latencies) / self.wall if self.wall > 0 else 0.0


def percentile(values: Sequence[float], p: float) -> float:
    """The ``p``-th percentile (0-100) by linear interpolation; 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = (len(ordered) - 1) * p / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait(url: str, process: subprocess.Popen[bytes], log: Path, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text(errors="replace")[-800:]
            raise BenchError(f"{url}: server exited with {process.returncode}: {tail}")
        try:
            answer = requests.get(url, params={"query": "ASK {}"},
                                  headers={"Accept": _ACCEPT}, timeout=2)
            if answer.ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.25)
    raise BenchError(f"{url}: server not up after {seconds:.0f} s (log: {log})")


@contextmanager
def _server(
    name: str, argv: list[str], url: str, workdir: Path, *, startup: float = 120.0
) -> Iterator[Endpoint]:
    log = workdir / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, cwd=workdir)
    try:
        _wait(url, process, log, startup)
        yield Endpoint(name, url)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _need(binary: str, hint: str) -> str:
    path = shutil.which(binary)
    if path is None:
        raise BenchError(f"{binary} not found ({hint})")
    return path


def _rows(answer: requests.Response) -> int:
    data = answer.json()
    if "boolean" in data:
        return 1
    return len(data["results"]["bindings"])


def _measure(
    endpoint: Endpoint,
    queries: Sequence[tuple[str, str]],
    *,
    requests_per_query: int,
    clients: int,
    time_limit: float,
    expected_rows: dict[str, int],
) -> Measurement:
    result = Measurement(endpoint.name)
    session = requests.Session()
    for name, text in queries:  # warm-up, and the row counts to compare
        try:
            answer = session.post(endpoint.url, data={"query": text},
                                  headers={"Accept": _ACCEPT}, timeout=120)
        except requests.RequestException as exc:
            result.errors.append(f"{name}: {exc}")
            continue
        if answer.status_code != 200:
            result.errors.append(f"{name}: HTTP {answer.status_code} {answer.text[:120]!r}")
            continue
        rows = _rows(answer)
        if expected_rows.setdefault(name, rows) != rows:
            result.errors.append(f"{name}: {rows} rows, Oxigraph gave {expected_rows[name]}")
    jobs = [(name, text) for _ in range(requests_per_query) for name, text in queries]
    lock = threading.Lock()
    cursor = iter(jobs)
    deadline = time.monotonic() + time_limit

    def client() -> None:
        http = requests.Session()
        while time.monotonic() < deadline:
            with lock:
                job = next(cursor, None)
            if job is None:
                return
            name, text = job
            started = time.perf_counter()
            try:
                answer = http.post(endpoint.url, data={"query": text},
                                   headers={"Accept": _ACCEPT}, timeout=120)
                answer.content  # noqa: B018 - read the whole body inside the timing
            except requests.RequestException as exc:
                with lock:
                    result.errors.append(f"{name}: {exc}")
                continue
            elapsed = time.perf_counter() - started
            with lock:
                if answer.status_code == 200:
                    result.latencies.append(elapsed)
                    result.per_query.setdefault(name, []).append(elapsed)
                else:
                    result.errors.append(f"{name}: HTTP {answer.status_code}")

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.wall = time.perf_counter() - started
    if next(cursor, None) is not None:
        result.errors.append(f"stopped at the {time_limit:.0f} s limit before all requests")
    return result


def _bench_queries(named: Sequence[NamedQuery]) -> list[tuple[str, str]]:
    return [(q.name, bind(q, {})) for q in named if "SERVICE" not in q.text.upper()]


def run_bench(
    data: Path,
    *,
    requests_per_query: int = 20,
    clients: int = 4,
    time_limit: float = 60.0,
    queries: Sequence[NamedQuery] | None = None,
    endpoints: Sequence[str] = ("oxigraph", "kg-serve", "kg-serve-nocache", "rdflib-endpoint"),
) -> list[Measurement]:
    """Start the endpoints on ``data`` (a Turtle file), run the queries on each in turn
    (Oxigraph first, the reference), stop them, and return one :class:`Measurement` each.

    Raises :class:`BenchError` if a server binary is missing or a server does not start.
    """
    if not data.is_file():
        raise BenchError("no such data file (run `kg build` first)", path=data)
    if data.suffix.lower() != ".ttl":
        raise BenchError("not a Turtle file (.ttl): the endpoints all load Turtle", path=data)
    chosen = _bench_queries(list_named() if queries is None else queries)
    expected: dict[str, int] = {}
    results = []
    with tempfile.TemporaryDirectory(prefix="kg-bench-") as tmp:
        workdir = Path(tmp)
        for name in endpoints:
            with ExitStack() as stack:
                endpoint = stack.enter_context(_start(name, data.resolve(), workdir))
                results.append(_measure(
                    endpoint, chosen, requests_per_query=requests_per_query, clients=clients,
                    time_limit=time_limit, expected_rows=expected,
                ))
    return results


@contextmanager
def _start(name: str, data: Path, workdir: Path) -> Iterator[Endpoint]:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    if name == "oxigraph":
        binary = _need("oxigraph", "pip install oxigraph")
        location = workdir / "oxigraph-db"
        done = subprocess.run(
            [binary, "load", "--location", str(location), "--file", str(data)],
            capture_output=True, text=True, check=False,
        )
        if done.returncode != 0:
            raise BenchError(f"oxigraph load failed: {done.stderr.strip()[-400:]}", path=data)
        argv = [binary, "serve-read-only", "--location", str(location),
                "--bind", f"127.0.0.1:{port}"]
        url = f"{base}/query"
    elif name in ("kg-serve", "kg-serve-nocache"):
        # kg serve caches answers; the nocache run measures query evaluation itself.
        argv = [sys.executable, "-m", "kg", "serve", str(data),
                "--host", "127.0.0.1", "--port", str(port),
                "--cache", "0" if name == "kg-serve-nocache" else "64"]
        url = f"{base}/sparql"
    elif name == "rdflib-endpoint":
        binary = _need("rdflib-endpoint", "pip install rdflib-endpoint uvicorn")
        argv = [binary, "serve", "--host", "127.0.0.1", "--port", str(port), str(data)]
        url = f"{base}/"  # its CLI serves the endpoint at the root
    else:
        raise BenchError(f"unknown endpoint {name!r}")
    with _server(name, argv, url, workdir) as endpoint:
        yield endpoint


def format_report(results: Sequence[Measurement], *, reference: str = "oxigraph") -> str:
    """A Markdown table: requests, throughput, p50/p95/p99 in ms, and throughput ratios to
    the reference; then any errors seen."""
    ref = next((m for m in results if m.endpoint == reference), None)
    lines = [
        "| endpoint | requests | req/s | p50 ms | p95 ms | p99 ms | req/s ÷ Oxigraph "
        "| p50 ÷ Oxigraph |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for m in results:
        ratio = m.throughput / ref.throughput if ref and ref.throughput else float("nan")
        ref_p50 = percentile(ref.latencies, 50) if ref else 0.0
        p50 = percentile(m.latencies, 50)
        lat_ratio = p50 / ref_p50 if ref_p50 else float("nan")
        lines.append(
            f"| {m.endpoint} | {len(m.latencies)} | {m.throughput:.1f} | "
            f"{p50 * 1000:.1f} | {percentile(m.latencies, 95) * 1000:.1f} | "
            f"{percentile(m.latencies, 99) * 1000:.1f} | {ratio:.2f} | {lat_ratio:.2f} |"
        )
    per_query = sorted({q for m in results for q in m.per_query})
    if per_query:
        lines += ["", "Median latency per query (ms):", "",
                  "| query | " + " | ".join(m.endpoint for m in results) + " |",
                  "|---|" + "---:|" * len(results)]
        for q in per_query:
            cells = [
                f"{statistics.median(m.per_query[q]) * 1000:.1f}" if m.per_query.get(q) else "–"
                for m in results
            ]
            lines.append(f"| {q} | " + " | ".join(cells) + " |")
    for m in results:
        for error in m.errors[:10]:
            lines.append(f"\n{m.endpoint}: {error}")
        if len(m.errors) > 10:
            lines.append(f"\n{m.endpoint}: … {len(m.errors) - 10} more errors")
    return "\n".join(lines) + "\n"
