"""``kg bench``: the named queries against Oxigraph (in memory, the reference, and on
disk), kg serve with and without its cache, and rdflib-endpoint."""

from __future__ import annotations

import argparse
import signal
import sys
from typing import Any

__all__ = ["ENDPOINTS", "register", "run"]

#: The endpoints ``kg bench`` knows how to start (``--endpoints``), Oxigraph first.
# The same names as kg.bench.ENDPOINTS (not imported: registering the CLI stays light).
ENDPOINTS = ("oxigraph-memory", "oxigraph", "kg-serve", "kg-serve-nocache", "rdflib-endpoint")


def register(subparsers: Any) -> None:
    """Add the ``bench`` subcommand."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "bench",
        help="benchmark the named queries on kg serve, Oxigraph and rdflib-endpoint",
        description=(
            "Start kg serve, oxigraph serve-read-only and rdflib-endpoint on free loopback "
            "ports over the same Turtle file, send the named queries with a few concurrent "
            "clients, and print throughput and latency percentiles with ratios to Oxigraph."
        ),
    )
    from kg.cli import comma_list, input_file, int_range, positive_float

    parser.add_argument("data", nargs="?", type=input_file, metavar="FILE",
                        help="Turtle file to serve (default: dist/twinning.ttl)")
    parser.add_argument("--requests", type=int_range(1, 10_000), default=20, metavar="N",
                        help="timed requests per query and endpoint (default 20)")
    parser.add_argument("--clients", type=int_range(1, 32), default=4, metavar="N",
                        help="concurrent clients (default 4)")
    parser.add_argument("--time-limit", type=positive_float, default=60.0, metavar="SECONDS",
                        help="stop an endpoint's run after this long (default 60)")
    parser.add_argument(
        "--endpoints",
        default="oxigraph-memory,oxigraph,kg-serve,kg-serve-nocache,rdflib-endpoint",
        type=comma_list(ENDPOINTS), metavar="LIST",
        help="comma-separated subset, the reference first (default: Oxigraph in memory, "
             "Oxigraph on disk, kg serve with and without its cache, rdflib-endpoint)",
    )
    parser.add_argument("--rounds", type=int_range(1, 100), default=3, metavar="N",
                        help="rounds, endpoints taking turns; medians reported (default 3)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the benchmark and print a Markdown report. Raises :class:`~kg.bench.BenchError`."""
    from kg.bench import format_report, run_bench
    from kg.paths import DIST_DIR

    endpoints = tuple(e.strip() for e in args.endpoints.split(",") if e.strip())
    # SIGTERM ends the run as Ctrl-C does, through the finally blocks that stop the servers
    # it started (by default Python died at once and left them running).
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    results = run_bench(
        args.data or DIST_DIR / "twinning.ttl",
        requests_per_query=args.requests,
        clients=args.clients,
        time_limit=args.time_limit,
        endpoints=endpoints,
        rounds=args.rounds,
    )
    sys.stdout.write(format_report(results))
    return 0
