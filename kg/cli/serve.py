"""``kg serve [FILE...]``: the SPARQL endpoint and web page.

Without FILE it serves the built graph (``dist/twinning.trig``, building it first when
``dist/`` is missing or a stale build of the project's inputs); with ``--dist DIR`` the
build there, as it is; with FILEs it serves those. The CLI builds; :mod:`kg.serve` serves.
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kg.errors import KGError, ServeError

if TYPE_CHECKING:
    from kg.serve.limits import Limits

__all__ = ["ensure_built", "limits_from", "register", "run"]


def register(subparsers: Any) -> None:
    """Add the ``serve`` subcommand."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "serve",
        help="serve the graph (or given RDF files) over SPARQL 1.1 with a web page",
        description="Serve the built graph, or the given RDF files (Turtle, N-Triples, "
        "N-Quads, TriG, JSON-LD, RDF/XML), as a read-only SPARQL 1.1 endpoint at /sparql "
        "with a web page at /.",
    )
    from kg.cli import (
        http_url,
        input_file,
        ip_address,
        non_negative_int,
        port,
        positive_float,
        positive_int,
    )
    from kg.serve.limits import DEFAULTS as d
    from kg.serve.limits import MIB

    parser.add_argument("files", nargs="*", type=input_file, metavar="FILE",
                        help="RDF files to serve (default: the built graph in dist/)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on "
                        "(default 127.0.0.1)")
    parser.add_argument("--port", type=port, default=8000, help="port (default 8000; 0: any)")
    parser.add_argument("--store", type=Path, metavar="DIR",
                        help="keep the store on disk in DIR instead of memory, for graphs "
                        "larger than memory (each query about 2.5-3x slower): a missing or "
                        "empty folder, or one an earlier kg serve made (reused as it is for "
                        "the same data, so a restart skips the load); any other folder is "
                        "refused, untouched (default: the graph is held in memory)")
    parser.add_argument("--timeout", type=positive_float, default=d.timeout, metavar="SECONDS",
                        help="query timeout; past it the query is stopped and the answer is "
                        f"503 (default {d.timeout:g})")
    parser.add_argument("--max-rows", type=positive_int, default=d.max_rows, metavar="N",
                        help="cap on result rows/triples, stated in the response when "
                        f"applied (default {d.max_rows})")
    parser.add_argument("--max-answer-bytes", type=non_negative_int,
                        default=d.max_answer_bytes, metavar="BYTES",
                        help="cap on one answer's size: past it the answer is cut at a row "
                        "boundary, stated in its headers (default 0: no cap)")
    parser.add_argument("--max-body", type=positive_int, default=d.max_body, metavar="BYTES",
                        help=f"largest request body; larger gets 413 (default {d.max_body})")
    parser.add_argument("--public-url", metavar="URL", type=http_url,
                        help="the address clients reach the server at, named in its VoID and "
                        "service description (default http://HOST:PORT as it listens)")
    parser.add_argument("--max-connections", type=positive_int, default=d.max_connections,
                        metavar="N",
                        help="connections served at once; past it a new connection closes "
                        "the oldest idle one, or, with none idle, gets 503 and is closed "
                        f"(default {d.max_connections})")
    parser.add_argument("--idle-timeout", type=positive_float, default=d.idle_timeout,
                        metavar="SECONDS",
                        help="a connection idle this long between requests, or this slow "
                        f"to send one request, is closed (default {d.idle_timeout:g})")
    parser.add_argument("--max-client-connections", type=non_negative_int,
                        default=d.max_client_connections, metavar="N",
                        help="connections one client address may hold; past it a new one "
                        f"gets 429 and is closed (default {d.max_client_connections}; 0: no "
                        "limit)")
    parser.add_argument("--max-client-queries", type=non_negative_int,
                        default=d.max_client_queries, metavar="N",
                        help="queries one client may have running or waiting; past it 429 "
                        f"(default {d.max_client_queries}; 0: no limit)")
    parser.add_argument("--trusted-proxy", action="append", default=[], metavar="ADDR",
                        type=ip_address,
                        help="a reverse proxy's address: for its connections the client is "
                        "the last address in X-Forwarded-For (or Forwarded for=), and its "
                        "connections are not limited per address (repeatable; none by "
                        "default: those headers are ignored)")
    parser.add_argument("--allow-service", action="append", default=[], metavar="URL",
                        type=http_url,
                        help="allow federated SERVICE calls to this endpoint (repeatable; "
                        "none by default)")
    parser.add_argument("--cache", type=non_negative_int, default=d.cache // MIB,
                        metavar="MIB",
                        help="answers kept in memory for repeated queries, counted in bytes "
                        f"(default {d.cache // MIB} MiB; 0: none)")
    parser.add_argument("--workers", type=positive_int, default=d.workers, metavar="N",
                        help=f"query worker processes (default {d.workers})")
    parser.add_argument("--express-workers", type=non_negative_int, default=d.express_workers,
                        metavar="N",
                        help="reserved workers that give the newest waiting query a short "
                        "trial when every other is busy, so light queries pass heavy ones "
                        f"(default {d.express_workers}; 0: none)")
    parser.add_argument("--express-timeout", type=positive_float, default=d.express_timeout,
                        metavar="SECONDS",
                        help="a query's trial on a reserved worker; past it the query waits "
                        f"for a general worker (default {d.express_timeout:g})")
    parser.add_argument("--queue", type=non_negative_int, default=d.queue, metavar="N",
                        help="requests that may wait for a worker; more get 503 at once "
                        f"(default {d.queue})")
    parser.add_argument("--max-query-length", type=positive_int, default=d.max_query_length,
                        metavar="CHARS",
                        help=f"longest query text; longer gets 400 (default {d.max_query_length})")
    parser.add_argument("--max-depth", type=positive_int, default=d.max_depth, metavar="N",
                        help="deepest nesting of { ( [ in a query; deeper gets 400 "
                        f"(default {d.max_depth})")
    parser.add_argument("--max-chain", type=positive_int, default=d.max_chain, metavar="N",
                        help="longest chain of operators (! || && property path steps, "
                        f"arithmetic) in one bracket group; longer gets 400 (default "
                        f"{d.max_chain})")
    parser.add_argument("--worker-memory", type=non_negative_int,
                        default=d.worker_memory // MIB, metavar="MIB",
                        help="memory each query worker may allocate beyond the store; a "
                        "query needing more gets 500 and its worker is replaced (default "
                        f"{d.worker_memory // MIB}; 0: no cap)")
    parser.add_argument("--worker-recycle", type=positive_int,
                        default=d.worker_recycle // MIB, metavar="MIB",
                        help="a worker holding this much more memory after a query than "
                        "at its start is replaced, so the memory goes back (default "
                        f"{d.worker_recycle // MIB})")
    parser.add_argument("--dist", type=Path, default=None, metavar="DIR",
                        help="serve the build in DIR as it is (never rebuilt; refused if "
                        "it holds no built graph) instead of the project's dist/")
    parser.add_argument("--no-build", action="store_true",
                        help="never build dist/, even if missing or stale")
    parser.set_defaults(func=run)


