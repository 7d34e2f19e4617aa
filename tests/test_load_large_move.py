"""``kg load --replace`` of a graph too large for the store's plain ``MOVE`` (issue 21).

* Virtuoso refuses a transaction whose log outgrows ``TransactionAfterImageLimit`` (SR325,
  seen at 10^6 twinnings with the default 50 MB). A real Virtuoso started here with a
  100 KB limit refuses the MOVE of 20,000 triples the same way; kg load sends it again
  outside the log, asks for a checkpoint, and the new graph survives the server being
  killed and started again.
* A MOVE Virtuoso ended at its ``MaxQueryExecutionTime`` (SR171) is reported with that
  setting (a proxy answers as Virtuoso does, in front of a real Oxigraph).
* Oxigraph holds a MOVE in memory (3.8 KB a triple, measured): past ``max_move_triples``
  the replace is refused before anything is sent, against a real Oxigraph server.
"""

from __future__ import annotations

import os
import signal
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from kg.cli import main
from kg.errors import LoadError
from kg.load import load
from tests.stores import Store, virtuoso_server
from tests.test_load import GRAPH, NEW_TRIPLES, OLD_TRIPLES, FaultProxy, graph_state, sorted_nt

BIG_TRIPLES = 20_000
MID_TRIPLES = 8_000  # the MOVE of 5,000 such triples outgrew the 100 KB log already
# Small enough that the MOVE of BIG_TRIPLES outgrows it, large enough for a 100-triple batch.
SMALL_LOG = "TransactionAfterImageLimit = 100000\n"


@pytest.fixture
def old_and_big(tmp_path: Path) -> tuple[Path, Path]:
    """The graph in the store (old) and a larger one to load, both streamed by kg load."""
    return (sorted_nt(tmp_path / "old.nt", "old", OLD_TRIPLES),
            sorted_nt(tmp_path / "big.nt", "new", BIG_TRIPLES))


@pytest.mark.virtuoso
def test_virtuoso_moves_outside_its_log_what_its_log_refuses(
    tmp_path: Path, old_and_big: tuple[Path, Path]
) -> None:
    old, big = old_and_big
    folder = tmp_path / "virtuoso"
    folder.mkdir()
    graph = GRAPH + "/large-move"
    with virtuoso_server(folder, SMALL_LOG) as (store, log):
        load(store.gsp, old, graph, replace=True, auth=store.auth, batch_size=100)
        # Without a query endpoint kg load cannot see that the refused MOVE left the staging
        # graph full, so it does not send it again: the store's refusal, nothing changed.
        with pytest.raises(LoadError, match=r"SR325.*without --no-check, kg load would see "
                           r"the staging graph still full.*may have applied it or not"):
            load(store.gsp, big, graph, replace=True, auth=store.auth, batch_size=100,
                 check=False)
        left = graph_state(store.query, graph)
        assert left[:2] == (OLD_TRIPLES, OLD_TRIPLES) and len(left[2]) == 1  # named to drop
        # A checkpoint refused (a user without the dba's rights): the replace is made, and
        # the summary says it is not yet durable.
        # (A smaller graph, whose MOVE the 100 KB log still refuses: every request of this
        # load goes through the proxy.)
        mid = sorted_nt(tmp_path / "mid.nt", "mid", MID_TRIPLES)
        with NoCheckpoint(store.gsp.rsplit("/", 1)[0], "/sparql-graph-crud-auth") as proxy:
            result = load(proxy.url + "/sparql-graph-crud-auth", mid, graph, replace=True,
                          auth=store.auth, batch_size=400, connections=1)
        assert proxy.refused and result.after == MID_TRIPLES
        assert "then a checkpoint" not in result.summary()
        assert ("; not yet durable: Virtuoso writes it at its next checkpoint (CheckpointInterval; "
                "run `checkpoint;` in isql now), asking for one failed: the checkpoint failed at "
                ) in result.summary(), result.summary()
        checkpoints = log.read_text().count("Checkpoint finished")
        # The limit does not apply to Virtuoso, which does not hold a MOVE in memory.
        result = load(store.gsp, big, graph, replace=True, auth=store.auth, batch_size=100,
                      max_move_triples=1)
        assert result.after == BIG_TRIPLES
        assert graph_state(store.query, graph)[:2] == (BIG_TRIPLES, 0)
        assert graph_state(store.query, graph)[2] == left[2]  # no new staging graph left
        summary = result.summary()
        assert ("then MOVE, outside Virtuoso's transaction log, which refused one this large "
                "(SR325, TransactionAfterImageLimit), then a checkpoint)") in summary, summary
        assert log.read_text().count("Checkpoint finished") > checkpoints
        process_id = int(log.read_text().rsplit("(pid ", 1)[1].split(")", 1)[0])
        # Killed without a shutdown: what survives is what the checkpoint wrote.
        os.kill(process_id, signal.SIGKILL)
    with virtuoso_server(folder, SMALL_LOG) as (store, _):
        assert graph_state(store.query, graph)[:2] == (BIG_TRIPLES, 0)


