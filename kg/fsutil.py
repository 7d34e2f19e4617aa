"""File input and output shared by the stages.

Output is atomic: a reader never sees a half-written file, a failure leaves the old one
(the links table, the built graph, reports). Input goes through :func:`read_input`, the one
reader of user-named files (source documents, links and overrides tables, the gazetteer):
it reads only regular files, so a FIFO, a device such as ``/dev/zero`` or a folder is
refused at once instead of hanging or filling memory, and it refuses files over a size
limit (:func:`set_max_input_size`, the CLI's ``--max-input-size``).
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from kg.errors import KGError

__all__ = [
    "DEFAULT_MAX_INPUT_SIZE",
    "atomic_write_bytes",
    "atomic_write_text",
    "check_regular_file",
    "max_input_size",
    "read_input",
    "read_lines",
    "set_max_input_size",
]

#: The default input size limit: far above any real source document or table (the seeds
#: are under 1 MiB, the links table for 10^5 twinnings a few tens of MiB).
DEFAULT_MAX_INPUT_SIZE = 64 * 1024 * 1024

_limit = [DEFAULT_MAX_INPUT_SIZE]


def set_max_input_size(size: int) -> None:
    """Set the limit :func:`read_input` applies by default (bytes). Raises ``ValueError``
    unless ``size`` is positive."""
    if size <= 0:
        raise ValueError(f"input size limit must be positive, not {size}")
    _limit[0] = size


def max_input_size() -> int:
    """The limit :func:`read_input` applies by default, in bytes."""
    return _limit[0]


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "not a regular file"


def _refuse(mode: int, error: type[KGError], what: str, path: Path) -> None:
    if not stat.S_ISREG(mode):
        kind = _kind(mode)
        raise error(f"{what} is {kind}, not a regular file (only regular files are read)",
                    path=path)


def check_regular_file(
    path: Path, error: type[KGError], what: str, *, missing: str | None = None
) -> None:
    """Check, without opening it, that ``path`` is a regular file (links followed).

    Raises ``error`` (``path: message``) when it is missing (``missing``, default
    "{what} not found"), cannot be examined, or is a folder, FIFO, device or socket.
    """
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise error(missing or f"{what} not found", path=path) from None
    except OSError as exc:
        raise error(f"cannot read {what}: {exc.strerror or exc}", path=path) from None
    except ValueError as exc:  # a NUL byte in the path
        raise error(f"cannot read {what}: {exc}", path=repr(str(path))) from None
    _refuse(mode, error, what, path)


def read_input(
    path: Path,
    error: type[KGError],
    what: str,
    *,
    missing: str | None = None,
    max_size: int | None = None,
) -> bytes:
    """The bytes of the regular file ``path``, at most ``max_size`` of them (default
    :func:`max_input_size`).

    Never blocks and never reads what it refuses: the file is checked with ``stat`` before
    it is opened, opened non-blocking (a FIFO swapped in meanwhile does not wait for a
    writer) and checked again with ``fstat``. Raises ``error`` (``path: message``) when the
    file is missing (``missing``, default "{what} not found"), is not a regular file
    (folder, FIFO, device, socket), is larger than the limit, or cannot be read.
    """
    limit = max_input_size() if max_size is None else max_size
    too_big = f"{what} is larger than the input size limit of {limit:,} bytes (--max-input-size)"
    check_regular_file(path, error, what, missing=missing)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        raise error(missing or f"{what} not found", path=path) from None
    except OSError as exc:
        raise error(f"cannot read {what}: {exc.strerror or exc}", path=path) from None
    with os.fdopen(fd, "rb") as handle:
        try:
            info = os.fstat(fd)
            _refuse(info.st_mode, error, what, path)
            if info.st_size > limit:
                raise error(too_big, path=path)
            # Read one byte past the limit: a file that grew since fstat is still caught.
            data = handle.read(limit + 1)
        except OSError as exc:
            raise error(f"cannot read {what}: {exc.strerror or exc}", path=path) from None
    if len(data) > limit:
        raise error(too_big, path=path)
    return data


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


def read_lines(
    path: Path, error: type[KGError], what: str, missing: str = "", *, max_size: int | None = None
) -> list[str]:
    """The lines of the UTF-8 text file ``path``, without the final newline's empty line.

    The file is read by :func:`read_input` (regular files only, size limit ``max_size``);
    a leading byte-order mark and the CR of CRLF line ends are dropped.
    Raises ``error`` (``path: message``) when the file is missing ("{what} not found", plus
    ``missing`` as a hint), is not a regular file, is over the limit, or cannot be read or
    decoded ("cannot read {what}: ...", not UTF-8 with the line of the first bad byte).
    """
    data = read_input(path, error, what, missing=f"{what} not found{missing}", max_size=max_size)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise error(
            f"cannot read {what}: not UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})",
            path=path,
            line=line,
        ) from None
    # A byte-order mark and CRLF line ends (a table saved by a spreadsheet or Notepad) are
    # encoding, not content.
    lines = text.removeprefix("\ufeff").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line.removesuffix("\r") for line in lines]
