"""Ctrl-C until the process exits (issue 18, :mod:`kg.interrupt`).

Before a command's point of no return a Ctrl-C stops it (exit 130, the output as it was);
after it the command finishes and reports success; a Ctrl-C while the process ends prints
no "Exception ignored in threading._shutdown" traceback. The signals are real SIGINTs,
sent to the process itself (in-process cases) or to a ``kg`` child process.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from kg import build as build_module
from kg import paths
from kg.cli import main

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    out = tmp_path / "dist"
    assert main(["build", "-q", "--formats", "nt", "--out", str(out)]) == 0
    return out


def test_ctrl_c_during_the_swap_reports_the_build_done(dist: Path, monkeypatch: Any,
                                                      capsys: Any) -> None:
    """The new folder goes in; a Ctrl-C that lands at that moment is not an interruption."""
    swap = build_module._swap_in

    def swap_under_ctrl_c(*args: Any) -> None:
        os.kill(os.getpid(), signal.SIGINT)
        swap(*args)

    monkeypatch.setattr(build_module, "_swap_in", swap_under_ctrl_c)
    before = _tree(dist)
    capsys.readouterr()
    assert main(["build", "--formats", "nt,ttl", "--out", str(dist)]) == 0
    err = capsys.readouterr().err
    assert "interrupted" not in err and "Ctrl-C came after the command had made its change" in err
    assert "twinning.ttl" in _tree(dist) and _tree(dist) != before


def test_ctrl_c_before_the_swap_interrupts_and_keeps_the_old_build(
        dist: Path, monkeypatch: Any, capsys: Any) -> None:
    import kg.validate

    # With N-Triples among the formats the build validates the written twinning.nt.
    validate = kg.validate.validate_ntriples_files

    def validate_under_ctrl_c(*args: Any, **kwargs: Any) -> Any:
        os.kill(os.getpid(), signal.SIGINT)
        return validate(*args, **kwargs)

    monkeypatch.setattr(kg.validate, "validate_ntriples_files", validate_under_ctrl_c)
    before = _tree(dist)
    capsys.readouterr()
    assert main(["build", "--formats", "nt,ttl", "--out", str(dist)]) == 130
    assert capsys.readouterr().err == "kg build: interrupted\n"
    assert _tree(dist) == before
    assert [p.name for p in dist.parent.iterdir()] == ["dist"]
    # main() put Python's own handler back (it was called with arguments, in-process)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def _ctrl_c_after(argv: list[str], marker: str, stream: str) -> subprocess.CompletedProcess[str]:
    """Run ``kg argv``; the moment ``marker`` appears on ``stream``, send SIGINT."""
    process = subprocess.Popen([sys.executable, "-m", "kg", *argv], cwd=ROOT, env=ENV,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    pipe = process.stdout if stream == "stdout" else process.stderr
    assert pipe is not None
    seen = ""
    deadline = time.monotonic() + 120
    while marker not in seen and time.monotonic() < deadline:
        line = pipe.readline()
        if not line:
            break
        seen += line
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    if stream == "stdout":
        out = seen + out
    else:
        err = seen + err
    return subprocess.CompletedProcess(argv, process.returncode, out, err)


@pytest.mark.parametrize("attempt", range(3))
def test_ctrl_c_right_after_the_build_summary(attempt: int, tmp_path: Path) -> None:
    out = tmp_path / "dist"
    done = _ctrl_c_after(["build", "--formats", "nt", "--out", str(out)], "kg build: ", "stdout")
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr
    assert "interrupted" not in done.stderr
    assert (out / "manifest.json").is_file()


@pytest.mark.skipif(not paths.GAZETTEER_DIR.is_dir(), reason="the shared gazetteer is not here")
@pytest.mark.parametrize("attempt", range(3))
def test_ctrl_c_right_after_the_reconcile_summary(attempt: int, tmp_path: Path) -> None:
    """(Regression: "Exception ignored in threading._shutdown" and a traceback, or
    "interrupted" with the table already written.)"""
    table = tmp_path / "links.tsv"
    table.write_bytes((ROOT / "seeds" / "wikidata-links.tsv").read_bytes())
    done = _ctrl_c_after(["reconcile", "--coordinates-only", "--gazetteer",
                          str(paths.GAZETTEER_DIR), "--out", str(table)],
                         "kg reconcile: ", "stderr")
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr
    assert "interrupted" not in done.stderr


def test_ctrl_c_stops_kg_load_at_once_when_the_store_does_not_answer(dist: Path) -> None:
    """The batches are sent by daemon threads: a Ctrl-C while the store holds two requests
    unanswered ends the load at once, not after their timeout."""
    import socket
    import threading

    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []

    def accept_and_say_nothing() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            held.append(conn)

    threading.Thread(target=accept_and_say_nothing, daemon=True).start()
    port = listener.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "kg", "load", str(dist / "twinning.nt"), "--endpoint",
         f"http://127.0.0.1:{port}/store", "--no-check", "--batch-size", "1000",
         "--timeout", "600"],
        env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while len(held) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(held) == 2, "kg load did not open its two connections"
        time.sleep(0.3)
        started = time.monotonic()
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=20)
        assert time.monotonic() - started < 5
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        listener.close()
        for conn in held:
            conn.close()
    assert process.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
