"""Real triple stores for the tests: an Oxigraph server and Virtuoso on 127.0.0.1.

The fixtures that start them live in ``tests/conftest.py``; this module holds what they share
with the tests (the :class:`Store` endpoints, free ports, waiting for a server)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from kg.load import Auth
from kg.paths import installed_program

__all__ = ["VIRTUOSO_INI", "Store", "free_port", "oxigraph_read_only", "stop", "virtuoso_server",
           "wait_until_up"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until_up(url: str, process: subprocess.Popen[bytes], seconds: float, log: Path) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"server exited with {process.returncode}: {log.read_text()[-2000:]}")
        try:
            if requests.get(url, params={"query": "ASK {}"}, timeout=2).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    process.terminate()
    pytest.fail(f"server at {url} not up after {seconds} s: {log.read_text()[-2000:]}")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@dataclass(frozen=True)
class Store:
    gsp: str
    query: str
    auth: Auth | None = None


VIRTUOSO_INI = """\
[Database]
DatabaseFile = {d}/virtuoso.db
ErrorLogFile = {d}/virtuoso.log
LockFile = {d}/virtuoso.lck
TransactionFile = {d}/virtuoso.trx
xa_persistent_file = {d}/virtuoso.pxa
ErrorLogLevel = 7
FileExtend = 200
Striping = 0
TempStorage = TempDatabase
[TempDatabase]
DatabaseFile = {d}/virtuoso-temp.db
TransactionFile = {d}/virtuoso-temp.trx
Striping = 0
[Parameters]
ServerPort = 127.0.0.1:{sql_port}
DisableUnixSocket = 1
MaxClientConnections = 10
CheckpointInterval = 60
CaseMode = 2
DirsAllowed = ., {d}
NumberOfBuffers = 10000
MaxDirtyBuffers = 6000
ThreadsPerQuery = 2
[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = {d}
MaxClientConnections = 5
ServerThreads = 5
Charset = UTF-8
[SPARQL]
ResultSetMaxRows = 100000
MaxQueryExecutionTime = 60
; As Debian's virtuoso.ini ships it: queries estimated to cost more are refused.
MaxQueryCostEstimationTime = 400
"""


@contextmanager
def oxigraph_read_only(folder: Path, data: Path) -> Iterator[str]:
    """A real ``oxigraph serve-read-only`` on 127.0.0.1 over ``data`` (loaded into a store in
    ``folder``); yields its query URL. Skips the test if the oxigraph binary is missing."""
    binary = installed_program("oxigraph")
    if binary is None:
        pytest.skip("the oxigraph server binary is not installed (pip install oxigraph)")
    subprocess.run([binary, "load", "--location", str(folder / "db"), "--file", str(data)],
                   check=True, capture_output=True)
    port = free_port()
    log = folder / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [binary, "serve-read-only", "--location", str(folder / "db"),
             "--bind", f"127.0.0.1:{port}"],
            stdout=out, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}/query"
    try:
        wait_until_up(url, process, 30, log)
        yield url
    finally:
        stop(process)


@contextmanager
def virtuoso_server(folder: Path, parameters: str = "") -> Iterator[tuple[Store, Path]]:
    """A fresh Virtuoso with its database in ``folder`` (a folder holding one is reopened),
    ``parameters`` added to its ``[Parameters]`` section; yields its endpoints (the
    authenticated Graph Store endpoint takes digest credentials dba/dba out of the box) and
    its error log. Skips the test if ``virtuoso-t`` is missing."""
    binary = shutil.which("virtuoso-t")
    if binary is None:
        pytest.skip("virtuoso-t is not installed (Debian virtuoso-opensource; .ci/run installs it)")
    http_port = free_port()
    sql_port = free_port()
    ini = folder / "virtuoso.ini"
    text = VIRTUOSO_INI.format(d=folder, sql_port=sql_port, http_port=http_port)
    ini.write_text(text.replace("[Parameters]\n", f"[Parameters]\n{parameters}"))
    log = folder / "stdout.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [binary, "+foreground", "+configfile", str(ini)],
            cwd=folder,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{http_port}"
    try:
        wait_until_up(f"{base}/sparql", process, 90, log)
        yield Store(
            gsp=f"{base}/sparql-graph-crud-auth",
            query=f"{base}/sparql",
            auth=Auth("dba", "dba", "digest"),
        ), folder / "virtuoso.log"
    finally:
        stop(process)
