"""Overrides: reading, rejecting bad rows, and checking evidence against the gazetteer."""

from __future__ import annotations

from pathlib import Path

import pytest

from kg.errors import LinksError
from kg.reconcile.overrides import OVERRIDE_COLUMNS, check_evidence, read_overrides

HEADER = "\t".join(OVERRIDE_COLUMNS) + "\n"


def _write(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "overrides.tsv"
    path.write_text(HEADER + "".join(r + "\n" for r in rows), encoding="utf-8")
    return path


def test_missing_file_means_no_overrides(tmp_path: Path) -> None:
    assert read_overrides(tmp_path / "none.tsv") == {}


def test_good_rows(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        # naturalearth_populated_places.tsv:196 carries Q1899 (Kiev)
        "zhwiki\tpartner\t基輔\t\tQ1899\tnaturalearth_populated_places.tsv:196 Kiev\tchecked",
        "lhc\tmember\tKong\tIran\t\tno gazetteer row is Kong in Iran\tforce unresolved",
    )
    got = read_overrides(path)
    assert got[("zhwiki", "partner", "基輔", "")].qid == "Q1899"
    assert got[("lhc", "member", "Kong", "Iran")].qid == ""
    check_evidence(got[("zhwiki", "partner", "基輔", "")],
                   {("naturalearth_populated_places.tsv", 196): "Q1899"}, path)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("zhwiki\tpartner\t基輔\t\tQ18x\tne.tsv:196\tx", "malformed QID"),
        ("zhwiki\tpartner\t基輔\t\tQ1899\t\tchecked", "without evidence"),
        ("zhwiki\tpartner\t基輔\t\tQ1899\tsomewhere\t", "without a reason"),
        ("Web page\tpartner\t基輔\t\tQ1899\te\tr", "malformed doc id"),
        ("zhwiki\tcity\t基輔\t\tQ1899\te\tr", "unknown role"),
        ("zhwiki\tpartner\t基輔\tQ1899\te", "expected 7 cells"),
    ],
)
def test_bad_rows_name_file_and_line(tmp_path: Path, row: str, message: str) -> None:
    path = _write(tmp_path, row)
    with pytest.raises(LinksError, match=message) as info:
        read_overrides(path)
    assert str(info.value).startswith(f"{path}:2:")


def test_bad_header_and_duplicates(tmp_path: Path) -> None:
    path = tmp_path / "o.tsv"
    path.write_text("doc\tqid\n", encoding="utf-8")
    with pytest.raises(LinksError, match=":1: header"):
        read_overrides(path)
    row = "zhwiki\tpartner\t基輔\t\t\tevidence\treason"
    with pytest.raises(LinksError, match=":3: duplicate"):
        read_overrides(_write(tmp_path, row, row))


def test_evidence_must_name_a_row_with_that_qid(tmp_path: Path) -> None:
    path = _write(tmp_path, "zhwiki\tpartner\t基輔\t\tQ1899\tI remember it\tchecked")
    override = read_overrides(path)[("zhwiki", "partner", "基輔", "")]
    with pytest.raises(LinksError, match=r"file\.tsv:line"):
        check_evidence(override, {}, path)
    path = _write(tmp_path,
                  "zhwiki\tpartner\t基輔\t\tQ1899\tnaturalearth_populated_places.tsv:5\tc")
    override = read_overrides(path)[("zhwiki", "partner", "基輔", "")]
    with pytest.raises(LinksError, match="carries Q1899"):
        check_evidence(override, {("naturalearth_populated_places.tsv", 5): "Q60"}, path)
