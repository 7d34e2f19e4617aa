"""kg.store: RDF files of every supported format into a pyoxigraph store."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

from kg.errors import StoreError
from kg.store import format_for, load_files, load_store, open_store

EX = "http://example.org/"

SAMPLES = {
    "a.ttl": f"@prefix ex: <{EX}> . ex:a ex:p ex:b .",
    "a.nt": f"<{EX}a> <{EX}p> <{EX}b> .\n",
    "a.nq": f"<{EX}a> <{EX}p> <{EX}b> <{EX}g> .\n",
    "a.trig": f"@prefix ex: <{EX}> . ex:g {{ ex:a ex:p ex:b }}",
    "a.jsonld": f'{{"@context": {{"ex": "{EX}"}}, "@id": "ex:a", "ex:p": {{"@id": "ex:b"}}}}',
    "a.rdf": (f'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
              f'xmlns:ex="{EX}"><rdf:Description rdf:about="{EX}a">'
              f'<ex:p rdf:resource="{EX}b"/></rdf:Description></rdf:RDF>'),
}


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_every_format_loads(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text(SAMPLES[name], encoding="utf-8")
    store = load_store([path])
    (quad,) = list(store)
    assert quad.triple == ox.Triple(ox.NamedNode(EX + "a"), ox.NamedNode(EX + "p"),
                                    ox.NamedNode(EX + "b"))
    # Quad formats keep their graph names; triple formats fill the default graph.
    expected = ox.NamedNode(EX + "g") if name in ("a.nq", "a.trig") else ox.DefaultGraph()
    assert quad.graph_name == expected


def test_jsonld_named_graph(tmp_path: Path) -> None:
    path = tmp_path / "g.jsonld"
    path.write_text(f'{{"@context": {{"ex": "{EX}"}}, "@id": "ex:g", "@graph": '
                    '[{"@id": "ex:a", "ex:p": "x"}]}', encoding="utf-8")
    (quad,) = list(load_store([path]))
    assert quad.graph_name == ox.NamedNode(EX + "g")


def test_several_files_add_up(tmp_path: Path) -> None:
    files = []
    for name in ("a.ttl", "a.trig"):
        files.append(tmp_path / name)
        files[-1].write_text(SAMPLES[name], encoding="utf-8")
    store = load_store(files)
    assert len(store) == 2
    assert list(store.named_graphs()) == [ox.NamedNode(EX + "g")]


def test_relative_iris_resolve_against_the_file(tmp_path: Path) -> None:
    path = tmp_path / "rel.ttl"
    path.write_text("<a> <http://example.org/p> <b> .", encoding="utf-8")
    (quad,) = list(load_store([path]))
    assert quad.subject == ox.NamedNode((tmp_path / "a").as_uri())


def test_bad_data_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.ttl"
    path.write_text(f"<{EX}a> <{EX}p> <{EX}b> .\n\n<{EX}a> <{EX}p> .\n", encoding="utf-8")
    with pytest.raises(StoreError) as caught:
        load_store([path])
    assert str(caught.value).startswith(f"{path}:3: bad Turtle data")


def test_bad_file_adds_nothing(tmp_path: Path) -> None:
    good = tmp_path / "good.nt"
    good.write_text(SAMPLES["a.nt"], encoding="utf-8")
    bad = tmp_path / "bad.nt"
    bad.write_text(f"<{EX}x> <{EX}p> <{EX}y> .\n<{EX}x> <{EX}p> .\n", encoding="utf-8")
    store = open_store()
    load_files(store, [good])
    with pytest.raises(StoreError):
        load_files(store, [bad])
    assert len(store) == 1


def test_remote_jsonld_context_is_not_fetched(tmp_path: Path) -> None:
    path = tmp_path / "remote.jsonld"
    path.write_text('{"@context": "http://schema.org/", "@id": "http://e/a", "name": "x"}',
                    encoding="utf-8")
    with pytest.raises(StoreError, match="remote JSON-LD @context"):
        load_store([path])


def test_unknown_extension_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="unknown RDF file extension"):
        format_for(tmp_path / "data.csv")
    with pytest.raises(StoreError, match="no such RDF file"):
        load_store([tmp_path / "missing.ttl"])


def test_disk_store_is_reloaded(tmp_path: Path) -> None:
    path = tmp_path / "a.ttl"
    path.write_text(SAMPLES["a.ttl"], encoding="utf-8")
    location = tmp_path / "db"
    store = load_store([path], location=location)
    assert len(store) == 1
    del store
    again = load_store([path], location=location)  # cleared first: still one quad
    assert len(again) == 1


def test_unusable_store_folder(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    with pytest.raises(StoreError, match="cannot open the store folder"):
        open_store(blocker / "db")
