"""A generic twinning list: a CSV or TSV file, one twinning per row (kind ``csv``).

The way to bring your own list. The first row that is neither blank nor a ``#`` comment is
the header; it names the columns (any order, case-insensitive)::

    city_a,country_a,city_b,country_b,start_date,note,source_url

``city_a`` and ``city_b`` are required, the rest optional; ``lang_a`` and ``lang_b`` (or
``lang`` for both) give the BCP 47 tags of the names. Names may be in any language; a name
without a tag gets one from its script (kana: ``ja``; Han: ``zh-Hans``/``zh-Hant``/``zh``;
Hangul: ``ko``; anything else ``und``, undetermined). ``start_date`` is ``YYYY``,
``YYYY-MM`` or ``YYYY-MM-DD`` (``/`` or ``.`` also separate), or ``1986年``, ``2013年12月``,
``1985年9月12日``: the date keeps its precision. ``source_url`` is an http(s) URL.

Commas or tabs separate cells (whichever the header uses); cells may be quoted as in RFC
4180. Every line is accounted for: a record, a rejection with its line and reason (too few
or too many cells, no city on a side, the same place on both sides, a date or URL or
language tag that does not parse), a ``#`` comment, the header, or a counted blank row.
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
from pathlib import PurePath
from urllib.parse import urlsplit

import zhconv

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

__all__ = ["COLUMNS", "REQUIRED", "doc_id", "guess_lang", "looks_like", "parse", "parse_date"]

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


def _header_cells(text: str) -> list[str] | None:
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        delimiter = "\t" if "\t" in line else ","
        return [c.strip().strip('"').strip().lower() for c in line.split(delimiter)]
    return None


def looks_like(text: str) -> bool:
    """True when the first row that is not blank or a comment is a header naming
    ``city_a`` and ``city_b``."""
    cells = _header_cells(text)
    return cells is not None and all(col in cells for col in REQUIRED)


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


def _records(text: str, delimiter: str) -> list[tuple[int, list[str]]]:
    """``(first line, cells)`` for each CSV record; blank lines give ``[]``."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    out: list[tuple[int, list[str]]] = []
    line = 1
    try:
        for cells in reader:
            out.append((line, cells))
            line = reader.line_num + 1
    except csv.Error as exc:
        raise SourceError(f"malformed {'TSV' if delimiter == chr(9) else 'CSV'}: {exc}",
                          line=reader.line_num) from None
    return out


def parse(text: str, file: str) -> ParseResult:
    """The twinnings of a CSV/TSV list, with its rejections and warnings.

    Raises :class:`SourceError` (with the line) for a list without a header naming
    ``city_a`` and ``city_b``, a header naming a column twice, or quoting that never closes.
    """
    doc = doc_id(file)
    first = next((ln for ln in text.splitlines() if ln.strip() and not ln.lstrip()
                  .startswith("#")), "")
    delimiter = "\t" if "\t" in first else ","
    rows = _records(text, delimiter)
    records: list[PairTwinning] = []
    rejections: list[Issue] = []
    warnings: list[Issue] = []
    blank = 0
    header: list[str] | None = None
    seen: dict[tuple[tuple[tuple[str, str], ...], str], int] = {}
    groups: dict[str, int] = {}

    for line, cells in rows:
        ref = SourceRef(doc, file, line)
        raw = delimiter.join(cells)
        if not any(c.strip() for c in cells):
            blank += 1
            continue
        if cells[0].lstrip().startswith("#"):
            continue  # a comment: structure, like a heading
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
        lang_a = row.get("lang_a") or row.get("lang") or _side_lang(city_a, row.get("country_a"))
        lang_b = row.get("lang_b") or row.get("lang") or _side_lang(city_b, row.get("country_b"))
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
            note_lang=(row.get("lang") or guess_lang(note)) if note else "und",
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
    )


def _side_lang(city: str, country: str | None) -> str:
    tag = guess_lang(city)
    return guess_lang(country) if tag == "und" and country else tag


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
