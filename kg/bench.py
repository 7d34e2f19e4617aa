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

import contextlib
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from http.client import HTTPConnection, HTTPException
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests

from kg.errors import KGError
from kg.paths import installed_program
from kg.query import NamedQuery, bind, list_named

__all__ = [
    "ENDPOINTS",
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
    pid: int = 0


@dataclass(slots=True)
class Measurement:
    """Latencies (seconds) and wall time of one endpoint's run, plus problems seen."""

    endpoint: str
    latencies: list[float] = field(default_factory=list)
    wall: float = 0.0
    errors: list[str] = field(default_factory=list)
    per_query: dict[str, list[float]] = field(default_factory=dict)
    #: Throughput of each round (requests/s); the report gives their median.
    rounds: list[float] = field(default_factory=list)
    #: CPU seconds of the server's processes and of the benchmark's own client processes.
    server_cpu: float = 0.0
    client_cpu: float = 0.0

    @property
    def throughput(self) -> float:
        """Median of the rounds' throughputs (successful requests per second of wall time);
        with no rounds recorded, requests over the whole wall time."""
        if self.rounds:
            return statistics.median(self.rounds)
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
    name: str, argv: list[str], url: str, workdir: Path, *, startup: float = 120.0,
    load: Callable[[str], None] | None = None,
) -> Iterator[Endpoint]:
    log = workdir / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, cwd=workdir)
    try:
        _wait(url, process, log, startup)
        if load is not None:
            load(url)
        yield Endpoint(name, url, process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) of process ``pid`` and its live descendants, from
    /proc (Linux); 0.0 where /proc is not readable."""
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    children: dict[int, list[int]] = {}
    cpu: dict[int, float] = {}
    for entry in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = entry.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        child = int(entry.parent.name)
        children.setdefault(int(fields[1]), []).append(child)
        cpu[child] = (int(fields[11]) + int(fields[12])) / tick
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        total += cpu.get(current, 0.0)
        todo += children.get(current, [])
    return total


def _need(binary: str, hint: str) -> str:
    path = installed_program(binary)
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
    jobs: Sequence[tuple[str, str]],
    *,
    clients: int,
    time_limit: float,
    expected_rows: dict[str, int],
    result: Measurement,
    warm: bool,
) -> None:
    """One round: ``jobs`` (query name, text) spread over ``clients`` processes; adds its
    latencies, throughput and CPU to ``result``. With ``warm``, first one untimed request
    per query, its row count checked against the reference's."""
    session = requests.Session()
    if warm:
        # One request per query (its first parameter), before the timing starts.
        for name, text in {name: text for name, text in reversed(jobs)}.items():
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
            if expected_rows.setdefault(text, rows) != rows:
                result.errors.append(f"{name}: {rows} rows, the reference gave "
                                     f"{expected_rows[text]}")
    # Bodies encoded before the clock starts. Each client is a process of its own (forked:
    # no shared GIL, which capped a threaded client near 2,500 requests/s) with one
    # keep-alive connection of the standard library's http.client (about 0.2 ms of client
    # CPU a request, against 1.2 ms for requests: on a 2-core machine the client shares
    # the cores with the server, and a heavy client flattens every ratio towards 1).
    encoded = [(name, urlencode({"query": text}).encode()) for name, text in jobs]
    context = multiprocessing.get_context("fork")
    cursor = context.Value("l", 0)
    go = context.Event()
    pipes = [context.Pipe(duplex=False) for _ in range(clients)]
    processes = [context.Process(target=_client, daemon=True,
                                 args=(endpoint.url, encoded, cursor, go, time_limit, sender))
                 for _, sender in pipes]
    for process in processes:
        process.start()
    server_before = _tree_cpu(endpoint.pid) if endpoint.pid else 0.0
    started = time.perf_counter()
    go.set()
    done = 0
    reports = []
    for receiver, sender in pipes:
        sender.close()
        reports.append(receiver.recv())
    # The wall time ends with the last answer, not with the clients' exits (a forked
    # client of a process that loaded a store takes a while to tear down).
    wall = time.perf_counter() - started
    for process in processes:
        process.join()
    for answered, errors, cpu in reports:
        done += len(answered)
        for name, elapsed in answered:
            result.latencies.append(elapsed)
            result.per_query.setdefault(name, []).append(elapsed)
        result.errors.extend(errors)
        result.client_cpu += cpu
    if endpoint.pid:
        result.server_cpu += _tree_cpu(endpoint.pid) - server_before
    result.wall += wall
    result.rounds.append(done / wall if wall > 0 else 0.0)
    if cursor.value < len(encoded):
        result.errors.append(f"stopped at the {time_limit:.0f} s limit before all requests")


