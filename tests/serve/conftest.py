"""Fixtures for the endpoint tests: small RDF files and a live server on a free port.

QIDs used (looked up in ../shared/gazetteer/gf_wikidata_cities.tsv): Q34600 Kyoto (row
1735), Q956 Beijing (row 90). The data states nothing about them beyond their names.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest

from kg.serve.app import Site, make_server, open_site
from kg.serve.limits import Limits

__all__ = ["serve_site"]

PLACES_TTL = """\
@prefix ex: <http://example.org/> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
ex:kyoto a ex:City ; rdfs:label "Kyoto"@en, "京都市"@ja ;
    owl:sameAs <http://www.wikidata.org/entity/Q34600> ; ex:linkedTo ex:beijing .
ex:beijing a ex:City ; rdfs:label "Beijing"@en, "北京市"@zh ;
    owl:sameAs <http://www.wikidata.org/entity/Q956> .
ex:nowhere a ex:City ; rdfs:label "Nowhere, \\"quoted\\"\\tplace"@en .
"""

GRAPHS_TRIG = """\
@prefix ex: <http://example.org/> .
ex:doc1 { ex:kyoto ex:namedIn ex:doc1 . }
ex:doc2 { ex:beijing ex:namedIn ex:doc2 . }
"""

CITIES_RQ = """\
# title: Cities
# description: Every city with its Wikidata item, optionally only those with a label.
# param: name (string) — an English label to look for
PREFIX ex: <http://example.org/>
PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?city ?label ?wikidata WHERE {
  ?city a ex:City ; rdfs:label ?label .
  FILTER(lang(?label) = "en")
  FILTER(!BOUND(?name) || STR(?label) = ?name)
  OPTIONAL { ?city owl:sameAs ?wikidata }
}
ORDER BY ?label
"""


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with places.ttl, graphs.trig and queries/cities.rq."""
    folder = tmp_path_factory.mktemp("serve-data")
    (folder / "places.ttl").write_text(PLACES_TTL, encoding="utf-8")
    (folder / "graphs.trig").write_text(GRAPHS_TRIG, encoding="utf-8")
    (folder / "queries").mkdir()
    (folder / "queries" / "cities.rq").write_text(CITIES_RQ, encoding="utf-8")
    return folder


@contextmanager
def serve_site(site: Site, **options: Any) -> Iterator[str]:
    """Serve ``site`` on a free loopback port in a thread (``options``: those of
    :func:`make_server`); yields the base URL."""
    server = make_server(site, host="127.0.0.1", port=0, **options)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        site.engine.close()
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def site_factory(data_dir: Path) -> Callable[..., Site]:
    """Build a :class:`Site` over the fixture files, with options (those named like a
    :class:`~kg.serve.limits.Limits` field go into its limits)."""
    def make(**options: object) -> Site:
        files = [data_dir / "places.ttl", data_dir / "graphs.trig"]
        names = {f.name for f in fields(Limits)}
        limits = Limits(**{k: v for k, v in options.items() if k in names})  # type: ignore[arg-type]
        rest = {k: v for k, v in options.items() if k not in names}
        return open_site(files, dumps=files, queries_dir=data_dir / "queries",
                         title="fixture", limits=limits, **rest)  # type: ignore[arg-type]
    return make


@pytest.fixture(scope="session")
def base_url(site_factory: Callable[..., Site]) -> Iterator[str]:
    """A live server over the fixture files (4 KiB body limit, so 413 is testable)."""
    with serve_site(site_factory(max_rows=50, max_body=4096)) as url:
        yield url
