"""Parse source documents into records, with a report.

Prints every record on stdout and a report on stderr (records per document and per
section/region, rejections and warnings with their lines, blank rows), both in the chosen
format; the report's counts add up (records + rejections + blank rows = data rows). A
document's kind is detected (or named with ``--source``). Exit 0 when every document was
read (rejected rows are reported, not fatal), 2 when a document cannot be read at all.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TextIO

from kg.model import ParseResult, record_to_dict
from kg.tabular import tsv_cell

__all__ = ["register", "render_records", "render_report", "report_rows"]

FORMATS = ("jsonl", "tsv", "table")


def register(subparsers: Any) -> None:
    """Add the ``parse`` subcommand."""
    from kg.cli import add_max_input_size, add_names_lang

    parser: argparse.ArgumentParser = subparsers.add_parser(
        "parse",
        help="parse source documents into records, with a report",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="source documents")
    parser.add_argument("--format", choices=FORMATS, default="jsonl",
                        help="output format (default: %(default)s)")
    parser.add_argument(
        "--source", metavar="KIND",
        help="the documents' kind: lhc, zhwiki, csv or an installed plug-in's "
        "(default: detect)",
    )
    add_max_input_size(parser)
    add_names_lang(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from kg.sources import parse_path

    # Parse everything first: a bad document fails the run before any output is written.
    results = [parse_path(path, source=args.source) for path in args.paths]
    render_records(results, args.format, sys.stdout)
    render_report(results, args.format, sys.stderr)
    return 0


def _cell(value: Any) -> str:
    # One line of text (TSV and the table are line-based); the TSV escapes formulas too.
    if value is None:
        return ""
    if isinstance(value, list):
        return " | ".join(str(v) for v in value)
    return str(value).replace("\t", " ").replace("\n", " ")


def render_records(results: Iterable[ParseResult], fmt: str, out: TextIO) -> None:
    """Write the records of ``results`` to ``out`` in ``fmt`` (jsonl, tsv or table)."""
    rows = [record_to_dict(record) for result in results for record in result.records]
    if fmt == "jsonl":
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
        return
    # tsv and table: one header per kind of record (its columns), so every block stays
    # rectangular whatever documents are mixed.
    order = {"membership": 0, "twinning": 1}
    shapes = sorted(dict.fromkeys((order.get(row["type"], 2), tuple(row)) for row in rows),
                    key=lambda item: item[0])
    for _, shape in shapes:
        group = [row for row in rows if tuple(row) == shape]
        columns = list(shape)
        cells = [[_cell(row[col]) for col in columns] for row in group]
        if fmt == "tsv":
            out.write("\t".join(columns) + "\n")
            out.writelines("\t".join(tsv_cell(c) for c in line) + "\n" for line in cells)
        else:
            _write_table(columns, cells, out)


def _write_table(columns: list[str], cells: list[list[str]], out: TextIO) -> None:
    # Padded by display width, not characters: CJK names take two columns each.
    from kg.textwidth import display_width, pad

    widths = [
        max([display_width(col)] + [display_width(row[i]) for row in cells])
        for i, col in enumerate(columns)
    ]
    out.write("  ".join(pad(c, w) for c, w in zip(columns, widths, strict=True)).rstrip() + "\n")
    for row in cells:
        out.write("  ".join(pad(c, w) for c, w in zip(row, widths, strict=True)).rstrip() + "\n")


def report_rows(results: Iterable[ParseResult]) -> list[dict[str, Any]]:
    """The report as flat rows: one per document, group, rejection and warning."""
    rows: list[dict[str, Any]] = []
    for result in results:
        where = {"doc": result.doc, "file": result.file}
        rows.append(
            {
                "type": "document",
                **where,
                "records": len(result.records),
                "rejections": len(result.rejections),
                "warnings": len(result.warnings),
                "blank_rows": result.blank_rows,
                "rows": result.rows,
            }
        )
        rows += [{"type": "group", **where, "group": g, "records": n} for g, n in result.groups]
        for kind, issues in (("rejection", result.rejections), ("warning", result.warnings)):
            rows += [
                {"type": kind, **where, "line": i.source.line, "reason": i.reason, "text": i.text}
                for i in issues
            ]
    return rows


def render_report(results: Iterable[ParseResult], fmt: str, out: TextIO) -> None:
    """Write the parse report to ``out`` in ``fmt``."""
    rows = report_rows(results)
    if fmt == "jsonl":
        for row in rows:
            out.write(json.dumps({"report": row.pop("type"), **row}, ensure_ascii=False) + "\n")
        return
    if fmt == "tsv":
        out.write("report\tdoc\tfile\tline\twhat\tcount\tdetail\n")
        for row in rows:
            what = row.get("group") or row.get("reason") or ""
            count = row.get("records", "")
            detail = row.get("text", "")
            if row["type"] == "document":
                detail = (
                    f"rejections={row['rejections']} warnings={row['warnings']} "
                    f"blank_rows={row['blank_rows']} rows={row['rows']}"
                )
            out.write(
                "\t".join(
                    tsv_cell(_cell(v))
                    for v in (
                        row["type"], row["doc"], row["file"], row.get("line"), what, count, detail
                    )
                )
                + "\n"
            )
        return
    for row in rows:
        if row["type"] == "document":
            out.write(
                f"{row['file']} ({row['doc']}): {row['records']} records, "
                f"{row['rejections']} rejected, {row['warnings']} warnings, "
                f"{row['blank_rows']} blank rows, of {row['rows']} data rows\n"
            )
        elif row["type"] == "group":
            out.write(f"  {row['group']}: {row['records']}\n")
        else:
            out.write(f"  {row['type']} {row['file']}:{row['line']}: {row['reason']}\n")
