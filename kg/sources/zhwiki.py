"""Parser for the zh.wikipedia list of PRC sister cities (a Markdown export of a MediaWiki page).

The document has one ``## `` section per province-level division (many are empty). A
section holds either an HTML table or a Markdown pipe table:

* **HTML tables** (北京, 天津市, 內蒙古自治区) have no country column. A row with three
  non-empty cells is ``[Chinese place, partner, date]``; a row whose third cell is empty
  continues the Chinese place of the row above: ``[partner, date, '']``. A table with a
  header row (澳門: 國家 / 城市 / 締結日期) is read by its header; when it names no Chinese
  place, the section heading is the Chinese side (``cn_from_section=True``, one warning per
  such table says so).
* **Pipe tables** (河南 onwards): ``| 〖[Chinese place]〗- | | <small>[country][partner…]（date or
  note） |``. An empty first cell continues the Chinese place above. In the last cell the
  first link is the country and the remaining links are the partner, parents first.

Links are ``[label](../Page/TITLE.md "wikilink")`` or ``<a href="../Page/TITLE.md">label</a>``;
titles are unescaped (``\\(`` -> ``(``), keep their underscores, and lose MediaWiki's leading
colon (``:普羅夫迪夫州`` targets the article ``普羅夫迪夫州``).

Every line is accounted for. Headings, the intro paragraph before the first heading, table
scaffolding (``<table>``, ``<tbody>``, separator rows and a pipe header row of empty cells
above one), the Category line and blank lines are structure. Everything else is one of the
data ``rows``: an empty table row (``| | <small> |``) is counted in ``blank_rows``, any
other is a record or a rejection with its line and reason; in particular a row with a
country but no partner, a row with no links, an HTML row with a missing cell or unbalanced
tags, a row with content directly above a separator (read as a row, not as a header), HTML
row markup outside a ``<table>`` (the intro included), a table row before the first
heading (no province to list it under), and any text this parser does not understand.

Decisions (see the tests):

* An invalid or unreadable date (``1985年13月``, ``1985年2月30日``) keeps the record, without a
  date, and adds a warning with the line: the twinning itself is still stated by the page.
* Truncation: an HTML table that is never closed gives a warning at its ``<table>`` line,
  and its unfinished row is rejected; a pipe row cut mid-line (no closing ``|``) is
  rejected. Complete rows before the cut are kept. A cut that falls exactly between two
  pipe rows cannot be told from a shorter page (the seed itself ends without a newline).
* A date range (``1998年11月1日－2003年``, ``1998年至今``) gives its start as the date and
  is kept whole as the note. Full-width digits (``１９８６年``) read as ASCII ones.
* Text before a link in the Chinese cell (``〖信陽市[溮河區]〗``) goes to ``cn_prefix``; text
  between two links, or before the country link, is not understood and rejects the row.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field

import lxml.html
from lxml.etree import ParserError, XMLSyntaxError
from lxml.html import HtmlElement

from kg.model import (
    DatePrecision,
    Issue,
    ParseResult,
    PartialDate,
    Record,
    SourceRef,
    Twinning,
    WikiLink,
)

__all__ = ["looks_like", "parse", "parse_date"]

# [label](../Page/TITLE.md "wikilink"): the title may hold backslash escapes (\( \)).
_MD_LINK = re.compile(
    r'\[(?P<label>(?:\\.|[^\]\\])*)\]\(\.\./Page/(?P<title>(?:\\.|[^)\\])+?)\.md(?:\s+"[^"]*")?\)'
)
_HTML_PAGE_HREF = re.compile(r"^\.\./Page/(?P<title>.+)\.md$")
_HTML_LINK = re.compile(r'<a\s[^>]*href="\.\./Page/[^"]+\.md"')
_MD_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
_CODE_SPAN = re.compile(r"`[^`]*`")
_HEADING = re.compile(r"^(#{1,6})\s+(?P<name>.*?)\s*#*\s*$")
_CATEGORY = re.compile(r"^\[Category:[^\]]*\]\([^)]*\)\s*$")
_PIPE_SEPARATOR = re.compile(r"^\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$")
_SMALL_TAGS = re.compile(r"</?small\s*>|<br\s*/?>", re.IGNORECASE)
_CN_BRACKETS = re.compile(r"^〖(?P<inner>.*)〗\s*-?$")
_PAREN = re.compile(r"\s*[（(](?P<inner>[^（）()]*)[）)]\s*")
_DATE = re.compile(
    r"^(?P<y>[0-9]{4})\s*年(?:\s*(?P<m>[0-9]{1,2})\s*月(?:\s*(?P<d>[0-9]{1,2})\s*日)?)?$"
)
_DATE_LIKE = re.compile(r"\d+\s*年")
# Only digits, 年月日 and an optional sign: meant as a date (``0年``, ``-5年``, ``99999年``).
_DATE_SHAPED = re.compile(r"[-+−]?[\d\s年月日]+")
# HTML row markup outside a <table> (before the first heading, or between tables).
_ROW_MARKUP = re.compile(r"</?(?:tr|td|th)\b", re.IGNORECASE)
# A range ``1998年11月1日－2003年`` / ``1998年至今``: the start is the date of the twinning.
_DATE_RANGE = re.compile(r"^(?P<start>[^-–—－~～〜至到]+?)\s*(?:[-–—－~～〜]|至|到)\s*\S")
_TAG = re.compile(r"<(?P<close>/?)(?P<name>[A-Za-z][A-Za-z0-9]*)\b[^<>]*?(?P<self>/?)>")
_TR_OPEN = re.compile(r"<tr\b[^>]*>", re.IGNORECASE)
_TR_CLOSE = re.compile(r"</tr\s*>", re.IGNORECASE)
_TABLE_SCAFFOLD = re.compile(r"</?(?:table|tbody|thead|tfoot|colgroup|col)\b[^>]*>", re.IGNORECASE)
_VOID_TAGS = frozenset({"br", "img", "hr", "col", "wbr", "input", "meta", "link"})

# Header cell text -> column role in header-aware HTML tables.
_HEADER_ROLES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("國家", "国家"), "country"),
    (("日期", "時間", "时间", "年份"), "date"),
    (("中國", "中国", "本地"), "cn"),
    (("城市", "友好", "夥伴", "伙伴"), "partner"),
)

Token = WikiLink | str


class _RowError(Exception):
    """A row this parser cannot read; becomes a rejection with the row's line."""


