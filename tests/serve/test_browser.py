"""kg.serve.browser: which GETs of /sparql get the query page, and the server's answer."""

from __future__ import annotations

import requests

from kg.serve.browser import wants_named_page, wants_page

# What Chromium and Firefox send when a person opens a link.
CHROMIUM_ACCEPT = ("text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,"
                   "image/webp,image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7")
FIREFOX_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
QUERY = "query=SELECT%20*%20WHERE%20%7B%20%3Fs%20%3Fp%20%3Fo%20%7D"


def test_a_browser_opening_a_query_link_gets_the_page() -> None:
    assert wants_page("GET", QUERY, CHROMIUM_ACCEPT)
    assert wants_page("GET", QUERY, FIREFOX_ACCEPT)
    assert wants_page("HEAD", QUERY, "text/html")
    assert wants_page("get", QUERY + "&default-graph-uri=http%3A%2F%2Fex.org%2Fg",
                      "application/xhtml+xml")


def test_programs_keep_getting_results() -> None:
    for accept in (None, "", "*/*", "application/sparql-results+json",
                   "application/sparql-results+xml, text/html;q=0.5",
                   "text/csv", "text/*", "text/turtle, text/html",  # a tie goes to results
                   "text/html;q=0", "application/sparql-results+json;q=1, text/html;q=1"):
        assert not wants_page("GET", QUERY, accept), accept


def test_an_explicit_format_parameter_wins() -> None:
    for extra in ("&format=json", "&output=csv", "&results=xml", "&format="):
        assert not wants_page("GET", QUERY + extra, CHROMIUM_ACCEPT), extra


def test_only_a_get_or_head_with_a_query() -> None:
    assert not wants_page("POST", QUERY, CHROMIUM_ACCEPT)
    assert not wants_page("GET", "", CHROMIUM_ACCEPT)  # the service description's business
    assert not wants_page("GET", "default-graph-uri=x", CHROMIUM_ACCEPT)
    assert not wants_page("GET", "%zz=1&&=", CHROMIUM_ACCEPT)  # unreadable: no page
    assert not wants_page("GET", QUERY, "text/html;q=nonsense")


def test_a_named_query_link() -> None:
    assert wants_named_page("GET", "name=Kyoto", CHROMIUM_ACCEPT)
    assert wants_named_page("GET", "", FIREFOX_ACCEPT)
    assert not wants_named_page("GET", "name=Kyoto", "*/*")
    assert not wants_named_page("GET", "name=Kyoto&format=json", CHROMIUM_ACCEPT)
    assert not wants_named_page("POST", "", CHROMIUM_ACCEPT)


def test_the_server_answers_a_browser_with_the_page(base_url: str) -> None:
    url = f"{base_url}/sparql?{QUERY}"
    page = requests.get(url, headers={"Accept": CHROMIUM_ACCEPT}, timeout=30)
    assert page.status_code == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "/static/app.js" in page.text
    assert page.headers["Vary"] == "Accept"
    # The same URL for a program, or with an explicit format: results, as before.
    data = requests.get(url, headers={"Accept": "application/sparql-results+json"},
                        timeout=30)
    assert data.headers["Content-Type"].startswith("application/sparql-results+json")
    assert sorted(data.json()["head"]["vars"]) == ["o", "p", "s"]
    anything = requests.get(url, headers={"Accept": "*/*"}, timeout=30)
    assert not anything.headers["Content-Type"].startswith("text/html")
    # A bad query from a browser is still the protocol's 400, not a page.
    bad = requests.get(f"{base_url}/sparql?query=", headers={"Accept": CHROMIUM_ACCEPT},
                       timeout=30)
    assert bad.status_code == 400


def test_the_server_answers_a_browser_with_the_page_for_a_named_query(base_url: str) -> None:
    url = f"{base_url}/queries/cities?name=Kyoto"
    page = requests.get(url, headers={"Accept": CHROMIUM_ACCEPT}, timeout=30)
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert "/static/app.js" in page.text
    data = requests.get(url, headers={"Accept": "application/sparql-results+json"},
                        timeout=30).json()
    assert len(data["results"]["bindings"]) == 1
    # An unknown name is still 404 for everyone.
    missing = requests.get(f"{base_url}/queries/nothing", headers={"Accept": CHROMIUM_ACCEPT},
                           timeout=30)
    assert missing.status_code == 404
