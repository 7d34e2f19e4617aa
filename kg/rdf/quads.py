"""The emitted dataset as N-Triples lines, made once and shared by every writer.

The emitter makes each triple once, as the N-Triples line pyoxigraph's term formatting gives
it (so escaping is pyoxigraph's), and files it under its named graph in a set (duplicates
merged as they come). :class:`Quads` then sorts each graph's lines once and merges them
into the union once; every writer (N-Triples, Turtle, TriG, JSON-LD, the validators, VoID)
streams from those sorted lines through pyoxigraph's parser. Nothing copies the graph into
rdflib unless a caller asks for it (:meth:`Quads.to_rdflib`, for pySHACL and tests).
``kg build`` holds no line at all: :class:`SpooledQuads` gives the writers the same lines
from sorted files on disk (:mod:`kg.rdf.spool`), read as they stream.

Why lines and not term objects: a UTF-8 line costs about a third of the memory of a
``pyoxigraph.Quad`` (measured: 2 million quads in a set, 1.06 GB as ``Quad`` objects), it
sorts at C speed, and sorted N-Triples lines group a subject's triples together, which is
what pyoxigraph's Turtle and TriG writers need to write compact ``;`` and ``,`` lists.

>>> q = Quads({"http://example.org/g": {b'<http://example.org/s> <http://example.org/p> "x" .'}})
>>> len(q), q.ntriples()
(1, b'<http://example.org/s> <http://example.org/p> "x" .\\n')
"""

from __future__ import annotations

import heapq
import io
from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, NewType

import pyoxigraph

if TYPE_CHECKING:
    import rdflib

__all__ = ["Quads", "SpooledQuads", "Term", "iri", "literal"]

#: An RDF term in N-Triples syntax (``<iri>``, ``"text"@lang``, ``"1"^^<datatype>``).
Term = NewType("Term", str)

_LANGS: dict[str, str] = {}


def iri(value: str) -> Term:
    """``<value>``, checked by pyoxigraph. Raises :class:`ValueError` for an invalid IRI."""
    return Term(str(pyoxigraph.NamedNode(value)))


def literal(value: str | int, *, lang: str | None = None, datatype: str | None = None) -> Term:
    """A literal in N-Triples syntax, its lexical form escaped by pyoxigraph.

    The language tag keeps its BCP 47 case (``zh-Hant``: pyoxigraph would lower-case it).
    Raises :class:`ValueError` for an invalid tag or datatype IRI.
    """
    text = str(value)
    if lang is not None:
        if lang not in _LANGS:
            pyoxigraph.Literal("", language=lang)  # raises ValueError for a bad tag
            _LANGS[lang] = "@" + lang
        return Term(str(pyoxigraph.Literal(text)) + _LANGS[lang])
    if datatype is not None:
        return Term(str(pyoxigraph.Literal(text, datatype=pyoxigraph.NamedNode(datatype))))
    return Term(str(pyoxigraph.Literal(text)))


def _merge_sorted(parts: Iterable[list[bytes]]) -> list[bytes]:
    out: list[bytes] = []
    last = None
    for line in heapq.merge(*parts):
        if line != last:
            out.append(line)
            last = line
    return out


#: Lines per chunk of :meth:`Quads.chunks`: about 1 MB of N-Triples.
_CHUNK_LINES = 8192


