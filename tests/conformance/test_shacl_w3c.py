"""The W3C SHACL test suite (core and SPARQL) through :func:`kg.validate.validate_with_shapes`.

Each ``sht:Validate`` test is validated with the project's validation function and the
produced report is compared with the expected ``sh:ValidationReport`` structurally: both
reports are unfolded into trees from the report node (blank nodes copied per occurrence,
so a path or shape shared by two results does not make the graphs differ in shape), with
``sh:resultMessage`` (free text) and ``sh:detail`` (optional in SHACL) left out, and the two
trees must be isomorphic. That covers the conforms flag and, per result, focus node, path,
severity, source shape (blank-node shapes by their description), constraint component and
value. Tests expecting ``sht:Failure`` must raise :class:`~kg.errors.ValidationError`.
"""

from __future__ import annotations

import logging

import pytest
from rdflib import RDF, BNode, Graph, Literal
from rdflib.compare import graph_diff, isomorphic, to_isomorphic
from rdflib.namespace import SH
from rdflib.term import Node

from kg.errors import ValidationError
from kg.validate import top_results, validate_with_shapes
from tests.conformance.expected_failures import (
    SHACL_EXPECTED_FAILURES,
    SHACL_NOT_IN_MANIFESTS,
    SHACL_RS_EXPECTED_FAILURES,
)
from tests.conformance.w3c import (
    MF,
    SHACL_SUITE,
    ShaclCase,
    params,
    shacl_cases,
    shacl_graph,
    shacl_included,
)
from tests.shared import w3c_missing

CASES = shacl_cases()
IGNORED = (SH.resultMessage, SH.detail)

pytestmark = [
    pytest.mark.skipif(not CASES, reason=w3c_missing("SHACL", SHACL_SUITE)),
    # The suite holds ill-typed literals on purpose; rdflib warns when it reads them.
    pytest.mark.filterwarnings("ignore:Parsing weird boolean:UserWarning"),
]


def report_tree(start: Node, *graphs: Graph) -> Graph:
    """The triples reachable from ``start``, blank nodes unfolded into fresh copies.

    A node is described by the first of ``graphs`` that has triples about it: the report
    graph first, then the shapes and data graphs for shapes and values it only names.
    """
    tree = Graph()

    def unfold(node: Node, ancestors: frozenset[Node]) -> Node:
        copy = BNode() if isinstance(node, BNode) else node
        pairs: set[tuple[Node, Node]] = set()
        for graph in graphs:
            pairs = set(graph.predicate_objects(node))
            if pairs:
                break
        for predicate, obj in pairs:
            if predicate in IGNORED:
                continue
            if isinstance(obj, BNode):
                obj = BNode() if obj in ancestors else unfold(obj, ancestors | {node})
            tree.add((copy, predicate, obj))
        return copy

    unfold(start, frozenset())
    return tree




def _run_case(case: ShaclCase, engine: str) -> tuple[Graph, Graph, Graph, object]:
    logging.disable(logging.CRITICAL)  # rdflib logs every ill-typed literal the suite holds
    try:
        manifest = shacl_graph(case.manifest)
        data = manifest if case.data == case.manifest else shacl_graph(case.data)
        if case.shapes == case.manifest:
            shapes = manifest
        else:
            shapes = data if case.shapes == case.data else shacl_graph(case.shapes)
        if case.expects_failure:
            with pytest.raises(ValidationError):
                validate_with_shapes(data, shapes, engine=engine)
            return manifest, data, shapes, None
        result = validate_with_shapes(data, shapes, engine=engine)
    finally:
        logging.disable(logging.NOTSET)
    return manifest, data, shapes, result


def _signature(report: Graph, result: Node) -> tuple[str, ...]:
    """A result as comparable text, blank nodes as "_" (an engine that renames them)."""

    def text(predicate: Node) -> str:
        value = report.value(result, predicate)
        return "_" if value is None or isinstance(value, BNode) else value.n3()

    return tuple(text(p) for p in (SH.focusNode, SH.resultPath, SH.resultSeverity,
                                   SH.sourceConstraintComponent, SH.value, SH.sourceShape))


