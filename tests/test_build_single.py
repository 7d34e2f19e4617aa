"""One document alone, or a user's list alone, builds and validates (issue 18). The zhwiki
page alone used to fail with 6 SHACL violations: the countries its links rows name by QID
(China, and partners' countries the page does not name) were "named in no document". Such a
country has no place record of its own; a place some document names accounts for it as its
``tw:country`` (``tws:PlaceNamedShape``)."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

from kg.cli import main
from kg.rdf.vocab import DEFAULT_BASE

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
COUNTRY = ox.NamedNode("https://w3id.org/twinning-kg/ontology#country")
ABOUT = ox.NamedNode("https://schema.org/about")


def _countries_without_record(trig: Path) -> set[str]:
    """Countries of places that no place record is about."""
    store = ox.Store()
    store.bulk_load(path=str(trig), format=ox.RdfFormat.TRIG)
    countries = {q.object for q in store.quads_for_pattern(None, COUNTRY, None, None)}
    return {c.value for c in countries
            if not any(True for _ in store.quads_for_pattern(None, ABOUT, c, None))}


@pytest.mark.parametrize("seed", ["zhwiki-prc-sister-cities.md",
                                  "lhc-member-cities-2025-12.txt"])
def test_one_seed_document_alone_builds_and_validates(seed: str, tmp_path: Path) -> None:
    out = tmp_path / "dist"
    assert main(["build", "-q", "--seeds", str(SEEDS / seed), "--formats", "trig", "--out",
                 str(out)]) == 0
    assert main(["validate", str(out / "twinning.trig")]) == 0
    if seed.startswith("zhwiki"):
        # China (Q148, its places' country) among them: named by the links table only
        assert DEFAULT_BASE + "place/Q148" in _countries_without_record(out / "twinning.trig")


def test_a_users_list_alone_builds_and_validates(tmp_path: Path) -> None:
    listing = tmp_path / "mine.csv"
    listing.write_text("city_a,country_a,city_b,country_b,start_date\n"
                       "Kyoto,Japan,Paris,France,1958\n北京,中国,東京,日本,1979-03-14\n",
                       encoding="utf-8")
    out = tmp_path / "dist"
    assert main(["build", "-q", "--seeds", str(listing), "--formats", "trig", "--out",
                 str(out)]) == 0
    assert main(["validate", str(out / "twinning.trig")]) == 0


def test_both_documents_name_every_country(tmp_path: Path) -> None:
    """With both documents every country has a record of a document naming it."""
    out = tmp_path / "dist"
    assert main(["build", "-q", "--formats", "trig", "--out", str(out)]) == 0
    assert _countries_without_record(out / "twinning.trig") == set()
