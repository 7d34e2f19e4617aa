"""The zh.wikipedia sister-city list parser on the real seed and on small documents.

Expected counts were checked by hand against ``seeds/zhwiki-prc-sister-cities.md``
(``cat -n``): HTML tables have one ``<tr>`` every five lines, pipe tables one row a line.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kg.model import DatePrecision, ParseResult, PartialDate, Twinning, WikiLink
from kg.sources import parse_path, zhwiki

SEED = Path(__file__).resolve().parents[2] / "seeds" / "zhwiki-prc-sister-cities.md"
FILE = SEED.name

# Per section, in document order (empty sections included): records expected.
EXPECTED_GROUPS: list[tuple[str, int]] = [
    ("北京", 39),  # HTML, <tr> at lines 7..197 step 5
    ("澳門", 8),  # HTML with header row (209); rows 216..251
    ("天津市", 23),  # HTML, rows 263..373
    ("河北省", 0),
    ("山西省", 0),
    ("內蒙古自治区", 18),  # HTML, rows 389..474
    ("辽宁省", 0),
    ("吉林省", 0),
    ("黑龙江省", 0),
    ("上海市", 0),
    ("江蘇", 0),
    ("浙江", 0),
    ("安徽", 0),
    ("福建", 0),
    ("江西", 0),
    ("山東", 0),
    ("河南", 52),  # pipe, lines 506..557
    ("湖北", 51),  # lines 563..613
    ("湖南", 43),  # lines 619..662 = 44 rows, minus the rejection at 657
    ("廣東", 0),
    ("海南", 24),  # lines 670..693
    ("廣西", 0),
    ("四川", 0),
    ("重庆", 0),
    ("貴州", 9),  # lines 705..713
    ("雲南", 20),  # lines 719..738
    ("西藏", 4),  # lines 744..747; 748..756 are blank rows
    ("陝西", 0),
    ("甘肅", 27),  # lines 764..790
    ("青海", 7),  # lines 796..802
    ("寧夏", 13),  # lines 808..820
    ("新疆", 13),  # lines 826..838
]
TOTAL = 351


@pytest.fixture(scope="module")
def seed() -> ParseResult:
    return parse_path(SEED)


@pytest.fixture(scope="module")
def by_line(seed: ParseResult) -> dict[int, Twinning]:
    out: dict[int, Twinning] = {}
    for record in seed.records:
        assert isinstance(record, Twinning)
        out[record.source.line] = record
    return out


def _links(*pairs: str) -> tuple[WikiLink, ...]:
    """``"title=label"`` or ``"title"`` (label equal) -> links."""
    out = []
    for pair in pairs:
        title, _, label = pair.partition("=")
        out.append(WikiLink(title=title, label=label or title))
    return tuple(out)


def _day(iso: str) -> PartialDate:
    return PartialDate(iso=iso, precision=DatePrecision.DAY)


# ------------------------------------------------------------------------- the seed


def test_seed_counts(seed: ParseResult) -> None:
    assert seed.doc == "zhwiki"
    assert seed.file == FILE
    assert list(seed.groups) == EXPECTED_GROUPS
    assert sum(n for _, n in EXPECTED_GROUPS) == TOTAL
    assert len(seed.records) == TOTAL
    assert seed.blank_rows == 9  # lines 748..756


def test_seed_rejections_and_warnings(seed: ParseResult) -> None:
    assert [(i.source.line, i.reason) for i in seed.rejections] == [
        (657, "a country (澳大利亞) but no partner city (date 1998-11-28)")
    ]
    assert "澳大利亞" in seed.rejections[0].text
    # The only warning: the Macau table names no Chinese place (header row at line 209).
    assert [i.source.line for i in seed.warnings] == [209]
    assert "澳門" in seed.warnings[0].reason


def test_seed_every_record_once(seed: ParseResult) -> None:
    lines = [r.source.line for r in seed.records]
    assert len(lines) == len(set(lines))
    assert lines == sorted(lines)
    rejected = {i.source.line for i in seed.rejections}
    assert not rejected & set(lines)
    assert all(r.source.file == FILE and r.source.doc == "zhwiki" for r in seed.records)


def test_seed_record_lines_are_row_lines(seed: ParseResult) -> None:
    text = SEED.read_text(encoding="utf-8").split("\n")
    for record in seed.records:
        row = text[record.source.line - 1].strip()
        assert row.startswith(("<tr", "|")), (record.source.line, row)


def test_seed_date_precisions(seed: ParseResult) -> None:
    precisions = [r.date.precision if r.date else None for r in seed.records]  # type: ignore[union-attr]
    assert precisions.count(DatePrecision.DAY) == 339
    assert precisions.count(DatePrecision.MONTH) == 3  # lines 708, 710, 711
    assert precisions.count(DatePrecision.YEAR) == 1  # line 705
    assert precisions.count(None) == 8  # the Macau table


def test_seed_all_titles_clean(seed: ParseResult) -> None:
    for record in seed.records:
        assert isinstance(record, Twinning)
        links = [*record.cn, *record.partner, *([record.country] if record.country else [])]
        for link in links:
            assert link.title and link.label
            assert "\\" not in link.title and not link.title.startswith(":")
            assert "../Page" not in link.title and not link.title.endswith(".md")


# (line, section, cn, cn_prefix, partner, country, date, note)
SAMPLES: list[
    tuple[
        int,
        str,
        tuple[WikiLink, ...],
        str,
        tuple[WikiLink, ...],
        WikiLink | None,
        PartialDate | None,
        str | None,
    ]
] = [
    # HTML: first row of a table, a new Chinese place with three cells
    (7, "北京", _links("北京市"), "", _links("東京"), None, _day("1979-03-14"), None),
    # HTML continuation row (third cell empty)
    (12, "北京", _links("北京市"), "", _links("紐約"), None, _day("1980-02-25"), None),
    # label differs from title
    (
        137,
        "北京",
        _links("北京市"),
        "",
        _links("澳大利亞首都特區=首都地區"),
        None,
        _day("2000-09-14"),
        None,
    ),
    # multi-link partner in a three-cell row; Chinese title with parentheses (HTML, unescaped)
    (
        172,
        "北京",
        _links("東城區_(北京市)=東城區"),
        "",
        _links("東京都", "新宿區"),
        None,
        _day("1997-05-22"),
        None,
    ),
    # multi-link partner in a continuation row
    (
        177,
        "北京",
        _links("東城區_(北京市)=東城區"),
        "",
        _links("首爾", "鍾路區"),
        None,
        _day("2003-11-06"),
        None,
    ),
    (
        197,
        "北京",
        _links("西城區"),
        "",
        _links("帕薩迪納_(加利福尼亞州)=帕薩迪納"),
        None,
        _day("1999-10-15"),
        None,
    ),
    # Macau: header-aware, Chinese side from the section, note instead of a date
    (216, "澳門", _links("澳門"), "", _links("里斯本"), None, None, None),
    (241, "澳門", _links("澳門"), "", _links("布魯塞爾"), None, None, "友好協約書"),
    (246, "澳門", _links("澳門"), "", _links("峴港"), None, None, "友好協議"),
    (251, "澳門", _links("澳門"), "", _links("三藩市"), None, None, "文化備忘錄"),
    # colon-prefixed title
    (
        308,
        "天津市",
        _links("天津市"),
        "",
        _links("普羅夫迪夫州=普罗夫迪夫州"),
        None,
        _day("1989-10-15"),
        None,
    ),
    (373, "天津市", _links("天津市"), "", _links("惠靈頓市"), None, _day("2011-07-22"), None),
    (
        424,
        "內蒙古自治区",
        _links("二連浩特市"),
        "",
        _links("烏蘭巴托=烏蘭巴托市", "罕烏拉區"),
        None,
        _day("2004-10-10"),
        None,
    ),
    (
        439,
        "內蒙古自治区",
        _links("呼和浩特市"),
        "",
        _links("烏蘭巴托"),
        None,
        _day("1991-12-10"),
        None,
    ),
    # pipe: first row, then a continuation row
    (
        506,
        "河南",
        _links("安陽市"),
        "",
        _links("斯哈爾貝克"),
        _links("比利時")[0],
        _day("1985-09-12"),
        None,
    ),
    (
        507,
        "河南",
        _links("安陽市"),
        "",
        _links("草加市"),
        _links("日本")[0],
        _day("1998-11-01"),
        None,
    ),
    # country label differs from title
    (
        518,
        "河南",
        _links("河南省"),
        "",
        _links("阿爾及爾省"),
        _links("阿爾及利亞=阿爾及利亞大")[0],
        _day("1998-04-06"),
        None,
    ),
    # escaped parentheses in a pipe title
    (
        539,
        "河南",
        _links("南陽市"),
        "",
        _links("南陽市_(日本)=南阳"),
        _links("日本")[0],
        _day("1988-10-06"),
        None,
    ),
    # plain text before the Chinese link -> cn_prefix
    (
        548,
        "河南",
        _links("溮河區"),
        "信陽市",
        _links("新見市"),
        _links("日本")[0],
        _day("1992-04-16"),
        None,
    ),
    (
        597,
        "湖北",
        _links("武漢市"),
        "",
        _links("喀土穆"),
        _links("苏丹共和国=蘇丹")[0],
        _day("1995-09-27"),
        None,
    ),
    (
        612,
        "湖北",
        _links("宜昌市"),
        "",
        _links("华盛顿县_(俄勒冈州)=华盛顿郡"),
        _links("美国")[0],
        _day("2006-08-31"),
        None,
    ),
    (
        639,
        "湖南",
        _links("湖南省"),
        "",
        _links("中央_(大區)=中央 (大區)"),
        _links("法國")[0],
        _day("1991-10-28"),
        None,
    ),
    # the row after the rejection still belongs to the next Chinese place
    (
        656,
        "湖南",
        _links("岳陽市"),
        "",
        _links("旧扎戈拉"),
        _links("保加利亞")[0],
        _day("1994-12-04"),
        None,
    ),
    (
        658,
        "湖南",
        _links("芷江侗族自治縣"),
        "",
        _links("格朗康邁西"),
        _links("法國")[0],
        _day("2005-09-06"),
        None,
    ),
    # year, month precision
    (
        705,
        "貴州",
        _links("貴陽市"),
        "",
        _links("惠庭市"),
        _links("日本")[0],
        PartialDate("1986", DatePrecision.YEAR),
        None,
    ),
    (
        708,
        "貴州",
        _links("貴陽市"),
        "",
        _links("亨切什蒂"),
        _links("摩尔多瓦")[0],
        PartialDate("2013-12", DatePrecision.MONTH),
        None,
    ),
    (
        710,
        "貴州",
        _links("貴陽市"),
        "",
        _links("本那比"),
        _links("加拿大")[0],
        PartialDate("2015-04", DatePrecision.MONTH),
        None,
    ),
    (
        731,
        "雲南",
        _links("西雙版納傣族自治州=西雙版納州"),
        "",
        _links("奧斯丁"),
        _links("美國")[0],
        _day("1999-10-18"),
        None,
    ),
    (
        747,
        "西藏",
        _links("日喀則市"),
        "",
        _links("巴尼帕"),
        _links("尼泊爾")[0],
        _day("1999-10-06"),
        None,
    ),
    # two links on the Chinese side
    (
        790,
        "甘肅",
        _links("武威市", "涼州區"),
        "",
        _links("鹿角市"),
        _links("日本")[0],
        _day("2000-11-06"),
        None,
    ),
    # three links in the last cell: country, parent, place
    (
        837,
        "新疆",
        _links("烏魯木齊市"),
        "",
        _links("京畿道", "烏山市"),
        _links("韓國")[0],
        _day("2004-04-23"),
        None,
    ),
    (
        838,
        "新疆",
        _links("新疆自治區"),
        "",
        _links("阿爾泰邊疆區"),
        _links("俄羅斯")[0],
        _day("1999-08-22"),
        None,
    ),
    # HTML continuation row after a three-cell row, multi-link partner (通州區 row at 182)
    (
        187,
        "北京",
        _links("通州區"),
        "",
        _links("首爾", "九老區"),
        None,
        _day("2002-04-08"),
        None,
    ),
    # the label names a district (中區), the link targets the city: the title is kept
    (
        801,
        "青海",
        _links("西寧市"),
        "",
        _links("大田廣域市=大田廣域市中區"),
        _links("韓國")[0],
        _day("1997-10-31"),
        None,
    ),
    # the country label differs from its title (蘇丹 -> 苏丹共和国)
    (
        597,
        "湖北",
        _links("武漢市"),
        "",
        _links("喀土穆"),
        _links("苏丹共和国=蘇丹")[0],
        _day("1995-09-27"),
        None,
    ),
]


@pytest.mark.parametrize(
    ("line", "section", "cn", "prefix", "partner", "country", "date", "note"),
    SAMPLES,
    ids=[str(s[0]) for s in SAMPLES],
)
def test_seed_sample(
    by_line: dict[int, Twinning],
    line: int,
    section: str,
    cn: tuple[WikiLink, ...],
    prefix: str,
    partner: tuple[WikiLink, ...],
    country: WikiLink | None,
    date: PartialDate | None,
    note: str | None,
) -> None:
    record = by_line[line]
    assert record.section == section
    assert record.cn == cn
    assert record.cn_prefix == prefix
    assert record.partner == partner
    assert record.country == country
    assert record.date == date
    assert record.note == note
    assert record.cn_from_section is (section == "澳門")


def test_seed_macau_records(seed: ParseResult) -> None:
    macau = [r for r in seed.records if isinstance(r, Twinning) and r.section == "澳門"]
    assert [r.partner_title for r in macau] == [
        "里斯本",
        "波爾圖",
        "科英布拉",
        "林雪平",
        "普拉亞",
        "布魯塞爾",
        "峴港",
        "三藩市",
    ]
    assert all(r.cn_from_section and r.cn_title == "澳門" and r.country is None for r in macau)


def test_seed_html_continuations(seed: ParseResult) -> None:
    beijing = [r for r in seed.records if isinstance(r, Twinning) and r.section == "北京"]
    assert [r.cn_title for r in beijing].count("北京市") == 33  # rows 7..167
    assert [r.cn_title for r in beijing].count("東城區_(北京市)") == 2
    assert [r.cn_title for r in beijing].count("通州區") == 2
    assert [r.cn_title for r in beijing].count("西城區") == 2


def test_seed_no_record_from_blank_rows(by_line: dict[int, Twinning]) -> None:
    assert not set(range(748, 757)) & set(by_line)
    assert 657 not in by_line


# --------------------------------------------------------------------- small documents


def _parse(text: str) -> ParseResult:
    return zhwiki.parse(text, "t.md")


def _md(title: str, label: str | None = None) -> str:
    return f'[{label or title}](../Page/{title}.md "wikilink")'


def _a(title: str, label: str | None = None) -> str:
    return f'<a href="../Page/{title}.md" title="wikilink">{label or title}</a>'


PIPE_HEAD = "## 河南\n\n|   |   |\n| --: | --- |\n"


def test_looks_like() -> None:
    assert zhwiki.looks_like(SEED.read_text(encoding="utf-8"))
    assert zhwiki.looks_like(PIPE_HEAD + f"| 〖{_md('A')}〗- | | <small>{_md('B')}{_md('C')} |\n")
    assert zhwiki.looks_like(f"## X\n\n<table>\n<tr><td>{_a('A')}</td></tr>\n</table>\n")
    assert not zhwiki.looks_like("")
    assert not zhwiki.looks_like("## heading only\n\nno links here\n")
    assert not zhwiki.looks_like("アフリカ Africa (6)\n\tカイロ\tCairo\tエジプト\tEgypt\n")
    assert not zhwiki.looks_like("[x](https://example.org) plain markdown\n## h\n")
    # a README describing the format (link inside a code span) is not the format
    readme = '## Seeds\n\n| a | links are `[label](../Page/TITLE.md "wikilink")` |\n'
    assert not zhwiki.looks_like(readme)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1986年", PartialDate("1986", DatePrecision.YEAR)),
        ("2013年12月", PartialDate("2013-12", DatePrecision.MONTH)),
        ("1985年9月12日", PartialDate("1985-09-12", DatePrecision.DAY)),
        ("2000年2月29日", PartialDate("2000-02-29", DatePrecision.DAY)),
        # full-width digits give an ASCII ISO string (the year was kept full-width before)
        ("１９８６年", PartialDate("1986", DatePrecision.YEAR)),
        ("２０１３年１２月", PartialDate("2013-12", DatePrecision.MONTH)),
        ("１９８５年９月１２日", PartialDate("1985-09-12", DatePrecision.DAY)),
        # digits of other scripts are not read as a date
        ("١٩٨٦年", None),
        ("友好協約書", None),
        ("", None),
    ],
)
def test_parse_date(text: str, expected: PartialDate | None) -> None:
    assert zhwiki.parse_date(text) == expected


@pytest.mark.parametrize("text", ["1985年13月", "1985年0月", "1985年2月30日", "1999年2月29日"])
def test_parse_date_invalid(text: str) -> None:
    with pytest.raises(ValueError):
        zhwiki.parse_date(text)


def test_invalid_date_is_a_warning_and_no_date() -> None:
    doc = PIPE_HEAD + f"| 〖{_md('A')}〗- | | <small>{_md('C')}{_md('P')}（1985年2月30日） |\n"
    result = _parse(doc)
    assert len(result.records) == 1
    assert result.records[0].date is None  # type: ignore[union-attr]
    assert result.records[0].note is None  # type: ignore[union-attr]
    assert [(w.source.line, "invalid date" in w.reason) for w in result.warnings] == [(5, True)]
    assert not result.rejections


@pytest.mark.parametrize(
    ("inner", "date"),
    [
        ("1998年11月1日－2003年", PartialDate("1998-11-01", DatePrecision.DAY)),
        ("1998年11月-2003年", PartialDate("1998-11", DatePrecision.MONTH)),
        ("1998年 ～ 2003年", PartialDate("1998", DatePrecision.YEAR)),
        ("1998年至今", PartialDate("1998", DatePrecision.YEAR)),
    ],
)
def test_date_range_gives_its_start_and_keeps_the_text(inner: str, date: PartialDate) -> None:
    # A range used to become a note only, losing the start date.
    doc = PIPE_HEAD + f"| 〖{_md('A')}〗- | | <small>{_md('C')}{_md('P')}（{inner}） |\n"
    result = _parse(doc)
    (record,) = result.records
    assert isinstance(record, Twinning)
    assert (record.date, record.note) == (date, inner)
    assert not result.rejections and not result.warnings


def test_date_range_in_an_html_date_cell() -> None:
    doc = (
        "## 北京\n\n<table>\n"
        f"<tr><td>{_a('A')}</td><td>{_a('B')}</td><td><p>1979年3月14日</p></td></tr>\n"
        f"<tr><td>{_a('C')}</td><td><p>1980年2月－1990年</p></td><td></td></tr>\n"
        "</table>\n"
    )
    result = _parse(doc)
    assert [(r.source.line, r.date, r.note) for r in result.records] == [  # type: ignore[union-attr]
        (4, _day("1979-03-14"), None),
        (5, PartialDate("1980-02", DatePrecision.MONTH), "1980年2月－1990年"),
    ]


def test_date_range_with_an_invalid_start_is_a_warning() -> None:
    doc = PIPE_HEAD + f"| 〖{_md('A')}〗- | | <small>{_md('C')}{_md('P')}（1998年13月－2003年） |\n"
    result = _parse(doc)
    (record,) = result.records
    assert isinstance(record, Twinning)
    assert (record.date, record.note) == (None, "1998年13月－2003年")
    assert [(w.source.line, "invalid start date" in w.reason) for w in result.warnings] == [
        (5, True)
    ]


def test_text_with_a_dash_but_no_leading_date_is_a_note() -> None:
    doc = PIPE_HEAD + f"| 〖{_md('A')}〗- | | <small>{_md('C')}{_md('P')}（友好協議-1998年） |\n"
    (record,) = _parse(doc).records
    assert isinstance(record, Twinning)
    assert (record.date, record.note) == (None, "友好協議-1998年")


def test_pipe_note_and_escaped_titles() -> None:
    doc = PIPE_HEAD + (
        f"| 〖{_md(':甲市', '甲市')}〗- | | <small>{_md('國')}"
        '[乙 (丙)](../Page/乙_\\(丙\\).md "wikilink")（友好協議）\n'
    )
    # the row is cut short (no closing |): rejected
    result = _parse(doc)
    assert not result.records
    assert [r.source.line for r in result.rejections] == [5]
    result = _parse(doc.rstrip("\n") + " |\n")
    (record,) = result.records
    assert isinstance(record, Twinning)
    assert record.cn == _links("甲市")
    assert record.partner == (WikiLink("乙_(丙)", "乙 (丙)"),)
    assert record.note == "友好協議" and record.date is None


def test_pipe_continuation_without_chinese_place_is_rejected() -> None:
    doc = PIPE_HEAD + f"| | | <small>{_md('C')}{_md('P')}（1990年） |\n"
    result = _parse(doc)
    assert not result.records
    assert [(r.source.line, "no Chinese place" in r.reason) for r in result.rejections] == [
        (5, True)
    ]


@pytest.mark.parametrize(
    "row",
    [
        "| 〖甲市〗- | | <small>[國](../Page/國.md)[乙](../Page/乙.md) |",  # cn without link
        "| | | <small>乙市（1990年） |",  # no links at all
        "| | | <small>[國](../Page/國.md)、[乙](../Page/乙.md) |",  # text between links
        "| | | <small>[國](../Page/國.md)[乙](../Page/乙.md) 1990 |",  # stray text
        "| | something | <small>[國](../Page/國.md)[乙](../Page/乙.md) |",  # middle cell
        "| | | <small>[國](../Page/國.md)[乙](../Page/乙.md)（1990年）（1991年） |",  # two dates
        "- a list item, not a row",
    ],
)
def test_pipe_rows_not_understood_are_rejected(row: str) -> None:
    doc = PIPE_HEAD + f"| 〖{_md('A')}〗- | | <small>{_md('C')}{_md('P')} |\n{row}\n"
    result = _parse(doc)
    assert len(result.records) == 1
    assert [r.source.line for r in result.rejections] == [6]


def test_structure_is_not_a_record_or_rejection() -> None:
    doc = (
        f"此列表列出{_md('友好城市')}。\n\n## 甲\n\n## 乙\n\n"
        "|   |   |\n| --: | --- |\n| | | <small> |\n\n"
        f'[Category:X](https://zh.wikipedia.org/wiki/Category:X "wikilink")'
    )
    result = _parse(doc)
    assert not result.records and not result.rejections and not result.warnings
    assert result.blank_rows == 1
    assert list(result.groups) == [("甲", 0), ("乙", 0)]


HTML_DOC = (
    "## 北京\n"  # 1
    "\n"  # 2
    "<table>\n"  # 3
    "<tbody>\n"  # 4
    '<tr class="odd">\n'  # 5
    f"<td><p>{_a('甲市')}</p></td>\n"
    f"<td><p>{_a('東京都')}{_a('新宿區')}</p></td>\n"
    "<td><p>1979年3月14日</p></td>\n"
    "</tr>\n"
    '<tr class="even">\n'  # 10
    f"<td><p>{_a('紐約')}</p></td>\n"
    "<td><p>1980年</p></td>\n"
    "<td></td>\n"
    "</tr>\n"
    "</tbody>\n"  # 15
    "</table>\n"
)


def test_html_table_lines_and_continuation() -> None:
    result = _parse(HTML_DOC)
    assert not result.rejections and not result.warnings
    first, second = result.records
    assert isinstance(first, Twinning) and isinstance(second, Twinning)
    assert first.source.line == 5 and second.source.line == 10
    assert first.partner == _links("東京都", "新宿區")
    assert second.cn == _links("甲市") and second.partner == _links("紐約")
    assert second.date == PartialDate("1980", DatePrecision.YEAR)


@pytest.mark.parametrize(
    ("broken", "reason"),
    [
        ("<td><p>1980年</p></td>\n", "cells"),  # a missing cell
        ("<td><p>1980年</p>\n<td></td>\n", "unclosed"),  # unclosed <td>
        ("<td><p>1980年</p></td>\n<td><a href='x'>bad\n", "unclosed"),  # unclosed <a>
        ("<td><p>紐約</p></td>\n<td><p>1980年</p></td>\n<td></td>\n", "no partner link"),
    ],
)
def test_html_broken_row_is_rejected(broken: str, reason: str) -> None:
    doc = HTML_DOC.replace(
        f"<td><p>{_a('紐約')}</p></td>\n<td><p>1980年</p></td>\n<td></td>\n",
        f"<td><p>{_a('紐約')}</p></td>\n{broken}" if "紐約" not in broken else broken,
    )
    result = _parse(doc)
    assert len(result.records) == 1
    assert [r.source.line for r in result.rejections] == [10]
    assert reason in result.rejections[0].reason


def test_html_row_not_closed_is_rejected() -> None:
    doc = HTML_DOC.replace("<td></td>\n</tr>\n", "<td></td>\n")
    result = _parse(doc)
    assert len(result.records) == 1
    assert [(r.source.line, "not closed" in r.reason) for r in result.rejections] == [(10, True)]


def test_html_stray_content_is_rejected() -> None:
    doc = HTML_DOC.replace("</tbody>\n", "stray text\n</tbody>\n")
    result = _parse(doc)
    assert len(result.records) == 2
    assert [r.source.line for r in result.rejections] == [15]


@pytest.mark.parametrize("cut", [30, 200, 420, 700, 1000, 1800, 2600, 3500, 6000, 9000])
def test_truncated_seed(seed: ParseResult, cut: int) -> None:
    """Cut the seed anywhere: complete rows before the cut come back unchanged, the cut is
    reported (rejection or warning at or before the last line), nothing raises."""
    text = SEED.read_text(encoding="utf-8")[:cut]
    result = _parse(text)
    last_line = text.count("\n") + 1
    full = {r.source.line: r for r in seed.records}
    for record in result.records:
        assert record.source.line <= last_line
        assert record == Twinning(
            **{
                **{
                    f: getattr(full[record.source.line], f)
                    for f in (
                        "section",
                        "cn",
                        "partner",
                        "country",
                        "date",
                        "note",
                        "cn_prefix",
                        "cn_from_section",
                    )
                },
                "source": record.source,
            }
        )
    expected = [line for line in full if line < last_line - 4]
    assert [r.source.line for r in result.records][: len(expected)] == expected


def test_truncated_inside_html_table_is_reported() -> None:
    text = SEED.read_text(encoding="utf-8")
    cut = text.index("紐約")  # mid-row, line 13
    result = _parse(text[:cut])
    assert [r.source.line for r in result.records] == [7]
    assert [r.source.line for r in result.rejections] == [12]
    assert [(w.source.line, "not closed" in w.reason) for w in result.warnings] == [(5, True)]


def test_truncated_inside_pipe_row_is_reported() -> None:
    text = SEED.read_text(encoding="utf-8")
    cut = text.index("草加市")  # mid-row, line 507
    result = _parse(text[:cut])
    assert result.records[-1].source.line == 506
    assert [r.source.line for r in result.rejections] == [507]
