"""``kg reconcile [--gazetteer DIR] [--out TSV] [--overrides TSV] [--report] [--online ...]``.

Parses the seed documents, maps every place reference to a Wikidata QID from the offline
gazetteer (and, with ``--online``, the live Wikidata API for what the gazetteer leaves
open), applies ``seeds/overrides.tsv`` and writes the links table atomically.
``--report`` prints coverage and the unresolved/ambiguous places on stdout. Every resolved
place gets coordinates from a gazetteer record of its own QID (:mod:`kg.reconcile.coordinates`;
online, Wikidata's P625 where the gazetteer has none); ``--coordinates-only`` refills just
those columns of an existing table. ``--odbl-coordinates-only`` (re)writes the ODbL
coordinates table (``seeds/geo-odbl.tsv``, :mod:`kg.reconcile.odbl_coordinates`) for the
table ``--out`` names: dr5hn coordinates for the resolved places it gives none, kept apart
because they are ODbL.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kg.reconcile.gazetteer import Gazetteer
    from kg.reconcile.online import OnlineResolver

__all__ = ["register", "run"]


def register(subparsers: Any) -> None:
    """Add the ``reconcile`` subcommand."""
    from kg import paths
    from kg.cli import add_max_input_size, http_url

    parser: argparse.ArgumentParser = subparsers.add_parser(
        "reconcile",
        help="map every place to a Wikidata QID (writes seeds/wikidata-links.tsv)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("documents", nargs="*", type=Path, metavar="PATH",
                        help="source documents (default: the two seed documents)")
    parser.add_argument("--gazetteer", type=Path,
                        default=Path(os.environ.get("KG_GAZETTEER", paths.GAZETTEER_DIR)),
                        help="gazetteer folder (env KG_GAZETTEER)")
    parser.add_argument("--out", type=Path, default=paths.LINKS_TSV, help="links table to write")
    parser.add_argument("--overrides", type=Path, default=None,
                        help="human decisions (doc role key country qid evidence reason); "
                        f"default {paths.OVERRIDES_TSV.name} in seeds/, none if it is missing")
    parser.add_argument("--cache-dir", type=Path, default=None,
                        help="cache folder (gazetteer index, Wikidata answers)")
    parser.add_argument("--no-cache", action="store_true", help="rebuild the gazetteer index")
    add_max_input_size(parser)
    parser.add_argument("--report", action="store_true", help="print coverage and open places")
    parser.add_argument("--coordinates-only", action="store_true",
                        help="only (re)fill lat, lon, coord_evidence of the table --out names "
                        "from the gazetteer (and P625 with --online); no other column changes")
    parser.add_argument("--odbl-coordinates-only", action="store_true",
                        help="only (re)write the ODbL coordinates table (--odbl-out) from the "
                        "dr5hn records for the places the table --out names leaves without "
                        "coordinates; the links table is not changed")
    parser.add_argument("--odbl-out", type=Path, default=None, metavar="TSV",
                        help="ODbL coordinates table to write (default seeds/geo-odbl.tsv)")
    parser.add_argument("--online", action="store_true",
                        help="ask the live Wikidata API about what the gazetteer leaves open")
    parser.add_argument("--api-url", default="https://www.wikidata.org/w/api.php", type=http_url,
                        metavar="URL",
                        help="MediaWiki Action API of the Wikibase to ask (--online), e.g. a "
                        "mirror")
    parser.add_argument("--sparql-url", default="https://query.wikidata.org/sparql", type=http_url,
                        metavar="URL",
                        help="SPARQL query service of that Wikibase (--online: P190 "
                        "statements)")
    parser.add_argument("--user-agent", default=os.environ.get("KG_USER_AGENT"),
                        help="User-Agent for Wikidata, with your contact as Wikimedia's policy "
                        "asks (env KG_USER_AGENT; default names the project)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run reconciliation; 0 on success, a :class:`~kg.errors.KGError` otherwise."""
    from kg import paths
    from kg.errors import LinksError
    from kg.fsutil import check_regular_file
    from kg.reconcile import reconcile, report
    from kg.reconcile.coordinates import add_coordinates, load_coordinates
    from kg.reconcile.gazetteer import load_gazetteer
    from kg.reconcile.links import read_links, write_links
    from kg.reconcile.overrides import read_overrides
    from kg.sources import parse_path

    if args.odbl_coordinates_only:
        return _odbl_only(args)
    if args.coordinates_only:
        table = read_links(args.out)  # read before the gazetteer: a missing table fails fast
        coords = load_coordinates(args.gazetteer)
        online = _online(args, None).coordinates if args.online else None
        rows = add_coordinates(table, coords, online)
        write_links(rows, args.out)
        placed = sum(bool(row.lat) for row in rows)
        print(f"kg reconcile: {args.out}: coordinates for {placed} of "
              f"{sum(bool(row.qid) for row in rows)} resolved place references", file=sys.stderr)
        return 0
    documents = args.documents or list(paths.SEED_DOCUMENTS)
    # Every small input first, so that a bad one fails before the gazetteer is loaded.
    results = [parse_path(path) for path in documents]
    if args.overrides is not None:
        # Named on the command line: it must exist (only the default may be absent).
        check_regular_file(args.overrides, LinksError, "overrides")
    overrides_path = args.overrides or paths.OVERRIDES_TSV
    overrides = read_overrides(overrides_path)
    gazetteer = load_gazetteer(args.gazetteer, cache_dir=args.cache_dir,
                               use_cache=not args.no_cache)
    client = None
    if args.online:
        client = _online(args, gazetteer)
    rows = reconcile(results, gazetteer, overrides, client, overrides_path=overrides_path)
    rows = add_coordinates(rows, load_coordinates(args.gazetteer),
                           client.coordinates if client is not None else None)
    write_links(rows, args.out)
    resolved = sum(row.status == "resolved" for row in rows)
    print(f"kg reconcile: {args.out}: {len(rows)} place references, {resolved} resolved",
          file=sys.stderr)
    if args.report:
        sys.stdout.write(report(rows))
    return 0


def _odbl_only(args: argparse.Namespace) -> int:
    from kg.reconcile.links import read_links
    from kg.reconcile.odbl_coordinates import (
        ODBL_TSV,
        load_odbl_records,
        odbl_coordinates,
        write_odbl_table,
    )

    table = read_links(args.out)  # read before the gazetteer: a missing table fails fast
    rows = odbl_coordinates(table, load_odbl_records(args.gazetteer))
    out = args.odbl_out or ODBL_TSV
    write_odbl_table(rows, out)
    print(f"kg reconcile: {out}: ODbL coordinates for {len(rows)} of "
          f"{len({row.qid for row in table if row.qid})} resolved places", file=sys.stderr)
    return 0


def _online(args: argparse.Namespace, gazetteer: Gazetteer | None) -> OnlineResolver:
    from kg.reconcile.online import OnlineResolver

    return OnlineResolver.from_options(api_url=args.api_url, sparql_url=args.sparql_url,
                                       cache_dir=args.cache_dir, gazetteer=gazetteer,
                                       user_agent=args.user_agent)