def looks_like(text: str) -> bool:
    """True when ``text`` looks like the zh.wikipedia export: a heading, and a table row
    (pipe row or HTML cell) holding a wikilink to ``../Page/…md`` outside a code span (so a
    README that merely describes the format is not taken for it)."""
    heading = row_link = False
    for raw in text[:200_000].split("\n"):
        line = _CODE_SPAN.sub("", raw.strip())
        if _HEADING.match(line):
            heading = True
        elif (line.startswith("|") and _MD_LINK.search(line)) or (
            "<td" in line.lower() and _HTML_LINK.search(line)
        ):
            row_link = True
        if heading and row_link:
            return True
    return False


def parse_date(text: str) -> PartialDate | None:
    """``1986年`` / ``2013年12月`` / ``1985年9月12日`` -> :class:`PartialDate`.

    Returns None when ``text`` is not of that shape; raises :class:`ValueError` when it is
    but names no real date (year 0, month 13, 30 February).
    """
    # NFKC turns full-width digits (１９８６年) into ASCII ones; other scripts' digits
    # do not match, so the ISO string is always ASCII.
    m = _DATE.match(unicodedata.normalize("NFKC", text).strip())
    if m is None:
        return None
    year, month, day = m.group("y"), m.group("m"), m.group("d")
    if int(year) == 0:
        raise ValueError("year 0 does not exist")
    if month is None:
        return PartialDate(iso=year, precision=DatePrecision.YEAR)
    if not 1 <= int(month) <= 12:
        raise ValueError(f"month {int(month)} out of range")
    if day is None:
        return PartialDate(iso=f"{year}-{int(month):02d}", precision=DatePrecision.MONTH)
    value = datetime.date(int(year), int(month), int(day))  # raises ValueError
    return PartialDate(iso=value.isoformat(), precision=DatePrecision.DAY)


def _title(raw: str, *, markdown: bool) -> str:
    title = raw.strip()
    if markdown:
        title = _MD_ESCAPE.sub(r"\1", title)
    # [[:X]] in MediaWiki links to the article X (the colon only suppresses categorising).
    if title.startswith(":"):
        title = title[1:]
    return title


