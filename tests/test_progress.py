"""The progress line: rate and ETA on a terminal, nothing at all elsewhere."""

from __future__ import annotations

import io
import os
import pty

from kg.progress import Progress, format_eta


def test_eta_format() -> None:
    assert format_eta(0) == "0:00"
    assert format_eta(65.4) == "1:05"
    assert format_eta(3725) == "1:02:05"


def test_counted_stage_shows_count_rate_and_eta() -> None:
    stream = io.StringIO()
    progress = Progress("kg build", enabled=True, stream=stream)
    progress.counting("writing twinning.ttl", 1000, "triples")
    progress._stage_started -= 2.0  # two seconds into the stage
    progress.advance(400)
    line = progress.line()
    assert line.startswith("kg build: writing twinning.ttl 400/1,000 triples, ")
    assert "/s, ETA 0:0" in line
    progress(None)
    assert stream.getvalue().startswith("\r\x1b[K") and stream.getvalue().endswith("\r\x1b[K")


def test_nothing_written_when_not_a_terminal() -> None:
    stream = io.StringIO()  # not a TTY
    progress = Progress("kg load", stream=stream)
    progress("contacting the store")
    progress.counting("sending", 10, "triples")
    progress.advance(10)
    progress(None)
    assert stream.getvalue() == ""


def test_on_by_default_on_a_terminal() -> None:
    leader, follower = pty.openpty()
    try:
        with os.fdopen(follower, "w", closefd=False) as stream:
            assert Progress("kg build", stream=stream).on
            assert not Progress("kg build", stream=stream, enabled=False).on
    finally:
        os.close(leader)
        os.close(follower)
