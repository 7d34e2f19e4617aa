"""kg load streamed and resumed after a failure, against a real Oxigraph server and a real
Virtuoso (behind the fault-injecting proxy of tests/test_load.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from kg.cli import main
from kg.errors import LoadError
from kg.load import load
from kg.loadstate import STATE_KIND, scan_lines
from tests.stores import Store
from tests.test_load import EX, GRAPH, SAMPLE, FaultProxy, graph_state, sorted_nt

OLD, NEW = 1000, 800


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    return sorted_nt(tmp_path / "old.nt", "old", OLD), sorted_nt(tmp_path / "new.nt", "new", NEW)


def test_scan_decides_what_streams(tmp_path: Path) -> None:
    assert scan_lines(sorted_nt(tmp_path / "a.nt", "a", 5)) == 5
    unsorted = tmp_path / "b.nt"
    unsorted.write_text(f"<{EX}b> <{EX}p> <{EX}c> .\n<{EX}a> <{EX}p> <{EX}c> .\n")
    assert scan_lines(unsorted) is None
    blank = tmp_path / "c.nt"
    blank.write_text(SAMPLE, encoding="utf-8")  # blank nodes and a duplicate line
    assert scan_lines(blank) is None


def _resume_replace(store: Store, files: tuple[Path, Path], tmp_path: Path, gsp_path: str,
                    graph: str) -> None:
    old, new = files
    auth = store.auth
    load(store.gsp, old, graph, replace=True, auth=auth)
    state = tmp_path / "load.state"
    base = store.gsp.rsplit("/", 1)[0]
    with FaultProxy(base, gsp_path, fail_at=3, auth_only=auth is not None) as proxy:
        with pytest.raises(LoadError) as info:
            load(proxy.url + gsp_path, new, graph, replace=True, auth=auth, batch_size=100,
                 connections=1, state_path=state)
        message = str(info.value)
        assert "batch 3/8" in message and "200 of 800 triples acknowledged" in message
        assert "is kept for resuming" in message
        assert f"run the same command again to resume after the 200 triples acknowledged " \
               f"(state in {state})" in message
        total, old_count, staging = graph_state(store.query, graph)
        assert (total, old_count) == (OLD, OLD) and len(staging) == 1  # target untouched
        doc = json.loads(state.read_text(encoding="utf-8"))
        assert doc["kind"] == STATE_KIND and doc["sent"] == 200
        assert doc["staging"] == staging[0]
        # The same command again: only batches 3 to 8 are sent, then the MOVE.
        proxy.fail_at = None
        writes = proxy.writes
        result = load(proxy.url + gsp_path, new, graph, replace=True, auth=auth,
                      batch_size=100, state_path=state)
        assert proxy.writes - writes == 6
    assert result.after == NEW and result.requests == 6
    assert graph_state(store.query, graph) == (NEW, 0, [])
    assert not state.exists()


def test_oxigraph_replace_resumes_into_the_same_staging_graph(
    oxigraph: Store, files: tuple[Path, Path], tmp_path: Path
) -> None:
    _resume_replace(oxigraph, files, tmp_path, "/store", GRAPH + "/resume")


@pytest.mark.virtuoso
def test_virtuoso_replace_resumes_into_the_same_staging_graph(
    virtuoso: Store, files: tuple[Path, Path], tmp_path: Path
) -> None:
    _resume_replace(virtuoso, files, tmp_path, "/sparql-graph-crud-auth", GRAPH + "/resume")


def test_oxigraph_append_resumes_after_the_last_acknowledged_batch(
    oxigraph: Store, files: tuple[Path, Path], tmp_path: Path
) -> None:
    old, new = files
    graph = GRAPH + "/resume-append"
    load(oxigraph.gsp, old, graph, replace=True)
    state = tmp_path / "append.state"
    base = oxigraph.gsp.rsplit("/", 1)[0]
    with FaultProxy(base, "/store", fail_at=4) as proxy:
        with pytest.raises(LoadError, match="300 of 800 triples acknowledged"):
            load(proxy.url + "/store", new, graph, batch_size=100, connections=1, state_path=state)
        assert graph_state(oxigraph.query, graph)[:2] == (OLD + 300, OLD)
        proxy.fail_at = None
        result = load(proxy.url + "/store", new, graph, batch_size=100, state_path=state)
    # The count check uses the count before the first attempt, recorded in the state.
    assert (result.before, result.after, result.requests) == (OLD, OLD + NEW, 5)
    assert not state.exists()


def test_two_connections_say_what_was_stored_beside_a_failed_batch_and_resume(
    oxigraph: Store, files: tuple[Path, Path], tmp_path: Path
) -> None:
    """With two requests under way, the third write fails: whichever batch it was, the
    message counts what the store acknowledged before it and beside it, the store holds
    exactly that, and the same command resumes to the whole file."""
    old, new = files
    graph = GRAPH + "/resume-two-connections"
    load(oxigraph.gsp, old, graph, replace=True)
    state = tmp_path / "two.state"
    base = oxigraph.gsp.rsplit("/", 1)[0]
    with FaultProxy(base, "/store", fail_at=3) as proxy:
        with pytest.raises(LoadError) as info:
            load(proxy.url + "/store", new, graph, batch_size=100, connections=2,
                 state_path=state)
        stored = graph_state(oxigraph.query, graph)[:2]
        result = load(proxy.url + "/store", new, graph, batch_size=100, connections=2,
                      state_path=state)
    assert (result.before, result.after) == (OLD, OLD + NEW)
    assert not state.exists()
    message = str(info.value)
    failed = re.search(r"POST of batch (\d)/8 \(100 triples; (\d+) of 800 triples "
                       r"acknowledged before it\)", message)
    assert failed is not None, message
    assert int(failed.group(2)) == (int(failed.group(1)) - 1) * 100
    beside = re.search(r"of the batches sent beside it \((\d)\), the store acknowledged (\d)",
                       message)
    assert beside is not None, message
    assert int(beside.group(1)) == int(failed.group(1)) + 1
    held = int(failed.group(2)) + 100 * int(beside.group(2))
    assert stored == (OLD + held, OLD)
    assert f"resume after the {failed.group(2)} triples acknowledged" in message


def test_state_of_another_load_is_refused(
    oxigraph: Store, files: tuple[Path, Path], tmp_path: Path
) -> None:
    old, new = files
    state = tmp_path / "x.state"
    state.write_text(json.dumps({"kind": STATE_KIND, "version": 1, "file": str(old),
                                 "offset": 10, "sent": 1}), encoding="utf-8")
    with pytest.raises(LoadError, match=r"records another load .*remove it to start over"):
        load(oxigraph.gsp, new, GRAPH + "/x", state_path=state)
    state.write_text("{}", encoding="utf-8")
    with pytest.raises(LoadError, match="not a kg load state file"):
        load(oxigraph.gsp, new, GRAPH + "/x", state_path=state)


def test_state_needs_a_streamed_file(oxigraph: Store, tmp_path: Path) -> None:
    sample = tmp_path / "sample.nt"
    sample.write_text(SAMPLE, encoding="utf-8")
    with pytest.raises(LoadError, match="--state resumes only a file sent as it streams"):
        load(oxigraph.gsp, sample, GRAPH + "/x", state_path=tmp_path / "s")


def test_cli_state_and_quiet(
    oxigraph: Store, files: tuple[Path, Path], tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, new = files
    state = tmp_path / "cli.state"
    assert main(["load", str(new), "--endpoint", oxigraph.gsp, "--graph", GRAPH + "/cli",
                 "--replace", "--state", str(state), "-q", "--batch-size", "300"]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith(f"loaded {NEW} triples into <{GRAPH}/cli>")
    assert captured.err == "" and not state.exists()


def test_state_that_is_not_a_regular_file_is_refused_at_once(
    files: tuple[Path, Path], tmp_path: Path
) -> None:
    # Regression: a FIFO given as --state blocked the load forever on reading it.
    import os

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    for state in (fifo, tmp_path):
        with pytest.raises(LoadError, match="not a regular file"):
            load("http://127.0.0.1:9/store", files[1], GRAPH + "/x", state_path=state)
