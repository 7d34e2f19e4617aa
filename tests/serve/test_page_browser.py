"""The web page in a real headless Chromium (Debian's chromium + chromedriver): the query
editor (vendored YASQE), named queries, results (sorting, paging, labels in the chosen
language, downloads), permalinks and ``/sparql?query=`` opened in a browser."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest

from kg.serve.app import Site
from tests.serve.conftest import serve_site

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)),
                       reason="needs Debian's chromium and chromedriver (.ci/run installs them)"),
]


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1280,1100",
                 f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(flag)
    options.add_experimental_option("prefs", {
        "download.default_directory": str(tmp_path / "downloads"),
        "download.prompt_for_download": False})
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # CSP reports land here
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    # Headless Chromium saves downloads only where it is told to.
    driver.execute_cdp_cmd("Page.setDownloadBehavior",
                           {"behavior": "allow", "downloadPath": str(tmp_path / "downloads")})
    try:
        yield driver
    finally:
        driver.quit()


def _ready(browser: Any) -> Any:
    """Wait until the page has its named queries and its editor; return the waiter."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    # The page redraws lists as they fill: an element read mid-redraw is tried again.
    wait = WebDriverWait(browser, 30, ignored_exceptions=(StaleElementReferenceException,))
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#query-select option")) > 1)
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#editor .CodeMirror"))
    return wait


def _editor_text(browser: Any) -> str:
    return str(browser.execute_script(
        "return document.querySelector('#editor .CodeMirror').CodeMirror.getValue()"))


def _set_editor(browser: Any, text: str) -> None:
    browser.execute_script(
        "document.querySelector('#editor .CodeMirror').CodeMirror.setValue(arguments[0])", text)


def _column(browser: Any, index: int) -> list[str]:
    from selenium.webdriver.common.by import By

    return [row.find_elements(By.TAG_NAME, "td")[index].text
            for row in browser.find_elements(By.CSS_SELECTOR, "#results tbody tr")]


def _no_policy_reports(browser: Any) -> None:
    logs = browser.get_log("browser")
    assert not [e for e in logs if "Content Security Policy" in e["message"]], logs


def test_pick_and_run_a_named_query(browser: Any, site_factory: Callable[..., Site],
                                    tmp_path: Path) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    with serve_site(site_factory()) as url:
        browser.get(url + "/")
        # The dataset facts and the named queries come from the server.
        wait = _ready(browser)
        assert "13" in browser.find_element(By.ID, "facts").text
        assert "places.ttl" in browser.find_element(By.ID, "dumps").text

        Select(browser.find_element(By.ID, "query-select")).select_by_value("cities")
        assert "SELECT ?city" in _editor_text(browser)
        browser.find_element(By.ID, "run").click()
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#results tbody tr"))
        rows = browser.find_elements(By.CSS_SELECTOR, "#results tbody tr")
        assert len(rows) == 3
        assert "3 rows" in browser.find_element(By.ID, "status").text
        # Wikidata items are links (Q34600: gazetteer gf_wikidata_cities.tsv:1735).
        links = [a.get_attribute("href")
                 for a in browser.find_elements(By.CSS_SELECTOR, "#results a")]
        assert "https://www.wikidata.org/wiki/Q34600" in links
        shot = os.environ.get("KG_PAGE_SCREENSHOT")  # to look at the page by hand
        if shot:
            browser.save_screenshot(shot)

        # A parameter narrows the named query.
        field = browser.find_element(By.CSS_SELECTOR, "#params input[data-param=name]")
        field.send_keys("Kyoto")
        browser.find_element(By.ID, "run").click()
        wait.until(lambda d: "1 row" in d.find_element(By.ID, "status").text)
        assert len(browser.find_elements(By.CSS_SELECTOR, "#results tbody tr")) == 1

        # A bad query shows the server's error, not an empty table.
        _set_editor(browser, "SELECT * WHERE { ?s ?p }")
        browser.find_element(By.ID, "run").click()
        wait.until(lambda d: "HTTP 400" in d.find_element(By.ID, "status").text)
        # The editor marks the line; pointing at the mark explains it, under the page's
        # Content-Security-Policy.
        marker = browser.find_element(By.CSS_SELECTOR, "#editor .parseErrorIcon")
        ActionChains(browser).move_to_element(marker).perform()
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#editor .yasqe_tooltip"))
        browser.save_screenshot(str(tmp_path / "page.png"))
        _no_policy_reports(browser)


