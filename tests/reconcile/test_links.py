"""The links table: write sorted and atomically, read back, reject malformed tables."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from kg.errors import LinksError
from kg.model import LINK_COLUMNS, LinkRow
from kg.reconcile.links import read_links, write_links

# naturalearth_populated_places.tsv:196 carries Q1899 (Kiev)
ROW = LinkRow("zhwiki", "partner", "基輔", "烏克蘭", "Q1899", "resolved", "gazetteer-exact",
              "1.15", "city", "Kiev", "", "naturalearth_populated_places.tsv:196 Q1899 '基輔'",
              "Q1899:1.15", "")
OPEN = LinkRow("lhc", "member", "Kong", "Iran", "", "unresolved", "", "", "city", "", "", "",
               "", "no gazetteer candidate")


def test_round_trip_sorted(tmp_path: Path) -> None:
    path = tmp_path / "links.tsv"
    write_links([ROW, OPEN], path)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0].split("\t") == list(LINK_COLUMNS)
    assert lines[1].startswith("lhc\t")  # sorted by reference
    table = read_links(path)
    assert len(table) == 2
    assert table.get("zhwiki", "partner", "基輔", "烏克蘭") == ROW
    assert table.get("zhwiki", "partner", "基輔") is None


def test_tabs_in_values_do_not_break_the_table(tmp_path: Path) -> None:
    path = tmp_path / "links.tsv"
    write_links([replace(ROW, reason="a\tb\nc")], path)
    assert read_links(path).rows[0].reason == "a b c"


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (replace(ROW, qid="Q1x"), "malformed qid"),
        (replace(ROW, status="unresolved"), "does not agree"),
        (replace(ROW, evidence=""), "no evidence"),
        (replace(ROW, role="city"), "unknown role"),  # type: ignore[arg-type]
        (replace(ROW, doc="Web page"), "malformed doc id"),
        (replace(ROW, status="maybe"), "unknown status"),
    ],
)
def test_bad_rows(tmp_path: Path, row: LinkRow, message: str) -> None:
    path = tmp_path / "links.tsv"
    write_links([row], path)
    with pytest.raises(LinksError, match=f":2: .*{message}"):
        read_links(path)


def test_bad_tables(tmp_path: Path) -> None:
    with pytest.raises(LinksError, match="not found"):
        read_links(tmp_path / "none.tsv")
    path = tmp_path / "links.tsv"
    path.write_text("doc\tqid\n", encoding="utf-8")
    with pytest.raises(LinksError, match=":1: header"):
        read_links(path)
    write_links([ROW], path)
    text = path.read_text(encoding="utf-8")
    path.write_text(text + text.splitlines()[1] + "\n", encoding="utf-8")
    with pytest.raises(LinksError, match=":3: duplicate"):
        read_links(path)
    path.write_text(text + "zhwiki\tpartner\n", encoding="utf-8")
    with pytest.raises(LinksError, match=f":3: expected {len(LINK_COLUMNS)} cells"):
        read_links(path)


def test_header_only_table_is_an_error(tmp_path: Path) -> None:
    """It used to build with every place unresolved and no word that the table is empty."""
    path = tmp_path / "links.tsv"
    path.write_text("\t".join(LINK_COLUMNS) + "\n", encoding="utf-8")
    with pytest.raises(LinksError, match=r":1: .*header but no rows"):
        read_links(path)


@pytest.mark.parametrize(
    ("qid", "ok"),
    [("Q1", True), ("Q1234567890", True), ("Q12345678901", False), ("Q" + "7" * 5000, False)],
)
def test_qid_of_more_than_ten_digits_is_an_error(tmp_path: Path, qid: str, ok: bool) -> None:
    path = tmp_path / "links.tsv"
    write_links([replace(ROW, qid=qid, evidence=f"test {qid[:5]}")], path)
    if ok:
        assert read_links(path).rows[0].qid == qid
        return
    with pytest.raises(LinksError, match=r":2: malformed qid: .*digits: longer than any") as info:
        read_links(path)
    assert len(str(info.value)) < 200  # one short line, not the 5000 digits


def test_missing_rows_names_the_places_the_table_lacks(tmp_path: Path) -> None:
    from kg.reconcile.links import missing_rows
    from kg.sources import parse_text

    doc = (
        "## 河南\n\n"
        '| 〖[甲](../Page/甲.md "wikilink")〗- | | <small>[烏克蘭](../Page/烏克蘭.md "wikilink")'
        '[基輔](../Page/基輔.md "wikilink") |\n'
    )
    result = parse_text(doc, "t.md", source="zhwiki")
    path = tmp_path / "links.tsv"
    write_links([ROW, OPEN], path)
    assert missing_rows([result], read_links(path)) == [
        ("zhwiki", "country", "烏克蘭", ""),
        ("zhwiki", "cn", "甲", ""),
    ]
