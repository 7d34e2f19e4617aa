"""``kg build``: parse, read the links table, emit, validate, write ``dist/`` atomically."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

__all__ = ["SHOWN", "register", "run"]

#: How many entries of a long list (place references missing from the links table) the
#: terminal shows; the build folder has the whole list.
SHOWN = 5


def register(subparsers: Any) -> None:
    """Add the ``build`` subcommand."""
    from kg import paths  # light: paths only
    from kg.cli import add_max_input_size, add_names_lang, comma_list, http_url

    parser: argparse.ArgumentParser = subparsers.add_parser(
        "build",
        help="build the graph into dist/ (Turtle, N-Triples, JSON-LD, TriG, VoID, report)",
        description=(
            "Parse the seed documents, read the links table, emit the graph, validate it with "
            "the SHACL shapes and write the output folder atomically, with a manifest.json "
            "of its files and inputs. The output folder must be missing, empty or a previous "
            "build holding only the files its manifest lists; anything else is refused. "
            "Exit 1 on SHACL violations (the previous output is kept); warnings are reported."
        ),
    )
    parser.add_argument("--out", type=Path, default=paths.DIST_DIR, metavar="DIR",
                        help="output folder: missing, empty, or a previous build (default: dist/)")
    parser.add_argument(
        "--formats",
        default="ttl,nt,jsonld,trig",
        type=comma_list(("ttl", "nt", "jsonld", "trig")),
        help="comma-separated formats among ttl,nt,jsonld,trig (default: all)",
    )
    parser.add_argument(
        "--base", default=None,
        help="base IRI of the data, ending with / or # (default: https://w3id.org/twinning-kg/)",
    )
    parser.add_argument("--links", type=Path, default=paths.LINKS_TSV, metavar="TSV",
                        help="links table (default: the shipped seeds/wikidata-links.tsv, "
                        "which also resolves what it knows of your own lists)")
    parser.add_argument(
        "--seeds", type=Path, nargs="+", default=list(paths.SEED_DOCUMENTS),
        metavar="PATH",
        help="source documents, any number, of any known kind: lhc, zhwiki, csv (a twinning "
        "list), or an installed plug-in's (default: both seeds)",
    )
    parser.add_argument(
        "--sparql-endpoint", default=None, type=http_url, metavar="URL",
        help="SPARQL endpoint announced in void.ttl (default: http://127.0.0.1:8000/sparql)",
    )
    parser.add_argument("--odbl-coordinates", type=Path, default=paths.ODBL_COORDINATES_TSV,
                        metavar="TSV",
                        help="ODbL coordinates table, built into twinning-geo-odbl.* apart from "
                        "the CC BY-SA files (default seeds/geo-odbl.tsv)")
    parser.add_argument("--no-odbl", action="store_true",
                        help="build without the ODbL coordinates (no twinning-geo-odbl.*)")
    parser.add_argument("-q", "--quiet", action="store_true", help="print only errors")
    add_max_input_size(parser)
    add_names_lang(parser)
    parser.set_defaults(func=run)


def _how_to_do_better(args: argparse.Namespace) -> str:
    """The commands that give the open places of the documents built a QID."""
    from kg import paths

    seeds = {p.resolve() for p in paths.SEED_DOCUMENTS}
    lists = [str(p) for p in args.seeds if Path(p).resolve() not in seeds]
    if args.links != paths.LINKS_TSV or not lists:
        return "run `kg reconcile`"
    return (f"run `kg reconcile {' '.join(lists)} --out my-links.tsv` with the gazetteer or "
            "--online, then build with --links my-links.tsv")


def run(args: argparse.Namespace) -> int:
    """Run the build; 0 on success, 1 on SHACL violations (KGError -> 2 via kg.cli)."""
    from kg import interrupt
    from kg.build import BuildViolations, build
    from kg.rdf.vocab import DEFAULT_BASE, DEFAULT_SPARQL_ENDPOINT

    formats = [f.strip() for f in args.formats.split(",") if f.strip()]
    try:
        result = build(
            out=args.out,
            formats=formats,
            base=args.base or DEFAULT_BASE,
            links_path=args.links,
            seeds=args.seeds,
            sparql_endpoint=args.sparql_endpoint or DEFAULT_SPARQL_ENDPOINT,
            on_commit=interrupt.hold,  # once the new folder goes in, the build is done
            odbl_coordinates=None if args.no_odbl else args.odbl_coordinates,
            progress=False if args.quiet else None,
        )
    except BuildViolations as exc:
        print(exc.report_text, file=sys.stderr)
        print(f"kg build: {exc}", file=sys.stderr)
        return 1
    if not args.quiet:
        print(
            f"kg build: {result.triples} triples, {result.twinnings} twinnings, "
            f"{result.memberships} memberships, {result.places} places "
            f"({result.resolved_places} resolved); 0 violations, {result.warnings} warnings "
            f"(see {result.out / 'validation-report.txt'}); {result.seconds:.1f}s"
        )
        for name, size in result.files.items():
            print(f"  {result.out / name}  {size} bytes")
    for note in result.notes:
        print(f"kg build: warning: {note}", file=sys.stderr)  # even with --quiet
    if result.shipped_links:
        print(f"kg build: {result.shipped_links} place(s) of your lists resolved from the "
              f"shipped links table ({args.links.name}, exact matches only)", file=sys.stderr)
    if result.missing_links:
        # Said even with --quiet: these places are unresolved only because the table
        # lacks them (a deleted row, a table older than the documents). The first few here,
        # every one in the file (a synthetic or foreign list can miss thousands).
        count = len(result.missing_links)
        print(f"kg build: {count} place(s) have no row in {args.links} and stay unresolved "
              f"({_how_to_do_better(args)}):", file=sys.stderr)
        for doc, role, key, country in result.missing_links[:SHOWN]:
            print(f"  {doc} {role} {key}" + (f" ({country})" if country else ""),
                  file=sys.stderr)
        if count > SHOWN:
            print(f"  … and {count - SHOWN} more: all {count} in {result.missing_links_file}",
                  file=sys.stderr)
    return 0
