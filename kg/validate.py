"""SHACL validation of the knowledge graph with the project's shapes.

:func:`validate` is the stage entry point (``kg validate``, ``kg build``): it reads the graph
and every ``shapes/*.ttl`` strictly, mixes in the ontology (so ``rdfs:subClassOf`` targets
work), runs a SHACL engine and returns a :class:`ValidationResult` with the report graph
and a readable text report.

Two engines (:data:`ENGINES`), chosen by measurement (README, "Validation engines"):

* ``shacl`` (default): the Rust engine of the ``shacl`` package (PyPI, Peter Winstanley's
  SHACL_Engine), fed N-Triples text: no rdflib copy of the data. 0.07 s of CPU on the
  seeds where pySHACL takes 19 s.
* ``pyshacl``: pySHACL, the reference the W3C suite and the shape tests check the other
  against (``kg validate --engine pyshacl``); it also offers OWL RL pre-inference.

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

import itertools
import logging
import os
import subprocess
import tempfile
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import rdflib
from rdflib import RDF, BNode, Graph, Literal, URIRef
from rdflib.namespace import SH
from rdflib.term import Node

from kg import paths
from kg.errors import KGError, ValidationError
from kg.rdf.quads import Quads, SpooledQuads

if TYPE_CHECKING:
    import shacl

__all__ = [
    "DEFAULT_ENGINE",
    "ENGINES",
    "INFERENCE_OPTIONS",
    "SEVERITY_ORDER",
    "ValidationResult",
    "load_graph",
    "load_shapes",
    "render_text",
    "top_results",
    "validate",
    "validate_ntriples_files",
    "validate_with_shapes",
]

#: pySHACL's pre-inference options (the ``shacl`` engine has "none" and "rdfs").
INFERENCE_OPTIONS = ("none", "rdfs", "owlrl", "both")

#: The SHACL engines :func:`validate` can run, and the default.
ENGINES = ("shacl", "pyshacl")
DEFAULT_ENGINE = "shacl"

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
    engine: str = DEFAULT_ENGINE,
) -> ValidationResult:
    """Validate ``data`` (a graph, the emitted dataset, or the path of an RDF file) against
    the project's shapes.

    ``shapes_dir`` holds the shapes (every ``*.ttl``); ``ontology``, unless ``None``, is mixed
    into a copy of the data graph so class hierarchies count; ``inference`` is one of
    :data:`INFERENCE_OPTIONS`; ``engine`` one of :data:`ENGINES`. Only violations make
    ``conforms`` false; warnings and infos are counted and listed (the report text says so).
    Raises :class:`~kg.errors.ValidationError` when the graph, the shapes or the ontology
    cannot be read, for an unknown engine or inference option, or when the engine cannot
    evaluate the shapes.
    """
    if engine not in ENGINES:
        raise ValidationError(f"unknown SHACL engine {engine!r} (one of {', '.join(ENGINES)})")
    if inference not in INFERENCE_OPTIONS:
        raise ValidationError(
            f"unknown inference option {inference!r} (one of {', '.join(INFERENCE_OPTIONS)})"
        )
    if isinstance(data, SpooledQuads) and engine == "shacl" and inference == "none":
        return validate_ntriples_files([data.union_file], shapes_dir=shapes_dir,
                                       ontology=ontology)
    shapes_graph = load_shapes(shapes_dir)
    if engine == "shacl":
        ont = b"" if ontology is None else _read_ntriples(Path(ontology), "ontology").encode()
        if isinstance(data, Quads):
            lines: Iterable[bytes] = itertools.chain(data.union, ont.splitlines())
        else:
            text = _ntriples(data) if isinstance(data, Graph) else _read_ntriples(
                Path(data), "graph"
            )
            lines = itertools.chain(text.encode().splitlines(), ont.splitlines())
        return _validate_rs(
            lines, _ntriples(shapes_graph), shapes_graph, inference=inference, allow_warnings=True
        )
    if isinstance(data, Quads):
        data_graph = data.to_rdflib()
    else:
        data_graph = data if isinstance(data, Graph) else load_graph(Path(data))
    ont_graph = None if ontology is None else load_graph(Path(ontology), what="ontology")
    return validate_with_shapes(
        data_graph,
        shapes_graph,
        ont_graph=ont_graph,
        inference=inference,
        allow_warnings=True,
    )


def validate_ntriples_files(
    files: Sequence[Path],
    *,
    extra: Iterable[bytes] = (),
    shapes_dir: Path = paths.SHAPES_DIR,
    ontology: Path | None = paths.ONTOLOGY,
) -> ValidationResult:
    """Validate, with the default engine, the union of the N-Triples ``files``, the lines
    ``extra`` (N-Triples, without their newline) and the ontology (unless ``None``): the
    result :func:`validate` gives for the same triples.

    The files go to the engine as they are, through a named pipe (``cat`` writes them into
    it as the engine reads): they are neither held in memory nor copied, so the memory is
    the engine's own store. They must be N-Triples ``kg`` wrote (``kg build`` validates its
    ``twinning.nt`` this way, then reads it back strictly); ``kg validate FILE`` reads any
    file strictly through :func:`validate`. Raises :class:`~kg.errors.ValidationError` as
    :func:`validate` does, and when a file cannot be read.
    """
    shapes_graph = load_shapes(shapes_dir)
    ont = b"" if ontology is None else _read_ntriples(Path(ontology), "ontology").encode()
    with tempfile.TemporaryDirectory(prefix="kg-validate-") as tmp:
        rest = Path(tmp) / "extra.nt"
        try:
            with rest.open("wb") as out:
                for line in itertools.chain(extra, ont.splitlines()):
                    out.write(line)
                    out.write(b"\n")
        except OSError as exc:
            raise _tmpdir_error(exc) from None
        return _validate_rs(
            _Files((*(Path(f) for f in files), rest)), _ntriples(shapes_graph), shapes_graph,
            allow_warnings=True,
        )


@dataclass(frozen=True)
class _Files:
    """N-Triples files the engine reads one after the other, as one graph."""

    paths: tuple[Path, ...]


def _tmpdir_error(exc: OSError) -> ValidationError:
    # The graph's temporary copy (or the pipe) lives in TMPDIR: a full one is the likely cause.
    return ValidationError(
        f"SHACL validation failed: cannot write its temporary copy of the graph in "
        f"{tempfile.gettempdir()} (TMPDIR): {exc.strerror or exc}; free some space "
        "there, or set TMPDIR to a folder with room")


def _validate_piped(compiled: shacl.Shapes, files: _Files, *, inference: str,
                    allow_warnings: bool) -> shacl.Report:
    """The engine's report on ``files``, read through a named pipe that ``cat`` fills.
    ``cat`` opens the pipe for writing, which waits for the engine to open it for reading,
    so neither end waits on a pipe the other has already left; ``cat`` is stopped if the
    engine fails. Raises ``OSError`` (TMPDIR), :class:`~kg.errors.ValidationError` when a
    file cannot be read, and the engine's errors."""
    with tempfile.TemporaryDirectory(prefix="kg-validate-") as tmp:
        pipe = Path(tmp) / "data.nt"
        os.mkfifo(pipe)
        writer = subprocess.Popen(
            ["sh", "-c", 'exec cat -- "$@" > "$0"', str(pipe), *map(str, files.paths)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        done = False
        try:
            report = compiled.validate_file(
                str(pipe), inference=inference, allow_warnings=allow_warnings
            )
            done = True
        finally:
            if not done and writer.poll() is None:
                writer.kill()
            _, err = writer.communicate()
    if writer.returncode != 0:
        lines = err.decode("utf-8", "replace").strip().splitlines()
        cause = lines[0] if lines else f"cat ended with exit code {writer.returncode}"
        raise ValidationError(f"SHACL validation failed: cannot read the graph: {cause}")
    return report


def _ntriples(graph: Graph) -> str:
    text: str = graph.serialize(format="nt")
    return text


def _read_ntriples(path: Path, what: str) -> str:
    """A file read strictly (pyoxigraph, as :func:`load_graph`), as N-Triples text; the
    named graphs of a dataset merged. Raises :class:`~kg.errors.ValidationError` as
    :func:`load_graph`."""
    import pyoxigraph

    from kg.rdf.syntax import RdfSyntaxError, _read, parse_quads

    try:
        data, rdf_format, base = _read(path, None, None)
        quads = parse_quads(data, rdf_format, base_iri=base, path=path)
    except RdfSyntaxError as exc:
        where = f"column {exc.column}: " if exc.column is not None else ""
        raise ValidationError(f"{where}{exc.message}", path=path, line=exc.line) from None
    except KGError as exc:
        raise ValidationError(f"{what}: {exc.message}", path=path) from None
    out = pyoxigraph.serialize(
        (q.triple for q in quads), format=pyoxigraph.RdfFormat.N_TRIPLES
    ) or b""
    return out.decode("utf-8")


def _validate_rs(
    data_nt: str | Iterable[bytes] | _Files,
    shapes_nt: str,
    shapes_graph: Graph | None,
    *,
    inference: str = "none",
    allow_warnings: bool = False,
) -> ValidationResult:
    """Run the ``shacl`` engine on N-Triples (text, lines without their newline, or files);
    the report as an rdflib graph. Lines go through a temporary file the engine reads
    itself, files through a named pipe: no text copy of a large graph in memory."""
    if inference not in ("none", "rdfs"):
        raise ValidationError(
            f"the shacl engine has no {inference!r} inference (none or rdfs; "
            "--engine pyshacl offers owlrl and both)"
        )
    import shacl

    try:
        compiled = shacl.Shapes.from_text(shapes_nt, format="ntriples")
        if isinstance(data_nt, str):
            report = compiled.validate_text(
                data_nt, format="ntriples", inference=inference, allow_warnings=allow_warnings
            )
        elif isinstance(data_nt, _Files):
            report = _validate_piped(compiled, data_nt, inference=inference,
                                     allow_warnings=allow_warnings)
        else:
            with tempfile.TemporaryDirectory(prefix="kg-validate-") as tmp:
                path = Path(tmp) / "data.nt"
                with path.open("wb") as out:
                    for line in data_nt:
                        out.write(line)
                        out.write(b"\n")
                report = compiled.validate_file(
                    str(path), inference=inference, allow_warnings=allow_warnings
                )
    except OSError as exc:
        raise _tmpdir_error(exc) from None
    except (ValueError, RuntimeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValidationError(f"SHACL validation failed: {first}") from None
    report_graph = Graph()
    report_graph.parse(data=report.serialize("ntriples"), format="nt")
    return _result(report_graph, bool(report.conforms), shapes_graph, allow_warnings)


def _result(
    report_graph: Graph, conforms: bool, shapes_graph: Graph | None, allow_warnings: bool
) -> ValidationResult:
    if shapes_graph is not None:
        for prefix, namespace in shapes_graph.namespaces():
            report_graph.bind(prefix, namespace, override=False)
    counts = Counter(
        report_graph.value(result, SH.resultSeverity) for result in top_results(report_graph)
    )
    return ValidationResult(
        conforms=conforms,
        violations=counts[SH.Violation],
        warnings=counts[SH.Warning],
        infos=counts[SH.Info],
        report_graph=report_graph,
        text=render_text(report_graph, shapes_graph, allow_warnings=allow_warnings),
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
    engine: str = "pyshacl",
) -> ValidationResult:
    """Run pySHACL (or ``engine``) on ``data_graph`` with ``shapes_graph``; the data graph
    is not modified.

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
    if engine not in ENGINES:
        raise ValidationError(f"unknown SHACL engine {engine!r} (one of {', '.join(ENGINES)})")
    if engine == "shacl":
        data_nt = _ntriples(data_graph)
        if ont_graph is not None:
            data_nt += _ntriples(ont_graph)
        return _validate_rs(
            data_nt, _ntriples(shapes_graph), shapes_graph,
            inference=inference, allow_warnings=allow_warnings,
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
    for prefix, namespace in data_graph.namespaces():
        report_graph.bind(prefix, namespace, override=False)
    return _result(report_graph, bool(conforms), shapes_graph, allow_warnings)


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


def _shape(report: Graph, shapes: Graph | None, node: Node, result_path: str = "") -> str:
    if not isinstance(node, BNode):
        return _term(report, node)
    # A blank-node shape has no name; say what it constrains instead.
    if shapes is not None:
        path = shapes.value(node, SH.path)
        if path is not None:
            return f"[property shape on {_path(shapes, path)}]"
    # An engine whose report renames the shapes graph's blank nodes (the shacl engine):
    # the result's path is the shape's path.
    if result_path:
        return f"[property shape on {result_path}]"
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
        path_text = "" if path is None else _path(report, path)
        rows.setdefault(severity, []).append(
            (
                _term(report, report.value(result, SH.focusNode) or Literal("")),
                path_text,
                "" if shape is None else _shape(report, shapes, shape, path_text),
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
