"""``kg load --replace``: messages say only what was verified (issue 18). A real Oxigraph
server behind a fault-injecting proxy (:class:`tests.test_load.FaultProxy`) that

* passes a ``MOVE`` to the store and then answers 500 anyway: kg asks the store and says
  the target holds the new graph (it used to say "the target graph is unchanged");
* holds a ``PUT`` into the staging graph past ``--timeout`` and then passes it on: the
  store applies it after kg gave up and dropped the staging graph, so kg must not say the
  staging graph is simply gone.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
import requests

from kg.cli import main
from kg.errors import LoadError
from kg.load import load
from tests.stores import Store
from tests.test_load import (
    EX,
    GRAPH,
    NEW_TRIPLES,
    OLD_TRIPLES,
    FaultProxy,
    graph_state,
    sorted_nt,
)


@pytest.fixture
def old_and_new(tmp_path: Path) -> tuple[Path, Path]:
    """The graph in the store (old) and the one to load (new), as in tests/test_load.py."""
    old = tmp_path / "old.nt"
    old.write_text("".join(f"<{EX}old{i}> <{EX}p> \"{i}\" .\n" for i in range(OLD_TRIPLES)),
                   encoding="utf-8")
    new = tmp_path / "new.nt"
    new.write_text("".join(f"<{EX}new{i}> <{EX}p> \"{i}\" .\n" for i in range(NEW_TRIPLES)),
                   encoding="utf-8")
    return old, new


class MoveThen500(FaultProxy):
    """Passes the MOVE on to the store, then answers 500 as if it had failed."""

    def injected(self, handler: BaseHTTPRequestHandler, body: bytes) -> bool:
        if not body.startswith(b"update=MOVE"):
            return False
        headers = {k: v for k, v in handler.headers.items()
                   if k.lower() not in ("host", "content-length", "connection")}
        requests.post(self.upstream + handler.path, data=body, headers=headers, timeout=60)
        self.answer_500(handler)
        return True


class LatePut(FaultProxy):
    """Holds the first PUT to the Graph Store for ``delay`` seconds, then passes it on (the
    client has given up by then); ``passed`` is set once the store has it."""

    def __init__(self, *args: object, delay: float, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.delay = delay
        self.passed = threading.Event()
        self.held = False

    def injected(self, handler: BaseHTTPRequestHandler, body: bytes) -> bool:
        if handler.command == "PUT" and not self.held:
            self.held = True
            time.sleep(self.delay)
            headers = {k: v for k, v in handler.headers.items()
                       if k.lower() not in ("host", "content-length", "connection")}
            requests.put(self.upstream + handler.path, data=body, headers=headers, timeout=60)
            self.passed.set()
            handler.close_connection = True
            return True
        return False


def test_a_move_applied_but_answered_500_is_reported_as_applied(
        oxigraph: Store, old_and_new: tuple[Path, Path]) -> None:
    old, new = old_and_new
    graph = GRAPH + "/move-500-applied"
    load(oxigraph.gsp, old, graph, replace=True)
    base = oxigraph.gsp.rsplit("/", 1)[0]
    with MoveThen500(base, "/store") as proxy, pytest.raises(LoadError) as info:
        load(proxy.url + "/store", new, graph, replace=True, batch_size=100)
    message = str(info.value)
    assert "HTTP 500" in message and "unchanged" not in message, message
    assert (f"yet the store applied it: the target graph holds the {NEW_TRIPLES} new triples "
            "and the staging graph is gone (checked)") in message
    assert graph_state(oxigraph.query, graph) == (NEW_TRIPLES, 0, [])


def test_a_move_refused_keeps_the_old_graph_and_says_so(
        oxigraph: Store, old_and_new: tuple[Path, Path]) -> None:
    old, new = old_and_new
    graph = GRAPH + "/move-500-refused"
    load(oxigraph.gsp, old, graph, replace=True)
    base = oxigraph.gsp.rsplit("/", 1)[0]
    with FaultProxy(base, "/store", fail_move=True) as proxy, \
            pytest.raises(LoadError) as info:
        load(proxy.url + "/store", new, graph, replace=True, batch_size=100)
    assert "the target graph is unchanged; the staging graph was dropped" in str(info.value)
    assert graph_state(oxigraph.query, graph) == (OLD_TRIPLES, OLD_TRIPLES, [])


def test_a_late_put_after_the_timeout_is_not_hidden(
        oxigraph: Store, old_and_new: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = old_and_new
    graph = GRAPH + "/late-put"
    load(oxigraph.gsp, old, graph, replace=True)
    base = oxigraph.gsp.rsplit("/", 1)[0]
    with LatePut(base, "/store", delay=2.0) as proxy:
        code = main(["load", str(new), "--endpoint", proxy.url + "/store", "--graph", graph,
                     "--replace", "--timeout", "0.5", "--batch-size", "100"])
        err = capsys.readouterr().err
        assert proxy.passed.wait(30)
    assert code == 2 and err.count("\n") == 1, err
    total, old_count, staging = graph_state(oxigraph.query, graph)
    assert (total, old_count) == (OLD_TRIPLES, OLD_TRIPLES)  # the target is unchanged
    # The late PUT re-created the staging graph after kg dropped it: kg named it and said so.
    assert len(staging) == 1, staging
    assert "the staging graph was dropped, but if the store still applies the request" in err
    assert f"DROP SILENT GRAPH <{staging[0]}>" in err
    requests.post(base + "/update", data={"update": f"DROP SILENT GRAPH <{staging[0]}>"},
                  timeout=30).raise_for_status()


@pytest.fixture
def streamed(tmp_path: Path) -> tuple[Path, Path, Path]:
    """The old and the new graph in files kg load streams (so it can resume them), and
    where the state file goes."""
    return (sorted_nt(tmp_path / "old.nt", "old", OLD_TRIPLES),
            sorted_nt(tmp_path / "new.nt", "new", NEW_TRIPLES), tmp_path / "load.state")


def test_a_move_applied_but_answered_500_leaves_nothing_to_resume(
        oxigraph: Store, streamed: tuple[Path, Path, Path]) -> None:
    """With a state file: the store applied the MOVE, so the message does not say to resume
    and the state file is gone."""
    old, new, state = streamed
    graph = GRAPH + "/move-500-applied-state"
    load(oxigraph.gsp, old, graph, replace=True)
    base = oxigraph.gsp.rsplit("/", 1)[0]
    with MoveThen500(base, "/store") as proxy, pytest.raises(LoadError) as info:
        load(proxy.url + "/store", new, graph, replace=True, state_path=state)
    assert "yet the store applied it" in str(info.value)
    assert "resume" not in str(info.value) and not state.exists()
    assert graph_state(oxigraph.query, graph) == (NEW_TRIPLES, 0, [])


class HeldMove(FaultProxy):
    """Holds the MOVE until ``release`` is set, then passes it on (``passed`` set then)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.holding, self.release, self.passed = (threading.Event(), threading.Event(),
                                                   threading.Event())

    def injected(self, handler: BaseHTTPRequestHandler, body: bytes) -> bool:
        if not body.startswith(b"update=MOVE"):
            return False
        self.holding.set()
        self.release.wait(60)
        headers = {k: v for k, v in handler.headers.items()
                   if k.lower() not in ("host", "content-length", "connection")}
        requests.post(self.upstream + handler.path, data=body, headers=headers, timeout=60)
        self.passed.set()
        handler.close_connection = True
        return True


