"""Query worker processes that can be stopped: a pool of processes, each querying the
store, with admission control.

Why processes: pyoxigraph cannot interrupt a query that is computing (a sort, a join, an
aggregate; it releases the GIL while evaluating, but offers no cancellation), and a query
can crash it (a deep nesting overflows its parser's stack). A thread cannot be stopped and
a crash takes the whole server down; a process can be killed (``SIGKILL``) and replaced,
and its crash costs only its own request.

* **In memory** (the default): the server loads the graph into an in-memory
  :class:`pyoxigraph.Store` once, and each worker is forked from the server (``fork``), so
  it starts with the loaded store and a replacement is ready in milliseconds, without a
  load. Copy-on-write does not keep the store shared for long: querying writes reference
  counts all over it, so a worker that has scanned the graph holds most of a private copy
  (measured: 75 of 108 MiB after one full scan at 10^4). The whole tree's memory is about
  ``1 + 0.75 x workers`` stores (PSS, in bench/README.md). A worker closes every
  descriptor it inherited but its pipe, so no client socket outlives the server's close.
* **On disk** (``--store DIR``): workers are started with ``forkserver`` and open the
  RocksDB store read-only; the data is shared through the page cache. Slower per query
  (2.5-2.9x), for graphs larger than memory.
* ``workers`` general workers take queries up to the timeout, longest-waiting first.
  ``express`` reserved workers give the newest waiting query a short trial
  (``express_timeout``): one that outlasts it is stopped and waits again, in its arrival
  order, for a general worker (see :class:`Pool`). While heavy queries hold every general
  worker, a light one (``ASK {}``) is still answered within about one trial.
* Each worker may allocate ``worker_memory`` bytes beyond what it started with (its address
  space is capped there): past it a query fails and the worker is replaced (500). A worker
  that holds more than ``worker_recycle`` bytes beyond its start after answering is
  replaced after the answer, so a big query's memory goes back to the system. A worker's
  standard error goes to ``/dev/null``: a crash (Rust's allocation failure, a backtrace when
  ``RUST_BACKTRACE`` is set) is reported by the server in one line, not dumped.
* A bounded queue (``queue`` requests) waits for the next free worker; when it is full the
  answer is at once a :class:`Busy` (503 with ``Retry-After``).
* A query past its time is stopped for real: its worker is killed and replaced before the
  request is answered, so its CPU is free at once. A worker that dies is replaced the same
  way and its request gets :class:`WorkerCrashed`.
* Long answers are written by the worker to an unlinked temporary file whose descriptor
  comes back beside the answer (:mod:`kg.serve.execute`): the worker is free as soon as the
  answer is written, and the server streams the file.
* Every worker asks the kernel for ``SIGKILL`` when its parent dies: no orphan outlives the
  server, even one killed with ``SIGKILL``. :meth:`Pool.close` kills every worker at once.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import resource
import signal
import threading
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from multiprocessing.reduction import recv_handle, send_handle
from pathlib import Path
from typing import IO, Any

import pyoxigraph as ox

from kg.children import die_with_parent
from kg.serve.execute import Job, Outcome, Spool, execute
from kg.serve.limits import Limits

__all__ = ["Busy", "Pool", "QueryTimeout", "WorkerCrashed"]

_FORK = multiprocessing.get_context("fork")
_FORKSERVER = multiprocessing.get_context("forkserver")
_FORKSERVER.set_forkserver_preload(["pyoxigraph", "kg.serve.execute"])
_PAGE = os.sysconf("SC_PAGE_SIZE")
#: Query texts remembered as heavy (past their trial on a reserved worker).
_HEAVY_KEPT = 4096


class Busy(Exception):
    """No worker could take the query: the queue is full, or the wait passed the
    deadline. ``reason`` says which, for the client."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class QueryTimeout(Exception):
    """The query ran out of time and its worker was killed."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"query ran past {seconds:g} s")
        self.seconds = seconds


class WorkerCrashed(Exception):
    """The worker died while running the query (it was replaced)."""


def _statm() -> tuple[int, int]:
    """This process's address space and resident memory, in bytes."""
    with open("/proc/self/statm", encoding="ascii") as handle:
        size, resident = handle.read().split()[:2]
    return int(size) * _PAGE, int(resident) * _PAGE


def _quiet_child(keep: int) -> None:
    """Close every inherited descriptor but ``keep`` and the standard ones (a forked
    worker must not hold the server's sockets open), and send standard error to
    /dev/null (see the module docstring)."""
    limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    os.closerange(3, keep)
    os.closerange(keep + 1, limit if limit > 0 else 4096)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 2)
    os.close(null)


