"""Atomic file output: a reader never sees a half-written file, a failure leaves the old one.

Used by every stage that writes: the links table, the built graph, reports.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from kg.errors import KGError

__all__ = ["atomic_write_bytes", "atomic_write_text", "read_lines"]


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename.

    Raises ``OSError`` if the folder cannot be written; ``path`` is then unchanged.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    """:func:`atomic_write_bytes` for UTF-8 text with LF line ends."""
    atomic_write_bytes(path, text.encode("utf-8"))


def read_lines(path: Path, error: type[KGError], what: str, missing: str = "") -> list[str]:
    """The lines of the UTF-8 text file ``path``, without the final newline's empty line.

    Raises ``error`` (``path: message``) when the file is missing ("{what} not found", plus
    ``missing`` as a hint) or cannot be read or decoded ("cannot read {what}: ...").
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(f"{what} not found{missing}", path=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"cannot read {what}: {exc}", path=path) from None
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines
