"""The embedded triple store: RDF files loaded into a pyoxigraph :class:`~pyoxigraph.Store`.

Formats are chosen by file extension (:data:`FORMATS`): Turtle, N-Triples, N-Quads, TriG,
JSON-LD (pyoxigraph 0.5 parses JSON-LD itself; remote ``@context`` URLs are not fetched) and
RDF/XML. Triples from the triple formats go to the store's default graph; the quad formats
(N-Quads, TriG, JSON-LD named graphs) keep their graph names. Relative IRIs in a file resolve
against the file's own ``file:`` URI.

The store lives in memory by default, or on disk in a folder (RocksDB). ``kg`` writes only
into a folder that is missing, empty, or that it made itself (it leaves a marker file,
:data:`MARKER`, there); a folder holding anything else (the user's own Oxigraph store, other
files) is refused and left untouched. :func:`prepare_store` makes the store ``kg serve``
serves: on disk, its default graph the set union of the named graphs, reused as it is
when it was made from the same files (same SHA-256), so a restart skips the load.

>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "a.ttl").write_text("<http://ex/a> <http://ex/p> 1 .")
>>> len(load_store([folder / "a.ttl"]))
1
"""

from __future__ import annotations

import fcntl
import gc
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pyoxigraph as ox

from kg.errors import StoreError

__all__ = [
    "FORMATS",
    "LOCK",
    "MARKER",
    "ServedStore",
    "format_for",
    "load_files",
    "load_memory",
    "load_store",
    "open_store",
    "prepare_store",
    "union_default_graph",
]

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
#: The file by which ``kg`` recognises a store folder it made (JSON: state, input files'
#: SHA-256, triple count). A folder without it is never written to or cleared.
MARKER = ".kg-store.json"
#: A lock file in our store folder, held (flock) by the ``kg serve`` that serves it.
LOCK = ".kg-store.lock"
_MADE_BY = "kg (twinning-kg)"
#: Bumped when the store's layout changes, so that an older store is reloaded, not reused.
_LAYOUT = 2


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


