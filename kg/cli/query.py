"""``kg query``: run a named query (``queries/NAME.rq``) or a query file, locally or remotely."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

__all__ = ["register", "run"]


def register(subparsers: Any) -> None:
    """Add the ``query`` subcommand."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "query",
        help="run a named query or a query file on the built graph or any SPARQL endpoint",
        description=(
            "Run a named query from queries/ (see --list) or a .rq file. Without --endpoint "
            "the query runs on the built graph dist/twinning.trig (with "
            "dist/twinning-geo-odbl.trig, the ODbL coordinates) in an embedded store. "
            "Parameters are bound as RDF terms, never pasted into the query text."
        ),
    )
    from kg.cli import http_url, positive_float

    parser.add_argument("query", nargs="?", metavar="NAME|FILE",
                        help="named query or a .rq file")
    parser.add_argument("--param", "-p", action="append", default=[], metavar="K=V",
                        help="bind parameter K to V (repeatable)")
    parser.add_argument("--endpoint", metavar="URL", type=http_url,
                        help="SPARQL endpoint to query instead of the built graph")
    parser.add_argument("--data", type=Path, metavar="FILE",
                        help="RDF file to query locally (default: dist/twinning.trig and "
                        "dist/twinning-geo-odbl.trig)")
    parser.add_argument("--format", "-f", default="table",
                        choices=("table", "json", "csv", "tsv", "xml", "ttl"),
                        help="output format (default: table)")
    parser.add_argument("--list", action="store_true",
                        help="list the named queries and their parameters")
    parser.add_argument("--show", action="store_true",
                        help="print the query with its parameters bound instead of running it")
    parser.add_argument("--timeout", type=positive_float, default=60.0, metavar="SECONDS",
                        help="timeout for --endpoint (default: 60)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run or list; prints the answer. Raises :class:`~kg.errors.QueryError`."""
    from kg import query as q
    from kg.errors import QueryError
    from kg.paths import DIST_DIR
    from kg.rdf.odbl import graph_files

    if args.list:
        for named in q.list_named():
            print(f"{named.name}: {named.title}")
            for param in named.params:
                extra = " required" if param.required else (
                    f" = {param.default}" if param.default is not None else "")
                print(f"    --param {param.name}=({'|'.join(param.types)}){extra}"
                      f"{'  ' + param.description if param.description else ''}")
        return 0
    if not args.query:
        raise QueryError("give a query NAME or FILE, or --list")
    params: dict[str, str] = {}
    for item in args.param:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise QueryError(f"--param wants KEY=VALUE, not {item!r}")
        if key in params:
            raise QueryError(f"--param {key} given twice")
        params[key] = value
    named = q.resolve(args.query)
    text = q.bind(named, params)
    if args.show:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return 0
    if args.endpoint:
        answer = q.run_remote(text, args.endpoint, args.format, timeout=args.timeout)
    else:
        if args.data is None:
            from kg.cli import require_built

            require_built(DIST_DIR, "query")
        # The built graph is twinning.trig with the ODbL coordinates beside it (kg.rdf.odbl).
        answer = q.run_local(text, [args.data] if args.data else graph_files(DIST_DIR),
                             args.format)
    # Every format ends with a newline (RDF/XML and SPARQL XML come without one).
    sys.stdout.write(answer if not answer or answer.endswith("\n") else answer + "\n")
    return 0