def _md_tokens(cell: str) -> list[Token]:
    """A pipe-table cell as a list of links and text runs (``<small>`` dropped)."""
    tokens: list[Token] = []
    pos = 0
    for m in _MD_LINK.finditer(cell):
        tokens.append(cell[pos : m.start()])
        label = _MD_ESCAPE.sub(r"\1", m.group("label")).strip()
        tokens.append(WikiLink(title=_title(m.group("title"), markdown=True), label=label))
        pos = m.end()
    tokens.append(cell[pos:])
    return _tidy([_SMALL_TAGS.sub("", t) if isinstance(t, str) else t for t in tokens])


def _html_tokens(cell: HtmlElement) -> list[Token]:
    """An HTML table cell as a list of links and text runs."""
    tokens: list[Token] = []

    def walk(el: HtmlElement) -> None:
        if el.tag == "a":
            href = el.get("href") or ""
            label = el.text_content().strip()
            m = _HTML_PAGE_HREF.match(href)
            if m:
                tokens.append(WikiLink(title=_title(m.group("title"), markdown=False), label=label))
            else:
                # Not a wikilink: kept as text so the row is rejected as not understood.
                tokens.append(f"<a href={href!r}>{label}</a>")
        else:
            if el.tag == "br":
                tokens.append(" ")
            tokens.append(el.text or "")
            for child in el:
                if isinstance(child.tag, str):  # skip comments and processing instructions
                    walk(child)
                tokens.append(child.tail or "")

    tokens.append(cell.text or "")
    for child in cell:
        if isinstance(child.tag, str):
            walk(child)
        tokens.append(child.tail or "")
    return _tidy(tokens)


def _tidy(tokens: list[Token]) -> list[Token]:
    """Merge adjacent text runs and drop whitespace-only ones."""
    out: list[Token] = []
    for token in tokens:
        if isinstance(token, str) and out and isinstance(out[-1], str):
            out[-1] += token
        else:
            out.append(token)
    return [
        t.strip() if isinstance(t, str) else t
        for t in out
        if not (isinstance(t, str) and not t.strip())
    ]


def _links_with_text(tokens: list[Token], what: str) -> tuple[str, tuple[WikiLink, ...], str]:
    """Split ``tokens`` into (text before, adjacent links, text after).

    Raises :class:`_RowError` when text sits between two links.
    """
    links = [i for i, t in enumerate(tokens) if isinstance(t, WikiLink)]
    if not links:
        return "".join(t for t in tokens if isinstance(t, str)), (), ""
    first, last = links[0], links[-1]
    between = [t for t in tokens[first:last] if isinstance(t, str)]
    if between:
        raise _RowError(f"text between the links of the {what}: {between[0]!r}")
    before = "".join(t for t in tokens[:first] if isinstance(t, str))
    after = "".join(t for t in tokens[last + 1 :] if isinstance(t, str))
    return before, tuple(t for t in tokens if isinstance(t, WikiLink)), after


@dataclass
class _Dated:
    """A date and/or note read from parenthesised text, and any date problem."""

    date: PartialDate | None = None
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def note(self) -> str | None:
        return "；".join(self.notes) if self.notes else None

    def add(self, text: str) -> None:
        """Read one piece of text as a date (if it has the shape of one) or a note."""
        text = text.strip()
        if not text:
            return
        try:
            date = parse_date(text)
        except ValueError as exc:
            self.problems.append(f"invalid date {text!r} ({exc}); kept without a date")
            return
        shape = unicodedata.normalize("NFKC", text)
        if date is None and _DATE_LIKE.search(shape) and _DATE_SHAPED.fullmatch(shape):
            # Meant as a date but not one (0年, -5年, 99999年): said, not kept as a note.
            self.problems.append(f"unreadable date {text!r}; kept without a date")
            return
        if date is None:
            # A range keeps its start as the date and the whole text as the note (the end
            # of the range is not lost); anything else is a note.
            date = self._range_start(text)
            self.notes.append(text)
            if date is None:
                return
        if self.date is not None:
            raise _RowError(f"two dates in one row: {self.date.iso} and {text!r}")
        self.date = date

    def _range_start(self, text: str) -> PartialDate | None:
        """The start of a date range (``1998年11月1日－2003年``, ``1998年至今``), or None
        when ``text`` does not start with a date followed by a range sign."""
        m = _DATE_RANGE.match(text)
        if m is None:
            return None
        try:
            return parse_date(m.group("start"))
        except ValueError as exc:
            self.problems.append(f"invalid start date in the range {text!r} ({exc})")
            return None


