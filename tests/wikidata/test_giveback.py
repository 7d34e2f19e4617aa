"""``kg wikidata diff`` and ``kg wikidata quickstatements`` against a real Oxigraph server on
127.0.0.1 holding Wikidata-model RDF (truthy ``wdt:P190`` and statement nodes
``p:P190``/``ps:P190`` with ranks, ``pq:P580``/``pqv:P580``), over the graph built from the
seeds. No mock of the store; no network beyond 127.0.0.1.

The pairs come from the seeds, their QIDs from ``seeds/wikidata-links.tsv`` (evidence there):

* 北京市 Q956 – 紐約 Q60 (zhwiki line 12, 1980-02-25): both directions on Wikidata;
* 北京市 Q956 – 東京 Q1490 (line 7, 1979-03-14): one direction, Q1490→Q956, a normal-rank
  statement that is not truthy (Tokyo's preferred statement hides it), start 1978 (year);
* 北京市 Q956 – 貝爾格萊德 Q3711 (line 17, 1980-10-14): none;
* 北京市 Q956 – 利馬 Q2868 (line 22, 1983-11-21): Q956→Q2868 deprecated, the reverse absent;
* 東京 Q1490 – 紐約 Q60: Wikidata only (no source twins them);
* 貴陽市 Q192271 – 惠庭市 Q733979 (line 705, 1986: year) and – 亨切什蒂 Q1141853 (line 708,
  2013-12: month); 澳門 Q14773 – Lisbon Q597 (line 216, no date);
* League members 京都 Kyoto Q34600 (P463 stated), 奈良 Nara Q169134 (deprecated), Xi'an Q5826.

The League's QID below is a synthetic item of the local store (no Wikidata QID is written
here from memory); the test's evidence file records it as the local store's answer.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from quickstatements_client import DateQualifier, EntityLine, TextQualifier

from kg.cli import main
from kg.errors import GiveBackError
from kg.wikidata.ours import StartDate, read_evidence
from tests.stores import oxigraph_read_only

LEAGUE = "Q999999901"  # synthetic: an item of the local test store only
ZHWIKI_URL = "https://example.org/zhwiki-list"  # a test fixture, not the page's address
LHC_URL = "https://example.org/league-list"
RETRIEVED = "2026-11-28T09:30:00Z"
LEAGUE_EVIDENCE = f"wikidata http://127.0.0.1/test-store?item={LEAGUE} retrieved {RETRIEVED}"
S813 = "+2026-11-28T00:00:00Z/11"

WIKIDATA_MODEL = f"""\
@prefix wd: <http://www.wikidata.org/entity/> .
@prefix wds: <http://www.wikidata.org/entity/statement/> .
@prefix wdv: <http://www.wikidata.org/value/> .
@prefix wdt: <http://www.wikidata.org/prop/direct/> .
@prefix p: <http://www.wikidata.org/prop/> .
@prefix ps: <http://www.wikidata.org/prop/statement/> .
@prefix pq: <http://www.wikidata.org/prop/qualifier/> .
@prefix pqv: <http://www.wikidata.org/prop/qualifier/value/> .
@prefix wikibase: <http://wikiba.se/ontology#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .

# Beijing -> New York, with its start time and precision; New York -> Beijing, preferred.
wd:Q956 wdt:P190 wd:Q60 ; p:P190 wds:Q956-a .
wds:Q956-a ps:P190 wd:Q60 ; wikibase:rank wikibase:NormalRank ;
  pq:P580 "1980-02-25T00:00:00Z"^^xsd:dateTime ; pqv:P580 wdv:t1 .
wdv:t1 wikibase:timeValue "1980-02-25T00:00:00Z"^^xsd:dateTime ; wikibase:timePrecision 11 .
wd:Q60 wdt:P190 wd:Q956 ; p:P190 wds:Q60-a .
wds:Q60-a ps:P190 wd:Q956 ; wikibase:rank wikibase:PreferredRank .

