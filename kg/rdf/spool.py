"""The emitted lines of the named graphs: sets in memory, spilled to disk above a size.

The emitter files each N-Triples line under its graph, duplicates merged as they come
(:class:`LineSets`). Small graphs (the seeds, tests, up to :data:`RUN_LINES` distinct
lines a graph) stay in memory, as sets. A graph that grows past that is written to disk
as sorted runs, which the system's ``sort`` merges and de-duplicates (``sort -m -u``, in
the C locale: bytewise, the order :class:`~kg.rdf.quads.Quads` sorts in), and ``comm``
takes from each graph the lines a more authoritative one states; the lines are then read
back, sorted, one graph at a time.

Why: at 10^6 twinnings (26.7 M triples) the lines in Python sets take about 7 GB
(the bytes objects, about 220 bytes a line, and the sets' tables, about 40), held until
the end of emission beside the parsed records, the links table and the emitter's own
indexes of places and names. Spilled, the emission holds at most :data:`RUN_LINES` lines
a graph; the lines come back once those are gone, into the memory they left. ``sort``
and ``comm`` are the well-kept external merge sort every system has: only the spill and
the calls are written here.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from kg.errors import RdfError

__all__ = ["RUN_LINES", "LineSets", "merge_files", "read_lines"]

#: Distinct lines a graph holds in memory before they go to disk as a sorted run (about
#: 270 MB: 1 M lines of about 190 bytes, their objects and their share of the set).
RUN_LINES = 1 << 20

#: Lines per write of a run (about 1.5 MB).
_WRITE_LINES = 8192

#: ``sort`` and ``comm`` compare bytes in the C locale, as Python sorts bytes.
_ENV = {**os.environ, "LC_ALL": "C"}


def _spool_error(exc: OSError) -> RdfError:
    return RdfError(
        f"cannot spool the emitted graph in {tempfile.gettempdir()} (TMPDIR): "
        f"{exc.strerror or exc}; free some space there, or set TMPDIR to a folder with room")


def _run(argv: list[str], out: Path) -> None:
    """Run ``sort`` or ``comm`` into ``out``. Raises :class:`RdfError` if it fails."""
    try:
        with out.open("wb") as handle:
            done = subprocess.run(argv, stdout=handle, stderr=subprocess.PIPE,
                                  stdin=subprocess.DEVNULL, env=_ENV, check=False)
    except FileNotFoundError:
        raise RdfError(f"the system's {argv[0]} command (POSIX) is needed to sort the "
                       "emitted graph; it was not found") from None
    except OSError as exc:
        raise _spool_error(exc) from None
    if done.returncode != 0:
        text = done.stderr.decode("utf-8", "replace").strip().splitlines()
        cause = text[0] if text else f"exit code {done.returncode}"
        raise RdfError(f"{argv[0]} failed on the spooled graph: {cause}")


def merge_files(files: Sequence[Path], out: Path) -> None:
    """Write into ``out`` the lines of the sorted ``files`` merged in order (``sort -m``,
    C locale): the union of the graphs' files, which hold no line in common. Raises
    :class:`RdfError` (``sort`` missing or failing, the spool: TMPDIR)."""
    _run(["sort", "-m", "-T", str(out.parent), *map(str, files)], out)


def read_lines(path: Path) -> Iterator[bytes]:
    """The lines of ``path``, without their newline, read about 1 MB at a time; the file
    is removed once read."""
    with path.open("rb") as handle:
        rest = b""
        while chunk := handle.read(1 << 20):
            lines = (rest + chunk).split(b"\n")
            rest = lines.pop()
            yield from lines
        if rest:
            yield rest
    path.unlink()


class LineSets:
    """The distinct lines of each named graph (by document id), in memory or spilled.

    The emitter adds lines to :meth:`graph`'s set and calls :meth:`spill` when it holds
    :attr:`run_lines` lines (the set is emptied in place: the same object goes on);
    :meth:`finish` gives each graph's lines, each line in the graph of the first document
    of ``order`` stating it; :meth:`close` removes what was spilled (call it when done,
    whatever happens). Raises :class:`RdfError` when the spool cannot be written or
    ``sort`` fails.
    """

    def __init__(self, folder: Path | None = None) -> None:
        self.sets: dict[str, set[bytes]] = {}
        #: lines a graph's set holds before it is spilled (:data:`RUN_LINES`, read now)
        self.run_lines = RUN_LINES
        self._runs: dict[str, list[Path]] = {}
        #: where runs and graph files go: ``folder`` (the caller's, left in place), or a
        #: temporary folder made on first use and removed by :meth:`close`
        self._folder = folder
        self._own = folder is None

    def graph(self, doc: str) -> set[bytes]:
        """The in-memory set of ``doc``'s graph (made empty on first use)."""
        lines = self.sets.get(doc)
        if lines is None:
            lines = self.sets[doc] = set()
        return lines

    def spill(self, doc: str) -> None:
        """Write ``doc``'s set to disk as a sorted run and empty it (in place)."""
        lines = self.sets[doc]
        folder = self._made()
        runs = self._runs.setdefault(doc, [])
        path = folder / f"run-{list(self._runs).index(doc)}-{len(runs)}.nt"
        ordered = sorted(lines)
        lines.clear()  # its objects go as the run is written
        try:
            with path.open("wb") as handle:
                for start in range(0, len(ordered), _WRITE_LINES):
                    handle.write(b"\n".join([*ordered[start:start + _WRITE_LINES], b""]))
        except OSError as exc:
            raise _spool_error(exc) from None
        runs.append(path)

    def _made(self) -> Path:
        if self._folder is None:
            try:
                self._folder = Path(tempfile.mkdtemp(prefix="kg-emit-"))
            except OSError as exc:
                raise _spool_error(exc) from None
        return self._folder

    def _once_in_memory(self, order: Sequence[str]) -> None:
        seen_graphs: list[set[bytes]] = []
        for doc in order:
            lines = self.graph(doc)
            # Graph by graph, in place: a set of every line seen would be a second table
            # of the whole graph.
            for earlier in seen_graphs:
                lines -= earlier
            seen_graphs.append(lines)

    def finish(self, order: Sequence[str]) -> dict[str, set[bytes] | Iterator[bytes]]:
        """Each graph's distinct lines (by document id, in ``order``, which names every
        graph), a line only in the graph of the first document stating it: sets when
        nothing was spilled, else sorted line streams read from disk (each file removed
        once read)."""
        if not self._runs:
            self._once_in_memory(order)
            return {doc: self.graph(doc) for doc in order}
        return {doc: read_lines(path) for doc, path in self.finish_files(order).items()}

    def finish_files(self, order: Sequence[str]) -> dict[str, Path]:
        """As :meth:`finish`, each graph's lines as a file of sorted lines (each ending in
        a newline) in the spool folder, by document id: what another process reads."""
        folder = self._made()
        if not self._runs:
            self._once_in_memory(order)
            paths = {}
            for number, doc in enumerate(order):
                lines = sorted(self.graph(doc))
                self.graph(doc).clear()
                paths[doc] = folder / f"once-{number}.nt"
                try:
                    with paths[doc].open("wb") as handle:
                        for start in range(0, len(lines), _WRITE_LINES):
                            handle.write(b"\n".join([*lines[start:start + _WRITE_LINES], b""]))
                except OSError as exc:
                    raise _spool_error(exc) from None
            return paths
        for doc in order:
            if self.sets.get(doc):
                self.spill(doc)
        merged: list[Path] = []
        for number, doc in enumerate(order):
            path = folder / f"graph-{number}.nt"
            runs = [str(p) for p in self._runs.get(doc, [])]
            if runs:
                _run(["sort", "-m", "-u", "-T", str(folder), *runs], path)
            else:
                path.write_bytes(b"")
            for run in runs:
                os.unlink(run)
            merged.append(path)
        out = {order[0]: merged[0]} if order else {}
        for number, doc in enumerate(order[1:], 1):
            before = merged[:number]
            seen = before[0]
            if len(before) > 1:
                seen = folder / f"seen-{number}.nt"
                _run(["sort", "-m", "-u", "-T", str(folder), *map(str, before)], seen)
            once = folder / f"once-{number}.nt"
            # Lines only in this graph (comm -23: not in the earlier ones).
            _run(["comm", "-23", str(merged[number]), str(seen)], once)
            out[doc] = once
            if seen not in merged:
                os.unlink(seen)
        for path in merged[1:]:  # replaced by their once- files: disk back at once
            os.unlink(path)
        return out

    def close(self) -> None:
        """Remove the spilled runs and files, if any (the temporary folder this made; a
        caller's folder is the caller's to remove)."""
        if self._folder is not None and self._own:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None
