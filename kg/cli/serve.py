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
    parser.add_argument("files", nargs="*", type=Path, metavar="FILE",
                        help="RDF files to serve (default: the built graph in dist/)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on "
                        "(default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000; 0: any)")
    parser.add_argument("--store", type=Path, metavar="DIR",
                        help="keep the store on disk in DIR (reloaded at start) instead of "
                        "in memory")
    parser.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS",
                        help="query timeout; past it the answer is 503 (default 30)")
    parser.add_argument("--max-rows", type=int, default=100_000, metavar="N",
                        help="cap on result rows/triples, stated in the response when "
                        "applied (default 100000)")
    parser.add_argument("--max-body", type=int, default=1024 * 1024, metavar="BYTES",
                        help="largest request body; larger gets 413 (default 1 MiB)")
    parser.add_argument("--public-url", metavar="URL",
                        help="the address clients reach the server at, named in its VoID and "
                        "service description (default http://HOST:PORT as it listens)")
    parser.add_argument("--max-connections", type=int, default=256, metavar="N",
                        help="connections served at once; more get 503 and are closed "
                        "(default 256)")
    parser.add_argument("--idle-timeout", type=float, default=20.0, metavar="SECONDS",
                        help="a connection idle this long between requests, or this slow "
                        "to send one request, is closed (default 20)")
    parser.add_argument("--allow-service", action="append", default=[], metavar="URL",
                        help="allow federated SERVICE calls to this endpoint (repeatable; "
                        "none by default)")
    parser.add_argument("--cache", type=int, default=64, metavar="MIB",
                        help="answers kept in memory for repeated queries (default 64 MiB; "
                        "0: none)")
    parser.add_argument("--dist", type=Path, default=None, metavar="DIR",
                        help="the built graph's folder (default dist/)")
    parser.add_argument("--no-build", action="store_true",
                        help="never build dist/, even if missing or stale")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Load the data and serve until interrupted; returns the exit code."""
    from kg import paths
    from kg.errors import ServeError
    from kg.serve.app import check_public_url, ensure_built, make_server, open_site

    if args.timeout <= 0 or args.max_rows <= 0 or args.max_body <= 0:
        raise ServeError("--timeout, --max-rows and --max-body must be positive")
    if args.max_connections < 1 or args.idle_timeout <= 0:
        raise ServeError("--max-connections and --idle-timeout must be positive")
    if args.public_url is not None:
        check_public_url(args.public_url)  # before the (slow) load, not after
    if args.cache < 0:
        raise ServeError("--cache must be 0 or more (MiB)")
    options: dict[str, Any] = {
        "store_location": args.store, "timeout": args.timeout, "max_rows": args.max_rows,
        "allowed_services": args.allow_service, "max_body": args.max_body,
        "queries_dir": paths.QUERIES_DIR, "cache_bytes": args.cache * 1024 * 1024,
    }
    if args.files:
        site = open_site(args.files, dumps=args.files,
                         title=", ".join(p.name for p in args.files), **options)
    else:
        dist = args.dist or paths.DIST_DIR
        trig = ensure_built(dist, root=paths.PROJECT_ROOT, build=not args.no_build)
        void = dist / "void.ttl"
        dumps = sorted(p for p in dist.iterdir() if p.is_file() and not p.name.startswith("."))
        site = open_site([trig], void=void if void.is_file() else None, dumps=dumps,
                         title="twinning-kg", **options)
    server = make_server(site, host=args.host, port=args.port, public_url=args.public_url,
                         max_connections=args.max_connections,
                         idle_timeout=args.idle_timeout)
    host, port = server.server_address[:2]
    print(f"kg serve: {len(site.engine.store)} quads; page http://{host!s}:{port}/ , "
          f"SPARQL http://{host!s}:{port}/sparql (Ctrl-C stops)", file=sys.stderr, flush=True)
    # Ctrl-C stops the server even when the shell started it in the background with SIGINT
    # ignored; SIGTERM (service managers, `kill`) is a clean stop with exit code 0.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _stop)
    try:
        server.serve_forever()
    except _Stopped:
        print("kg serve: stopped", file=sys.stderr)
    finally:
        server.server_close()
        site.engine.close()
    return 0


class _Stopped(Exception):
    """Raised by the SIGTERM handler to leave ``serve_forever``."""


def _stop(signum: int, frame: object) -> None:
    raise _Stopped