def _client(url: str, jobs: Sequence[tuple[str, bytes]], cursor: Any, go: Any,
            time_limit: float, out: Connection) -> None:
    """One benchmark client (a forked process): takes the next job from the shared
    ``cursor`` until none is left or ``time_limit`` passes, and sends back the latencies
    of the 200 answers (query name, seconds), the problems seen and its own CPU seconds."""
    target = urlsplit(url)
    headers = {"Accept": _ACCEPT, "Content-Type": "application/x-www-form-urlencoded"}
    http = HTTPConnection(target.hostname or "127.0.0.1", target.port, timeout=120)
    answered: list[tuple[str, float]] = []
    errors: list[str] = []
    with contextlib.suppress(OSError):
        http.connect()  # before the clock: the benchmark measures keep-alive requests
    go.wait()
    cpu = time.process_time()
    deadline = time.monotonic() + time_limit
    while time.monotonic() < deadline:
        with cursor.get_lock():
            index = cursor.value
            cursor.value = index + 1
        if index >= len(jobs):
            break
        name, body = jobs[index]
        started = time.perf_counter()
        try:
            http.request("POST", target.path, body, headers)
            answer = http.getresponse()
            answer.read()  # the whole body, inside the timing
        except (OSError, HTTPException) as exc:
            http.close()  # a fresh connection for the next request
            errors.append(f"{name}: {exc}")
            continue
        elapsed = time.perf_counter() - started
        if answer.status == 200:
            answered.append((name, elapsed))
        else:
            errors.append(f"{name}: HTTP {answer.status}")
    http.close()
    out.send((answered, errors, time.process_time() - cpu))
    out.close()


def _places(data: Path, limit: int) -> list[str]:
    """Up to ``limit`` distinct twinned places of ``data`` (IRIs, sorted), read locally."""
    import pyoxigraph

    store = pyoxigraph.Store()
    store.bulk_load(path=str(data))
    rows = store.query(
        "SELECT DISTINCT ?p WHERE { ?p <https://w3id.org/twinning-kg/ontology#twinnedWith> ?o }"
        f" ORDER BY ?p LIMIT {int(limit)}"
    )
    return [row[0].value for row in rows]  # type: ignore[union-attr]


def _bench_queries(
    named: Sequence[NamedQuery], places: Sequence[str], requests_per_query: int
) -> list[tuple[str, str]]:
    """The jobs of one round: each query ``requests_per_query`` times; a query with a
    ``place`` parameter ten times as often, with a different place each time (cycling
    through ``places``)."""
    jobs: list[tuple[str, str]] = []
    for q in named:
        if "SERVICE" in q.text.upper():
            continue  # federated: it would leave the machine
        takes_place = any(p.name == "place" for p in q.params)
        # A parameterised query runs ten times as often, each time with another place:
        # hundreds of distinct parameters at the defaults.
        count = requests_per_query * (_PARAM_FACTOR if takes_place and places else 1)
        for k in range(count):
            params = {"place": places[k % len(places)]} if takes_place and places else {}
            jobs.append((q.name, bind(q, params)))
    # Interleaved, so concurrent clients do not all run one query at once.
    return jobs[::2] + jobs[1::2]


_PARAM_FACTOR = 10

#: Endpoints ``kg bench`` knows; ``oxigraph-memory`` is the reference.
ENDPOINTS = ("oxigraph-memory", "oxigraph", "kg-serve", "kg-serve-nocache", "rdflib-endpoint")


