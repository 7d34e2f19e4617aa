"""``kg load`` against each store's own bulk loader, on the same file, in one run.

Usage: ``python bench/load.py FILE.nt [--stores oxigraph,virtuoso] [--mode append|replace]
[--batch-size N]`` (FILE: a build's ``twinning.nt``). For each store, two fresh, empty
instances in a scratch folder, one after the other:

* Oxigraph: ``oxigraph load --location DIR --file FILE --graph G`` (its bulk loader), against
  ``kg load FILE --endpoint http://…/store --graph G -q`` into ``oxigraph serve``;
* Virtuoso: ``ld_dir(DIR, FILE, G)``, ``rdf_loader_run()`` and ``checkpoint`` through
  ``isql-vt`` (its bulk loader), against ``kg load … --auth digest -q`` into the
  authenticated Graph Store endpoint. Both Virtuoso instances get the buffers Virtuoso's own
  guide gives a machine with 8 GB (``NumberOfBuffers`` 680,000, ``MaxDirtyBuffers``
  500,000), not the tests' small ones: its bulk loader at its best; and a SPARQL request
  may run an hour (``MaxQueryExecutionTime`` 3600, not 60: the ``MOVE`` of a large
  ``--replace`` is one request; the bulk loader does not go through SPARQL).

``--mode append`` (the default) sends every batch to the target graph; ``--mode replace``
adds ``--replace`` (a staging graph, then one ``MOVE``). Where kg load refuses or fails
(an atomic replace of more than ``--max-move-triples`` into Oxigraph), its row says so.

It prints seconds and triples per second of each, and kg load's ratio (kg load's time over
the bulk loader's). Servers start before the clock and are stopped after; each timed part
ends once the store holds the triples (``kg load`` checks its count; the bulk loaders end
with their data committed). A measurement, not a test.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # tests.stores

from kg.loadstate import DEFAULT_BATCH_SIZE
from tests.stores import VIRTUOSO_INI, free_port, stop, wait_until_up

__all__ = ["main"]

GRAPH = "https://w3id.org/twinning-kg/graph"
# Virtuoso's guide for a machine with 8 GB, instead of the tests' small buffers; an hour for
# a SPARQL request (the MOVE of a large --replace), instead of a minute.
_VIRTUOSO_SETTINGS = (("NumberOfBuffers = 10000", "NumberOfBuffers = 680000"),
                      ("MaxDirtyBuffers = 6000", "MaxDirtyBuffers = 500000"),
                      ("MaxQueryExecutionTime = 60", "MaxQueryExecutionTime = 3600"))


def _timed(argv: list[str], **kwargs: object) -> float:
    started = time.monotonic()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, **kwargs)  # type: ignore[call-overload]
    return time.monotonic() - started


def _kg_load(argv: list[str]) -> float | str:
    """Seconds ``kg load`` took, or the one line it failed with."""
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "kg", "load", *argv], check=False,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if done.returncode != 0:
        return done.stderr.strip().splitlines()[-1]
    return time.monotonic() - started


@contextmanager
def _oxigraph(folder: Path) -> Iterator[str]:
    port = free_port()
    log = folder / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["oxigraph", "serve", "--location", str(folder / "db"), "--bind",
             f"127.0.0.1:{port}"], stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/query", process, 60, log)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(process)


@contextmanager
def _virtuoso(folder: Path) -> Iterator[tuple[str, int]]:
    http_port, sql_port = free_port(), free_port()
    ini = folder / "virtuoso.ini"
    text = VIRTUOSO_INI.format(d=folder, sql_port=sql_port, http_port=http_port)
    for small, large in _VIRTUOSO_SETTINGS:
        assert small in text, small  # the tests' settings changed: change these too
        text = text.replace(small, large)
    ini.write_text(text)
    log = folder / "stdout.log"
    with log.open("wb") as out:
        process = subprocess.Popen(["virtuoso-t", "+foreground", "+configfile", str(ini)],
                                   cwd=folder, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_until_up(f"http://127.0.0.1:{http_port}/sparql", process, 90, log)
        yield f"http://127.0.0.1:{http_port}", sql_port
    finally:
        stop(process)


def _oxigraph_pair(data: Path, scratch: Path, batch: int, mode: list[str]
                   ) -> tuple[float, float | str]:
    bulk_dir = scratch / "ox-bulk"
    bulk = _timed(["oxigraph", "load", "--location", str(bulk_dir), "--file", str(data),
                   "--graph", GRAPH])
    shutil.rmtree(bulk_dir, ignore_errors=True)
    served = scratch / "ox-served"
    served.mkdir()
    with _oxigraph(served) as base:
        ours = _kg_load([str(data), "--endpoint", f"{base}/store", "--graph", GRAPH, *mode,
                         "-q", "--batch-size", str(batch)])
    shutil.rmtree(served, ignore_errors=True)
    return bulk, ours


def _virtuoso_pair(data: Path, scratch: Path, batch: int, mode: list[str]
                   ) -> tuple[float, float | str]:
    bulk_dir = scratch / "vt-bulk"
    bulk_dir.mkdir()
    shutil.copy(data, bulk_dir / data.name)  # DirsAllowed: the database folder
    with _virtuoso(bulk_dir) as (_, sql_port):
        script = (f"ld_dir('{bulk_dir}', '{data.name}', '{GRAPH}'); rdf_loader_run(); "
                  "checkpoint;")
        bulk = _timed(["isql-vt", str(sql_port), "dba", "dba", f"exec={script}"])
    shutil.rmtree(bulk_dir, ignore_errors=True)
    served = scratch / "vt-served"
    served.mkdir()
    with _virtuoso(served) as (base, _):
        ours = _kg_load([str(data), "--endpoint", f"{base}/sparql-graph-crud-auth", "--graph",
                         GRAPH, *mode, "-q", "--user", "dba", "--password", "dba", "--auth",
                         "digest", "--batch-size", str(batch)])
    shutil.rmtree(served, ignore_errors=True)
    return bulk, ours


def main(argv: list[str]) -> int:
    """Run the pairs and print the table; 0."""
    parser = argparse.ArgumentParser(prog="bench/load.py")
    parser.add_argument("file", type=Path)
    parser.add_argument("--stores", default="oxigraph,virtuoso")
    parser.add_argument("--mode", choices=("append", "replace"), default="append")
    parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE)
    args = parser.parse_args(argv)
    data: Path = args.file.resolve()
    with data.open("rb") as handle:
        triples = sum(1 for _ in handle)
    pairs = {"oxigraph": _oxigraph_pair, "virtuoso": _virtuoso_pair}
    print(f"{triples:,} triples ({data}), kg load in {args.mode} mode")
    print("| store | bulk loader s | triples/s | kg load s | triples/s | kg load ÷ bulk |")
    print("|---|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory(prefix="kg-load-bench-") as tmp:
        for store in args.stores.split(","):
            mode = ["--replace"] if args.mode == "replace" else []
            bulk, ours = pairs[store](data, Path(tmp), args.batch_size, mode)
            if isinstance(ours, str):
                print(f"| {store} | {bulk:.1f} | {triples / bulk:,.0f} | {ours} | | |",
                      flush=True)
                continue
            print(f"| {store} | {bulk:.1f} | {triples / bulk:,.0f} | {ours:.1f} | "
                  f"{triples / ours:,.0f} | {ours / bulk:.2f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
