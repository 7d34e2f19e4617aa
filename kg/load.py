"""Push an RDF file into any triple store over the SPARQL 1.1 Graph Store Protocol.

:func:`load` reads the file (N-Triples by default; any format pyoxigraph parses) and sends
it as N-Triples in batches to a Graph Store Protocol endpoint, after checking with a SPARQL
``COUNT`` that the store's query endpoint answers (so a wrong one fails before anything
changes).

* Appending ``POST`` every batch to the target graph, then checks the count; a failure
  says exactly how many triples the store acknowledged before it.
* Replacing is atomic where the store has a SPARQL 1.1 Update endpoint (guessed for
  Oxigraph, Virtuoso and Fuseki, or given): the batches go into a fresh staging graph, its
  triple count is checked, then one ``MOVE <staging> TO <target>`` replaces the target in
  one step (the store's own transaction). Until the ``MOVE``, the target is untouched; on a
  failure the staging graph is dropped, or, if the store cannot be reached any more, named
  in the message. Two stores need more for a large graph: Virtuoso refuses a ``MOVE``
  whose transaction log outgrows ``TransactionAfterImageLimit`` (50 MB by default; SR325,
  rolled back), so it is sent again outside the log (still one transaction) and followed
  by a checkpoint; Oxigraph holds a ``MOVE`` in memory (3.8 KB a triple, measured), so
  past ``max_move_triples`` the replace is refused before anything is sent. Without an
  update endpoint, replacing means a ``PUT`` then ``POST`` requests, which loses the old
  graph if the load fails midway: only on explicit request.

Tested against the Oxigraph server (GSP at ``/store``, queries at ``/query``) and Virtuoso
(GSP at ``/sparql-graph-crud-auth`` with HTTP digest authentication, queries at ``/sparql``;
Virtuoso has no default graph there, so give it ``graph``).

Batches never split the triples that share a blank node: a store scopes blank-node labels
to one request, so splitting them would break one node into several.
"""

from __future__ import annotations

import contextlib
import math
import queue
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

import pyoxigraph as ox
import requests
from requests.auth import AuthBase, HTTPBasicAuth, HTTPDigestAuth

from kg import __version__
from kg.errors import LoadError
from kg.loadstate import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_CONNECTIONS,
    DEFAULT_MAX_MOVE_TRIPLES,
    Batches,
    LoadState,
    scan_lines,
)
from kg.progress import Progress

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_CONNECTIONS",
    "DEFAULT_MAX_MOVE_TRIPLES",
    "STAGING_PREFIX",
    "USER_AGENT",
    "Auth",
    "LoadResult",
    "batches",
    "count_triples",
    "guess_query_endpoint",
    "guess_update_endpoint",
    "load",
    "read_triples",
]

