"""What every child process of ``kg`` does first: die with its parent.

Query workers (:mod:`kg.serve.workers`), the build's second process (:mod:`kg.buildjob`)
and its parsing and emitting child (:mod:`kg.forked`) must not outlive the process that
started them, even one killed with ``SIGKILL`` (it runs no clean-up).
"""

from __future__ import annotations

import ctypes
import signal

__all__ = ["die_with_parent"]

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Ask the kernel to send this process ``SIGKILL`` when its parent dies (Linux's
    ``PR_SET_PDEATHSIG``; elsewhere nothing happens and the child ends on its own)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        pass
