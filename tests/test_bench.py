"""``kg bench``: the report's shape and its errors (behaviour only; no timing is asserted)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kg.bench import Measurement, format_report, percentile
from kg.paths import installed_program

# A tiny graph in the project's vocabulary, so the named queries have something to read.
SMALL = """\
@prefix tw: <https://w3id.org/twinning-kg/ontology#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
<https://example.org/place/a> a tw:Place ; rdfs:label "A"@en ;
    tw:twinnedWith <https://example.org/place/b> .
<https://example.org/place/b> a tw:Place ; rdfs:label "B"@en ;
    tw:twinnedWith <https://example.org/place/a> .
"""


def kg(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kg", *args], capture_output=True, text=True,
                          timeout=300, check=False)


def test_percentile() -> None:
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == pytest.approx(2.5)
    assert percentile([5.0], 99) == 5.0


def test_report_has_ratios_to_the_reference() -> None:
    results = [
        Measurement("oxigraph-memory", latencies=[0.010, 0.012], wall=0.1,
                    per_query={"q": [0.010, 0.012]}, rounds=[20.0, 10.0, 30.0]),
        Measurement("kg-serve", latencies=[0.005, 0.006], wall=0.05,
                    per_query={"q": [0.005, 0.006]}, rounds=[40.0, 50.0, 10.0]),
    ]
    report = format_report(results)
    assert "| oxigraph-memory |" in report and "| kg-serve |" in report
    # Throughput is the median of the rounds: 20 and 40, twice the reference's.
    assert "| 20.0 |" in report and "| 40.0 |" in report and "2.00" in report
    assert "server CPU s" in report and "client CPU s" in report


@pytest.mark.skipif(installed_program("oxigraph") is None, reason="needs `pip install oxigraph`")
def test_bench_runs_the_named_queries_on_two_real_servers(tmp_path: Path) -> None:
    data = tmp_path / "small.ttl"
    data.write_text(SMALL, encoding="utf-8")
    done = kg("bench", str(data), "--requests", "2", "--clients", "1", "--time-limit", "60",
              "--rounds", "2", "--endpoints", "oxigraph-memory,oxigraph,kg-serve-nocache")
    assert done.returncode == 0, done.stderr
    assert "| oxigraph-memory |" in done.stdout and "| kg-serve-nocache |" in done.stdout
    assert "| oxigraph |" in done.stdout
    assert "rows, the reference gave" not in done.stdout  # every endpoint agrees
    assert "twins-of-place" in done.stdout  # the per-query table names each query


def test_missing_data_is_a_one_line_error(tmp_path: Path) -> None:
    done = kg("bench", str(tmp_path / "nowhere.ttl"))
    assert done.returncode == 2
    assert "nowhere.ttl" in done.stderr and "Traceback" not in done.stderr


def test_unknown_endpoint_is_a_one_line_error(tmp_path: Path) -> None:
    data = tmp_path / "small.ttl"
    data.write_text(SMALL, encoding="utf-8")
    done = kg("bench", str(data), "--endpoints", "oxigraph,nonesuch")
    assert done.returncode == 2 and "Traceback" not in done.stderr


def test_synthetic_sources_parse_without_rejections(tmp_path: Path) -> None:
    from kg.reconcile.links import read_links
    from kg.sources import parse_path
    from kg.synthetic import generate, is_synthetic_qid

    made = generate(250, tmp_path / "syn")
    result = parse_path(made.document)
    assert len(result.records) == 250
    assert not result.rejections and not result.warnings
    links = read_links(made.links)
    assert all(is_synthetic_qid(row.qid) for row in links if row.qid)
    # Every place reference of the document has its row in the links table.
    for rec in result.records:
        assert links.get("zhwiki", "cn", rec.cn[-1].title, "") is not None  # type: ignore[union-attr]
    assert generate(250, tmp_path / "again").document.read_bytes() == made.document.read_bytes()


def test_synthetic_sources_never_go_into_seeds(tmp_path: Path) -> None:
    from kg import paths
    from kg.synthetic import SyntheticError, generate

    with pytest.raises(SyntheticError, match="seeds"):
        generate(10, paths.SEEDS_DIR / "synthetic")
    (tmp_path / "mine.txt").write_text("not the generator's", encoding="utf-8")
    with pytest.raises(SyntheticError, match="not empty"):
        generate(10, tmp_path)