def limits_from(args: argparse.Namespace) -> Limits:
    """The :class:`~kg.serve.limits.Limits` the options ask for."""
    from kg.serve.limits import MIB, Limits

    return Limits(timeout=args.timeout, max_rows=args.max_rows, max_body=args.max_body,
                  max_connections=args.max_connections, idle_timeout=args.idle_timeout,
                  max_client_connections=args.max_client_connections,
                  max_client_queries=args.max_client_queries,
                  trusted_proxies=tuple(args.trusted_proxy),
                  cache=args.cache * MIB, workers=args.workers,
                  express_workers=args.express_workers, express_timeout=args.express_timeout,
                  queue=args.queue, max_query_length=args.max_query_length,
                  max_depth=args.max_depth, max_chain=args.max_chain,
                  worker_memory=args.worker_memory * MIB,
                  worker_recycle=args.worker_recycle * MIB,
                  max_answer_bytes=args.max_answer_bytes,
                  allowed_services=tuple(args.allow_service))


def ensure_built(dist: Path, *, root: Path, build: bool = True) -> Path:
    """The built graph ``dist/twinning.trig``, building ``dist`` first (with
    :mod:`kg.build`) when ``build`` and it is missing, or is a build of the project's
    inputs under ``root`` that is no longer current (:func:`kg.manifest.is_current`).

    A build of other inputs (its manifest names other input files or options: a user's
    own build) is never rebuilt: it is served as it is, with a note on stderr.

    Raises :class:`ServeError` if the graph is missing and ``build`` is false, and whatever
    the build raises (a :class:`~kg.errors.KGError`) if building fails, e.g. when ``dist``
    holds files no build wrote (the build replaces only a previous build).
    """
    from kg.manifest import BuildInputs, is_current, read_manifest

    trig = dist / "twinning.trig"
    inputs = BuildInputs.under(root)
    if build and not (trig.is_file() and is_current(dist, inputs)):
        manifest = None
        try:
            manifest = read_manifest(dist) if trig.is_file() else None
        except KGError:
            manifest = None
        ours = [(role, path.name) for role, path in inputs.files()]
        if manifest is not None and ([(i.role, i.name) for i in manifest.inputs] != ours
                                     or dict(manifest.options) != inputs.options()):
            print(f"kg serve: {dist} is a build of other inputs; serving it as it is "
                  "(kg build rebuilds it)", file=sys.stderr)
            return trig
        # Lazily: serving given files needs none of the build.
        from kg.build import build as build_graph

        print(f"kg serve: building {dist} (missing, or not built from the current inputs)",
              file=sys.stderr)
        build_graph(out=dist, seeds=inputs.seeds, links_path=inputs.links,
                    ontology=inputs.ontology, shapes_dir=inputs.shapes_dir)
    if not trig.is_file():
        raise ServeError("no built graph (run `kg build`, or drop --no-build)", path=trig)
    return trig