# Tokyo: New York preferred (the only truthy one), Beijing normal (not truthy), from 1978.
wd:Q1490 wdt:P190 wd:Q60 ; p:P190 wds:Q1490-a, wds:Q1490-b .
wds:Q1490-a ps:P190 wd:Q60 ; wikibase:rank wikibase:PreferredRank .
wds:Q1490-b ps:P190 wd:Q956 ; wikibase:rank wikibase:NormalRank ;
  pq:P580 "1978-01-01T00:00:00Z"^^xsd:dateTime ; pqv:P580 wdv:t2 .
wdv:t2 wikibase:timeValue "1978-01-01T00:00:00Z"^^xsd:dateTime ; wikibase:timePrecision 9 .

# Beijing -> Lima: deprecated (so absent, and reported as deprecated).
wd:Q956 p:P190 wds:Q956-b .
wds:Q956-b ps:P190 wd:Q2868 ; wikibase:rank wikibase:DeprecatedRank .

# Beijing -> an item that is not a place of our graph: not ours, never reported.
wd:Q956 wdt:P190 wd:Q999999902 ; p:P190 wds:Q956-c .
wds:Q956-c ps:P190 wd:Q999999902 ; wikibase:rank wikibase:NormalRank .

# League memberships: Kyoto stated, Nara deprecated, Xi'an absent.
wd:Q34600 wdt:P463 wd:{LEAGUE} ; p:P463 wds:Q34600-a .
wds:Q34600-a ps:P463 wd:{LEAGUE} ; wikibase:rank wikibase:NormalRank .
wd:Q169134 p:P463 wds:Q169134-a .
wds:Q169134-a ps:P463 wd:{LEAGUE} ; wikibase:rank wikibase:DeprecatedRank .
"""


@pytest.fixture(scope="module")
def graph(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The graph built from the seeds (``kg build --out TMP``; dist/ is left alone)."""
    out = tmp_path_factory.mktemp("dist")
    done = subprocess.run([sys.executable, "-m", "kg", "build", "--out", str(out)],
                          capture_output=True, text=True, timeout=900, check=False)
    if not (out / "twinning.trig").is_file():
        pytest.fail(f"kg build failed: {done.stderr[-2000:]}")
    return out / "twinning.trig"


@pytest.fixture(scope="module")
def wikidata(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real ``oxigraph serve-read-only`` on 127.0.0.1 holding the Wikidata-model RDF."""
    folder = tmp_path_factory.mktemp("wikidata")
    data = folder / "wikidata.ttl"
    data.write_text(WIKIDATA_MODEL, encoding="utf-8")
    with oxigraph_read_only(folder, data) as url:
        yield url


@pytest.fixture(scope="module")
def evidence_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("evidence") / "giveback.tsv"
    path.write_text(
        "kind\tkey\tvalue\tevidence\tnote\n"
        f"source-page\tlhc\t{LHC_URL}\ttest fixture\t\n"
        f"network\tLeague of Historical Cities\t{LEAGUE}\t{LEAGUE_EVIDENCE}\t\n",
        encoding="utf-8")
    return path


@pytest.fixture
def local_only(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Refuse and record every connection to anything but 127.0.0.1."""
    refused: list[Any] = []
    connect = socket.socket.connect

    def guarded(self: socket.socket, address: Any) -> Any:
        host = address[0] if isinstance(address, tuple) else address
        if host not in ("127.0.0.1", "::1", "localhost"):
            refused.append(address)
            raise OSError(f"test: no network beyond 127.0.0.1 ({address})")
        return connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)
    return refused


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def common(graph: Path, url: str, cache: Path, evidence: Path) -> list[str]:
    return ["--graph", str(graph), "--sparql-url", url, "--cache-dir", str(cache),
            "--evidence", str(evidence), "--source-url", f"zhwiki={ZHWIKI_URL}"]


