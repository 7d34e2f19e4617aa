"""Formula injection (issue 18, :mod:`kg.tabular`): every CSV and TSV ``kg`` writes puts a
``'`` before a value a spreadsheet would run, and leaves numbers and everything else as
they are. The regression runs a user's CSV list with such names through ``kg build``,
``kg query --format csv/tsv`` and ``kg parse --format tsv``."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest

from kg.cli import main
from kg.model import LinkRow
from kg.reconcile.links import write_links
from kg.tabular import csv_text, safe_sparql_csv, safe_sparql_tsv, spreadsheet_safe, tsv_cell

NASTY = ["=2+2", "@SUM(A1:A9)", "+cmd|' /C calc'!A0", "-2+3", "\t=1", "\r=1"]


@pytest.mark.parametrize("text", NASTY)
def test_formulas_get_a_quote(text: str) -> None:
    assert spreadsheet_safe(text) == "'" + text


@pytest.mark.parametrize("text", ["-2", "-3.75", "2", ".5", "Paris", "", "'=1", "a=b"])
def test_negative_numbers_and_plain_text_stay(text: str) -> None:
    assert spreadsheet_safe(text) == text


@pytest.mark.parametrize("text", ["+1", "-1e3", "-", "-2.", "+3.5"])
def test_what_a_spreadsheet_would_change_gets_a_quote(text: str) -> None:
    assert spreadsheet_safe(text) == "'" + text


def test_tsv_cells_stay_on_one_line() -> None:
    assert tsv_cell("a\tb\nc") == "a b c"
    assert tsv_cell("=1\t2") == "'=1 2"


def test_csv_text_quotes_and_escapes_rows_not_the_header() -> None:
    text = csv_text(["name", "n"], [["=2+2", "-2"], ['a,"b"', "x"]])
    assert list(csv.reader(io.StringIO(text))) == [["name", "n"], ["'=2+2", "-2"],
                                                   ['a,"b"', "x"]]


def test_sparql_results_keep_their_syntax() -> None:
    assert safe_sparql_csv('a,b\r\n=2+2,-2\r\n"x,y",http://x/\r\n') == (
        "a,b\r\n'=2+2,-2\r\n\"x,y\",http://x/\r\n")
    tsv = '?a\t?b\t?c\n"=2+2"\t-2\t"@x"@en\n"\\t=1"\t<http://x/>\t"-5"^^<http://t>\n'
    assert safe_sparql_tsv(tsv) == (
        '?a\t?b\t?c\n"\'=2+2"\t-2\t"\'@x"@en\n"\'\\t=1"\t<http://x/>\t"-5"^^<http://t>\n')


LIST = ("city_a,country_a,city_b,country_b\n=2+2,Utopia,Kyoto,Japan\n"
        "@SUM(A1:A9),Utopia,Kyoto,Japan\n\"+cmd|' /C calc'!A0\",Utopia,-2+3,Japan\n")


def _formula(cell: str) -> bool:
    return cell[:1] in ("=", "+", "-", "@")
QUERY = ("PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
         "SELECT DISTINCT ?label WHERE { ?p rdfs:label ?label } ORDER BY ?label\n")


def _cells(fmt: str, text: str) -> list[str]:
    if fmt == "csv":
        return [c for row in list(csv.reader(io.StringIO(text)))[1:] for c in row]
    return [c for line in text.splitlines()[1:] for c in line.split("\t")]


@pytest.mark.parametrize("fmt", ["csv", "tsv"])
def test_a_users_list_through_query_and_parse(fmt: str, tmp_path: Path, capsys: Any) -> None:
    listing = tmp_path / "mine.csv"
    listing.write_text(LIST, encoding="utf-8")
    links = tmp_path / "links.tsv"
    write_links([LinkRow("mine", "place", "Kyoto", "Japan", "", "unresolved", "none", "", "",
                         "", "", "", "", "no candidate")], links)
    out = tmp_path / "dist"
    assert main(["build", "-q", "--seeds", str(listing), "--links", str(links), "--formats",
                 "trig", "--out", str(out)]) == 0
    (tmp_path / "labels.rq").write_text(QUERY, encoding="utf-8")
    capsys.readouterr()
    assert main(["query", str(tmp_path / "labels.rq"), "--data", str(out / "twinning.trig"),
                 "--format", fmt]) == 0
    text = capsys.readouterr().out
    values = [c.strip('"').split('"@')[0] if fmt == "tsv" else c for c in _cells(fmt, text)]
    assert {"'=2+2", "'@SUM(A1:A9)", "'+cmd|' /C calc'!A0", "'-2+3"} <= set(
        v.removesuffix('"') for v in values), text
    assert not any(_formula(v) for v in values), text
    if fmt == "tsv":
        assert main(["parse", str(listing), "--format", "tsv"]) == 0
        cells = _cells("tsv", capsys.readouterr().out)
        assert "'=2+2" in cells and "'-2+3" in cells
        assert not any(_formula(c) for c in cells)