def run(args: argparse.Namespace) -> int:
    """Load the data and serve until interrupted; returns the exit code."""
    from kg import paths
    from kg.cli import require_built
    from kg.rdf.odbl import graph_files
    from kg.serve.app import check_public_url, make_server, open_site

    # Numbers and URLs were checked by their option types (kg.cli); the public URL's
    # path and form are checked here, before the (slow) load, not after.
    if args.public_url is not None:
        check_public_url(args.public_url)
    limits = limits_from(args)
    # Ctrl-C stops the server even when the shell started it in the background with SIGINT
    # ignored; SIGTERM (service managers, `kill`) is a clean stop with exit code 0. Both are
    # set before loading, so that a stop during the load still removes what it made.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _stop)
    site = None
    try:
        if args.files:
            # The title comes from the data (its build's VoID), never from a file name.
            site = open_site(args.files, dumps=args.files, store_location=args.store,
                             queries_dir=paths.QUERIES_DIR, limits=limits)
        else:
            dist = args.dist or paths.DIST_DIR
            # The CLI builds; serve serves. A --dist folder is the user's: never rebuilt.
            builds = not args.no_build and args.dist is None
            if args.dist is not None and not (dist / "twinning.trig").is_file():
                raise ServeError(f"no built graph in {dist} (a --dist folder is served as it "
                                 "is, never built: run `kg build --out DIR` first)")
            require_built(dist, "serve", builds=builds)
            ensure_built(dist, root=paths.PROJECT_ROOT, build=builds)
            void = dist / "void.ttl"
            dumps = sorted(p for p in dist.iterdir()
                           if p.is_file() and not p.name.startswith("."))
            # The ODbL coordinates are a dataset of their own, served beside (kg.rdf.odbl).
            site = open_site(graph_files(dist), void=void if void.is_file() else None,
                             dumps=dumps, store_location=args.store,
                             queries_dir=paths.QUERIES_DIR, title="twinning-kg", limits=limits)
        server = make_server(site, host=args.host, port=args.port, public_url=args.public_url,
                             max_connections=limits.max_connections,
                             idle_timeout=limits.idle_timeout)
        host, port = server.server_address[:2]
        print(f"kg serve: {site.engine.triples} triples; page http://{host!s}:{port}/ , "
              f"SPARQL http://{host!s}:{port}/sparql (Ctrl-C stops)", file=sys.stderr,
              flush=True)
        try:
            server.serve_forever()
        finally:
            server.server_close()
    except _Stopped:
        print("kg serve: stopped", file=sys.stderr)
    finally:
        if site is not None:
            site.engine.close()  # kills every worker, removes a temporary store
    return 0


class _Stopped(BaseException):
    """Raised by the SIGTERM handler to leave ``serve_forever``.

    A ``BaseException``, like ``KeyboardInterrupt``: the signal may land while the server's
    loop is inside ``socketserver``'s request handling, whose ``except Exception`` would
    swallow it (the server then went on serving after SIGTERM under heavy connection load).
    """


def _stop(signum: int, frame: object) -> None:
    raise _Stopped
