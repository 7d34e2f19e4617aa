"""Query worker processes that can be stopped: a pool of processes, each holding the store
open read-only, with admission control.

Why processes: pyoxigraph cannot interrupt a query that is computing (a sort, a join, an
aggregate), and a query can crash it (a 10,000-deep nesting overflows its parser's stack).
A thread cannot be stopped and a crash takes the whole server down; a process can be
killed (``SIGKILL``) and replaced, and its crash costs only its own request.

* Workers are started with the ``forkserver`` context (never ``fork`` from the threaded
  server): the fork server preloads pyoxigraph and :mod:`kg.serve.protocol`, so a
  replacement worker starts in milliseconds. Each opens the on-disk store with
  :meth:`pyoxigraph.Store.read_only`: the data is shared through the operating system's
  page cache, never copied per worker.
* ``workers`` general workers take queries up to the timeout. ``express`` reserved workers
  take a query only when every general worker is busy, and give it ``express_timeout``
  seconds: while heavy queries hold every general worker, a light query is still answered
  at once, and a heavy one is refused quickly (503) instead of waiting behind them.
* Each worker's address space is capped (``memory``, ``kg serve --worker-memory``): one
  ``ORDER BY`` over a cartesian product reached 2.2 GB in 8 s before the cap; with it,
  the worker fails and is replaced (a crash, 500) and the machine keeps its memory.
* A bounded queue (``queue`` requests) waits for the next free worker; when it is full the
  answer is at once a :class:`Busy` (503 with ``Retry-After``).
* A query past its time is stopped for real: its worker is killed and replaced before the
  request is answered, so its CPU is free at once. A worker that dies (a crash in
  pyoxigraph) is replaced the same way and its request gets :class:`WorkerCrashed`.
* Every worker asks the kernel for ``SIGKILL`` when its parent (the fork server) dies, and
  the fork server exits when the server process does: no orphan outlives the server, even
  one killed with ``SIGKILL``. :meth:`Pool.close` kills every worker at once.

Measured on the seed graph (2 shared cores, load average 13-16, so rough): with two four-way
cartesian ``COUNT`` queries holding the workers, ``ASK { ?s ?p ?o }`` was answered in 0.09 s
and a cached query without a worker; a query past ``--timeout 3`` was answered 503 after 3.2
s with its worker gone, and the next query, on the replacement worker, in 14-32 ms; SIGTERM
with three heavy queries running left no process after 3 s. Each worker is about 36 MB
resident, the fork server 37 MB. Uncached throughput: see the README's "Serving limits".
"""

from __future__ import annotations

import contextlib
import ctypes
import multiprocessing
import resource
import signal
import threading
import time
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

__all__ = ["Busy", "Pool", "QueryTimeout", "WorkerCrashed"]

_CONTEXT = multiprocessing.get_context("forkserver")
_CONTEXT.set_forkserver_preload(["pyoxigraph", "kg.serve.protocol"])
_PR_SET_PDEATHSIG = 1


class Busy(Exception):
    """No worker could take the query: the queue is full, or the wait passed the
    deadline. ``reason`` says which, for the client."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class QueryTimeout(Exception):
    """The query ran out of time and its worker was killed. ``express`` is true when it
    was the reserved worker's shorter budget that ran out (the server was busy)."""

    def __init__(self, seconds: float, *, express: bool) -> None:
        super().__init__(f"query ran past {seconds:g} s")
        self.seconds = seconds
        self.express = express


class WorkerCrashed(Exception):
    """The worker died while running the query (it was replaced)."""


def _die_with_parent() -> None:
    # Linux: the kernel sends SIGKILL to this process when its parent dies.
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        pass


def _worker_main(conn: Connection, store_path: str, memory: int) -> None:
    """A worker's life: open the store read-only, then answer jobs until the pipe closes.
    ``memory`` (bytes, 0: none) caps its address space: a query that needs more fails
    (pyoxigraph aborts, which is a crash) instead of starving the machine."""
    # Ctrl-C in a terminal reaches the whole process group: the server stops its workers
    # itself, so a worker ignores it rather than print a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _die_with_parent()
    if memory > 0:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    import pyoxigraph as ox

    from kg.serve.protocol import execute

    store = ox.Store.read_only(store_path)
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        conn.send(execute(store, job))