def set_retrieved(cache: Path, when: str) -> int:
    """Rewrite the retrieval time of every cached answer (what the retrieval date reads)."""
    n = 0
    for path in cache.rglob("*.json"):
        record = json.loads(path.read_text(encoding="utf-8"))
        record["retrieved"] = when
        path.write_text(json.dumps(record), encoding="utf-8")
        n += 1
    return n


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture
def diff_rows(graph: Path, wikidata: str, cache: Path, evidence_file: Path,
              capsys: pytest.CaptureFixture[str], local_only: list[Any]) -> dict[str, Any]:
    code, out, err = run(capsys, "wikidata", "diff", "--format", "json",
                         *common(graph, wikidata, cache, evidence_file))
    assert code == 0, err
    assert local_only == []
    answer: dict[str, Any] = json.loads(out)
    return answer


def pair(answer: dict[str, Any], a: str, b: str) -> dict[str, str]:
    found = [r for r in answer["pairs"] if {r["qid_a"], r["qid_b"]} == {a, b}]
    assert len(found) == 1, (a, b, found)
    row: dict[str, str] = found[0]
    return row


def test_diff_statuses(diff_rows: dict[str, Any]) -> None:
    both = pair(diff_rows, "Q956", "Q60")
    assert (both["status"], both["forward"], both["reverse"]) == ("both", "stated", "stated")
    assert (both["qid_a"], both["label_en_a"], both["label_zh_a"]) == ("Q956", "Beijing", "北京市")
    assert (both["our_start"], both["our_precision"]) == ("1980-02-25", "day")
    assert both["source"] == "zhwiki-prc-sister-cities.md:12"
    assert (both["wikidata_p580"], both["start_differs"]) == ("1980-02-25", "no")
    assert (both["country_a"], both["country_b"]) == ("China", "United States")

    one = pair(diff_rows, "Q956", "Q1490")
    assert (one["status"], one["which"]) == ("one", "Q1490→Q956")
    assert (one["forward"], one["reverse"]) == ("absent", "stated")
    assert (one["wikidata_p580"], one["start_differs"]) == ("1978", "yes")

    none = pair(diff_rows, "Q956", "Q3711")
    assert (none["status"], none["forward"], none["reverse"]) == ("none", "absent", "absent")

    deprecated = pair(diff_rows, "Q956", "Q2868")
    assert (deprecated["status"], deprecated["forward"]) == ("none", "deprecated")
    assert "deprecated on Wikidata: Q956→Q2868" in deprecated["note"]

    only = pair(diff_rows, "Q60", "Q1490")
    assert (only["status"], only["which"], only["source"]) == ("wikidata-only", "Q1490→Q60", "")
    assert only["label_en_a"] == "New York City" and only["label_zh_b"] == "東京"
    assert not [r for r in diff_rows["pairs"] if "Q999999902" in (r["qid_a"], r["qid_b"])]


def test_diff_totals(diff_rows: dict[str, Any]) -> None:
    totals = diff_rows["totals"]
    pairs = diff_rows["pairs"]
    assert totals["by_status"]["both"] == 1 and totals["by_status"]["one"] == 1
    assert totals["by_status"]["wikidata-only"] == 1
    assert totals["by_status"]["none"] == len(pairs) - 3 > 200
    assert totals["deprecated_directions"] == 1
    assert totals["not_compared_unresolved"] > 0
    by_countries = {(c["country_a"], c["country_b"]): c for c in totals["by_country_pair"]}
    assert by_countries[("China", "United States")]["both"] == 1
    assert by_countries[("United States", "Japan")]["wikidata-only"] == 1
    assert sum(sum(v for k, v in c.items() if not k.startswith("country")) for c in
               totals["by_country_pair"]) == len(pairs)