@pytest.mark.parametrize("case", params(CASES, SHACL_RS_EXPECTED_FAILURES))
def test_shacl_engine(case: ShaclCase) -> None:
    """The ``shacl`` (Rust) engine on the same suite. Its report names the shapes graph's
    and data graph's blank nodes afresh, so results are compared as signatures (focus node,
    path, severity, component, value, source shape; blank nodes as "_"), with the conforms
    flag and the counts."""
    manifest, _, _, result = _run_case(case, "shacl")
    if result is None:
        return
    expected_node = manifest.value(case.test, MF.result)
    assert expected_node is not None
    report = result.report_graph  # type: ignore[attr-defined]
    expected = sorted(_signature(manifest, r) for r in manifest.objects(expected_node, SH.result))
    actual = sorted(_signature(report, r) for r in top_results(report))
    assert actual == expected
    expected_conforms = manifest.value(expected_node, SH.conforms)
    assert isinstance(expected_conforms, Literal)
    assert result.conforms is expected_conforms.toPython()  # type: ignore[attr-defined]


@pytest.mark.parametrize("case", params(CASES, SHACL_EXPECTED_FAILURES))
def test_shacl(case: ShaclCase) -> None:
    logging.disable(logging.CRITICAL)  # rdflib logs every ill-typed literal the suite holds
    try:
        manifest = shacl_graph(case.manifest)
        data = manifest if case.data == case.manifest else shacl_graph(case.data)
        if case.shapes == case.manifest:
            shapes = manifest
        else:
            shapes = data if case.shapes == case.data else shacl_graph(case.shapes)
        if case.expects_failure:
            with pytest.raises(ValidationError):
                validate_with_shapes(data, shapes)
            return
        result = validate_with_shapes(data, shapes)
    finally:
        logging.disable(logging.NOTSET)
    expected_node = manifest.value(case.test, MF.result)
    assert expected_node is not None
    expected = report_tree(expected_node, manifest)
    report = result.report_graph
    actual = report_tree(next(report.subjects(RDF.type, SH.ValidationReport)), report, shapes, data)
    if not isomorphic(expected, actual):
        _, only_actual, only_expected = graph_diff(to_isomorphic(actual), to_isomorphic(expected))
        pytest.fail(
            "report differs from the expected one\n--- only in the produced report:\n"
            + only_actual.serialize(format="turtle")
            + "\n--- only in the expected report:\n"
            + only_expected.serialize(format="turtle")
        )
    # The counts agree with the report graph, and conforms with the expected flag.
    expected_conforms = manifest.value(expected_node, SH.conforms)
    assert isinstance(expected_conforms, Literal)
    assert result.conforms is expected_conforms.toPython()
    severities = [report.value(r, SH.resultSeverity) for r in top_results(report)]
    assert (result.violations, result.warnings, result.infos) == (
        severities.count(SH.Violation),
        severities.count(SH.Warning),
        severities.count(SH.Info),
    )


def test_suite_is_complete() -> None:
    """All 121 sht:Validate tests run (core and sparql), and the manifests reach all but one."""
    assert len(CASES) == 121
    assert {case.name.split("/")[0] for case in CASES} == {"core", "sparql"}
    included = shacl_included()
    omitted = {case.name for case in CASES if case.manifest not in included}
    assert omitted == SHACL_NOT_IN_MANIFESTS


def test_expected_failures_name_real_tests() -> None:
    assert set(SHACL_EXPECTED_FAILURES) <= {case.name for case in CASES}
    assert all(reason.strip() for reason in SHACL_EXPECTED_FAILURES.values())


def test_comparison_is_not_vacuous() -> None:
    """A report missing a result, or with a different focus node, does not match."""
    case = next(case for case in CASES if case.name == "core/node/and-001")
    manifest = shacl_graph(case.manifest)
    result = validate_with_shapes(manifest, manifest)
    expected = report_tree(manifest.value(case.test, MF.result), manifest)  # type: ignore[arg-type]
    report = result.report_graph
    node = next(report.subjects(RDF.type, SH.ValidationReport))
    assert isomorphic(expected, report_tree(node, report, manifest))
    first = next(report.objects(node, SH.result))
    fewer = Graph()
    fewer += report
    fewer.remove((node, SH.result, first))
    assert not isomorphic(expected, report_tree(node, fewer, manifest))
    moved = Graph()
    moved += report
    moved.set((first, SH.focusNode, SH.Violation))
    assert not isomorphic(expected, report_tree(node, moved, manifest))
