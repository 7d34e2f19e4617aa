"""File input and output shared by the stages.

Output is atomic: a reader never sees a half-written file, a failure leaves the old one
(the links table, the built graph, reports). :func:`atomic_write_bytes` is the one writer of
users' files: it keeps symbolic links and permission bits, removes what killed writers
left, and turns every ``OSError`` into one line that names the file, the cause and what the
user can do (:func:`write_error`). Input goes through :func:`read_input`, the one
reader of user-named files (source documents, links and overrides tables, the gazetteer):
it reads only regular files, so a FIFO, a device such as ``/dev/zero`` or a folder is
refused at once instead of hanging or filling memory, and it refuses files over a size
limit (:func:`set_max_input_size`, the CLI's ``--max-input-size``).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import stat
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from kg.errors import KGError

__all__ = [
    "DEFAULT_MAX_INPUT_SIZE",
    "MAX_LINE_LENGTH",
    "atomic_write_bytes",
    "atomic_write_text",
    "check_line_lengths",
    "check_regular_file",
    "max_input_size",
    "os_error_text",
    "read_input",
    "read_lines",
    "remove_leftovers",
    "set_max_input_size",
    "write_error",
]

#: The default input size limit: far above any real source document or table (the seeds
#: are under 1 MiB, the links table for 10^5 twinnings a few tens of MiB).
DEFAULT_MAX_INPUT_SIZE = 64 * 1024 * 1024

_limit = [DEFAULT_MAX_INPUT_SIZE]

#: The longest line (in characters) a table or document may have. A cell or a name is at
#: most a line, and becomes one RDF literal: pyoxigraph's writers and parsers hold one term
#: in a buffer of at most 16 MiB, which a literal of 1 Mi characters cannot reach even
#: UTF-8 encoded (4 bytes each) and escaped. Real lines are under 1,000 characters.
MAX_LINE_LENGTH = 1024 * 1024


def check_line_lengths(lines: Sequence[str], error: type[KGError], what: str,
                       path: str | Path) -> None:
    """Raise ``error`` (``path:line``) for the first of ``lines`` (numbered from 1) longer
    than :data:`MAX_LINE_LENGTH` characters."""
    if all(len(line) <= MAX_LINE_LENGTH for line in lines):
        return
    number, line = next((n, s) for n, s in enumerate(lines, 1) if len(s) > MAX_LINE_LENGTH)
    raise error(
        f"{what}: the line is {len(line):,} characters long, over the limit of "
        f"{MAX_LINE_LENGTH:,} for one line (a cell or a name becomes one RDF literal, and "
        "the RDF writers hold at most 16 MiB per term)", path=path, line=number)


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


#: What the user can do about a failed write, by ``errno``: the cause in plain words and
#: the way out. Anything else gets the system's own words.
_WRITE_ADVICE = {
    errno.ENOSPC: "no space left on the device (free some space, or write elsewhere)",
    errno.EDQUOT: "disk quota exceeded (free some space, or write elsewhere)",
    errno.EFBIG: "file too large for this file system or the file size limit (ulimit -f)",
    errno.EROFS: "the file system is read-only (write elsewhere, or remount it read-write)",
    errno.EACCES: "permission denied (check the permissions of the file and its folder, "
                  "or write elsewhere)",
    errno.EPERM: "operation not permitted (an immutable or append-only file? see lsattr; "
                 "or write elsewhere)",
    errno.EBUSY: "device or resource busy (a mount point cannot be replaced: choose a path "
                 "inside it, or elsewhere)",
    errno.EISDIR: "it is a folder (name a file)",
    errno.ENOTDIR: "a part of the path is not a folder",
    errno.ENAMETOOLONG: "the file name is too long",
    errno.EIO: "input/output error (check the disk)",
}


def os_error_text(exc: OSError) -> str:
    """The cause of a failed file operation in plain words, with what the user can do
    (for full, read-only, protected and busy places), else the system's own words."""
    advice = _WRITE_ADVICE.get(exc.errno or 0)
    if advice is not None:
        return advice
    return exc.strerror or " ".join(str(exc).split()) or type(exc).__name__


def write_error(
    exc: OSError, path: Path, error: type[KGError] = KGError, what: str = "file"
) -> KGError:
    """The one-line :class:`KGError` (``error``) for ``exc`` raised while writing ``what``
    at ``path``: ``path: cannot write WHAT: cause (what to do); PATH is unchanged``."""
    return error(f"cannot write {what}: {os_error_text(exc)}; it is unchanged", path=path)


