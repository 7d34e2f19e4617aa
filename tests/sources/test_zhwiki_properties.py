"""Property tests: generated zh.wikipedia-style documents (HTML and pipe tables, empty
sections, blank rows, continuation rows, multi-link places, every date precision, notes,
escaped and colon-prefixed titles) come back row for row."""

from __future__ import annotations

import html
from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from kg.model import DatePrecision, PartialDate, Twinning, WikiLink
from kg.sources import parse_text, zhwiki

CJK = "甲乙丙丁戊己庚辛壬癸市區縣省州郡東西南北中華"
TITLE_CHARS = CJK + "_-()·&0123456789ab"
LABEL_CHARS = CJK + " ()·"


@dataclass(frozen=True)
class Link:
    """A generated link: the title as written (maybe ``:``-prefixed) and its label."""

    written: str
    label: str

    @property
    def expected(self) -> WikiLink:
        return WikiLink(title=self.written.removeprefix(":"), label=self.label)

    def md(self) -> str:
        escaped = self.written.replace("(", "\\(").replace(")", "\\)")
        return f'[{self.label}](../Page/{escaped}.md "wikilink")'

    def html(self) -> str:
        href = html.escape(f"../Page/{self.written}.md", quote=True)
        return f'<a href="{href}" title="wikilink">{html.escape(self.label)}</a>'


@st.composite
def links(draw: st.DrawFn) -> Link:
    title = draw(st.text(TITLE_CHARS, min_size=1, max_size=8).filter(lambda s: s[0] != ":"))
    colon = draw(st.booleans()) and draw(st.booleans())
    label = draw(
        st.one_of(
            st.just(title),
            st.text(LABEL_CHARS, min_size=1, max_size=6).map(str.strip).filter(bool),
        )
    )
    return Link(written=(":" if colon else "") + title, label=label)


@st.composite
def dates(draw: st.DrawFn) -> tuple[str, PartialDate]:
    year = draw(st.integers(1950, 2030))
    precision = draw(st.sampled_from(list(DatePrecision)))
    if precision is DatePrecision.YEAR:
        return f"{year}年", PartialDate(f"{year}", precision)
    month = draw(st.integers(1, 12))
    if precision is DatePrecision.MONTH:
        return f"{year}年{month}月", PartialDate(f"{year}-{month:02d}", precision)
    day = draw(st.integers(1, 28))
    return f"{year}年{month}月{day}日", PartialDate(f"{year}-{month:02d}-{day:02d}", precision)


NOTES = st.sampled_from(["友好協約書", "友好協議", "文化備忘錄"])


@dataclass(frozen=True)
class Row:
    """What one generated row must come back as."""

    line: int
    section: str
    cn: tuple[WikiLink, ...]
    prefix: str
    partner: tuple[WikiLink, ...]
    country: WikiLink | None
    date: PartialDate | None
    note: str | None


@dataclass
class Doc:
    lines: list[str]
    rows: list[Row]
    blank_rows: int
    groups: list[tuple[str, int]]

    def emit(self, line: str) -> int:
        self.lines.append(line)
        return len(self.lines)


def _pipe_section(draw: st.DrawFn, doc: Doc, section: str) -> None:
    doc.emit("|    |    |")
    doc.emit("| ---: | --- |")
    for _ in range(draw(st.integers(1, 4))):
        cn = draw(st.lists(links(), min_size=1, max_size=2))
        prefix = draw(st.sampled_from(["", "", "信陽市"]))
        for k in range(draw(st.integers(1, 3))):
            if draw(st.integers(0, 5)) == 0:
                doc.emit("|   | | <small>  |")
                doc.blank_rows += 1
            country = draw(links())
            partner = draw(st.lists(links(), min_size=1, max_size=3))
            kind = draw(st.sampled_from(["date", "note", "none"]))
            date: tuple[str, PartialDate] | None = draw(dates()) if kind == "date" else None
            note = draw(NOTES) if kind == "note" else None
            trailer = f"（{date[0]}）" if date else f"（{note}）" if note else ""
            first = f"〖{prefix}{''.join(x.md() for x in cn)}〗-" if k == 0 else ""
            last = "<small>" + country.md() + "".join(x.md() for x in partner) + trailer
            line = doc.emit(f"| {first} | | {last} |")
            doc.rows.append(
                Row(
                    line,
                    section,
                    tuple(x.expected for x in cn),
                    prefix,
                    tuple(x.expected for x in partner),
                    country.expected,
                    date[1] if date else None,
                    note,
                )
            )


