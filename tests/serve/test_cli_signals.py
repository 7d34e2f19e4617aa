"""``kg serve`` as a process: it stops cleanly on SIGTERM, and on Ctrl-C even when started in
the background by a shell (which starts background jobs with SIGINT ignored)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from tests.stores import free_port


def start(data: Path, port: int) -> subprocess.Popen[str]:
    # SIGINT ignored in the child, as a non-interactive shell does for `kg serve &`.
    process = subprocess.Popen(
        [sys.executable, "-m", "kg", "serve", str(data), "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()[1]
        try:
            requests.get(f"http://127.0.0.1:{port}/sparql", params={"query": "ASK {}"}, timeout=2)
            return process
        except requests.RequestException:
            time.sleep(0.2)
    process.kill()
    pytest.fail("kg serve did not come up")


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 0), (signal.SIGINT, 130)])
def test_serve_stops_on_signal(data_dir: Path, signum: int, code: int) -> None:
    process = start(data_dir / "places.ttl", free_port())
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == code, stderr
    assert "Traceback" not in stderr
