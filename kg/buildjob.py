"""The build's second process: the JSON-LD file and its read-back check, beside the main one.

``kg build`` spends its time in single-threaded Python (the JSON-LD writer, the strict
re-parse of JSON-LD) and in pyoxigraph calls that hold the GIL, so threads would not
overlap. Once ``twinning.nt`` is on disk, a forked child (:mod:`kg.forked`: the build's
modules already loaded, no start-up cost) makes ``twinning.jsonld`` from that file
(sorted lines, read as they stream: its memory is the JSON-LD writer's small index, not a
copy of the graph) and reads files back through the strict parser, while the main process
writes Turtle and TriG and validates. Measured in ``bench/README.md``.

The child dies with its parent (``PR_SET_PDEATHSIG``): a killed build leaves no process
writing into its temporary folder. A failure comes back as the :class:`~kg.errors.KGError`
the child raised (class, message, path, line).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from kg.errors import RdfError
from kg.forked import Forked, start_forked

__all__ = ["Check", "check_written", "start"]


@dataclass(frozen=True)
class Check:
    """Read ``path`` back as ``fmt``; it must hold ``expected`` triples (or quads); errors
    name ``shown`` (the file's place in the output folder)."""

    path: str
    fmt: str
    expected: int
    shown: str


def start(nt: Path | None, jsonld: Path | None, spool_dir: Path,
          checks: Sequence[Check]) -> Forked[None]:
    """Start the second process: if ``jsonld`` is given, write it from the N-Triples file
    ``nt``; then run ``checks`` in order. Its ``result()`` waits for it and raises the
    :class:`~kg.errors.KGError` it raised; ``kill()`` stops it (the build failed
    elsewhere). Raises ``OSError`` if it cannot start."""
    return start_forked(lambda: _side_work(nt, jsonld, spool_dir, checks),
                        what="the build's second process (JSON-LD, checks)")


def _side_work(nt: Path | None, jsonld: Path | None, spool_dir: Path,
               checks: Sequence[Check]) -> None:
    from kg.rdf.serialize import write_jsonld

    try:
        if jsonld is not None:
            assert nt is not None
            with open(jsonld, "wb") as handle:
                write_jsonld(nt, handle, spool_dir=spool_dir)
        for check in checks:
            check_written(Path(check.path), check.fmt, check.expected, Path(check.shown))
    except OSError as exc:
        raise RdfError(f"cannot write the output folder: {exc.strerror or exc}") from None


def check_written(path: Path, fmt: str, expected: int, shown: Path) -> None:
    """Read the written file back through the strict parser as it streams; its triple (or
    quad) count must be ``expected``. Raises :class:`RdfError` naming ``shown``."""
    from kg.rdf.syntax import check_bytes

    with path.open("rb") as handle:
        count = check_bytes(handle, fmt, path=shown)
    if count != expected:
        raise RdfError(f"wrote {expected} triples but reads back {count}", path=shown)