def _read_parenthesised(text: str, dated: _Dated, what: str) -> None:
    """Read ``（…）（…）`` groups into ``dated``; other text rejects the row."""
    pos = 0
    for m in _PAREN.finditer(text):
        if m.start() != pos:
            break
        dated.add(m.group("inner"))
        pos = m.end()
    rest = text[pos:].strip()
    if rest:
        raise _RowError(f"unexpected text after the {what}: {rest!r}")


def _read_date_cell(text: str, dated: _Dated) -> None:
    """An HTML date cell: a date, a note, or parenthesised ones."""
    text = text.strip()
    if text.startswith(("（", "(")):
        _read_parenthesised(text, dated, "date")
    else:
        dated.add(text)


@dataclass
class _State:
    """Parse state: where we are and what has been found."""

    file: str
    records: list[Record] = field(default_factory=list)
    rejections: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    blank_rows: int = 0
    #: data rows read: each ends as exactly one record, rejection or blank row
    rows: int = 0
    groups: dict[str, int] = field(default_factory=dict)
    section: str | None = None
    # The Chinese place that continuation rows refer to: (prefix, links).
    current_cn: tuple[str, tuple[WikiLink, ...]] | None = None

    def ref(self, line: int) -> SourceRef:
        return SourceRef("zhwiki", self.file, line)

    def reject(self, line: int, reason: str, text: str) -> None:
        self.rejections.append(Issue(self.ref(line), reason, text.strip()))

    def warn(self, line: int, reason: str, text: str = "") -> None:
        self.warnings.append(Issue(self.ref(line), reason, text.strip()))

    def add(
        self,
        line: int,
        *,
        cn: tuple[WikiLink, ...],
        partner: tuple[WikiLink, ...],
        country: WikiLink | None,
        dated: _Dated,
        cn_prefix: str = "",
        cn_from_section: bool = False,
        text: str = "",
    ) -> None:
        if self.section is None:
            # Before the first heading nothing says which province the row belongs to.
            self.reject(line, "table row before the first section heading: no province", text)
            return
        section = self.section
        for problem in dated.problems:
            self.warn(line, problem, text)
        self.records.append(
            Twinning(
                source=self.ref(line),
                section=section,
                cn=cn,
                partner=partner,
                country=country,
                date=dated.date,
                note=dated.note,
                cn_prefix=cn_prefix,
                cn_from_section=cn_from_section,
            )
        )
        self.groups[section] = self.groups.get(section, 0) + 1


def parse(text: str, file: str) -> ParseResult:
    """Parse the zh.wikipedia sister-city list in ``text`` (named ``file`` in records).

    Never raises on content: every row that is not a record is a rejection or warning
    with its line (see the module docstring).
    """
    state = _State(file=file)
    lines = [line.rstrip("\r") for line in text.split("\n")]
    i = 0
    while i < len(lines):
        raw = lines[i]
        line = raw.strip()
        lineno = i + 1
        if not line:
            i += 1
            continue
        heading = _HEADING.match(line)
        if heading:
            state.section = heading.group("name")
            state.groups.setdefault(state.section, 0)
            state.current_cn = None
            i += 1
            continue
        if line.lower().startswith("<table"):
            i = _html_table(state, lines, i)
            state.current_cn = None
            continue
        if line.startswith("|"):
            i = _pipe_table(state, lines, i)
            state.current_cn = None
            continue
        if _ROW_MARKUP.search(line):
            # A row outside any table: a rejection wherever it is, the intro included.
            state.rows += 1
            state.reject(lineno, "HTML table row markup outside a <table>", raw)
        elif not (_CATEGORY.match(line) or state.section is None):
            # (The Category line and the intro paragraph before the first section are
            # structure.)
            state.rows += 1
            state.reject(lineno, "not a table row, heading or category line", raw)
        i += 1
    return ParseResult(
        doc="zhwiki",
        file=file,
        records=tuple(state.records),
        rejections=tuple(sorted(state.rejections, key=lambda x: x.source.line)),
        warnings=tuple(sorted(state.warnings, key=lambda x: x.source.line)),
        blank_rows=state.blank_rows,
        rows=state.rows,
        groups=tuple(state.groups.items()),
    )


