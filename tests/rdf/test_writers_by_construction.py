"""The Turtle, TriG and N-Triples writers cannot write what the strict parser rejects.

``kg build`` does not read these three files back (issue 21: the re-parse cost a tenth of a
10^5 build): their terms come from pyoxigraph's strict parser (each graph's lines are parsed
as they stream into the writers) and pyoxigraph's writers write them; the project only puts
its prefix header first and gives Chinese language tags their BCP 47 case. These properties
check the whole path on hostile terms: every file parses strictly (the build's own
:func:`~kg.rdf.syntax.check_bytes`) and holds exactly the triples, or quads, it was given.
The JSON-LD writer is the project's own code: the build still reads it back.
"""

from __future__ import annotations

import io

import pyoxigraph as ox
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kg.errors import RdfError
from kg.rdf.quads import Quads
from kg.rdf.serialize import write_format
from kg.rdf.syntax import check_bytes
from kg.rdf.vocab import PREFIXES

# IRIs under the project's namespaces (so the writers abbreviate them) and elsewhere, with
# the characters an IRI may hold that Turtle must escape or cannot put in a local name.
_NAMESPACES = [ns for _, ns in PREFIXES] + ["http://example.org/", "urn:x:", "https://例え.jp/",
                                           "wd:", "skos:"]  # a scheme named as a prefix
_IRI_TEXT = st.text(
    alphabet=st.sampled_from([*"aZ09_-.~%:/?#[]@!$&'()*+,;=", "é", "東", "\U0001f600"]),
    max_size=12,
).filter(lambda t: "%" not in t or t.endswith("%41"))


def _iri(namespace: str, local: str) -> ox.NamedNode | None:
    try:
        return ox.NamedNode(namespace + local)
    except ValueError:  # not an IRI: the strict parser refused it before any writer
        return None


_IRIS = st.builds(_iri, st.sampled_from(_NAMESPACES), _IRI_TEXT).filter(
    lambda node: node is not None)
# Literal text with quotes, backslashes, line breaks, controls and the bytes that look like
# a language tag after a quote (what the BCP 47 re-casing must leave alone).
_PIECES = st.one_of(
    st.sampled_from(['"', "\\", "\n", "\r", "\t", "\x00", "\x7f", "'", "@", "#", "<", ">",
                     '"@zh-hant', '\\"@zh-hans', '"""', "'''", "東", "\U0001f600"]),
    st.text(st.characters(codec="utf-8"), max_size=3),
)
_TEXT = st.lists(_PIECES, max_size=8).map("".join)
_TAGS = st.sampled_from(["en", "zh", "zh-hant", "zh-Hant", "zh-hans", "zh-Hans", "ja",
                         "en-GB", "zh-hant-tw", "de-1996"])
_DATATYPES = st.sampled_from([
    "http://www.w3.org/2001/XMLSchema#integer", "http://www.w3.org/2001/XMLSchema#decimal",
    "http://www.w3.org/2001/XMLSchema#gYear", "http://www.w3.org/2001/XMLSchema#date",
    "http://www.opengis.net/ont/geosparql#wktLiteral", "http://example.org/dt",
])
_LITERALS = st.one_of(
    st.builds(ox.Literal, _TEXT),
    st.builds(lambda t, tag: ox.Literal(t, language=tag), _TEXT, _TAGS),
    st.builds(lambda t, dt: ox.Literal(t, datatype=ox.NamedNode(dt)), _TEXT, _DATATYPES),
)
_TRIPLES = st.builds(ox.Triple, _IRIS, _IRIS, st.one_of(_IRIS, _LITERALS))
_GRAPHS = st.sampled_from(["https://w3id.org/twinning-kg/graph/a",
                           "https://w3id.org/twinning-kg/graph/b"])


def _line(triple: ox.Triple) -> bytes:
    # The spooled dataset's line: the triple as N-Triples, as the emitter writes it.
    return f"{triple} .".encode()


def _key(term: object) -> tuple[str, str, str]:
    # Language tags compared without case: the parser lower-cases them, the writers give
    # the Chinese ones their BCP 47 case.
    if isinstance(term, ox.Literal):
        return (term.value, (term.language or "").lower(), term.datatype.value)
    assert isinstance(term, ox.NamedNode)
    return (term.value, "", "")


Row = tuple[tuple[str, str, str], tuple[str, str, str], tuple[str, str, str], str | None]


def _read(data: bytes, fmt: ox.RdfFormat) -> set[Row]:
    return {(_key(q.subject), _key(q.predicate), _key(q.object),
             None if isinstance(q.graph_name, ox.DefaultGraph) else q.graph_name.value)
            for q in ox.parse(data, format=fmt)}


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(_GRAPHS, _TRIPLES), min_size=1, max_size=25))
def test_what_the_writers_write_parses_strictly_back_to_the_same_graph(
    quads: list[tuple[str, ox.Triple]]
) -> None:
    graphs: dict[str, set[bytes]] = {}
    for graph, triple in quads:
        graphs.setdefault(graph, set()).add(_line(triple))
    union = {t for _, t in quads}
    data = Quads(graphs)
    for fmt, parse_as in (("ttl", ox.RdfFormat.TURTLE), ("nt", ox.RdfFormat.N_TRIPLES),
                          ("trig", ox.RdfFormat.TRIG)):
        out = io.BytesIO()
        write_format(data, fmt, out)
        written = out.getvalue()
        count = check_bytes(written, fmt)  # raises on what the strict parser rejects
        expected: set[Row] = (
            {(_key(t.subject), _key(t.predicate), _key(t.object), g) for g, t in quads}
            if fmt == "trig" else
            {(_key(t.subject), _key(t.predicate), _key(t.object), None) for t in union})
        assert _read(written, parse_as) == expected, fmt
        assert count == len(expected), fmt


@settings(max_examples=150, deadline=None)
@given(st.lists(_TRIPLES, min_size=1, max_size=25))
def test_the_jsonld_writer_writes_the_same_graph(triples: list[ox.Triple]) -> None:
    """The project's own JSON-LD writer (compact IRIs, an inline context) on the same
    hostile terms: the strict parser reads back exactly the triples. The build reads this
    file back anyway; this shows it would not need to for what it checks."""
    data = Quads({"https://w3id.org/twinning-kg/graph/a": {_line(t) for t in triples}})
    out = io.BytesIO()
    prefixes = {prefix for prefix, _ in PREFIXES}
    clash = [n.value for t in triples for n in (t.subject, t.predicate, t.object)
             if isinstance(n, ox.NamedNode) and n.value.split(":", 1)[0] in prefixes
             and not n.value.split(":", 1)[1].startswith("//")]
    if clash:
        # wd:x would be read back as http://www.wikidata.org/entity/x: refused, not written
        with pytest.raises(RdfError, match="cannot be written in JSON-LD"):
            write_format(data, "jsonld", out)
        return
    write_format(data, "jsonld", out)
    expected = {(_key(t.subject), _key(t.predicate), _key(t.object), None) for t in triples}
    assert _read(out.getvalue(), ox.RdfFormat.JSON_LD) == expected