def _worker_main(conn: Connection, source: ox.Store | str, memory: int, recycle: int) -> None:
    """A worker's life: answer jobs until the pipe closes. ``source`` is the in-memory
    store (forked) or the on-disk store's folder (opened read-only). The worker may
    allocate ``memory`` bytes beyond its start (0: no cap); past ``recycle`` bytes of
    growth it asks to be replaced after its answer."""
    # Ctrl-C in a terminal reaches the whole process group: the server stops its workers
    # itself, so a worker ignores it rather than print a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    die_with_parent()
    _quiet_child(conn.fileno())
    os.environ["RUST_BACKTRACE"] = "0"
    store = source if isinstance(source, ox.Store) else ox.Store.read_only(source)
    size, start = _statm()
    if memory > 0:
        resource.setrlimit(resource.RLIMIT_AS, (size + memory, size + memory))
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        spool = Spool()
        result = execute(store, job, spool)
        retire = _statm()[1] - start > recycle
        conn.send((result, retire))
        if isinstance(result, Outcome) and result.spooled:
            send_handle(conn, spool.file.fileno(), 0)
        spool.file.close()
        del spool, result


class _Worker:
    """One worker process and the parent's end of its pipe."""

    def __init__(self, source: ox.Store | Path, *, express: bool, limits: Limits) -> None:
        self.express = express
        context: Any = _FORK if isinstance(source, ox.Store) else _FORKSERVER
        target = source if isinstance(source, ox.Store) else str(source)
        self.conn, child = context.Pipe(duplex=True)
        self.process: BaseProcess = context.Process(
            target=_worker_main,
            args=(child, target, limits.worker_memory, limits.worker_recycle), daemon=True,
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


class _Waiter:
    """A request waiting for a worker: when it arrived, its query text's hash, whether a
    reserved worker may take it, and the worker handed to it."""

    __slots__ = ("arrived", "express_ok", "ready", "text", "worker")

    def __init__(self, arrived: float, text: int, *, express_ok: bool) -> None:
        self.arrived = arrived
        self.text = text
        self.express_ok = express_ok
        self.ready = threading.Event()
        self.worker: _Worker | None = None


class Pool:
    """``limits.workers`` general and ``limits.express_workers`` reserved worker processes
    over ``source``: an in-memory store (workers forked from this process) or an on-disk
    store's folder (opened read-only); see the module docstring for the limits.

    Scheduling: a general worker takes the request that has waited longest. A reserved
    worker takes the request that arrived last and gives it a trial of
    ``limits.express_timeout`` seconds; a query that outlasts its trial is stopped (the
    reserved worker replaced) and waits again, in its arrival order, for a general worker,
    and its text is remembered as heavy (no second trial). So while heavy queries hold
    every general worker, a light query waits at most one trial, and the CPU spent on
    trials is at most one trial per heavy query text.

    Raises :class:`OSError` if the processes cannot be started.
    """

    def __init__(self, source: ox.Store | Path, limits: Limits) -> None:
        self.source = source
        self.limits = limits
        self._lock = threading.Lock()
        self._closed = False
        self._all: list[_Worker] = []
        self._idle: list[_Worker] = []
        self._idle_express: list[_Worker] = []
        self._waiters: list[_Waiter] = []  # in arrival order
        self._heavy: OrderedDict[int, None] = OrderedDict()
        # Every worker is forked by this one long-lived thread: the kernel sends a worker
        # its parent-death SIGKILL when the *thread* that forked it ends, and a request's
        # thread ends with its connection (replacements forked there were killed at once).
        self._spawner = ThreadPoolExecutor(1, thread_name_prefix="kg-query-spawner")
        for _ in range(limits.workers):
            self._add(self._spawn(express=False))
        for _ in range(limits.express_workers):
            self._add(self._spawn(express=True))

    def _spawn(self, *, express: bool) -> _Worker:
        return self._spawner.submit(_Worker, self.source, express=express,
                                    limits=self.limits).result()

    def _add(self, worker: _Worker) -> None:
        self._all.append(worker)
        (self._idle_express if worker.express else self._idle).append(worker)

    def pids(self) -> list[int]:
        """The process ids of the current workers."""
        with self._lock:
            return [w.process.pid for w in self._all if w.process.pid is not None]

    def _acquire(self, arrived: float, text: int, deadline: float, *,
                 express_ok: bool) -> _Worker:
        with self._lock:
            if self._closed:
                raise Busy("the server is stopping")
            if self._idle:
                return self._idle.pop()
            if express_ok and text not in self._heavy and self._idle_express:
                return self._idle_express.pop()
            if len(self._waiters) >= self.limits.queue:
                raise Busy(f"every query worker is busy and {len(self._waiters)} queries "
                           "are already waiting (the queue limit, kg serve --queue)")
            waiter = _Waiter(arrived, text, express_ok=express_ok)
            at = len(self._waiters)
            while at > 0 and self._waiters[at - 1].arrived > arrived:
                at -= 1  # a query back from its trial keeps its place
            self._waiters.insert(at, waiter)
        waiter.ready.wait(max(deadline - time.monotonic(), 0.0))
        with self._lock:
            if waiter.worker is not None:
                return waiter.worker
            self._waiters.remove(waiter)
            if self._closed:
                raise Busy("the server is stopping")
            raise Busy("every query worker stayed busy until the timeout")

    def _release(self, worker: _Worker) -> None:
        with self._lock:
            if self._closed:
                return
            if worker.express:
                # The newest untried query whose text is not known to be heavy (an
                # identical query may have outlasted its trial while this one waited).
                chosen = next((w for w in reversed(self._waiters)
                               if w.express_ok and w.text not in self._heavy), None)
            else:
                chosen = self._waiters[0] if self._waiters else None
            if chosen is None:
                (self._idle_express if worker.express else self._idle).append(worker)
                return
            self._waiters.remove(chosen)
            chosen.worker = worker
            chosen.ready.set()

    def _replace(self, worker: _Worker) -> _Worker | None:
        worker.kill()
        with self._lock:
            if worker in self._all:
                self._all.remove(worker)
            if self._closed:
                return None
        fresh = self._spawn(express=worker.express)  # outside the lock: a fork takes ms
        if self._adopt(fresh):
            return fresh
        fresh.kill()  # the pool closed meanwhile
        return None

    def _adopt(self, fresh: _Worker) -> bool:
        with self._lock:
            if self._closed:
                return False
            self._all.append(fresh)
            return True

    def _remember_heavy(self, text: int) -> None:
        with self._lock:
            self._heavy[text] = None
            self._heavy.move_to_end(text)
            if len(self._heavy) > _HEAVY_KEPT:
                self._heavy.popitem(last=False)

    def run(self, job: Job, timeout: float) -> tuple[Any, IO[bytes] | None]:
        """What a worker's :func:`~kg.serve.execute.execute` returns for ``job``, within
        ``timeout`` seconds (waiting in the queue and any trial on a reserved worker
        included), and the file holding a spooled answer (the caller closes it; ``None``
        for an answer that came whole).

        Raises :class:`Busy`, :class:`QueryTimeout` (the worker was killed and replaced)
        or :class:`WorkerCrashed` (the worker died and was replaced).
        """
        arrived = time.monotonic()
        deadline = arrived + timeout
        text = hash(job.query)
        express_ok = True
        while True:
            worker = self._acquire(arrived, text, deadline, express_ok=express_ok)
            remaining = max(deadline - time.monotonic(), 0.001)
            trial = worker.express and self.limits.express_timeout < remaining
            outcome = self._run_on(worker, job, self.limits.express_timeout if trial
                                   else remaining, heavy=text if trial else None)
            if outcome is not None:
                return outcome
            if not trial:
                raise QueryTimeout(timeout)
            # Past its trial on a reserved worker: back in the queue for a general one.
            express_ok = False

    def _run_on(self, worker: _Worker, job: Job, budget: float, *,
                heavy: int | None) -> tuple[Any, IO[bytes] | None] | None:
        """``job`` on ``worker`` within ``budget`` seconds; ``None`` when the budget ran
        out (the worker was killed and replaced, and the text hash ``heavy``, if given,
        remembered first: the replacement must not try that text again). Releases the
        worker (or its replacement)."""
        keep: _Worker | None = worker
        try:
            try:
                worker.conn.send(job)
                if not worker.conn.poll(budget):
                    if heavy is not None:
                        self._remember_heavy(heavy)
                    keep = self._replace(worker)
                    return None
                result, retire = worker.conn.recv()
                spooled = None
                if isinstance(result, Outcome) and result.spooled:
                    spooled = os.fdopen(recv_handle(worker.conn), "rb")
            except (EOFError, OSError) as exc:
                keep = self._replace(worker)
                if self._closed:  # the pool was closed under the query: not a crash
                    raise Busy("the server is stopping") from exc
                raise WorkerCrashed() from exc
            if retire:
                keep = self._replace(worker)
            return result, spooled
        finally:
            if keep is not None:
                self._release(keep)

    def close(self) -> None:
        """Kill every worker now (whatever it runs) and refuse further work."""
        with self._lock:
            self._closed = True
            workers = list(self._all)
            self._all.clear()
            self._idle.clear()
            self._idle_express.clear()
            for waiter in self._waiters:
                waiter.ready.set()
        for worker in workers:  # SIGKILL to all first, then reap: no sequential waits
            with contextlib.suppress(OSError, ValueError):
                worker.process.kill()
        for worker in workers:
            worker.kill()
        self._spawner.shutdown(wait=False)