# ---------------------------------------------------------------------------- pipe tables


def _split_pipe_row(line: str) -> list[str] | None:
    """Cells of a pipe row (links kept whole even if they hold ``|``); None if the row is
    not closed by a final ``|`` (cut short)."""
    links: list[str] = []

    def hide(m: re.Match[str]) -> str:
        links.append(m.group(0))
        return f"\x00{len(links) - 1}\x00"

    masked = _MD_LINK.sub(hide, line.strip()).replace("\\|", "\x01")
    if not masked.endswith("|") or len(masked) < 2:
        return None
    cells = masked[1:-1].split("|")
    restore = re.compile("\x00(\\d+)\x00")
    return [restore.sub(lambda m: links[int(m.group(1))], c).replace("\x01", "|") for c in cells]


def _pipe_table(state: _State, lines: list[str], start: int) -> int:
    """Read consecutive pipe rows from ``lines[start]``; returns the next line index."""
    i = start
    while i < len(lines) and lines[i].strip().startswith("|"):
        line = lines[i].strip()
        lineno = i + 1
        nxt = lines[i + 1].strip() if i + 1 < len(lines) else ""
        if _PIPE_SEPARATOR.match(line):
            i += 1  # separator row: structure
            continue
        if _PIPE_SEPARATOR.match(nxt) and nxt.startswith("|") and _empty_cells(line):
            # Header row (the page's are empty), followed by its separator: structure.
            state.current_cn = None
            i += 2
            continue
        # Anything else, a row with content above a separator included, is a data row.
        state.rows += 1
        _pipe_row(state, lines[i], lineno)
        i += 1
    return i


def _empty_cells(line: str) -> bool:
    """True when the pipe row ``line`` has only empty cells (``|   |   |``)."""
    cells = _split_pipe_row(line)
    return cells is not None and all(not _SMALL_TAGS.sub("", c).strip() for c in cells)


def _pipe_row(state: _State, raw: str, lineno: int) -> None:
    cells = _split_pipe_row(raw)
    if cells is None:
        state.reject(lineno, "table row is cut short (no closing '|'): broken or truncated", raw)
        return
    if len(cells) < 2:
        state.reject(lineno, f"table row has {len(cells)} cell, expected 3", raw)
        return
    first, middle, last = cells[0], cells[1:-1], cells[-1]
    if all(not _SMALL_TAGS.sub("", c).strip() for c in cells):
        state.blank_rows += 1
        return
    try:
        if any(_SMALL_TAGS.sub("", c).strip() for c in middle):
            raise _RowError(f"unexpected text in the middle cell: {middle!r}")
        if first.strip():
            state.current_cn = _pipe_cn(first)
        last_tokens = _md_tokens(last)
        before, links, after = _links_with_text(last_tokens, "partner cell")
        if not links:
            what = f": {before!r}" if before else ""
            raise _RowError(f"no partner links in the last cell{what}")
        if before:
            raise _RowError(f"unexpected text before the country link: {before!r}")
        dated = _Dated()
        _read_parenthesised(after, dated, "partner links")
        if len(links) < 2:
            raise _RowError(
                f"a country ({links[0].title}) but no partner city"
                + (f" (date {dated.date.iso})" if dated.date else "")
            )
        if state.current_cn is None:
            raise _RowError("continuation row with no Chinese place above it")
        prefix, cn = state.current_cn
    except _RowError as exc:
        state.reject(lineno, str(exc), raw)
        return
    state.add(
        lineno,
        cn=cn,
        partner=links[1:],
        country=links[0],
        dated=dated,
        cn_prefix=prefix,
        text=raw,
    )


def _pipe_cn(cell: str) -> tuple[str, tuple[WikiLink, ...]]:
    """``〖信陽市[溮河區](…)〗-`` -> ("信陽市", links). Raises :class:`_RowError`."""
    text = cell.strip()
    m = _CN_BRACKETS.match(text)
    inner = m.group("inner") if m else text
    prefix, links, after = _links_with_text(_md_tokens(inner), "Chinese place")
    if not links:
        raise _RowError(f"the Chinese place has no link: {text!r}")
    if after:
        raise _RowError(f"unexpected text after the Chinese place: {after!r}")
    return prefix, links


