"""The readable validation report (:mod:`kg.validation_summary`) and the one answer
``kg query``, ``kg validate`` and ``kg serve --no-build`` give without a built graph."""

from __future__ import annotations

import signal
from pathlib import Path

import pytest
from rdflib import Graph

from kg import paths
from kg.cli import main
from kg.validate import validate
from kg.validation_summary import readable_iri, summarize

SHAPES = """\
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix ex: <http://example.org/> .
ex:CityShape a sh:NodeShape ; sh:targetClass ex:City ;
  sh:property [ sh:path ex:twin ; sh:minCount 1 ; sh:severity sh:Warning ;
                sh:message "place not resolved (see seeds/wikidata-links.tsv)" ] .
"""


def _graph(n: int) -> str:
    cities = "".join(f"<http://example.org/place/%E4%BA%AC%E9%83%BD{i}> a ex:City .\n"
                     for i in range(n))
    return "@prefix ex: <http://example.org/> .\n" + cities


@pytest.mark.parametrize(("iri", "shown"), [
    ("https://w3id.org/twinning-kg/place/zhwiki/%E5%8C%97%E4%BA%AC",
     "https://w3id.org/twinning-kg/place/zhwiki/北京"),
    # Spaces, delimiters, '%' and bytes that are not UTF-8 stay escaped.
    ("http://x/Norwood%20Payneham%2Fa%25b", "http://x/Norwood%20Payneham%2Fa%25b"),
    ("http://x/%FF%E4", "http://x/%FF%E4"),
    ("http://x/caf%C3%A9%20%E4%BA%AC", "http://x/café%20京"),
])
def test_iris_are_shown_decoded(iri: str, shown: str) -> None:
    assert readable_iri(iri) == shown


def test_grouped_by_shape_with_counts_and_examples(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    shapes = tmp_path / "shapes"
    shapes.mkdir()
    (shapes / "s.ttl").write_text(SHAPES, encoding="utf-8")
    data = tmp_path / "g.ttl"
    data.write_text(_graph(7), encoding="utf-8")
    monkeypatch.chdir(tmp_path)  # no seeds/ here: the message names the shipped file
    result = validate(data, shapes_dir=shapes, ontology=None)
    text = summarize(result.report_graph, Graph().parse(shapes / "s.ttl"),
                     full_hint="kg validate g.ttl --full")
    assert "Warnings (7), by shape:" in text
    assert f"7 × place not resolved (see {paths.LINKS_TSV})" in text
    assert "<http://example.org/place/京都0>" in text and "… and 4 more" in text
    assert text.count("京都") == 3
    assert text.rstrip().endswith("Every result: kg validate g.ttl --full.")
    assert len(text.splitlines()) < 15


def test_kg_validate_prints_the_summary_and_full_on_request(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shapes = tmp_path / "shapes"
    shapes.mkdir()
    (shapes / "s.ttl").write_text(SHAPES, encoding="utf-8")
    data = tmp_path / "g.ttl"
    data.write_text(_graph(40), encoding="utf-8")
    options = [str(data), "--shapes", str(shapes), "--no-ontology"]
    assert main(["validate", *options]) == 0
    short = capsys.readouterr().out
    assert main(["validate", *options, "--full"]) == 0
    full = capsys.readouterr().out
    assert "… and 37 more" in short and len(short.splitlines()) < 15
    assert len(full.splitlines()) > 40 * 3


def test_one_answer_without_a_built_graph(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    dist = tmp_path / "dist"
    monkeypatch.setattr(paths, "DIST_DIR", dist)
    # kg serve sets SIGINT/SIGTERM handlers before it looks for the graph: put them back.
    handlers = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    answers = []
    try:
        for argv in (["query", "twins-of-place"], ["validate"],
                     ["serve", "--no-build", "--port", "0"]):
            assert main(argv) == 2
            err = capsys.readouterr().err.strip()
            assert len(err.splitlines()) == 1
            answers.append(err.split(": error: ", 1)[1])
    finally:
        for signum, handler in handlers.items():
            signal.signal(signum, handler)
    assert answers[0] == answers[1] == answers[2]
    assert answers[0].startswith(f"no built graph in {dist} (run `kg build` first")