class _ChunkReader(io.RawIOBase):
    """A readable binary stream over an iterator of byte chunks, so pyoxigraph's parser
    reads the lines as they are joined, a chunk at a time, never the whole document."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        super().__init__()
        self._chunks = chunks
        self._buffer = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        while not len(self._buffer):
            try:
                self._buffer = memoryview(next(self._chunks))
            except StopIteration:
                return 0
        n = min(len(buffer), len(self._buffer))
        buffer[:n] = self._buffer[:n]
        self._buffer = self._buffer[n:]
        return n


def _join(lines: list[bytes]) -> bytes:
    # One bytes object, the final newline included (``join(...) + b"\\n"`` would copy it).
    return b"\n".join([*lines, b""]) if lines else b""


class Quads:
    """Distinct triples per named graph, as sorted N-Triples lines (bytes, no newline).

    ``graphs`` maps graph IRIs to line sets; they are sorted (and the sets released) here,
    once. :attr:`union` is the set union of every graph, sorted, computed once on first use.
    """

    def __init__(self, graphs: Mapping[str, Iterable[bytes]]) -> None:
        self.graphs: dict[str, list[bytes]] = {}
        for name, lines in sorted(graphs.items()):
            part = list(lines)
            if isinstance(lines, set):
                # Released before sorting: the set's table and the list would otherwise
                # coexist (about 1 GB at 10^6 twinnings).
                lines.clear()
            if part:
                part.sort()
                self.graphs[name] = part

    @cached_property
    def union(self) -> list[bytes]:
        """Every distinct triple of every graph, sorted."""
        if len(self.graphs) == 1:
            return next(iter(self.graphs.values()))
        return _merge_sorted(self.graphs.values())

    def __len__(self) -> int:
        return len(self.union)

    def release(self) -> None:
        """Drop every line: the dataset is empty afterwards. ``kg build`` calls it once the
        lines are written and counted, so the validator's store does not sit beside them."""
        self.graphs = {}
        self.__dict__.pop("union", None)
        self.__dict__.pop("_union_ntriples", None)

    def graph_names(self) -> list[str]:
        """The IRIs of the non-empty named graphs, sorted."""
        return list(self.graphs)

    def graph_sizes(self) -> dict[str, int]:
        """The triples of each non-empty named graph, by IRI, sorted."""
        return {name: len(lines) for name, lines in self.graphs.items()}

    @cached_property
    def _union_ntriples(self) -> bytes:
        return _join(self.union)

    def ntriples(self, name: str | None = None) -> bytes:
        """The union (or graph ``name``) as N-Triples: sorted lines, each ending in ``\\n``,
        in one bytes object (the union's made once): for small graphs and tests. The build's
        writers stream with :meth:`chunks` and :meth:`reader` instead."""
        return self._union_ntriples if name is None else _join(self.graphs[name])

    def chunks(self, name: str | None = None, *,
               counted: Callable[[int], None] | None = None) -> Iterator[bytes]:
        """The union (or graph ``name``) as N-Triples, in chunks of about 1 MB (whole lines,
        each ending in ``\\n``): what a writer streams to disk, never the whole document in
        memory. ``counted`` is called with the number of lines of each chunk (progress)."""
        lines = self.union if name is None else self.graphs[name]
        for start in range(0, len(lines), _CHUNK_LINES):
            part = lines[start : start + _CHUNK_LINES]
            if counted is not None:
                counted(len(part))
            yield b"\n".join([*part, b""])

    def reader(self, name: str | None = None, *,
               counted: Callable[[int], None] | None = None) -> io.BufferedReader:
        """The union (or graph ``name``) as an N-Triples stream (see :meth:`chunks`)."""
        return io.BufferedReader(_ChunkReader(self.chunks(name, counted=counted)), 1 << 20)

    def triples(self, name: str | None = None) -> Iterator[pyoxigraph.Triple]:
        """The union (or graph ``name``) as pyoxigraph triples, in line order (streamed)."""
        for quad in pyoxigraph.parse(self.reader(name), pyoxigraph.RdfFormat.N_TRIPLES):
            yield quad.triple

    def _nquad_chunks(self, counted: Callable[[int], None] | None) -> Iterator[bytes]:
        for name in self.graphs:
            suffix = str(pyoxigraph.NamedNode(name)).encode() + b" ."
            lines = self.graphs[name]
            for start in range(0, len(lines), _CHUNK_LINES):
                part = lines[start : start + _CHUNK_LINES]
                if counted is not None:
                    counted(len(part))
                yield b"\n".join([line[:-1] + suffix for line in part] + [b""])

    def quads(self, *, counted: Callable[[int], None] | None = None) -> Iterator[pyoxigraph.Quad]:
        """Every named graph's triples as quads, graphs in IRI order (streamed): each graph's
        lines become N-Quads lines (the graph name before the final dot) that pyoxigraph
        parses as they are made, so no Python code runs per quad and no graph is joined
        whole. ``counted`` as for :meth:`chunks`."""
        reader = io.BufferedReader(_ChunkReader(self._nquad_chunks(counted)), 1 << 20)
        return iter(pyoxigraph.parse(reader, pyoxigraph.RdfFormat.N_QUADS))

    def default_graph_quads(
        self, *, counted: Callable[[int], None] | None = None
    ) -> Iterator[pyoxigraph.Quad]:
        """The union as quads in the default graph, straight from pyoxigraph's parser (what
        its triple writers accept, with no Python code per triple), streamed."""
        return iter(pyoxigraph.parse(self.reader(counted=counted),
                                     pyoxigraph.RdfFormat.N_TRIPLES))

    def to_rdflib(self, name: str | None = None) -> rdflib.Graph:
        """The union (or graph ``name``) as an :class:`rdflib.Graph` (a copy: for pySHACL
        and tests, not for the build's writers)."""
        import rdflib

        graph = rdflib.Graph()
        graph.parse(data=self.ntriples(name), format="nt")
        return graph