USER_AGENT = f"twinning-kg/{__version__} (kg load; SPARQL 1.1 Graph Store Protocol client)"
_NT = "application/n-triples"
_FORMATS = {
    ".nt": ox.RdfFormat.N_TRIPLES,
    ".ttl": ox.RdfFormat.TURTLE,
    ".trig": ox.RdfFormat.TRIG,
    ".nq": ox.RdfFormat.N_QUADS,
    ".jsonld": ox.RdfFormat.JSON_LD,
    ".rdf": ox.RdfFormat.RDF_XML,
    ".owl": ox.RdfFormat.RDF_XML,
}
# Known GSP path -> query path pairs (Oxigraph, Virtuoso, Fuseki).
_QUERY_PATHS = (
    (re.compile(r"/store/?$"), "/query"),
    (re.compile(r"/sparql-graph-crud(-auth)?/?$"), "/sparql"),
    (re.compile(r"/data/?$"), "/query"),
)
# Known GSP path -> SPARQL Update path pairs. Virtuoso takes updates on /sparql-auth with the
# same digest credentials as its authenticated Graph Store endpoint.
_UPDATE_PATHS = (
    (re.compile(r"/store/?$"), "/update"),
    (re.compile(r"/sparql-graph-crud-auth/?$"), "/sparql-auth"),
    (re.compile(r"/sparql-graph-crud/?$"), "/sparql"),
    (re.compile(r"/data/?$"), "/update"),
)
_OXIGRAPH_GSP = re.compile(r"/store/?$")
#: Prefix of the staging graphs of an atomic replace (a UUID follows).
STAGING_PREFIX = "urn:twinning-kg:load-staging:"
_ABSOLUTE_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`]*$")


def _oxigraph_gsp(endpoint: str) -> bool:
    """Whether the Graph Store ``endpoint`` is an Oxigraph server's (its ``/store`` path)."""
    return bool(_OXIGRAPH_GSP.search(urlsplit(endpoint).path))


@dataclass(frozen=True, slots=True)
class Auth:
    """Credentials for the store: ``scheme`` is ``basic`` or ``digest`` (Virtuoso)."""

    user: str
    password: str
    scheme: Literal["basic", "digest"] = "basic"

    def requests_auth(self) -> AuthBase:
        """The :mod:`requests` authentication handler for these credentials."""
        if self.scheme == "digest":
            return HTTPDigestAuth(self.user, self.password)
        return HTTPBasicAuth(self.user, self.password)


@dataclass(frozen=True, slots=True)
class LoadResult:
    """What :func:`load` did: triples sent, requests made, and the store's counts."""

    endpoint: str
    graph: str | None
    triples: int
    requests: int
    before: int | None
    after: int | None
    seconds: float
    mode: Literal["append", "atomic", "non-atomic"] = "append"
    #: How the MOVE of an atomic replace was made, where the store needed more than one.
    move_note: str = ""

    def summary(self) -> str:
        """One line for people."""
        target = f"<{self.graph}>" if self.graph else "the default graph"
        checked = "" if self.after is None else f"; the store now holds {self.after} there"
        how = {"append": "",
               "atomic": f" (replaced in one step: staging graph, then MOVE{self.move_note})",
               "non-atomic": " (replaced: PUT, then POST)"}[self.mode]
        return (
            f"loaded {self.triples} triples into {target} at {self.endpoint}{how} "
            f"in {self.requests} request(s), {self.seconds:.1f} s{checked}"
        )


def read_triples(path: Path) -> list[ox.Triple]:
    """The distinct triples of the RDF file ``path``, in file order.

    The format comes from the extension (``.nt .ttl .trig .nq .jsonld .rdf .owl``); quads
    lose their graph name. Raises :class:`LoadError` (with ``file:line`` where known) if the
    file is missing, has an unknown extension or does not parse.
    """
    fmt = _FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise LoadError(
            f"unknown RDF file extension {path.suffix!r} (use one of {', '.join(_FORMATS)})",
            path=path,
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise LoadError(f"cannot read: {exc.strerror or exc}", path=path) from exc
    seen: dict[ox.Triple, None] = {}
    try:
        for item in ox.parse(data, format=fmt):
            seen[item.triple if isinstance(item, ox.Quad) else item] = None
    except SyntaxError as exc:
        raise LoadError(_syntax_message(exc), path=path, line=exc.lineno) from exc
    return list(seen)


def _syntax_message(exc: SyntaxError) -> str:
    # pyoxigraph's message already says "at line N between columns ..."; keep it short.
    return f"not valid RDF: {exc.msg}"


def batches(triples: Sequence[ox.Triple], size: int) -> Iterator[list[ox.Triple]]:
    """Split ``triples`` into batches of about ``size`` triples, in order.

    Triples linked through shared blank nodes stay in one batch (which may then exceed
    ``size``), because stores scope blank-node labels to one request.
    Raises :class:`ValueError` if ``size`` < 1.
    """
    if size < 1:
        raise ValueError("batch size must be at least 1")
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def blanks(t: ox.Triple) -> list[str]:
        return [n.value for n in (t.subject, t.object) if isinstance(n, ox.BlankNode)]

    for t in triples:
        ids = blanks(t)
        for other in ids[1:]:
            parent[find(other)] = find(ids[0])
    # Units: each triple alone, or all triples of one blank-node component together,
    # placed where the component first appears.
    units: dict[object, list[ox.Triple]] = {}
    for index, t in enumerate(triples):
        ids = blanks(t)
        key: object = ("b", find(ids[0])) if ids else index
        units.setdefault(key, []).append(t)
    batch: list[ox.Triple] = []
    for unit in units.values():
        if batch and len(batch) + len(unit) > size:
            yield batch
            batch = []
        batch.extend(unit)
    if batch:
        yield batch


def _ntriples(triples: Sequence[ox.Triple]) -> bytes:
    return "".join(f"{t} .\n" for t in triples).encode("utf-8")


def _guess(endpoint: str, table: tuple[tuple[re.Pattern[str], str], ...]) -> str | None:
    parts = urlsplit(endpoint)
    for pattern, path in table:
        if pattern.search(parts.path):
            return urlunsplit((parts.scheme, parts.netloc, pattern.sub(path, parts.path), "", ""))
    return None


def guess_query_endpoint(endpoint: str) -> str | None:
    """The SPARQL query endpoint of the store whose Graph Store endpoint is ``endpoint``,
    for the stores whose layout we know (Oxigraph, Virtuoso, Fuseki); else ``None``."""
    return _guess(endpoint, _QUERY_PATHS)


def guess_update_endpoint(endpoint: str) -> str | None:
    """The SPARQL Update endpoint of the store whose Graph Store endpoint is ``endpoint``
    (Oxigraph ``/update``, Virtuoso ``/sparql-auth``, Fuseki ``/update``); else ``None``."""
    return _guess(endpoint, _UPDATE_PATHS)


def _check_url(url: str, option: str) -> None:
    """Raise :class:`LoadError` unless ``url`` is an absolute http(s) URL with a host."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError as exc:
        raise LoadError(f"{option} is not a valid URL ({exc}): {url!r}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise LoadError(f"{option} must be an http(s) URL with a host, not {url!r}")


def _reason(exc: requests.RequestException, timeout: float) -> str:
    """The gist of a connection failure (requests' own text is several lines deep)."""
    if isinstance(exc, requests.Timeout):
        return f"no answer within {timeout:g} s"
    text = str(exc)
    match = re.search(r"\[Errno -?\d+\] ([^'\")]+)", text)
    if match:
        return match.group(1).strip()
    if isinstance(exc, requests.ConnectionError) and "RemoteDisconnected" in text:
        return "the connection was closed without an answer"
    return " ".join(text.split())[:200]


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _target(endpoint: str, graph: str | None) -> tuple[str, dict[str, str]]:
    if graph is None:
        joiner = "&" if urlsplit(endpoint).query else "?"
        return f"{endpoint}{joiner}default", {}
    return endpoint, {"graph": graph}


def _error_text(response: requests.Response) -> str:
    """The gist of an error body: Virtuoso answers HTML with the message in <xmp>."""
    text = response.text
    match = re.search(r"<xmp>(.*?)</xmp>", text, re.S | re.I)
    if match:
        text = match.group(1)
    text = unescape(re.sub(r"<[^>]+>", " ", text))
    text = " ".join(text.split())
    return text[:300] or response.reason or ""


def _check_status(response: requests.Response, what: str, url: str) -> None:
    if response.ok:
        return
    if response.status_code in (401, 403):
        raise LoadError(
            f"{what} refused by {url}: HTTP {response.status_code} "
            "(give --user and --password; Virtuoso needs --auth digest)"
        )
    raise LoadError(f"{what} failed at {url}: HTTP {response.status_code}: {_error_text(response)}")


def _same_origin(a: str, b: str) -> bool:
    pa, pb = urlsplit(a), urlsplit(b)
    return (pa.scheme, pa.netloc) == (pb.scheme, pb.netloc)


def count_triples(
    query_endpoint: str,
    graph: str | None,
    *,
    session: requests.Session | None = None,
    auth: Auth | None = None,
    timeout: float = 60.0,
) -> int:
    """The number of triples the store holds in ``graph`` (``None``: its default graph),
    by a SPARQL ``COUNT`` against ``query_endpoint``.

    Raises :class:`LoadError` if the endpoint is unreachable or answers something else
    than a one-row JSON result with an integer.
    """
    pattern = "{ ?s ?p ?o }" if graph is None else f"{{ GRAPH <{graph}> {{ ?s ?p ?o }} }}"
    query = f"SELECT (COUNT(*) AS ?n) WHERE {pattern}"
    http = session or requests.Session()
    try:
        response = http.post(
            query_endpoint,
            data={"query": query},
            headers={"Accept": "application/sparql-results+json", "User-Agent": USER_AGENT},
            auth=None if auth is None else auth.requests_auth(),
            timeout=timeout,
        )
    except requests.RequestException as exc:
        raise LoadError(f"cannot reach the query endpoint {query_endpoint} "
                        f"({_reason(exc, timeout)})") from exc
    _check_status(response, "the triple count query", query_endpoint)
    try:
        binding = response.json()["results"]["bindings"][0]["n"]
        return int(binding["value"])
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise LoadError(
            f"the query endpoint {query_endpoint} answered the COUNT query with "
            f"something else than SPARQL JSON results: {response.text[:200]!r}"
        ) from exc


def _update(
    session: requests.Session, update_endpoint: str, text: str, auth: Auth | None,
    timeout: float, *, what: str | None = None, form: str = "update",
) -> requests.Response:
    """Run the SPARQL Update ``text`` (or, with ``form="query"``, the query) and return the
    answer. Raises :class:`LoadError` (refusal, with the store's message; ``what`` names the
    request, by default the update's first words) or ``requests.RequestException`` (no
    answer: the caller says what that means)."""
    response = session.post(
        update_endpoint,
        data={form: text},
        auth=None if auth is None else auth.requests_auth(),
        timeout=timeout,
    )
    _check_status(response, what or f"the update {text.split(' <', 1)[0]}", update_endpoint)
    return response


def _graph_term(graph: str | None) -> str:
    return "DEFAULT" if graph is None else f"<{graph}>"


class _Loader:
    """One load: the session, the endpoints, the credentials and the triples sent so far."""

    def __init__(self, endpoint: str, auth: Auth | None, query_endpoint: str | None,
                 timeout: float, session: requests.Session, connections: int = 1) -> None:
        self.endpoint = endpoint
        self.auth = auth
        self.query_endpoint = query_endpoint
        self.timeout = timeout
        self.session = session
        self.connections = connections
        # One handler for every batch: a digest handler answers the store's challenge once
        # and signs the next requests at once; a new one a batch sent each body twice.
        self.batch_auth = None if auth is None else auth.requests_auth()
        # Credentials go to the query endpoint only on the same origin as the store.
        same = query_endpoint is not None and _same_origin(endpoint, query_endpoint)
        self.query_auth = auth if same else None

    def count(self, graph: str | None) -> int:
        assert self.query_endpoint is not None
        return count_triples(self.query_endpoint, graph, session=self.session,
                             auth=self.query_auth, timeout=self.timeout)

    def first_contact(self, graph: str | None) -> int:
        """The target's triple count, the first request of a load: an unreachable store is
        reported as such, not as a query endpoint problem."""
        assert self.query_endpoint is not None
        try:
            return self.count(graph)
        except LoadError as exc:
            cause = exc.__cause__
            if isinstance(cause, requests.ConnectionError) and _same_origin(
                    self.endpoint, self.query_endpoint):
                raise LoadError(
                    f"cannot reach the store at {_origin(self.endpoint)} "
                    f"({_reason(cause, self.timeout)}); nothing was sent"
                ) from cause
            raise LoadError(f"{exc.message}; nothing was sent") from cause

    def send(self, batches: Batches, graph: str | None, *,
             put_first: bool, total: int, state: str) -> int:
        """Send the batches to ``graph``, up to ``connections`` at a time (the first alone
        when it is a ``PUT``), acknowledged in order; returns the triples sent (from
        ``batches.sent`` on, when resuming). On a failure, waits for the batches sent beside
        the failed one and raises :class:`LoadError` saying exactly what the store
        acknowledged (before it, and beside it), then ``state`` (and how to resume, if a
        state file is kept)."""
        url, params = _target(self.endpoint, graph)
        bulk = _oxigraph_gsp(self.endpoint)
        if bulk:
            # Oxigraph's bulk path: no transaction per request, no second check of a file
            # already checked strictly; five times faster than a transaction a batch, as
            # fast as `oxigraph load` (bench/README.md). A staging graph is still moved in
            # one transaction; an appended batch that fails may be left in part, which the
            # message says (sending it again is harmless: the graph is a set).
            params = {**params, "no_transaction": "", "lenient": ""}
        partly = "may hold part or all of that batch" if bulk else "may or may not hold that batch"
        sent = batches.sent
        # (index, method, triples, end offset, body, the request under way), oldest first
        pending: deque[tuple[int, str, int, int, bytes, Future[requests.Response]]] = deque()
        senders = _Senders(self.connections, self.session.headers, url, params,
                           self.batch_auth, self.timeout)

        def settle() -> None:
            nonlocal sent
            index, method, count, position, body, future = pending.popleft()
            what = (f"{method} of batch {index + 1}/{batches.count} ({count} triples; "
                    f"{sent} of {total} triples acknowledged before it)")
            try:
                response = future.result()
                for attempt in range(1, _DEADLOCK_RETRIES + 1):
                    if not _deadlocked(response):
                        break
                    # The store rolled the batch back (two batches under way can deadlock
                    # in Virtuoso): sent again, on the next free connection.
                    time.sleep(0.1 * attempt)
                    response = senders.submit(method, body).result()
                _check_status(response, what, self.endpoint)
            except requests.RequestException as exc:
                raise LoadError(
                    f"cannot reach the store at {_origin(self.endpoint)} during the {what}: "
                    f"{_reason(exc, self.timeout)}; the store {partly}{beside()}{state}"
                ) from exc
            except LoadError as exc:
                left = f"; the store {partly}" if bulk else ""
                raise LoadError(f"{exc.message}{left}{beside()}{state}") from exc
            sent += count
            batches.acknowledged(sent, position)

        def beside() -> str:
            # The batches under way beside a failed one: waited for, and said what became
            # of them (not acknowledged in the state file: a resumed load sends them again).
            if not pending:
                return ""
            taken = 0
            for *_, future in pending:
                with contextlib.suppress(requests.RequestException):
                    taken += future.result().ok
            numbers = ", ".join(str(item[0] + 1) for item in pending)
            return (f"; of the batches sent beside it ({numbers}), the store acknowledged "
                    f"{taken}")

        try:
            for index, (body, count, position) in enumerate(batches, start=batches.first):
                method = "PUT" if put_first and index == 0 else "POST"
                pending.append((index, method, count, position, body,
                                senders.submit(method, body)))
                if method == "PUT" or len(pending) >= self.connections:
                    settle()  # a PUT alone: it replaces what the store holds
            while pending:
                settle()
        finally:
            senders.close()
        return sent


#: How often a batch the store answered "transaction deadlocked" is sent again.
_DEADLOCK_RETRIES = 5


def _deadlocked(response: requests.Response) -> bool:
    """Whether the store refused the request as a deadlocked transaction, which it rolled
    back (Virtuoso: ``SR172: Transaction deadlocked``): safe to send again."""
    return response.status_code == 500 and (
        "SR172" in response.text or "deadlock" in response.text.lower())


class _Senders:
    """``count`` daemon threads, each with its own session (a Session is not thread-safe;
    the digest handler keeps its nonce per thread), sending the batches they are given.
    Daemon threads: Ctrl-C, or a failure, never waits for a store that does not answer."""

    def __init__(self, count: int, headers: Mapping[str, str | bytes], url: str,
                 params: dict[str, str], auth: AuthBase | None, timeout: float) -> None:
        self._work: queue.SimpleQueue[tuple[str, bytes, Future[requests.Response]] | None] = (
            queue.SimpleQueue())
        self._sessions: list[requests.Session] = []
        for _ in range(count):
            session = requests.Session()
            session.headers.update(headers)
            self._sessions.append(session)
            threading.Thread(target=self._run, args=(session, url, params, auth, timeout),
                             name="kg-load", daemon=True).start()

    def _run(self, session: requests.Session, url: str, params: dict[str, str],
             auth: AuthBase | None, timeout: float) -> None:
        while (item := self._work.get()) is not None:
            method, body, future = item
            try:
                future.set_result(session.request(
                    method, url, params=params, data=body, headers={"Content-Type": _NT},
                    auth=auth, timeout=timeout))
            except BaseException as exc:  # handed to the waiting thread
                future.set_exception(exc)

    def submit(self, method: str, body: bytes) -> Future[requests.Response]:
        """Send ``body`` by ``method`` on the next free connection."""
        future: Future[requests.Response] = Future()
        self._work.put((method, body, future))
        return future

    def close(self) -> None:
        """Let the threads end once their request is done; close the sessions."""
        for _ in self._sessions:
            self._work.put(None)
        for session in self._sessions:
            session.close()


def load(
    endpoint: str,
    data_path: Path,
    graph: str | None = None,
    *,
    replace: bool = False,
    atomic: bool = True,
    auth: Auth | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    connections: int = DEFAULT_CONNECTIONS,
    max_move_triples: int = DEFAULT_MAX_MOVE_TRIPLES,
    query_endpoint: str | None = None,
    update_endpoint: str | None = None,
    check: bool = True,
    timeout: float = 120.0,
    state_path: Path | None = None,
    progress: bool | None = None,
) -> LoadResult:
    """Send the triples of ``data_path`` to the Graph Store endpoint ``endpoint``.

    A file as ``kg build`` writes ``twinning.nt`` (sorted distinct lines, no blank node) is
    streamed, batch by batch, as it is read; any other file is parsed whole first (see
    :mod:`kg.loadstate`). With ``state_path``, every acknowledged batch is recorded there,
    a failure leaves the staging graph of an atomic replace in the store and says how to
    resume, and the same call again resumes after the last acknowledged batch (the file and
    options must be the same); the file is removed once the load went through.
    ``progress``: a progress line on stderr (None: when it is a terminal).

    ``graph`` is the target graph IRI (``None``: the store's default graph, ``?default``).
    ``auth`` gives basic or digest credentials. Batches hold about ``batch_size`` triples
    (see :func:`batches`); up to ``connections`` of them are under way at once, on as many
    connections, and are acknowledged in order (a state file records only batches whose
    predecessors were all acknowledged).

    Without ``replace`` every batch is appended (``POST``). With ``replace`` and ``atomic``
    (the default) the batches go into a fresh staging graph (``STAGING_PREFIX`` + a UUID)
    through the store's SPARQL Update endpoint ``update_endpoint`` (guessed for Oxigraph,
    Virtuoso and Fuseki when not given; it is tried with a harmless ``DROP SILENT`` of the
    staging graph before anything is sent), whose count is checked, then moved (``MOVE``) onto
    the target in one step. A ``MOVE`` Virtuoso refuses as too large for its transaction log
    (SR325: rolled back, and the staging graph is seen full) is sent again outside the log,
    still one transaction, and a checkpoint is asked for (the summary says whether it was
    made). Into a store that holds a ``MOVE`` in memory (Oxigraph, told by its ``/store``
    path or ``Server`` header) a replace of more than ``max_move_triples`` triples (0: no
    limit) is refused before anything is sent. With ``replace`` and not ``atomic``, the
    first batch is a ``PUT`` (the old graph is gone from then on) and the rest ``POST``
    requests.

    With ``check`` (the default), the target's triple count is queried first through
    ``query_endpoint`` (guessed like the update endpoint), so a wrong or unreachable one
    fails before anything is sent, and again at the end: after a replace it must equal the
    file's distinct triple count; after an append it must lie between that count and the
    count before plus that count.

    Raises :class:`LoadError` (one line) for an unreadable file, a bad URL, graph IRI,
    batch size or timeout, a replace that cannot be atomic (no update endpoint known, or
    more triples than ``max_move_triples`` for a store that holds a ``MOVE`` in memory), an
    unreachable or refusing store (with the store's own message), or a failed count check.
    Every message about a failure after the first request says what the store holds, and
    only what was verified: for an append, how many triples it acknowledged; for a
    replace, what the target holds (after a failed ``MOVE`` the store is asked first: a
    store may apply it and still answer 500) and whether the staging graph was dropped or
    is left (by name), or may come back (a request the store did not answer in time).
    """
    _check_url(endpoint, "the Graph Store endpoint (--endpoint)")
    for url, option in ((query_endpoint, "--query-endpoint"),
                        (update_endpoint, "--update-endpoint")):
        if url is not None:
            _check_url(url, option)
    if graph is not None and not _ABSOLUTE_IRI.match(graph):
        raise LoadError(f"the graph name must be an absolute IRI, not {graph!r}")
    if batch_size < 1:
        raise LoadError(f"the batch size must be at least 1, not {batch_size}")
    if connections < 1:
        raise LoadError(f"the number of connections must be at least 1, not {connections}")
    if max_move_triples < 0:
        raise LoadError(f"the most triples to MOVE must be 0 (no limit) or more, not "
                        f"{max_move_triples}")
    if not (math.isfinite(timeout) and timeout > 0):
        raise LoadError(f"the timeout must be a positive number of seconds, not {timeout:g}")
    if check and query_endpoint is None:
        query_endpoint = guess_query_endpoint(endpoint)
        if query_endpoint is None:
            raise LoadError(
                f"cannot guess the query endpoint of {endpoint}: "
                "give --query-endpoint, or --no-check to skip the triple count"
            )
    if replace and atomic and update_endpoint is None:
        update_endpoint = guess_update_endpoint(endpoint)
        if update_endpoint is None:
            raise LoadError(
                f"--replace cannot be atomic at {endpoint}: no SPARQL Update endpoint is "
                "known for it; give --update-endpoint, or --replace-non-atomic to PUT the "
                "first batch (the old graph is then lost if the load fails midway)"
            )
    plan = _plan(data_path)
    mode: Literal["append", "atomic", "non-atomic"] = (
        "append" if not replace else "atomic" if atomic else "non-atomic")
    try:
        stat = data_path.stat()
    except OSError as exc:
        raise LoadError(f"cannot read: {exc.strerror or exc}", path=data_path) from exc
    state = LoadState(state_path, {
        "file": str(data_path.resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns,
        "endpoint": endpoint, "graph": graph, "mode": mode, "batch_size": batch_size,
    })
    if state_path is not None and plan.triples is not None:
        raise LoadError("--state resumes only a file sent as it streams (N-Triples in sorted, "
                        "distinct lines without blank nodes, as kg build writes); this one is "
                        "sent whole", path=data_path)
    resumed = state.resume()
    total = plan.total
    stage = Progress("kg load", enabled=progress)
    started = time.monotonic()
    if plan.triples is None:
        chunks = Batches.of_lines(
            data_path, batch_size, total, offset=int((resumed or {}).get("offset", 0)),
            sent=int((resumed or {}).get("sent", 0)), state=state, on_ack=stage.update)
    else:
        parts = list(batches(plan.triples, batch_size))
        chunks = Batches(((_ntriples(c), len(c), 0) for c in parts), len(parts),
                         on_ack=stage.update)
    try:
        stage.counting(f"sending {data_path.name}", total, "triples")
        stage.update(chunks.sent)
        with requests.Session() as session:
            session.headers["User-Agent"] = USER_AGENT
            loader = _Loader(endpoint, auth, query_endpoint, timeout, session, connections)
            if resumed is not None and "before" in resumed:
                before: int | None = resumed["before"]
            else:
                before = loader.first_contact(graph) if check else None
            state.save(before=before)
            move_note = ""
            if replace and atomic:
                assert update_endpoint is not None
                move_note = _replace_atomically(
                    loader, update_endpoint, chunks, graph, total, check=check, state=state,
                    max_move_triples=max_move_triples)
            else:
                what = "" if not replace else (
                    "; the target graph was replaced by the first batch, its old triples are "
                    "gone")
                if chunks.count == 0 and chunks.first == 0:
                    chunks = Batches(iter([(b"", 0, 0)]), 1, state=chunks.state)
                loader.send(chunks, graph, put_first=replace, total=total, state=what)
            after = None
            if check:
                stage("checking the triple count")
                after = loader.count(graph)
                expected = total
                if replace and after != expected:
                    raise LoadError(
                        f"the store holds {after} triples in the graph after the load, "
                        f"expected {expected}"
                    )
                if not replace and before is not None and not (
                    expected <= after <= before + expected
                ):
                    raise LoadError(
                        f"the store holds {after} triples in the graph after appending "
                        f"{expected} to {before}; expected between {expected} and "
                        f"{before + expected}"
                    )
    except LoadError as exc:
        if state.path is None or plan.triples is not None or not state.path.exists():
            raise
        raise LoadError(f"{exc.message}{chunks.resume_hint()}", path=exc.path,
                        line=exc.line) from exc
    finally:
        stage(None)
    state.done()
    return LoadResult(
        endpoint=endpoint,
        graph=graph,
        triples=total,
        requests=max(chunks.count - chunks.first, 1),
        before=before,
        after=after,
        seconds=time.monotonic() - started,
        mode=mode,
        move_note=move_note,
    )


@dataclass(frozen=True)
class _Plan:
    """How a file is sent: ``triples`` None means streamed as lines (``total`` of them);
    otherwise the distinct triples, parsed whole."""

    total: int
    triples: list[ox.Triple] | None


def _plan(path: Path) -> _Plan:
    """Check the file strictly and decide how to send it (see :mod:`kg.loadstate`).
    Raises :class:`LoadError` as :func:`read_triples`."""
    if path.suffix.lower() == ".nt":
        from kg.rdf.syntax import RdfSyntaxError, check_bytes

        try:
            with path.open("rb") as handle:
                count = check_bytes(handle, "nt", path=path)
            lines = scan_lines(path)
        except RdfSyntaxError as exc:
            raise LoadError(f"not valid RDF: {exc.message}", path=path, line=exc.line) from exc
        except OSError as exc:
            raise LoadError(f"cannot read: {exc.strerror or exc}", path=path) from exc
        if lines == count:
            return _Plan(count, None)
    triples = read_triples(path)
    return _Plan(len(triples), triples)


def _replace_atomically(
    loader: _Loader, update_endpoint: str, chunks: Batches,
    graph: str | None, total: int, *, check: bool, state: LoadState, max_move_triples: int,
) -> str:
    """Load ``chunks`` into a fresh staging graph (or, resuming, the one ``state`` names),
    check its count, ``MOVE`` it onto ``graph``; return how the MOVE was made, where the store
    needed more than one plain ``MOVE`` (see :func:`_move`), else "". Raises
    :class:`LoadError` saying only what was verified: what the target holds (after a failed
    ``MOVE`` the store is asked, see :func:`_after_failed_move`) and what became of the
    staging graph (kept for resuming when ``state`` has a file; a request the store never
    answered may still be applied later: then the message says the staging graph may come
    back). Refuses, before anything is sent, a ``MOVE`` of more than ``max_move_triples``
    (unless 0) into a store that holds it in memory."""
    resuming = "staging" in state.saved
    staging = str(state.saved.get("staging") or f"{STAGING_PREFIX}{uuid.uuid4()}")
    probe = f"{STAGING_PREFIX}{uuid.uuid4()}"  # never the staging graph of a resumed load
    # The MOVE copies every triple in one transaction: as long as all the batches took, so
    # its timeout is the per-request one for each batch (a 10^5 graph's MOVE into Oxigraph
    # takes minutes on a loaded machine).
    target = _graph_term(graph)
    session, auth, timeout = loader.session, loader.auth, loader.timeout
    whole = timeout * max(1, chunks.count)
    if not _same_origin(loader.endpoint, update_endpoint):
        auth = None  # credentials stay on the store's origin

    def no_update_answer(exc: requests.RequestException) -> LoadError:
        if isinstance(exc, requests.ConnectionError) and _same_origin(
                loader.endpoint, update_endpoint):
            return LoadError(f"cannot reach the store at {_origin(loader.endpoint)} "
                             f"({_reason(exc, timeout)}); nothing was changed")
        return LoadError(
            f"cannot reach the update endpoint {update_endpoint} ({_reason(exc, timeout)}); "
            "nothing was changed (give --update-endpoint, or --replace-non-atomic)")

    # Try the update endpoint (and its credentials) with an update that changes nothing.
    try:
        probed = _update(session, update_endpoint, f"DROP SILENT GRAPH <{probe}>", auth, timeout)
    except requests.RequestException as exc:
        raise no_update_answer(exc) from exc
    except LoadError as exc:
        raise LoadError(f"{exc.message}; nothing was changed (give --update-endpoint, or "
                        "--replace-non-atomic)") from exc
    if 0 < max_move_triples < total and _moves_in_memory(loader.endpoint, probed):
        raise LoadError(_too_large_to_move(total, max_move_triples, state))

    def drop_staging(why: str, *, unanswered: bool = False) -> str:
        if state.path is not None:
            return (f"; the target graph is unchanged; the staging graph <{staging}> is kept "
                    "for resuming")
        try:
            _update(session, update_endpoint, f"DROP SILENT GRAPH <{staging}>", auth, timeout)
        except (requests.RequestException, LoadError):
            return (f"; the target graph is unchanged; the staging graph <{staging}> may be "
                    f"left in the store (drop it with: DROP SILENT GRAPH <{staging}>)")
        if unanswered:
            # The store may still apply the request it did not answer, after the DROP.
            return (f"; the target graph is unchanged; the staging graph was dropped, but if "
                    f"the store still applies the request it did not answer, <{staging}> "
                    f"will hold its triples (drop it with: DROP SILENT GRAPH <{staging}>)")
        return f"; the target graph is unchanged; the staging graph was dropped{why}"

    if total == 0:
        # Nothing to stage: replacing with an empty file empties the target, in one update.
        clear = "CLEAR DEFAULT" if graph is None else f"DROP SILENT GRAPH {target}"
        try:
            _update(session, update_endpoint, clear, auth, timeout)
        except requests.RequestException as exc:
            raise LoadError(f"cannot reach the update endpoint {update_endpoint} "
                            f"({_reason(exc, timeout)}) to empty the target graph; "
                            "it may or may not be empty") from exc
        return ""
    state.save(staging=staging)
    try:
        loader.send(chunks, staging, put_first=True, total=total, state="")
    except LoadError as exc:
        unanswered = isinstance(exc.__cause__, requests.RequestException)
        raise LoadError(f"{exc.message} (into the staging graph)"
                        f"{drop_staging('', unanswered=unanswered)}") from exc
    if not check and resuming and chunks.first >= chunks.count:
        # Every batch was acknowledged to the run resumed here, which may have sent its MOVE
        # too: the staging graph may be empty now, and a MOVE of an empty graph empties the
        # target in Virtuoso. Without a count that cannot be told apart.
        raise LoadError(
            f"the run resumed here sent every batch and may have sent its MOVE too; without "
            f"counting (--no-check) kg load cannot tell whether <{staging}> still holds them, "
            "and a MOVE of an empty graph empties the target (as in Virtuoso): run the same "
            "command without --no-check; nothing was changed")
    if check:
        try:
            staged = loader.count(staging)
        except LoadError as exc:
            raise LoadError(f"{exc.message}{drop_staging('')}") from exc
        if staged != total:
            if resuming and staged == 0 and _applied(loader, graph, staging, total):
                # The run resumed here sent its MOVE, and ended (interrupted, or without
                # an answer) before the store applied it.
                return ", sent by the run resumed here and applied after it ended (checked)"
            raise LoadError(f"the staging graph holds {staged} triples after the load, "
                            f"expected {total}{drop_staging('')}")
    try:
        return _move(loader, update_endpoint, f"MOVE <{staging}> TO {target}", staging, total,
                     auth, whole)
    except KeyboardInterrupt as exc:
        # The store goes on with the MOVE it was sent: say what that leaves.
        then = ("the same command again finds out, and ends or moves it" if state.path
                else f"if not, <{staging}> holds them (drop it with: DROP SILENT GRAPH "
                f"<{staging}>)")
        raise KeyboardInterrupt(
            f"while the store ran the MOVE, which it may still apply (then the target holds "
            f"the {total} new triples); {then}") from exc
    except requests.RequestException as exc:
        what = (f"no answer from {update_endpoint} to MOVE <{staging}> TO {target} "
                f"({_reason(exc, whole)})")
        if _applied(loader, graph, staging, total):
            state.done()  # nothing is left to resume
            raise LoadError(f"{what}, yet the store applied it: the target graph holds the "
                            f"{total} new triples and the staging graph is gone (checked)"
                            ) from exc
        # Not applied yet is not "not applied": the store may still be working on it.
        raise LoadError(
            f"{what}: if the store applies it, the target holds the new triples; if not, "
            f"the target is unchanged and <{staging}> holds them (drop it with: DROP SILENT "
            f"GRAPH <{staging}>)"
        ) from exc
    except LoadError as exc:
        raise _after_failed_move(loader, exc, graph, staging, total, drop_staging,
                                 state) from exc


#: Oxigraph evaluates a MOVE in one transaction held in memory: its server grew by 3.8 KB a
#: triple moved, 1.1 GiB for 3 x 10^5 triples and 3.6 GiB for 10^6 (Oxigraph 0.5.13,
#: bench/README.md), and the time grows faster than the graph.
_MOVE_BYTES_PER_TRIPLE = 3_800


def _moves_in_memory(endpoint: str, response: requests.Response) -> bool:
    """Whether the store at the Graph Store ``endpoint`` that gave ``response`` holds a
    ``MOVE`` in memory: Oxigraph, told by its ``/store`` path (as for its bulk path) or by
    the ``Server`` header (which a reverse proxy may hide or replace)."""
    return _oxigraph_gsp(endpoint) or "Oxigraph/" in response.headers.get("Server", "")


def _too_large_to_move(total: int, limit: int, state: LoadState) -> str:
    """The refusal of an atomic replace of ``total`` triples into Oxigraph, past ``limit``."""
    staging = state.saved.get("staging")
    sent = (f"the staging graph <{staging}> is kept for resuming" if staging
            else "nothing was sent")
    return (f"an atomic --replace of {total:,} triples is more than Oxigraph is asked to MOVE "
            f"(--max-move-triples {limit:,}): it holds a MOVE in memory, about "
            f"{total * _MOVE_BYTES_PER_TRIPLE / 2**30:.1f} GiB for this one; the target graph "
            f"is unchanged and {sent}; load a fresh store with `oxigraph load` and serve that "
            "(README: Replacing a large graph), or give --replace-non-atomic, or "
            "--max-move-triples 0 where the server has the memory")


def _log_refused(exc: LoadError) -> bool:
    """Whether the store refused an update as too large for its transaction log, and rolled
    it back (Virtuoso: ``SR325: Transaction aborted because its log after image size went
    above the limit``, the limit being ``TransactionAfterImageLimit``)."""
    return "SR325" in exc.message


def _move(loader: _Loader, update_endpoint: str, move: str, staging: str, total: int,
          auth: Auth | None, timeout: float) -> str:
    """Run ``move``; return "" or, where the store needed more, how the MOVE was made.

    A MOVE Virtuoso refuses as too large for its transaction log is rolled back; once the
    staging graph is seen still full (so the MOVE cannot have emptied it), the same MOVE is
    sent again with logging off (``DEFINE sql:log-enable 0``: manual commit, so still one
    transaction; the store's own bulk loader runs unlogged too). Unlogged work is durable
    from the next checkpoint, so one is asked for (``checkpoint`` through ``bif:exec``,
    which needs the dba's rights); if it cannot be made, the note says so.
    A MOVE Virtuoso ended at its time limit (SR171, rolled back) is reported with the
    setting that sets it. Raises :class:`LoadError` or ``requests.RequestException`` as
    :func:`_update`."""
    session = loader.session
    try:
        try:
            _update(session, update_endpoint, move, auth, timeout)
            return ""
        except LoadError as exc:
            if not _log_refused(exc):
                raise
            if loader.query_endpoint is None:
                raise LoadError(f"{exc.message} (without --no-check, kg load would see the "
                                "staging graph still full and move it outside the log)") from exc
            if loader.count(staging) != total:
                raise
        _update(session, update_endpoint, f"DEFINE sql:log-enable 0 {move}", auth, timeout,
                what="the unlogged MOVE")
    except LoadError as exc:
        if "SR171" not in exc.message:
            raise
        raise LoadError(f"{exc.message} (Virtuoso rolls back a SPARQL request still running "
                        "at its MaxQueryExecutionTime, [SPARQL] in virtuoso.ini, 60 s as "
                        "Debian ships it: raise it for a MOVE this large)") from exc
    unlogged = (", outside Virtuoso's transaction log, which refused one this large (SR325, "
                "TransactionAfterImageLimit)")
    try:
        _update(session, update_endpoint, "SELECT (bif:exec('checkpoint') AS ?done) WHERE {}",
                auth, timeout, what="the checkpoint", form="query")
    except (requests.RequestException, LoadError) as exc:
        reason = exc.message if isinstance(exc, LoadError) else _reason(exc, timeout)
        return (f"{unlogged}; not yet durable: Virtuoso writes it at its next checkpoint "
                f"(CheckpointInterval; run `checkpoint;` in isql now), asking for one failed: "
                f"{reason}")
    return f"{unlogged}, then a checkpoint"


def _applied(loader: _Loader, graph: str | None, staging: str, total: int) -> bool:
    """Whether the store is seen to have applied the MOVE: the target holds ``total``
    triples and the staging graph none. False when it cannot be asked."""
    if loader.query_endpoint is None:
        return False
    try:
        return loader.count(staging) == 0 and loader.count(graph) == total
    except LoadError:
        return False


def _after_failed_move(loader: _Loader, refused: LoadError, graph: str | None, staging: str,
                       total: int, drop_staging: Callable[[str], str],
                       state: LoadState) -> LoadError:
    """The error for a ``MOVE`` the store answered with an error status. A store may apply
    it and still answer 500, so the store is asked what the target and the staging graph
    hold before anything is said about them (and, applied, the state file is removed)."""
    what = refused.message
    drop_hint = f"(drop it with: DROP SILENT GRAPH <{staging}>)"
    if loader.query_endpoint is None:
        return LoadError(
            f"{what}: the store may have applied it or not (no query endpoint to ask, "
            f"--no-check): the target holds the new triples, or is unchanged and <{staging}> "
            f"holds them {drop_hint}")
    try:
        in_staging = loader.count(staging)
        in_target = loader.count(graph)
    except LoadError as exc:
        return LoadError(
            f"{what}; the store cannot be asked what it holds now ({exc.message}): if it "
            f"applied the MOVE, the target holds the new triples; if not, the target is "
            f"unchanged and <{staging}> holds them {drop_hint}")
    if in_staging == 0 and in_target == total:
        state.done()  # nothing is left to resume
        return LoadError(f"{what}, yet the store applied it: the target graph holds the "
                         f"{total} new triples and the staging graph is gone (checked)")
    if in_staging == total:
        # A MOVE empties its source in the same transaction: a full staging graph means it
        # was not applied. (The target's count proves nothing where the default graph is
        # the union of all graphs, as in Virtuoso.)
        return LoadError(f"{what}{drop_staging('')}")
    return LoadError(
        f"{what}: the store now holds {in_target} triples in the target graph and "
        f"{in_staging} in the staging graph <{staging}>; check both {drop_hint}")