def _umask() -> int:
    # The process's umask without changing it (Linux 4.7+ shows it); else the usual
    # set-and-restore, which briefly changes it for every thread.
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _leftover_pattern(name: str) -> re.Pattern[str]:
    # tempfile.mkstemp's names: prefix + 8 characters of [a-z0-9_] + suffix.
    return re.compile(rf"^\.{re.escape(name)}\.[a-z0-9_]{{8}}\.tmp$")


#: A temporary file younger than this may belong to a writer that has not locked it yet.
_LEFTOVER_AGE = 2.0


def remove_leftovers(path: Path) -> list[Path]:
    """Remove the temporary files that writers of ``path`` killed before their rename left
    beside it (``.NAME.XXXXXXXX.tmp``, the pattern of :func:`atomic_write_bytes` only):
    regular files no live writer holds (each writer keeps an ``flock`` on its temporary
    file) and older than two seconds. Returns them; never raises for a file it cannot
    remove (that is left for a later run)."""
    pattern = _leftover_pattern(path.name)
    removed: list[Path] = []
    try:
        entries = list(os.scandir(path.parent))
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        if not pattern.match(entry.name):
            continue
        try:
            info = entry.stat(follow_symlinks=False)
            if not stat.S_ISREG(info.st_mode) or now - info.st_mtime < _LEFTOVER_AGE:
                continue
            fd = os.open(entry.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # held by a live writer: keep
            os.unlink(entry.path)
            removed.append(Path(entry.path))
        except OSError:
            pass
        finally:
            os.close(fd)
    return removed


def _write_through(path: Path, data: bytes) -> None:
    """The atomic write itself; raises ``OSError`` with ``path`` unchanged."""
    # A symbolic link stays a link: its target is what gets replaced.
    target = Path(os.path.realpath(path)) if path.is_symlink() else path
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        mode = 0o666 & ~_umask()  # what open() would give a new file, not mkstemp's 0600
    remove_leftovers(target)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            # Locked while it is written: remove_leftovers leaves a live writer's file.
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            os.fchmod(handle.fileno(), mode)
            handle.write(data)
            handle.flush()
            # On the disk before the rename: a crash leaves the old file or the new one.
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def atomic_write_bytes(
    path: Path, data: bytes, *, error: type[KGError] = KGError, what: str = "file"
) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder, synced, then
    renamed over it: a reader sees the old file or the new one, never a part.

    This is the one place the project writes a user's file. It keeps what the user set up:
    a symbolic link stays a link and its target is replaced; an existing file keeps its
    permission bits and a new one gets the umask's (not ``0600``); temporary files that
    killed writers left beside it are removed first (:func:`remove_leftovers`).
    Raises ``error`` (one line: the path, ``what``, the cause and what the user can do, see
    :func:`write_error`) for any ``OSError``: a full, read-only or busy place, no
    permission, an immutable file. ``path`` is then unchanged and no temporary file is left.
    """
    try:
        _write_through(Path(path), data)
    except OSError as exc:
        raise write_error(exc, Path(path), error, what) from None


def atomic_write_text(
    path: Path, text: str, *, error: type[KGError] = KGError, what: str = "file"
) -> None:
    """:func:`atomic_write_bytes` for UTF-8 text with LF line ends."""
    atomic_write_bytes(path, text.encode("utf-8"), error=error, what=what)


def read_lines(
    path: Path, error: type[KGError], what: str, missing: str = "", *, max_size: int | None = None
) -> list[str]:
    """The lines of the UTF-8 text file ``path``, without the final newline's empty line.

    The file is read by :func:`read_input` (regular files only, size limit ``max_size``);
    a leading byte-order mark and the CR of CRLF line ends are dropped.
    Raises ``error`` (``path: message``) when the file is missing ("{what} not found", plus
    ``missing`` as a hint), is not a regular file, is over the limit, or cannot be read or
    decoded ("cannot read {what}: ...", not UTF-8 with the line of the first bad byte), or
    has a line longer than :data:`MAX_LINE_LENGTH` (:func:`check_line_lengths`).
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
    check_line_lengths(lines, error, what, path)
    return [line.removesuffix("\r") for line in lines]
