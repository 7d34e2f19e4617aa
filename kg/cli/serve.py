"""``kg serve [FILE...]``: the SPARQL endpoint and web page.

Without FILE it serves the built graph (``dist/twinning.trig``, building it first when
``dist/`` is missing or stale); with FILEs it serves those.
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path
from typing import Any

__all__ = ["register", "run"]


def register(subparsers: Any) -> None:
    """Add the ``serve`` subcommand."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "serve",
        help="serve the graph (or given RDF files) over SPARQL 1.1 with a web page",
        description="Serve the built graph, or the given RDF files (Turtle, N-Triples, "
        "N-Quads, TriG, JSON-LD, RDF/XML), as a read-only SPARQL 1.1 endpoint at /sparql "
        "with a web page at /.",
    )
    from kg.cli import http_url, input_file, non_negative_int, port, positive_float, positive_int

    parser.add_argument("files", nargs="*", type=input_file, metavar="FILE",
                        help="RDF files to serve (default: the built graph in dist/)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on "
                        "(default 127.0.0.1)")
    parser.add_argument("--port", type=port, default=8000, help="port (default 8000; 0: any)")
    parser.add_argument("--store", type=Path, metavar="DIR",
                        help="keep the store in DIR: a missing or empty folder, or one an "
                        "earlier kg serve made (reused as it is for the same data, so a "
                        "restart skips the load); any other folder is refused, untouched "
                        "(default: a temporary folder removed at exit)")
    parser.add_argument("--timeout", type=positive_float, default=30.0, metavar="SECONDS",
                        help="query timeout; past it the answer is 503 (default 30)")
    parser.add_argument("--max-rows", type=positive_int, default=100_000, metavar="N",
                        help="cap on result rows/triples, stated in the response when "
                        "applied (default 100000)")
    parser.add_argument("--max-body", type=positive_int, default=1024 * 1024, metavar="BYTES",
                        help="largest request body; larger gets 413 (default 1 MiB)")
    parser.add_argument("--public-url", metavar="URL", type=http_url,
                        help="the address clients reach the server at, named in its VoID and "
                        "service description (default http://HOST:PORT as it listens)")
    parser.add_argument("--max-connections", type=positive_int, default=256, metavar="N",
                        help="connections served at once; more get 503 and are closed "
                        "(default 256)")
    parser.add_argument("--idle-timeout", type=positive_float, default=20.0, metavar="SECONDS",
                        help="a connection idle this long between requests, or this slow "
                        "to send one request, is closed (default 20)")
    parser.add_argument("--allow-service", action="append", default=[], metavar="URL",
                        type=http_url,
                        help="allow federated SERVICE calls to this endpoint (repeatable; "
                        "none by default)")
    parser.add_argument("--cache", type=non_negative_int, default=64, metavar="MIB",
                        help="answers kept in memory for repeated queries (default 64 MiB; "
                        "0: none)")
    parser.add_argument("--workers", type=positive_int, default=2, metavar="N",
                        help="query worker processes (default 2)")
    parser.add_argument("--express-workers", type=non_negative_int, default=1, metavar="N",
                        help="reserved workers that take a query when every other is busy "
                        "(default 1; 0: none)")
    parser.add_argument("--express-timeout", type=positive_float, default=0.5, metavar="SECONDS",
                        help="time a query gets on a reserved worker; past it the answer is "
                        "503 (default 0.5)")
    parser.add_argument("--queue", type=non_negative_int, default=16, metavar="N",
                        help="requests that may wait for a worker; more get 503 at once "
                        "(default 16)")
    parser.add_argument("--max-query-length", type=positive_int, default=100_000, metavar="CHARS",
                        help="longest query text; longer gets 400 (default 100000)")
    parser.add_argument("--max-depth", type=positive_int, default=100, metavar="N",
                        help="deepest nesting of { ( [ in a query; deeper gets 400 "
                        "(default 100)")
    parser.add_argument("--worker-memory", type=non_negative_int, default=2048, metavar="MIB",
                        help="address space each query worker may use; a query needing more "
                        "gets 500 and its worker is replaced (default 2048; 0: no cap)")
    parser.add_argument("--dist", type=Path, default=None, metavar="DIR",
                        help="the built graph's folder (default dist/)")
    parser.add_argument("--no-build", action="store_true",
                        help="never build dist/, even if missing or stale")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Load the data and serve until interrupted; returns the exit code."""
    from kg import paths
    from kg.serve.app import check_public_url, ensure_built, make_server, open_site

    # Numbers and URLs were checked by their option types (kg.cli); the public URL's
    # path and form are checked here, before the (slow) load, not after.
    if args.public_url is not None:
        check_public_url(args.public_url)
    options: dict[str, Any] = {
        "store_location": args.store, "timeout": args.timeout, "max_rows": args.max_rows,
        "allowed_services": args.allow_service, "max_body": args.max_body,
        "queries_dir": paths.QUERIES_DIR, "cache_bytes": args.cache * 1024 * 1024,
        "workers": args.workers, "express_workers": args.express_workers,
        "express_timeout": args.express_timeout, "queue": args.queue,
        "max_query_length": args.max_query_length, "max_depth": args.max_depth,
        "worker_memory": args.worker_memory * 1024 * 1024,
    }
    # Ctrl-C stops the server even when the shell started it in the background with SIGINT
    # ignored; SIGTERM (service managers, `kill`) is a clean stop with exit code 0. Both are
    # set before loading, so that a stop during the load still removes what it made.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _stop)
    site = None
    try:
        if args.files:
            # The title comes from the data (its build's VoID), never from a file name.
            site = open_site(args.files, dumps=args.files, **options)
        else:
            dist = args.dist or paths.DIST_DIR
            trig = ensure_built(dist, root=paths.PROJECT_ROOT, build=not args.no_build)
            void = dist / "void.ttl"
            dumps = sorted(p for p in dist.iterdir()
                           if p.is_file() and not p.name.startswith("."))
            site = open_site([trig], void=void if void.is_file() else None, dumps=dumps,
                             title="twinning-kg", **options)
        server = make_server(site, host=args.host, port=args.port, public_url=args.public_url,
                             max_connections=args.max_connections,
                             idle_timeout=args.idle_timeout)
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
