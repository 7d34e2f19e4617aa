"""``kg build`` end to end on the real seeds: conforms, stable bytes, atomic output, and an
output folder replaced only when it is missing, empty or a previous build."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kg import paths
from kg.build import BuildViolations, build, is_current, read_manifest
from kg.cli import main
from kg.errors import LinksError, RdfError
from kg.manifest import MANIFEST_NAME, BuildInputs, check_output_folder, manifest_bytes

FILES = {
    "twinning.ttl", "twinning.nt", "twinning.jsonld", "twinning.trig", "void.ttl",
    "validation-report.ttl", "validation-report.txt", "manifest.json",
    # The ODbL coordinates: a dataset of their own (kg.rdf.odbl).
    "twinning-geo-odbl.ttl", "twinning-geo-odbl.nt", "twinning-geo-odbl.jsonld",
    "twinning-geo-odbl.trig",
    # The owl:sameAs linkset, a file of its own.
    "twinning-sameas.nt",
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


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def test_failed_build_leaves_previous_output(built: Path, tmp_path: Path) -> None:
    out = tmp_path / "dist"
    shutil.copytree(built, out)
    before = _snapshot(out)
    bad_links = tmp_path / "links.tsv"
    bad_links.write_text("not a links table\n", encoding="utf-8")
    leftover = tmp_path / ".dist.old-abcdefgh"  # of a build killed earlier
    leftover.mkdir()
    (leftover / "void.ttl").write_text("old", encoding="utf-8")
    with pytest.raises(LinksError):
        build(out=out, links_path=bad_links)
    assert _snapshot(out) == before
    assert not leftover.exists()  # removed even by a build that fails
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
        "twinning.ttl", "twinning-geo-odbl.ttl", "twinning-sameas.nt", "void.ttl",
        "validation-report.ttl", "validation-report.txt", "manifest.json",
    }
    manifest = read_manifest(out)
    assert manifest is not None
    assert manifest.options["formats"] == ["ttl"]
    assert manifest.options["base"] == "http://example.org/kg/"
    assert not is_current(out)  # not the default options
    assert "<http://example.org/kg/place/" in (out / "twinning.ttl").read_text()


# --- the manifest ---------------------------------------------------------------------------


def _complete(folder: Path) -> set[str]:
    """The names in ``folder``, asserting it is a complete build: a manifest listing exactly
    the other files, each with its size and SHA-256 (check_output_folder checks them)."""
    names = check_output_folder(folder)
    manifest = read_manifest(folder)
    assert names is not None and manifest is not None
    assert set(names) == set(manifest.files) | {MANIFEST_NAME}
    return set(names)


def _project_copy(root: Path) -> BuildInputs:
    """The project's inputs copied under ``root`` (seeds, ontology, shapes)."""
    shutil.copytree(paths.SEEDS_DIR, root / "seeds")
    shutil.copy(paths.ONTOLOGY, root / "ontology.ttl")
    shutil.copytree(paths.SHAPES_DIR, root / "shapes")
    return BuildInputs.under(root)


def test_manifest_lists_files_inputs_and_versions(built: Path, tmp_path: Path) -> None:
    assert _complete(built) == FILES
    manifest = read_manifest(built)
    assert manifest is not None
    doc = json.loads((built / MANIFEST_NAME).read_text(encoding="utf-8"))
    assert doc["kind"] == "twinning-kg build manifest"
    assert doc["tool"]["name"] == "twinning-kg" and doc["tool"]["version"]
    roles = [i.role for i in manifest.inputs]
    assert roles[:5] == ["seed", "seed", "corrections", "links", "ontology"]
    assert "shape" in roles
    # No time and no folder in it: identical input, identical bytes, wherever built.
    text = (built / MANIFEST_NAME).read_text(encoding="utf-8")
    assert str(paths.PROJECT_ROOT) not in text and "time" not in text
    # Current for the project's inputs; not for changed inputs, options or files.
    assert is_current(built)
    inputs = _project_copy(tmp_path / "root")
    assert is_current(built, inputs)
    with inputs.links.open("a", encoding="utf-8") as handle:
        handle.write("\n")
    assert not is_current(built, inputs)
    assert not is_current(built, BuildInputs(formats=("ttl",)))
    assert not is_current(tmp_path / "missing")
    copy = tmp_path / "copy"
    shutil.copytree(built, copy)
    (copy / "void.ttl").write_bytes(b"# edited\n")
    assert not is_current(copy)


def test_serve_rebuilds_only_when_not_current(built: Path, tmp_path: Path) -> None:
    from kg.cli.serve import ensure_built

    root = tmp_path / "root"
    _project_copy(root)
    dist = root / "dist"
    shutil.copytree(built, dist)
    before = {p.name: p.stat().st_mtime_ns for p in dist.iterdir()}
    assert ensure_built(dist, root=root) == dist / "twinning.trig"
    assert {p.name: p.stat().st_mtime_ns for p in dist.iterdir()} == before  # not rebuilt


# --- what the build may replace ---------------------------------------------------------------