def run_bench(
    data: Path,
    *,
    requests_per_query: int = 20,
    clients: int = 4,
    time_limit: float = 60.0,
    queries: Sequence[NamedQuery] | None = None,
    endpoints: Sequence[str] = ("oxigraph-memory", "oxigraph", "kg-serve", "kg-serve-nocache",
                                "rdflib-endpoint"),
    rounds: int = 3,
) -> list[Measurement]:
    """Start the endpoints on ``data`` (a Turtle file), all at once, then run ``rounds``
    rounds of the queries, the endpoints taking turns (the order rotates each round, so no
    endpoint always runs first or last); one :class:`Measurement` per endpoint, its
    throughput the median of its rounds. The first endpoint is the reference whose row
    counts the others must match. A query with a ``place`` parameter gets a different place
    per request (the graph's twinned places), so a cache answers only repeats.

    Raises :class:`BenchError` if a server binary is missing or a server does not start.
    """
    if not data.is_file():
        raise BenchError("no such data file (run `kg build` first)", path=data)
    if data.suffix.lower() != ".ttl":
        raise BenchError("not a Turtle file (.ttl): the endpoints all load Turtle", path=data)
    unknown = [e for e in endpoints if e not in ENDPOINTS]
    if unknown:
        raise BenchError(f"unknown endpoint {', '.join(unknown)} (known: {', '.join(ENDPOINTS)})")
    places = _places(data.resolve(), max(requests_per_query, 1) * _PARAM_FACTOR)
    chosen = list_named() if queries is None else queries
    jobs = _bench_queries(chosen, places, requests_per_query)
    expected: dict[str, int] = {}
    results = {name: Measurement(name) for name in endpoints}
    with tempfile.TemporaryDirectory(prefix="kg-bench-") as tmp, ExitStack() as stack:
        workdir = Path(tmp)
        running = [stack.enter_context(_start(name, data.resolve(), workdir))
                   for name in endpoints]
        for r in range(max(rounds, 1)):
            order = running[r % len(running):] + running[: r % len(running)]
            if r == 0:
                order = running  # the reference warms first and sets the row counts
            for endpoint in order:
                _measure(endpoint, jobs, clients=clients, time_limit=time_limit,
                         expected_rows=expected, result=results[endpoint.name], warm=r == 0)
    return [results[name] for name in endpoints]


@contextmanager
def _start(name: str, data: Path, workdir: Path) -> Iterator[Endpoint]:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    load: Callable[[str], None] | None = None
    if name == "oxigraph-memory":
        binary = _need("oxigraph", "pip install oxigraph")
        argv = [binary, "serve", "--bind", f"127.0.0.1:{port}"]
        url = f"{base}/query"

        def load(_url: str) -> None:
            # In memory: the data goes in through the Graph Store Protocol once it is up.
            answer = requests.post(f"{base}/store?default", data=data.read_bytes(),
                                   headers={"Content-Type": "text/turtle"}, timeout=600)
            if answer.status_code not in (200, 201, 204):
                raise BenchError(f"oxigraph (memory): loading failed: HTTP {answer.status_code}")
    elif name == "oxigraph":
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
    with _server(name, argv, url, workdir, load=load) as endpoint:
        yield endpoint


def format_report(results: Sequence[Measurement], *, reference: str | None = None) -> str:
    """A Markdown table: requests, throughput (median of the rounds), p50/p95/p99 in ms over
    every round, the ratios to the reference (the first endpoint unless named), and the CPU
    seconds of the server and of the benchmark's client; then any errors seen."""
    ref_name = reference or (results[0].endpoint if results else "")
    ref = next((m for m in results if m.endpoint == ref_name), None)
    lines = [
        f"| endpoint | requests | rounds | req/s (median) | p50 ms | p95 ms | p99 ms "
        f"| req/s ÷ {ref_name} | p50 ÷ {ref_name} | server CPU s | client CPU s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for m in results:
        ratio = m.throughput / ref.throughput if ref and ref.throughput else float("nan")
        ref_p50 = percentile(ref.latencies, 50) if ref else 0.0
        p50 = percentile(m.latencies, 50)
        lat_ratio = p50 / ref_p50 if ref_p50 else float("nan")
        lines.append(
            f"| {m.endpoint} | {len(m.latencies)} | {len(m.rounds)} | {m.throughput:.1f} | "
            f"{p50 * 1000:.1f} | {percentile(m.latencies, 95) * 1000:.1f} | "
            f"{percentile(m.latencies, 99) * 1000:.1f} | {ratio:.2f} | {lat_ratio:.2f} | "
            f"{m.server_cpu:.1f} | {m.client_cpu:.1f} |"
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
