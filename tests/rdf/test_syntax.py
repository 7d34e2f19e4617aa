"""kg.rdf.syntax: the strict parsing check, its error positions, and serdi as a second parser."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from rdflib import BNode, Literal, URIRef
from rdflib.namespace import XSD

from kg.errors import RdfError
from kg.rdf.syntax import FORMATS, RdfSyntaxError, check_bytes, check_file, read_graph

EX = "http://example.org/"
SERDI = shutil.which("serdi")

SAMPLES: dict[str, bytes] = {
    "ttl": f'@prefix ex: <{EX}> .\nex:a ex:name "京都"@ja, "Kyoto"@en ; ex:n 1 .\n'.encode(),
    "nt": f'<{EX}a> <{EX}name> "京都"@ja .\n<{EX}a> <{EX}n> "1"^^<{XSD.integer}> .\n'.encode(),
    "nq": f"<{EX}a> <{EX}b> <{EX}c> <{EX}g> .\n".encode(),
    "trig": (
        f"@prefix ex: <{EX}> .\nex:g1 {{ ex:a ex:b ex:c . }}\nex:g2 {{ ex:a ex:b ex:d . }}\n"
    ).encode(),
    "jsonld": b'{"@context": {"ex": "http://example.org/"}, "@id": "ex:a", "ex:b": "c"}',
    "rdf": (
        b'<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"'
        b' xmlns:ex="http://example.org/"><rdf:Description rdf:about="http://example.org/a">'
        b"<ex:b>c</ex:b></rdf:Description></rdf:RDF>"
    ),
}
COUNTS = {"ttl": 3, "nt": 2, "nq": 1, "trig": 2, "jsonld": 1, "rdf": 1}


@pytest.mark.parametrize("fmt", sorted(SAMPLES))
def test_valid_documents(fmt: str, tmp_path: Path) -> None:
    assert check_bytes(SAMPLES[fmt], fmt) == COUNTS[fmt]
    path = tmp_path / f"sample.{fmt}"
    path.write_bytes(SAMPLES[fmt])
    assert check_file(path) == COUNTS[fmt]


@pytest.mark.parametrize(
    ("fmt", "data", "line", "column"),
    [
        ("ttl", b'@prefix ex: <http://e/> .\nex:a ex:b ex:c ;\n  ex:d "x"^^<bad iri> .', 3, 13),
        ("ttl", b"@prefix ex: <http://e/> .\nex:a ex:b ex:c\nex:d ex:e ex:f .\n", 3, 1),
        ("ttl", b"@prefix ex: <http://e/> .\nex:a ex:b ex:c .\nnope:x ex:b ex:c .\n", 3, 1),
        ("nt", b"<http://e/a> <http://e/b> <http://e/c> .\n<http://e/a> <b> <c> .\n", 2, 14),
        ("nt", b'<http://e/a> <http://e/b> "unterminated .\n', 1, None),
        ("trig", b"@prefix ex: <http://e/> .\nex:g { ex:a ex:b ex:c . \n", 3, None),
    ],
    ids=["bad-iri", "missing-dot", "undefined-prefix", "relative-iri-in-nt", "open-string", "trig"],
)
def test_errors_carry_line_and_column(fmt: str, data: bytes, line: int, column: int | None) -> None:
    with pytest.raises(RdfSyntaxError) as info:
        check_bytes(data, fmt, path=f"doc.{fmt}")
    error = info.value
    assert error.line == line
    if column is not None:
        assert error.column == column
    assert str(error).startswith(f"doc.{fmt}:{line}:{error.column}: invalid ")
    assert "Parser error" not in str(error)
    assert isinstance(error, RdfError)


def test_file_errors_name_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.ttl"
    path.write_bytes(b"@prefix ex: <http://e/> .\n\nex:a ex:b .\n")
    with pytest.raises(RdfSyntaxError) as info:
        check_file(path)
    assert str(info.value).startswith(f"{path}:3:")


def test_strictness() -> None:
    """Relative IRIs need a base; N-Triples has none; bad UTF-8 and bad bases are errors."""
    assert check_bytes(b"<a> <http://e/b> <c> .", "ttl", "http://e/") == 1
    with pytest.raises(RdfSyntaxError):
        check_bytes(b"<a> <http://e/b> <c> .", "ttl")
    with pytest.raises(RdfSyntaxError):
        check_bytes(b"<a> <http://e/b> <c> .", "nt", "http://e/")
    with pytest.raises(RdfSyntaxError, match="UTF-8"):
        check_bytes(b'<http://e/a> <http://e/b> "\xff" .', "nt")
    with pytest.raises(RdfError, match="base IRI"):
        check_bytes(b"<http://e/a> <http://e/b> <http://e/c> .", "ttl", "not an iri")


def test_json_ld_remote_contexts_are_refused() -> None:
    """The check never fetches: a published JSON-LD file must carry its context inline."""
    with pytest.raises(RdfSyntaxError, match="remote context"):
        check_bytes(b'{"@context": "http://schema.org/", "name": "x"}', "jsonld")


def test_ill_typed_literals_are_syntax_not_shape_errors() -> None:
    """A malformed xsd:date parses (RDF allows ill-typed literals); SHACL catches it."""
    data = f'<{EX}a> <{EX}d> "1985-13-40"^^<{XSD.date}> .'.encode()
    assert check_bytes(data, "nt") == 1


def test_unknown_format(tmp_path: Path) -> None:
    with pytest.raises(RdfError, match="unknown RDF format 'csv'") as info:
        check_file(tmp_path / "x.csv")
    assert not isinstance(info.value, RdfSyntaxError)
    with pytest.raises(RdfError, match="unknown RDF format"):
        check_bytes(b"", "yaml")
    assert {"ttl", "nt", "trig", "jsonld", "nq"} <= set(FORMATS)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(RdfError, match="cannot read") as info:
        check_file(tmp_path / "none.ttl")
    assert str(info.value).startswith(str(tmp_path / "none.ttl"))


def test_relative_iris_resolve_against_the_file(tmp_path: Path) -> None:
    path = tmp_path / "rel.ttl"
    path.write_bytes(b"<#a> <#b> <c> .\n")
    graph = read_graph(path)
    base = path.resolve().as_uri()
    assert (
        URIRef(base + "#a"),
        URIRef(base + "#b"),
        URIRef(tmp_path.resolve().as_uri() + "/c"),
    ) in graph


def test_read_graph_terms(tmp_path: Path) -> None:
    path = tmp_path / "d.trig"
    path.write_bytes(
        f'@prefix ex: <{EX}> .\nex:g1 {{ ex:a ex:name "京都"@ja, "Kyoto" ; ex:n 1 . }}\n'
        f"ex:g2 {{ ex:a ex:b [ ex:c ex:d ] . }}\n".encode()
    )
    graph = read_graph(path)
    assert len(graph) == 5  # named graphs merged
    a = URIRef(EX + "a")
    names = set(graph.objects(a, URIRef(EX + "name")))
    # xsd:string literals come out plain, as rdflib's own parsers give them.
    assert names == {Literal("京都", lang="ja"), Literal("Kyoto")}
    assert graph.value(a, URIRef(EX + "n")) == Literal("1", datatype=XSD.integer)
    assert isinstance(graph.value(a, URIRef(EX + "b")), BNode)
    assert ("ex", URIRef(EX)) in set(graph.namespaces())


def test_read_graph_blank_nodes_do_not_clash(tmp_path: Path) -> None:
    """Two files using the same blank-node label stay two nodes when merged."""
    for name in ("one.ttl", "two.ttl"):
        (tmp_path / name).write_bytes(f"_:b0 <{EX}p> <{EX}{name}> .\n".encode())
    merged = read_graph(tmp_path / "one.ttl") + read_graph(tmp_path / "two.ttl")
    assert len(set(merged.subjects())) == 2


# --- serdi (Debian's Serd), a second strict Turtle parser -------------------------------------

needs_serdi = pytest.mark.skipif(SERDI is None, reason="serdi not installed (.ci/run installs it)")


def serdi(path: Path, syntax: str = "turtle") -> subprocess.CompletedProcess[str]:
    """Parse ``path`` with serdi in strict mode (no lax recovery), output discarded."""
    assert SERDI is not None
    return subprocess.run(
        [SERDI, "-i", syntax, "-o", "nquads", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )


@needs_serdi
def test_serdi_accepts_valid_turtle(tmp_path: Path) -> None:
    path = tmp_path / "ok.ttl"
    path.write_bytes(SAMPLES["ttl"])
    done = serdi(path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("\n") == COUNTS["ttl"]


@needs_serdi
def test_serdi_rejects_what_the_check_rejects(tmp_path: Path) -> None:
    path = tmp_path / "bad.ttl"
    path.write_bytes(b"@prefix ex: <http://e/> .\nex:a ex:b ex:c\nex:d ex:e ex:f .\n")
    assert serdi(path).returncode != 0
    with pytest.raises(RdfSyntaxError):
        check_file(path)


# --- the built files: every one parses strictly, and the Turtle also with serdi ---------------

EMITTED = {
    "twinning.ttl": "ttl",
    "twinning.nt": "nt",
    "twinning.jsonld": "jsonld",
    "twinning.trig": "trig",
    "void.ttl": "ttl",
}


@pytest.fixture(scope="module")
def built_dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``kg build`` into a temporary folder (offline: committed links table)."""
    from kg.cli import main

    out = tmp_path_factory.mktemp("dist")
    code = main(["build", "--out", str(out)])
    assert code == 0, f"kg build exited {code}"
    return out


@pytest.mark.parametrize("name", sorted(EMITTED))
def test_emitted_files_parse_strictly(built_dist: Path, name: str) -> None:
    path = built_dist / name
    assert check_file(path, EMITTED[name]) > 0


@needs_serdi
@pytest.mark.parametrize("name", ["twinning.ttl", "void.ttl", "twinning.nt", "twinning.trig"])
def test_serdi_accepts_the_built_files(built_dist: Path, name: str) -> None:
    syntax = {"ttl": "turtle", "nt": "ntriples", "trig": "trig"}[name.rsplit(".", 1)[1]]
    done = serdi(built_dist / name, syntax)
    assert done.returncode == 0, done.stderr
    # serdi and pyoxigraph agree on the number of statements.
    assert done.stdout.count("\n") == check_file(built_dist / name)