def _one_error_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("kg build: error: "), err
    return err[0]


def test_refuses_what_it_did_not_make(
    built: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A folder of the user's: nothing touched.
    mine = tmp_path / "v"
    mine.mkdir()
    (mine / "thesis.tex").write_text("x", encoding="utf-8")
    assert main(["build", "--out", str(mine)]) == 2
    assert "holds no manifest.json" in _one_error_line(capsys)
    assert [p.name for p in mine.iterdir()] == ["thesis.tex"]
    # A regular file.
    somefile = tmp_path / "somefile"
    somefile.write_text("data", encoding="utf-8")
    assert main(["build", "--out", str(somefile)]) == 2
    assert "not a folder" in _one_error_line(capsys)
    assert somefile.read_text(encoding="utf-8") == "data"
    # A symbolic link to a previous build.
    (tmp_path / "link").symlink_to(built)
    assert main(["build", "--out", str(tmp_path / "link")]) == 2
    assert "symbolic link" in _one_error_line(capsys)
    # A previous build with a file added to it, or one of its files edited.
    added = tmp_path / "added"
    shutil.copytree(built, added)
    (added / "notes.txt").write_text("mine", encoding="utf-8")
    assert main(["build", "--out", str(added)]) == 2
    assert "'notes.txt'" in _one_error_line(capsys)
    assert (added / "notes.txt").read_text(encoding="utf-8") == "mine"
    edited = tmp_path / "edited"
    shutil.copytree(built, edited)
    (edited / "void.ttl").write_bytes(b"# mine\n")
    assert main(["build", "--out", str(edited)]) == 2
    assert "'void.ttl' changed" in _one_error_line(capsys)
    assert (edited / "void.ttl").read_bytes() == b"# mine\n"
    # A manifest.json that is not ours.
    other = tmp_path / "other"
    other.mkdir()
    (other / MANIFEST_NAME).write_text('{"name": "my app"}', encoding="utf-8")
    assert main(["build", "--out", str(other)]) == 2
    assert "not a kg build manifest" in _one_error_line(capsys)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def _outputs(tag: bytes, size: int = 1000) -> tuple[dict[str, bytes], bytes]:
    files = {name: tag * (size + i) for i, name in enumerate(sorted(FILES - {MANIFEST_NAME}))}
    return files, manifest_bytes(files, BuildInputs())


def test_write_output_into_missing_empty_and_previous(tmp_path: Path) -> None:
    from kg.build import _write_output

    files_a, manifest_a = _outputs(b"a")
    files_b, manifest_b = _outputs(b"b")
    for out in (tmp_path / "missing" / "dist", tmp_path / "empty"):
        if out.name == "empty":
            out.mkdir()
        _write_output(out, files_a, manifest_a)
        assert _complete(out) == FILES
        _write_output(out, files_b, manifest_b)
        assert (out / "void.ttl").read_bytes() == files_b["void.ttl"]
        assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]


def test_leftovers_of_interrupted_builds_are_removed(tmp_path: Path) -> None:
    from kg.build import _write_output

    out = tmp_path / "dist"
    files, manifest = _outputs(b"a")
    ours = [tmp_path / ".dist.tmp-abcd1234", tmp_path / ".dist.old-x_y_z_00", tmp_path /
            ".dist.tmp-emptyemp"]
    for folder in ours:
        folder.mkdir()
    (ours[0] / "twinning.ttl").write_text("partial", encoding="utf-8")
    (ours[1] / "void.ttl").write_text("old", encoding="utf-8")
    (ours[1] / MANIFEST_NAME).write_text("{}", encoding="utf-8")
    # Not ours to delete: a user file inside, another folder's name, a plain file.
    kept = [tmp_path / ".dist.tmp-userfile", tmp_path / ".dist2.tmp-abcd1234",
            tmp_path / ".dist.old-abcdefgh"]
    kept[0].mkdir()
    (kept[0] / "thesis.tex").write_text("mine", encoding="utf-8")
    kept[1].mkdir()
    (kept[1] / "void.ttl").write_text("other", encoding="utf-8")
    kept[2].write_text("a file", encoding="utf-8")
    _write_output(out, files, manifest)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["dist", *(p.name for p in kept)])


@pytest.mark.parametrize("exchange", [True, False], ids=["exchange", "two-renames"])
def test_swap_puts_back_a_folder_that_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exchange: bool
) -> None:
    import kg.build as kb

    if not exchange:
        monkeypatch.setattr(kb, "_exchange", lambda a, b: False)
    out = tmp_path / "dist"
    files_a, manifest_a = _outputs(b"a")
    kb._write_output(out, files_a, manifest_a)
    files_b, manifest_b = _outputs(b"b")
    kb._write_output(out, files_b, manifest_b)  # an ordinary swap by either path
    assert (out / MANIFEST_NAME).read_bytes() == manifest_b
    # A file appears between the check and the swap: the folder is put back with it.
    found = check_output_folder(out)
    (out / "late.txt").write_text("mine", encoding="utf-8")
    tmp = tmp_path / ".dist.tmp-12345678"
    tmp.mkdir()
    for name, data in files_a.items():
        (tmp / name).write_bytes(data)
    with pytest.raises(RdfError, match="appeared"):
        kb._swap_in(tmp, out, found)
    assert (out / "late.txt").read_text(encoding="utf-8") == "mine"
    assert (out / MANIFEST_NAME).read_bytes() == manifest_b
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dist"]


