"""Map every place of the documents to a Wikidata QID and write the links table.

The places of your own lists are first matched against what ships (the committed links
table and overrides: exact, unambiguous matches, their evidence carried over), then against
the offline gazetteer when there is one, then, with ``--online``, the live Wikidata API.
The seed documents need the gazetteer. Overrides (``seeds/overrides.tsv``) win; the table
is written atomically.
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
    from kg.model import LinkRow
    from kg.reconcile.gazetteer import Gazetteer
    from kg.reconcile.online import OnlineResolver

__all__ = ["REPORT_LIMIT", "register", "run"]

#: How many open places of each kind ``--report`` prints before "and N more".
REPORT_LIMIT = 10


def register(subparsers: Any) -> None:
    """Add the ``reconcile`` subcommand."""
    from kg import paths
    from kg.cli import add_max_input_size, add_names_lang, http_url

    parser: argparse.ArgumentParser = subparsers.add_parser(
        "reconcile",
        help="map every place to a Wikidata QID, into a links table",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("documents", nargs="*", type=Path, metavar="PATH",
                        help="source documents (default: the two seed documents)")
    parser.add_argument("--gazetteer", type=Path, default=None, metavar="DIR",
                        help="gazetteer folder (default: KG_GAZETTEER, else gazetteer/ of the "
                        "shared data folder, ../shared beside a checkout or KG_SHARED)")
    parser.add_argument("--out", type=Path, default=None, metavar="TSV",
                        help="links table to write; required for a list of your own (default: "
                        "seeds/wikidata-links.tsv, the seeds' table)")
    parser.add_argument("--overrides", type=Path, default=None,
                        metavar="TSV",
                        help="human decisions (doc role key country qid evidence reason) "
                        f"(default: seeds/{paths.OVERRIDES_TSV.name}, none if it is missing)")
    parser.add_argument("--cache-dir", type=Path, default=None, metavar="DIR",
                        help="cache folder for the gazetteer index and Wikidata answers "
                        "(default: $XDG_CACHE_HOME/twinning-kg or ~/.cache/twinning-kg)")
    parser.add_argument("--no-cache", action="store_true", help="rebuild the gazetteer index")
    add_max_input_size(parser)
    add_names_lang(parser)
    parser.add_argument("--report", action="store_true",
                        help="print coverage and the first open places; the whole list goes "
                        "to a file beside --out")
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
                        help="ask the live Wikidata API about what the shipped table and the "
                        "gazetteer leave open (needs no gazetteer)")
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
                        "asks (default: KG_USER_AGENT, else one naming the project)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run reconciliation; 0 on success, a :class:`~kg.errors.KGError` otherwise."""
    from kg import interrupt, paths
    from kg.errors import GazetteerError, LinksError
    from kg.fsutil import check_regular_file
    from kg.reconcile import reconcile
    from kg.reconcile.coordinates import add_coordinates, load_coordinates
    from kg.reconcile.gazetteer import WHERE_FROM, load_gazetteer
    from kg.reconcile.links import read_links, write_links
    from kg.reconcile.overrides import read_overrides
    from kg.reconcile.shipped import ShippedLinks
    from kg.sources import parse_path

    gaz_dir: Path = args.gazetteer or Path(os.environ.get("KG_GAZETTEER", paths.GAZETTEER_DIR))
    own = [p for p in args.documents if Path(p).resolve() not in
           {s.resolve() for s in paths.SEED_DOCUMENTS}]
    if args.out is None and own and not (args.coordinates_only or args.odbl_coordinates_only):
        # The default is the seeds' table: written with your list's rows alone, the seeds
        # would build unresolved.
        raise LinksError(f"name the links table to write for {own[0]} with --out "
                         "(e.g. --out my-links.tsv); the default, seeds/wikidata-links.tsv, "
                         "is the seeds' own table")
    args.out = args.out or paths.LINKS_TSV
    if args.odbl_coordinates_only:
        return _odbl_only(args, gaz_dir)
    if args.coordinates_only:
        table = read_links(args.out)  # read before the gazetteer: a missing table fails fast
        if not gaz_dir.is_dir():
            raise GazetteerError(f"gazetteer folder not found ({WHERE_FROM})", path=gaz_dir)
        coords = load_coordinates(gaz_dir)
        online = _online(args, None).coordinates if args.online else None
        rows = add_coordinates(table, coords, online)
        interrupt.hold()
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
    shipped = (ShippedLinks.load(paths.LINKS_TSV, paths.OVERRIDES_TSV, paths.SEED_DOCUMENTS)
               if paths.LINKS_TSV.is_file() else None)
    # The seeds' places are the shipped table's own rows: deciding them again needs the
    # gazetteer. A user's list goes without one (the shipped table, then --online).
    seeds_given = shipped is None or any(shipped.covers(r.doc) for r in results)
    gazetteer = None
    if seeds_given or args.gazetteer is not None or gaz_dir.is_dir():
        gazetteer = load_gazetteer(gaz_dir, cache_dir=args.cache_dir,
                                   use_cache=not args.no_cache)
    client = _online(args, gazetteer) if args.online else None
    rows = reconcile(results, gazetteer, overrides, client, overrides_path=overrides_path,
                     shipped=shipped)
    online_coords = client.coordinates if client is not None else None
    if gazetteer is not None:
        rows = add_coordinates(rows, load_coordinates(gaz_dir), online_coords)
    elif online_coords is not None:
        # No gazetteer: rows from the shipped table keep its coordinates; P625 for others.
        have = [r for r in rows if r.lat]
        rows = have + add_coordinates([r for r in rows if not r.lat], {}, online_coords)
    interrupt.hold()  # the table is about to be replaced: a Ctrl-C now does not undo that
    write_links(rows, args.out)
    resolved = sum(row.status == "resolved" for row in rows)
    print(f"kg reconcile: {args.out}: {len(rows)} place references, {resolved} resolved",
          file=sys.stderr)
    from_table = sum(row.method == "links-table" for row in rows)
    if from_table:
        print(f"kg reconcile: {from_table} from the shipped links table "
              f"({paths.LINKS_TSV.name}, exact matches, its evidence cited)", file=sys.stderr)
    if gazetteer is None and resolved < len(rows):
        more = "" if args.online else "; or add --online to ask Wikidata"
        print(f"kg reconcile: {len(rows) - resolved} stay unresolved: no gazetteer at "
              f"{gaz_dir} ({WHERE_FROM}){more}", file=sys.stderr)
    if args.report:
        _report(rows, args.out)
    return 0


def _report(rows: list[LinkRow], out: Path) -> None:
    """The report on stdout, its open-place lists cut short; the whole report in a file
    beside the table (``my-links.report.txt``)."""
    from kg.fsutil import atomic_write_text
    from kg.reconcile import report

    whole = out.with_name(out.stem + ".report.txt")
    atomic_write_text(whole, report(rows))
    sys.stdout.write(report(rows, limit=REPORT_LIMIT, whole=whole))


def _odbl_only(args: argparse.Namespace, gaz_dir: Path) -> int:
    """Rewrite the ODbL coordinates table from the dr5hn records; 0 on success."""
    from kg.reconcile.links import read_links
    from kg.reconcile.odbl_coordinates import (
        ODBL_TSV,
        load_odbl_records,
        odbl_coordinates,
        write_odbl_table,
    )

    table = read_links(args.out)  # read before the gazetteer: a missing table fails fast
    rows = odbl_coordinates(table, load_odbl_records(gaz_dir))
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