class _Worker:
    """One worker process and the parent's end of its pipe."""

    def __init__(self, store_path: Path, *, express: bool, memory: int) -> None:
        self.express = express
        self.conn, child = _CONTEXT.Pipe(duplex=True)
        self.process: BaseProcess = _CONTEXT.Process(
            target=_worker_main, args=(child, str(store_path), memory), daemon=True,
            name="kg-query-express" if express else "kg-query")
        self.process.start()
        child.close()

    def kill(self) -> None:
        """Kill the process (``SIGKILL``: it may be deep in a computation) and reap it."""
        with contextlib.suppress(OSError, ValueError):
            self.process.kill()
        self.process.join(timeout=5)
        # Pool.close and a request thread may both kill a worker while the server stops:
        # the second close of the pipe is then a no-op, not an error.
        with contextlib.suppress(OSError):
            self.conn.close()


class Pool:
    """``workers`` general and ``express`` reserved worker processes over the read-only
    store at ``store_path`` (see the module docstring); at most ``queue`` requests wait;
    each worker's address space is capped at ``memory`` bytes (0: no cap).

    Raises :class:`OSError` if the processes cannot be started.
    """

    def __init__(self, store_path: Path, *, workers: int = 2, express: int = 1,
                 express_timeout: float = 0.5, queue: int = 16, memory: int = 0) -> None:
        self.store_path = store_path
        self.memory = memory
        self.express_timeout = express_timeout
        self.queue = queue
        self._cond = threading.Condition()
        self._waiting = 0
        self._closed = False
        self._all: list[_Worker] = []
        self._idle: list[_Worker] = []
        self._idle_express: list[_Worker] = []
        for _ in range(workers):
            self._add(_Worker(store_path, express=False, memory=memory))
        for _ in range(express):
            self._add(_Worker(store_path, express=True, memory=memory))

    def _add(self, worker: _Worker) -> None:
        self._all.append(worker)
        (self._idle_express if worker.express else self._idle).append(worker)

    def pids(self) -> list[int]:
        """The process ids of the current workers."""
        with self._cond:
            return [w.process.pid for w in self._all if w.process.pid is not None]

    def _take(self) -> _Worker | None:
        if self._idle:
            return self._idle.pop()
        if self._idle_express:
            return self._idle_express.pop()
        return None

    def _acquire(self, deadline: float) -> _Worker:
        with self._cond:
            if self._closed:
                raise Busy("the server is stopping")
            worker = self._take()
            if worker is not None:
                return worker
            if self._waiting >= self.queue:
                raise Busy(f"every query worker is busy and {self._waiting} queries are "
                           "already waiting (the queue limit, kg serve --queue)")
            self._waiting += 1
            try:
                while True:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0 or self._closed:
                        raise Busy("every query worker stayed busy until the timeout")
                    self._cond.wait(remaining)
                    worker = self._take()
                    if worker is not None:
                        return worker
            finally:
                self._waiting -= 1

    def _release(self, worker: _Worker) -> None:
        with self._cond:
            if self._closed:
                return
            (self._idle_express if worker.express else self._idle).append(worker)
            self._cond.notify()

    def _replace(self, worker: _Worker) -> _Worker | None:
        worker.kill()
        with self._cond:
            if worker in self._all:
                self._all.remove(worker)
            if self._closed:
                return None
            fresh = _Worker(self.store_path, express=worker.express, memory=self.memory)
            self._all.append(fresh)
            return fresh

    def run(self, job: Any, timeout: float) -> Any:
        """What a worker's ``execute`` returns for ``job``, within ``timeout`` seconds
        (waiting in the queue included).

        Raises :class:`Busy`, :class:`QueryTimeout` (the worker was killed and replaced)
        or :class:`WorkerCrashed` (the worker died and was replaced).
        """
        start = time.monotonic()
        deadline = start + timeout
        worker = self._acquire(deadline)
        remaining = max(deadline - time.monotonic(), 0.001)
        budget = min(remaining, self.express_timeout) if worker.express else remaining
        keep: _Worker | None = worker
        try:
            try:
                worker.conn.send(job)
                ready = worker.conn.poll(budget)
                result = worker.conn.recv() if ready else None
            except (EOFError, OSError) as exc:
                keep = self._replace(worker)
                if self._closed:  # the pool was closed under the query: not a crash
                    raise Busy("the server is stopping") from exc
                raise WorkerCrashed() from exc
            if not ready:
                keep = self._replace(worker)
                raise QueryTimeout(budget if budget < remaining else timeout,
                                   express=budget < remaining)
            return result
        finally:
            if keep is not None:
                self._release(keep)

    def close(self) -> None:
        """Kill every worker now (whatever it runs) and refuse further work."""
        with self._cond:
            self._closed = True
            workers = list(self._all)
            self._all.clear()
            self._idle.clear()
            self._idle_express.clear()
            self._cond.notify_all()
        for worker in workers:  # SIGKILL to all first, then reap: no sequential waits
            with contextlib.suppress(OSError, ValueError):
                worker.process.kill()
        for worker in workers:
            worker.kill()
