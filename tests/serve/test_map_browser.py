"""The page's map in a real headless Chromium, on the graph built from the seeds with its
ODbL coordinates served beside it (as ``kg serve`` does): one dot per place with
coordinates and one arc per twinning (counted by SPARQL on the same server), a click on
Beijing lists its twins, a province drawn from the ODbL dataset with its twinnings and the
credit it asks for, the filters change what is drawn."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from kg import paths
from kg.reconcile.links import read_links
from kg.serve.app import open_site
from tests.serve.conftest import serve_site
from tests.serve.test_page_browser import CHROMEDRIVER, CHROMIUM, browser  # noqa: F401

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)),
                       reason="needs Debian's chromium and chromedriver (.ci/run installs them)"),
]

# Beijing: row `zhwiki cn 北京市` of seeds/wikidata-links.tsv, QID evidence
# gf_wikidata_cities.tsv:90, coordinates naturalearth_populated_places.tsv:80.
BEIJING = "https://w3id.org/twinning-kg/place/Q956"
# Japan: dr5hn_countries.tsv (Q17), as tests/rdf/fixtures.py cites it.
JAPAN = "https://w3id.org/twinning-kg/place/Q17"
PREFIXES = """PREFIX geo: <http://www.opengis.net/ont/geosparql#>
PREFIX tw: <https://w3id.org/twinning-kg/ontology#>
PREFIX schema: <https://schema.org/>
"""
# What the map should draw, counted independently of map.js's own queries.
PLACES = PREFIXES + """SELECT (COUNT(DISTINCT ?p) AS ?n) WHERE {
  ?p geo:hasGeometry ?g . ?g geo:asWKT ?w .
  FILTER(NOT EXISTS { ?p a schema:Country } || EXISTS { ?t tw:place ?p }) }"""
ARCS = PREFIXES + """SELECT (COUNT(DISTINCT ?t) AS ?n) WHERE {
  ?t a tw:Twinning ; tw:listedPlace ?a ; tw:partnerPlace ?b .
  ?a geo:hasGeometry ?ga . ?b geo:hasGeometry ?gb . %s }"""


@pytest.fixture(scope="module")
def graph(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``kg build --out TMP --formats trig`` on the seeds (dist/ is left alone): the folder."""
    out = tmp_path_factory.mktemp("map-dist")
    done = subprocess.run([sys.executable, "-m", "kg", "build", "--out", str(out),
                           "--formats", "trig"],
                          capture_output=True, text=True, timeout=900, check=False)
    assert (out / "twinning.trig").is_file(), done.stderr
    assert (out / "twinning-geo-odbl.trig").is_file(), done.stderr
    return out


@pytest.fixture(scope="module")
def url(graph: Path) -> Iterator[str]:
    files = [graph / "twinning.trig", graph / "twinning-geo-odbl.trig"]  # as kg serve loads
    with serve_site(open_site(files, title="twinning-kg")) as base:
        yield base


def _count(url: str, query: str) -> int:
    response = requests.post(url + "/sparql", data={"query": query}, timeout=60,
                             headers={"Accept": "application/sparql-results+json"})
    response.raise_for_status()
    return int(response.json()["results"]["bindings"][0]["n"]["value"])


def _shown(driver: Any, css: str) -> int:
    return int(driver.execute_script(
        "return [...document.querySelectorAll(arguments[0])]"
        ".filter(e => !e.classList.contains('hidden')).length", css))


def _open_map(driver: Any, url: str) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get(url + "/")
    wait = WebDriverWait(driver, 90)
    wait.until(lambda d: d.find_element("id", "map-figure").get_attribute("data-ready")
               != "false")
    assert driver.find_element("id", "map-figure").get_attribute("data-ready") == "true", \
        driver.find_element("id", "map-info").text
    return wait


