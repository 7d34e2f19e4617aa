"""Every row accounted (issue 8): rows the zh.wikipedia parser used to drop silently are
records or rejections with their line, dates meant as dates but impossible are warnings,
and ``records + rejections + blank rows == rows`` on the seeds."""

from __future__ import annotations

from pathlib import Path

import pytest

from kg.model import ParseResult, Twinning
from kg.sources import lhc, parse_path, zhwiki

SEEDS = Path(__file__).resolve().parents[2] / "seeds"


def _md(title: str) -> str:
    return f'[{title}](../Page/{title}.md "wikilink")'


def _a(title: str) -> str:
    return f'<a href="../Page/{title}.md" title="wikilink">{title}</a>'


def _parse(text: str) -> ParseResult:
    result = zhwiki.parse(text, "t.md")
    assert result.unaccounted == 0, result
    return result


ROW = f"| 〖{_md('甲市')}〗- | | <small>{_md('國')}{_md('乙市')}（1990年） |"


def test_data_row_above_a_separator_is_a_record() -> None:
    """It used to be read as the table's header and dropped."""
    result = _parse(f"## 河南\n\n{ROW}\n| ---: | --- |\n")
    (record,) = result.records
    assert isinstance(record, Twinning)
    assert record.source.line == 3 and record.partner_title == "乙市"
    assert not result.rejections


def test_data_row_above_a_separator_mid_table() -> None:
    second = f"| | | <small>{_md('國')}{_md('丙市')} |"
    result = _parse(f"## 河南\n\n|  |  |\n| --: | --- |\n{ROW}\n{second}\n| --: | --- |\n")
    assert [(r.source.line, r.partner_title) for r in result.records] == [  # type: ignore[union-attr]
        (5, "乙市"),
        (6, "丙市"),
    ]


def test_bad_row_above_a_separator_is_a_rejection() -> None:
    result = _parse("## 河南\n\n| 城市 | 國家 |\n| --- | --- |\n")
    assert not result.records
    assert [r.source.line for r in result.rejections] == [3]


def test_empty_header_row_is_structure() -> None:
    result = _parse(f"## 河南\n\n|    |    |\n| --: | --- |\n{ROW}\n")
    assert [r.source.line for r in result.records] == [5]
    assert not result.rejections and result.blank_rows == 0 and result.rows == 1


@pytest.mark.parametrize(
    "row",
    [
        f"<tr><td>{_a('甲市')}</td><td>{_a('乙市')}</td><td>1990年</td></tr>",
        "<tr>",
        f"<td>{_a('乙市')}</td>",
    ],
)
def test_row_markup_before_the_first_heading_is_a_rejection(row: str) -> None:
    """A complete row before the first heading used to be ignored as intro text, while
    the same row between tables was a rejection."""
    result = _parse(f"此列表列出{_md('友好城市')}。\n{row}\n\n## 北京\n\n")
    assert not result.records
    assert [r.source.line for r in result.rejections] == [2]
    between = _parse(f"## 北京\n\n<table>\n</table>\n{row}\n")
    assert [r.source.line for r in between.rejections] == [5]


def test_tables_before_the_first_heading_are_rejections() -> None:
    html = (
        "<table>\n"
        f"<tr><td>{_a('甲市')}</td><td>{_a('乙市')}</td><td>1990年</td></tr>\n"
        "</table>\n"
    )
    result = _parse(f"{html}{ROW}\n\n## 北京\n")
    assert not result.records
    assert [(r.source.line, "before the first section" in r.reason) for r in result.rejections] == [
        (2, True),
        (4, True),
    ]


@pytest.mark.parametrize("text", ["0年", "-5年", "－５年", "99999年", "0000年", "+1990年", "5年"])
def test_impossible_dates_are_warnings(text: str) -> None:
    """``-5年`` used to become a note without the warning ``0年`` and ``99999年`` get."""
    row = f"| 〖{_md('甲市')}〗- | | <small>{_md('國')}{_md('乙市')}（{text}） |"
    result = _parse(f"## 河南\n\n{row}\n")
    (record,) = result.records
    assert isinstance(record, Twinning)
    assert (record.date, record.note) == (None, None)
    assert [(w.source.line, "date" in w.reason) for w in result.warnings] == [(3, True)]


def test_year_zero_is_not_a_date() -> None:
    with pytest.raises(ValueError):
        zhwiki.parse_date("0000年")


@pytest.mark.parametrize("name", ["zhwiki-prc-sister-cities.md", "lhc-member-cities-2025-12.txt"])
def test_seeds_every_row_accounted(name: str) -> None:
    result = parse_path(SEEDS / name)
    assert result.rows > 0 and result.unaccounted == 0
    assert result.rows == len(result.records) + len(result.rejections) + result.blank_rows


def test_lhc_row_split_by_a_correction_counts_as_its_cities() -> None:
    text = "アジア Asia (2)\n\t日本\tJapan\t甲 乙\tKo Otsu\n"
    fix = lhc.Correction(2, "city_en", "Ko Otsu", "Ko|Otsu", "two cities merged", "c.tsv:2")
    result = lhc.parse(text, "l.txt", corrections=[fix])
    assert len(result.records) == 2 and result.rows == 2 and result.unaccounted == 0


def test_lhc_header_cells_with_a_city_are_not_a_header() -> None:
    """A row that holds the column header's words and more is data: it ends as a record or
    a rejection, not dropped as the header."""
    header = "国・地域名 / Countries and Regions\t\t加盟都市 / Member Cities\t"
    text = f"アジア Asia (1)\n{header}\n{header}\t日本\tJapan\t京都 Kyoto\n"
    result = lhc.parse(text, "l.txt", corrections=[])
    assert result.unaccounted == 0 and result.rows == 1
    assert [i.source.line for i in (*result.records, *result.rejections)] == [3]
