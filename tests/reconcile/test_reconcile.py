"""reconcile(): place references, countries first, overrides, report, and the committed
table's consistency between the two documents."""

from __future__ import annotations

from pathlib import Path

import pytest

from kg import paths
from kg.errors import LinksError
from kg.model import Membership, ParseResult, SourceRef, Twinning, WikiLink
from kg.reconcile import collect_refs, reconcile, report
from kg.reconcile.gazetteer import Gazetteer, load_gazetteer
from kg.reconcile.links import read_links
from kg.reconcile.overrides import read_overrides
from tests.shared import needs_gazetteer


def _results() -> list[ParseResult]:
    lhc = SourceRef("lhc", "lhc.txt", 1)
    zh = SourceRef("zhwiki", "zh.md", 1)
    members = (
        Membership(lhc, "Kyiv", "キーウ", "Ukraine", "ウクライナ", "Europe", "ヨーロッパ"),
        Membership(lhc, "Cartagena", "カルタヘナ", "Colombia", "コロンビア", "Americas", "米州"),
        Membership(lhc, "Quebec", "ケベック", "Canada", "カナダ", "Americas", "米州"),
    )
    twins = (
        Twinning(zh, "北京", (WikiLink("北京市", "北京市"),), (WikiLink("利馬", "利馬"),)),
        Twinning(zh, "河南", (WikiLink("鄭州市", "鄭州市"),), (WikiLink("基輔", "基輔"),),
                 WikiLink("烏克蘭", "烏克蘭")),
        Twinning(zh, "河南", (WikiLink("鄭州市", "鄭州市"),), (WikiLink("洛杉磯郡", "洛杉磯郡"),),
                 WikiLink("美國", "美國")),
    )
    return [ParseResult("lhc", "lhc.txt", members), ParseResult("zhwiki", "zh.md", twins)]


@pytest.fixture(scope="module")
def gaz(tmp_path_factory: pytest.TempPathFactory) -> Gazetteer:
    from tests.reconcile.test_gazetteer import sample_gazetteer

    return load_gazetteer(sample_gazetteer(tmp_path_factory.mktemp("gaz")), use_cache=False)


def test_collect_refs_one_per_reference() -> None:
    refs = {(r.doc, r.role, r.key, r.country) for r in collect_refs(_results())}
    assert ("lhc", "member", "Kyiv", "Ukraine") in refs
    assert ("lhc", "country", "Ukraine", "") in refs
    assert ("zhwiki", "cn", "鄭州市", "") in refs
    assert ("zhwiki", "partner", "利馬", "") in refs
    assert ("zhwiki", "country", "美國", "") in refs
    assert len(refs) == 13


@needs_gazetteer
def test_reconcile_rows(gaz: Gazetteer) -> None:
    rows = {r.ref: r for r in reconcile(_results(), gaz)}
    kyiv = rows[("lhc", "member", "Kyiv", "Ukraine")]
    # naturalearth_populated_places.tsv:196 Q1899 Kiev 基輔
    assert kyiv.qid == "Q1899" and kyiv.status == "resolved"
    assert "naturalearth_populated_places.tsv:" in kyiv.evidence  # sample copy: own lines
    assert kyiv.candidates.startswith("Q1899:")
    # the same place in both documents gets the same QID
    assert rows[("zhwiki", "partner", "基輔", "烏克蘭")].qid == "Q1899"
    assert rows[("zhwiki", "cn", "鄭州市", "")].qid == "Q30340"
    assert rows[("lhc", "member", "Cartagena", "Colombia")].qid == "Q657461"
    assert rows[("lhc", "member", "Quebec", "Canada")].qid == "Q2145"
    assert rows[("zhwiki", "partner", "洛杉磯郡", "美國")].qid != "Q65"
    assert rows[("lhc", "country", "Ukraine", "")].status == "resolved"
    for row in rows.values():
        assert (row.status == "resolved") == bool(row.qid)
        assert not row.qid or row.evidence
        assert row.qid or row.reason