def test_resuming_after_a_move_the_store_applied_once_the_run_was_interrupted(
        oxigraph: Store, streamed: tuple[Path, Path, Path]) -> None:
    """Ctrl-C while the store runs the MOVE (minutes for a large graph): the store applies
    it after kg load ended. The same command again finds it applied (it used to say the
    target was unchanged) and ends well."""
    old, new, state = streamed
    graph = GRAPH + "/move-after-interrupt"
    load(oxigraph.gsp, old, graph, replace=True)
    base = oxigraph.gsp.rsplit("/", 1)[0]
    with HeldMove(base, "/store") as proxy:
        argv = [sys.executable, "-m", "kg", "load", str(new), "--endpoint",
                proxy.url + "/store", "--graph", graph, "--replace", "--state", str(state),
                "--batch-size", "100", "-q"]
        run = subprocess.Popen(argv, stderr=subprocess.PIPE, text=True)
        assert proxy.holding.wait(60)
        run.send_signal(signal.SIGINT)
        assert run.wait(30) == 130, run.communicate()[1]
        assert run.communicate()[1] == (
            "kg load: interrupted: while the store ran the MOVE, which it may still apply "
            f"(then the target holds the {NEW_TRIPLES} new triples); the same command again "
            "finds out, and ends or moves it\n")
        assert graph_state(oxigraph.query, graph)[:2] == (OLD_TRIPLES, OLD_TRIPLES)
        proxy.release.set()
        assert proxy.passed.wait(60)
        assert graph_state(oxigraph.query, graph) == (NEW_TRIPLES, 0, [])
        # Without counting the applied MOVE cannot be seen: kg load does not send another
        # (a MOVE of the emptied staging graph empties the target in Virtuoso).
        with pytest.raises(LoadError, match=r"may have sent its MOVE too; without counting "
                           r"\(--no-check\).*nothing was changed"):
            load(proxy.url + "/store", new, graph, replace=True, state_path=state,
                 batch_size=100, check=False)
        assert graph_state(oxigraph.query, graph) == (NEW_TRIPLES, 0, []) and state.exists()
        result = load(proxy.url + "/store", new, graph, replace=True, state_path=state,
                      batch_size=100)
    assert result.after == NEW_TRIPLES and not state.exists()
    assert "then MOVE, sent by the run resumed here and applied after it ended (checked))" \
        in result.summary()