def test_diff_table_and_csv(graph: Path, wikidata: str, cache: Path, evidence_file: Path,
                            capsys: pytest.CaptureFixture[str], local_only: list[Any]) -> None:
    code, out, err = run(capsys, "wikidata", "diff",
                         *common(graph, wikidata, cache, evidence_file))
    assert code == 0, err
    assert "Totals by status" in out and "Totals by pair of countries" in out
    assert re.search(r"^both\s+1$", out, re.M)
    code, out, err = run(capsys, "wikidata", "diff", "--format", "csv",
                         *common(graph, wikidata, cache, evidence_file))
    rows = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and "Totals by status" in err
    assert {r["status"] for r in rows} == {"both", "one", "none", "wikidata-only"}
    assert local_only == []


def parse_quickstatement(line: str) -> EntityLine:
    """A V1 line through quickstatements-client's data model (its grammar of lines)."""
    cells = line.split("\t")
    assert len(cells) % 2 == 1 and len(cells) >= 3, line
    qualifiers: list[Any] = []
    for prop, value in zip(cells[3::2], cells[4::2], strict=True):
        if value.startswith('"'):
            assert value.endswith('"') and value.count('"') == 2, value
            qualifiers.append(TextQualifier(predicate=prop, target=value[1:-1]))
        else:
            assert re.fullmatch(r"\+\d{4}-\d{2}-\d{2}T00:00:00Z/(9|10|11)", value), value
            precision = int(value.rsplit("/", 1)[1])
            if precision <= 10:
                assert value[9:11] == "00", value  # /10 and /9: no day
            if precision == 9:
                assert value[6:8] == "00", value  # /9: no month
            qualifiers.append(DateQualifier(predicate=prop, target=value))
    parsed = EntityLine(subject=cells[0], predicate=cells[1], target=cells[2],
                        qualifiers=qualifiers)
    assert parsed.get_line(sep="\t") == line
    return parsed


def test_quickstatements(graph: Path, evidence_file: Path, tmp_path: Path,
                         capsys: pytest.CaptureFixture[str], local_only: list[Any]) -> None:
    """Golden lines. The store answers once and is stopped; the batch is then written from
    the cached answers alone, its retrieval date being their retrieval time (set here)."""
    folder = tmp_path / "wikidata"
    folder.mkdir()
    (folder / "wikidata.ttl").write_text(WIKIDATA_MODEL, encoding="utf-8")
    cache = tmp_path / "cache"
    with oxigraph_read_only(folder, folder / "wikidata.ttl") as url:
        argv = common(graph, url, cache, evidence_file)
        code, _, err = run(capsys, "wikidata", "diff", *argv)
        assert code == 0, err
    assert set_retrieved(cache, RETRIEVED) >= 4
    out, review = tmp_path / "batch.qs", tmp_path / "review.csv"
    code, stdout, err = run(capsys, "wikidata", "quickstatements", *argv,
                            "--out", str(out), "--review", str(review))
    assert code == 0, err
    assert stdout == "" and local_only == []
    lines = out.read_text(encoding="utf-8").splitlines()
    ref = f'S854\t"{ZHWIKI_URL}"\tS813\t{S813}'
    golden = [
        f"Q956\tP190\tQ1490\tP580\t+1979-03-14T00:00:00Z/11\t{ref}",
        f"Q956\tP190\tQ3711\tP580\t+1980-10-14T00:00:00Z/11\t{ref}",
        f"Q3711\tP190\tQ956\tP580\t+1980-10-14T00:00:00Z/11\t{ref}",
        f"Q2868\tP190\tQ956\tP580\t+1983-11-21T00:00:00Z/11\t{ref}",
        f"Q14773\tP190\tQ597\t{ref}",
        f"Q597\tP190\tQ14773\t{ref}",
        f"Q192271\tP190\tQ733979\tP580\t+1986-00-00T00:00:00Z/9\t{ref}",
        f"Q733979\tP190\tQ192271\tP580\t+1986-00-00T00:00:00Z/9\t{ref}",
        f"Q192271\tP190\tQ1141853\tP580\t+2013-12-00T00:00:00Z/10\t{ref}",
        f"Q5826\tP463\t{LEAGUE}\tS854\t\"{LHC_URL}\"\tS813\t{S813}",
    ]
    for line in golden:
        assert line in lines
    for absent in ("Q956\tP190\tQ60\t", "Q60\tP190\tQ956\t", "Q1490\tP190\tQ956\t",
                   "Q956\tP190\tQ2868\t", "Q60\tP190\tQ1490\t", "Q1490\tP190\tQ60\t",
                   f"Q34600\tP463\t{LEAGUE}", f"Q169134\tP463\t{LEAGUE}"):
        assert not [line for line in lines if line.startswith(absent)], absent
    assert len(lines) == len(set(lines))
    kinds = {(p.predicate, tuple(q.predicate for q in p.qualifiers))
             for p in map(parse_quickstatement, lines)}
    assert kinds == {("P190", ("P580", "S854", "S813")), ("P190", ("S854", "S813")),
                     ("P463", ("S854", "S813"))}
    assert "Wikidata deprecated" in err and "unresolved or ambiguous" in err

    # The review CSV: the pair, labels, our evidence for each QID, source line, command.
    rows = list(csv.DictReader(io.StringIO(review.read_text(encoding="utf-8"))))
    by_command = {r["command"]: r for r in rows if r["command"]}
    assert set(by_command) == set(lines)
    tokyo = by_command[golden[0]]
    assert (tokyo["subject"], tokyo["subject_en"], tokyo["subject_zh"]) == (
        "Q956", "Beijing", "北京市")
    assert (tokyo["object"], tokyo["object_en"], tokyo["object_zh"]) == ("Q1490", "Tokyo", "東京")
    assert "gf_wikidata_cities.tsv:90" in tokyo["subject_evidence"]
    assert "Q1490" in tokyo["object_evidence"]
    assert tokyo["source"] == "zhwiki-prc-sister-cities.md:7"
    assert tokyo["source_url"] == ZHWIKI_URL
    assert tokyo["wikidata"] == "Q956→Q1490 absent; Q1490→Q956 stated"
    assert tokyo["our_start"] == "1979-03-14"
    league = by_command[golden[-1]]
    assert league["object_evidence"] == LEAGUE_EVIDENCE
    skipped = [r for r in rows if not r["command"]]
    assert any(r["subject"] == "Q956" and r["object"] == "Q2868" and "deprecated" in r["note"]
               for r in skipped)