def _html_section(draw: st.DrawFn, doc: Doc, section: str) -> None:
    doc.emit("<table>")
    doc.emit("<tbody>")

    def tr(cells: list[str]) -> int:
        line = doc.emit('<tr class="odd">')
        for cell in cells:
            doc.emit(f"<td><p>{cell}</p></td>" if cell else "<td></td>")
        doc.emit("</tr>")
        return line

    for _ in range(draw(st.integers(1, 4))):
        cn = draw(st.lists(links(), min_size=1, max_size=2))
        for k in range(draw(st.integers(1, 3))):
            if draw(st.integers(0, 5)) == 0:
                tr(["", "", ""])
                doc.blank_rows += 1
            partner = draw(st.lists(links(), min_size=1, max_size=3))
            date_text, date = draw(dates())
            note = draw(st.one_of(st.none(), NOTES))
            partner_cell = "".join(x.html() for x in partner) + (f"（{note}）" if note else "")
            if k == 0:
                line = tr(["".join(x.html() for x in cn), partner_cell, date_text])
            else:
                line = tr([partner_cell, date_text, ""])
            doc.rows.append(
                Row(
                    line,
                    section,
                    tuple(x.expected for x in cn),
                    "",
                    tuple(x.expected for x in partner),
                    None,
                    date,
                    note,
                )
            )
    doc.emit("</tbody>")
    doc.emit("</table>")


@st.composite
def documents(draw: st.DrawFn) -> Doc:
    doc = Doc(lines=[], rows=[], blank_rows=0, groups=[])
    doc.emit('此列表列出中華人民共和國的[友好城市](../Page/友好城市.md "wikilink")。')
    names = draw(
        st.lists(st.text(CJK, min_size=1, max_size=4), min_size=1, max_size=6, unique=True)
    )
    for name in names:
        doc.emit("")
        doc.emit(f"## {name}")
        doc.emit("")
        before = len(doc.rows)
        kind = draw(st.sampled_from(["empty", "html", "pipe"]))
        if kind == "html":
            _html_section(draw, doc, name)
        elif kind == "pipe":
            _pipe_section(draw, doc, name)
        doc.groups.append((name, len(doc.rows) - before))
    doc.emit("")
    doc.emit('[Category:X](https://zh.wikipedia.org/wiki/Category:X "wikilink")')
    return doc


@settings(max_examples=50, deadline=None)
@given(documents())
def test_every_generated_row_comes_back_once(doc: Doc) -> None:
    text = "\n".join(doc.lines) + "\n"
    # Detected as `kg parse` does whenever a table row holds a link (a document of empty
    # sections only has nothing that marks it as this format).
    assert zhwiki.looks_like(text) == bool(doc.rows)
    result = parse_text(text, "gen.md", source=None if doc.rows else "zhwiki")
    assert result.doc == "zhwiki"
    assert not result.rejections, result.rejections
    assert not result.warnings, result.warnings
    assert result.blank_rows == doc.blank_rows
    assert list(result.groups) == doc.groups
    got = []
    for record in result.records:
        assert isinstance(record, Twinning)
        got.append(
            Row(
                record.source.line,
                record.section,
                record.cn,
                record.cn_prefix,
                record.partner,
                record.country,
                record.date,
                record.note,
            )
        )
    assert got == doc.rows


@settings(max_examples=50, deadline=None)
@given(documents(), st.integers(0, 10_000))
def test_any_truncation_keeps_complete_rows_and_never_raises(doc: Doc, cut: int) -> None:
    """A document cut anywhere: every row whose text ends before the cut comes back as
    generated, and no row comes back that was not generated."""
    text = "\n".join(doc.lines) + "\n"
    cut = min(cut, len(text))
    result = zhwiki.parse(text[:cut], "gen.md")
    last_full_line = text[:cut].count("\n")  # lines 1..last_full_line are complete
    expected = {row.line: row for row in doc.rows}
    for record in result.records:
        assert isinstance(record, Twinning)
        row = expected[record.source.line]
        assert (record.cn, record.partner, record.country) == (row.cn, row.partner, row.country)
    back = {r.source.line for r in result.records}
    # a complete HTML row spans 5 lines (<tr>, 3 cells, </tr>)
    for row in doc.rows:
        span = 5 if doc.lines[row.line - 1].startswith("<tr") else 1
        if row.line + span - 1 <= last_full_line:
            assert row.line in back
