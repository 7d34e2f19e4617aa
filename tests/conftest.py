"""Session fixtures shared by several test modules: real stores started on 127.0.0.1."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator

import pytest

from kg.paths import installed_program
from tests.stores import Store, free_port, stop, virtuoso_server, wait_until_up


def pytest_configure(config: pytest.Config) -> None:
    """Ctrl-C reaches the suite however it was started: a job started in the background by a
    shell without job control (``.ci/run … &``) inherits SIGINT ignored, which ``kg``
    respects (as a background job should), so the Ctrl-C tests would see no Ctrl-C. A
    handler, unlike an ignored signal, does not pass to the ``kg`` processes tests start."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(scope="session")
def oxigraph(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    binary = installed_program("oxigraph")
    if binary is None:
        pytest.skip("the oxigraph server binary is not installed (pip install oxigraph)")
    folder = tmp_path_factory.mktemp("oxigraph")
    port = free_port()
    log = folder / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [binary, "serve", "--location", str(folder / "db"), "--bind", f"127.0.0.1:{port}"],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{base}/query", process, 30, log)
        yield Store(gsp=f"{base}/store", query=f"{base}/query")
    finally:
        stop(process)


@pytest.fixture(scope="session")
def virtuoso(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """A fresh Virtuoso with its own database folder; its authenticated Graph Store endpoint
    takes digest credentials dba/dba out of the box (no GRANT needed)."""
    with virtuoso_server(tmp_path_factory.mktemp("virtuoso")) as (store, _):
        yield store
