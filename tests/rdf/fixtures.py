"""A small, hand-made input for the emitter: three League rows, three zh.wikipedia rows and
their links rows. Every QID comes from the shared gazetteer (file:line next to it)."""

from __future__ import annotations

from kg.model import (
    DatePrecision,
    LinkRow,
    Membership,
    ParseResult,
    PartialDate,
    SourceRef,
    Twinning,
    WikiLink,
)
from kg.reconcile.links import LinksTable

__all__ = ["links", "results"]

# /work/shared/gazetteer/gf_wikidata_cities.tsv:1735  Q34600  Kyoto     京都市
# /work/shared/gazetteer/gf_wikidata_cities.tsv:90    Q956    Beijing   北京市  Q148
# /work/shared/gazetteer/gf_wikidata_cities.tsv:153   Q1490   Tokyo     東京都  Q17
# /work/shared/gazetteer/gf_wikidata_cities.tsv:132   Q1354   Dhaka     (a candidate only)
# /work/shared/gazetteer/gf_wikidata_countries.tsv:3  Q17     Japan     日本
KYOTO, BEIJING, TOKYO, DHAKA, JAPAN = "Q34600", "Q956", "Q1490", "Q1354", "Q17"


def _row(doc: str, role: str, key: str, country: str, qid: str, **kw: str) -> LinkRow:
    cells = {
        "status": "resolved" if qid else "unresolved", "method": "fixture", "score": "1.00",
        "kind": "", "label_en": "", "country_qid": "",
        "evidence": "fixture" if qid else "", "candidates": "", "reason": "",
    }
    cells.update(kw)
    return LinkRow(doc=doc, role=role, key=key, country=country, qid=qid, **cells)  # type: ignore[arg-type]


_JAPAN_ASIA = ("Japan", "日本", "Asia", "アジア")


def results() -> list[ParseResult]:
    """Parse results of two tiny documents."""
    lhc_file, zh_file = "lhc-fixture.txt", "zhwiki-fixture.md"
    lhc = ParseResult(
        doc="lhc",
        file=lhc_file,
        records=(
            Membership(SourceRef("lhc", lhc_file, 5), "Kyoto", "京都", *_JAPAN_ASIA),
            Membership(SourceRef("lhc", lhc_file, 6), "Masuda", "益田", *_JAPAN_ASIA),
        ),
    )
    beijing = (WikiLink("北京市", "北京市"),)
    japan = WikiLink("日本", "日本")
    zh = ParseResult(
        doc="zhwiki",
        file=zh_file,
        records=(
            Twinning(SourceRef("zhwiki", zh_file, 10), "北京", beijing, (WikiLink("東京", "東京"),),
                     country=japan, date=PartialDate("1979-03-14", DatePrecision.DAY)),
            Twinning(SourceRef("zhwiki", zh_file, 11), "北京", beijing,
                     (WikiLink("京都市", "京都"),),
                     country=japan, date=PartialDate("1981", DatePrecision.YEAR)),
            Twinning(SourceRef("zhwiki", zh_file, 12), "北京", beijing,
                     (WikiLink("某市_(测试)", "某市"),), note="文化備忘錄"),
        ),
    )
    return [lhc, zh]


def links() -> LinksTable:
    """Links rows for the fixture: Masuda has none (unresolved), 某市 is ambiguous."""
    return LinksTable([
        _row("lhc", "member", "Kyoto", "Japan", KYOTO, kind="city", label_en="Kyoto",
             country_qid=JAPAN),
        _row("lhc", "country", "Japan", "", JAPAN, kind="country", label_en="Japan"),
        _row("zhwiki", "cn", "北京市", "", BEIJING, kind="city", label_en="Beijing",
             country_qid="Q148"),
        _row("zhwiki", "partner", "東京", "日本", TOKYO, kind="city", label_en="Tokyo",
             country_qid=JAPAN),
        _row("zhwiki", "partner", "京都市", "日本", KYOTO, kind="city", label_en="Kyoto",
             country_qid=JAPAN),
        _row("zhwiki", "country", "日本", "", JAPAN, kind="country", label_en="Japan"),
        _row("zhwiki", "partner", "某市_(测试)", "", "", status="ambiguous",
             candidates=f"{DHAKA}:0.50 {TOKYO}:0.40", reason="fixture"),
    ])
