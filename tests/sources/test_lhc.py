"""The League of Historical Cities member list: every city exactly once with its true
country, every defect of the PDF extraction, every count mismatch reported."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from kg.errors import SourceError
from kg.model import Membership, ParseResult
from kg.sources import lhc, parse_path

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
LHC = SEEDS / "lhc-member-cities-2025-12.txt"
CORRECTIONS = SEEDS / "lhc-corrections.tsv"
TEXT = LHC.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def result() -> ParseResult:
    return parse_path(LHC)


def _members(result: ParseResult) -> list[Membership]:
    out = [r for r in result.records if isinstance(r, Membership)]
    assert len(out) == len(result.records)
    return out


def _by_city(result: ParseResult) -> dict[str, Membership]:
    members = _members(result)
    by_city = {m.city_en: m for m in members}
    assert len(by_city) == len(members), "a city name came out twice"
    return by_city


# Read by hand from the document (country as it truly is, cities in listing order).
EXPECTED: dict[str, str] = {
    "Algeria": "Algiers",
    "Egypt": "Alexandria, Giza",
    "Morocco": "Fès",
    "Tunisia": "Tunis",
    "China": "Chengdu, Dujiangyan, Nanjing, Wuxi, Xi'an, Yangzhou, Zhengzhou",
    "Chinese Taipei": "Taichung, Tainan",
    "North Korea": "Kaesong",
    "India": "Varanasi",
    "Indonesia": "Yogyakarta",
    "Japan": "Himeji, Kamakura, Kanazawa, Kyoto, Masuda, Matsue, Nara",
    "Mongolia": "Ulaanbaatar",
    "Myanmar": "Yangon",
    "Nepal": "Baglung, Bhotekoshi, Hariharpurgadhi, Harion, Kathmandu, Shankharapur, "
    "Sunkoshi, Vyas",
    "Pakistan": "Lahore",
    "Philippines": "Vigan",
    "South Korea": "Andong, Buyeo, Gongju, Gyeongju, Suwon",
    "Sri Lanka": "Kurunegala",
    "Thailand": "Chiang Mai",
    "Viet Nam": "Hanoi, Hue",
    "Austria": "Bad Ischl, Vienna",
    "Azerbaijan": "Sheki, Shusha",
    "Belarus": "Minsk",
    "Belgium": "Brussels",
    "Bosnia and Herzegovina": "Sarajevo",
    "Bulgaria": "Veliko Tarnovo",
    "Croatia": "Zagreb",
    "Cyprus": "Nicosia",
    "Czechia": "Prague",
    "France": "Bordeaux, Montpellier, Paris, Strasbourg",
    "Georgia": "Kutaisi, Mtskheta",
    "Germany": "Cologne",
    "Greece": "Athens, Corinth",
    "Hungary": "Budapest",
    "Ireland": "Dublin",
    "Italy": "Florence, Rome, Venice",
    "Latvia": "Riga",
    "Lithuania": "Klaipeda",
    "Malta": "South East Region of Malta",
    "Netherlands": "Amsterdam, The Hague",
    "Poland": "Kraków",
    "Portugal": "Lisbon",
    "Romania": "Alba Iulia, Constanța, Iași",
    "Russian Federation": "Izhevsk, Kazan, Vladimir",
    "Serbia": "Niš",
    "Slovakia": "Bratislava",
    "Slovenia": "Ljubljana",
    "Spain": "Barcelona, Córdoba, Santiago de Compostela",
    "Sweden": "Helsingborg",
    "Switzerland": "Geneva",
    "Ukraine": "Chernivtsi, Kyiv, Lutsk, Lviv, Odesa",
    "United Kingdom of Great Britain and Northern Ireland": "Edinburgh, Norwich",
    "Uzbekistan": "Tashkent, Termez",
    "Colombia": "Cartagena",
    "Ecuador": "Cuenca",
    "Mexico": "Guadalajara, Mexico City",
    "Peru": "Cusco",
    "Iran": "Ardabil, Hamedan, Isfahan, Kashan, Kong, Mashhad, Masouleh, Natanz, Nayshabur, "
    "Semnan, Shiraz, Tabriz, Tehran, Yazd",
    "Iraq": "Baghdad",
    "Israel": "Jerusalem",
    "Palestine": "Hebron",
    "Türkiye": "Ankara, Bursa, Istanbul, Konya, Osmangazi, Şanlıurfa, Selçuklu",
    "Canada": "Montreal, Quebec",
    "United States of America": "Boston",
    "Australia": "Ballarat, Melbourne, Norwood Payneham and St Peters",
    "New Zealand": "Whanganui",
}


def test_counts(result: ParseResult) -> None:
    assert result.doc == "lhc" and result.file == LHC.name
    assert len(result.records) == 136
    assert result.groups == (
        ("Africa", 5),
        ("Asia", 40),
        ("Europe", 55),
        ("Latin America", 5),
        ("Middle East", 24),
        ("North America", 3),
        ("Pacific", 4),
    )
    assert result.rejections == ()
    assert result.blank_rows == 4  # lines 1, 2, 4, 71
    assert len({m.country_en for m in _members(result)}) == 65


def test_every_city_exactly_once_with_its_country(result: ParseResult) -> None:
    got: dict[str, list[str]] = {}
    for m in _members(result):
        got.setdefault(m.country_en, []).append(m.city_en)
    assert {c: ", ".join(cities) for c, cities in got.items()} == EXPECTED
    assert list(got) == list(EXPECTED)  # document order
    assert sum(len(v.split(", ")) for v in EXPECTED.values()) == 136
    assert max(Counter((m.city_en, m.country_en) for m in _members(result)).values()) == 1


def test_every_record_is_complete(result: ParseResult) -> None:
    for m in _members(result):
        assert m.network == "League of Historical Cities"
        assert m.as_of == "2025-12"
        assert m.source.doc == "lhc" and m.source.file == LHC.name
        assert all([m.city_en, m.city_ja, m.country_en, m.country_ja, m.region_en, m.region_ja])
        assert " " not in m.city_ja  # no merged Japanese cell left
    lines = [m.source.line for m in _members(result)]
    assert lines == sorted(lines)


# (line, city_ja, city_en, country_ja, country_en, region_ja, region_en), checked by hand
# fmt: off
SAMPLE = [
    # page 1, four cells, JA and EN city in one cell; region header row
    (6, "アルジェ", "Algiers", "アルジェリア", "Algeria", "アフリカ", "Africa"),
    (8, "ギザ", "Giza", "エジプト", "Egypt", "アフリカ", "Africa"),
    # drifted one column left
    (10, "チュニス", "Tunis", "チュニジア", "Tunisia", "アフリカ", "Africa"),
    (15, "西安", "Xi'an", "中国", "China", "アジア", "Asia"),
    (18, "台中", "Taichung", "台湾", "Chinese Taipei", "アジア", "Asia"),
    # city alone in column 0
    (38, "スンコシ", "Sunkoshi", "ネパール", "Nepal", "アジア", "Asia"),
    (39, "ヴァス", "Vyas", "ネパール", "Nepal", "アジア", "Asia"),
    (43, "扶餘", "Buyeo", "韓国", "South Korea", "アジア", "Asia"),
    (51, "バート・イシュル", "Bad Ischl", "オーストリア", "Austria", "欧州", "Europe"),
    (68, "ケルン", "Cologne", "ドイツ", "Germany", "欧州", "Europe"),
    (70, "コリントス", "Corinth", "ギリシャ", "Greece", "欧州", "Europe"),
    # page 2 (after the page break and the repeated Europe header): five cells
    (72, "ブダペスト", "Budapest", "ハンガリー", "Hungary", "欧州", "Europe"),
    (79, "マルタ南東部", "South East Region of Malta", "マルタ", "Malta", "欧州", "Europe"),
    (82, "クラクフ", "Kraków", "ポーランド", "Poland", "欧州", "Europe"),
    (86, "ヤシ", "Iași", "ルーマニア", "Romania", "欧州", "Europe"),
    (92, "リュブリャナ", "Ljubljana", "スロベニア", "Slovenia", "欧州", "Europe"),
    (95, "サンティアゴ・デ・コンポステーラ", "Santiago de Compostela", "スペイン", "Spain",
     "欧州", "Europe"),
    (104, "ノーリッジ", "Norwich", "英国", "United Kingdom of Great Britain and Northern Ireland",
     "欧州", "Europe"),
    (111, "クスコ", "Cusco", "ペルー", "Peru", "ラテンアメリカ", "Latin America"),
    # a city in the country columns
    (125, "ヤズド", "Yazd", "イラン", "Iran", "中東", "Middle East"),
    (128, "ヘブロン", "Hebron", "パレスチナ", "Palestine", "中東", "Middle East"),
    # Japanese in column 0, English in column 3
    (132, "コンヤ", "Konya", "トルコ", "Türkiye", "中東", "Middle East"),
    (134, "シャンルウルファ", "Şanlıurfa", "トルコ", "Türkiye", "中東", "Middle East"),
    (135, "セルチュク", "Selçuklu", "トルコ", "Türkiye", "中東", "Middle East"),
    # a country label on another country's row (corrected)
    (137, "ケベック", "Quebec", "カナダ", "Canada", "北アメリカ", "North America"),
    (138, "ボストン", "Boston", "米国", "United States of America", "北アメリカ", "North America"),
    # two cities merged in one row (corrected)
    (141, "ノーウッド・ペイネハム・アンド・セント・ピーターズ", "Norwood Payneham and St Peters",
     "オーストラリア", "Australia", "大洋州", "Pacific"),
    (141, "ワンガヌイ", "Whanganui", "ニュージーランド", "New Zealand", "大洋州", "Pacific"),
]
# fmt: on


@pytest.mark.parametrize("expected", SAMPLE, ids=[s[2] for s in SAMPLE])
def test_sample_record(result: ParseResult, expected: tuple[str | int, ...]) -> None:
    m = _by_city(result)[str(expected[2])]
    got = (m.source.line, m.city_ja, m.city_en, m.country_ja, m.country_en)
    assert (*got, m.region_ja, m.region_en) == expected


def test_warnings(result: ParseResult) -> None:
    got = [(w.source.line, w.reason) for w in result.warnings]
    assert (3, "title says 137 cities, 136 listed") in got
    assert (6, "region Africa: header says 6 cities, 5 listed") in got
    assert [line for line, _ in got] == [3, 6, 125, 137, 137, 141, 141, 141]
    yazd = got[2][1]
    assert "Yazd" in yazd and "Iran" in yazd
    applied = [reason for line, reason in got if line in (137, 141)]
    assert all(reason.startswith("corrected ") for reason in applied)
    assert all(w.source.file == LHC.name for w in result.warnings)
    # the country total agrees with the title: no warning about it
    assert not any("countries" in reason for _, reason in got)


def test_region_header_repeated_after_page_break_continues_the_region() -> None:
    text = TEXT.split("\n")
    assert text[71].startswith("欧州 Europe (55)")
    cut = "\n".join(text[:70] + text[71:])  # without the blank line between the pages
    result = lhc.parse(cut, "x.txt")
    assert dict(result.groups)["Europe"] == 55
    assert not any("Europe" in w.reason for w in result.warnings)


def test_repeated_region_header_with_another_count_is_reported() -> None:
    text = TEXT.replace("欧州 Europe (55)\tハンガリー", "欧州 Europe (54)\tハンガリー")
    result = lhc.parse(text, "x.txt")
    assert [w.source.line for w in result.warnings if "Europe" in w.reason] == [72]
    assert dict(result.groups)["Europe"] == 55


def test_truncated_document() -> None:
    """The first 20 lines: what is there is parsed, every count mismatch reported, and
    the corrections for lines beyond the end are reported as not applied."""
    text = "\n".join(TEXT.split("\n")[:20]) + "\n"
    result = lhc.parse(text, "cut.txt")
    assert len(result.records) == 15
    assert result.groups == (("Africa", 5), ("Asia", 10))
    assert result.rejections == ()
    reasons = {(w.source.line, w.reason) for w in result.warnings}
    assert (3, "title says 137 cities, 15 listed") in reasons
    assert (3, "title says 65 countries and regions, 7 listed") in reasons
    assert (6, "region Africa: header says 6 cities, 5 listed") in reasons
    assert (11, "region Asia: header says 40 cities, 10 listed") in reasons
    stale = [w for w in result.warnings if "correction not applied" in w.reason]
    assert len(stale) == 5 and all("beyond the end" in w.reason for w in stale)


def test_truncated_document_through_parse_path(tmp_path: Path) -> None:
    path = tmp_path / "cut.txt"
    path.write_text("\n".join(TEXT.split("\n")[:20]), encoding="utf-8")
    result = parse_path(path)  # still recognised as the League list
    assert result.doc == "lhc" and len(result.records) == 15


def test_unreadable_rows_are_rejected_with_their_line() -> None:
    lines = TEXT.split("\n")
    lines.insert(9, "\t\t\tギザ\t")  # line 10: a Japanese name with no English
    lines.insert(10, "\tGiza 2\t\t")  # line 11: English only
    lines.insert(11, "\t\t\tAbc ギザ")  # line 12: English then Japanese in one cell
    result = lhc.parse("\n".join(lines), "x.txt", corrections=())
    rejected = {i.source.line: i for i in result.rejections}
    assert sorted(rejected) == [10, 11, 12, 144]  # 144: the merged cell (no corrections)
    assert all("cannot read row" in rejected[n].reason for n in (10, 11, 12))
    assert rejected[10].text == "\t\t\tギザ\t"
    assert len(result.records) == 136 - 2  # Norwood/Whanganui rejected, nothing else lost


def test_row_before_any_region_is_rejected() -> None:
    text = "\t中国\tChina\t成都 Chengdu\nアジア Asia (1)\t日本\tJapan\t奈良 Nara\n"
    result = lhc.parse(text, "x.txt", corrections=())
    assert [m.city_en for m in _members(result)] == ["Nara"]
    assert [(i.source.line, "before any region" in i.reason) for i in result.rejections] == [
        (1, True)
    ]


def test_country_without_city_is_rejected_and_continues() -> None:
    text = "アジア Asia (2)\t日本\tJapan\t奈良 Nara\n\tインド\tIndia\t\n\t\t\tヴァラナシ Varanasi\n"
    result = lhc.parse(text, "x.txt", corrections=())
    assert [(m.city_en, m.country_en) for m in _members(result)] == [
        ("Nara", "Japan"),
        ("Varanasi", "India"),
    ]
    assert [i.source.line for i in result.rejections] == [2]
    assert "no city" in result.rejections[0].reason


def test_city_before_any_country_is_rejected() -> None:
    text = "アジア Asia (1)\t\t\t奈良 Nara\n"
    result = lhc.parse(text, "x.txt", corrections=())
    assert result.records == ()
    assert [i.source.line for i in result.rejections] == [1]
    assert {w.reason for w in result.warnings} == {
        "no title line with the as-of date: records carry an empty as_of",
        "region Asia: header says 1 cities, 0 listed",
    }


def test_without_corrections_the_merged_row_is_rejected() -> None:
    result = lhc.parse(TEXT, LHC.name, corrections=())
    assert len(result.records) == 134
    assert [i.source.line for i in result.rejections] == [141]
    reason = result.rejections[0].reason
    assert "merged" in reason and "lhc-corrections.tsv" in reason
    by_city = _by_city(result)
    # without the curated table Quebec keeps the label of the row it sits on
    assert by_city["Quebec"].country_en == "United States of America"
    assert (6, "region Africa: header says 6 cities, 5 listed") in {
        (w.source.line, w.reason) for w in result.warnings
    }
    assert (139, "region Pacific: header says 4 cities, 2 listed") in {
        (w.source.line, w.reason) for w in result.warnings
    }


def test_stale_correction_is_reported_not_applied() -> None:
    stale = lhc.Correction(137, "country_en", "Mexico", "Canada", "test")
    result = lhc.parse(TEXT, LHC.name, corrections=[stale])
    assert _by_city(result)["Quebec"].country_en == "United States of America"
    [warning] = [w for w in result.warnings if w.source.line == 137]
    assert "not applied" in warning.reason and "'Mexico'" in warning.reason


def test_correction_for_a_line_without_a_city() -> None:
    fix = lhc.Correction(71, "city_en", "X", "Y", "test")
    result = lhc.parse(TEXT, LHC.name, corrections=[fix])
    [warning] = [w for w in result.warnings if w.source.line == 71]
    assert "correction not applied" in warning.reason and "not a city row" in warning.reason


def test_inconsistent_split_is_rejected() -> None:
    fixes = lhc.load_corrections(CORRECTIONS)
    bad = [
        f
        if (f.line, f.field) != (141, "country_en")
        else lhc.Correction(f.line, f.field, f.found, "A | B | C", f.reason)
        for f in fixes
    ]
    result = lhc.parse(TEXT, LHC.name, corrections=bad)
    assert [i.source.line for i in result.rejections] == [141]
    assert "inconsistently" in result.rejections[0].reason


def test_missing_default_corrections_table_is_a_warning(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(lhc, "CORRECTIONS_TSV", tmp_path / "none.tsv")
    result = lhc.parse(TEXT, LHC.name)
    assert "no corrections table" in result.warnings[0].reason
    assert [i.source.line for i in result.rejections] == [141]


def test_the_corrections_table() -> None:
    fixes = lhc.load_corrections(CORRECTIONS)
    assert [(f.line, f.field) for f in fixes] == [
        (137, "country_en"),
        (137, "country_ja"),
        (141, "city_en"),
        (141, "country_en"),
        (141, "country_ja"),
    ]
    assert all(f.reason and f.origin.startswith("lhc-corrections.tsv:") for f in fixes)


@pytest.mark.parametrize(
    ("content", "line", "message"),
    [
        ("line\tfield\tfound\n", 1, "header"),
        ("", 1, "header"),
        ("line\tfield\tfound\tcorrected\treason\n1\tcity_en\ta\tb\n", 2, "5 tab-separated"),
        ("line\tfield\tfound\tcorrected\treason\nx\tcity_en\ta\tb\tr\n", 2, "positive integer"),
        ("line\tfield\tfound\tcorrected\treason\n# c\n1\tregion\ta\tb\tr\n", 3, "unknown field"),
        ("line\tfield\tfound\tcorrected\treason\n1\tcity_en\ta\tb\t\n", 2, "must not be empty"),
        (
            "line\tfield\tfound\tcorrected\treason\n1\tcity_en\ta\tb\tr\n1\tcity_en\ta\tc\tr\n",
            3,
            "second correction",
        ),
    ],
)
def test_malformed_corrections_table(tmp_path: Path, content: str, line: int, message: str) -> None:
    path = tmp_path / "c.tsv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(SourceError) as info:
        lhc.load_corrections(path)
    assert info.value.line == line and message in info.value.message
    assert str(info.value).startswith(f"{path}:{line}: ")


def test_missing_corrections_table(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no such corrections table"):
        lhc.load_corrections(tmp_path / "none.tsv")


def test_as_of_comes_from_the_title() -> None:
    text = TEXT.replace("令和7年12月現在", "令和8年3月現在").replace("December 2025", "March 2026")
    result = lhc.parse(text, "x.txt")
    assert {m.as_of for m in _members(result)} == {"2026-03"}
    japanese_only = TEXT.replace(" (As of December 2025)", "")
    assert {m.as_of for m in _members(lhc.parse(japanese_only, "x.txt"))} == {"2025-12"}


def test_as_of_disagreement_is_reported() -> None:
    text = TEXT.replace("December 2025", "November 2025")
    result = lhc.parse(text, "x.txt")
    assert any(w.source.line == 3 and "two as-of dates" in w.reason for w in result.warnings)


def test_missing_as_of_is_a_warning_and_empty() -> None:
    text = TEXT.replace("令和7年12月現在 ", "").replace(" (As of December 2025)", "")
    result = lhc.parse(text, "x.txt")
    assert {m.as_of for m in _members(result)} == {""}
    assert (3, "title gives no as-of date: records carry an empty as_of") in {
        (w.source.line, w.reason) for w in result.warnings
    }
    no_title = "\n".join(line for line in TEXT.split("\n") if "As of" not in line)
    result = lhc.parse(no_title, "x.txt")
    assert {m.as_of for m in _members(result)} == {""}
    assert result.warnings[0].reason.startswith("no title line")


def test_crlf_and_no_final_newline() -> None:
    result = lhc.parse(TEXT.rstrip("\n").replace("\n", "\r\n"), LHC.name)
    assert len(result.records) == 136 and result.blank_rows == 4
    assert _by_city(result)["Konya"].source.line == 132


def test_looks_like() -> None:
    assert lhc.looks_like(TEXT)
    assert lhc.looks_like("\n".join(TEXT.split("\n")[:7]))
    assert not lhc.looks_like((SEEDS / "zhwiki-prc-sister-cities.md").read_text(encoding="utf-8"))
    assert not lhc.looks_like("Africa (6)\nno tabs here\n")


@pytest.mark.parametrize(
    ("name", "known"),
    [
        ("Türkiye", True),
        ("Viet Nam", True),
        ("Russian Federation", True),
        ("Czechia", True),
        ("United Kingdom of Great Britain and Northern Ireland", True),
        ("United States of America", True),
        ("Iran", True),
        ("North Korea", True),
        ("South Korea", True),
        ("Chinese Taipei", True),
        ("Palestine", True),
        ("the Netherlands", True),
        ("Yazd", False),
        ("Quebec", False),
        ("Sunkoshi", False),
    ],
)
def test_is_known_country(name: str, known: bool) -> None:
    assert lhc.is_known_country(name) is known