def test_only_http_iris_become_links(browser: Any, site_factory: Callable[..., Site]) -> None:
    """A result IRI with another scheme (javascript:, data:) is text, not a link; the page
    runs under its Content-Security-Policy with nothing blocked."""
    from selenium.webdriver.common.by import By

    query = """SELECT ?x WHERE {
      VALUES ?s { "javascript:alert(1)" "JavaScript:alert(2)" "data:text/html,x"
                  "http://example.org/kyoto" }
      BIND(IRI(?s) AS ?x) }"""
    with serve_site(site_factory()) as url:
        browser.get(url + "/")
        wait = _ready(browser)
        _set_editor(browser, query)
        browser.find_element(By.ID, "run").click()
        wait.until(lambda d: "rows" in d.find_element(By.ID, "status").text)
        cells = _column(browser, 0)
        assert "javascript:alert(1)" in cells and "data:text/html,x" in cells
        hrefs = [a.get_attribute("href") or ""
                 for a in browser.find_elements(By.CSS_SELECTOR, "#results a")]
        assert hrefs == ["http://example.org/kyoto"], hrefs
        # No script ran from a result, and the policy blocked nothing the page needs.
        assert browser.execute_script("return typeof window.alerted") == "undefined"
        assert "rows" in browser.find_element(By.ID, "status").text
        _no_policy_reports(browser)


