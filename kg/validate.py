"""SHACL validation of the knowledge graph with pySHACL and the project's shapes.

:func:`validate` is the stage entry point (``kg validate``, ``kg build``): it reads the graph
and every ``shapes/*.ttl`` strictly, mixes in the ontology (so ``rdfs:subClassOf`` targets
work), runs pySHACL and returns a :class:`ValidationResult` with the report graph and a
readable text report.

Conformance, as the project defines it: **only sh:Violation results block**. Warnings (an
unresolved place, a missing reverse link) and infos are reported but do not make the graph
non-conforming; this is pySHACL's documented ``allow_warnings=True`` option, so the
report graph's ``sh:conforms`` agrees with :attr:`ValidationResult.conforms`. Plain SHACL
(``validate_with_shapes`` with its defaults, as the W3C suite runs it) counts every result.

>>> from rdflib import Graph
>>> shapes = Graph().parse(format="turtle", data='''
...     @prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <http://example.org/> .
...     ex:S a sh:NodeShape ; sh:targetNode ex:a ; sh:property [ sh:path ex:p ; sh:minCount 1 ] .
... ''')
>>> result = validate_with_shapes(Graph(), shapes)
>>> (result.conforms, result.violations, result.warnings)
(False, 1, 0)
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import rdflib
from rdflib import RDF, BNode, Graph, Literal, URIRef
from rdflib.namespace import SH
from rdflib.term import Node

from kg import paths
from kg.errors import KGError, ValidationError
from kg.rdf.quads import Quads

__all__ = [
    "INFERENCE_OPTIONS",
    "SEVERITY_ORDER",
    "ValidationResult",
    "load_graph",
    "load_shapes",
    "render_text",
    "top_results",
    "validate",
    "validate_with_shapes",
]

#: pySHACL's pre-inference options.
INFERENCE_OPTIONS = ("none", "rdfs", "owlrl", "both")

#: Severities in the order the text report lists them.
SEVERITY_ORDER = (SH.Violation, SH.Warning, SH.Info)

_SEVERITY_NAMES: dict[Node, str] = {
    SH.Violation: "Violation",
    SH.Warning: "Warning",
    SH.Info: "Info",
}


@dataclass(frozen=True)
class ValidationResult:
    """The outcome of one validation run.

    ``conforms`` follows the run's policy (see the module docstring); ``violations``,
    ``warnings`` and ``infos`` count the report's results by severity (results with another,
    custom severity are listed in ``text`` but not counted; nested ``sh:detail`` results are
    not counted);
    ``report_graph`` holds the ``sh:ValidationReport``; ``text`` is the readable report.
    """

    conforms: bool
    violations: int
    warnings: int
    infos: int
    report_graph: Graph
    text: str


def load_graph(path: Path, *, what: str = "graph") -> Graph:
    """Read the RDF file at ``path`` strictly (pyoxigraph) into an rdflib graph.

    The format comes from the extension (``.ttl``, ``.nt``, ``.trig``, ``.jsonld``…); the
    named graphs of a dataset are merged; ``what`` names the file's role in messages.
    Raises :class:`~kg.errors.ValidationError`: ``file:line: column N: message`` for invalid
    data, ``file: <what>: message`` when the file is missing, unreadable or of unknown format.
    """
    from kg.rdf.syntax import RdfSyntaxError, read_graph

    try:
        return read_graph(path)
    except RdfSyntaxError as exc:
        where = f"column {exc.column}: " if exc.column is not None else ""
        raise ValidationError(f"{where}{exc.message}", path=path, line=exc.line) from None
    except KGError as exc:
        raise ValidationError(f"{what}: {exc.message}", path=path) from None


def load_shapes(shapes_dir: Path) -> Graph:
    """Merge every ``*.ttl`` file in ``shapes_dir`` (sorted by name) into one shapes graph.

    Raises :class:`~kg.errors.ValidationError` when the folder is missing, holds no
    ``.ttl`` file, or a file is not valid Turtle.
    """
    shapes_dir = Path(shapes_dir)
    if not shapes_dir.is_dir():
        raise ValidationError("shapes folder not found", path=shapes_dir)
    files = sorted(shapes_dir.glob("*.ttl"))
    if not files:
        raise ValidationError("shapes folder holds no .ttl file", path=shapes_dir)
    shapes = Graph()
    for file in files:
        part = load_graph(file, what="shapes")
        for prefix, namespace in part.namespaces():
            shapes.bind(prefix, namespace, override=False)
        shapes += part
    return shapes


def validate(
    data: Graph | Path | Quads,
    *,
    shapes_dir: Path = paths.SHAPES_DIR,
    ontology: Path | None = paths.ONTOLOGY,
    inference: str = "none",
) -> ValidationResult:
    """Validate ``data`` (a graph, or the path of an RDF file) against the project's shapes.

    ``shapes_dir`` holds the shapes (every ``*.ttl``); ``ontology``, unless ``None``, is mixed
    into a copy of the data graph so class hierarchies count; ``inference`` is one of
    :data:`INFERENCE_OPTIONS`. Only violations make ``conforms`` false; warnings and infos
    are counted and listed (the report text says so).
    Raises :class:`~kg.errors.ValidationError` when the graph, the shapes or the ontology
    cannot be read, or when pySHACL cannot evaluate the shapes.
    """
    if isinstance(data, Quads):
        data_graph = data.to_rdflib()
    else:
        data_graph = data if isinstance(data, Graph) else load_graph(Path(data))
    shapes_graph = load_shapes(shapes_dir)
    ont_graph = None if ontology is None else load_graph(Path(ontology), what="ontology")
    return validate_with_shapes(
        data_graph,
        shapes_graph,
        ont_graph=ont_graph,
        inference=inference,
        allow_warnings=True,
    )


def _drop(record: logging.LogRecord) -> bool:
    return False


def _silence_pyshacl() -> None:
    # pySHACL logs to stderr what it also raises, and re-adds its stream handler (at INFO)
    # on every call; a filter on the logger itself survives that. The raised error is what
    # kg reports, as one line.
    logger = logging.getLogger("pyshacl-validate")
    if _drop not in logger.filters:
        logger.addFilter(_drop)


def validate_with_shapes(
    data_graph: Graph,
    shapes_graph: Graph,
    *,
    ont_graph: Graph | None = None,
    inference: str = "none",
    allow_warnings: bool = False,
    advanced: bool = True,
) -> ValidationResult:
    """Run pySHACL on ``data_graph`` with ``shapes_graph``; the data graph is not modified.

    With the defaults this is plain SHACL (every result, whatever its severity, makes the
    graph non-conforming), as the W3C suite expects; ``allow_warnings=True`` lets
    sh:Warning and sh:Info results through (pySHACL's option of that name). ``advanced``
    enables SHACL Advanced Features (SPARQL targets, rules) and ``ont_graph`` is mixed into
    a copy of the data graph before validation.
    Raises :class:`~kg.errors.ValidationError` for an unknown ``inference`` option or when
    pySHACL cannot evaluate the shapes (a SHACL *failure*: an ill-formed shape, a SPARQL
    constraint it rejects, a feature it does not implement).
    """
    if inference not in INFERENCE_OPTIONS:
        raise ValidationError(
            f"unknown inference option {inference!r} (one of {', '.join(INFERENCE_OPTIONS)})"
        )
    import pyshacl
    from pyparsing import ParseBaseException
    from pyshacl.errors import ReportableRuntimeError

    _silence_pyshacl()
    try:
        conforms, report_graph, _ = pyshacl.validate(
            data_graph,
            shacl_graph=shapes_graph,
            ont_graph=ont_graph,
            inference=inference,
            advanced=advanced,
            inplace=False,
            allow_warnings=allow_warnings,
            allow_infos=allow_warnings,
        )
    except ReportableRuntimeError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValidationError(f"SHACL validation failed: {first}") from None
    except ParseBaseException as exc:  # a SPARQL constraint that does not parse
        raise ValidationError(f"SHACL validation failed: bad SPARQL in a shape: {exc}") from None
    except NotImplementedError as exc:  # pySHACL's word for a SHACL feature it lacks
        raise ValidationError(f"SHACL validation failed: unsupported feature: {exc}") from None
    except RecursionError:
        raise ValidationError("SHACL validation failed: the shapes recurse too deeply") from None
    if not isinstance(report_graph, Graph):  # pragma: no cover - pyshacl always gives a Graph
        raise ValidationError("SHACL validation failed: pySHACL returned no report graph")
    for source in (shapes_graph, data_graph):
        for prefix, namespace in source.namespaces():
            report_graph.bind(prefix, namespace, override=False)
    counts = Counter(
        report_graph.value(result, SH.resultSeverity) for result in top_results(report_graph)
    )
    return ValidationResult(
        conforms=bool(conforms),
        violations=counts[SH.Violation],
        warnings=counts[SH.Warning],
        infos=counts[SH.Info],
        report_graph=report_graph,
        text=render_text(report_graph, shapes_graph, allow_warnings=allow_warnings),
    )


def top_results(report: Graph) -> list[Node]:
    """The ``sh:result`` nodes of the report's ``sh:ValidationReport`` (not the nested
    ``sh:detail`` results some constraints add)."""
    return [
        result
        for node in report.subjects(RDF.type, SH.ValidationReport)
        for result in report.objects(node, SH.result)
    ]


def _term(graph: Graph, node: Node) -> str:
    if isinstance(node, Literal):
        return node.n3(graph.namespace_manager)
    if isinstance(node, URIRef):
        return node.n3(graph.namespace_manager)
    return f"_:{node}"


def _path(graph: Graph, node: Node, depth: int = 0) -> str:
    """A SHACL property path in SPARQL property-path notation (``a/b``, ``^a``, ``(a|b)*``)."""
    if not isinstance(node, BNode) or depth > 20:
        return _term(graph, node)
    items = list(rdflib.collection.Collection(graph, node)) if graph.value(node, RDF.first) else []
    if items:
        return "/".join(_path(graph, item, depth + 1) for item in items)
    for predicate, fmt in (
        (SH.inversePath, "^{}"),
        (SH.zeroOrMorePath, "({})*"),
        (SH.oneOrMorePath, "({})+"),
        (SH.zeroOrOnePath, "({})?"),
    ):
        inner = graph.value(node, predicate)
        if inner is not None:
            return fmt.format(_path(graph, inner, depth + 1))
    alternatives = graph.value(node, SH.alternativePath)
    if alternatives is not None:
        options = rdflib.collection.Collection(graph, alternatives)
        return "(" + "|".join(_path(graph, item, depth + 1) for item in options) + ")"
    return _term(graph, node)


def _shape(report: Graph, shapes: Graph | None, node: Node) -> str:
    if not isinstance(node, BNode):
        return _term(report, node)
    # A blank-node shape has no name; say what it constrains instead.
    if shapes is not None:
        path = shapes.value(node, SH.path)
        if path is not None:
            return f"[property shape on {_path(shapes, path)}]"
    return "[anonymous shape]"


def render_text(report: Graph, shapes: Graph | None = None, *, allow_warnings: bool = True) -> str:
    """The report graph as readable text: a summary line, then the results grouped by
    severity (violations first) and sorted by focus node, path and shape.

    ``shapes`` (optional) names blank-node shapes by their path; ``allow_warnings`` says
    which conformance policy produced the report, so the summary can explain it.
    """
    rows: dict[Node, list[tuple[str, str, str, str, str, str]]] = {}
    for result in top_results(report):
        severity = report.value(result, SH.resultSeverity) or SH.Violation
        path = report.value(result, SH.resultPath)
        value = report.value(result, SH.value)
        shape = report.value(result, SH.sourceShape)
        component = report.value(result, SH.sourceConstraintComponent)
        messages = sorted(str(m) for m in report.objects(result, SH.resultMessage))
        rows.setdefault(severity, []).append(
            (
                _term(report, report.value(result, SH.focusNode) or Literal("")),
                "" if path is None else _path(report, path),
                "" if shape is None else _shape(report, shapes, shape),
                "" if component is None else _term(report, component),
                "" if value is None else _term(report, value),
                "; ".join(messages),
            )
        )
    counts = {sev: len(rows.get(sev, [])) for sev in SEVERITY_ORDER}
    conforms = next(report.objects(None, SH.conforms), None)
    says_conforms = conforms is not None and str(conforms) in ("true", "1")
    verdict = "conforms" if says_conforms else "DOES NOT CONFORM"
    summary = (
        f"Validation report: {verdict} ({counts[SH.Violation]} violations, "
        f"{counts[SH.Warning]} warnings, {counts[SH.Info]} infos)."
    )
    policy = (
        "Only violations block conformance; warnings and infos are listed for review."
        if allow_warnings
        else "Every result, whatever its severity, blocks conformance."
    )
    lines = [summary, policy]
    others = sorted((sev for sev in rows if sev not in SEVERITY_ORDER), key=str)
    for level in (*SEVERITY_ORDER, *others):
        group = sorted(rows.get(level, []))
        if not group:
            continue
        heading = _SEVERITY_NAMES.get(level, _term(report, level))
        lines += ["", f"{heading} ({len(group)})"]
        for focus, *fields in group:
            lines.append(f"  {heading}: {focus}")
            labels = ("path", "shape", "constraint", "value", "message")
            for label, text in zip(labels, fields, strict=True):
                if text:
                    lines.append(f"    {label + ':':<12}{text}")
    return "\n".join(lines) + "\n"
