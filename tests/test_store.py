"""kg.store: RDF files of every supported format into a pyoxigraph store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest

from kg.errors import StoreError
from kg.store import MARKER, format_for, load_files, load_store, open_store, prepare_store

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


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {p.name: (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.iterdir()}


def test_users_oxigraph_store_is_refused_untouched(tmp_path: Path) -> None:
    """Issue 8: a store kg did not make keeps its quad; kg writes nothing there."""
    data = tmp_path / "a.ttl"
    data.write_text(SAMPLES["a.ttl"], encoding="utf-8")
    folder = tmp_path / "mine"
    theirs = ox.Quad(ox.NamedNode(EX + "mine"), ox.NamedNode(EX + "p"), ox.Literal("kept"))
    users = ox.Store(str(folder))
    users.add(theirs)
    users.flush()
    del users
    before = _snapshot(folder)
    for attempt in (lambda: prepare_store([data], folder), lambda: open_store(folder),
                    lambda: load_store([data], location=folder)):
        with pytest.raises(StoreError, match=r"not made by kg .*Oxigraph"):
            attempt()
    assert _snapshot(folder) == before
    assert list(ox.Store(str(folder))) == [theirs]


def test_ordinary_folder_is_refused_untouched(tmp_path: Path) -> None:
    data = tmp_path / "a.ttl"
    data.write_text(SAMPLES["a.ttl"], encoding="utf-8")
    folder = tmp_path / "thesis"
    folder.mkdir()
    (folder / "thesis.tex").write_text("x", encoding="utf-8")
    with pytest.raises(StoreError, match="not empty and was not made by kg"):
        prepare_store([data], folder)
    assert sorted(p.name for p in folder.iterdir()) == ["thesis.tex"]
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    with pytest.raises(StoreError, match="a file, not a folder"):
        prepare_store([data], blocker)
    assert blocker.read_text(encoding="utf-8") == ""


def test_store_made_for_the_same_data_is_reused(tmp_path: Path) -> None:
    data = tmp_path / "a.trig"
    data.write_text(SAMPLES["a.trig"], encoding="utf-8")
    folder = tmp_path / "new" / "db"  # missing: created, with its parents
    first = prepare_store([data], folder)
    assert (first.reused, first.triples, first.temporary) == (False, 1, False)
    assert json.loads((folder / MARKER).read_text(encoding="utf-8"))["state"] == "ready"
    # While one server serves the folder, another may not reload it.
    with pytest.raises(StoreError, match="in use by another kg serve"):
        prepare_store([data], folder)
    first.remove()  # not temporary: unlocked, nothing removed
    assert folder.is_dir()
    again = prepare_store([data], folder)
    assert again.reused and again.triples == 1
    again.remove()
    # Other data: the store is ours, so it is emptied and reloaded.
    data.write_text(f"@prefix ex: <{EX}> . ex:g {{ ex:a ex:p ex:b, ex:c }}", encoding="utf-8")
    changed = prepare_store([data], folder)
    assert not changed.reused and changed.triples == 2
    store = ox.Store.read_only(str(folder))
    assert len(list(store.quads_for_pattern(None, None, None, ox.DefaultGraph()))) == 2
    changed.remove()


def test_empty_folder_is_used_and_temporary_store_removed(tmp_path: Path) -> None:
    data = tmp_path / "a.nt"
    data.write_text(SAMPLES["a.nt"], encoding="utf-8")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert prepare_store([data], empty).triples == 1
    temporary = prepare_store([data])
    assert temporary.temporary and temporary.path.is_dir()
    temporary.remove()
    assert not temporary.path.exists()


def test_default_graph_is_the_set_union(tmp_path: Path) -> None:
    """Issue 11: a triple in two named graphs is one triple of the default graph."""
    data = tmp_path / "two.nq"
    data.write_text(f"<{EX}a> <{EX}p> <{EX}b> <{EX}g1> .\n<{EX}a> <{EX}p> <{EX}b> <{EX}g2> .\n"
                    f"<{EX}c> <{EX}p> <{EX}d> .\n", encoding="utf-8")
    served = prepare_store([data])
    try:
        store = ox.Store.read_only(str(served.path))
        count: Any = store.query("SELECT (COUNT(*) AS ?n) { ?s ?p ?o }")
        assert int(next(iter(count))[0].value) == 2 == served.triples
        union: Any = store.query("SELECT (COUNT(*) AS ?n) { ?s ?p ?o }",
                                 use_default_graph_as_union=True)
        assert int(next(iter(union))[0].value) == 4  # Oxigraph's union repeats it
    finally:
        served.remove()


def test_unusable_store_folder(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    with pytest.raises(StoreError, match=r"cannot (open|create) the store folder"):
        open_store(blocker / "db")


def test_load_memory_unions_graphs_once_and_reports_bad_data(tmp_path: Path) -> None:
    from kg.store import load_memory

    data = tmp_path / "two.nq"
    data.write_text("<http://e/a> <http://e/p> <http://e/b> <http://e/g1> .\n"
                    "<http://e/a> <http://e/p> <http://e/b> <http://e/g2> .\n"
                    "<http://e/c> <http://e/p> <http://e/b> <http://e/g2> .\n", encoding="utf-8")
    store, triples = load_memory([data])
    assert triples == 2  # the set union: a triple in two graphs counts once
    assert len(list(store.quads_for_pattern(None, None, None, ox.DefaultGraph()))) == 2
    bad = tmp_path / "bad.ttl"
    bad.write_text("<http://e/a> <http://e/p> .\n<http://e/a> <http://e/p> 1 .\n",
                   encoding="utf-8")
    with pytest.raises(StoreError) as info:
        load_memory([bad])
    assert str(bad) in str(info.value) and "bad Turtle data" in str(info.value)
