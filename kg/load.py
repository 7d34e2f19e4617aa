"""Push an RDF file into any triple store over the SPARQL 1.1 Graph Store Protocol.

:func:`load` reads the file (N-Triples by default; any format pyoxigraph parses), sends it
as N-Triples in batches to a Graph Store Protocol endpoint (``PUT`` the first batch to
replace the graph, ``POST`` to append), then checks with a SPARQL ``COUNT`` against the
store's query endpoint that the graph holds the expected number of triples.

Tested against the Oxigraph server (GSP at ``/store``, queries at ``/query``) and Virtuoso
(GSP at ``/sparql-graph-crud-auth`` with HTTP digest authentication, queries at ``/sparql``;
Virtuoso has no default graph there, so give it ``graph``).

Batches never split the triples that share a blank node: a store scopes blank-node labels
to one request, so splitting them would break one node into several.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Sequence
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

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "USER_AGENT",
    "Auth",
    "LoadResult",
    "batches",
    "count_triples",
    "guess_query_endpoint",
    "load",
    "read_triples",
]

#: Triples per request; a few MB of N-Triples, which every store we know accepts.
DEFAULT_BATCH_SIZE = 50_000
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
_ABSOLUTE_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`]*$")


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

    def summary(self) -> str:
        """One line for people."""
        target = f"<{self.graph}>" if self.graph else "the default graph"
        checked = "" if self.after is None else f"; the store now holds {self.after} there"
        return (
            f"loaded {self.triples} triples into {target} at {self.endpoint} "
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


def guess_query_endpoint(endpoint: str) -> str | None:
    """The SPARQL query endpoint of the store whose Graph Store endpoint is ``endpoint``,
    for the stores whose layout we know (Oxigraph, Virtuoso, Fuseki); else ``None``."""
    parts = urlsplit(endpoint)
    for pattern, query_path in _QUERY_PATHS:
        if pattern.search(parts.path):
            path = pattern.sub(query_path, parts.path)
            return urlunsplit((parts.scheme, parts.netloc, path, "", ""))
    return None


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
        raise LoadError(f"cannot reach the query endpoint {query_endpoint}: {exc}") from exc
    _check_status(response, "the triple count query", query_endpoint)
    try:
        binding = response.json()["results"]["bindings"][0]["n"]
        return int(binding["value"])
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        raise LoadError(
            f"the query endpoint {query_endpoint} answered the COUNT query with "
            f"something else than SPARQL JSON results: {response.text[:200]!r}"
        ) from exc


def load(
    endpoint: str,
    data_path: Path,
    graph: str | None = None,
    *,
    replace: bool = False,
    auth: Auth | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    query_endpoint: str | None = None,
    check: bool = True,
    timeout: float = 120.0,
) -> LoadResult:
    """Send the triples of ``data_path`` to the Graph Store endpoint ``endpoint``.

    ``graph`` is the target graph IRI (``None``: the store's default graph, ``?default``).
    With ``replace`` the first batch is sent with ``PUT`` (the graph is replaced), else every
    batch with ``POST`` (appended). ``auth`` gives basic or digest credentials. Batches hold
    about ``batch_size`` triples (see :func:`batches`).

    With ``check`` (the default), the number of triples in the graph is queried before and
    after through ``query_endpoint`` (guessed for Oxigraph, Virtuoso and Fuseki when not
    given): after ``replace`` it must equal the file's distinct triple count; after an
    append it must lie between that count and the count before plus that count.

    Raises :class:`LoadError` for an unreadable file, a bad graph IRI, an unreachable or
    refusing store (one line with the store's own message), or a failed count check. A
    failure after some batches were sent leaves those batches in the store (the message
    says how many were sent).
    """
    if graph is not None and not _ABSOLUTE_IRI.match(graph):
        raise LoadError(f"the graph name must be an absolute IRI, not {graph!r}")
    if batch_size < 1:
        raise LoadError(f"the batch size must be at least 1, not {batch_size}")
    if check and query_endpoint is None:
        query_endpoint = guess_query_endpoint(endpoint)
        if query_endpoint is None:
            raise LoadError(
                f"cannot guess the query endpoint of {endpoint}: "
                "give --query-endpoint, or --no-check to skip the triple count"
            )
    triples = read_triples(data_path)
    started = time.monotonic()
    with requests.Session() as session:
        session.headers["User-Agent"] = USER_AGENT
        # Credentials go to the query endpoint only on the same origin as the store.
        same = query_endpoint is not None and _same_origin(endpoint, query_endpoint)
        query_auth = auth if same else None
        before = None
        if check and not replace:
            assert query_endpoint is not None
            before = count_triples(
                query_endpoint, graph, session=session, auth=query_auth, timeout=timeout
            )
        url, params = _target(endpoint, graph)
        sent = 0
        chunks = list(batches(triples, batch_size)) or [[]]
        for index, chunk in enumerate(chunks):
            method = "PUT" if replace and index == 0 else "POST"
            try:
                response = session.request(
                    method,
                    url,
                    params=params,
                    data=_ntriples(chunk),
                    headers={"Content-Type": _NT},
                    auth=None if auth is None else auth.requests_auth(),
                    timeout=timeout,
                )
            except requests.RequestException as exc:
                raise LoadError(
                    f"cannot reach {endpoint} ({sent} of {len(triples)} triples sent): {exc}"
                ) from exc
            _check_status(
                response,
                f"{method} of batch {index + 1}/{len(chunks)} "
                f"({sent} of {len(triples)} triples sent before it)",
                endpoint,
            )
            sent += len(chunk)
        after = None
        if check:
            assert query_endpoint is not None
            after = count_triples(
                query_endpoint, graph, session=session, auth=query_auth, timeout=timeout
            )
            expected = len(triples)
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
    return LoadResult(
        endpoint=endpoint,
        graph=graph,
        triples=len(triples),
        requests=len(chunks),
        before=before,
        after=after,
        seconds=time.monotonic() - started,
    )
