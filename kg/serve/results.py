"""Result writers that state a cut: SELECT solutions in the four SPARQL results formats,
triples in the RDF formats, and the cut of an answer pyoxigraph wrote with one row too
many.

A SELECT is evaluated once, with a ``LIMIT`` of the row cap plus one, and written by
pyoxigraph. When that extra row came back, the answer is cut to the cap without evaluating
the query again: the last record is cut off the written text (TSV, CSV), or the written
answer is read back and written again with the cut stated (JSON, XML: the mark belongs in
their head). A cut answer says so: in JSON and XML as a ``link`` in the head (and, in JSON,
a top-level ``"truncated"`` member); in every format by the HTTP headers
``X-Result-Truncated`` and ``X-Result-Limit``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import IO, Any
from xml.sax.saxutils import escape as xml_escape
from xml.sax.saxutils import quoteattr

import pyoxigraph as ox

from kg.rdf import vocab
from kg.serve.formats import rdf_format, results_format

__all__ = ["PREFIXES", "count_rows", "cut_bytes", "cut_rows", "serialize_graph",
           "serialize_solutions", "write_solutions"]

_XSD_STRING = str(vocab.XSD) + "string"
_CHUNK = 1 << 20

#: Prefixes written in Turtle answers: the graph's own, and the service description's.
PREFIXES: dict[str, str] = {**dict(vocab.PREFIXES),
                            "sd": "http://www.w3.org/ns/sparql-service-description#"}


def _json_term(term: Any) -> dict[str, Any]:
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Literal):
        out: dict[str, Any] = {"type": "literal", "value": term.value}
        if term.language:
            out["xml:lang"] = term.language
        elif term.datatype.value != _XSD_STRING:
            out["datatype"] = term.datatype.value
        return out
    if isinstance(term, ox.Triple):
        return {"type": "triple", "value": {
            "subject": _json_term(term.subject), "predicate": _json_term(term.predicate),
            "object": _json_term(term.object)}}
    raise TypeError(f"unexpected term {term!r}")


def _xml_term(term: Any) -> str:
    if isinstance(term, ox.NamedNode):
        return f"<uri>{xml_escape(term.value)}</uri>"
    if isinstance(term, ox.BlankNode):
        return f"<bnode>{xml_escape(term.value)}</bnode>"
    if isinstance(term, ox.Literal):
        if term.language:
            return (f"<literal xml:lang={quoteattr(term.language)}>"
                    f"{xml_escape(term.value)}</literal>")
        if term.datatype.value != _XSD_STRING:
            return (f"<literal datatype={quoteattr(term.datatype.value)}>"
                    f"{xml_escape(term.value)}</literal>")
        return f"<literal>{xml_escape(term.value)}</literal>"
    if isinstance(term, ox.Triple):
        return (f"<triple><subject>{_xml_term(term.subject)}</subject><predicate>"
                f"{_xml_term(term.predicate)}</predicate><object>{_xml_term(term.object)}"
                "</object></triple>")
    raise TypeError(f"unexpected term {term!r}")


def _csv_cell(term: Any) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.BlankNode):
        text = f"_:{term.value}"
    elif isinstance(term, ox.NamedNode | ox.Literal):
        text = term.value
    else:
        text = str(term)
    if any(ch in text for ch in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


def _tsv_cell(term: Any) -> str:
    # N-Triples syntax, which escapes tabs and newlines inside literals.
    return "" if term is None else str(term)


def write_solutions(variables: Sequence[str], rows: Iterable[Sequence[Any]], fmt: str,
                    *, truncated_at: int | None = None) -> Iterator[str]:
    """SELECT results (``rows`` of terms or ``None``, in ``variables`` order) as ``json``,
    ``xml``, ``csv`` or ``tsv`` text, piece by piece (``rows`` is read lazily).
    ``truncated_at`` (the row cap, when it cut the results) is stated in the JSON and XML
    heads as a ``link`` and, in JSON, as a top-level ``"truncated"`` member.

    Raises :class:`ValueError` for another ``fmt``.
    """
    link = f"urn:x-kg:truncated?limit={truncated_at}" if truncated_at is not None else None
    if fmt == "json":
        head: dict[str, Any] = {"vars": list(variables)}
        if link:
            head["link"] = [link]
        yield '{"head":' + json.dumps(head, separators=(",", ":"))
        if truncated_at is not None:
            # Before "results": pyoxigraph's parser (streaming) wants nothing after them.
            yield ',"truncated":' + json.dumps(
                {"limit": truncated_at,
                 "message": f"results cut at {truncated_at} rows by the server's limits"},
                separators=(",", ":"))
        yield ',"results":{"bindings":['
        for i, row in enumerate(rows):
            binding = {name: _json_term(term) for name, term in zip(variables, row, strict=True)
                       if term is not None}
            yield ("," if i else "") + json.dumps(binding, ensure_ascii=False,
                                                  separators=(",", ":"))
        yield "]}}"
    elif fmt == "xml":
        yield ('<?xml version="1.0" encoding="UTF-8"?>\n'
               '<sparql xmlns="http://www.w3.org/2005/sparql-results#"><head>'
               + "".join(f"<variable name={quoteattr(name)}/>" for name in variables)
               + (f"<link href={quoteattr(link)}/>" if link else "") + "</head><results>")
        for row in rows:
            yield ("<result>" + "".join(
                f"<binding name={quoteattr(name)}>{_xml_term(term)}</binding>"
                for name, term in zip(variables, row, strict=True) if term is not None)
                + "</result>")
        yield "</results></sparql>\n"
    elif fmt == "csv":
        yield ",".join(variables) + "\r\n"
        for row in rows:
            yield ",".join(_csv_cell(term) for term in row) + "\r\n"
    elif fmt == "tsv":
        yield "\t".join(f"?{name}" for name in variables) + "\n"
        for row in rows:
            yield "\t".join(_tsv_cell(term) for term in row) + "\n"
    else:
        raise ValueError(f"unknown results format {fmt!r}")


def serialize_solutions(variables: Sequence[str], rows: Sequence[Sequence[Any]], fmt: str,
                        *, truncated_at: int | None = None) -> bytes:
    """:func:`write_solutions` as one UTF-8 document."""
    return "".join(write_solutions(variables, rows, fmt,
                                   truncated_at=truncated_at)).encode("utf-8")


def serialize_graph(triples: Iterable[ox.Triple], media: str,
                    output: IO[bytes] | None = None) -> bytes:
    """``triples`` in the RDF format of ``media`` (a key of
    :data:`kg.serve.formats.GRAPH_TYPES`), returned, or written to ``output`` (then
    ``b""`` is returned)."""
    fmt = rdf_format(media)
    prefixes = PREFIXES if fmt is ox.RdfFormat.TURTLE else None
    if output is not None:
        ox.serialize(triples, output, format=fmt, prefixes=prefixes)
        return b""
    return ox.serialize(list(triples), format=fmt, prefixes=prefixes) or b""


# --- counting and cutting a written answer ---------------------------------------------------

def _chunks(handle: IO[bytes]) -> Iterator[bytes]:
    handle.seek(0)
    while chunk := handle.read(_CHUNK):
        yield chunk


def count_rows(handle: IO[bytes], fmt: str, at_most: int) -> int:
    """How many rows the written answer in ``handle`` holds (``fmt``: ``tsv`` and ``xml``
    exactly; ``csv`` and ``json`` an upper bound, exact when it is at most ``at_most``
    and the answer was written by pyoxigraph)."""
    if fmt == "xml":
        # "<result>" cannot occur inside a value (its "<" is escaped); a mark cut across
        # two chunks is found by keeping the chunk's last 7 bytes.
        total, tail = 0, b""
        for chunk in _chunks(handle):
            total += (tail + chunk).count(b"<result>")
            tail = chunk[-7:]
        return total
    if fmt in ("tsv", "csv"):
        # TSV escapes line breaks in values; a quoted CSV value may hold one: an upper
        # bound, which cut_rows makes exact.
        return sum(chunk.count(b"\n") for chunk in _chunks(handle)) - 1
    # JSON: every row is an object, so "{" counts bound it.
    return sum(chunk.count(b"{") for chunk in _chunks(handle))


def cut_rows(handle: IO[bytes], fmt: str, max_rows: int) -> bool:
    """Cut the answer pyoxigraph wrote in ``handle`` (a seekable file) to its first
    ``max_rows`` rows, stating the cut; returns whether it held more (and was cut).

    TSV and CSV lose their last record (the query had a ``LIMIT`` of ``max_rows + 1``);
    JSON and XML are read back with pyoxigraph's parser and written again by
    :func:`write_solutions`, whose head states the cut.
    """
    if count_rows(handle, fmt, max_rows) <= max_rows:
        return False
    if fmt in ("tsv", "csv"):
        return _cut_last_record(handle, fmt, max_rows)
    handle.seek(0)
    parsed: Any = ox.parse_query_results(handle.read(),
                                        format=ox.QueryResultsFormat.from_media_type(
                                            "application/sparql-results+" + fmt))
    variables = [v.value for v in parsed.variables]
    width = range(len(variables))
    rows = [[row[i] for i in width] for _, row in zip(range(max_rows + 1), parsed, strict=False)]
    if len(rows) <= max_rows:
        return False
    handle.seek(0)
    handle.truncate()
    for piece in write_solutions(variables, rows[:max_rows], fmt, truncated_at=max_rows):
        handle.write(piece.encode("utf-8"))
    handle.flush()
    return True


def _cut_last_record(handle: IO[bytes], fmt: str, max_rows: int) -> bool:
    """Drop the last record of a TSV/CSV answer if it has ``max_rows + 1`` records."""
    handle.seek(0)
    data = handle.read()
    if fmt == "tsv":
        records = data.count(b"\n") - 1
        end = data.rfind(b"\n", 0, len(data) - 1) + 1
    else:
        # A line break ends a CSV record only outside quotes: where the number of '"'
        # before it is even (a doubled "" inside a quoted value counts twice).
        ends = [i + 1 for i in _csv_record_ends(data)]
        records = len(ends) - 1
        end = ends[-2] if len(ends) >= 2 else len(data)
    if records <= max_rows:
        return False
    handle.seek(end)
    handle.truncate()
    handle.flush()
    return True


def _csv_record_ends(data: bytes) -> list[int]:
    ends, quotes, at = [], 0, 0
    while (nl := data.find(b"\n", at)) != -1:
        quotes += data.count(b'"', at, nl)
        if quotes % 2 == 0:
            ends.append(nl)
        at = nl + 1
    return ends


# --- the byte cap on one answer ---------------------------------------------------------------

def cut_bytes(handle: IO[bytes], form: str, fmt: str, media: str, cap: int,
              make: Callable[[], IO[bytes]]) -> IO[bytes] | None:
    """The answer in ``handle`` cut at a row (or triple) boundary to at most ``cap`` bytes,
    still a whole document: ``None`` if it already fits, else the file holding the cut
    answer (``handle`` itself for CSV/TSV, cut in place; otherwise a new file from
    ``make``). ``form`` is ``solutions`` or ``graph``; ``fmt`` the short name of a results
    format (``json``, ``xml``, ``csv``, ``tsv``); ``media`` the graph media type.
    """
    size = handle.seek(0, os.SEEK_END)
    if size <= cap:
        return None
    handle.seek(0)
    if form == "solutions" and fmt in ("csv", "tsv"):
        data = handle.read(cap)
        # The header line stays even if the cap is smaller than it.
        ends = _csv_record_ends(data) if fmt == "csv" else [data.rfind(b"\n")]
        end = ends[-1] + 1 if ends and ends[-1] >= 0 else 0
        handle.seek(end)
        handle.truncate()
        return handle
    data = handle.read()
    items: list[Any]
    if form == "solutions":
        parsed: Any = ox.parse_query_results(data, format=results_format(
            "application/sparql-results+" + fmt))
        variables = [v.value for v in parsed.variables]
        width = range(len(variables))
        items = [[row[i] for i in width] for row in parsed]
    else:
        variables = []
        items = [quad.triple for quad in ox.parse(data, format=rdf_format(media))]
    del data
    count = max(int(len(items) * cap / size * 0.95), 0)
    while True:
        out = make()
        if form == "solutions":
            for piece in write_solutions(variables, items[:count], fmt, truncated_at=count):
                out.write(piece.encode("utf-8"))
        else:
            serialize_graph(items[:count], media, out)
        if out.seek(0, os.SEEK_END) <= cap or count == 0:
            return out
        out.close()
        count = int(count * 0.9)
