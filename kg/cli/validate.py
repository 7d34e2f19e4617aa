"""``kg validate [GRAPH] [--shapes DIR] [--ontology FILE | --no-ontology] [--format text|ttl]``.

Validates GRAPH (default ``dist/twinning.ttl``) with the SHACL shapes in DIR (default the
project's ``shapes/``) and prints the report on stdout: readable text, or the report graph
as Turtle with ``--format ttl``. Only violations make the graph non-conforming; warnings
(unresolved places, missing reverse links) are reported but do not.

Engines: ``shacl`` (Rust, the default) or ``--engine pyshacl`` (pySHACL, the reference).
Exit codes, as pySHACL's: 0 the graph conforms, 1 it does not, 2 an error (unreadable
graph or shapes, shapes the engine cannot evaluate).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from kg import paths

__all__ = ["register", "run"]

FORMATS = ("text", "ttl")


def register(subparsers: Any) -> None:
    """Add the ``validate`` subcommand."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "validate",
        help="validate a graph with the project's SHACL shapes",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "graph",
        nargs="?",
        type=Path,
        default=paths.DIST_DIR / "twinning.ttl",
        metavar="GRAPH",
        help="RDF file to validate (.ttl, .nt, .trig, .jsonld; default: %(default)s)",
    )
    parser.add_argument(
        "--shapes",
        type=Path,
        default=paths.SHAPES_DIR,
        metavar="DIR",
        help="folder of SHACL shapes, every *.ttl (default: %(default)s)",
    )
    ontology = parser.add_mutually_exclusive_group()
    ontology.add_argument(
        "--ontology",
        type=Path,
        default=paths.ONTOLOGY,
        metavar="FILE",
        help="ontology mixed into the data before validation (default: %(default)s)",
    )
    ontology.add_argument(
        "--no-ontology",
        dest="ontology",
        action="store_const",
        const=None,
        help="validate the graph alone",
    )
    parser.add_argument(
        "--inference",
        choices=("none", "rdfs", "owlrl", "both"),
        default="none",
        help="pre-inference (default: %(default)s; owlrl and both need --engine pyshacl)",
    )
    parser.add_argument(
        "--engine",
        choices=("shacl", "pyshacl"),
        default="shacl",
        help="SHACL engine: shacl (Rust, default) or pyshacl (the reference; owlrl inference)",
    )
    parser.add_argument("--format", choices=FORMATS, default="text", help="report format")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Validate, print the report; 0 when the graph conforms, 1 when it does not."""
    from kg.errors import ValidationError
    from kg.fsutil import check_regular_file
    from kg.validate import validate

    # A FIFO or device named as the graph would block or never end: refused before reading.
    check_regular_file(args.graph, ValidationError, "graph", missing="graph not found")
    if args.ontology is not None:
        check_regular_file(args.ontology, ValidationError, "ontology")
    # A progress line on stderr when it is a terminal; cleared before the report.
    tty = sys.stderr.isatty()
    if tty:
        sys.stderr.write(f"kg validate: validating {args.graph} ({args.engine})…")
        sys.stderr.flush()
    try:
        result = validate(
            args.graph, shapes_dir=args.shapes, ontology=args.ontology,
            inference=args.inference, engine=args.engine,
        )
    finally:
        if tty:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()
    if args.format == "ttl":
        sys.stdout.write(result.report_graph.serialize(format="turtle"))
    else:
        sys.stdout.write(result.text)
    return 0 if result.conforms else 1
