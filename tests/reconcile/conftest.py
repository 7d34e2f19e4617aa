"""Fixtures for the live Wikidata client: a fake Action API and a real Oxigraph server.

The fake API answers ``wbgetentities`` and ``wbsearchentities`` from ``data/wikidata_api.json``
in Wikidata's formatversion-2 JSON, enforces Wikibase's rules (``normalize`` with one title
only, 50 ids at most), records every request, and can inject faults.
"""

from __future__ import annotations

import json
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from kg.paths import installed_program

DATA = Path(__file__).parent / "data"


@dataclass
class Fault:
    """One injected fault: ``kind`` is delay, status, malformed, apierror or maxlag."""

    kind: str
    status: int = 200
    retry_after: str | None = None
    delay: float = 0.0


@dataclass
class FakeWikidata:
    """State of the fake API: the request log and a queue of faults (``forever`` repeats)."""

    url: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    forever: Fault | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_fault(self) -> Fault | None:
        with self.lock:
            if self.faults:
                return self.faults.pop(0)
            return self.forever


def _error(code: str, info: str) -> dict[str, Any]:
    return {"error": {"code": code, "info": info, "docref": "See the API help."}, "servedby": "t"}


def _answer(data: dict[str, Any], q: dict[str, str]) -> dict[str, Any]:
    """The formatversion-2 answer of Wikibase for query parameters ``q``."""
    entities: dict[str, Any] = data["entities"]
    if q.get("action") == "wbsearchentities":
        ids = data["search"].get(q.get("language", ""), {}).get(q.get("search", ""), [])
        limit = int(q.get("limit", "7"))
        hits = [
            {
                "id": qid,
                "title": qid,
                "pageid": 1,
                "concepturi": f"http://www.wikidata.org/entity/{qid}",
                "repository": "wikidata",
                "url": f"//www.wikidata.org/wiki/{qid}",
                "display": {},
                "match": {"type": "label", "language": q["language"], "text": q["search"]},
            }
            for qid in ids[:limit]
        ]
        return {"searchinfo": {"search": q.get("search")}, "search": hits, "success": 1}
    if q.get("action") != "wbgetentities":
        return _error("badvalue", "Unrecognized value for parameter action.")
    out: dict[str, Any] = {}
    result: dict[str, Any] = {"entities": out, "success": 1}
    missing = -1
    if "ids" in q:
        ids = q["ids"].split("|")
        if len(ids) > 50:
            return _error("toomanyvalues", "Too many values supplied for parameter ids.")
        for qid in ids:
            target = data["entity_redirects"].get(qid, qid)
            if target in entities:
                entity = dict(entities[target])
                if target != qid:
                    entity["redirects"] = {"from": qid, "to": target}
                out[qid] = entity
            else:
                out[qid] = {"id": qid, "missing": ""}
        return result
    titles = q.get("titles", "").split("|")
    if q.get("normalize") and len(titles) > 1:
        return _error(
            "params-illegal",
            "Normalize is only allowed if exactly one site and one page have been given",
        )
    by_title: dict[str, str] = {e["sitelinks"]["zhwiki"]["title"]: k for k, e in entities.items()}
    for title in titles:
        found = by_title.get(title)
        if found is None and q.get("normalize"):
            # MediaWiki title normalisation, then zh.wikipedia page redirects.
            norm = title.replace("_", " ").strip()
            norm = data["zhwiki_redirects"].get(norm, norm)
            if norm != title:
                result["normalized"] = {"n": {"from": title, "to": norm}}
            found = by_title.get(norm)
        if found is None:
            out[str(missing)] = {"site": "zhwiki", "title": title, "missing": ""}
            missing -= 1
        else:
            out[found] = entities[found]
    return result


def _handler(fake: FakeWikidata, data: dict[str, Any]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def do_GET(self) -> None:
            query = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
            with fake.lock:
                fake.requests.append({"params": query, "headers": dict(self.headers)})
            fault = fake.next_fault()
            body: bytes
            status = 200
            headers: dict[str, str] = {}
            if fault is not None and fault.kind == "delay":
                time.sleep(fault.delay)
            if fault is not None and fault.kind == "status":
                status = fault.status
                body = b"<html><body>Error</body></html>"
            elif fault is not None and fault.kind == "malformed":
                body = b'{"entities": {"Q1": '
            elif fault is not None and fault.kind == "apierror":
                body = json.dumps(_error("no-such-entity", "Could not find an entity.")).encode()
            elif fault is not None and fault.kind == "maxlag":
                lag = _error("maxlag", "Waiting for 10.64.48.1: 7 seconds lagged.")
                lag["error"].update({"host": "10.64.48.1", "lag": 7, "type": "db"})
                body = json.dumps(lag).encode()
                headers["X-Database-Lag"] = "7"
            else:
                body = json.dumps(_answer(data, query), ensure_ascii=False).encode()
            if fault is not None and fault.retry_after is not None:
                headers["Retry-After"] = fault.retry_after
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)
            except OSError:
                pass  # the client gave up (timeout test)

    return Handler


@pytest.fixture
def fake_wikidata() -> Iterator[FakeWikidata]:
    """A fake Wikidata Action API on 127.0.0.1 at a free port; ``.url`` is its api.php."""
    data = json.loads((DATA / "wikidata_api.json").read_text(encoding="utf-8"))
    fake = FakeWikidata()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake, data))
    server.daemon_threads = True
    fake.url = f"http://127.0.0.1:{server.server_address[1]}/w/api.php"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def oxigraph_wikidata(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real ``oxigraph serve-read-only`` loaded with ``data/wikidata_twins.nt``.

    Yields the SPARQL query endpoint URL.
    """
    binary = installed_program("oxigraph")
    if binary is None:
        pytest.fail("the oxigraph server binary is not installed")
    location = tmp_path_factory.mktemp("oxigraph")
    subprocess.run(
        [binary, "load", "--location", str(location), "--file", str(DATA / "wikidata_twins.nt")],
        check=True,
        capture_output=True,
    )
    port = _free_port()
    proc = subprocess.Popen(
        [binary, "serve-read-only", "--location", str(location), "--bind", f"127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/query"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(f"{url}?query=ASK%7B%7D", timeout=1):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("oxigraph server did not start")
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
