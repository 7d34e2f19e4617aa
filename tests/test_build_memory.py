"""``kg build``'s memory at scale, in small: the validator reads the written ``twinning.nt``
(or the spooled union), and the parsed records go as they are emitted."""

from __future__ import annotations

from pathlib import Path
from typing import Any, BinaryIO

import pytest

from kg import paths
from kg.build import BuildViolations, _parse_seeds, build
from kg.errors import ValidationError
from kg.rdf import emit
from kg.rdf.quads import Quads
from kg.reconcile.links import read_links
from kg.validate import validate, validate_ntriples_files

# A twinning with no places: a SHACL violation (tw:Twinning needs its two places).
_BAD = (b"<https://w3id.org/twinning-kg/twinning/test/L1> "
        b"<http://www.w3.org/1999/02/22-rdf-syntax-ns#type> "
        b"<https://w3id.org/twinning-kg/ontology#Twinning> .\n")


def test_validation_reads_the_written_ntriples(tmp_path: Path, monkeypatch: Any) -> None:
    import kg.rdf.serialize as serialize

    write = serialize.write_ntriples

    def write_with_a_bad_twinning(data: Quads, out: BinaryIO, **kwargs: Any) -> None:
        write(data, out, **kwargs)
        out.write(_BAD)  # in the file only, not in the lines

    monkeypatch.setattr(serialize, "write_ntriples", write_with_a_bad_twinning)
    out = tmp_path / "dist"
    with pytest.raises(BuildViolations) as info:
        build(out=out, formats=["nt", "ttl"], progress=False)
    assert "twinning/test/L1" in info.value.report_text
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == []  # the staging folder is gone too


def test_validation_reads_the_published_file_or_the_spooled_union(
        tmp_path: Path, monkeypatch: Any) -> None:
    import kg.validate

    read: list[str] = []
    check = kg.validate.validate_ntriples_files

    def validated(files: list[Path], **kwargs: Any) -> Any:
        read.extend(Path(f).name for f in files)
        return check(files, **kwargs)

    monkeypatch.setattr(kg.validate, "validate_ntriples_files", validated)
    whole = build(out=tmp_path / "dist", progress=False)
    turtle = build(out=tmp_path / "ttl", formats=["ttl"], progress=False)
    assert read == ["twinning.nt", "union.nt"]
    assert whole.report_text == turtle.report_text and whole.violations == 0
    assert (tmp_path / "ttl" / "void.ttl").read_bytes().count(b"void:triples") == (
        (tmp_path / "dist" / "void.ttl").read_bytes().count(b"void:triples"))


def test_validating_the_file_gives_the_report_of_the_lines(tmp_path: Path) -> None:
    build(out=tmp_path / "dist", formats=["nt"], progress=False)
    nt = tmp_path / "dist" / "twinning.nt"
    extra = tmp_path / "bad.nt"
    extra.write_bytes(_BAD)
    from_file = validate_ntriples_files([nt, extra])
    lines = Quads({"": set((nt.read_bytes() + _BAD).splitlines())})
    from_lines = validate(lines)
    assert (from_file.conforms, from_file.violations, from_file.warnings) == (
        from_lines.conforms, from_lines.violations, from_lines.warnings)
    assert from_file.violations >= 1 and from_file.text == from_lines.text
    with_extra = validate_ntriples_files([nt], extra=_BAD.rstrip(b"\n").splitlines())
    assert with_extra.text == from_file.text


def test_an_unreadable_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as info:
        validate_ntriples_files([tmp_path / "missing.nt"])
    message = str(info.value)
    assert "missing.nt" in message and "\n" not in message
    assert message.startswith("SHACL validation failed: cannot read the graph")


def test_emit_consumes_the_records_and_gives_the_same_graph() -> None:
    links = read_links(paths.LINKS_TSV)
    kept = _parse_seeds(paths.SEED_DOCUMENTS)
    consumed = list(kept)
    whole, _ = emit(kept, links)
    released, _ = emit(consumed, links, consume=True)
    assert consumed == [] and len(kept) == len(paths.SEED_DOCUMENTS)
    assert whole.graphs == released.graphs
