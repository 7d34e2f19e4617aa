"""Strict RDF syntax check with pyoxigraph (no lenient mode, IRIs and literals validated).

The check reads a whole document and keeps nothing: it answers "does this parse?" and, when
not, says where. It is the project's conformance parser: the W3C Turtle and N-Triples suites
run through it, and every file ``kg build`` writes must pass it.

>>> check_bytes(b'<http://example.org/a> <http://example.org/b> "c"@en .', "nt")
1
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import BinaryIO

import pyoxigraph
import rdflib
from rdflib.namespace import XSD

from kg.errors import RdfError
from kg.fsutil import check_regular_file

__all__ = [
    "FORMATS",
    "RdfSyntaxError",
    "check_bytes",
    "check_file",
    "parse_quads",
    "read_graph",
    "to_rdflib_graph",
]

#: Format names (and file extensions) the check understands, mapped to pyoxigraph formats.
FORMATS: dict[str, pyoxigraph.RdfFormat] = {
    "turtle": pyoxigraph.RdfFormat.TURTLE,
    "ttl": pyoxigraph.RdfFormat.TURTLE,
    "ntriples": pyoxigraph.RdfFormat.N_TRIPLES,
    "nt": pyoxigraph.RdfFormat.N_TRIPLES,
    "nquads": pyoxigraph.RdfFormat.N_QUADS,
    "nq": pyoxigraph.RdfFormat.N_QUADS,
    "trig": pyoxigraph.RdfFormat.TRIG,
    "json-ld": pyoxigraph.RdfFormat.JSON_LD,
    "jsonld": pyoxigraph.RdfFormat.JSON_LD,
    "rdfxml": pyoxigraph.RdfFormat.RDF_XML,
    "rdf": pyoxigraph.RdfFormat.RDF_XML,
    "xml": pyoxigraph.RdfFormat.RDF_XML,
}

# pyoxigraph prefixes its messages with the position it also gives as attributes.
_POSITION_PREFIX = re.compile(r"^Parser error\b[^:]*:\s*")


class RdfSyntaxError(RdfError):
    """A document is not valid RDF in its format; ``str()`` is ``path:line:column: message``.

    ``line`` and ``column`` are 1-based and ``None`` when the parser gave no position
    (JSON-LD and RDF/XML errors often have none).
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        super().__init__(message, path=path, line=line)
        self.column = column

    def __str__(self) -> str:
        where = [part for part in (self.path, self.line, self.column) if part is not None]
        if not where:
            return self.message
        return ":".join(str(part) for part in where) + ": " + self.message


def _format(fmt: str | pyoxigraph.RdfFormat | None, path: Path | None) -> pyoxigraph.RdfFormat:
    if isinstance(fmt, pyoxigraph.RdfFormat):
        return fmt
    name = fmt if fmt is not None else (path.suffix.lstrip(".") if path is not None else "")
    found = FORMATS.get(name.lower())
    if found is None:
        where = f" for {path}" if path is not None else ""
        known = ", ".join(sorted(FORMATS))
        raise RdfError(f"unknown RDF format {name!r}{where} (known: {known})")
    return found


def parse_quads(
    data: bytes,
    format: str | pyoxigraph.RdfFormat,
    *,
    base_iri: str | None = None,
    path: str | Path | None = None,
    rename_blank_nodes: bool = False,
) -> list[pyoxigraph.Quad]:
    """Parse ``data`` strictly and return its quads (triples are quads in the default graph).

    ``path`` only names the source in error messages; ``rename_blank_nodes`` gives blank
    nodes fresh ids, so the quads of two documents can be merged without clashes.
    Raises :class:`RdfSyntaxError` (an :class:`~kg.errors.RdfError`) on invalid data, with
    the line and column pyoxigraph reports, and :class:`~kg.errors.RdfError` for an unknown
    format.
    """
    rdf_format = _format(format, None)
    try:
        return list(
            pyoxigraph.parse(
                data, rdf_format, base_iri=base_iri, rename_blank_nodes=rename_blank_nodes
            )
        )
    except SyntaxError as exc:
        message = _POSITION_PREFIX.sub("", exc.msg or str(exc)) or "invalid syntax"
        raise RdfSyntaxError(
            f"invalid {rdf_format.name}: {message}",
            path=path,
            line=exc.lineno,
            column=exc.offset,
        ) from None
    except ValueError as exc:  # e.g. a base IRI that is not an IRI
        raise RdfError(f"cannot parse {rdf_format.name}: {exc}", path=path) from None


