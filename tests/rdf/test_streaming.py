"""The streaming writers: the same bytes as writing each document whole (the writers before
they streamed, kept here as the reference), at any chunk size, on the real seeds."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pyoxigraph
import pytest

from kg import paths
from kg.build import _parse_seeds
from kg.rdf import emit, serialize
from kg.rdf import quads as quads_module
from kg.rdf.quads import Quads
from kg.rdf.serialize import FORMATS, write_format, write_jsonld
from kg.reconcile.links import read_links


@pytest.fixture(scope="module")
def seeds() -> Quads:
    links = read_links(paths.LINKS_TSV)
    ds, _ = emit(_parse_seeds(paths.SEED_DOCUMENTS), links, links_file=paths.LINKS_TSV.name)
    return ds


def _whole_turtle(data: Quads, fmt: pyoxigraph.RdfFormat) -> bytes:
    # The writers before streaming: the whole document in one serialize call, then the
    # project's prefix header and the BCP 47 case of the tags.
    quads = (pyoxigraph.parse(data.ntriples(), pyoxigraph.RdfFormat.N_TRIPLES)
             if fmt == pyoxigraph.RdfFormat.TURTLE else data.quads())
    out = pyoxigraph.serialize(quads, format=fmt, prefixes=serialize._PREFIX_MAP) or b""
    end = 0
    while out.startswith(b"@prefix ", end):
        end = out.index(b"\n", end) + 1
    return serialize._bcp47_case(serialize._PREFIX_HEADER + out[end:])


def _whole_jsonld(data: Quads) -> bytes:
    context = dict(serialize.PREFIXES)
    nodes = []
    subject: object = None
    pairs: list[tuple[object, object]] = []
    for triple in pyoxigraph.parse(data.ntriples(), pyoxigraph.RdfFormat.N_TRIPLES):
        if triple.subject != subject:
            if pairs:
                nodes.append(serialize._jsonld_node(subject, pairs, context))
            subject, pairs = triple.subject, []
        pairs.append((triple.predicate, triple.object))
    if pairs:
        nodes.append(serialize._jsonld_node(subject, pairs, context))
    nodes.sort()
    head = json.dumps({"@context": context}, ensure_ascii=False, indent=1)[:-2].encode()
    if not nodes:
        return head + b',\n "@graph": []\n}\n'
    body = b",\n".join(serialize._bcp47_case(text.encode()) for _, text in nodes)
    return head + b',\n "@graph": [\n' + body + b"\n ]\n}\n"


def _reference(data: Quads, fmt: str) -> bytes:
    if fmt == "ttl":
        return _whole_turtle(data, pyoxigraph.RdfFormat.TURTLE)
    if fmt == "trig":
        return _whole_turtle(data, pyoxigraph.RdfFormat.TRIG)
    if fmt == "jsonld":
        return _whole_jsonld(data)
    return data.ntriples()


def _streamed(data: Quads, fmt: str, tmp_path: Path) -> bytes:
    path = tmp_path / f"twinning.{fmt}"
    with path.open("wb") as handle:
        write_format(data, fmt, handle, spool_dir=tmp_path)
    return path.read_bytes()


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_streamed_files_are_byte_identical_to_whole_documents(
    seeds: Quads, fmt: str, tmp_path: Path
) -> None:
    assert _streamed(seeds, fmt, tmp_path) == _reference(seeds, fmt)


@pytest.mark.parametrize("fmt", list(FORMATS))
def test_tiny_chunks_give_the_same_bytes(
    seeds: Quads, fmt: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Chunk and flush boundaries fall everywhere: inside the prefix header, between a
    # literal and its language tag's re-casing, inside a subject's block.
    monkeypatch.setattr(quads_module, "_CHUNK_LINES", 3)
    monkeypatch.setattr(serialize, "_FLUSH", 61)
    assert _streamed(seeds, fmt, tmp_path) == _reference(seeds, fmt)


def test_jsonld_from_the_written_ntriples_file(seeds: Quads, tmp_path: Path) -> None:
    nt = tmp_path / "twinning.nt"
    nt.write_bytes(seeds.ntriples())
    out = io.BytesIO()
    write_jsonld(nt, out, spool_dir=tmp_path)
    assert out.getvalue() == _reference(seeds, "jsonld")


def test_jsonld_nodes_in_iri_order_where_line_order_differs(tmp_path: Path) -> None:
    # "<…/Q10> " sorts before "<…/Q1> " as a line ('0' < '>'), after it as an IRI.
    lines = {f'<http://example.org/{s}> <http://example.org/p> "{s}" .'.encode()
             for s in ("Q1", "Q10", "Q1/x", "Q2", "Q1-", "Q")}
    data = Quads({"http://example.org/g": lines})
    assert data.union.index(lines_of(data, "Q10")) < data.union.index(lines_of(data, "Q1"))
    out = io.BytesIO()
    write_jsonld(data, out, spool_dir=tmp_path)
    ids = [node["@id"] for node in json.loads(out.getvalue())["@graph"]]
    assert ids == sorted(ids) and len(ids) == 6
    assert out.getvalue() == _whole_jsonld(data)


def lines_of(data: Quads, local: str) -> bytes:
    return next(line for line in data.union
                if line.startswith(f"<http://example.org/{local}> ".encode()))


def test_empty_dataset(tmp_path: Path) -> None:
    empty = Quads({})
    for fmt in FORMATS:
        assert _streamed(empty, fmt, tmp_path) == _reference(empty, fmt), fmt


@pytest.mark.parametrize("text", [
    b'<s> <p> "a"@zh-hant .\n<s> <p> "b"@zh-hans .\n',
    b'<s> <p> "x \\"@zh-hant y"@zh-hant .\n',  # a tag-like text after an escaped quote
    b'<s> <p> "a"@zh-hantx .\n<s> <p> "a"@zh-hans-cn .\n',
    b'{"@value": "a", "@language": "zh-hant"}',
    b'<s> <p> "a"@en .\n',
])
def test_bcp47_case_is_the_pattern_substitution(text: bytes) -> None:
    """The fast path (bytes.replace) gives what the regular expressions give."""
    expected = serialize._TAG_TEXT.sub(lambda m: b'"@zh-Han' + m.group(1), text)
    expected = serialize._TAG_JSON.sub(
        lambda m: b'"@language": "zh-Han' + m.group(1) + b'"', expected)
    assert serialize._bcp47_case(text) == expected
