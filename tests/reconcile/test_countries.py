"""Countries: League names and zh.wikipedia titles to dr5hn country QIDs."""

from __future__ import annotations

import pytest

from kg.reconcile.countries import resolve_country
from kg.reconcile.gazetteer import Gazetteer, load_gazetteer
from tests.shared import needs_gazetteer

pytestmark = needs_gazetteer


@pytest.fixture(scope="module")
def gaz(tmp_path_factory: pytest.TempPathFactory) -> Gazetteer:
    from tests.reconcile.test_gazetteer import sample_gazetteer

    return load_gazetteer(sample_gazetteer(tmp_path_factory.mktemp("gaz"), set()),
                          use_cache=False)


def _iso(gaz: Gazetteer, name: str) -> str | None:
    match = resolve_country(name, gaz)
    return match.iso2 if match else None


@pytest.mark.parametrize(
    ("name", "iso"),
    [
        ("Chinese Taipei", "TW"), ("Türkiye", "TR"), ("Viet Nam", "VN"), ("Palestine", "PS"),
        ("Russian Federation", "RU"), ("Czechia", "CZ"), ("North Korea", "KP"),
        ("South Korea", "KR"), ("Georgia", "GE"), ("Iran", "IR"),
        ("United Kingdom of Great Britain and Northern Ireland", "GB"),
        ("美國", "US"), ("美国", "US"), ("象牙海岸", "CI"), ("老撾", "LA"), ("印尼", "ID"),
        ("辛巴威", "ZW"), ("茅利塔尼亞", "MR"), ("貝寧", "BJ"), ("剛果", "CG"),
        ("苏丹共和国", "SD"), ("義大利", "IT"), ("爱尔蘭", "IE"), ("韓國", "KR"),
        ("蒙古", "MN"), ("孟加拉", "BD"), ("新西蘭", "NZ"),
    ],
)
def test_country_names(gaz: Gazetteer, name: str, iso: str) -> None:
    assert _iso(gaz, name) == iso


def test_qid_and_evidence_come_from_dr5hn(gaz: Gazetteer) -> None:
    match = resolve_country("日本", gaz)
    assert match is not None
    # dr5hn_countries.tsv:3  Q17 JP Japan
    assert match.qid == "Q17"
    assert match.evidence.startswith("dr5hn_countries.tsv:3 Q17 JP")


def test_unknown_country(gaz: Gazetteer) -> None:
    assert resolve_country("Atlantis", gaz) is None
