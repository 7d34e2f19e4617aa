"""The W3C RDF 1.1 N-Triples suite through the project's strict parsing check
(:mod:`kg.rdf.syntax`): positive tests parse, negative tests are rejected."""

from __future__ import annotations

import pytest

from kg.rdf.syntax import RdfSyntaxError, check_bytes
from tests.conformance.expected_failures import NTRIPLES_EXPECTED_FAILURES
from tests.conformance.w3c import RDF_TESTS, RdfSyntaxCase, params, rdf_syntax_cases
from tests.shared import w3c_missing

CASES = rdf_syntax_cases("rdf-n-triples")

pytestmark = pytest.mark.skipif(not CASES, reason=w3c_missing("N-Triples", RDF_TESTS))




@pytest.mark.parametrize("case", params(CASES, NTRIPLES_EXPECTED_FAILURES, "positive"))
def test_positive_syntax(case: RdfSyntaxCase) -> None:
    # N-Triples has no relative IRIs: no base IRI, so one would be an error.
    check_bytes(case.action.read_bytes(), "nt")


@pytest.mark.parametrize("case", params(CASES, NTRIPLES_EXPECTED_FAILURES, "negative"))
def test_negative_syntax(case: RdfSyntaxCase) -> None:
    with pytest.raises(RdfSyntaxError) as info:
        check_bytes(case.action.read_bytes(), "nt", path=case.action.name)
    assert info.value.line is not None


def test_suite_is_complete() -> None:
    kinds = [case.kind for case in CASES]
    assert (len(CASES), kinds.count("positive"), kinds.count("negative")) == (70, 41, 29)
    assert set(NTRIPLES_EXPECTED_FAILURES) <= {case.name for case in CASES}
