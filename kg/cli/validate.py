"""Validate a graph with the project's SHACL shapes and print the report.

The text report groups the results by shape, with counts and the first few places of each
(``--full``: every result); ``--format ttl`` prints the report graph. Only violations make
the graph non-conforming; warnings (unresolved places, missing reverse links) are reported
but do not.

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
        help="RDF file to validate (.ttl, .nt, .trig, .jsonld) (default: dist/twinning.ttl)",
    )
    parser.add_argument(
        "--shapes",
        type=Path,
        default=paths.SHAPES_DIR,
        metavar="DIR",
        help="folder of SHACL shapes, every *.ttl (default: the project's shapes/)",
    )
    ontology = parser.add_mutually_exclusive_group()
    ontology.add_argument(
        "--ontology",
        type=Path,
        default=paths.ONTOLOGY,
        metavar="FILE",
        help="ontology mixed into the data before validation (default: the project's "
        "ontology.ttl)",
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
        help="pre-inference; owlrl and both need --engine pyshacl (default: %(default)s)",
    )
    parser.add_argument(
        "--engine",
        choices=("shacl", "pyshacl"),
        default="shacl",
        help="SHACL engine: shacl (Rust) or pyshacl (the reference; owlrl inference) "
        "(default: %(default)s)",
    )
    parser.add_argument("--format", choices=FORMATS, default="text", help="report format")
    parser.add_argument("--full", action="store_true",
                        help="list every result of the text report, not the first few of each "
                        "shape")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Validate, print the report; 0 when the graph conforms, 1 when it does not."""
    from kg.cli import require_built
    from kg.errors import ValidationError
    from kg.fsutil import check_regular_file
    from kg.validate import validate

    if args.graph == paths.DIST_DIR / "twinning.ttl":
        require_built(paths.DIST_DIR, "validate")
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
    elif args.full:
        sys.stdout.write(result.text)
    else:
        from kg.validate import load_shapes
        from kg.validation_summary import summarize

        sys.stdout.write(summarize(result.report_graph, load_shapes(args.shapes),
                                   full_hint=f"kg validate {args.graph} --full"))
    return 0 if result.conforms else 1