def _file_chunks(path: Path, counted: Callable[[int], None] | None) -> Iterator[bytes]:
    """The file's bytes about 1 MB at a time, cut after a newline (whole lines)."""
    with path.open("rb") as handle:
        rest = b""
        while block := handle.read(1 << 20):
            block = rest + block
            end = block.rfind(b"\n") + 1
            rest = block[end:]
            if end:
                chunk = block[:end]
                if counted is not None:
                    counted(chunk.count(b"\n"))
                yield chunk
        if rest:  # a file kg wrote ends with a newline; one that does not still parses
            if counted is not None:
                counted(1)
            yield rest + b"\n"


class SpooledQuads(Quads):
    """The dataset as files of sorted N-Triples lines, one a named graph and one their
    union (:mod:`kg.rdf.spool`), read as they stream: what ``kg build`` writes from, so
    no line is held in memory. The streaming methods (:meth:`chunks`, :meth:`reader`,
    :meth:`quads`, :meth:`default_graph_quads`, :meth:`triples`) read the files;
    :attr:`graphs` and :attr:`union` (lists of lines) are empty: read :attr:`union_file`.
    The files are the caller's (they must outlive this object's use).
    """

    def __init__(self, graphs: Mapping[str, Path], union: Path) -> None:
        super().__init__({})
        self.graph_files = {name: Path(path) for name, path in sorted(graphs.items())}
        self.union_file = Path(union)

    @cached_property
    def _sizes(self) -> dict[str, int]:
        sizes = {}
        for name, path in self.graph_files.items():
            count = sum(chunk.count(b"\n") for chunk in _file_chunks(path, None))
            if count:
                sizes[name] = count
        return sizes

    @property
    def union(self) -> list[bytes]:
        """Not held: read :attr:`union_file`. Raises :class:`TypeError`."""
        raise TypeError("a SpooledQuads holds no lines in memory: read its union_file")

    def __len__(self) -> int:
        return sum(self._sizes.values())

    def graph_names(self) -> list[str]:
        """The IRIs of the non-empty named graphs, sorted."""
        return list(self._sizes)

    def graph_sizes(self) -> dict[str, int]:
        """The triples of each non-empty named graph, by IRI, sorted."""
        return dict(self._sizes)

    def ntriples(self, name: str | None = None) -> bytes:
        """The union (or graph ``name``) as N-Triples, read whole: for tests."""
        return (self.union_file if name is None else self.graph_files[name]).read_bytes()

    def chunks(self, name: str | None = None, *,
               counted: Callable[[int], None] | None = None) -> Iterator[bytes]:
        """The union (or graph ``name``) as N-Triples, read from its file about 1 MB at a
        time (whole lines)."""
        path = self.union_file if name is None else self.graph_files[name]
        return _file_chunks(path, counted)

    def _nquad_chunks(self, counted: Callable[[int], None] | None) -> Iterator[bytes]:
        for name in self.graph_names():
            suffix = str(pyoxigraph.NamedNode(name)).encode() + b" ."
            for chunk in _file_chunks(self.graph_files[name], counted):
                lines = chunk.split(b"\n")[:-1]  # each chunk ends with a newline
                yield b"\n".join([line[:-1] + suffix for line in lines] + [b""])

    def release(self) -> None:
        """Nothing to release: no line is held."""
