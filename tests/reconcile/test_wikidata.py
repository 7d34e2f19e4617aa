"""The live Wikidata client against local servers (fake Action API, real Oxigraph).

QIDs: see ``data/README.md`` (each from a named /work/shared/gazetteer/ file, e.g. Kyoto
Q34600 in naturalearth_populated_places.tsv); ``Q99…``/``Q98…`` ids are fictional, test-only.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kg.errors import WikidataError
from kg.reconcile.wikidata import DEFAULT_USER_AGENT, Entity, WikidataClient

from .conftest import FakeWikidata, Fault


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def client(fake: FakeWikidata, tmp_path: Path | None = None, **kw: object) -> WikidataClient:
    kw.setdefault("sleep", Sleeps())
    kw.setdefault("timeout", 5.0)
    return WikidataClient(api_url=fake.url, cache_dir=tmp_path, **kw)  # type: ignore[arg-type]


def test_titles_through_sitelinks_normalisation_and_redirect(fake_wikidata: FakeWikidata) -> None:
    c = client(fake_wikidata)
    got = c.entities_by_zhwiki_titles(["京都市", "巴黎", "京都_(日本)", "西安", "不存在的页面", ""])
    assert got["京都市"] is not None and got["京都市"].qid == "Q34600"
    assert got["巴黎"] is not None and got["巴黎"].qid == "Q90"
    # underscore -> space, then the zh.wikipedia page redirect, reported in `normalized`
    assert got["京都_(日本)"] is not None and got["京都_(日本)"].qid == "Q34600"
    assert got["西安"] is not None and got["西安"].qid == "Q5826"
    assert got["不存在的页面"] is None and got[""] is None
    batch = fake_wikidata.requests[0]["params"]
    assert batch["sites"] == "zhwiki" and batch["redirects"] == "yes"
    assert "normalize" not in batch  # Wikibase refuses normalize with several titles
    singles = [r["params"] for r in fake_wikidata.requests[1:]]
    assert all(p["normalize"] == "1" and "|" not in p["titles"] for p in singles)
    ev = c.title_evidence("西安")
    assert ev is not None and "normalize=1" in str(ev) and "\t" not in str(ev)


@pytest.mark.parametrize(
    ("name", "language", "expected"),
    [("Kyoto", "en", ["Q34600"]), ("京都", "ja", ["Q34600", "Q120730"]), ("西安", "zh", ["Q5826"])],
)
def test_search_in_languages(
    fake_wikidata: FakeWikidata, name: str, language: str, expected: list[str]
) -> None:
    c = client(fake_wikidata)
    assert c.search(name, language) == expected
    params = fake_wikidata.requests[0]["params"]
    assert params["action"] == "wbsearchentities" and params["language"] == language
    assert params["type"] == "item"
    assert c.search_evidence(name, language) is not None


def test_get_entities_parses_claims(fake_wikidata: FakeWikidata) -> None:
    got = client(fake_wikidata).get_entities(["Q34600", "Q2044", "Q9900000002", "Q9800000001"])
    kyoto = got["Q34600"]
    assert kyoto == Entity(
        qid="Q34600",
        labels={"en": "Kyoto", "ja": "京都市", "zh": "京都市"},
        aliases={"en": ("Kyōto",)},
        instance_of=("Q9900000001",),
        country=("Q17",),
        located_in=("Q120730",),
        coord=(35.029992, 135.74999),
        zhwiki_title="京都市",
    )
    florence = got["Q2044"]
    assert florence.country == ("Q38",)  # the deprecated P17 is ignored
    assert florence.located_in == ("Q1273",)
    assert florence.coord == (43.780001, 11.25)  # the preferred P625 wins
    assert "de" not in florence.labels
    assert got["Q9900000002"].qid == "Q34600"  # item redirect followed
    assert "Q9800000001" not in got  # missing
    params = fake_wikidata.requests[0]["params"]
    assert params["props"] == "labels|aliases|claims|sitelinks"
    assert params["languages"] == "en|ja|zh|zh-hans|zh-hant"
    assert params["format"] == "json" and params["formatversion"] == "2"


def test_batches_of_50(fake_wikidata: FakeWikidata) -> None:
    ids = [f"Q98{n:08d}" for n in range(1, 121)]  # fictional, test-only
    assert client(fake_wikidata).get_entities(ids) == {}
    sizes = [len(r["params"]["ids"].split("|")) for r in fake_wikidata.requests]
    assert sizes == [50, 50, 20]


def test_user_agent_and_maxlag_reach_server(fake_wikidata: FakeWikidata) -> None:
    client(fake_wikidata, maxlag=3).search("Kyoto", "en")
    request = fake_wikidata.requests[0]
    assert request["headers"]["User-Agent"] == DEFAULT_USER_AGENT
    assert DEFAULT_USER_AGENT.startswith("twinning-kg/") and "@" in DEFAULT_USER_AGENT
    assert request["params"]["maxlag"] == "3"


def test_429_retry_after_then_success(fake_wikidata: FakeWikidata) -> None:
    fake_wikidata.faults = [Fault("status", 429, retry_after="7"), Fault("status", 429, "500")]
    sleeps = Sleeps()
    assert client(fake_wikidata, sleep=sleeps, max_wait=60).search("Kyoto", "en") == ["Q34600"]
    assert sleeps == [7.0, 60.0]  # Retry-After honoured, capped
    assert len(fake_wikidata.requests) == 3


def test_5xx_then_success_backs_off(fake_wikidata: FakeWikidata) -> None:
    fake_wikidata.faults = [Fault("status", 503), Fault("status", 502)]
    sleeps = Sleeps()
    assert client(fake_wikidata, sleep=sleeps).search("Kyoto", "en") == ["Q34600"]
    assert sleeps == [1.0, 2.0]


def test_5xx_forever_is_an_error(fake_wikidata: FakeWikidata) -> None:
    fake_wikidata.forever = Fault("status", 500)
    with pytest.raises(WikidataError, match=r"127\.0\.0\.1.*HTTP 500 \(gave up after 4 attempts\)"):
        client(fake_wikidata, max_retries=3).search("Kyoto", "en")
    assert len(fake_wikidata.requests) == 4


def test_timeout_is_an_error(fake_wikidata: FakeWikidata) -> None:
    fake_wikidata.forever = Fault("delay", delay=1.0)
    with pytest.raises(WikidataError, match=r"127\.0\.0\.1.*timed out") as info:
        client(fake_wikidata, timeout=0.2, max_retries=1).search("Kyoto", "en")
    assert "\n" not in str(info.value)


def test_malformed_json_is_an_error(fake_wikidata: FakeWikidata) -> None:
    fake_wikidata.faults = [Fault("malformed")]
    with pytest.raises(WikidataError, match=r"127\.0\.0\.1.*malformed JSON"):
        client(fake_wikidata).get_entities(["Q34600"])


def test_api_error_code_is_an_error(fake_wikidata: FakeWikidata) -> None:
    fake_wikidata.faults = [Fault("apierror")]
    with pytest.raises(WikidataError, match=r"127\.0\.0\.1.*API error no-such-entity"):
        client(fake_wikidata).get_entities(["Q90"])
    assert len(fake_wikidata.requests) == 1  # not retried


def test_malformed_qid_is_an_error(fake_wikidata: FakeWikidata) -> None:
    with pytest.raises(WikidataError, match="malformed QID"):
        client(fake_wikidata).get_entities(["Kyoto"])
    assert fake_wikidata.requests == []


def test_maxlag_error_is_retried(fake_wikidata: FakeWikidata) -> None:
    fake_wikidata.faults = [Fault("maxlag", retry_after="5")]
    sleeps = Sleeps()
    got = client(fake_wikidata, sleep=sleeps).get_entities(["Q90"])
    assert got["Q90"].country == ("Q142",)
    assert sleeps == [5.0]


def test_cache_hit_does_not_reach_server(fake_wikidata: FakeWikidata, tmp_path: Path) -> None:
    first = client(fake_wikidata, tmp_path).get_entities(["Q956"])
    again = client(fake_wikidata, tmp_path)
    assert again.get_entities(["Q956"]) == first
    assert len(fake_wikidata.requests) == 1
    ev = again.evidence("Q956")
    assert ev is not None and ev.cached and "ids=Q956" in ev.url


def test_corrupt_cache_entry_is_refetched(fake_wikidata: FakeWikidata, tmp_path: Path) -> None:
    client(fake_wikidata, tmp_path).get_entities(["Q956"])
    entries = list(tmp_path.rglob("*.json"))
    assert len(entries) == 1
    entries[0].write_text("{not json", encoding="utf-8")
    got = client(fake_wikidata, tmp_path).get_entities(["Q956"])
    assert got["Q956"].zhwiki_title == "北京市"
    assert len(fake_wikidata.requests) == 2
    client(fake_wikidata, tmp_path).get_entities(["Q956"])  # rewritten: a hit again
    assert len(fake_wikidata.requests) == 2


def test_unwritable_cache_is_an_error(fake_wikidata: FakeWikidata, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(WikidataError, match="cannot write cache entry"):
        client(fake_wikidata, blocker).get_entities(["Q956"])


def test_twinned_with_on_oxigraph(oxigraph_wikidata: str, tmp_path: Path) -> None:
    c = WikidataClient(
        api_url="http://127.0.0.1:9/", sparql_url=oxigraph_wikidata, cache_dir=tmp_path, timeout=10
    )
    got = c.twinned_with(["Q956", "Q90", "Q34600", "Q5826"])
    # Beijing <-> Paris (seeds/zhwiki-prc-sister-cities.md, 北京 section); the unknown-value
    # partner of Kyoto is skipped, its fictional partner kept.
    assert got == {"Q956": {"Q90"}, "Q90": {"Q956"}, "Q34600": {"Q9900000004"}, "Q5826": set()}
    ev = c.twinned_evidence("Q956")
    assert ev is not None and ev.endpoint == oxigraph_wikidata and "P190" in ev.request


def test_twinned_with_batches(oxigraph_wikidata: str) -> None:
    c = WikidataClient(sparql_url=oxigraph_wikidata, timeout=10)
    ids = ["Q956", *(f"Q98{n:08d}" for n in range(1, 80))]  # fictional, test-only
    got = c.twinned_with(ids)
    assert got["Q956"] == {"Q90"} and len(got) == 80


def test_sparql_unreachable_is_an_error() -> None:
    sleeps = Sleeps()
    c = WikidataClient(sparql_url="http://127.0.0.1:9/sparql", max_retries=2, sleep=sleeps)
    with pytest.raises(WikidataError, match=r"127\.0\.0\.1:9/sparql: connection failed"):
        c.twinned_with(["Q956"])
    assert sleeps == [1.0, 2.0]
