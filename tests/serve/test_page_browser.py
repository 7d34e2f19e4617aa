"""The web page in a real headless Chromium (Debian's chromium + chromedriver)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

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
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # CSP reports land here
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def test_pick_and_run_a_named_query(browser: Any, site_factory: Callable[..., Site],
                                    tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    with serve_site(site_factory()) as url:
        browser.get(url + "/")
        wait = WebDriverWait(browser, 30)
        # The dataset facts and the named queries come from the server.
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#query-select option")) > 1)
        assert "13" in browser.find_element(By.ID, "facts").text
        assert "places.ttl" in browser.find_element(By.ID, "dumps").text

        Select(browser.find_element(By.ID, "query-select")).select_by_value("cities")
        assert "SELECT ?city" in browser.find_element(By.ID, "editor").get_attribute("value")
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
        editor = browser.find_element(By.ID, "editor")
        editor.clear()
        editor.send_keys("SELECT * WHERE {")
        browser.find_element(By.ID, "run").click()
        wait.until(lambda d: "HTTP 400" in d.find_element(By.ID, "status").text)
        browser.save_screenshot(str(tmp_path / "page.png"))


def test_only_http_iris_become_links(browser: Any, site_factory: Callable[..., Site]) -> None:
    """A result IRI with another scheme (javascript:, data:) is text, not a link; the page
    runs under its Content-Security-Policy with nothing blocked."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    query = """SELECT ?x WHERE {
      VALUES ?s { "javascript:alert(1)" "JavaScript:alert(2)" "data:text/html,x"
                  "http://example.org/kyoto" }
      BIND(IRI(?s) AS ?x) }"""
    with serve_site(site_factory()) as url:
        browser.get(url + "/")
        wait = WebDriverWait(browser, 30)
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#query-select option")) > 1)
        editor = browser.find_element(By.ID, "editor")
        editor.clear()
        editor.send_keys(query)
        browser.find_element(By.ID, "run").click()
        wait.until(lambda d: "rows" in d.find_element(By.ID, "status").text)
        cells = [td.text for td in browser.find_elements(By.CSS_SELECTOR, "#results tbody td")]
        assert "javascript:alert(1)" in cells and "data:text/html,x" in cells
        hrefs = [a.get_attribute("href") or ""
                 for a in browser.find_elements(By.CSS_SELECTOR, "#results a")]
        assert hrefs == ["http://example.org/kyoto"], hrefs
        # No script ran from a result, and the policy blocked nothing the page needs.
        assert browser.execute_script("return typeof window.alerted") == "undefined"
        assert "rows" in browser.find_element(By.ID, "status").text
        logs = browser.get_log("browser")
        assert not [e for e in logs if "Content Security Policy" in e["message"]], logs
