"""Ctrl-C until the process exits: a command is interruptible until its change is made,
and not after.

:func:`install` (called by :func:`kg.cli.main`) replaces Python's SIGINT handler with one
that raises ``KeyboardInterrupt`` as usual until :func:`hold` is called. A command calls
:func:`hold` at its point of no return (``kg build`` just before the new output folder
takes the old one's place, ``kg reconcile`` just before the links table is replaced): from
then on a Ctrl-C is only noted (:func:`held`), so a build that is in place is reported as
done, not as interrupted. :func:`finish` ignores SIGINT for the last moments of the
process (the interpreter joining threads at exit printed "Exception ignored in
threading._shutdown" with a traceback).

Only the main thread may change signal handlers: elsewhere these functions do nothing.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Any

__all__ = ["finish", "held", "hold", "install", "restore"]

_state = {"holding": False, "held": False}


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def _handler(signum: int, frame: FrameType | None) -> None:
    if _state["holding"]:
        _state["held"] = True  # past the point of no return: finish the command
        return
    raise KeyboardInterrupt


def install() -> Any:
    """Install the handler (unless SIGINT is ignored, as in a background job, or handled by
    someone else); returns the previous handler for :func:`restore`."""
    _state["holding"] = _state["held"] = False
    if not _main_thread():
        return None
    previous = signal.getsignal(signal.SIGINT)
    if previous is signal.default_int_handler:
        signal.signal(signal.SIGINT, _handler)
    return previous


def hold() -> None:
    """From now on a Ctrl-C does not interrupt the command (it is noted, see :func:`held`)."""
    _state["holding"] = True


def held() -> bool:
    """Whether a Ctrl-C came after :func:`hold`."""
    return _state["held"]


def restore(previous: Any) -> None:
    """Put back the handler :func:`install` replaced (a caller that goes on running)."""
    _state["holding"] = False
    if _main_thread() and previous is not None and signal.getsignal(signal.SIGINT) is _handler:
        signal.signal(signal.SIGINT, previous)


def finish() -> None:
    """Ignore SIGINT from now until the process exits (the command is over)."""
    _state["holding"] = True
    if _main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
