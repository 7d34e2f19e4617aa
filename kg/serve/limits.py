"""Every limit of ``kg serve`` in one frozen object, from the command line down to the pool.

Each default is written here once; ``kg serve``'s options take theirs from
:data:`DEFAULTS`, and each field has one name all the way down (the option is the field's
name with dashes). What a client sees when a limit is hit is in the README ("Serving
limits") and beside each field.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEFAULTS", "MIB", "Limits"]

MIB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Limits:
    """The limits of one server. All sizes are bytes, all times seconds."""

    #: A query running longer is stopped (its worker killed and replaced): 503.
    timeout: float = 30.0
    #: Rows of a SELECT, triples of a CONSTRUCT/DESCRIBE; past it the answer is cut and
    #: says so (``X-Result-Truncated: true``, ``X-Result-Limit``).
    max_rows: int = 100_000
    #: Largest request body: 413.
    max_body: int = MIB
    #: Connections served at once; past it the oldest idle one is closed to make room, or,
    #: with none idle, the new one gets 503 and is closed.
    max_connections: int = 256
    #: A connection idle this long between requests, or this slow to send one, is closed.
    idle_timeout: float = 20.0
    #: Connections one client address may hold at once; past it a new one gets 429 with
    #: ``Retry-After`` and is closed. 0: no limit.
    max_client_connections: int = 32
    #: Queries one client may have running or waiting at once; past it 429 with
    #: ``Retry-After``. 0: no limit.
    max_client_queries: int = 16
    #: Reverse proxies whose ``X-Forwarded-For``/``Forwarded`` name the client (none).
    trusted_proxies: tuple[str, ...] = ()
    #: Bytes of one answer; past it the answer is cut at a row (or triple) boundary, still
    #: a whole document, with ``X-Result-Truncated: true`` and ``X-Result-Bytes-Limit``.
    #: 0: no cap.
    max_answer_bytes: int = 0
    #: Bytes of answers (and their UTF-8 query texts) kept for repeated queries; 0: none.
    cache: int = 64 * MIB
    #: General query worker processes.
    workers: int = 2
    #: Reserved workers: each gives the newest waiting query a trial while every general
    #: worker is busy, so a light query is answered beside heavy ones.
    express_workers: int = 1
    #: A query's trial on a reserved worker; one that outlasts it waits for a general
    #: worker (no 503: it only loses the trial's time, once per query text).
    express_timeout: float = 0.5
    #: Requests that may wait for a worker: 503 at once past it.
    queue: int = 16
    #: Longest query text, in characters: 400.
    max_query_length: int = 100_000
    #: Deepest nesting of ``{ ( [`` in a query: 400.
    max_depth: int = 100
    #: Longest chain of operators (``!``, ``||``, ``&&``, property path steps, arithmetic)
    #: in one bracket group, which the store's parser nests as it nests brackets (a
    #: 600-step path overflowed its stack): 400.
    max_chain: int = 250
    #: Memory a query worker may allocate beyond the store it shares; past it the worker
    #: fails (500) and is replaced. 0: no cap.
    worker_memory: int = 2048 * MIB
    #: A worker that holds this much more memory after answering than when it started is
    #: replaced after the answer, so that a big query's memory goes back to the system.
    worker_recycle: int = 256 * MIB
    #: Endpoints that ``SERVICE`` may call (none by default): 400 for any other.
    allowed_services: tuple[str, ...] = ()


#: The defaults, for option help texts.
DEFAULTS = Limits()