@needs_gazetteer
def test_overrides_win_and_are_checked(gaz: Gazetteer, tmp_path: Path) -> None:
    path = tmp_path / "overrides.tsv"
    path.write_text(
        "doc\trole\tkey\tcountry\tqid\tevidence\treason\n"
        "lhc\tmember\tKyiv\tUkraine\t\tdoubt\tforce unresolved for the test\n",
        encoding="utf-8",
    )
    rows = {r.ref: r for r in reconcile(_results(), gaz, read_overrides(path))}
    row = rows[("lhc", "member", "Kyiv", "Ukraine")]
    assert row.status == "unresolved" and row.method == "override"
    path.write_text(
        "doc\trole\tkey\tcountry\tqid\tevidence\treason\n"
        "lhc\tmember\tKyiv\tUkraine\tQ3640\tnaturalearth_populated_places.tsv:196\twrong\n",
        encoding="utf-8",
    )
    with pytest.raises(LinksError, match="carries Q3640"):
        reconcile(_results(), gaz, read_overrides(path), overrides_path=path)


@needs_gazetteer
def test_report(gaz: Gazetteer) -> None:
    text = report(reconcile(_results(), gaz))
    assert "coverage" in text and "lhc" in text and "zhwiki" in text


# --- the committed table -------------------------------------------------------------

PAIRS = [  # (League city, zh title) naming the same place; checked by hand in the seeds
    ("Kyiv", "基輔"), ("Ankara", "安卡拉"), ("Izhevsk", "伊熱夫斯克"), ("Zhengzhou", "鄭州市"),
    ("Kamakura", "鎌倉市"), ("Matsue", "松江市"), ("Andong", "安東"), ("Hanoi", "河內"),
    ("Ulaanbaatar", "烏蘭巴托"), ("Lutsk", "盧茨克"), ("Chiang Mai", "清邁"),
    ("Bordeaux", "波爾多"), ("Cologne", "科隆"),
]


@pytest.mark.skipif(not paths.LINKS_TSV.exists(), reason="links table not generated")
def test_committed_table_is_consistent_across_documents() -> None:
    table = read_links(paths.LINKS_TSV)
    lhc = {r.key: r.qid for r in table if r.doc == "lhc" and r.role == "member"}
    zh: dict[str, set[str]] = {}
    for r in table:
        if r.doc == "zhwiki" and r.role in ("cn", "partner") and r.qid:
            zh.setdefault(r.key, set()).add(r.qid)
    for city, title in PAIRS:
        assert lhc[city], city
        assert zh[title] == {lhc[city]}, (city, title)
    # a QID names one place: no two League cities share one
    qids = [q for q in lhc.values() if q]
    assert len(qids) == len(set(qids))
    assert all(r.status == "resolved" for r in table if r.role == "country")


def test_cli_missing_gazetteer_is_one_line_error(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    from kg.cli import main

    out = tmp_path / "links.tsv"
    code = main(["reconcile", "--gazetteer", str(tmp_path / "none"), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert "gazetteer folder not found" in err and "Traceback" not in err
    assert not out.exists()


@needs_gazetteer
def test_cli_writes_table_and_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from kg.cli import main
    from tests.reconcile.test_gazetteer import sample_gazetteer

    folder = sample_gazetteer(tmp_path / "gaz")
    out = tmp_path / "links.tsv"
    # An overrides file named on the command line must exist (a mistyped path would drop
    # every human decision in silence): an empty one, header only, means none.
    from kg.reconcile.overrides import OVERRIDE_COLUMNS

    (tmp_path / "none.tsv").write_text("\t".join(OVERRIDE_COLUMNS) + "\n", encoding="utf-8")
    code = main(["reconcile", "--gazetteer", str(folder), "--out", str(out), "--overrides",
                 str(tmp_path / "none.tsv"), "--cache-dir", str(tmp_path / "cache"), "--report"])
    assert code == 0
    assert len(read_links(out)) > 100
    assert "coverage" in capsys.readouterr().out
