"""``kg load``: push the built graph into a triple store over the Graph Store Protocol."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

__all__ = ["register", "run"]


def register(subparsers: Any) -> None:
    """Add the ``load`` subcommand."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "load",
        help="push the graph into a triple store (SPARQL 1.1 Graph Store Protocol)",
        description=(
            "Send an RDF file (default: dist/twinning.nt) to a Graph Store Protocol endpoint, "
            "then check with a SPARQL COUNT that the store holds the expected triples. "
            "--replace is atomic: the file goes into a staging graph, which then replaces "
            "the target with one SPARQL Update MOVE; on any failure the target is unchanged "
            "(a MOVE too large for Virtuoso's transaction log is made outside it, then "
            "checkpointed; one of more than --max-move-triples into Oxigraph, which holds it "
            "in memory, is refused before anything is sent). "
            "Oxigraph: --endpoint http://HOST:7878/store. Virtuoso: --endpoint "
            "http://HOST:8890/sparql-graph-crud-auth --graph IRI --user dba --password ... "
            "--auth digest."
        ),
    )
    from kg.cli import http_url, input_file, non_negative_int, positive_float, positive_int
    from kg.loadstate import DEFAULT_BATCH_SIZE, DEFAULT_CONNECTIONS, DEFAULT_MAX_MOVE_TRIPLES

    parser.add_argument("file", nargs="?", type=input_file, metavar="FILE",
                        help="RDF file to send (default: dist/twinning.nt)")
    parser.add_argument("--endpoint", required=True, metavar="URL", type=http_url,
                        help="the store's Graph Store Protocol endpoint")
    parser.add_argument("--query-endpoint", metavar="URL", type=http_url,
                        help="the store's SPARQL query endpoint for the triple count "
                        "(guessed for Oxigraph, Virtuoso and Fuseki)")
    parser.add_argument("--update-endpoint", metavar="URL", type=http_url,
                        help="the store's SPARQL Update endpoint for an atomic --replace "
                        "(guessed for Oxigraph, Virtuoso and Fuseki)")
    parser.add_argument("--graph", metavar="IRI",
                        help="target named graph (default: the store's default graph)")
    parser.add_argument("--replace", action="store_true",
                        help="replace the graph atomically (staging graph, then MOVE) "
                        "instead of appending to it (POST)")
    parser.add_argument("--replace-non-atomic", action="store_true",
                        help="replace the graph with a PUT of the first batch, for a store "
                        "without an update endpoint: a failure midway loses the old graph")
    parser.add_argument(
        "--max-move-triples", type=non_negative_int, default=DEFAULT_MAX_MOVE_TRIPLES,
        metavar="N", help="refuse, before sending anything, an atomic --replace of more than "
        "N triples into Oxigraph, which holds the MOVE in memory, about 3.8 KB a triple "
        "(0: no limit; default: %(default)s)")
    parser.add_argument("--user", metavar="U", help="user name for the store")
    parser.add_argument("--password", metavar="P",
                        help="password (or set KG_LOAD_PASSWORD, which keeps it out of ps)")
    parser.add_argument("--auth", choices=("basic", "digest"), default="basic",
                        help="HTTP authentication scheme (Virtuoso: digest; default basic)")
    parser.add_argument("--batch-size", type=positive_int, default=DEFAULT_BATCH_SIZE,
                        metavar="N", help=f"triples per request (default {DEFAULT_BATCH_SIZE})")
    parser.add_argument("--connections", type=positive_int, default=DEFAULT_CONNECTIONS,
                        metavar="N", help="requests under way at once, acknowledged in order "
                        f"(default {DEFAULT_CONNECTIONS})")
    parser.add_argument("--no-check", dest="check", action="store_false",
                        help="skip the triple count after the load")
    parser.add_argument("--timeout", type=positive_float, default=120.0, metavar="SECONDS",
                        help="per-request timeout (default 120)")
    parser.add_argument(
        "--state", type=Path, metavar="FILE",
        help="record each acknowledged batch in FILE; after a failure, the same command "
        "resumes after the last one (the staging graph of --replace is kept meanwhile); "
        "FILE is removed when the load goes through")
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="no progress line (it is shown only on a terminal anyway)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Load the file; print one summary line. Raises :class:`~kg.errors.LoadError`."""
    from kg import load as loader
    from kg.errors import LoadError
    from kg.paths import DIST_DIR

    password = args.password if args.password is not None else os.environ.get("KG_LOAD_PASSWORD")
    auth = None
    if args.user is not None:
        if password is None:
            raise LoadError("--user needs --password (or KG_LOAD_PASSWORD)")
        auth = loader.Auth(args.user, password, args.auth)
    elif args.password is not None:
        raise LoadError("--password needs --user")
    result = loader.load(
        args.endpoint,
        args.file or DIST_DIR / "twinning.nt",
        args.graph,
        replace=args.replace or args.replace_non_atomic,
        atomic=not args.replace_non_atomic,
        auth=auth,
        batch_size=args.batch_size,
        connections=args.connections,
        max_move_triples=args.max_move_triples,
        query_endpoint=args.query_endpoint,
        update_endpoint=args.update_endpoint,
        check=args.check,
        timeout=args.timeout,
        state_path=args.state,
        progress=False if args.quiet else None,
    )
    print(result.summary())
    return 0
