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


def test_sigterm_is_not_swallowed_by_the_request_loop() -> None:
    """Regression: SIGTERM raised an ``Exception`` subclass, which socketserver's request
    handling catches (``except Exception``) when the signal lands there, so a server busy
    accepting connections went on serving after SIGTERM. It must pass through as
    ``KeyboardInterrupt`` does."""
    import socketserver

    from kg.cli.serve import _Stopped

    class Loop(socketserver.BaseServer):
        def __init__(self) -> None:
            super().__init__(("127.0.0.1", 0), socketserver.BaseRequestHandler)

        def get_request(self) -> tuple[object, object]:
            return object(), ("127.0.0.1", 0)

        def process_request(self, request: object, client_address: object) -> None:
            raise _Stopped  # the signal handler fires while a connection is handed over

        def shutdown_request(self, request: object) -> None:
            pass

    with pytest.raises(_Stopped):
        Loop()._handle_request_noblock()
