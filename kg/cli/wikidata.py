"""``kg wikidata diff`` and ``kg wikidata quickstatements``: compare with Wikidata's P190 and
write a reviewable QuickStatements batch. Nothing here edits Wikidata."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

__all__ = ["register", "run_diff", "run_quickstatements"]

_DEFAULT_SPARQL = "https://query.wikidata.org/sparql"


def _common(parser: argparse.ArgumentParser) -> None:
    from kg.cli import http_url

    parser.add_argument("--sparql-url", default=_DEFAULT_SPARQL, metavar="URL", type=http_url,
                        help="query service of Wikidata, a mirror or any Wikibase "
                        f"(default {_DEFAULT_SPARQL})")
    parser.add_argument("--graph", type=Path, metavar="FILE",
                        help="the built graph (default dist/twinning.trig, built if missing "
                        "or older than its inputs)")
    parser.add_argument("--evidence", type=Path, metavar="TSV",
                        help="give-back evidence file: source page URLs and network QIDs "
                        "(default seeds/wikidata-giveback.tsv)")
    parser.add_argument("--source-url", action="append", default=[], metavar="DOC=URL",
                        help="URL of a source document's page, checked by you (e.g. "
                        "zhwiki=https://zh.wikipedia.org/wiki/...); repeatable")
    parser.add_argument("--cache-dir", type=Path, metavar="DIR",
                        help="cache of Wikidata's answers (default ~/.cache/twinning-kg/wikidata)")
    parser.add_argument("--user-agent", default=os.environ.get("KG_USER_AGENT"),
                        help="User-Agent with a contact, as Wikimedia's policy asks "
                        "(env KG_USER_AGENT; default names the project)")


def register(subparsers: Any) -> None:
    """Add the ``wikidata`` subcommand and its ``diff`` and ``quickstatements``."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "wikidata",
        help="compare with Wikidata's P190 and write reviewable QuickStatements",
        description="Give back to Wikidata: compare the graph's twinnings with Wikidata's "
        "P190 statements, and write QuickStatements for a person to review and submit. "
        "Never edits Wikidata.",
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    diff = actions.add_parser("diff", help="P190 in both directions, one, none; Wikidata only",
                              description="One row per pair of resolved places: Wikidata's "
                              "P190 in both directions, one (which), none; pairs only "
                              "Wikidata twins; totals by status and by pair of countries.")
    _common(diff)
    diff.add_argument("--format", "-f", default="table", choices=("table", "csv", "json"),
                      help="output format (default: table)")
    diff.set_defaults(func=run_diff)
    qs = actions.add_parser("quickstatements",
                            help="QuickStatements V1 for the directions Wikidata lacks",
                            description="One QuickStatements V1 command per direction "
                            "Wikidata lacks, with the start time and a reference (page URL, "
                            "retrieval date); what is left out is said on stderr.")
    _common(qs)
    qs.add_argument("--out", type=Path, metavar="FILE",
                    help="write the commands to FILE (default: stdout)")
    qs.add_argument("--review", type=Path, metavar="FILE",
                    help="write a CSV for the reviewer: pairs, labels, evidence, commands")
    qs.add_argument("--links", type=Path, metavar="TSV",
                    help="links table, for the evidence of each QID in --review "
                    "(default seeds/wikidata-links.tsv)")
    qs.add_argument("--force", action="store_true",
                    help="overwrite --out and --review files that exist")
    qs.set_defaults(func=run_quickstatements)


def _compare(args: argparse.Namespace) -> Any:
    from kg import paths
    from kg.errors import GiveBackError
    from kg.wikidata import compare, make_client
    from kg.wikidata.ours import is_page_url

    urls: dict[str, str] = {}
    for item in args.source_url:
        doc, sep, url = item.partition("=")
        if not sep or not doc or not is_page_url(url):
            raise GiveBackError(f"--source-url wants DOC=http(s)://..., not {item!r}")
        urls[doc] = url
    graph = args.graph or _built(paths.DIST_DIR, paths.PROJECT_ROOT)
    client = make_client(sparql_url=args.sparql_url, cache_dir=args.cache_dir,
                         user_agent=args.user_agent)
    return compare(graph=graph, client=client, endpoint=args.sparql_url, source_urls=urls,
                   evidence_file=args.evidence or paths.SEEDS_DIR / "wikidata-giveback.tsv")


def _built(dist: Path, root: Path) -> Path:
    """``dist/twinning.trig``, built first when missing or older than the seeds, ontology or
    shapes (as ``kg serve`` does)."""
    trig = dist / "twinning.trig"
    inputs = [p for g in ("seeds/*", "ontology.ttl", "shapes/*") for p in root.glob(g)
              if p.is_file()]
    newest = max((p.stat().st_mtime for p in inputs), default=0.0)
    if not trig.is_file() or trig.stat().st_mtime < newest:
        from kg.build import build

        print(f"kg wikidata: building {dist} (missing or older than its inputs)",
              file=sys.stderr)
        build(out=dist)
    return trig


def run_diff(args: argparse.Namespace) -> int:
    """Print the diff; the totals go to stderr for ``--format csv``."""
    from kg.wikidata import render_diff
    from kg.wikidata.compare import summary

    result = _compare(args).diff
    sys.stdout.write(render_diff(result, args.format))
    if args.format == "csv":
        sys.stderr.write(summary(result))
    return 0


def _write(path: Path, text: str, force: bool) -> None:
    from kg.errors import GiveBackError
    from kg.fsutil import atomic_write_text

    if path.exists() and not force:
        raise GiveBackError("exists; not overwritten (--force to replace it)", path=path)
    atomic_write_text(path, text, error=GiveBackError)


def run_quickstatements(args: argparse.Namespace) -> int:
    """Write the batch (stdout or ``--out``) and the review CSV; messages on stderr."""
    from kg import paths
    from kg.wikidata import qid_evidence, review_csv

    for path in (args.out, args.review):
        if path is not None and path.exists() and not args.force:
            from kg.errors import GiveBackError

            raise GiveBackError("exists; not overwritten (--force to replace it)", path=path)
    comparison = _compare(args)
    batch = comparison.batch()
    if args.review is not None:
        evidence = qid_evidence(args.links or paths.LINKS_TSV)
        _write(args.review, review_csv(batch, comparison.ours, evidence, comparison.evidence),
               args.force)
    if args.out is not None:
        _write(args.out, batch.text(), args.force)
    else:
        sys.stdout.write(batch.text())
    for message in batch.messages:
        print(f"kg wikidata quickstatements: {message}", file=sys.stderr)
    return 0