class NoCheckpoint(FaultProxy):
    """Refuses the checkpoint as Virtuoso refuses a user without the rights (``refused``
    set then)."""

    refused = False

    def injected(self, handler: BaseHTTPRequestHandler, body: bytes) -> bool:
        if b"bif%3Aexec" not in body:
            return super().injected(handler, body)
        self.refused = True
        self.answer_500(handler, b"Virtuoso 42000 Error SR186: No permission to execute")
        return True


class TimedOutMove(FaultProxy):
    """Answers a MOVE as Virtuoso answers a request past its MaxQueryExecutionTime, while
    ``timing_out``."""

    timing_out = True

    def injected(self, handler: BaseHTTPRequestHandler, body: bytes) -> bool:
        if not (self.timing_out and body.startswith(b"update=MOVE")):
            return super().injected(handler, body)
        self.answer_500(handler, b"Virtuoso S1T00 Error SR171: Transaction timed out")
        return True


def test_a_move_past_virtuosos_time_limit_names_the_setting(
    oxigraph: Store, old_and_big: tuple[Path, Path], tmp_path: Path
) -> None:
    old, big = old_and_big
    graph = GRAPH + "/timed-out-move"
    load(oxigraph.gsp, old, graph, replace=True)
    base = oxigraph.gsp.rsplit("/", 1)[0]
    state = tmp_path / "load.state"
    proxy = TimedOutMove(base, "/store")
    with proxy:
        with pytest.raises(LoadError) as info:
            load(proxy.url + "/store", big, graph, replace=True, state_path=state)
        message = str(info.value)
        assert ("SR171: Transaction timed out (Virtuoso rolls back a SPARQL request still "
                "running at its MaxQueryExecutionTime, [SPARQL] in virtuoso.ini") in message
        assert "the target graph is unchanged; the staging graph" in message
        assert "is kept for resuming; run the same command again" in message
        assert graph_state(oxigraph.query, graph)[:2] == (OLD_TRIPLES, OLD_TRIPLES)
        # The setting raised, the same command resumes: only the MOVE is left to do.
        proxy.timing_out = False
        writes = proxy.writes
        result = load(proxy.url + "/store", big, graph, replace=True, state_path=state)
        assert proxy.writes == writes and result.after == BIG_TRIPLES
    assert graph_state(oxigraph.query, graph) == (BIG_TRIPLES, 0, [])
    assert not state.exists()


def test_oxigraph_refuses_a_move_larger_than_the_limit_before_sending(
    oxigraph: Store, old_and_big: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    old, big = old_and_big
    graph = GRAPH + "/too-large-to-move"
    load(oxigraph.gsp, old, graph, replace=True)
    base = oxigraph.gsp.rsplit("/", 1)[0]
    with FaultProxy(base, "/store") as proxy, pytest.raises(LoadError) as info:
        load(proxy.url + "/store", big, graph, replace=True, max_move_triples=NEW_TRIPLES)
    assert proxy.writes == 0
    assert str(info.value) == (
        f"an atomic --replace of {BIG_TRIPLES:,} triples is more than Oxigraph is asked to "
        f"MOVE (--max-move-triples {NEW_TRIPLES:,}): it holds a MOVE in memory, about 0.1 GiB "
        "for this one; the target graph is unchanged and nothing was sent; load a fresh "
        "store with `oxigraph load` and serve that (README: Replacing a large graph), or give "
        "--replace-non-atomic, or --max-move-triples 0 where the server has the memory")
    assert graph_state(oxigraph.query, graph) == (OLD_TRIPLES, OLD_TRIPLES, [])
    # The same from the command line: one line, exit 2.
    assert main(["load", str(big), "--endpoint", oxigraph.gsp, "--graph", graph, "--replace",
                 "--max-move-triples", "100", "-q"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--max-move-triples 100" in err[0], err
    # At or under the limit, or with no limit, the replace goes through.
    for limit in (BIG_TRIPLES, 0):
        assert load(oxigraph.gsp, big, graph, replace=True,
                    max_move_triples=limit).after == BIG_TRIPLES