def test_map_draws_one_dot_per_place_and_one_arc_per_twinning(
        browser: Any, url: str) -> None:  # noqa: F811
    _open_map(browser, url)
    places, arcs = _count(url, PLACES), _count(url, ARCS % "")
    assert places > 300 and arcs > 150
    assert len(browser.find_elements("css selector", "circle.map-place")) == places
    assert len(browser.find_elements("css selector", "path.map-arc")) == arcs
    assert _shown(browser, "circle.map-place") == places
    assert len(browser.find_elements("css selector", "path.map-country")) > 150
    # Every arc is drawn (a great-circle path, not empty).
    assert all(p.get_attribute("d") for p in
               browser.find_elements("css selector", "path.map-arc"))
    # Nothing refused by the Content-Security-Policy, nothing failed to load.
    assert not [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    shot = os.environ.get("KG_MAP_SCREENSHOT")  # docs/map.png is made this way
    if shot:
        browser.set_window_size(1280, 1700)  # room for the map and Beijing's list of twins
        browser.find_element("css selector", f"circle[data-place='{BEIJING}']").click()
        browser.execute_script("document.getElementById('map').scrollIntoView()")
        browser.find_element("id", "map").screenshot(shot)


def test_click_on_beijing_shows_its_twins(browser: Any, url: str) -> None:  # noqa: F811
    from selenium.webdriver.support.ui import Select

    wait = _open_map(browser, url)
    twinnings = _count(url, ARCS % f"FILTER(?a = <{BEIJING}> || ?b = <{BEIJING}>)")
    twins = _count(url, PREFIXES + f"""SELECT (COUNT(DISTINCT ?x) AS ?n) WHERE {{
        <{BEIJING}> tw:twinnedWith ?x ; geo:hasGeometry ?g . ?x geo:hasGeometry ?h }}""")
    assert twinnings >= twins > 10
    dot = browser.find_element("css selector", f"circle[data-place='{BEIJING}']")
    dot.click()
    wait.until(lambda d: d.find_element("id", "map-selection").is_displayed())
    items = browser.find_elements("css selector", "#map-twins li")
    assert len(items) == twinnings
    assert len(browser.find_elements("css selector", "circle.map-place.twin")) == twins
    assert "selected" in dot.get_attribute("class")
    assert len(browser.find_elements("css selector", "path.map-arc.active")) == twinnings
    name = browser.find_element("id", "map-selected-name").text
    assert name.startswith("Beijing") and f"{twinnings} twinnings" in name
    # Tokyo (seeds/zhwiki-prc-sister-cities.md line 7: 北京市 — 東京, 1979-03-14).
    assert any(i.text.startswith("Tokyo") and "since 1979-03-14" in i.text for i in items)
    # Names in the language of the page's switch, falling back to any label.
    Select(browser.find_element("id", "lang-select")).select_by_value("zh-Hant")
    wait.until(lambda d: not d.find_element("id", "map-selected-name").text
               .startswith("Beijing"))
    assert "北京" in browser.find_element("id", "map-selected-name").text
    texts = [i.text for i in browser.find_elements("css selector", "#map-twins li")]
    assert any(t.startswith("東京") for t in texts)
    browser.find_element("id", "map-clear").click()
    assert not browser.find_elements("css selector", "#map-twins li")


def test_filters_change_what_is_drawn(browser: Any, url: str) -> None:  # noqa: F811
    from selenium.webdriver.support.ui import Select

    wait = _open_map(browser, url)
    all_arcs = _count(url, ARCS % "")
    all_places = _shown(browser, "circle.map-place")
    seventies = _count(url, ARCS % """?t tw:startDate ?d .
        FILTER(SUBSTR(STR(?d), 1, 3) = "197")""")
    assert 0 < seventies < all_arcs
    Select(browser.find_element("id", "map-decade")).select_by_value("1970")
    wait.until(lambda d: d.find_element("id", "map-figure").get_attribute("data-arcs")
               == str(seventies))
    assert _shown(browser, "path.map-arc") == seventies
    assert 0 < _shown(browser, "circle.map-place") < all_places

    in_japan = (f"FILTER EXISTS {{ {{ ?a tw:country <{JAPAN}> }} "
                f"UNION {{ ?b tw:country <{JAPAN}> }} }}")
    japan = _count(url, ARCS % in_japan)
    japan_seventies = _count(url, ARCS % f"""?t tw:startDate ?d .
        FILTER(SUBSTR(STR(?d), 1, 3) = "197") {in_japan}""")
    Select(browser.find_element("id", "map-country")).select_by_value(JAPAN)
    wait.until(lambda d: d.find_element("id", "map-figure").get_attribute("data-arcs")
               == str(japan_seventies))
    Select(browser.find_element("id", "map-decade")).select_by_value("")
    wait.until(lambda d: d.find_element("id", "map-figure").get_attribute("data-arcs")
               == str(japan))
    assert _shown(browser, "path.map-arc") == japan < all_arcs
    Select(browser.find_element("id", "map-country")).select_by_value("")
    wait.until(lambda d: d.find_element("id", "map-figure").get_attribute("data-arcs")
               == str(all_arcs))
    assert _shown(browser, "circle.map-place") == all_places


def test_small_map_of_a_place_and_its_twins(browser: Any, url: str) -> None:  # noqa: F811
    """``kgPlaceMap(container, IRI)`` (for place pages; ``data-kg-place-map`` elements are
    drawn on load): the place, one dot and one arc per twin; a hostile IRI draws nothing."""
    wait = _open_map(browser, url)
    twins = _count(url, PREFIXES + f"""SELECT (COUNT(DISTINCT ?x) AS ?n) WHERE {{
        ?t tw:place <{BEIJING}> , ?x . FILTER(?x != <{BEIJING}>) ?x geo:hasGeometry ?h }}""")
    browser.execute_script("""
        for (const [id, iri] of [["small", arguments[0]], ["bad", arguments[1]]]) {
          const div = document.createElement("div");
          div.id = id;
          document.body.append(div);
          window.kgPlaceMap(div, iri);
        }""", BEIJING, BEIJING + "> } ; DROP ALL ; <x:")
    wait.until(lambda d: d.find_element("id", "small").get_attribute("data-twins"))
    small = browser.find_element("id", "small")
    assert small.get_attribute("data-twins") == str(twins)
    assert len(small.find_elements("css selector", "circle.twin")) == twins
    assert len(small.find_elements("css selector", "path.map-arc")) == twins
    assert len(small.find_elements("css selector", "circle.selected")) == 1
    assert browser.find_element("id", "bad").get_attribute("innerHTML") == ""


def test_place_page_shows_the_place_and_its_twins(browser: Any, url: str) -> None:  # noqa: F811
    """The linked-data page of Beijing (/place/Q956) carries the small map."""
    from selenium.webdriver.support.ui import WebDriverWait

    twins = _count(url, PREFIXES + f"""SELECT (COUNT(DISTINCT ?x) AS ?n) WHERE {{
        ?t tw:place <{BEIJING}> , ?x . FILTER(?x != <{BEIJING}>) ?x geo:hasGeometry ?h }}""")
    browser.get(url + "/place/Q956")
    WebDriverWait(browser, 90).until(
        lambda d: d.find_element("css selector", "[data-kg-place-map]").get_attribute("data-twins"))
    box = browser.find_element("css selector", "[data-kg-place-map]")
    assert box.get_attribute("data-kg-place-map") == BEIJING
    assert box.get_attribute("data-twins") == str(twins)
    assert len(box.find_elements("css selector", "path.map-arc")) == twins
    assert not [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]


def _henan() -> str:
    """The IRI of 河南省 (Henan): the QID of row ``zhwiki cn 河南省`` of the links table
    (evidence gf_wikidata_provinces.tsv:872); its coordinates are only in the ODbL table
    (seeds/geo-odbl.tsv, dr5hn_states.tsv:1070)."""
    row = read_links(paths.LINKS_TSV).get("zhwiki", "cn", "河南省")
    assert row is not None and row.qid and not row.lat
    return f"https://w3id.org/twinning-kg/place/{row.qid}"


def test_a_province_and_its_twinnings_are_drawn_and_credited(
        browser: Any, url: str) -> None:  # noqa: F811
    """A province whose point comes from the ODbL dataset is drawn as an area, with an arc
    for each of its twinnings, lists its twins on a click, and the map credits the source
    and its licence."""
    from selenium.webdriver.common.keys import Keys

    henan = _henan()
    wait = _open_map(browser, url)
    twinnings = _count(url, ARCS % f"FILTER(?a = <{henan}> || ?b = <{henan}>)")
    assert twinnings > 5
    # Every province with a point is drawn as an area; there are many now.
    areas = _count(url, PREFIXES + """SELECT (COUNT(DISTINCT ?p) AS ?n) WHERE {
        ?p a schema:AdministrativeArea ; geo:hasGeometry/geo:asWKT ?w .
        FILTER EXISTS { ?t tw:place ?p } }""")
    assert areas > 100
    assert len(browser.find_elements("css selector", "circle.map-place.area")) >= areas
    dot = browser.find_element("css selector", f"circle.map-place.area[data-place='{henan}']")
    # By keyboard: the ring lies under the dot of its capital, which takes the pointer.
    dot.send_keys(Keys.ENTER)
    wait.until(lambda d: d.find_element("id", "map-selection").is_displayed())
    assert len(browser.find_elements("css selector", "#map-twins li")) == twinnings
    assert len(browser.find_elements("css selector", "path.map-arc.active")) == twinnings
    assert all(p.get_attribute("d") for p in
               browser.find_elements("css selector", "path.map-arc.active"))
    # The credit the ODbL data asks for, with links to the source and the licence.
    credit = browser.find_element("id", "map-credits")
    assert "Countries States Cities Database" in credit.text and "ODbL" in credit.text
    hrefs = {a.get_attribute("href") for a in credit.find_elements("css selector", "a")}
    assert hrefs == {"https://github.com/dr5hn/countries-states-cities-database",
                     "https://opendatacommons.org/licenses/odbl/1-0/"}
    # The small map of the province credits it too; Beijing's own point is not ODbL data.
    browser.execute_script("""
        const div = document.createElement("div");
        div.id = "small-henan";
        document.body.append(div);
        window.kgPlaceMap(div, arguments[0]);""", henan)
    wait.until(lambda d: d.find_element("id", "small-henan").get_attribute("data-twins"))
    small = browser.find_element("id", "small-henan")
    assert "ODbL" in small.find_element("css selector", ".map-credits").text
    browser.find_element("id", "map-clear").click()
