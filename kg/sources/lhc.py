"""Parser for the League of Historical Cities member list (``seeds/lhc-member-cities-*.txt``).

The list is a PDF table extracted to tab-separated text. Its rows come in several layouts,
all read by the same rule: the first cell may be a region header (``アフリカ Africa (6)``);
the remaining non-empty cells, in order, are read by script (Japanese, Latin, or a
``日本語 English`` pair in one cell) and must form one of

* country JA, country EN, city (a pair cell, or JA and EN in two cells): a new country;
* a city alone (a pair cell, two cells, or JA and EN far apart): a city of the current
  country (continuation row);
* country JA, country EN alone: a country with no city (a rejection).

Column positions do not matter, so rows that drift one column left, cities in the first
column and Japanese/English split across distant columns all read the same way. A lone
JA/EN pair in the country columns whose English is not a known country name (pycountry
plus :data:`COUNTRY_ALIASES`) is a city of the current country, with a warning.

Defects no rule can fix (a country label on another country's row; two cities merged in
one cell) are fixed by a curated table, ``seeds/lhc-corrections.tsv`` (see
:func:`load_corrections`): each correction names the document line, the field, the value
found and the corrected one. Applied corrections, corrections that no longer match the
document and every disagreement with a header or title count are warnings; rows that
cannot be read are rejections; blank rows are counted.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from kg.errors import SourceError
from kg.fsutil import read_input
from kg.model import Issue, Membership, ParseResult, SourceRef
from kg.paths import SEEDS_DIR

__all__ = [
    "CORRECTIONS_TSV",
    "CORRECTION_COLUMNS",
    "CORRECTION_FIELDS",
    "COUNTRY_ALIASES",
    "NETWORK",
    "Correction",
    "is_known_country",
    "load_corrections",
    "looks_like",
    "parse",
]

#: The network every record of this list belongs to.
NETWORK = "League of Historical Cities"

#: The curated corrections table read by default.
CORRECTIONS_TSV = SEEDS_DIR / "lhc-corrections.tsv"

#: Columns of the corrections table, in order.
CORRECTION_COLUMNS = ("line", "field", "found", "corrected", "reason")

#: Record fields a correction may change.
CORRECTION_FIELDS = ("city_en", "city_ja", "country_en", "country_ja")

#: Separator of the pieces of a corrected value that splits a merged cell.
_PIECE_SEP = "|"

#: Country names the League uses that pycountry (name, common_name, official_name) lacks.
COUNTRY_ALIASES = frozenset(
    {
        "Chinese Taipei",
        "Palestine",
        "Kosovo",
        "Macau",
        "Republic of Korea",
        "Turkey",
    }
)


@dataclass(frozen=True, slots=True)
class Correction:
    """One row of the corrections table: at document ``line``, ``field`` reads ``found``
    and must become ``corrected`` (pieces separated by ``|`` split a merged cell)."""

    line: int
    field: str
    found: str
    corrected: str
    reason: str
    #: where the correction itself is written (``file:line`` of the table)
    origin: str = ""


# --------------------------------------------------------------------------- text helpers


def _is_japanese(ch: str) -> bool:
    o = ord(ch)
    return (
        0x3040 <= o <= 0x30FF  # hiragana, katakana (with ・ and ー)
        or 0x31F0 <= o <= 0x31FF
        or 0x3005 <= o <= 0x3007  # 々 〆 〇
        or 0x3400 <= o <= 0x4DBF
        or 0x4E00 <= o <= 0x9FFF
        or 0xF900 <= o <= 0xFAFF
        or 0xFF66 <= o <= 0xFF9F  # half-width katakana
        or 0x20000 <= o <= 0x2FFFF
    )


def _is_latin(ch: str) -> bool:
    return ch.isalpha() and "LATIN" in unicodedata.name(ch, "")


def _has_japanese(text: str) -> bool:
    return any(_is_japanese(ch) for ch in text)


def _has_latin(text: str) -> bool:
    return any(_is_latin(ch) for ch in text)


def _clean(cell: str) -> str:
    # PDF extraction leaves stray and doubled spaces (also U+3000); one space is the content.
    return " ".join(cell.split())


def _split_pair(text: str) -> tuple[str, str] | None:
    """``日本語 English`` -> (ja, en): split at the last space before the first Latin letter.

    None unless the Japanese part has Japanese script and the English part has Latin and no
    Japanese script.
    """
    first = next((i for i, ch in enumerate(text) if _is_latin(ch)), None)
    if first is None:
        return None
    cut = max((i for i in range(first) if text[i].isspace()), default=None)
    if cut is None:
        return None
    ja, en = text[:cut].strip(), text[cut + 1 :].strip()
    if not ja or not _has_japanese(ja) or _has_japanese(en):
        return None
    return ja, en


def _kind(text: str) -> str:
    """Script of a cell: ``ja``, ``en``, ``pair`` (ja then en in one cell) or ``other``."""
    ja, latin = _has_japanese(text), _has_latin(text)
    if ja and not latin:
        return "ja"
    if latin and not ja:
        return "en"
    if ja and latin and _split_pair(text) is not None:
        return "pair"
    return "other"


def _country_key(name: str) -> str:
    key = unicodedata.normalize("NFKC", name).casefold().strip()
    return key[4:] if key.startswith("the ") else key


@cache
def _known_countries() -> frozenset[str]:
    import pycountry

    names: set[str] = set(COUNTRY_ALIASES)
    for country in pycountry.countries:
        for attr in ("name", "common_name", "official_name"):
            value = getattr(country, attr, None)
            if value:
                names.add(value)
    return frozenset(_country_key(n) for n in names)


def is_known_country(name: str) -> bool:
    """True when ``name`` is a country name pycountry knows (ISO name, common or official
    name, case-insensitive, leading "the" ignored) or one of :data:`COUNTRY_ALIASES`."""
    return _country_key(name) in _known_countries()


# --------------------------------------------------------------------------- structure

_REGION = re.compile(r"^(?P<name>.*\S)\s*[(（]\s*(?P<count>\d+)\s*[)）]$")
_COLUMN_HEADER = re.compile(r"Countries and Regions|Member Cities|国・地域名|加盟都市")
_TITLE = re.compile(r"\bAs of\b|現在|\d+\s*cities\b|\d+\s*都市")
_TITLE_CITIES_EN = re.compile(r"(\d+)\s*cities\b")
_TITLE_CITIES_JA = re.compile(r"(\d+)\s*都市")
_TITLE_COUNTRIES_EN = re.compile(r"(\d+)\s*countries\b")
_TITLE_COUNTRIES_JA = re.compile(r"(\d+)\s*(?:箇国|か国|カ国|ヶ国|ケ国)")
_AS_OF_EN = re.compile(r"As of\s+(?:\d{1,2}\s+)?([A-Za-z]+)\.?\s+(?:\d{1,2},\s*)?(\d{4})")
_AS_OF_JA = re.compile(r"(令和|平成)?\s*(\d{1,4}|元)\s*年\s*(\d{1,2})\s*月\s*現在")
_ERAS = {"令和": 2018, "平成": 1988}
_MONTHS = {
    name.casefold(): number
    for number in range(1, 13)
    for name in (calendar.month_name[number], calendar.month_abbr[number])
}


def _region_header(cell: str) -> tuple[str, str, int] | None:
    """``アフリカ Africa (6)`` -> ("アフリカ", "Africa", 6); None for anything else."""
    m = _REGION.match(cell)
    if m is None:
        return None
    pair = _split_pair(m["name"])
    if pair is None:
        return None
    return pair[0], pair[1], int(m["count"])


def _as_of_en(title: str) -> str | None:
    m = _AS_OF_EN.search(title)
    if m is None or m[1].casefold() not in _MONTHS:
        return None
    return f"{int(m[2]):04d}-{_MONTHS[m[1].casefold()]:02d}"


def _as_of_ja(title: str) -> str | None:
    m = _AS_OF_JA.search(title)
    if m is None:
        return None
    year = 1 if m[2] == "元" else int(m[2])
    if m[1]:
        year += _ERAS[m[1]]
    elif year < 1000:
        return None
    month = int(m[3])
    return f"{year:04d}-{month:02d}" if 1 <= month <= 12 else None


def looks_like(text: str) -> bool:
    """True when ``text`` looks like the League list: tab-separated rows with its column
    header, its title, or a region header cell such as ``アフリカ Africa (6)``."""
    for line in text.split("\n")[:200]:
        if "\t" not in line:
            continue
        first = _clean(line.split("\t", 1)[0])
        if _COLUMN_HEADER.search(line) or _region_header(first) is not None:
            return True
    return False


# --------------------------------------------------------------------------- corrections


def load_corrections(path: Path) -> tuple[Correction, ...]:
    """Read a corrections table: UTF-8 TSV with the header ``line field found corrected
    reason``; blank lines and lines starting with ``#`` are ignored.

    Raises :class:`SourceError` (with the table's file:line) for a missing or unreadable
    file, a wrong header, a row with the wrong number of cells, a line number that is not
    a positive integer, an unknown field, an empty value, or two corrections of the same
    field on the same line.
    """
    data = read_input(path, SourceError, "corrections table", missing="no such corrections table")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SourceError(f"cannot read corrections table: {exc}", path=path) from None
    rows = [
        (n, line.rstrip("\r"))
        for n, line in enumerate(text.split("\n"), 1)
        if line.strip() and not line.startswith("#")
    ]
    if not rows or tuple(c.strip() for c in rows[0][1].split("\t")) != CORRECTION_COLUMNS:
        raise SourceError(
            f"corrections table must start with the header {' '.join(CORRECTION_COLUMNS)} "
            "(tab-separated)",
            path=path,
            line=rows[0][0] if rows else 1,
        )
    out: list[Correction] = []
    seen: dict[tuple[int, str], int] = {}
    for n, line in rows[1:]:
        cells = [c.strip() for c in line.split("\t")]
        if len(cells) != len(CORRECTION_COLUMNS):
            raise SourceError(
                f"expected {len(CORRECTION_COLUMNS)} tab-separated cells, found {len(cells)}",
                path=path,
                line=n,
            )
        line_no, fld, found, corrected, reason = cells
        if not line_no.isdigit() or int(line_no) < 1:
            raise SourceError(
                f"line must be a positive integer, not {line_no!r}", path=path, line=n
            )
        if fld not in CORRECTION_FIELDS:
            raise SourceError(
                f"unknown field {fld!r} (one of: {', '.join(CORRECTION_FIELDS)})", path=path, line=n
            )
        if not (found and corrected and reason):
            raise SourceError("found, corrected and reason must not be empty", path=path, line=n)
        key = (int(line_no), fld)
        if key in seen:
            raise SourceError(
                f"second correction of {fld} at line {line_no} (first at line {seen[key]})",
                path=path,
                line=n,
            )
        seen[key] = n
        out.append(
            Correction(int(line_no), fld, _clean(found), corrected, reason, f"{path.name}:{n}")
        )
    return tuple(out)


# --------------------------------------------------------------------------- parsing


@dataclass(slots=True)
class _Region:
    ja: str
    en: str
    count: int
    line: int
    records: int = 0


@dataclass(frozen=True, slots=True)
class _Entry:
    line: int
    city_ja: str
    city_en: str
    country_ja: str
    country_en: str
    region_ja: str
    region_en: str


@dataclass(frozen=True, slots=True)
class _Title:
    line: int
    as_of: str | None
    cities: int | None
    countries: int | None


@dataclass(slots=True)
class _Parser:
    file: str
    corrections: dict[int, list[Correction]]
    entries: list[_Entry] = field(default_factory=list)
    rejections: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    regions: dict[str, _Region] = field(default_factory=dict)
    region: _Region | None = None
    country: tuple[str, str] | None = None
    title: _Title | None = None
    blank_rows: int = 0
    #: data rows read (see :class:`~kg.model.ParseResult`)
    rows: int = 0
    used: set[tuple[int, str]] = field(default_factory=set)

    def ref(self, line: int) -> SourceRef:
        return SourceRef("lhc", self.file, line)

    def reject(self, line: int, reason: str, text: str) -> None:
        self.rejections.append(Issue(self.ref(line), reason, text))

    def warn(self, line: int, reason: str, text: str = "") -> None:
        self.warnings.append(Issue(self.ref(line), reason, text))

    # ---- rows

    def row(self, n: int, raw: str) -> None:
        cells = [_clean(c) for c in raw.split("\t")]
        filled = [(col, cell) for col, cell in enumerate(cells) if cell]
        if not filled:
            self.rows += 1
            self.blank_rows += 1
            return
        if len(filled) == 1 and _TITLE.search(filled[0][1]):
            self.title_row(n, filled[0][1])
            return
        if all(_COLUMN_HEADER.search(cell) for _, cell in filled):
            # The table's column header, repeated on each page (only header cells: a row
            # that also holds other text is data, not dropped as a header).
            return
        header = _region_header(cells[0])
        if header is not None:
            self.region_row(n, *header)
            filled = filled[1:] if filled[0][0] == 0 else filled
            if not filled:
                return
        self.rows += 1  # a data row: it ends as records or one rejection
        if self.region is None:
            self.reject(n, "row before any region header: its region is unknown", raw)
            return
        self.body(n, raw, filled)

    def title_row(self, n: int, title: str) -> None:
        en, ja = _as_of_en(title), _as_of_ja(title)
        if en and ja and en != ja:
            self.warn(n, f"title gives two as-of dates: {en} (English), {ja} (Japanese)", title)
        cities = self.title_count(n, title, _TITLE_CITIES_EN, _TITLE_CITIES_JA, "cities")
        countries = self.title_count(
            n, title, _TITLE_COUNTRIES_EN, _TITLE_COUNTRIES_JA, "countries and regions"
        )
        found = _Title(n, en or ja, cities, countries)
        if self.title is None:
            self.title = found
        elif (found.as_of, found.cities, found.countries) != (
            self.title.as_of,
            self.title.cities,
            self.title.countries,
        ):
            self.warn(n, f"second title disagrees with the first (line {self.title.line})", title)

    def title_count(
        self, n: int, title: str, en_re: re.Pattern[str], ja_re: re.Pattern[str], what: str
    ) -> int | None:
        en, ja = en_re.search(title), ja_re.search(title)
        if en and ja and en[1] != ja[1]:
            self.warn(n, f"title gives {en[1]} {what} in English, {ja[1]} in Japanese", title)
        hit = en or ja
        return int(hit[1]) if hit else None

    def region_row(self, n: int, ja: str, en: str, count: int) -> None:
        region = self.regions.get(en)
        if region is None:
            region = self.regions[en] = _Region(ja, en, count, n)
        elif region.count != count:
            self.warn(
                n,
                f"region {en} header repeats with count {count}, "
                f"not {region.count} as at line {region.line}",
            )
        if region is not self.region:
            # A new region starts new countries; the same region repeated after a page
            # break continues the country it was listing.
            self.country = None
        self.region = region

    def body(self, n: int, raw: str, filled: list[tuple[int, str]]) -> None:
        kinds = [_kind(cell) for _, cell in filled]
        values = [cell for _, cell in filled]
        if kinds == ["pair"]:
            self.city(n, raw, *_pair(values[0]), None)
        elif kinds == ["ja", "en"]:
            (c0, _), (c1, _) = filled
            in_country_columns = c0 <= 1 and c1 == c0 + 1
            if in_country_columns and is_known_country(values[1]):
                self.country = (values[0], values[1])
                self.reject(
                    n,
                    f"country {values[1]} with no city (later continuation rows are read "
                    "as its cities)",
                    raw,
                )
                return
            if in_country_columns and self.country is not None:
                self.warn(
                    n,
                    f"{values[1]!r} in the country columns is not a known country name: "
                    f"read as a city of {self.country[1]}",
                    raw,
                )
            self.city(n, raw, values[0], values[1], None)
        elif kinds[:2] == ["ja", "en"] and kinds[2:] in (["pair"], ["ja", "en"]):
            if not is_known_country(values[1]):
                self.warn(n, f"country {values[1]!r} is not a known country name", raw)
            ja, en = _pair(values[2]) if kinds[2] == "pair" else (values[2], values[3])
            self.city(n, raw, ja, en, (values[0], values[1]))
        else:
            shape = " | ".join(f"{kind}:{value}" for kind, value in zip(kinds, values, strict=True))
            self.reject(
                n,
                "cannot read row: expected [country JA, country EN,] city JA and EN; "
                f"found {shape}",
                raw,
            )

    def city(self, n: int, raw: str, ja: str, en: str, row_country: tuple[str, str] | None) -> None:
        if row_country is not None:
            self.country = row_country
        if self.country is None or self.region is None:
            self.reject(n, f"city {en} with no country before it in its region", raw)
            return
        found = {
            "city_ja": ja,
            "city_en": en,
            "country_ja": self.country[0],
            "country_en": self.country[1],
        }
        values = {key: [value] for key, value in found.items()}
        corrected: set[str] = set()
        for fix in self.corrections.get(n, ()):
            self.used.add((fix.line, fix.field))
            if found[fix.field] != fix.found:
                self.warn(
                    n,
                    f"correction not applied ({fix.origin}): {fix.field} is "
                    f"{found[fix.field]!r}, the correction expects {fix.found!r}",
                    raw,
                )
                continue
            values[fix.field] = [p.strip() for p in fix.corrected.split(_PIECE_SEP)]
            corrected.add(fix.field)
            self.warn(
                n,
                f"corrected {fix.field} {fix.found!r} -> {fix.corrected!r} ({fix.origin}): "
                f"{fix.reason}",
                raw,
            )
        if "city_ja" not in corrected and len(ja.split(" ")) > 1:
            values["city_ja"] = ja.split(" ")
        pieces = len(values["city_ja"])
        if pieces > 1 and "city_en" not in corrected:
            self.reject(
                n,
                f"{pieces} cities merged in one row (the Japanese names are separated by a "
                f"space) and no correction splits {en!r}: add one to {CORRECTIONS_TSV.name}",
                raw,
            )
            return
        if (
            any(p == "" for v in values.values() for p in v)
            or any(len(v) not in (1, pieces) for v in values.values())
            or len(values["city_en"]) != pieces
        ):
            self.reject(
                n,
                "corrections split this row inconsistently: "
                + ", ".join(f"{k}={len(v)}" for k, v in values.items()),
                raw,
            )
            return
        # The correction says the PDF merged ``pieces`` rows into this one.
        self.rows += pieces - 1
        for i in range(pieces):
            pick = {k: v[i] if len(v) > 1 else v[0] for k, v in values.items()}
            self.entries.append(
                _Entry(
                    n,
                    pick["city_ja"],
                    pick["city_en"],
                    pick["country_ja"],
                    pick["country_en"],
                    self.region.ja,
                    self.region.en,
                )
            )
            self.region.records += 1

    # ---- end of document

    def finish(self, last_line: int) -> tuple[Membership, ...]:
        for line, fixes in sorted(self.corrections.items()):
            for fix in fixes:
                if (fix.line, fix.field) not in self.used:
                    where = (
                        "beyond the end of the document" if line > last_line else "not a city row"
                    )
                    self.warn(
                        min(line, max(last_line, 1)),
                        f"correction not applied ({fix.origin}): line {line} is {where} "
                        f"({fix.field} {fix.found!r})",
                    )
        seen: dict[tuple[str, str], int] = {}
        for e in self.entries:
            key = (e.city_en.casefold(), _country_key(e.country_en))
            if key in seen:
                self.warn(
                    e.line, f"{e.city_en} ({e.country_en}) listed twice (first at line {seen[key]})"
                )
            seen.setdefault(key, e.line)
        for region in self.regions.values():
            if region.count != region.records:
                self.warn(
                    region.line,
                    f"region {region.en}: header says {region.count} cities, "
                    f"{region.records} listed",
                )
        as_of = ""
        if self.title is None:
            self.warn(1, "no title line with the as-of date: records carry an empty as_of")
        else:
            if self.title.as_of is None:
                self.warn(
                    self.title.line, "title gives no as-of date: records carry an empty as_of"
                )
            as_of = self.title.as_of or ""
            countries = {_country_key(e.country_en) for e in self.entries}
            for said, listed, what in (
                (self.title.cities, len(self.entries), "cities"),
                (self.title.countries, len(countries), "countries and regions"),
            ):
                if said is not None and said != listed:
                    self.warn(self.title.line, f"title says {said} {what}, {listed} listed")
        return tuple(
            Membership(
                source=self.ref(e.line),
                city_en=e.city_en,
                city_ja=e.city_ja,
                country_en=e.country_en,
                country_ja=e.country_ja,
                region_en=e.region_en,
                region_ja=e.region_ja,
                network=NETWORK,
                as_of=as_of,
            )
            for e in self.entries
        )


def _pair(cell: str) -> tuple[str, str]:
    pair = _split_pair(cell)
    assert pair is not None  # only called on cells whose kind is "pair"
    return pair


def parse(text: str, file: str, *, corrections: Iterable[Correction] | None = None) -> ParseResult:
    """Parse the League member list ``text`` (``file`` names it in every SourceRef).

    ``corrections`` are the curated fixes to apply; by default they are read from
    :data:`CORRECTIONS_TSV` (a warning says so when that file does not exist). Every
    non-blank row becomes records, structure (title, column header, region header) or a
    rejection; warnings report applied and stale corrections, header and title counts
    that disagree with what is listed, cities read from the country columns, and a
    missing as-of date. ``groups`` gives records per region (English name) in document
    order.

    Raises :class:`SourceError` only when the default corrections table is malformed.
    """
    missing_table = False
    if corrections is None:
        if CORRECTIONS_TSV.is_file():
            corrections = load_corrections(CORRECTIONS_TSV)
        else:
            corrections, missing_table = (), True
    by_line: dict[int, list[Correction]] = {}
    for fix in corrections:
        by_line.setdefault(fix.line, []).append(fix)
    parser = _Parser(file, by_line)
    if missing_table:
        parser.warn(1, f"no corrections table at {CORRECTIONS_TSV}: no corrections applied")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the final newline ends the last row; it is not a blank row
    for n, raw in enumerate(lines, 1):
        parser.row(n, raw.rstrip("\r"))
    records = parser.finish(len(lines))
    return ParseResult(
        doc="lhc",
        file=file,
        records=records,
        rejections=tuple(parser.rejections),
        warnings=tuple(sorted(parser.warnings, key=lambda i: i.source.line)),
        blank_rows=parser.blank_rows,
        rows=parser.rows,
        groups=tuple((r.en, r.records) for r in parser.regions.values()),
    )