def test_the_editor_highlights_and_completes_prefixes(
        browser: Any, site_factory: Callable[..., Site]) -> None:
    """YASQE colours the query, and a prefixed name with an undeclared prefix the dataset
    uses (ex:, from its named query) gets its PREFIX line; nothing is fetched elsewhere."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    with serve_site(site_factory()) as url:
        browser.get(url + "/")
        wait = _ready(browser)
        keywords = [e.text for e in browser.find_elements(By.CSS_SELECTOR,
                                                          "#editor .cm-keyword")]
        assert "SELECT" in keywords and "WHERE" in keywords, keywords
        assert browser.find_elements(By.CSS_SELECTOR, "#editor .cm-atom, #editor .cm-variable-2")
        _set_editor(browser, "SELECT * WHERE { ?city a ")
        browser.execute_script("""const cm = document.querySelector('#editor .CodeMirror')
            .CodeMirror; cm.focus(); cm.setCursor(cm.lineCount(), 0);""")
        browser.switch_to.active_element.send_keys("ex:")
        wait.until(lambda d: "PREFIX ex: <http://example.org/>" in _editor_text(d))
        # After PREFIX, completion lists the dataset's prefixes.
        _set_editor(browser, "PREFIX ")
        browser.execute_script("""const cm = document.querySelector('#editor .CodeMirror')
            .CodeMirror; cm.focus(); cm.setCursor(0, 7);""")
        browser.switch_to.active_element.send_keys("e")
        # Read in one script: the hint list is redrawn as it fills (a stale element else).
        wait.until(lambda d: "ex: <http://example.org/>" in d.execute_script(
            "return [...document.querySelectorAll('.CodeMirror-hints li')]"
            ".map(li => li.innerText)"))
        # Ctrl+Enter in the editor runs the query here (YASQE's own binding would send it
        # to its default endpoint elsewhere).
        _set_editor(browser, "ASK { ?s ?p ?o }")
        browser.execute_script(
            "document.querySelector('#editor .CodeMirror').CodeMirror.focus()")
        browser.switch_to.active_element.send_keys(Keys.CONTROL, Keys.ENTER)
        wait.until(lambda d: "answer: true" in d.find_element(By.ID, "status").text)
        # The page asked this server only (no prefix.cc, no LOV, no fonts).
        hosts = browser.execute_script(
            "return performance.getEntriesByType('resource').map(e => e.name)")
        assert hosts and all(urlsplit(h).netloc == urlsplit(url).netloc for h in hosts), hosts
        # The editor keeps nothing in the browser (the permalink is the URL); the page
        # remembers only the language chosen.
        kept = browser.execute_script("return Object.keys(localStorage)")
        assert set(kept) <= {"kg-lang"}, kept
        _no_policy_reports(browser)


def test_results_sort_and_page(browser: Any, site_factory: Callable[..., Site]) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    query = ("PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
             "SELECT ?label ?n WHERE { ?city rdfs:label ?label "
             "BIND(STRLEN(?label) AS ?n) } ORDER BY ?label")
    with serve_site(site_factory()) as url:
        browser.get(url + "/")
        wait = _ready(browser)
        _set_editor(browser, query)
        browser.find_element(By.ID, "run").click()
        wait.until(lambda d: "5 rows" in d.find_element(By.ID, "status").text)
        labels = _column(browser, 0)
        header = browser.find_element(By.CSS_SELECTOR, "th button.sort[data-var=n]")
        header.click()  # numbers by value: 5 (Kyoto) before 23 (Nowhere…)
        numbers = [int(n.split()[0]) for n in _column(browser, 1)]
        assert numbers == sorted(numbers), numbers
        assert browser.find_element(By.CSS_SELECTOR, "th[aria-sort=ascending]")
        header = browser.find_element(By.CSS_SELECTOR, "th button.sort[data-var=n]")
        header.click()
        numbers = [int(n.split()[0]) for n in _column(browser, 1)]
        assert numbers == sorted(numbers, reverse=True), numbers
        browser.find_element(By.CSS_SELECTOR, "th button.sort[data-var=label]").click()
        ascending = _column(browser, 0)
        assert ascending[0].startswith("Beijing") and ascending == labels, ascending
        browser.find_element(By.CSS_SELECTOR, "th button.sort[data-var=label]").click()
        assert _column(browser, 0) == ascending[::-1]
        # Paging: 5 rows at 25 a page fit; the pager appears only when they do not.
        assert not browser.find_element(By.ID, "pager").is_displayed()
        browser.execute_script("""const s = document.getElementById('page-size');
            s.append(new Option('2', '2')); s.value = '2';
            s.dispatchEvent(new Event('change'));""")
        assert len(browser.find_elements(By.CSS_SELECTOR, "#results tbody tr")) == 2
        assert browser.find_element(By.ID, "page-info").text == "rows 1–2 of 5"
        browser.find_element(By.ID, "page-next").click()
        browser.find_element(By.ID, "page-next").click()
        assert browser.find_element(By.ID, "page-info").text == "rows 5–5 of 5"
        assert len(browser.find_elements(By.CSS_SELECTOR, "#results tbody tr")) == 1
        assert not browser.find_element(By.ID, "page-next").is_enabled()
        Select(browser.find_element(By.ID, "page-size")).select_by_value("25")
        assert len(browser.find_elements(By.CSS_SELECTOR, "#results tbody tr")) == 5


def test_language_switch_applies_to_results(browser: Any,
                                            site_factory: Callable[..., Site]) -> None:
    """Result IRIs show their labels in the chosen language (Kyoto: "Kyoto"@en,
    "京都市"@ja in the fixture), with the prefixed name under them, not the full IRI."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    query = ("PREFIX ex: <http://example.org/>\n"
             "SELECT ?city WHERE { ?city a ex:City } ORDER BY ?city")
    with serve_site(site_factory()) as url:
        browser.get(url + "/")
        wait = _ready(browser)
        Select(browser.find_element(By.ID, "lang-select")).select_by_value("en")
        _set_editor(browser, query)
        browser.find_element(By.ID, "run").click()
        wait.until(lambda d:
                   any(c.startswith("Kyoto") for c in _column(d, 0)[1:2]))
        cells = _column(browser, 0)
        assert cells[1] == "Kyoto\nex:kyoto", cells
        assert "http://example.org/kyoto" not in browser.find_element(By.ID, "results").text
        Select(browser.find_element(By.ID, "lang-select")).select_by_value("ja")
        wait.until(lambda d: any(c.startswith("京都市") for c in _column(d, 0)[1:2]))
        kyoto = browser.find_element(By.CSS_SELECTOR, "#results tbody tr:nth-child(2) td a")
        assert kyoto.get_attribute("lang") == "ja"
        # Beijing has no Japanese label: the nearest one (English) stands in.
        assert _column(browser, 0)[0].startswith("Beijing")


