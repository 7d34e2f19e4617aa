"""The emitted lines spilled to disk (kg.rdf.spool): the same dataset and the same files as
when they stay in memory, and one-line errors when the spool cannot be made."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest

import kg.rdf.spool as spool
from kg import paths
from kg.build import _parse_seeds, build
from kg.errors import RdfError
from kg.rdf import emit
from kg.reconcile.links import read_links


def _emitted(consume: bool = False) -> Any:
    return emit(_parse_seeds(paths.SEED_DOCUMENTS), read_links(paths.LINKS_TSV),
                consume=consume)


def test_spilled_lines_give_the_same_dataset(monkeypatch: Any, tmp_path: Path) -> None:
    whole, stats = _emitted()
    monkeypatch.setattr(spool, "RUN_LINES", 97)  # many runs a graph, and a short last one
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    spilled, spilled_stats = _emitted(consume=True)
    assert spilled.graphs == whole.graphs
    assert spilled.union == whole.union
    assert spilled_stats == stats
    assert list(tmp_path.iterdir()) == []  # the spool is gone


def test_a_spilled_build_writes_the_same_bytes(monkeypatch: Any, tmp_path: Path) -> None:
    build(out=tmp_path / "memory", progress=False)
    monkeypatch.setattr(spool, "RUN_LINES", 500)
    build(out=tmp_path / "spilled", progress=False)
    names = sorted(p.name for p in (tmp_path / "memory").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "spilled").iterdir())
    for name in names:
        assert (tmp_path / "spilled" / name).read_bytes() == (
            tmp_path / "memory" / name).read_bytes(), name


def test_an_unwritable_spool_is_one_line(monkeypatch: Any, tmp_path: Path) -> None:
    monkeypatch.setattr(spool, "RUN_LINES", 97)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "missing"))
    with pytest.raises(RdfError) as info:
        _emitted()
    message = str(info.value)
    assert message.startswith(f"cannot spool the emitted graph in {tmp_path / 'missing'} "
                              "(TMPDIR): ")
    assert "\n" not in message


def test_without_sort_the_message_says_so(monkeypatch: Any, tmp_path: Path) -> None:
    monkeypatch.setattr(spool, "RUN_LINES", 97)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(spool, "_ENV", {"LC_ALL": "C", "PATH": str(tmp_path)})
    with pytest.raises(RdfError) as info:
        _emitted()
    assert str(info.value) == ("the system's sort command (POSIX) is needed to sort the "
                               "emitted graph; it was not found")
    assert list(tmp_path.iterdir()) == []


def test_the_spooled_dataset_writes_the_same_bytes(monkeypatch: Any, tmp_path: Path) -> None:
    from kg.rdf import quads as quads_module
    from kg.rdf.emit import emit_lines
    from kg.rdf.quads import SpooledQuads
    from kg.rdf.serialize import FORMATS, serialize_dataset

    whole, _ = _emitted()
    monkeypatch.setattr(spool, "RUN_LINES", 97)
    sets = spool.LineSets(tmp_path)
    names, _ = emit_lines(_parse_seeds(paths.SEED_DOCUMENTS), read_links(paths.LINKS_TSV),
                          sets)
    files = sets.finish_files(list(names))
    spool.merge_files(list(files.values()), tmp_path / "union.nt")
    spooled = SpooledQuads({names[d]: files[d] for d in names}, tmp_path / "union.nt")
    assert len(spooled) == len(whole) and spooled.graph_sizes() == whole.graph_sizes()
    monkeypatch.setattr(quads_module, "_CHUNK_LINES", 7)
    assert serialize_dataset(spooled, list(FORMATS)) == serialize_dataset(whole, list(FORMATS))
    with pytest.raises(TypeError):
        _ = spooled.union
