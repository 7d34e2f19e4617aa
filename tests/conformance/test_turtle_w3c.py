"""The W3C RDF 1.1 Turtle suite through the project's strict parsing check
(:mod:`kg.rdf.syntax`): positive and eval tests parse, eval results are isomorphic to the
expected N-Triples (read with rdflib, an independent parser), negative tests are rejected.
Base IRI: the suite's ``mf:assumedTestBase``.
"""

from __future__ import annotations

import pytest
from rdflib import Graph, Literal
from rdflib.compare import isomorphic

from kg.rdf.syntax import RdfSyntaxError, check_bytes, parse_quads, to_rdflib_graph
from tests.conformance.expected_failures import TURTLE_EXPECTED_FAILURES
from tests.conformance.w3c import RDF_TESTS, RdfSyntaxCase, params, rdf_syntax_cases
from tests.shared import w3c_missing

CASES = rdf_syntax_cases("rdf-turtle")

pytestmark = pytest.mark.skipif(not CASES, reason=w3c_missing("Turtle", RDF_TESTS))


def lowercase_language_tags(graph: Graph) -> Graph:
    """RDF 1.1 language tags are case-insensitive; pyoxigraph lowercases them, rdflib does not."""
    out = Graph()
    for s, p, o in graph:
        if isinstance(o, Literal) and o.language:
            o = Literal(str(o), lang=o.language.lower())
        out.add((s, p, o))
    return out




@pytest.mark.parametrize("case", params(CASES, TURTLE_EXPECTED_FAILURES, "eval"))
def test_eval(case: RdfSyntaxCase) -> None:
    assert case.result is not None
    quads = parse_quads(case.action.read_bytes(), "ttl", base_iri=case.action_iri)
    expected = Graph().parse(case.result, format="nt")
    actual = to_rdflib_graph(quads)
    assert len(actual) == len(expected)
    assert isomorphic(lowercase_language_tags(actual), lowercase_language_tags(expected))


@pytest.mark.parametrize("case", params(CASES, TURTLE_EXPECTED_FAILURES, "positive"))
def test_positive_syntax(case: RdfSyntaxCase) -> None:
    check_bytes(case.action.read_bytes(), "ttl", case.action_iri)


@pytest.mark.parametrize("case", params(CASES, TURTLE_EXPECTED_FAILURES, "negative"))
def test_negative_syntax(case: RdfSyntaxCase) -> None:
    with pytest.raises(RdfSyntaxError) as info:
        check_bytes(case.action.read_bytes(), "ttl", case.action_iri, path=case.action.name)
    assert str(info.value).startswith(case.action.name + ":")


def test_suite_is_complete() -> None:
    kinds = [case.kind for case in CASES]
    assert (len(CASES), kinds.count("eval"), kinds.count("positive")) == (313, 145, 74)
    assert kinds.count("negative") == 94
    assert set(TURTLE_EXPECTED_FAILURES) <= {case.name for case in CASES}