# ---------------------------------------------------------------------------- HTML tables


def _line_of(block: str, pos: int, first_line: int) -> int:
    return first_line + block.count("\n", 0, pos)


def _html_table(state: _State, lines: list[str], start: int) -> int:
    """Read the HTML table starting at ``lines[start]``; returns the next line index."""
    end = start
    closed = False
    while end < len(lines):
        if "</table>" in lines[end].lower():
            closed = True
            break
        if end > start and _HEADING.match(lines[end].strip()):
            break
        end += 1
    if closed:
        stop = end + 1
    else:
        stop = end
        where = "the document ends" if end >= len(lines) else f"line {end + 1} starts a section"
        state.warn(
            start + 1,
            f"HTML table is not closed ({where}): truncated? complete rows kept",
            lines[start],
        )
    first_line = start + 1
    block = "\n".join(lines[start:stop])
    spans = list(_row_spans(block))

    # Whatever lies outside the rows must be table scaffolding.
    outside = list(block)
    for s, e, _ in spans:
        outside[s:e] = [c if c == "\n" else " " for c in block[s:e]]
    for k, rest in enumerate(_TABLE_SCAFFOLD.sub("", "".join(outside)).split("\n")):
        if rest.strip():
            state.rows += 1
            state.reject(first_line + k, "unexpected content in an HTML table", rest)

    table = _HtmlTable(state)
    for s, e, row_closed in spans:
        table.row(block[s:e], _line_of(block, s, first_line), row_closed)
    return stop


def _row_spans(block: str) -> Iterator[tuple[int, int, bool]]:
    """(start, end, closed) of each ``<tr>…</tr>`` in ``block``; an unclosed row runs to
    the next ``<tr>`` or the end of the block."""
    opens = list(_TR_OPEN.finditer(block))
    for k, m in enumerate(opens):
        limit = opens[k + 1].start() if k + 1 < len(opens) else len(block)
        close = _TR_CLOSE.search(block, m.end(), limit)
        if close is not None:
            yield m.start(), close.end(), True
        else:
            yield m.start(), limit, False


def _tag_problem(text: str) -> str | None:
    """Why the tags of a row's source do not balance, or None."""
    if re.search(r"<[^<>]*(?:<|$)", text):
        return "a tag is cut off"
    counts: dict[str, int] = {}
    for m in _TAG.finditer(text):
        name = m.group("name").lower()
        if name in _VOID_TAGS or m.group("self"):
            continue
        counts[name] = counts.get(name, 0) + (-1 if m.group("close") else 1)
    bad = sorted(name for name, n in counts.items() if n)
    if bad:
        return "unbalanced tags: " + ", ".join(
            f"<{n}> {'unclosed' if counts[n] > 0 else 'closed without opening'}" for n in bad
        )
    return None


