"""The map's files are served from /static and /static/vendor, and nothing else under it."""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlsplit

import requests

from kg.serve.app import STATIC_DIR


def test_vendored_files_are_served(base_url: str) -> None:
    for name, kind in (("vendor/d3-geo.min.js", "text/javascript"),
                       ("vendor/d3-array.min.js", "text/javascript"),
                       ("vendor/topojson-client.min.js", "text/javascript"),
                       ("vendor/countries-110m.json", "application/json"),
                       ("map.js", "text/javascript"), ("map.css", "text/css")):
        answer = requests.get(f"{base_url}/static/{name}", timeout=30)
        assert answer.status_code == 200, name
        assert answer.headers["Content-Type"].startswith(kind), name
        assert answer.content == (STATIC_DIR / name).read_bytes()
    world = json.loads((STATIC_DIR / "vendor" / "countries-110m.json").read_text("utf-8"))
    assert world["type"] == "Topology" and "countries" in world["objects"]


def test_no_other_folder_or_dot_file(base_url: str) -> None:
    for name in ("vendor/../app.js", "vendor/x/d3-geo.min.js", "other/map.js",
                 "vendor/.hidden.js", "vendor/", "vendor/README.md", "vendor//d3-geo.min.js",
                 "..%2fapp.js", "vendor%2f..%2fapp.js"):
        # http.client sends the path as written (requests would resolve the "..").
        parts = urlsplit(base_url)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        try:
            conn.request("GET", f"/static/{name}")
            assert conn.getresponse().status == 404, name
        finally:
            conn.close()


def test_page_loads_the_map(base_url: str) -> None:
    page = requests.get(base_url + "/", timeout=30).text
    for src in ("/static/vendor/d3-array.min.js", "/static/vendor/d3-geo.min.js",
                "/static/vendor/topojson-client.min.js", "/static/map.js"):
        assert f'<script src="{src}"></script>' in page
    # d3-geo's UMD build needs d3-array's globals: it comes first.
    assert page.index("d3-array.min.js") < page.index("d3-geo.min.js") < page.index("map.js")
