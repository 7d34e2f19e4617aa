"""Scoring decisions on homonyms: the country filter, kinds, namesakes, margins.

QIDs are those of the sample rows listed in ``tests/reconcile/test_gazetteer.py``.
"""

from __future__ import annotations

import pytest

from kg.reconcile.gazetteer import Gazetteer, load_gazetteer
from kg.reconcile.score import Query, decide, score_candidates
from tests.shared import needs_gazetteer

pytestmark = needs_gazetteer


@pytest.fixture(scope="module")
def gaz(tmp_path_factory: pytest.TempPathFactory) -> Gazetteer:
    from tests.reconcile.test_gazetteer import sample_gazetteer

    return load_gazetteer(sample_gazetteer(tmp_path_factory.mktemp("gaz")), use_cache=False)


def _country(gaz: Gazetteer, iso: str) -> str:
    return gaz.iso2_to_qid[iso]


def _resolve(gaz: Gazetteer, query: Query) -> str | None:
    decision = decide(query, score_candidates(query, gaz))
    return decision.chosen.qid if decision.chosen else None


def test_country_is_a_hard_filter(gaz: Gazetteer) -> None:
    names = (("en", "Cartagena"),)
    assert _resolve(gaz, Query(names, _country(gaz, "CO"), "city")) == "Q657461"
    assert _resolve(gaz, Query(names, _country(gaz, "ES"), "city")) == "Q162615"
    cordoba = (("en", "Córdoba"),)
    assert _resolve(gaz, Query(cordoba, _country(gaz, "ES"), "city")) == "Q5818"
    assert _resolve(gaz, Query(cordoba, _country(gaz, "AR"), "city")) == "Q44210"


def test_city_not_its_province(gaz: Gazetteer) -> None:
    # Quebec the League city: the city (naturalearth 227), not the province (gf 10)
    assert _resolve(gaz, Query((("en", "Quebec"),), _country(gaz, "CA"), "city")) == "Q2145"
    # 魁北克省 with its suffix is the province
    assert _resolve(gaz, Query((("zh", "魁北克省"),), _country(gaz, "CA"), "region")) == "Q176"


def test_county_suffix_never_gives_the_city(gaz: Gazetteer) -> None:
    us = _country(gaz, "US")
    got = _resolve(gaz, Query((("zh", "洛杉磯郡"),), us, "county"))
    assert got != "Q65"
    assert _resolve(gaz, Query((("zh", "洛杉磯"),), us, "")) == "Q65"


def test_without_country_prefer_the_capital_or_stay_open(gaz: Gazetteer) -> None:
    # No country link (Beijing's table): Lima, capital of Peru, over Lima, Ohio
    assert _resolve(gaz, Query((("zh", "利馬"),), "", "", strict=True)) == "Q2868"


def test_small_namesakes_stay_ambiguous(gaz: Gazetteer) -> None:
    query = Query((("zh", "泰特斯維爾"),), _country(gaz, "US"), "")
    decision = decide(query, score_candidates(query, gaz))
    assert decision.chosen is None
    assert decision.status == "ambiguous"
    assert {c.qid for c in decision.candidates} >= {"Q983779", "Q787466"}


def test_georgia_the_state_is_not_the_country(gaz: Gazetteer) -> None:
    us = _country(gaz, "US")
    assert _resolve(gaz, Query((("zh", "喬治亞州"),), us, "region")) == "Q1428"
    # under the country Georgia the US state is filtered out
    assert _resolve(gaz, Query((("zh", "喬治亞州"),), _country(gaz, "GE"), "region")) is None


def test_nothing_found(gaz: Gazetteer) -> None:
    decision = decide(Query((("en", "Atlantis"),)), [])
    assert decision.status == "unresolved" and decision.reason
