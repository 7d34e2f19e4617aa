"""Run a function in a forked child process and take its result back.

``kg build`` parses and emits in a child (:func:`run_forked`): the records, the links
table and the emitter's indexes of places and names live and die there, and the memory
they held goes back to the system when the child ends. In the build's own process, freed
Python objects leave most of that memory resident (CPython's allocator returns an arena of
small objects only when every object in it is gone, and the emitter's survivors are spread
over all of them), under the lines read back and the SHACL engine's store. Measured in
``bench/README.md``.

The child is a fork: it has the parent's modules, settings and test doubles as they are,
and no start-up cost. Its result comes back pickled through a pipe; a
:class:`~kg.errors.KGError` it raises comes back as the same class with its message, path
and line. The child dies with its parent (``PR_SET_PDEATHSIG``) and is killed if the
parent is interrupted. Without ``os.fork`` the function runs in this process.
"""

from __future__ import annotations

import importlib
import os
import pickle
import signal
import sys
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from kg.errors import KGError, RdfError

__all__ = ["Forked", "run_forked", "start_forked"]

T = TypeVar("T")


def _child(work: Callable[[], Any], write_fd: int, parent: int) -> None:
    """The child's whole life: run ``work``, write the outcome, end without unwinding the
    parent's frames (their ``finally`` blocks are the parent's business)."""
    code = 0
    try:
        from kg.children import die_with_parent

        die_with_parent()
        if os.getppid() != parent:  # the parent died before the request took effect
            code = 1
            return
        outcome: tuple[Any, ...]
        try:
            outcome = ("ok", work())
        except KGError as exc:
            kind = type(exc)
            # Its plain attributes too (an RdfSyntaxError's column, a report's text).
            extra = {k: v for k, v in vars(exc).items()
                     if isinstance(v, str | int | float | bool | None)}
            outcome = ("kg", kind.__module__, kind.__qualname__, exc.message, exc.path,
                       exc.line, extra)
        except KeyboardInterrupt:
            outcome = ("interrupt",)
        except BaseException as exc:  # a bug: told in one line by the parent
            outcome = ("other", f"{type(exc).__name__}: {exc}")
        try:
            payload = pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # a result that cannot be pickled
            payload = pickle.dumps(("other", f"cannot send the result back: {exc}"))
        with os.fdopen(write_fd, "wb") as out:
            out.write(payload)
    except BaseException:
        code = 1
    finally:
        os._exit(code)


def _status(status: int) -> str:
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        hint = " (out of memory?)" if number == signal.SIGKILL else ""
        return f"killed by signal {number}{hint}"
    return f"exit code {os.waitstatus_to_exitcode(status)}"


def _rebuilt(module: str, name: str, message: str, path: str | None,
             line: int | None, extra: dict[str, Any]) -> KGError:
    kind: Any = importlib.import_module(module)
    for part in name.split("."):
        kind = getattr(kind, part, None)
    if not (isinstance(kind, type) and issubclass(kind, KGError)):
        return RdfError(message, path=path, line=line)
    error: KGError = kind.__new__(kind)
    KGError.__init__(error, message, path=path, line=line)
    vars(error).update(extra)
    return error


class Forked(Generic[T]):
    """A forked child at work (:func:`start_forked`); :meth:`result` waits for it."""

    def __init__(self, pid: int, read_fd: int, what: str) -> None:
        self.pid = pid
        self._read_fd = read_fd
        self._what = what
        self._reaped = False

    def result(self) -> T:
        """The child's result, once it ends. Raises what its work raised (see
        :func:`run_forked`); an interruption here kills the child first."""
        read_fd, self._read_fd = self._read_fd, -1  # closed by the file object from here on
        try:
            with os.fdopen(read_fd, "rb") as handle:
                data = handle.read()
        except BaseException:
            self.kill()
            raise
        _, status = os.waitpid(self.pid, 0)
        self._reaped = True
        if not data:
            raise RdfError(f"{self._what} ended without a result: {_status(status)}")
        try:
            outcome = pickle.loads(data)
        except Exception:  # a child killed while writing
            raise RdfError(f"{self._what} ended without a whole result: {_status(status)}"
                           ) from None
        if outcome[0] == "ok":
            result: T = outcome[1]
            return result
        if outcome[0] == "kg":
            raise _rebuilt(*outcome[1:]) from None
        if outcome[0] == "interrupt":
            raise KeyboardInterrupt
        raise RdfError(f"{self._what} failed: {outcome[1]}")

    def kill(self) -> None:
        """Stop the child now (the work failed elsewhere) and reap it."""
        if self._reaped:
            return
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        self._reaped = True
        if self._read_fd >= 0:  # never handed to result()
            os.close(self._read_fd)
            self._read_fd = -1


def start_forked(work: Callable[[], T], *, what: str) -> Forked[T]:
    """Start ``work()`` in a forked child and return at once; the caller goes on beside it
    and takes the result with :meth:`Forked.result` (``what`` names the child in errors).
    Needs ``os.fork``. Raises ``OSError`` if the child cannot be made."""
    read_fd, write_fd = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        _child(work, write_fd, parent)
    os.close(write_fd)
    return Forked(pid, read_fd, what)


def run_forked(work: Callable[[], T], *, what: str) -> T:
    """``work()``, run in a forked child; its result (picklable) comes back.

    Raises what ``work`` raised: a :class:`~kg.errors.KGError` as its own class, message,
    path and line; ``KeyboardInterrupt``; anything else, or a child that ends without a
    result (killed), as :class:`~kg.errors.RdfError` naming ``what``.
    """
    if not hasattr(os, "fork"):
        return work()
    return start_forked(work, what=what).result()
