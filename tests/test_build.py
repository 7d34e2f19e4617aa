"""``kg build`` end to end on the real seeds: conforms, stable bytes, atomic output."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kg import paths
from kg.build import BuildViolations, build
from kg.cli import main
from kg.errors import LinksError

FILES = {
    "twinning.ttl", "twinning.nt", "twinning.jsonld", "twinning.trig", "void.ttl",
    "validation-report.ttl", "validation-report.txt",
}

@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("build") / "dist"
    assert main(["build", "--out", str(out), "-q"]) == 0
    return out


def test_build_writes_every_file_and_conforms(built: Path) -> None:
    assert {p.name for p in built.iterdir()} == FILES
    report = (built / "validation-report.txt").read_text()
    assert "0 violations" in report
    assert not [p for p in built.parent.iterdir() if p.name.startswith(".")]  # no leftovers


def test_two_builds_are_byte_identical(built: Path, tmp_path: Path) -> None:
    again = tmp_path / "dist"
    build(out=again)
    for name in FILES:
        assert (built / name).read_bytes() == (again / name).read_bytes(), name


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def test_failed_build_leaves_previous_output(built: Path, tmp_path: Path) -> None:
    out = tmp_path / "dist"
    shutil.copytree(built, out)
    before = _snapshot(out)
    bad_links = tmp_path / "links.tsv"
    bad_links.write_text("not a links table\n", encoding="utf-8")
    with pytest.raises(LinksError):
        build(out=out, links_path=bad_links)
    assert _snapshot(out) == before
    assert main(["build", "--out", str(out), "--links", str(bad_links)]) == 2
    assert _snapshot(out) == before


def test_violations_fail_the_build_and_keep_output(built: Path, tmp_path: Path) -> None:
    out = tmp_path / "dist"
    shutil.copytree(built, out)
    before = _snapshot(out)
    shapes = tmp_path / "shapes"
    shutil.copytree(paths.SHAPES_DIR, shapes)
    (shapes / "impossible.ttl").write_text(
        "@prefix sh: <http://www.w3.org/ns/shacl#> .\n"
        "@prefix tw: <https://w3id.org/twinning-kg/ontology#> .\n"
        "<urn:x:S> a sh:NodeShape ; sh:targetClass tw:Twinning ;\n"
        "  sh:property [ sh:path tw:endDate ; sh:minCount 1 ] .\n",
        encoding="utf-8",
    )
    with pytest.raises(BuildViolations) as info:
        build(out=out, shapes_dir=shapes)
    assert info.value.exit_code == 1
    assert _snapshot(out) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_bad_options_are_errors(tmp_path: Path) -> None:
    assert main(["build", "--out", str(tmp_path / "d"), "--formats", "ttl,xml"]) == 2
    assert main(["build", "--out", str(tmp_path / "d"), "--base", "not-an-iri"]) == 2
    assert not (tmp_path / "d").exists()


def test_formats_and_base_options(tmp_path: Path) -> None:
    out = tmp_path / "d"
    code = main(["build", "--out", str(out), "--formats", "ttl", "--base",
                 "http://example.org/kg/", "-q"])
    assert code == 0
    assert {p.name for p in out.iterdir()} == {
        "twinning.ttl", "void.ttl", "validation-report.ttl", "validation-report.txt",
    }
    assert "<http://example.org/kg/place/" in (out / "twinning.ttl").read_text()
