"""The embedded triple store: RDF files loaded into a pyoxigraph :class:`~pyoxigraph.Store`.

Formats are chosen by file extension (:data:`FORMATS`): Turtle, N-Triples, N-Quads, TriG,
JSON-LD (pyoxigraph 0.5 parses JSON-LD itself; remote ``@context`` URLs are not fetched) and
RDF/XML. Triples from the triple formats go to the store's default graph; the quad formats
(N-Quads, TriG, JSON-LD named graphs) keep their graph names. Relative IRIs in a file resolve
against the file's own ``file:`` URI.

The store lives in memory by default, or on disk in a folder (RocksDB) that is cleared and
reloaded, so it always holds exactly the given files.

>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "a.ttl").write_text("<http://ex/a> <http://ex/p> 1 .")
>>> len(load_store([folder / "a.ttl"]))
1
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import pyoxigraph as ox

from kg.errors import StoreError

__all__ = ["FORMATS", "format_for", "load_files", "load_store", "open_store"]

#: File extensions (lower case, with the dot) and the RDF format each is read as.
FORMATS: dict[str, ox.RdfFormat] = {
    ".ttl": ox.RdfFormat.TURTLE,
    ".turtle": ox.RdfFormat.TURTLE,
    ".nt": ox.RdfFormat.N_TRIPLES,
    ".ntriples": ox.RdfFormat.N_TRIPLES,
    ".nq": ox.RdfFormat.N_QUADS,
    ".nquads": ox.RdfFormat.N_QUADS,
    ".trig": ox.RdfFormat.TRIG,
    ".jsonld": ox.RdfFormat.JSON_LD,
    ".json": ox.RdfFormat.JSON_LD,
    ".rdf": ox.RdfFormat.RDF_XML,
    ".owl": ox.RdfFormat.RDF_XML,
    ".xml": ox.RdfFormat.RDF_XML,
}


def format_for(path: Path) -> ox.RdfFormat:
    """The RDF format of ``path`` from its extension (a trailing ``.gz`` is not supported).

    Raises :class:`StoreError` for an unknown extension.
    """
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        known = " ".join(sorted(FORMATS))
        raise StoreError(f"unknown RDF file extension {path.suffix!r} (known: {known})",
                         path=path)
    return fmt


def open_store(location: Path | None = None) -> ox.Store:
    """A new empty store: in memory, or on disk in the folder ``location`` (created if
    missing, emptied if it holds data).

    Raises :class:`StoreError` if the folder cannot be opened (not writable, or locked by
    another process).
    """
    if location is None:
        return ox.Store()
    try:
        location.mkdir(parents=True, exist_ok=True)
        store = ox.Store(str(location))
        store.clear()
    except OSError as exc:
        raise StoreError(f"cannot open the store folder: {exc}", path=location) from exc
    return store


def _syntax_line(exc: SyntaxError) -> int | None:
    # pyoxigraph raises SyntaxError(message, (file, line, column, text, end_line, end_col)).
    if exc.lineno is not None:
        return int(exc.lineno)
    return None


def load_files(store: ox.Store, files: Iterable[Path]) -> int:
    """Load each file into ``store`` and return the number of quads the store then holds.

    Each file is loaded atomically (a file with an error adds nothing). Raises
    :class:`StoreError` with ``file:line`` on bad data, or naming the file when it is
    missing, unreadable or of an unknown format.
    """
    for path in files:
        fmt = format_for(path)
        if not path.is_file():
            raise StoreError("no such RDF file", path=path)
        try:
            store.load(path=str(path), format=fmt, base_iri=path.resolve().as_uri())
        except SyntaxError as exc:
            message = exc.msg if exc.msg else str(exc)
            if "LoadDocumentCallback" in message:
                message = "remote JSON-LD @context documents are not fetched; inline the context"
            raise StoreError(f"bad {fmt.name} data: {message}", path=path,
                             line=_syntax_line(exc)) from exc
        except (OSError, ValueError) as exc:
            raise StoreError(f"cannot load {fmt.name} data: {exc}", path=path) from exc
    return len(store)


def load_store(files: Sequence[Path], *, location: Path | None = None) -> ox.Store:
    """A store holding exactly ``files`` (see the module docstring), in memory or on disk
    at ``location``.

    Raises :class:`StoreError` as :func:`open_store` and :func:`load_files` do.
    """
    store = open_store(location)
    load_files(store, files)
    if location is not None:
        store.optimize()
    return store
