"""A generic twinning list: a CSV or TSV file, one twinning per row (kind ``csv``).

The way to bring your own list. The first row that is neither blank nor a ``#`` comment is
the header; it names the columns (any order, case-insensitive)::

    city_a,country_a,city_b,country_b,start_date,note,source_url

``city_a`` and ``city_b`` are required, the rest optional; ``lang_a`` and ``lang_b`` (or
``lang`` for both) give the BCP 47 tags of the names, and ``--lang TAG``
(:func:`set_names_lang`) the tag of a whole list's names. Names may be in any language; a
name nobody tagged gets one from its script (:func:`side_lang`): kana ``ja``, Hangul
``ko``; Han ``ja`` on a side whose country is Japan (Japanese place names are written in
kanji: 京都市 and 札幌市 are Japanese, not Chinese), else ``zh-Hans``/``zh-Hant``/``zh``;
anything else ``und`` (undetermined: a Latin name does not tell its language).
``start_date`` is ``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` (``/`` or ``.`` also separate),
or ``1986年``, ``2013年12月``, ``1985年9月12日``: the date keeps its precision.
``source_url`` is an http(s) URL.

Commas, tabs or semicolons separate cells (whichever the header uses); cells may be quoted
as in RFC 4180, a quoted cell may span lines. Every line is accounted for: a record, a
rejection with its line and reason (too few or too many cells, a quote that never closes,
no city on a side, the same place on both sides, a date or URL or language tag that does
not parse), a ``#`` comment, the header, or a counted blank row; the data rows (records +
rejections + blank rows) are counted in the result's ``rows``.
A row repeating an earlier one (same places and date) is a warning.

The document id comes from the file's name (``sister-cities.csv`` -> ``sister-cities``),
so several lists can be built together; an id already used by a built-in document
(``lhc``, ``zhwiki``, ``links``) gets the prefix ``csv-``.
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import re
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import PurePath
from urllib.parse import urlsplit

from kg.errors import SourceError
from kg.model import (
    DatePrecision,
    Issue,
    PairTwinning,
    ParseResult,
    PartialDate,
    SourceRef,
    is_doc_id,
)
from kg.sources.zhwiki import parse_date as parse_cjk_date
from kg.zhconv_loader import zhconv

__all__ = [
    "COLUMNS",
    "REQUIRED",
    "doc_id",
    "guess_lang",
    "is_japan",
    "looks_like",
    "names_lang",
    "near_miss",
    "parse",
    "parse_date",
    "set_names_lang",
    "side_lang",
]

#: The columns a list may have, in the documented order.
COLUMNS = (
    "city_a", "country_a", "city_b", "country_b", "start_date", "note", "source_url",
    "lang_a", "lang_b", "lang",
)
#: The columns a list must have.
REQUIRED = ("city_a", "city_b")

_RESERVED = frozenset({"lhc", "zhwiki", "links"})
_ISO_DATE = re.compile(r"^(?P<y>[0-9]{4})(?:[-/.](?P<m>[0-9]{1,2})(?:[-/.](?P<d>[0-9]{1,2}))?)?$")
_LANG_TAG = re.compile(r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*$")
_KANA = re.compile(r"[\u3040-\u30ff\u31f0-\u31ff]")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# Characters an IRI may not hold (RFC 3987): the URL becomes an IRI in the graph.
_BAD_IRI = re.compile(r'[\s<>"{}|\\^`\x00-\x1f]')
_HANGUL = re.compile(r"[\uac00-\ud7af\u1100-\u11ff]")


def doc_id(file: str) -> str:
    """The document id of a list from its file name: the stem, lower-cased, with runs of
    other characters than ``a-z0-9_-`` made ``-``; ``csv-`` before a built-in's id; a
    hash of the stem when nothing is left (a name in another script)."""
    stem = PurePath(file).stem
    slug = re.sub(r"[^a-z0-9_-]+", "-", unicodedata.normalize("NFKC", stem).lower())
    slug = slug.strip("-_")[:60]
    if not slug:
        slug = "csv-" + hashlib.sha1(stem.encode("utf-8")).hexdigest()[:10]
    if slug in _RESERVED or not is_doc_id(slug):
        slug = f"csv-{slug}"[:64]
    return slug


#: The separators a list may use, in the order a header line is tried with.
_DELIMITERS = ("\t", ",", ";")
#: How a list may name Japan in its country cells (English, Japanese, ISO codes).
_JAPAN = frozenset({"japan", "日本", "日本国", "日本國", "jp", "jpn", "japon", "japón"})
_names_lang: str | None = None


def set_names_lang(tag: str | None) -> None:
    """Tag every name of the lists parsed from now on with ``tag`` where no ``lang_a``,
    ``lang_b`` or ``lang`` cell says otherwise (``kg parse/reconcile/build --lang``);
    ``None`` goes back to guessing from the script.

    Raises :class:`ValueError` for a tag that is not BCP 47 in shape.
    """
    global _names_lang
    if tag is not None and not _LANG_TAG.match(tag):
        raise ValueError(f"not a BCP 47 language tag: {tag!r}")
    _names_lang = tag


@contextmanager
def names_lang(tag: str | None) -> Iterator[None]:
    """:func:`set_names_lang` for the duration of a ``with`` block (one command), then back
    to what it was."""
    before = _names_lang
    set_names_lang(tag)
    try:
        yield
    finally:
        set_names_lang(before)


def _first_line(text: str) -> str:
    return next((ln for ln in text.splitlines() if ln.strip()
                 and not ln.lstrip().startswith("#")), "")


def _split_header(line: str, delimiter: str) -> list[str]:
    return [c.strip().strip('"').strip().lower() for c in line.split(delimiter)]


def _delimiter(line: str) -> str:
    """The separator of a header line: the first of tab, comma, semicolon that splits it
    into cells naming both required columns, else the first it holds (comma by default)."""
    for delimiter in _DELIMITERS:
        if all(col in _split_header(line, delimiter) for col in REQUIRED):
            return delimiter
    return next((d for d in _DELIMITERS if d in line), ",")


def looks_like(text: str) -> bool:
    """True when the first row that is not blank or a comment is a header naming
    ``city_a`` and ``city_b``."""
    line = _first_line(text)
    return bool(line) and all(c in _split_header(line, _delimiter(line)) for c in REQUIRED)


def near_miss(text: str) -> str | None:
    """Why ``text`` is almost a list but not quite (its header names some of the columns but
    not ``city_a`` and ``city_b``), or ``None`` when it does not look like a list at all.
    Format detection says this instead of "cannot tell the document format"."""
    line = _first_line(text)
    if not line or looks_like(text):
        return None
    cells = _split_header(line, _delimiter(line))
    known = [c for c in cells if c in COLUMNS]
    if not known:
        return None
    missing = [c for c in REQUIRED if c not in cells]
    return (f"a CSV list's header needs {' and '.join(missing)}; this one names "
            f"{', '.join(cells)} (expected {','.join(COLUMNS[:7])})")


def parse_date(text: str) -> PartialDate | None:
    """``1986``, ``2013-12``, ``1985-09-12`` (``/`` or ``.`` too), or the same as
    ``1986年``, ``2013年12月``, ``1985年9月12日`` -> :class:`PartialDate`; ``None`` for an
    empty cell.

    Raises :class:`ValueError` for anything else, or a date that does not exist.
    """
    value = unicodedata.normalize("NFKC", text).strip()
    if not value:
        return None
    m = _ISO_DATE.match(value)
    if m is None:
        cjk = parse_cjk_date(value)
        if cjk is None:
            raise ValueError(f"not a date: {text.strip()!r} (expected YYYY, YYYY-MM or YYYY-MM-DD)")
        return cjk
    year, month, day = m.group("y"), m.group("m"), m.group("d")
    if month is None:
        return PartialDate(iso=year, precision=DatePrecision.YEAR)
    if not 1 <= int(month) <= 12:
        raise ValueError(f"month {int(month)} out of range in {text.strip()!r}")
    if day is None:
        return PartialDate(iso=f"{year}-{int(month):02d}", precision=DatePrecision.MONTH)
    try:
        when = datetime.date(int(year), int(month), int(day))
    except ValueError:
        raise ValueError(f"no such day: {text.strip()!r}") from None
    return PartialDate(iso=when.isoformat(), precision=DatePrecision.DAY)


def guess_lang(name: str) -> str:
    """A BCP 47 tag for a name from its script: ``ja`` (kana), ``ko`` (Hangul), ``zh-Hant``
    / ``zh-Hans`` / ``zh`` (Han, by whether it has Traditional- or Simplified-only forms),
    else ``und``: a Latin or Cyrillic name does not tell its language."""
    if _KANA.search(name):
        return "ja"
    if _HANGUL.search(name):
        return "ko"
    if _HAN.search(name):
        hans = zhconv.convert(name, "zh-hans")
        if hans != name:
            return "zh-Hant"
        if zhconv.convert(name, "zh-hant") != name:
            return "zh-Hans"
        return "zh"
    return "und"


def is_japan(country: str) -> bool:
    """True when a country cell names Japan (``Japan``, ``日本``, ``JP``, ``JPN``…)."""
    return unicodedata.normalize("NFKC", country).strip().casefold() in _JAPAN


def side_lang(city: str, country: str | None) -> str:
    """The tag of a side's names that nobody stated: Han without kana in a Japan row is
    ``ja`` (place names in Japan are written in kanji; a script guess would call 京都市
    Chinese), otherwise :func:`guess_lang` of the city, or of the country when the city's
    script tells nothing."""
    tag = guess_lang(city)
    if tag.startswith("zh") and country and is_japan(country):
        return "ja"
    return guess_lang(country) if tag == "und" and country else tag


_Row = tuple[int, list[str] | None, str]


def _rows(text: str, delimiter: str, width: int) -> list[_Row]:
    """``(first line, cells, raw text)`` per row; blank lines give ``[]``, comment lines
    are left out. A row whose quote never closes gives ``None`` cells: only its own line is
    lost, and reading goes on with the next line.

    A quoted cell may span lines: a line with an odd number of ``"`` opens a quote that the
    next line with an odd number closes. If none does, or the lines so joined do not read as
    one row of the header's ``width``, the opening line alone is the broken row (RFC 4180
    doubles a quote inside a quoted cell, so a well-formed row always holds an even number).
    """
    # Lines end at LF only (CRLF included), as grep -n and the other parsers count them: a
    # lone CR, U+2028 or a form feed inside a row is that row's text, not a line break.
    parts = text.split("\n")
    lines = [part + "\n" for part in parts[:-1]] + ([parts[-1]] if parts[-1] else [])
    out: list[_Row] = []
    i = 0
    while i < len(lines):
        first = lines[i]
        if first.lstrip().startswith("#"):
            i += 1
            continue  # a comment: structure, like a heading
        j, quotes = i, first.count('"')
        while quotes % 2 and j + 1 < len(lines):
            j += 1
            quotes += lines[j].count('"')
        chunk = "".join(lines[i:j + 1]) if quotes % 2 == 0 else first
        reader = csv.reader(io.StringIO(chunk, newline=""), delimiter=delimiter, strict=True)
        try:
            found = list(reader)
        except csv.Error:
            found = []
        if (quotes % 2 or len(found) > 1 or (not found and chunk.strip())
                or (j > i and len(found[0]) != width)):
            out.append((i + 1, None, first.rstrip("\r\n")))
            i += 1
            continue
        out.append((i + 1, found[0] if found else [], chunk.rstrip("\r\n")))
        i = j + 1
    return out


def parse(text: str, file: str) -> ParseResult:
    """The twinnings of a CSV/TSV list, with its rejections and warnings.

    Raises :class:`SourceError` (with the line) for a list without a header naming
    ``city_a`` and ``city_b``, a header naming a column twice, or a header whose quote
    never closes; a data row whose quote never closes is a rejection of that line alone.
    """
    doc = doc_id(file)
    first = _first_line(text)
    delimiter = _delimiter(first)
    rows = _rows(text, delimiter, len(first.split(delimiter)))
    records: list[PairTwinning] = []
    rejections: list[Issue] = []
    warnings: list[Issue] = []
    blank = 0
    header: list[str] | None = None
    seen: dict[tuple[tuple[tuple[str, str], ...], str], int] = {}
    groups: dict[str, int] = {}

    for line, row_cells, raw in rows:
        ref = SourceRef(doc, file, line)
        if row_cells is None:
            if header is None:
                raise SourceError("the header row has a quote that never closes",
                                  path=file, line=line)
            rejections.append(Issue(ref, "a quote (\") that never closes: the row is "
                                    "lost, the next line is read on", raw))
            continue
        cells = row_cells
        if not any(c.strip() for c in cells):
            blank += 1
            continue
        if header is None:
            header = [c.strip().lower() for c in cells]
            missing = [c for c in REQUIRED if c not in header]
            if missing:
                raise SourceError(f"the header names no {', '.join(missing)} column "
                                  f"(expected {','.join(COLUMNS[:7])})", path=file, line=line)
            dupes = sorted({c for c in header if c and header.count(c) > 1})
            if dupes:
                raise SourceError(f"the header names {', '.join(dupes)} more than once",
                                  path=file, line=line)
            for col in header:
                if col and col not in COLUMNS:
                    warnings.append(Issue(ref, f"unknown column {col!r} ignored", raw))
            continue
        if len(cells) != len(header):
            rejections.append(Issue(ref, f"expected {len(header)} cells, found {len(cells)}", raw))
            continue
        row = {col: cell.strip() for col, cell in zip(header, cells, strict=True)}
        issue = _check(row)
        if issue:
            rejections.append(Issue(ref, issue, raw))
            continue
        try:
            date = parse_date(row.get("start_date", ""))
        except ValueError as exc:
            rejections.append(Issue(ref, str(exc), raw))
            continue
        city_a, city_b = row["city_a"], row["city_b"]
        # A side's tag covers its city and country; guessed from both when not given.
        lang_a = (row.get("lang_a") or row.get("lang") or _names_lang
                  or side_lang(city_a, row.get("country_a")))
        lang_b = (row.get("lang_b") or row.get("lang") or _names_lang
                  or side_lang(city_b, row.get("country_b")))
        note = row.get("note") or None
        rec = PairTwinning(
            source=ref,
            city_a=city_a,
            country_a=row.get("country_a", ""),
            city_b=city_b,
            country_b=row.get("country_b", ""),
            lang_a=lang_a,
            lang_b=lang_b,
            date=date,
            note=note,
            note_lang=(row.get("lang") or _names_lang or guess_lang(note)) if note else "und",
            source_url=row.get("source_url", ""),
        )
        # The same pair in either order with the same date is the same twinning.
        key = (tuple(sorted([(city_a, rec.country_a), (city_b, rec.country_b)])),
               date.iso if date else "")
        if key in seen:
            warnings.append(Issue(ref, f"repeats the twinning of line {seen[key]}", raw))
        else:
            seen[key] = line
        records.append(rec)
        group = rec.country_a or "(no country)"
        groups[group] = groups.get(group, 0) + 1

    if header is None:
        raise SourceError("no header row (expected city_a,country_a,city_b,country_b,...)",
                          path=file)
    return ParseResult(
        doc=doc,
        file=file,
        records=tuple(records),
        rejections=tuple(rejections),
        warnings=tuple(warnings),
        blank_rows=blank,
        groups=tuple(groups.items()),
        titles=((f"Twinning list {file}", "en"),),
        kind="csv",
        rows=len(records) + len(rejections) + blank,
    )


def _check(row: dict[str, str]) -> str:
    """Why a row is rejected, or ``""``."""
    for side in ("a", "b"):
        if not row.get(f"city_{side}"):
            return f"no place in city_{side}"
    if (row["city_a"].casefold(), row.get("country_a", "").casefold()) == (
            row["city_b"].casefold(), row.get("country_b", "").casefold()):
        return "the same place on both sides"
    url = row.get("source_url", "")
    if url:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc or _BAD_IRI.search(url):
            return f"source_url is not an http(s) URL: {url!r}"
    for col in ("lang_a", "lang_b", "lang"):
        tag = row.get(col, "")
        if tag and not _LANG_TAG.match(tag):
            return f"{col} is not a BCP 47 language tag: {tag!r}"
    return ""