# --- kill -9 at any moment ----------------------------------------------------------------------

_WRITER = """
import sys
from pathlib import Path
from kg.build import _write_output
from kg.manifest import BuildInputs, manifest_bytes
out = Path(sys.argv[1])
names = ["twinning.jsonld", "twinning.nt", "twinning.trig", "twinning.ttl", "void.ttl",
         "validation-report.ttl", "validation-report.txt", "twinning-geo-odbl.jsonld",
         "twinning-geo-odbl.nt", "twinning-geo-odbl.trig", "twinning-geo-odbl.ttl",
         "twinning-sameas.nt"]
versions = []
for tag in (b"A", b"B"):
    files = {name: tag * (1_000_000 + i) for i, name in enumerate(names)}
    versions.append((files, manifest_bytes(files, BuildInputs())))
print("ready", flush=True)
n = 0
while True:
    _write_output(out, *versions[n % 2])
    n += 1
"""


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(paths.PROJECT_ROOT)}


def test_kill_9_while_writing_leaves_a_complete_folder(tmp_path: Path) -> None:
    """Builds writing in a loop, killed at random moments: the folder is always complete
    (old or new), and the next build leaves no leftovers."""
    from kg.build import _write_output

    rng = random.Random(8)
    out = tmp_path / "dist"
    files, manifest = _outputs(b"0")
    _write_output(out, files, manifest)
    for _ in range(12):
        writer = subprocess.Popen([sys.executable, "-c", _WRITER, str(out)],
                                  stdout=subprocess.PIPE, text=True, env=_env())
        assert writer.stdout is not None and writer.stdout.readline() == "ready\n"
        time.sleep(rng.uniform(0.0, 0.4))
        writer.send_signal(signal.SIGKILL)
        writer.wait()
        writer.stdout.close()
        assert _complete(out) == FILES
        _write_output(out, files, manifest)  # the next build
        assert sorted(p.name for p in tmp_path.iterdir()) == ["dist"]
        assert (out / MANIFEST_NAME).read_bytes() == manifest


def test_killed_build_then_build_again(built: Path, tmp_path: Path) -> None:
    """A real `kg build` killed at a random moment leaves the previous build; the next build
    replaces it with byte-identical files and leaves nothing beside it."""
    out = tmp_path / "dist"
    shutil.copytree(built, out)
    build_run = subprocess.Popen([sys.executable, "-m", "kg", "build", "--out", str(out), "-q"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=_env())
    time.sleep(random.Random().uniform(0.5, 20.0))
    build_run.send_signal(signal.SIGKILL)
    build_run.wait()
    assert _complete(out) == FILES
    build(out=out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dist"]
    for name in FILES:
        assert (built / name).read_bytes() == (out / name).read_bytes(), name


def test_the_sameas_linkset_is_a_file_of_its_own(built: Path) -> None:
    """The graph links places with skos:exactMatch; the same links as owl:sameAs are a
    linkset apart (twinning-sameas.nt), described in VoID, and absent from the dumps."""
    import pyoxigraph as ox

    exact = "http://www.w3.org/2004/02/skos/core#exactMatch"
    same = "http://www.w3.org/2002/07/owl#sameAs"
    graph = list(ox.parse(path=str(built / "twinning.nt"), format=ox.RdfFormat.N_TRIPLES))
    linkset = list(ox.parse(path=str(built / "twinning-sameas.nt"),
                            format=ox.RdfFormat.N_TRIPLES))
    matches = {(t.subject, t.object) for t in graph if t.predicate.value == exact
               and t.object.value.startswith("http://www.wikidata.org/entity/Q")}
    assert len(matches) > 500
    assert all(t.predicate.value == same for t in linkset)
    assert {(t.subject, t.object) for t in linkset} == matches
    assert not any(t.predicate.value == same for t in graph)
    void = ox.Store()
    void.load(path=str(built / "void.ttl"), format=ox.RdfFormat.TURTLE)
    rows = list(void.query("""
        PREFIX void: <http://rdfs.org/ns/void#>
        PREFIX owl: <http://www.w3.org/2002/07/owl#>
        PREFIX dcterms: <http://purl.org/dc/terms/>
        SELECT ?n ?dump ?licence WHERE {
          ?l a void:Linkset ; void:linkPredicate owl:sameAs ; void:triples ?n ;
             void:dataDump ?dump ; dcterms:license ?licence }"""))
    assert len(rows) == 1
    assert int(rows[0]["n"].value) == len(matches)
    assert rows[0]["dump"].value.endswith("/twinning-sameas.nt")
    assert rows[0]["licence"].value == "https://creativecommons.org/licenses/by-sa/4.0/"
