"""The matching rules that raised offline coverage, each with the homonyms it must not merge.

Every QID asserted here is read from the shared gazetteer row named beside it (the sample
gazetteer copies those rows, so the tests see exactly these records):

* Campania the region, Q1438 (dr5hn_states.tsv:132, gf_wikidata_provinces.tsv:127,
  wof_places.tsv:29673) vs Campagna the town, Q80734 (wof_places.tsv:16581, zho 坎帕尼亚);
* Pasadena, California, Q485176 (naturalearth_populated_places.tsv:3608) vs Pasadena,
  Texas, Q51695 (naturalearth_populated_places.tsv:1365); California Q99 (dr5hn_states.tsv:8);
* Tokyo Q1490 (gf_wikidata_cities.tsv:153), Shinjuku Q179645 (wof_places.tsv:33232);
* Chiba city Q170616 (gf_wikidata_cities.tsv:4474) vs Chiba Prefecture Q80011
  (gf_wikidata_provinces.tsv:1068);
* Brăila city Q188478 (gf_wikidata_cities.tsv:4836) vs Brăila County Q188503
  (gf_wikidata_provinces.tsv:1527, 布勒伊拉縣);
* Jönköping County Q103672 (gf_wikidata_provinces.tsv:1115) vs the city Q25415
  (naturalearth_populated_places.tsv:861);
* Amazonas, Venezuela, Q170453 (gf_wikidata_provinces.tsv:1368, 亞馬遜州) vs Amazonas,
  Brazil, Q40040 (gf_wikidata_provinces.tsv:814, 亞馬遜州 (巴西));
* Alabama Q173 (dr5hn_states.tsv:9, machine-made 阿拉巴马州 only);
  Călărași County Q188948 (dr5hn_states.tsv:1790);
* Kamakura Q200267 (gf_wikidata_cities.tsv:5058; wof_places.tsv:28993 locality and 33198
  county); Nan'yō, Japan, Q850496 (gf_wikidata_cities.tsv:12322) vs Nanyang, China,
  Q404763 (gf_wikidata_cities.tsv:6999);
* Los Angeles County Q104994 (dr5hn_us_counties.tsv:294) vs the city Q65;
* El Paso on La Palma, Spain, Q434123 (wof_places.tsv:20399, 埃尔帕索) vs El Paso, Texas,
  Q16562 (naturalearth_populated_places.tsv:745, 艾爾帕索).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kg import paths
from kg.model import Membership, ParseResult, SourceRef, Twinning, WikiLink
from kg.reconcile import collect_refs, reconcile
from kg.reconcile.gazetteer import Gazetteer, load_gazetteer
from kg.reconcile.normalize import kind_hint, name_key, suffix_kind, variants
from kg.reconcile.overrides import check_evidence, read_overrides
from kg.reconcile.score import Query, decide, score_candidates
from tests.shared import needs_gazetteer

QIDS = {
    "Q1438", "Q80734", "Q485176", "Q51695", "Q99", "Q1490", "Q179645", "Q170616", "Q80011",
    "Q188478", "Q188503", "Q103672", "Q25415", "Q170453", "Q40040", "Q173", "Q188948",
    "Q200267", "Q850496", "Q404763", "Q104994", "Q65", "Q434123", "Q16562",
}


@pytest.fixture(scope="module")
def gaz(tmp_path_factory: pytest.TempPathFactory) -> Gazetteer:
    from tests.reconcile.test_gazetteer import sample_gazetteer

    folder = sample_gazetteer(tmp_path_factory.mktemp("gaz"), QIDS)
    return load_gazetteer(folder, use_cache=False)


def _resolve(gaz: Gazetteer, query: Query) -> str | None:
    decision = decide(query, score_candidates(query, gaz))
    return decision.chosen.qid if decision.chosen else None


def _twin(partner: tuple[WikiLink, ...], country: str | None = None) -> Twinning:
    src = SourceRef("zhwiki", "zh.md", 1)
    return Twinning(src, "北京", (WikiLink("北京市", "北京市"),), partner,
                    WikiLink(country, country) if country else None)


def _rows(gaz: Gazetteer, *twins: Twinning,
          members: tuple[Membership, ...] = ()) -> dict[tuple[str, str, str, str], object]:
    results = [ParseResult("zhwiki", "zh.md", twins)]
    if members:
        results.append(ParseResult("lhc", "lhc.txt", members))
    return {r.ref: r for r in reconcile(results, gaz)}


# --- normalisation ---------------------------------------------------------------------


def test_county_suffixes_swap_and_krai_is_a_region() -> None:
    found = {v.key: v.how for v in variants("洛杉磯郡")}
    assert found[name_key("洛杉矶县")] == "swap"
    assert kind_hint("阿爾泰邊疆區") == "region"  # 邊疆區 (krai), not 區 (district)
    assert {v.key for v in variants("阿爾泰邊疆區")} >= {name_key("阿尔泰")}
    assert suffix_kind("大區") == "region" and suffix_kind("日本") == ""


def test_label_suffix_and_kind_word_disambiguator_give_the_kind() -> None:
    refs = {r.key: r for r in collect_refs([ParseResult("zhwiki", "zh.md", (
        _twin((WikiLink("坎帕尼亞", "坎帕尼亞大區"),), "義大利"),
        _twin((WikiLink("中央_(大區)", "中央 (大區)"),), "法國"),
        _twin((WikiLink("東京都", "東京都"), WikiLink("新宿區", "新宿區"))),
        _twin((WikiLink("帕薩迪納_(加利福尼亞州)", "帕薩迪納"),)),
    ))])}
    assert refs["坎帕尼亞"].kind == "region"
    assert refs["中央_(大區)"].kind == "region"
    assert refs["新宿區"].context == ["東京都"]
    assert refs["帕薩迪納_(加利福尼亞州)"].context == ["加利福尼亞州"]


# --- homonyms --------------------------------------------------------------------------


@needs_gazetteer
def test_region_label_picks_the_region_not_the_namesake_town(gaz: Gazetteer) -> None:
    rows = _rows(gaz, _twin((WikiLink("坎帕尼亞", "坎帕尼亞大區"),), "義大利"))
    row = rows[("zhwiki", "partner", "坎帕尼亞", "義大利")]
    assert row.qid == "Q1438" and row.kind == "region"  # type: ignore[attr-defined]


@needs_gazetteer
def test_disambiguator_state_picks_the_namesake_in_that_state(gaz: Gazetteer) -> None:
    rows = _rows(gaz, _twin((WikiLink("帕薩迪納_(加利福尼亞州)", "帕薩迪納"),)),
                 _twin((WikiLink("帕薩迪納", "帕薩迪納"),)))
    row = rows[("zhwiki", "partner", "帕薩迪納_(加利福尼亞州)", "")]
    assert row.qid == "Q485176"  # type: ignore[attr-defined]
    assert "parent '加利福尼亞州' = Q99" in row.evidence  # type: ignore[attr-defined]
    # without the state, two Pasadenas: no answer
    assert not rows[("zhwiki", "partner", "帕薩迪納", "")].qid  # type: ignore[attr-defined]


@needs_gazetteer
def test_parent_link_gives_the_country(gaz: Gazetteer) -> None:
    rows = _rows(gaz, _twin((WikiLink("東京都", "東京都"), WikiLink("新宿區", "新宿區"))))
    row = rows[("zhwiki", "partner", "新宿區", "")]
    assert row.qid == "Q179645" and row.country_qid == "Q17"  # type: ignore[attr-defined]


@needs_gazetteer
def test_country_disambiguator_separates_same_name_cities(gaz: Gazetteer) -> None:
    rows = _rows(gaz, _twin((WikiLink("南陽市_(日本)", "南陽"),)))
    assert rows[("zhwiki", "partner", "南陽市_(日本)", "")].qid == "Q850496"  # type: ignore[attr-defined]
    cn = Query((("zh", "南陽市"),), gaz.iso2_to_qid["CN"], "city")
    assert _resolve(gaz, cn) == "Q404763"


@needs_gazetteer
def test_city_or_prefecture_of_one_name_stays_open(gaz: Gazetteer) -> None:
    decision = decide(q := Query((("zh", "千葉"),), strict=True), score_candidates(q, gaz))
    assert decision.chosen is None
    assert {c.qid for c in decision.candidates} >= {"Q170616", "Q80011"}


@needs_gazetteer
def test_county_title_is_the_county_and_bare_name_the_city(gaz: Gazetteer) -> None:
    ro = gaz.iso2_to_qid["RO"]
    assert _resolve(gaz, Query((("zh", "布勒伊拉縣"),), ro, "county")) == "Q188503"
    assert _resolve(gaz, Query((("zh", "布勒伊拉"),), ro, "")) == "Q188478"
    # a bare name whose only candidate is a county is not taken for it
    assert _resolve(gaz, Query((("zh", "克勒拉什"),), ro, "")) is None


@needs_gazetteer
def test_full_title_rule_needs_a_unique_full_match(gaz: Gazetteer) -> None:
    # 延雪平省 is gf's full label of the county only: taken even without a country
    assert _resolve(gaz, Query((("zh", "延雪平省"),), strict=True, kind="region")) == "Q103672"
    # 亞馬遜州: Brazil's state carries the same name behind a disambiguator: no answer
    assert _resolve(gaz, Query((("zh", "亞馬遜州"),), strict=True, kind="region")) is None


@needs_gazetteer
def test_machine_made_names_count_only_when_spelt_in_full_in_the_country(gaz: Gazetteer) -> None:
    us = gaz.iso2_to_qid["US"]
    assert _resolve(gaz, Query((("zh", "阿拉巴馬州"),), us, "region")) == "Q173"
    assert _resolve(gaz, Query((("zh", "阿拉巴馬州"),), strict=True, kind="region")) is None
    assert _resolve(gaz, Query((("zh", "阿拉巴馬"),), us, "")) is None


@needs_gazetteer
def test_kind_follows_most_rows(gaz: Gazetteer) -> None:
    src = SourceRef("lhc", "lhc.txt", 1)
    member = Membership(src, "Kamakura", "鎌倉", "Japan", "日本", "Asia", "アジア")
    rows = _rows(gaz, members=(member,))
    row = rows[("lhc", "member", "Kamakura", "Japan")]
    assert row.qid == "Q200267" and row.kind == "city"  # type: ignore[attr-defined]


@needs_gazetteer
def test_taiwanese_county_suffix_finds_the_mainland_spelling(gaz: Gazetteer) -> None:
    us = gaz.iso2_to_qid["US"]
    query = Query((("zh", "洛杉磯郡"),), us, "county")
    cands = score_candidates(query, gaz)
    assert cands[0].qid == "Q104994"
    assert all(c.qid != "Q65" for c in cands if c.score >= 0.5)


@needs_gazetteer
def test_without_country_one_source_for_a_small_place_is_too_thin(gaz: Gazetteer) -> None:
    query = Query((("zh", "厄爾巴索"), ("zh", "埃爾帕索")), strict=True)
    decision = decide(query, score_candidates(query, gaz))
    assert decision.chosen is None and decision.candidates[0].qid == "Q434123"
    # with the country known, the Spanish village is what the name says in Spain
    es = gaz.iso2_to_qid["ES"]
    assert _resolve(gaz, Query((("zh", "埃爾帕索"),), es, "")) == "Q434123"


# --- the committed overrides -----------------------------------------------------------


@needs_gazetteer
def test_committed_overrides_cite_rows_that_carry_their_qid() -> None:
    full = load_gazetteer(paths.GAZETTEER_DIR)
    rows = {(e.file, e.line): e.qid for e in full.entries}
    overrides = read_overrides(paths.OVERRIDES_TSV)
    assert overrides
    for override in overrides.values():
        check_evidence(override, rows, Path(paths.OVERRIDES_TSV))
        assert override.reason.strip()
