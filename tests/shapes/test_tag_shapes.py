"""Chinese tagged by script, not by region (issue 17), under both engines: ``zh-Hant``,
``zh-Hans`` and ``zh`` conform, ``zh-TW`` and ``zh-CN`` do not (a region says where, not
how the text is written, and ``langMatches(lang(?l), "zh-Hant")`` misses them)."""

from __future__ import annotations

import pytest
from rdflib import RDF, RDFS, Graph, Literal, URIRef
from rdflib.namespace import SH, SKOS

from kg.validate import ENGINES, validate_with_shapes

NODE = URIRef("https://w3id.org/twinning-kg/network/league-of-historical-cities")


def tag_violations(g: Graph, shapes: Graph, ontology: Graph, engine: str) -> int:
    result = validate_with_shapes(g, shapes, ont_graph=ontology, allow_warnings=True,
                                  engine=engine)
    report = result.report_graph
    return sum(1 for r in report.subjects(RDF.type, SH.ValidationResult)
               if report.value(r, SH.sourceConstraintComponent) == SH.OrConstraintComponent
               and report.value(r, SH.focusNode) == NODE)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("tag", "bad"), [
    ("zh-Hant", False), ("zh-Hans", False), ("zh", False), ("zh-hant", False),
    ("zh-Hant-TW", False), ("ja", False), ("en", False),
    ("zh-TW", True), ("zh-CN", True), ("zh-hk", True),
])
@pytest.mark.parametrize("predicate", [RDFS.label, SKOS.altLabel])
def test_chinese_tag(engine: str, tag: str, bad: bool, predicate: URIRef, shapes: Graph,
                     ontology: Graph) -> None:
    g = Graph()
    g.add((NODE, predicate, Literal("世界歷史都市聯盟", lang=tag)))
    assert tag_violations(g, shapes, ontology, engine) == (1 if bad else 0)
