"""The build's second process: the JSON-LD file and the read-back checks, beside the main one.

``kg build`` spends its time in single-threaded Python (the JSON-LD writer, the strict
re-parse of the written files) and in pyoxigraph calls that hold the GIL, so threads would
not overlap. Once ``twinning.nt`` is on disk, a second process makes ``twinning.jsonld``
from that file (sorted lines, read as they stream: its memory is the JSON-LD writer's small
index, not a copy of the graph) and reads files back through the strict parser, while the
main process writes Turtle and TriG and validates. Measured in ``bench/README.md``.

The child dies with its parent (``PR_SET_PDEATHSIG``): a killed build leaves no process
writing into its temporary folder. A failure comes back as the :class:`~kg.errors.KGError`
the child raised (class name, message, path, line), as one JSON line on its stdout.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from kg import errors
from kg.children import die_with_parent
from kg.errors import KGError, RdfError

__all__ = ["Check", "SideJob", "run_child", "start"]


@dataclass(frozen=True)
class Check:
    """Read ``path`` back as ``fmt``; it must hold ``expected`` triples (or quads); errors
    name ``shown`` (the file's place in the output folder)."""

    path: str
    fmt: str
    expected: int
    shown: str


def check_written(path: Path, fmt: str, expected: int, shown: Path) -> None:
    """Read the written file back through the strict parser as it streams; its triple (or
    quad) count must be ``expected``. Raises :class:`RdfError` naming ``shown``."""
    from kg.rdf.syntax import check_bytes

    with path.open("rb") as handle:
        count = check_bytes(handle, fmt, path=shown)
    if count != expected:
        raise RdfError(f"wrote {expected} triples but reads back {count}", path=shown)


class SideJob:
    """A running second process; :meth:`wait` returns when it is done or raises its error."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self.process = process

    def wait(self) -> None:
        """Wait for the child. Raises the :class:`KGError` it reported (or an
        :class:`RdfError` if it died without one)."""
        out, _ = self.process.communicate()
        if self.process.returncode == 0:
            return
        try:
            doc = json.loads(out.decode("utf-8").strip().splitlines()[-1])
            kind = getattr(errors, str(doc["kind"]), RdfError)
            if not (isinstance(kind, type) and issubclass(kind, KGError)):
                kind = RdfError
            raise kind(str(doc["message"]), path=doc.get("path"), line=doc.get("line"))
        except (ValueError, KeyError, IndexError, TypeError):
            raise RdfError("the build's second process (JSON-LD, checks) ended with exit "
                           f"code {self.process.returncode}") from None

    def kill(self) -> None:
        """Stop the child now (the build failed elsewhere)."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.communicate()


def start(nt: Path | None, jsonld: Path | None, spool_dir: Path,
          checks: Sequence[Check]) -> SideJob:
    """Start the second process: if ``jsonld`` is given, write it from the N-Triples file
    ``nt``; then run ``checks`` in order. Raises ``OSError`` if it cannot start."""
    job = {"parent": os.getpid(), "nt": None if nt is None else str(nt),
           "jsonld": None if jsonld is None else str(jsonld), "spool": str(spool_dir),
           "checks": [asdict(c) for c in checks]}
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (str(Path(__file__).resolve().parent.parent),
                    os.environ.get("PYTHONPATH")) if p)}
    process = subprocess.Popen(
        [sys.executable, "-c", "import sys; from kg.buildjob import run_child; "
         "sys.exit(run_child(sys.argv[1]))", json.dumps(job)],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, env=env,
    )
    return SideJob(process)


def run_child(spec: str) -> int:
    """The child's work (see :func:`start`); 0, or 2 with the error as one JSON line."""
    from kg.rdf.serialize import write_jsonld

    job = json.loads(spec)
    # Set here, not in a preexec_fn (unsafe when the parent runs threads, as kg serve does);
    # a parent gone before this line is seen by the next one.
    die_with_parent()
    if os.getppid() != job["parent"]:
        return 2
    try:
        if job["jsonld"] is not None:
            with open(job["jsonld"], "wb") as handle:
                write_jsonld(Path(job["nt"]), handle, spool_dir=job["spool"])
        for check in job["checks"]:
            check_written(Path(check["path"]), check["fmt"], int(check["expected"]),
                          Path(check["shown"]))
    except KGError as exc:
        print(json.dumps({"kind": type(exc).__name__, "message": exc.message,
                          "path": exc.path, "line": exc.line}))
        return 2
    except OSError as exc:
        print(json.dumps({"kind": "RdfError", "message": f"cannot write the output folder: "
                          f"{exc.strerror or exc}", "path": None, "line": None}))
        return 2
    return 0
