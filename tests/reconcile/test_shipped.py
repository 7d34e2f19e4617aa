"""A user's list against what ships (:mod:`kg.reconcile.shipped`), and ``kg reconcile``
without a gazetteer.

QIDs asserted below come from the shipped links table ``seeds/wikidata-links.tsv`` (each
row there cites its gazetteer records): Q34600 Kyoto (lhc member Kyoto), Q90 Paris (lhc
member Paris, zhwiki partner 巴黎), Q64 Berlin (zhwiki partner 柏林), Q1490 Tokyo (zhwiki
partner 東京), Q956 Beijing (zhwiki cn 北京市), Q17 Japan, Q142 France, Q148 China (lhc
country China, evidence dr5hn_countries.tsv:32 Q148 CN China); the tests check that each
carried-over row cites the table's line. Q2044 Florence is the fake Wikidata API's answer
(``data/README.md``). Rows of the small tables built here use test-only ids (Q99000000xx).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from kg import paths
from kg.cli import main
from kg.model import LinkRow, PairTwinning, ParseResult, SourceRef
from kg.reconcile import reconcile
from kg.reconcile.links import write_links
from kg.reconcile.online import OnlineResolver
from kg.reconcile.shipped import ShippedLinks


def _row(doc: str, role: str, key: str, country: str, qid: str, *, status: str = "",
         label: str = "", country_qid: str = "", kind: str = "city") -> LinkRow:
    status = status or ("resolved" if qid else "unresolved")
    return LinkRow(doc, role, key, country, qid, status, "gazetteer-exact" if qid else "",  # type: ignore[arg-type]
                   "", kind, label, country_qid, f"gf_wikidata_cities.tsv:1 {qid}" if qid else "",
                   "", "")


def _ref(key: str, country: str = "", role: str = "place") -> LinkRow:
    return _row("mine", role, key, country, "")


@pytest.fixture(scope="module")
def shipped() -> ShippedLinks:
    """The table, overrides and seed documents that ship."""
    return ShippedLinks.load(paths.LINKS_TSV, paths.OVERRIDES_TSV, paths.SEED_DOCUMENTS)


@pytest.mark.parametrize(("key", "country", "qid"), [
    ("Kyoto", "Japan", "Q34600"), ("Paris", "France", "Q90"), ("Berlin", "Germany", "Q64"),
    ("Tokyo", "Japan", "Q1490"), ("京都市", "日本", "Q34600"), ("KYOTO", "japan", "Q34600"),
    ("Paris", "", "Q90"),
])
def test_well_known_cities_resolve_from_what_ships(shipped: ShippedLinks, key: str,
                                                   country: str, qid: str) -> None:
    row = shipped.match(_ref(key, country))
    assert row is not None and row.qid == qid and row.method == "links-table"
    assert row.status == "resolved" and row.evidence.startswith("wikidata-links.tsv:")
    assert (row.doc, row.key, row.country) == ("mine", key, country)


def test_countries_resolve_from_what_ships(shipped: ShippedLinks) -> None:
    row = shipped.match(_ref("Japan", role="country"))
    assert row is not None and row.qid == "Q17"
    row = shipped.match(_ref("日本", role="country"))
    assert row is not None and row.qid == "Q17"
    # By ISO code: 中国 (an alias of the project's) and JP (pycountry) name no shipped
    # country, but CN and JP are in the shipped countries' dr5hn evidence.
    row = shipped.match(_ref("中国", role="country"))
    assert row is not None and row.qid == "Q148" and "'中国' is ISO 3166 CN" in row.evidence
    row = shipped.match(_ref("北京市", "中国"))
    assert row is not None and row.qid == "Q956"
    row = shipped.match(_ref("JP", role="country"))
    assert row is not None and row.qid == "Q17"


@pytest.mark.parametrize(("key", "country"), [
    ("Paris", "Japan"),           # the right name in the wrong country
    ("Kyoto", "Narnia"),          # a country the shipped data does not know: nothing to check
    ("京都府", "日本"),            # the prefecture: its suffix is not the city's
    ("Kyo", "Japan"),             # not the name
])
def test_only_exact_matches_carry_over(shipped: ShippedLinks, key: str, country: str) -> None:
    assert shipped.match(_ref(key, country)) is None


def test_ambiguity_and_recorded_doubt_are_kept() -> None:
    """Two QIDs for one name, or one row the seeds left open: no QID carries over."""
    rows = [
        (_row("lhc", "country", "Japan", "", "Q9900000017", kind="country"), "t.tsv:2"),
        (_row("lhc", "country", "Narnia", "", "Q9900000018", kind="country"), "t.tsv:3"),
        (_row("lhc", "member", "Springfield", "Japan", "Q9900000001",
              country_qid="Q9900000017"), "t.tsv:4"),
        (_row("zhwiki", "partner", "春田", "", "Q9900000002", label="Springfield",
              country_qid="Q9900000017"), "t.tsv:5"),
        (_row("lhc", "member", "Lyon", "Japan", "Q9900000003", country_qid="Q9900000017"),
         "t.tsv:6"),
        (_row("zhwiki", "partner", "里昂", "", "", status="ambiguous", label="",
              country_qid="Q9900000017"), "t.tsv:7"),
        (_row("lhc", "member", "Oz", "Japan", "Q9900000004", country_qid="Q9900000017"),
         "t.tsv:8"),
        (_row("lhc", "member", "Oz", "Narnia", "Q9900000005", country_qid="Q9900000018"),
         "t.tsv:9"),
    ]
    table = ShippedLinks(rows, {("zhwiki", "partner", "里昂", ""): ["Lyon"]})
    assert table.match(_ref("Springfield", "Japan")) is None  # two QIDs
    assert table.match(_ref("Lyon", "Japan")) is None  # the seeds' doubt about Lyon
    assert table.match(_ref("Oz")) is None  # known in two countries, the list says none
    found = table.match(_ref("Oz", "Narnia"))
    assert found is not None and found.qid == "Q9900000005"
    assert found.evidence.startswith("t.tsv:9 lhc member 'Oz' = Q9900000005; ")


def test_the_seeds_own_places_are_not_matched(shipped: ShippedLinks) -> None:
    assert shipped.covers("lhc") and shipped.covers("zhwiki") and not shipped.covers("mine")


def _list(tmp_path: Path) -> Path:
    path = tmp_path / "mine.csv"
    path.write_text("city_a,country_a,city_b,country_b\n"
                    "Kyoto,Japan,Paris,France\n"
                    "Berlin,Germany,Tokyo,Japan\n"
                    "京都市,日本,札幌市,日本\n", encoding="utf-8")
    return path


def test_reconcile_a_list_without_gazetteer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """The issue's run: no gazetteer anywhere, no --online. What ships resolves what it
    knows; the rest stays open, and the message says where a gazetteer comes from."""
    monkeypatch.setenv("KG_GAZETTEER", str(tmp_path / "no-gazetteer"))
    out = tmp_path / "mine-links.tsv"
    assert main(["reconcile", str(_list(tmp_path)), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "from the shipped links table" in err
    assert f"no gazetteer at {tmp_path / 'no-gazetteer'}" in err
    assert "Shared data" in err and "--online" in err
    rows = {(r[2], r[3]): r for r in
            (line.split("\t") for line in out.read_text(encoding="utf-8").splitlines()[1:])}
    assert rows[("Kyoto", "Japan")][4] == "Q34600" and rows[("京都市", "日本")][4] == "Q34600"
    assert rows[("Tokyo", "Japan")][4] == "Q1490" and rows[("Berlin", "Germany")][4] == "Q64"
    assert rows[("札幌市", "日本")][5] == "unresolved"
    assert "no gazetteer" in rows[("札幌市", "日本")][13]


def test_the_seeds_still_need_the_gazetteer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("KG_GAZETTEER", str(tmp_path / "no-gazetteer"))
    out = tmp_path / "links.tsv"
    assert main(["reconcile", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "gazetteer folder not found" in err and "Shared data" in err
    assert len(err.strip().splitlines()) == 1 and not out.exists()


def test_online_needs_no_gazetteer(fake_wikidata: Any, tmp_path: Path) -> None:
    """With no gazetteer and nothing shipped, the live API resolves what it answers."""
    ref = SourceRef("mine", "mine.csv", 2)
    rec = PairTwinning(ref, "Florence", "", "Kyoto", "", "en", "en")
    client = OnlineResolver.from_options(api_url=fake_wikidata.url,
                                         sparql_url=fake_wikidata.url + "/sparql",
                                         cache_dir=tmp_path)
    rows = {r.key: r for r in reconcile([ParseResult("mine", "mine.csv", (rec,))], None,
                                        client=client)}
    assert rows["Florence"].qid == "Q2044" and rows["Florence"].method == "wikidata-search"
    assert rows["Kyoto"].qid == "Q34600"


def test_online_cli_without_gazetteer(fake_wikidata: Any, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("KG_GAZETTEER", str(tmp_path / "no-gazetteer"))
    out = tmp_path / "mine-links.tsv"
    code = main(["reconcile", str(_list(tmp_path)), "--out", str(out), "--online",
                 "--api-url", fake_wikidata.url, "--sparql-url", fake_wikidata.url + "/sparql",
                 "--cache-dir", str(tmp_path / "cache")])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "or add --online" not in err
    assert "Q34600" in out.read_text(encoding="utf-8")


def test_report_is_cut_and_the_whole_goes_to_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KG_GAZETTEER", str(tmp_path / "no-gazetteer"))
    path = tmp_path / "many.csv"
    path.write_text("city_a,city_b\n" + "".join(f"Nowhere {i},Noplace {i}\n" for i in range(12)),
                    encoding="utf-8")
    out = tmp_path / "many-links.tsv"
    assert main(["reconcile", str(path), "--out", str(out), "--report"]) == 0
    shown = capsys.readouterr().out
    whole = tmp_path / "many-links.report.txt"
    assert f"… and 14 more (all of them in {whole})" in shown
    assert shown.count("  many place ") == 10
    assert whole.read_text(encoding="utf-8").count("  many place ") == 24


def test_links_written_from_shipped_rows_read_back(shipped: ShippedLinks, tmp_path: Path) -> None:
    """A carried-over row is a valid links row (evidence, coordinates with theirs)."""
    from kg.reconcile.links import read_links

    row = shipped.match(_ref("Kyoto", "Japan"))
    assert row is not None
    write_links([row], tmp_path / "t.tsv")
    (back,) = read_links(tmp_path / "t.tsv")
    assert back == row


def test_a_list_needs_its_own_out(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The default --out is the seeds' table: a list's rows alone there would leave the
    seeds unresolved, so a list of one's own must name its table."""
    before = paths.LINKS_TSV.read_bytes()
    assert main(["reconcile", str(_list(tmp_path))]) == 2
    err = capsys.readouterr().err
    assert "with --out" in err and len(err.strip().splitlines()) == 1
    assert paths.LINKS_TSV.read_bytes() == before