def test_no_page_url_no_commands(graph: Path, wikidata: str, cache: Path, tmp_path: Path,
                                 capsys: pytest.CaptureFixture[str],
                                 local_only: list[Any]) -> None:
    """The committed evidence file records no page URL and no League QID: nothing is written,
    and stderr says why."""
    from kg.paths import SEEDS_DIR

    code, out, err = run(capsys, "wikidata", "quickstatements", "--graph", str(graph),
                         "--sparql-url", wikidata, "--cache-dir", str(cache),
                         "--evidence", str(SEEDS_DIR / "wikidata-giveback.tsv"))
    assert code == 0, err
    assert out == ""
    assert "0 commands" in err and "no URL of the zhwiki page" in err
    assert "memberships of League of Historical Cities not written" in err


def test_refuses_to_overwrite(graph: Path, wikidata: str, cache: Path, evidence_file: Path,
                              tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "mine.txt"
    out.write_text("not made by kg\n", encoding="utf-8")
    code, _, err = run(capsys, "wikidata", "quickstatements",
                       *common(graph, wikidata, cache, evidence_file), "--out", str(out))
    assert code == 2 and "not overwritten" in err and len(err.strip().splitlines()) == 1
    assert out.read_text(encoding="utf-8") == "not made by kg\n"


def test_service_error_is_one_line(graph: Path, wikidata: str, evidence_file: Path,
                                   tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = wikidata.rsplit("/", 1)[0] + "/no-such-service"
    code, _, err = run(capsys, "wikidata", "diff", *common(graph, bad, tmp_path / "c",
                                                           evidence_file))
    assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert "no-such-service" in err


def test_bad_source_url_is_one_line(graph: Path, evidence_file: Path, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "wikidata", "quickstatements", "--graph", str(graph),
                       "--evidence", str(evidence_file), "--sparql-url", "http://127.0.0.1:9/",
                       "--source-url", 'zhwiki=https://example.org/a"b')
    assert code == 2 and "--source-url wants" in err and len(err.strip().splitlines()) == 1


def test_csv_cells_are_not_formulas() -> None:
    """A label from a document is data: a spreadsheet must not run it as a formula."""
    from kg.wikidata.compare import Diff, PairRow, render_diff

    row = PairRow(status="none", which="", forward="absent", reverse="absent", qid_a="Q1",
                  label_en_a="=HYPERLINK(\"x\")", label_zh_a="+1", qid_b="Q2", label_en_b="@a",
                  label_zh_b="-b", country_a="", country_b="", our_start="", our_precision="",
                  source="", wikidata_p580="", start_differs="", note="")
    result = Diff([row], {"none": 1}, [], 0, 0, 0, "")
    cells = next(csv.DictReader(io.StringIO(render_diff(result, "csv"))))
    assert cells["label_en_a"] == "'=HYPERLINK(\"x\")" and cells["label_zh_a"] == "'+1"
    assert cells["label_en_b"] == "'@a" and cells["label_zh_b"] == "'-b"


@pytest.mark.parametrize(("row", "message"), [
    ("network\tLeague\tQ1\t\t", "has no evidence"),
    ("network\tLeague\tX1\tsomething\t", "malformed QID"),
    ("network\tLeague\tQ1\tremembered\t", "must be a live answer"),
    ("source-page\tzhwiki\tftp://x\tsomething\t", "malformed URL"),
    ("page\tzhwiki\t\t\t", "unknown kind"),
    ("network\tLeague", "expected 5 cells"),
])
def test_evidence_file_errors(tmp_path: Path, row: str, message: str) -> None:
    path = tmp_path / "e.tsv"
    path.write_text(f"kind\tkey\tvalue\tevidence\tnote\n{row}\n", encoding="utf-8")
    with pytest.raises(GiveBackError, match=message) as info:
        read_evidence(path)
    assert str(info.value).startswith(f"{path}:2:")


def test_committed_evidence_file_reads() -> None:
    from kg.paths import SEEDS_DIR

    evidence = read_evidence(SEEDS_DIR / "wikidata-giveback.tsv")
    # Nothing without evidence: today no page URL and no network QID are recorded.
    for value, proof in [*evidence.pages.values(), *evidence.networks.values()]:
        assert value and proof


@pytest.mark.parametrize(("iso", "precision", "value"), [
    ("1980-02-25", 11, "+1980-02-25T00:00:00Z/11"),
    ("1980-02", 10, "+1980-02-00T00:00:00Z/10"),
    ("1980", 9, "+1980-00-00T00:00:00Z/9"),
])
def test_time_values(iso: str, precision: int, value: str) -> None:
    assert StartDate(iso, precision).quickstatements() == value


def test_default_service_is_wikidata() -> None:
    from kg.cli import build_parser

    args = build_parser().parse_args(["wikidata", "diff"])
    assert args.sparql_url == "https://query.wikidata.org/sparql"


@pytest.mark.online
def test_diff_against_wikidata(graph: Path, tmp_path: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    """Unchanged, against Wikidata's query service: only with KG_ONLINE=1 on a machine that
    reaches it (the default URL is never called otherwise)."""
    if os.environ.get("KG_ONLINE") != "1":
        pytest.skip("set KG_ONLINE=1 to ask Wikidata's query service")
    code, out, err = run(capsys, "wikidata", "diff", "--format", "json", "--graph", str(graph),
                         "--cache-dir", str(tmp_path / "cache"))
    assert code == 0, err
    answer = json.loads(out)
    assert answer["pairs"] and sum(answer["totals"]["by_status"].values()) == len(
        answer["pairs"])
