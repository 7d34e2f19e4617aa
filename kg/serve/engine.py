"""The query engine: admission, one byte-bounded answer cache, and the pool of workers.

:class:`Engine` turns a parsed :class:`~kg.serve.protocol.Operation` into a
:class:`~kg.serve.protocol.Response`, or raises :class:`~kg.serve.protocol.ProtocolError`
with the status a client sees (the README's "Serving limits" lists them all).
"""

from __future__ import annotations

import atexit
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import IO

import pyoxigraph as ox

from kg.serve.execute import Job, Outcome
from kg.serve.formats import content_type, negotiate, offers
from kg.serve.limits import Limits
from kg.serve.protocol import Operation, ProtocolError, Response
from kg.serve.workers import Busy, Pool, QueryTimeout, WorkerCrashed
from kg.store import ServedStore

__all__ = ["Cache", "Engine", "cache_key"]

#: Bytes counted for a cache entry besides its key and bodies.
_ENTRY_OVERHEAD = 512


def cache_key(op: Operation) -> bytes:
    """The cache key of ``op``: its query, protocol dataset and base IRI, as UTF-8 bytes.

    Bytes, not a tuple of texts: Python keeps a text holding one emoji at four bytes a
    character, so a cache that counted characters (or even UTF-8 bytes of ``str`` keys)
    held several times its cap; a bytes key takes what it counts.
    """
    parts = [op.query or "", *op.default_graphs, "\x01", *op.named_graphs, "\x01",
             op.base_iri or ""]
    return "\x00".join(parts).encode("utf-8", "surrogatepass")


@dataclass(slots=True)
class _Entry:
    form: str
    bodies: dict[str, Outcome] = field(default_factory=dict)
    size: int = 0


class Cache:
    """Answers by key (:func:`cache_key`), then by media type, least recently used first
    out, within ``limit`` bytes counting the keys, the bodies and a fixed overhead per
    entry. A limit of 0 keeps nothing at all (not even a query's
    form); an answer over a quarter of the limit is not kept."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.size = 0
        self._entries: OrderedDict[bytes, _Entry] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: bytes) -> tuple[str, dict[str, Outcome]] | None:
        """The form and the answers kept for ``key`` (a copy), or ``None``."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            self._entries.move_to_end(key)
            return entry.form, dict(entry.bodies)

    def put(self, key: bytes, outcome: Outcome) -> None:
        """Keep ``outcome`` (and its form) if it fits in a quarter of the limit."""
        if self.limit <= 0 or outcome.spooled:
            return
        base = len(key) + _ENTRY_OVERHEAD
        if base + len(outcome.body) > self.limit // 4:
            return
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                entry = self._entries[key] = _Entry(outcome.form, size=base)
                self.size += base
            if outcome.media is not None and outcome.media not in entry.bodies:
                entry.bodies[outcome.media] = outcome
                entry.size += len(outcome.body)
                self.size += len(outcome.body)
            self._entries.move_to_end(key)
            while self.size > self.limit and self._entries:
                _, old = self._entries.popitem(last=False)
                self.size -= old.size


class Engine:
    """Runs queries in worker processes (:mod:`kg.serve.workers`) over ``store``: an
    in-memory store (workers forked from this process) or, when ``served`` is given, the
    on-disk store it names (workers open it read-only). Nobody writes to it while the
    engine serves.

    ``triples`` is the size of the default graph, which is the set union of the named
    graphs (:mod:`kg.store`; ``union_default_graph`` says so in the service description);
    ``store`` is the handle the server's own pages query.

    Raises :class:`OSError` if the workers cannot be started.
    """

    union_default_graph = True

    def __init__(self, store: ox.Store, triples: int, limits: Limits, *,
                 served: ServedStore | None = None) -> None:
        self.store = store
        self.triples = triples
        self.limits = limits
        self.served = served
        self.cache = Cache(limits.cache)
        self._closed = False
        self.pool = Pool(served.path if served is not None else store, limits)
        # An engine that nobody closes still removes its temporary store at exit.
        atexit.register(self.close)

    def close(self) -> None:
        """Kill the workers (whatever they run) and remove a temporary store folder."""
        if self._closed:
            return
        self._closed = True
        atexit.unregister(self.close)
        self.pool.close()
        if self.served is not None:
            self.served.remove()

    def run(self, op: Operation, accept: str | None) -> Response:
        """The HTTP answer to ``op`` (which must have a query) for this ``Accept`` header.

        Raises :class:`ProtocolError` (400, 406, 500, 502, 503) for a request it refuses
        or cannot answer (see the README's "Serving limits").
        """
        query = op.query
        if query is None:
            raise ProtocolError(400, "missing query parameter")
        limits = self.limits
        if len(query) > limits.max_query_length:
            raise ProtocolError(400, f"the query is {len(query)} characters long, over this "
                                     f"endpoint's limit of {limits.max_query_length} "
                                     "(kg serve --max-query-length)")
        key = cache_key(op)
        cached = self.cache.get(key)
        if cached is not None:
            form, bodies = cached
            media = negotiate(accept, offers(form))
            if media is None:
                raise _not_acceptable(form)
            if media in bodies:
                return _answer(bodies[media], None)
        job = Job(query, op.default_graphs, op.named_graphs, op.base_iri, accept,
                  limits.max_rows, limits.max_depth, limits.max_chain,
                  frozenset(limits.allowed_services), limits.max_answer_bytes)
        try:
            result, spooled = self.pool.run(job, limits.timeout)
        except Busy as exc:
            raise ProtocolError(503, f"the server is busy: {exc.reason}; retry later",
                                {"Retry-After": "5"}) from None
        except QueryTimeout:
            raise ProtocolError(503, f"the query ran longer than the {limits.timeout:g} s "
                                     "timeout and was stopped (kg serve --timeout)",
                                {"Retry-After": "60"}) from None
        except WorkerCrashed:
            raise ProtocolError(500, "query worker crashed (the query was not answered, "
                                     "perhaps past the memory cap, kg serve "
                                     "--worker-memory; the worker was replaced)") from None
        if isinstance(result, tuple):
            status, message = result
            raise ProtocolError(status, message)
        self.cache.put(key, result)
        if result.media is None:
            raise _not_acceptable(result.form)
        return _answer(result, spooled)


def _answer(outcome: Outcome, spooled: IO[bytes] | None) -> Response:
    assert outcome.media is not None
    headers = {}
    if outcome.truncated_at is not None:
        headers["X-Result-Truncated"] = "true"
        headers["X-Result-Limit"] = str(outcome.truncated_at)
    if outcome.bytes_cap is not None:
        headers["X-Result-Truncated"] = "true"
        headers["X-Result-Bytes-Limit"] = str(outcome.bytes_cap)
    return Response(200, outcome.body, content_type(outcome.media), headers,
                    file=spooled, length=outcome.size if spooled is not None else None)


def _not_acceptable(form: str) -> ProtocolError:
    kind = {"solutions": "SELECT", "boolean": "ASK"}.get(form, "CONSTRUCT/DESCRIBE")
    return ProtocolError(406, f"no acceptable format for {kind} results; available: "
                              + ", ".join(offers(form)))
