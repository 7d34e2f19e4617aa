"""``kg build`` at scale, in small: long lists summarised with the whole list in the build
folder, a quiet build, the second process (its failures, its death with the build), the
staging folder of a live build left alone by another build's cleanup."""

from __future__ import annotations

import fcntl
import importlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from kg import paths
from kg.build import _in_use, _remove_leftovers, build
from kg.buildjob import Check, start
from kg.cli import main
from kg.cli.build import SHOWN
from kg.errors import RdfError
from kg.manifest import MISSING_LINKS_NAME, read_manifest
from kg.rdf.spool import LineSets


def _links_without_cities(tmp_path: Path, count: int) -> tuple[Path, list[str]]:
    """The seeds' links table without the first ``count`` zh.wikipedia partner rows."""
    lines = paths.LINKS_TSV.read_text(encoding="utf-8").splitlines(keepends=True)
    dropped = [i for i, line in enumerate(lines) if line.startswith("zhwiki\tpartner\t")]
    dropped = dropped[:count]
    path = tmp_path / "links.tsv"
    path.write_text("".join(t for i, t in enumerate(lines) if i not in dropped), encoding="utf-8")
    return path, [lines[i].split("\t")[2] for i in dropped]


def test_missing_links_summarised_and_listed_in_full(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    links, keys = _links_without_cities(tmp_path, SHOWN + 7)
    out = tmp_path / "dist"
    assert main(["build", "--out", str(out), "--links", str(links), "-q"]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""  # quiet: no summary, no progress line
    err = captured.err.splitlines()
    assert err[0].startswith(f"kg build: {len(keys)} place(s) have no row in")
    assert len(err) == 1 + SHOWN + 1  # the count, the first few, where the rest is
    assert err[-1] == (f"  … and {len(keys) - SHOWN} more: all {len(keys)} in "
                       f"{out / MISSING_LINKS_NAME}")
    assert "\r" not in captured.err
    table = (out / MISSING_LINKS_NAME).read_text(encoding="utf-8").splitlines()
    assert table[0] == "doc\trole\tkey\tcountry"
    assert sorted(row.split("\t")[2] for row in table[1:]) == sorted(keys)
    manifest = read_manifest(out)
    assert manifest is not None and MISSING_LINKS_NAME in manifest.files
    # The next build, with the full table, replaces the folder: no list any more.
    assert main(["build", "--out", str(out), "-q"]) == 0
    assert not (out / MISSING_LINKS_NAME).exists()


def test_serial_and_parallel_builds_write_the_same_bytes(tmp_path: Path) -> None:
    one = build(out=tmp_path / "one", parallel=False)
    two = build(out=tmp_path / "two", parallel=True)
    assert one.files == two.files
    for name in one.files:
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes()


def test_without_ntriples_jsonld_is_written_in_process(tmp_path: Path) -> None:
    result = build(out=tmp_path / "dist", formats=["jsonld", "ttl"])
    assert {"twinning.jsonld", "twinning.ttl"} <= set(result.files)
    assert not (tmp_path / "dist" / "twinning.nt").exists()


def test_second_process_reports_a_bad_file_with_its_place(tmp_path: Path) -> None:
    bad = tmp_path / "twinning.nt"
    bad.write_bytes(b"<http://example.org/a> <http://example.org/b> .\n")
    job = start(None, None, tmp_path, [Check(str(bad), "nt", 1, "dist/twinning.nt")])
    with pytest.raises(RdfError) as caught:
        job.result()
    assert str(caught.value).startswith("dist/twinning.nt:1:")


def test_second_process_reports_a_wrong_count(tmp_path: Path) -> None:
    nt = tmp_path / "twinning.nt"
    nt.write_bytes(b"<http://example.org/a> <http://example.org/b> <http://example.org/c> .\n")
    job = start(None, None, tmp_path, [Check(str(nt), "nt", 2, "dist/twinning.nt")])
    with pytest.raises(RdfError, match="wrote 2 triples but reads back 1"):
        job.result()


def test_second_process_dies_with_the_build(tmp_path: Path) -> None:
    """A build killed while its second process runs leaves no process behind."""
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from kg.buildjob import Check, start\n"
        "folder = Path(sys.argv[1])\n"
        "nt = folder / 'big.nt'\n"
        "line = b'<http://example.org/a> <http://example.org/b> \"x\" .\\n'\n"
        "nt.write_bytes(line * 2_000_000)\n"
        "job = start(nt, folder / 'big.jsonld', folder, [Check(str(nt), 'nt', 1, 'x')])\n"
        "print(job.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script, str(tmp_path)],
                              stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    parent.stdout.close()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{child}/stat").read_text().split(") ", 1)[1][0]
        except FileNotFoundError:
            break
        if state == "Z":  # dead, waiting for init to reap it
            break
        time.sleep(0.05)
    else:
        os.kill(child, signal.SIGKILL)
        pytest.fail("the second process outlived the build")


def test_cleanup_leaves_the_staging_folder_of_a_live_build(tmp_path: Path) -> None:
    out = tmp_path / "dist"
    live = tmp_path / ".dist.tmp-live1234"
    dead = tmp_path / ".dist.tmp-dead1234"
    for folder in (live, dead):
        folder.mkdir()
        (folder / "twinning.nt").write_bytes(b"partial")
    fd = os.open(live, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # as a running build holds it
        assert _in_use(live) and not _in_use(dead)
        assert _remove_leftovers(out) == [dead]
        assert live.is_dir()
    finally:
        os.close(fd)
    assert _remove_leftovers(out) == [live]  # once its build is gone


def test_manifest_lists_the_list_file_like_any_other(tmp_path: Path) -> None:
    links, _ = _links_without_cities(tmp_path, 1)
    out = tmp_path / "dist"
    result = build(out=out, links_path=links)
    assert result.missing_links_file == out / MISSING_LINKS_NAME
    doc = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert doc["files"][MISSING_LINKS_NAME]["size"] == (out / MISSING_LINKS_NAME).stat().st_size


def test_an_emitted_line_the_strict_parser_refuses_fails_the_build_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Turtle, TriG and N-Triples are not read back (issue 21): their lines are parsed
    strictly on their way into the writers, so a line the emitter got wrong still stops the
    build, said as a bug, with the output folder unchanged."""
    emit = importlib.import_module("kg.rdf.emit")  # kg.rdf.emit is also a function's name
    original = emit.emit_lines

    def emit_a_bad_line(results: Any, links: Any, sets: LineSets, **kwargs: Any) -> Any:
        names, stats = original(results, links, sets, **kwargs)
        sets.graph(next(iter(names))).add(b"<http://example.org/a> <http://example.org/b> "
                                          b"<not an IRI> .")
        return names, stats

    out = tmp_path / "dist"
    build(out=out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    monkeypatch.setattr(emit, "emit_lines", emit_a_bad_line)
    with pytest.raises(RdfError, match=r"the emitted graph does not parse strictly .*a bug "
                       r"in kg, please report it; .* left unchanged"):
        build(out=out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_the_default_takes_a_second_process_on_two_cores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import kg.buildjob

    started: list[object] = []
    original = kg.buildjob.start

    def recorded(*args: Any) -> Any:
        started.append(args)
        return original(*args)

    monkeypatch.setattr(kg.buildjob, "start", recorded)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1})
    build(out=tmp_path / "dist")
    assert started
    # One core: never.
    started.clear()
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0})
    build(out=tmp_path / "dist")
    assert not started