def check_bytes(
    data: bytes | BinaryIO,
    format: str | pyoxigraph.RdfFormat,
    base_iri: str | None = None,
    *,
    path: str | Path | None = None,
) -> int:
    """Check that ``data`` (bytes, or a binary file opened at its start, read as it
    streams) is valid RDF in ``format``; return its number of quads.

    ``format`` is a name from :data:`FORMATS` (``"ttl"``, ``"nt"``, ``"trig"``, ``"jsonld"``…)
    or a :class:`pyoxigraph.RdfFormat`. ``base_iri`` resolves relative IRIs; without it a
    relative IRI is an error, as in N-Triples. ``path`` only names the source in messages.
    Raises :class:`RdfSyntaxError` with ``line``/``column`` when the data is invalid and
    :class:`~kg.errors.RdfError` for an unknown format.
    """
    rdf_format = _format(format, None)
    if rdf_format == pyoxigraph.RdfFormat.JSON_LD:
        # A document in the streaming JSON-LD profile's form (as kg build writes it) is read
        # as it streams; pyoxigraph's general JSON-LD parser holds a whole "@graph" (1.7 GB
        # for a 174 MB file). Any other document goes to the general parser.
        try:
            return sum(1 for _ in pyoxigraph.parse(
                data, pyoxigraph.RdfFormat.STREAMING_JSON_LD, base_iri=base_iri
            ))
        except (SyntaxError, ValueError):
            if not isinstance(data, bytes):
                data.seek(0)
    count = 0
    try:
        # Counted as they stream: a list of every quad would cost ~500 bytes a quad.
        for _ in pyoxigraph.parse(data, rdf_format, base_iri=base_iri):
            count += 1
    except SyntaxError as exc:
        message = _POSITION_PREFIX.sub("", exc.msg or str(exc)) or "invalid syntax"
        raise RdfSyntaxError(
            f"invalid {rdf_format.name}: {message}", path=path, line=exc.lineno, column=exc.offset
        ) from None
    except ValueError as exc:
        raise RdfError(f"cannot parse {rdf_format.name}: {exc}", path=path) from None
    return count


def check_file(
    path: Path, format: str | pyoxigraph.RdfFormat | None = None, *, base_iri: str | None = None
) -> int:
    """Check that the file at ``path`` is valid RDF; return its number of quads.

    ``format`` defaults to the one its extension names (``.ttl``, ``.nt``, ``.trig``,
    ``.jsonld``, ``.nq``, ``.rdf``). ``base_iri`` defaults to the file's ``file:`` URI, so
    relative IRIs resolve as a reader of the file would.
    Raises :class:`RdfSyntaxError` (``path:line:column: message``) for invalid data and
    :class:`~kg.errors.RdfError` when the file cannot be read or its format is unknown.
    """
    path = Path(path)
    data, rdf_format, base = _read(path, format, base_iri)
    return check_bytes(data, rdf_format, base, path=path)


def _read(path: Path, format: str | pyoxigraph.RdfFormat | None,
          base_iri: str | None) -> tuple[bytes, pyoxigraph.RdfFormat, str]:
    """The file's bytes, its format (given or from the extension) and its base IRI (given,
    or the file's ``file:`` URI). Raises :class:`~kg.errors.RdfError` as :func:`check_file`."""
    rdf_format = _format(format, path)
    # Regular files only: a FIFO or a device (a shapes file, a graph) would block or never end.
    check_regular_file(path, RdfError, "RDF file", missing="cannot read: No such file or directory")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise RdfError(f"cannot read: {exc.strerror or exc}", path=path) from None
    return data, rdf_format, base_iri if base_iri is not None else path.resolve().as_uri()


def _term(term: object) -> rdflib.term.Node:
    if isinstance(term, pyoxigraph.NamedNode):
        return rdflib.URIRef(term.value)
    if isinstance(term, pyoxigraph.BlankNode):
        return rdflib.BNode(term.value)
    if isinstance(term, pyoxigraph.Literal):
        if term.language is not None:
            return rdflib.Literal(term.value, lang=term.language)
        # RDF 1.1: "x" and "x"^^xsd:string are one term; rdflib spells it without datatype.
        if term.datatype.value == str(XSD.string):
            return rdflib.Literal(term.value)
        return rdflib.Literal(term.value, datatype=rdflib.URIRef(term.datatype.value))
    raise RdfError(f"unsupported RDF term {term!r} (RDF-star is not used here)")


def to_rdflib_graph(quads: list[pyoxigraph.Quad]) -> rdflib.Graph:
    """Merge ``quads`` (every graph name) into one rdflib graph, keeping blank-node labels.

    Raises :class:`~kg.errors.RdfError` for a term rdflib cannot hold (an RDF-star triple).
    """
    graph = rdflib.Graph()
    for quad in quads:
        graph.add((_term(quad.subject), _term(quad.predicate), _term(quad.object)))
    return graph


def read_graph(
    path: Path, format: str | pyoxigraph.RdfFormat | None = None, *, base_iri: str | None = None
) -> rdflib.Graph:
    """Read the RDF file at ``path`` strictly and return it as one rdflib graph.

    Same checks, defaults and errors as :func:`check_file`; the named graphs of a dataset
    format are merged and blank nodes get fresh ids (files can be merged safely). The
    file's ``@prefix`` declarations are bound in the graph when the format is Turtle or TriG.
    """
    path = Path(path)
    data, rdf_format, base = _read(path, format, base_iri)
    quads = parse_quads(data, rdf_format, base_iri=base, path=path, rename_blank_nodes=True)
    graph = to_rdflib_graph(quads)
    if rdf_format in (pyoxigraph.RdfFormat.TURTLE, pyoxigraph.RdfFormat.TRIG):
        for prefix, namespace in _PREFIX.findall(data.decode("utf-8", errors="replace")):
            if _ABSOLUTE.match(namespace):
                graph.bind(prefix, namespace, override=False)
    return graph


# Only used to carry readable prefixes over; the parse above already validated the file.
_PREFIX = re.compile(r"(?im)^\s*@?prefix\s+([A-Za-z][\w.-]*)?:\s*<([^>\s]*)>")
_ABSOLUTE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