def test_permalink_reopens_the_query(browser: Any, site_factory: Callable[..., Site]) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    query = ("PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
             "SELECT ?label WHERE { ?c rdfs:label ?label FILTER(LANG(?label) = \"ja\") }")
    with serve_site(site_factory()) as url:
        browser.get(url + "/")
        wait = _ready(browser)
        Select(browser.find_element(By.ID, "lang-select")).select_by_value("ja")
        _set_editor(browser, query)
        browser.find_element(By.ID, "run").click()
        wait.until(lambda d: "1 row" in d.find_element(By.ID, "status").text)
        link = browser.find_element(By.ID, "permalink").get_attribute("href")
        assert link.startswith(url + "/?query=") and "lang=ja" in link
        assert browser.current_url == link  # the address bar is the permalink too
        # A fresh browser state: nothing remembered but what the link says.
        browser.delete_all_cookies()
        browser.execute_script("localStorage.clear()")
        browser.get(url + "/")
        wait = _ready(browser)
        assert _editor_text(browser) != query
        browser.get(link)
        wait = _ready(browser)
        wait.until(lambda d: "1 row" in d.find_element(By.ID, "status").text)
        assert _editor_text(browser) == query
        assert _column(browser, 0) == ["京都市@ja"]
        assert browser.find_element(By.ID, "lang-select").get_attribute("value") == "ja"

        # A named query with its parameter: the link names both.
        browser.get(url + "/")
        wait = _ready(browser)
        Select(browser.find_element(By.ID, "query-select")).select_by_value("cities")
        browser.find_element(By.CSS_SELECTOR, "#params input[data-param=name]").send_keys(
            "Kyoto")
        browser.find_element(By.ID, "run").click()
        wait.until(lambda d: "1 row" in d.find_element(By.ID, "status").text)
        link = browser.find_element(By.ID, "permalink").get_attribute("href")
        assert urlsplit(link).query.startswith("named=cities&name=Kyoto"), link
        browser.get(url + "/")
        browser.get(link)
        wait = _ready(browser)
        wait.until(lambda d: "1 row" in d.find_element(By.ID, "status").text)
        field = browser.find_element(By.CSS_SELECTOR, "#params input[data-param=name]")
        assert field.get_attribute("value") == "Kyoto"
        assert browser.find_element(By.ID, "query-select").get_attribute("value") == "cities"