class _HtmlTable:
    """Reads the rows of one HTML table, header-aware."""

    def __init__(self, state: _State) -> None:
        self.state = state
        self.roles: list[str] | None = None  # column roles once a header row is seen

    def row(self, source: str, lineno: int, closed: bool) -> None:
        state = self.state
        flat = " ".join(source.split())
        state.rows += 1
        if not closed:
            state.reject(lineno, "table row is not closed (no </tr>): broken or truncated", flat)
            return
        problem = _tag_problem(source)
        if problem:
            state.reject(lineno, f"broken table row: {problem}", flat)
            return
        try:
            # Parse the row where it sits: "<table>" adds no line, so sourceline + offset
            # is the document line.
            table = lxml.html.fragment_fromstring("<table>" + source + "</table>")
        except (ParserError, XMLSyntaxError) as exc:
            state.reject(lineno, f"broken table row: {exc}", flat)
            return
        trs = table.xpath(".//tr")
        if len(trs) != 1:
            state.reject(lineno, "broken table row: cannot read it as one <tr>", flat)
            return
        tr = trs[0]
        line = lineno + (tr.sourceline or 1) - 1
        cells = [c for c in tr if c.tag in ("td", "th")]
        if cells and all(c.tag == "th" for c in cells):
            self._header(cells, line, flat)
            return
        tokens = [_html_tokens(c) for c in cells]
        if all(not t for t in tokens):
            state.blank_rows += 1
            return
        try:
            if self.roles is not None:
                self._by_header(tokens, line, flat)
            else:
                self._positional(tokens, line, flat)
        except _RowError as exc:
            state.reject(line, str(exc), flat)

    def _header(self, cells: list[HtmlElement], line: int, flat: str) -> None:
        roles: list[str] = []
        for cell in cells:
            name = cell.text_content().strip()
            role = next((r for keys, r in _HEADER_ROLES if any(k in name for k in keys)), None)
            if role is None:
                self.state.reject(line, f"unknown table header {name!r}", flat)
                return
            roles.append(role)
        if "partner" not in roles:
            self.state.reject(line, "table header names no partner-city column", flat)
            return
        self.roles = roles
        self.state.rows -= 1  # a header row is structure, not data
        if "cn" not in roles:
            self.state.warn(
                line,
                f"table names no Chinese place: the section {self.state.section!r} "
                "is the Chinese side of its rows",
                flat,
            )

    def _by_header(self, tokens: list[list[Token]], line: int, flat: str) -> None:
        state = self.state
        assert self.roles is not None
        if len(tokens) != len(self.roles):
            raise _RowError(f"row has {len(tokens)} cells, the header has {len(self.roles)}")
        cells = dict(zip(self.roles, tokens, strict=True))
        dated = _Dated()
        country: WikiLink | None = None
        if cells.get("country"):
            before, links, after = _links_with_text(cells["country"], "country")
            if len(links) != 1 or before or after:
                raise _RowError("the country cell is not one link")
            country = links[0]
        before, partner, after = _links_with_text(cells["partner"], "partner")
        if not partner:
            raise _RowError("no partner link in the city cell")
        if before:
            raise _RowError(f"unexpected text before the partner link: {before!r}")
        _read_parenthesised(after, dated, "partner link")
        if cells.get("date"):
            _read_date_cell(_only_text(cells["date"], "date"), dated)
        if "cn" in cells:
            prefix, cn, after = _links_with_text(cells["cn"], "Chinese place")
            if not cn or after:
                raise _RowError("the Chinese-place cell is not a link")
            state.add(
                line,
                cn=cn,
                partner=partner,
                country=country,
                dated=dated,
                cn_prefix=prefix,
                text=flat,
            )
            return
        section = state.section or ""
        if not section:
            raise _RowError("no Chinese place: the table names none and has no section")
        state.add(
            line,
            cn=(WikiLink(title=section, label=section),),
            partner=partner,
            country=country,
            dated=dated,
            cn_from_section=True,
            text=flat,
        )

    def _positional(self, tokens: list[list[Token]], line: int, flat: str) -> None:
        state = self.state
        if len(tokens) != 3:
            raise _RowError(f"row has {len(tokens)} cells, expected 3")
        if tokens[2]:
            cn_cell, partner_cell, date_cell = tokens
            prefix, cn, after = _links_with_text(cn_cell, "Chinese place")
            if not cn:
                raise _RowError("the Chinese place (first cell) has no link")
            if after:
                raise _RowError(f"unexpected text after the Chinese place: {after!r}")
            state.current_cn = (prefix, cn)
        else:
            partner_cell, date_cell = tokens[0], tokens[1]
            if state.current_cn is None:
                raise _RowError("continuation row (third cell empty) with no Chinese place above")
        before, partner, after = _links_with_text(partner_cell, "partner")
        if not partner:
            raise _RowError("no partner link")
        if before:
            raise _RowError(f"unexpected text before the partner link: {before!r}")
        dated = _Dated()
        _read_parenthesised(after, dated, "partner link")
        _read_date_cell(_only_text(date_cell, "date"), dated)
        prefix, cn = state.current_cn
        state.add(
            line, cn=cn, partner=partner, country=None, dated=dated, cn_prefix=prefix, text=flat
        )


def _only_text(tokens: list[Token], what: str) -> str:
    if any(isinstance(t, WikiLink) for t in tokens):
        raise _RowError(f"unexpected link in the {what} cell")
    return " ".join(t for t in tokens if isinstance(t, str))