def _marker(location: Path) -> dict[str, Any] | None:
    """Our marker in ``location``, or ``None`` if there is none (or it is not ours)."""
    try:
        data = json.loads((location / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("made_by") == _MADE_BY else None


def _write_marker(location: Path, data: dict[str, Any]) -> None:
    # Written to a temporary name and renamed: a crash never leaves half a marker.
    tmp = location / (MARKER + ".tmp")
    tmp.write_text(json.dumps({"made_by": _MADE_BY, **data}, indent=1) + "\n",
                   encoding="utf-8")
    os.replace(tmp, location / MARKER)


def _claim(location: Path) -> bool:
    """Make sure ``location`` is ours to write: create it if missing, mark it if empty.

    Returns whether it already held a store we made. Raises :class:`StoreError` (and
    touches nothing) if it is a file, or a non-empty folder that we did not make.
    """
    if location.exists() and not location.is_dir():
        raise StoreError("the store folder is a file, not a folder", path=location)
    if location.is_dir():
        if _marker(location) is not None:
            return True
        try:
            entries = sorted(p.name for p in location.iterdir())
        except OSError as exc:
            raise StoreError(f"cannot read the store folder: {exc}", path=location) from exc
        if entries:
            what = ("an Oxigraph (RocksDB) store" if "CURRENT" in entries
                    else f"{len(entries)} file(s), e.g. {entries[0]}")
            raise StoreError(f"the store folder is not empty and was not made by kg ({what}); "
                             "it is left untouched: give a new or empty folder",
                             path=location)
    try:
        location.mkdir(parents=True, exist_ok=True)
        _write_marker(location, {"state": "empty"})
    except OSError as exc:
        raise StoreError(f"cannot create the store folder: {exc}", path=location) from exc
    return False


def open_store(location: Path | None = None) -> ox.Store:
    """A new empty store: in memory, or on disk in the folder ``location``.

    The folder must be missing, empty, or a store this function made before (recognised
    by its marker file :data:`MARKER`; it is emptied). Anything else is refused: a store
    or files that ``kg`` did not make are never cleared or written among.

    Raises :class:`StoreError` for such a folder, or if it cannot be opened (not
    writable, or locked by another process).
    """
    if location is None:
        return ox.Store()
    ours = _claim(location)
    try:
        store = ox.Store(str(location))
        if ours:
            store.clear()
        _write_marker(location, {"state": "loading"})
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
        _load_one(store.load, path, fmt)
    return len(store)


def _load_one(load: Any, path: Path, fmt: ox.RdfFormat) -> None:
    """``load(path=..., format=..., base_iri=...)`` (``Store.load`` or ``bulk_load``) for
    one file, its failures as :class:`StoreError` with ``file:line``."""
    try:
        load(path=str(path), format=fmt, base_iri=path.resolve().as_uri())
    except SyntaxError as exc:
        message = exc.msg if exc.msg else str(exc)
        if "LoadDocumentCallback" in message:
            message = "remote JSON-LD @context documents are not fetched; inline the context"
        raise StoreError(f"bad {fmt.name} data: {message}", path=path,
                         line=_syntax_line(exc)) from exc
    except (OSError, ValueError) as exc:
        raise StoreError(f"cannot load {fmt.name} data: {exc}", path=path) from exc


def load_store(files: Sequence[Path], *, location: Path | None = None) -> ox.Store:
    """A store holding exactly ``files`` (see the module docstring), in memory or on disk
    at ``location`` (which :func:`open_store` must accept).

    Raises :class:`StoreError` as :func:`open_store` and :func:`load_files` do.
    """
    store = open_store(location)
    load_files(store, files)
    if location is not None:
        store.optimize()
        _write_marker(location, {"state": "loaded"})
    return store


def union_default_graph(store: ox.Store) -> None:
    """Add every triple of every named graph to the store's default graph, once: the
    default graph becomes the set union of the graphs (a triple in two graphs counts
    once, unlike Oxigraph's ``use_default_graph_as_union``, which repeats it).

    Raises :class:`StoreError` if the store cannot be written.
    """
    default = ox.DefaultGraph()
    try:
        # The iterator reads a snapshot, so the triples added meanwhile are not read back;
        # bulk_extend streams them to disk without a transaction held in memory.
        store.bulk_extend(ox.Quad(q.subject, q.predicate, q.object, default)
                          for q in store.quads_for_pattern(None, None, None, None)
                          if q.graph_name != default)
    except OSError as exc:
        raise StoreError(f"cannot write the store: {exc}") from exc


def load_memory(files: Sequence[Path]) -> tuple[ox.Store, int]:
    """An in-memory store holding ``files`` for serving, its default graph the set union
    of all graphs, and that default graph's number of triples.

    The files are read by pyoxigraph's bulk loader; the union is one SPARQL update run by
    pyoxigraph (about as long as the load again, and only when there are named graphs).
    Raises :class:`StoreError` as :func:`load_files` does.
    """
    store = ox.Store()
    for path in files:
        fmt = format_for(path)
        if not path.is_file():
            raise StoreError("no such RDF file", path=path)
        _load_one(store.bulk_load, path, fmt)
    if next(store.named_graphs(), None) is None:
        return store, len(store)
    before = len(store)
    plain = next(iter(store.quads_for_pattern(None, None, None, ox.DefaultGraph())), None)
    store.update("INSERT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }")
    if plain is None:  # every default triple came from the named graphs, once each
        return store, len(store) - before
    return store, _count_default(store)


def _digest(files: Sequence[Path]) -> list[dict[str, Any]]:
    out = []
    for path in files:
        if not path.is_file():
            raise StoreError("no such RDF file", path=path)
        sha = hashlib.sha256()
        try:
            with path.open("rb") as handle:
                for chunk in iter(lambda: handle.read(1 << 20), b""):
                    sha.update(chunk)
        except OSError as exc:
            raise StoreError(f"cannot read: {exc}", path=path) from exc
        out.append({"name": path.name, "bytes": path.stat().st_size,
                    "sha256": sha.hexdigest()})
    return out


@dataclass(frozen=True, slots=True)
class ServedStore:
    """An on-disk store ready to be opened read-only (:meth:`pyoxigraph.Store.read_only`)
    by any number of processes: its folder, its number of distinct triples (the default
    graph), whether it was reused as it was, and whether it is a temporary folder that
    :meth:`remove` deletes. ``lock`` is the open lock file that keeps another ``kg serve``
    from reloading the folder while this one serves it."""

    path: Path
    triples: int
    reused: bool
    temporary: bool
    lock: IO[bytes] | None = field(default=None, compare=False, repr=False)

    def remove(self) -> None:
        """Release the folder: unlock it, and delete it if it is a temporary one this
        module made (a folder given by the user stays)."""
        if self.lock is not None:
            self.lock.close()  # closing releases the flock
        if self.temporary:
            shutil.rmtree(self.path, ignore_errors=True)


def _lock(location: Path) -> IO[bytes]:
    """An exclusive lock on our store folder, held while the returned file is open.

    Raises :class:`StoreError` if another process holds it.
    """
    try:
        handle = (location / LOCK).open("ab")
    except OSError as exc:
        raise StoreError(f"cannot lock the store folder: {exc}", path=location) from exc
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        handle.close()
        raise StoreError("the store folder is in use by another kg serve", path=location) \
            from exc
    return handle


def prepare_store(files: Sequence[Path], location: Path | None = None) -> ServedStore:
    """Load ``files`` into an on-disk store whose default graph is the set union of all
    graphs (:func:`union_default_graph`), for serving read-only.

    ``location`` ``None``: a new temporary folder (:meth:`ServedStore.remove` deletes it).
    Otherwise the folder must be missing, empty or made by this function: a store made
    for the same files (same SHA-256, recorded in its marker file :data:`MARKER`) is reused
    without loading; one made for other files is emptied and reloaded; anything else is
    refused (see :func:`open_store`).

    Raises :class:`StoreError` for a refused folder, bad data (``file:line``) or a store
    that cannot be written.
    """
    digest = _digest(files)
    temporary = location is None
    if location is None:
        location = Path(tempfile.mkdtemp(prefix="kg-serve-store-"))
    lock = None
    try:
        if not temporary:
            _claim(location)  # refuses, untouched, a folder we did not make
            lock = _lock(location)
            marker = _marker(location)
            if (marker is not None and marker.get("state") == "ready"
                    and marker.get("layout") == _LAYOUT and marker.get("inputs") == digest
                    and isinstance(marker.get("triples"), int)):
                return ServedStore(location, int(marker["triples"]), True, False, lock)
        store = open_store(location)
        load_files(store, files)
        union_default_graph(store)
        store.optimize()
        triples = _count_default(store)
        store.flush()
        del store  # closes RocksDB, so that read-only openers see every write
        gc.collect()
        _write_marker(location, {"state": "ready", "layout": _LAYOUT, "inputs": digest,
                                 "triples": triples})
    except BaseException:
        if lock is not None:
            lock.close()
        if temporary:
            shutil.rmtree(location, ignore_errors=True)
        raise
    return ServedStore(location, triples, False, temporary, lock)


def _count_default(store: ox.Store) -> int:
    result: Any = store.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    for row in result:
        return int(row[0].value)
    return 0