def test_download_results(browser: Any, site_factory: Callable[..., Site],
                          tmp_path: Path) -> None:
    """CSV and JSON for a table, Turtle for a graph: the files the server writes."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    downloads = tmp_path / "downloads"

    def saved(name: str) -> str:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            path = downloads / name
            if path.is_file() and path.stat().st_size:
                return path.read_text(encoding="utf-8")
            time.sleep(0.2)
        raise AssertionError(f"{name} not downloaded: {sorted(downloads.glob('*'))}")

    with serve_site(site_factory()) as url:
        browser.get(url + "/")
        wait = _ready(browser)
        Select(browser.find_element(By.ID, "query-select")).select_by_value("cities")
        browser.find_element(By.ID, "run").click()
        wait.until(lambda d: "3 rows" in d.find_element(By.ID, "status").text)
        browser.find_element(By.CSS_SELECTOR, "button.download[data-format=csv]").click()
        csv_text = saved("cities-results.csv")
        assert csv_text.splitlines()[0] == "city,label,wikidata"
        assert "http://www.wikidata.org/entity/Q34600" in csv_text
        browser.find_element(By.CSS_SELECTOR, "button.download[data-format=json]").click()
        assert '"vars"' in saved("cities-results.json")

        _set_editor(browser, "CONSTRUCT WHERE { ?s <http://www.w3.org/2002/07/owl#sameAs> ?o }")
        browser.find_element(By.ID, "run").click()
        wait.until(lambda d: "graph" in d.find_element(By.ID, "status").text)
        browser.find_element(By.CSS_SELECTOR, "button.download[data-format=ttl]").click()
        import rdflib

        graph = rdflib.Graph().parse(data=saved("query-results.ttl"), format="turtle")
        assert (rdflib.URIRef("http://example.org/beijing"), rdflib.OWL.sameAs,
                rdflib.URIRef("http://www.wikidata.org/entity/Q956")) in graph
        assert len(graph) == 2
        _no_policy_reports(browser)


def test_a_query_url_opened_in_a_browser_shows_the_page(
        browser: Any, site_factory: Callable[..., Site]) -> None:
    """/sparql?query=… (or /queries/NAME?…) in a browser: the page with that query loaded
    and run, not XML."""
    from selenium.webdriver.common.by import By

    query = "SELECT ?s WHERE { ?s <http://www.w3.org/2002/07/owl#sameAs> ?o } ORDER BY ?s"
    with serve_site(site_factory()) as url:
        browser.get(f"{url}/sparql?query={quote(query)}")
        wait = _ready(browser)
        wait.until(lambda d: "2 rows" in d.find_element(By.ID, "status").text)
        assert _editor_text(browser) == query
        assert browser.find_element(By.ID, "query-url").get_attribute("href") == (
            f"{url}/sparql?query={quote(query, safe='')}".replace("%20", "+"))

        # A named query's URL: the page with the query picked, its parameter filled, run.
        browser.get(f"{url}/queries/cities?name=Kyoto")
        wait = _ready(browser)
        wait.until(lambda d: "1 row" in d.find_element(By.ID, "status").text)
        assert browser.find_element(By.ID, "query-select").get_attribute("value") == "cities"
        field = browser.find_element(By.CSS_SELECTOR, "#params input[data-param=name]")
        assert field.get_attribute("value") == "Kyoto"


def test_the_page_at_phone_width(browser: Any, site_factory: Callable[..., Site]) -> None:
    """At 390 px the editor, buttons and results fit the width (the table scrolls in its
    own box); Japanese labels are drawn with the lang attribute set."""
    from selenium.webdriver.common.by import By

    # A phone's viewport (a headless window cannot be made narrower than 500 px).
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True})
    with serve_site(site_factory()) as url:
        browser.get(url + "/?lang=ja&query=" + quote(
            "SELECT ?city ?label WHERE { ?city <http://www.w3.org/2000/01/rdf-schema#label> "
            "?label }"))
        wait = _ready(browser)
        wait.until(lambda d: "5 rows" in d.find_element(By.ID, "status").text)
        wait.until(lambda d: any(c.startswith("京都市") for c in _column(d, 0)))
        width = browser.execute_script("return document.documentElement.clientWidth")
        assert width <= 390
        scroll = browser.execute_script("return document.documentElement.scrollWidth")
        assert scroll <= width, (scroll, width)
        editor = browser.find_element(By.CSS_SELECTOR, "#editor .CodeMirror")
        assert editor.rect["x"] >= 0 and editor.rect["x"] + editor.rect["width"] <= width
        assert browser.find_element(By.ID, "run").is_displayed()


def test_dataset_iris_show_as_readable_paths(browser: Any,
                                             site_factory: Callable[..., Site]) -> None:
    """An IRI of the dataset that no prefix covers shows as its path on this server,
    percent-encoding read as text, and links to its page there."""
    from selenium.webdriver.common.by import By

    iri = "https://w3id.org/twinning-kg/place/zhwiki/%E8%8F%AF%E7%9B%9B%E9%A0%93"
    with serve_site(site_factory()) as url:
        browser.get(url + "/?query=" + quote(f"SELECT ?x WHERE {{ BIND(<{iri}> AS ?x) }}"))
        wait = _ready(browser)
        wait.until(lambda d: "1 row" in d.find_element(By.ID, "status").text)
        assert _column(browser, 0) == ["place/zhwiki/華盛頓"]
        cell = browser.find_element(By.CSS_SELECTOR, "#results tbody td")
        assert cell.get_attribute("title") == iri
        link = cell.find_element(By.TAG_NAME, "a").get_attribute("href")
        assert link == url + "/place/zhwiki/%E8%8F%AF%E7%9B%9B%E9%A0%93"


def test_without_the_editor_script_the_page_still_queries(
        browser: Any, site_factory: Callable[..., Site]) -> None:
    """If yasqe.min.js cannot load (blocked, stripped), a plain text area stands in."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["*yasqe.min.js*"]})
    with serve_site(site_factory()) as url:
        browser.get(url + "/")
        wait = WebDriverWait(browser, 30)
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#query-select option")) > 1)
        assert not browser.find_elements(By.CSS_SELECTOR, "#editor .CodeMirror")
        Select(browser.find_element(By.ID, "query-select")).select_by_value("cities")
        area = browser.find_element(By.CSS_SELECTOR, "#editor textarea")
        assert "SELECT ?city" in area.get_attribute("value")
        browser.find_element(By.ID, "run").click()
        wait.until(lambda d: "3 rows" in d.find_element(By.ID, "status").text)
