"""``kg load``'s batches as they stream from the file, and the state file that lets a failed
load resume where the store stopped acknowledging.

A file that ``kg build`` wrote (``twinning.nt``: sorted, distinct N-Triples lines, no blank
node) is sent as it is read: each batch is the next ``batch_size`` lines, bytes as they
are in the file, with no parse and no Python object per triple, so memory does not grow
with the file. Any other file is parsed whole (blank nodes kept together, duplicates
merged) by :mod:`kg.load`.

With a state file, after every batch the store acknowledged, the file's identity (path,
size, modification time), the load's target and options, the byte offset reached and the
triples acknowledged are written to it (atomically: a temporary file renamed over it). Run
the same command again after a failure and the load goes on from that offset; for an atomic
``--replace`` the same staging graph is kept and filled on, and only the final ``MOVE``
touches the target. Re-sending the one batch whose answer was lost is harmless: the lines
hold no blank node, so the store's graph (a set) ends up the same.
"""

from __future__ import annotations

import itertools
import json
import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from kg.errors import LoadError

__all__ = ["DEFAULT_BATCH_SIZE", "DEFAULT_CONNECTIONS", "DEFAULT_MAX_MOVE_TRIPLES", "STATE_KIND",
           "Batches", "LoadState", "scan_lines"]

#: Triples per request; a few MB of N-Triples, which every store we know accepts.
DEFAULT_BATCH_SIZE = 50_000
#: Requests under way at once: a store parses and inserts one batch while the next comes
#: (Virtuoso loads twice as fast with two; with three it answered 500, bench/README.md).
DEFAULT_CONNECTIONS = 2
#: The most triples an atomic ``--replace`` asks Oxigraph to ``MOVE``: it holds a MOVE in
#: memory, 3.7 GiB for 10^6 triples (bench/README.md).
DEFAULT_MAX_MOVE_TRIPLES = 1_000_000

#: The ``kind`` of a state file, which tells it from any other JSON file.
STATE_KIND = "twinning-kg load state"


def scan_lines(path: Path) -> int | None:
    """The number of lines of the N-Triples file ``path`` if it can be streamed as lines:
    every line a triple (no comment or blank line), strictly increasing (sorted, distinct),
    no blank node (``_:`` anywhere: a literal holding it only costs the faster path). None
    otherwise. The caller has checked the file with the strict parser; ``expected`` is
    compared by the caller. Raises ``OSError``."""
    count = 0
    previous = b""
    with path.open("rb") as handle:
        for line in handle:
            if line <= previous or b"_:" in line or not line.endswith(b"\n"):
                return None
            previous = line
            count += 1
    return count


class LoadState:
    """The state file of one load (see the module docstring), or none (``path`` None)."""

    def __init__(self, path: Path | None, identity: dict[str, Any]) -> None:
        self.path = path
        self.identity = {"kind": STATE_KIND, "version": 1, **identity}
        self.saved: dict[str, Any] = {}

    def resume(self) -> dict[str, Any] | None:
        """What a previous, failed run of the same load recorded (``offset``, ``sent``,
        ``before``, ``staging``), or None to start afresh. Raises :class:`LoadError` if the
        file records another load or cannot be read."""
        if self.path is None:
            return None
        try:
            mode = os.lstat(self.path).st_mode
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise LoadError(f"cannot read the state file: {exc.strerror or exc}",
                            path=self.path) from None
        if not stat.S_ISREG(mode):  # a FIFO would block, a device never end
            raise LoadError("the state file is not a regular file; give another --state",
                            path=self.path)
        try:
            doc = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise LoadError(f"cannot read the state file: {exc}", path=self.path) from None
        if not isinstance(doc, dict) or doc.get("kind") != STATE_KIND:
            raise LoadError("is not a kg load state file; give another --state",
                            path=self.path)
        differs = sorted(k for k, v in self.identity.items() if doc.get(k) != v)
        if differs:
            raise LoadError(
                f"records another load (its {', '.join(differs)} differ: the file changed or "
                "the options are not the same); remove it to start over", path=self.path)
        self.saved = {k: doc[k] for k in ("offset", "sent", "before", "staging") if k in doc}
        return self.saved

    def save(self, **values: Any) -> None:
        """Record ``values`` (with the identity), atomically. Raises :class:`LoadError`."""
        if self.path is None:
            return
        self.saved.update(values)
        tmp = self.path.with_name(self.path.name + ".tmp")
        try:
            tmp.write_text(json.dumps({**self.identity, **self.saved}, indent=1) + "\n",
                           encoding="utf-8")
            os.replace(tmp, self.path)
        except OSError as exc:
            raise LoadError(f"cannot write the state file: {exc.strerror or exc}",
                            path=self.path) from None

    def done(self) -> None:
        """The load went through: the state file is removed."""
        if self.path is not None:
            self.path.unlink(missing_ok=True)


class Batches:
    """The batches of one load: ``(body, triples, end offset)`` each, the count of batches,
    and where a resumed load starts (``first`` batch, ``sent`` triples)."""

    def __init__(self, items: Iterator[tuple[bytes, int, int]], count: int, *,
                 first: int = 0, sent: int = 0, state: LoadState | None = None,
                 on_ack: Callable[[int], None] | None = None) -> None:
        self._items = items
        self.count = count
        self.first = first
        self.sent = sent
        self.state = state
        self.on_ack = on_ack

    def __iter__(self) -> Iterator[tuple[bytes, int, int]]:
        return self._items

    def acknowledged(self, sent: int, offset: int) -> None:
        """The store acknowledged the batch ending at ``offset``: ``sent`` triples so far."""
        if self.state is not None:
            self.state.save(offset=offset, sent=sent)
        if self.on_ack is not None:
            self.on_ack(sent)

    def resume_hint(self) -> str:
        """The end of a failure message: how to resume, when a state file is kept."""
        if self.state is None or self.state.path is None:
            return ""
        sent = self.state.saved.get("sent", self.sent)
        return (f"; run the same command again to resume after the {sent} triples "
                f"acknowledged (state in {self.state.path})")

    @classmethod
    def of_lines(cls, path: Path, size: int, total: int, *, offset: int = 0, sent: int = 0,
                 state: LoadState | None = None,
                 on_ack: Callable[[int], None] | None = None) -> Batches:
        """Batches of ``size`` lines of the file, from byte ``offset`` (``sent`` lines
        before it), read as they are sent."""
        def items() -> Iterator[tuple[bytes, int, int]]:
            position = offset
            with path.open("rb") as handle:
                handle.seek(offset)
                while lines := list(itertools.islice(handle, size)):
                    position += sum(map(len, lines))
                    yield b"".join(lines), len(lines), position

        count = -(-total // size)
        return cls(items(), count, first=sent // size, sent=sent, state=state, on_ack=on_ack)
