"""Property-based tests: League-style documents generated in every layout the parser reads
(four and five cells, rows drifted one column left, a city alone in column 0, Japanese
and English far apart, a city in the country columns, region headers repeated after a page
break, blank lines) give back every generated city exactly once, with its country, region
and line, and every wrong header count as a warning."""

from __future__ import annotations

from dataclasses import dataclass

import pycountry
from hypothesis import given, settings
from hypothesis import strategies as st

from kg.model import Membership
from kg.sources import lhc

KATAKANA = "".join(chr(c) for c in range(ord("ァ"), ord("ヶ") + 1))
REGIONS = [
    ("アフリカ", "Africa"),
    ("アジア", "Asia"),
    ("欧州", "Europe"),
    ("ラテンアメリカ", "Latin America"),
    ("中東", "Middle East"),
    ("北アメリカ", "North America"),
    ("大洋州", "Pacific"),
]
COUNTRIES = sorted({c.name for c in pycountry.countries} | lhc.COUNTRY_ALIASES)

FIRST_ROW = ["A", "A-drift", "B", "B-drift"]  # a row that names its country
CONTINUATION = ["A", "A-drift", "B", "B-drift", "col0", "split", "country-cols"]
WITH_REGION_CELL = {"A", "B", "country-cols"}  # layouts whose column 0 is free


@dataclass(frozen=True)
class City:
    ja: str
    en: str
    country_ja: str
    country_en: str
    region_en: str


def _row(layout: str, region: str, city: City, country: bool) -> str:
    """One document row for ``city`` in ``layout`` (``country``: the row names it)."""
    cj, ce = (city.country_ja, city.country_en) if country else ("", "")
    both = f"{city.ja} {city.en}"
    cells = {
        "A": [region, cj, ce, both],
        "A-drift": [cj, ce, both, ""],
        "B": [region, cj, ce, city.ja, city.en],
        "B-drift": [cj, ce, city.ja, city.en, ""],
        "col0": [both, "", "", ""],
        "split": [city.ja, "", "", city.en, ""],
        "country-cols": [region, city.ja, city.en, "", ""],
    }[layout]
    return "\t".join(cells)


ja_names = st.text(alphabet=KATAKANA + "ー・", min_size=1, max_size=8).filter(
    lambda s: any(ch in KATAKANA for ch in s)
)
_word = st.builds(
    lambda first, rest: first + rest,
    st.sampled_from("ABCDEFGHIJKLMNOPRSTUVWYZÅÇÉŞ"),
    st.text(alphabet="abcdefghijklmnoprstuvwyzáçéíñöüşț'-", max_size=8),
)
en_names = (
    st.lists(_word, min_size=1, max_size=3)
    .map(" ".join)
    .filter(lambda s: not lhc.is_known_country(s) and "Cities" not in s and "Countries" not in s)
)


@st.composite
def documents(draw: st.DrawFn) -> tuple[str, list[tuple[int, City]], dict[str, bool], str]:
    """A document, the cities it lists (with their lines), the regions whose header count
    is wrong, and the as-of date its title gives ("" when it has no title)."""
    lines: list[str] = []
    expected: list[tuple[int, City]] = []
    wrong_count: dict[str, bool] = {}
    as_of = ""
    if draw(st.booleans()):
        year, month = draw(st.integers(2019, 2040)), draw(st.integers(1, 12))
        as_of = f"{year:04d}-{month:02d}"
        reiwa = year - 2018
        month_name = [
            "January", "February", "March", "April", "May", "June", "July", "August",
            "September", "October", "November", "December",
        ][month - 1]  # fmt: skip
        lines += [
            "",
            f"令和{reiwa}年{month}月現在 9都市 9箇国・地域 / 9 cities from 9 countries and "
            f"regions (As of {month_name} {year})",
            "",
            "国・地域名 / Countries and Regions\t\t加盟都市 / Member Cities\t",
        ]
    regions = draw(st.lists(st.sampled_from(REGIONS), min_size=1, max_size=4, unique=True))
    countries = iter(draw(st.permutations(COUNTRIES)))
    seen_en: set[str] = set()
    for region_ja, region_en in regions:
        plan: list[City] = []
        for _ in range(draw(st.integers(1, 3))):
            country_ja, country_en = draw(ja_names), next(countries)
            for _ in range(draw(st.integers(1, 4))):
                en = draw(en_names.filter(lambda s: s not in seen_en))
                seen_en.add(en)
                plan.append(City(draw(ja_names), en, country_ja, country_en, region_en))
        delta = draw(st.sampled_from([0, 0, 0, 1, -1]))
        wrong_count[region_en] = delta != 0
        header = f"{region_ja} {region_en} ({len(plan) + delta})"
        header_alone = draw(st.booleans())
        if header_alone:
            lines.append(header)
        previous: str | None = None
        for i, city in enumerate(plan):
            new_country = city.country_en != previous
            previous = city.country_en
            page_break = i > 0 and draw(st.integers(0, 5)) == 0
            if page_break:
                lines.append("")
            if draw(st.integers(0, 4)) == 0:
                lines.append("")
            needs_region = (i == 0 and not header_alone) or page_break
            options = FIRST_ROW if new_country else CONTINUATION
            if needs_region:
                options = [o for o in options if o in WITH_REGION_CELL]
            layout = draw(st.sampled_from(options))
            lines.append(_row(layout, header if needs_region else "", city, new_country))
            expected.append((len(lines), city))
    return "\n".join(lines) + "\n", expected, wrong_count, as_of


@settings(max_examples=50, deadline=None)
@given(documents())
def test_every_generated_city_comes_back_once(
    doc: tuple[str, list[tuple[int, City]], dict[str, bool], str],
) -> None:
    text, expected, wrong_count, as_of = doc
    result = lhc.parse(text, "gen.txt", corrections=())
    assert result.rejections == ()
    got = [
        (r.source.line, City(r.city_ja, r.city_en, r.country_ja, r.country_en, r.region_en))
        for r in result.records
        if isinstance(r, Membership)
    ]
    assert got == expected
    assert {r.as_of for r in result.records if isinstance(r, Membership)} <= {as_of}
    counts: dict[str, int] = {}
    for _, city in expected:
        counts[city.region_en] = counts.get(city.region_en, 0) + 1
    assert result.groups == tuple(counts.items())
    warned = {w.reason.split(":")[0].removeprefix("region ") for w in result.warnings}
    for region, wrong in wrong_count.items():
        assert (region in warned) is wrong
    assert result.blank_rows == sum(1 for line in text.split("\n")[:-1] if not line.strip())


@settings(max_examples=50, deadline=None)
@given(documents())
def test_generated_documents_are_recognised(
    doc: tuple[str, list[tuple[int, City]], dict[str, bool], str],
) -> None:
    text, _, _, as_of = doc
    # The sniffer wants a tab-separated row with the column header or a region header;
    # only a document with no title and every region header alone on its line lacks one.
    has_header_row = as_of != "" or any(
        "\t" in line and line.split("\t")[0].endswith(")") for line in text.split("\n")
    )
    assert lhc.looks_like(text) is has_header_row
