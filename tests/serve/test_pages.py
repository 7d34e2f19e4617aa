"""The linked-data pages over real HTTP: made from templates that escape every value, names
isolated so right-to-left or bidi-control characters cannot reorder the text around them
(issue 18), and the page's language falling back sensibly (issue 19).

Data: Q956 Beijing (``seeds/wikidata-links.tsv`` row ``zhwiki cn 北京市``, gazetteer
``gf_wikidata_cities.tsv:90``), labelled "Beijing"@en and 北京市@zh and no Japanese name,
in the graph built from the seeds. The hostile places are made up (no QIDs).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import lxml.html
import pytest
import requests

from kg import paths
from kg.serve.app import open_site
from kg.serve.limits import Limits
from tests.serve.conftest import serve_site

RLO = "\u202e"  # RIGHT-TO-LEFT OVERRIDE
HOSTILE_TTL = f"""\
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix tw: <https://w3id.org/twinning-kg/ontology#> .
<https://w3id.org/twinning-kg/place/rtl> a tw:Place ;
  rdfs:label "{RLO}evil\u200b<b>bold</b>"@en , "القاهرة"@ar .
<https://w3id.org/twinning-kg/place/next> a tw:Place ; rdfs:label "Next"@en ;
  tw:twinnedWith <https://w3id.org/twinning-kg/place/rtl> .
<https://w3id.org/twinning-kg/twinning/t/L1> a tw:Twinning ;
  tw:place <https://w3id.org/twinning-kg/place/rtl> , <https://w3id.org/twinning-kg/place/next> .
"""


def get(url: str, **headers: str) -> requests.Response:
    return requests.get(url, headers=headers, timeout=60)


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("pages")
    data = folder / "hostile.ttl"
    data.write_text(HOSTILE_TTL, encoding="utf-8")
    with serve_site(open_site([data], limits=Limits(workers=1))) as url:
        yield url


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from kg.build import build

    dist = tmp_path_factory.mktemp("pages-seeds") / "dist"
    build(out=dist, formats=("trig",))
    site = open_site([dist / "twinning.trig"], void=dist / "void.ttl",
                     queries_dir=paths.QUERIES_DIR, limits=Limits(workers=1))
    with serve_site(site) as url:
        yield url


def _isolated(element: lxml.html.HtmlElement) -> bool:
    # In <bdi>, or in an element with a dir attribute (both isolate in HTML).
    node: lxml.html.HtmlElement | None = element
    while node is not None:
        if node.tag == "bdi" or node.get("dir") is not None:
            return True
        node = node.getparent()
    return False


@pytest.mark.parametrize("path", ["place/rtl.html", "place/next.html", "twinning/t/L1.html"])
def test_names_are_escaped_and_isolated(hostile: str, path: str) -> None:
    page = get(f"{hostile}/{path}").text
    assert "<b>bold</b>" not in page and "&lt;b&gt;bold&lt;/b&gt;" in page
    tree = lxml.html.fromstring(page)
    holders = [el for el in tree.iter() if isinstance(el.tag, str)
               and RLO in "".join([el.text or "", *(c.tail or "" for c in el)])]
    assert holders, "the hostile name is on the page"
    for element in holders:
        if element.tag == "title":
            continue  # plain text, shown by the browser apart from the page
        assert _isolated(element), lxml.html.tostring(element, encoding="unicode")


def test_rtl_name_is_isolated_in_heading_and_names_table(hostile: str) -> None:
    tree = lxml.html.fromstring(get(f"{hostile}/place/rtl.html?lang=en").text)
    assert tree.xpath("//h1/bdi")
    cells = tree.xpath('//section[@id="names"]//td[@lang="ar"]')
    assert cells and cells[0].get("dir") == "auto" and cells[0].text == "القاهرة"


def test_pages_come_from_templates_with_autoescape() -> None:
    from kg.serve import pages

    folder = Path(pages.__file__).parent / "templates"
    assert {"base.html", "resource.html", "place.html", "ontology.html"} <= {
        p.name for p in folder.iterdir()}
    assert pages.render("_macros.html") is not None
    rendered = pages.render("resource.html", lang="en", title="<t>", home="<h>", formats=[],
                            iri="https://example.org/<x>", kinds=[], truncated=False,
                            max_out=1, max_in=1, place=None, lines=[], statements=[],
                            incoming=[], datasets=[], parts=[])
    assert "<t>" not in rendered and "&lt;t&gt;" in rendered and "&lt;h&gt;" in rendered


def test_japanese_page_falls_back_to_the_chinese_name(server: str) -> None:
    # Beijing has no Japanese name: a Japanese reader gets 北京市, not "Beijing".
    for answer in (get(f"{server}/place/Q956.html?lang=ja"),
                   get(f"{server}/place/Q956.html", **{"Accept-Language": "ja,en;q=0.5"})):
        tree = lxml.html.fromstring(answer.text)
        assert tree.xpath("string(//h1)") == "北京市"
        assert tree.get("lang") == "ja"
    english = lxml.html.fromstring(get(f"{server}/place/Q956.html?lang=en").text)
    assert english.xpath("string(//h1)") == "Beijing"


def test_page_names_the_site_by_the_dataset_title(server: str) -> None:
    for lang, title in (("en", "Twinning knowledge graph"), ("ja", "姉妹都市ナレッジグラフ"),
                        ("zh-Hant", "友好城市知識圖譜"), ("zh-Hans", "友好城市知识图谱")):
        for path in ("place/Q956.html", "ontology.html"):
            tree = lxml.html.fromstring(get(f"{server}/{path}?lang={lang}").text)
            assert tree.xpath('string(//p[@class="crumbs"]/a[@href="/"])') == title, lang
