"""kg.forked: a function run in a forked child gives back its result or its error."""

from __future__ import annotations

import os
import signal
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

from kg.build import build
from kg.errors import KGError, RdfError, SourceError
from kg.forked import run_forked, start_forked
from kg.rdf.syntax import RdfSyntaxError

_TOUCHED: list[int] = []


def test_the_result_comes_back_and_the_work_ran_elsewhere() -> None:
    def work() -> tuple[int, list[bytes]]:
        _TOUCHED.append(1)  # in the child's memory only
        return os.getpid(), [b"x" * 10] * 3

    pid, lines = run_forked(work, what="the test")
    assert pid != os.getpid() and lines == [b"x" * 10] * 3
    assert _TOUCHED == []


def test_a_kg_error_comes_back_as_itself() -> None:
    def work() -> None:
        raise SourceError("bad row", path="doc.md", line=7)

    with pytest.raises(SourceError) as info:
        run_forked(work, what="the test")
    assert (str(info.value), info.value.path, info.value.line) == ("doc.md:7: bad row",
                                                                    "doc.md", 7)


def test_any_other_error_is_one_line() -> None:
    def work() -> None:
        raise ValueError("oops\nsecond line")

    with pytest.raises(RdfError) as info:
        run_forked(work, what="the test")
    assert str(info.value).startswith("the test failed: ValueError: oops")


def test_a_killed_child_is_told() -> None:
    def work() -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    with pytest.raises(RdfError) as info:
        run_forked(work, what="the test")
    assert str(info.value) == ("the test ended without a result: killed by signal 9 "
                               "(out of memory?)")


def test_a_started_child_works_beside_the_caller_and_can_be_stopped(tmp_path: Path) -> None:
    """start_forked returns at once: the caller goes on while the child works (the build's
    JSON-LD beside Turtle, TriG and SHACL), then takes the result; kill() stops it."""
    gate = tmp_path / "go"

    def wait_for_the_gate() -> int:
        while not gate.exists():
            time.sleep(0.01)
        return os.getpid()

    child = start_forked(wait_for_the_gate, what="the waiting child")
    gate.touch()  # the caller's work, done while the child waits for it
    assert child.result() == child.pid != os.getpid()
    stuck = start_forked(lambda: time.sleep(60), what="a stuck child")
    started = time.monotonic()
    stuck.kill()
    assert time.monotonic() - started < 5
    with pytest.raises(ProcessLookupError):
        os.kill(stuck.pid, 0)


def test_a_kg_errors_own_attributes_come_back() -> None:
    def bad_syntax() -> None:
        raise RdfSyntaxError("not N-Triples", path="dist/twinning.nt", line=3, column=7)

    with pytest.raises(RdfSyntaxError) as caught:
        run_forked(bad_syntax, what="the test child")
    assert str(caught.value) == "dist/twinning.nt:3:7: not N-Triples"


def test_the_build_leaves_no_spool_behind(tmp_path: Path, monkeypatch: Any) -> None:
    spool = tmp_path / "tmp"
    spool.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool))
    build(out=tmp_path / "dist", progress=False)
    bad = tmp_path / "bad.csv"
    bad.write_text("not a list\n", encoding="utf-8")
    with pytest.raises(KGError):  # the source plug-in's one-line error, from the child
        build(out=tmp_path / "dist2", seeds=[bad], progress=False)
    assert list(spool.iterdir()) == []


def test_a_killed_builds_spool_is_removed_by_the_next(tmp_path: Path, monkeypatch: Any) -> None:
    import fcntl

    spool = tmp_path / "tmp"
    spool.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spool))
    stale = spool / "kg-emit-stale123"
    stale.mkdir()
    (stale / "union.nt").write_bytes(b"x\n")
    live = spool / "kg-emit-live4567"
    live.mkdir()
    other = spool / "not-ours"
    other.mkdir()
    fd = os.open(live, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # a build still running
        build(out=tmp_path / "dist", progress=False)
        assert sorted(p.name for p in spool.iterdir()) == ["kg-emit-live4567", "not-ours"]
    finally:
        os.close(fd)
