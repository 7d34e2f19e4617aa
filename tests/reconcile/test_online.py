"""The online adapter against the fake Wikidata API of ``conftest.py`` (127.0.0.1).

QIDs: see ``tests/reconcile/data/README.md`` (each looked up in the shared gazetteer):
Q5826 Xi'an, Q34600 Kyoto, Q148 China, Q17 Japan, Q30 United States.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kg.reconcile import PlaceRef
from kg.reconcile.online import OnlineResolver


def _resolver(fake: Any, tmp_path: Path) -> OnlineResolver:
    return OnlineResolver.from_options(api_url=fake.url, sparql_url=fake.url + "/sparql",
                                       cache_dir=tmp_path)


def test_zhwiki_title_through_sitelink(fake_wikidata: Any, tmp_path: Path) -> None:
    ref = PlaceRef("zhwiki", "partner", "西安", "中國", [("zh", "西安")], "")
    rows = _resolver(fake_wikidata, tmp_path).resolve([ref], {"zhwiki\t中國": "Q148"})
    row = rows[("zhwiki", "partner", "西安", "中國")]
    assert row.qid == "Q5826"
    assert row.method == "wikidata-sitelink"
    assert "wbgetentities" in row.evidence and "127.0.0.1" in row.evidence


def test_sitelink_in_another_country_is_not_taken(fake_wikidata: Any, tmp_path: Path) -> None:
    ref = PlaceRef("zhwiki", "partner", "西安", "美國", [("zh", "西安")], "")
    rows = _resolver(fake_wikidata, tmp_path).resolve([ref], {"zhwiki\t美國": "Q30"})
    assert rows == {}


def test_league_name_through_search(fake_wikidata: Any, tmp_path: Path) -> None:
    ref = PlaceRef("lhc", "member", "Kyoto", "Japan", [("en", "Kyoto"), ("ja", "京都")], "city")
    rows = _resolver(fake_wikidata, tmp_path).resolve([ref], {"lhc\tJapan": "Q17"})
    row = rows[("lhc", "member", "Kyoto", "Japan")]
    assert row.qid == "Q34600" and row.method == "wikidata-search"
    assert "wbsearchentities" in row.evidence


def test_user_agent_and_default_cache(fake_wikidata: Any, tmp_path: Path,
                                      monkeypatch: Any) -> None:
    """``kg reconcile --online --user-agent UA`` sends UA; answers are cached in the user's
    cache folder when no ``--cache-dir`` is given, so a second run asks nothing."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    ref = PlaceRef("zhwiki", "partner", "西安", "中國", [("zh", "西安")], "")
    agent = "twinning-kg-test/1 (test@example.org)"

    def resolve() -> None:
        resolver = OnlineResolver.from_options(api_url=fake_wikidata.url,
                                               sparql_url=fake_wikidata.url + "/sparql",
                                               cache_dir=None, user_agent=agent)
        resolver.resolve([ref], {"zhwiki\t中國": "Q148"})

    resolve()
    asked = len(fake_wikidata.requests)
    assert asked and all(r["headers"].get("User-Agent") == agent for r in fake_wikidata.requests)
    assert list((tmp_path / "xdg" / "twinning-kg" / "wikidata").iterdir())
    resolve()
    assert len(fake_wikidata.requests) == asked
