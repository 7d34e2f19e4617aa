"""Reading the W3C test manifests in ``../shared/w3c/`` (see its README).

Manifests are read with the project's strict parser (:func:`kg.rdf.syntax.read_graph`) and
the published base IRIs, so test IRIs and expected results resolve as the suites intend.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest
from rdflib import RDF, Graph, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.term import Node

from kg import paths
from kg.rdf.syntax import read_graph

__all__ = [
    "MF",
    "RDFT",
    "RDF_TESTS",
    "SHACL_SUITE",
    "SHT",
    "W3C_DIR",
    "RdfSyntaxCase",
    "ShaclCase",
    "params",
    "rdf_syntax_cases",
    "shacl_cases",
    "shacl_graph",
    "shacl_included",
]

W3C_DIR = Path(os.environ.get("KG_W3C_DIR", paths.SHARED_DIR / "w3c"))
RDF_TESTS = W3C_DIR / "rdf-tests"
RDF_TESTS_BASE = "https://w3c.github.io/rdf-tests/"
DATA_SHAPES = W3C_DIR / "data-shapes"
SHACL_SUITE = DATA_SHAPES / "data-shapes-test-suite" / "tests"
DATA_SHAPES_BASE = "https://w3c.github.io/data-shapes/"

MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
RDFT = Namespace("http://www.w3.org/ns/rdftest#")
SHT = Namespace("http://www.w3.org/ns/shacl-test#")


def _url(path: Path, root: Path, base: str) -> str:
    return base + path.relative_to(root).as_posix()


def _local(iri: Node, root: Path, base: str) -> Path:
    return root / str(iri).removeprefix(base)


@dataclass(frozen=True)
class RdfSyntaxCase:
    """One Turtle or N-Triples test: kind is ``eval``, ``positive`` or ``negative``."""

    name: str
    kind: str
    action: Path
    action_iri: str
    result: Path | None


_KINDS: dict[Node | None, str] = {
    RDFT.TestTurtleEval: "eval",
    RDFT.TestTurtlePositiveSyntax: "positive",
    RDFT.TestTurtleNegativeSyntax: "negative",
    RDFT.TestTurtleNegativeEval: "negative",
    RDFT.TestNTriplesPositiveSyntax: "positive",
    RDFT.TestNTriplesNegativeSyntax: "negative",
}


def rdf_syntax_cases(folder: str) -> list[RdfSyntaxCase]:
    """The entries of ``rdf-tests/rdf/rdf11/<folder>/manifest.ttl`` in manifest order.

    Empty when the suite is not there (the tests then skip).
    """
    manifest = RDF_TESTS / "rdf" / "rdf11" / folder / "manifest.ttl"
    if not manifest.is_file():
        return []
    url = _url(manifest, RDF_TESTS, RDF_TESTS_BASE)
    graph = read_graph(manifest, base_iri=url)
    head = graph.value(URIRef(url), MF.entries)
    cases = []
    for entry in Collection(graph, head) if head is not None else []:
        kind = _KINDS.get(graph.value(entry, RDF.type))
        if kind is None:
            raise AssertionError(f"unknown test type for {entry}")
        action = graph.value(entry, MF.action)
        result = graph.value(entry, MF.result)
        assert action is not None, f"{entry}: no mf:action"
        cases.append(
            RdfSyntaxCase(
                name=str(graph.value(entry, MF.name)),
                kind=kind,
                action=_local(action, RDF_TESTS, RDF_TESTS_BASE),
                action_iri=str(action),
                result=None if result is None else _local(result, RDF_TESTS, RDF_TESTS_BASE),
            )
        )
    return cases


@dataclass(frozen=True)
class ShaclCase:
    """One ``sht:Validate`` test: ``name`` is its path below ``tests/`` without ``.ttl``."""

    name: str
    manifest: Path
    test: URIRef
    data: Path
    shapes: Path
    expects_failure: bool


def shacl_included() -> set[Path]:
    """The test files reachable from the suite's top ``manifest.ttl`` through ``mf:include``."""
    top = SHACL_SUITE / "manifest.ttl"
    seen: set[Path] = set()
    todo = [top] if top.is_file() else []
    while todo:
        file = todo.pop()
        if file in seen:
            continue
        seen.add(file)
        url = URIRef(_url(file, DATA_SHAPES, DATA_SHAPES_BASE))
        graph = read_graph(file, base_iri=str(url))
        includes = graph.objects(url, MF.include)
        todo += [_local(inc, DATA_SHAPES, DATA_SHAPES_BASE) for inc in includes]
    return {file for file in seen if file.name != "manifest.ttl"}


def shacl_cases() -> list[ShaclCase]:
    """Every ``sht:Validate`` entry of every test file in the suite's folders, sorted by name.

    Found by listing the folders rather than following ``mf:include``: the upstream
    manifests leave one test file out (see ``test_shacl_w3c``). Empty when the suite is absent.
    """
    cases: list[ShaclCase] = []
    for file in sorted(SHACL_SUITE.glob("*/*/*.ttl")):
        if file.name == "manifest.ttl":
            continue
        graph = shacl_graph(file)
        url = URIRef(_url(file, DATA_SHAPES, DATA_SHAPES_BASE))
        head = graph.value(url, MF.entries)
        for entry in Collection(graph, head) if head is not None else []:
            if (entry, RDF.type, SHT.Validate) not in graph:
                continue
            action = graph.value(entry, MF.action)
            data = graph.value(action, SHT.dataGraph)
            shapes = graph.value(action, SHT.shapesGraph)
            assert data is not None and shapes is not None, f"{file}: no data or shapes graph"
            cases.append(
                ShaclCase(
                    name=file.relative_to(SHACL_SUITE).with_suffix("").as_posix(),
                    manifest=file,
                    test=URIRef(str(entry)),
                    data=_local(data, DATA_SHAPES, DATA_SHAPES_BASE),
                    shapes=_local(shapes, DATA_SHAPES, DATA_SHAPES_BASE),
                    expects_failure=graph.value(entry, MF.result) == SHT.Failure,
                )
            )
    return cases


def shacl_graph(path: Path) -> Graph:
    """A SHACL test file parsed with its published URL as base."""
    with warnings.catch_warnings():
        # The suite holds ill-typed literals on purpose; rdflib warns when it reads them.
        warnings.filterwarnings("ignore", "Parsing weird boolean", UserWarning)
        return read_graph(path, base_iri=_url(path, DATA_SHAPES, DATA_SHAPES_BASE))


def params(cases: Iterable[RdfSyntaxCase | ShaclCase], expected_failures: Mapping[str, str],
           kind: str | None = None) -> list[object]:
    """One ``pytest.param`` per case (of ``kind``, if given), named by the case; those listed
    in ``expected_failures`` are strict xfails with their reason."""
    out: list[object] = []
    for case in cases:
        if kind is not None and getattr(case, "kind", None) != kind:
            continue
        reason = expected_failures.get(case.name)
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        out.append(pytest.param(case, id=case.name, marks=marks))
    return out
