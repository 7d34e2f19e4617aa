"""``kg build``: parse both documents, read the links table, emit, validate, write ``dist/``.

:func:`build` is the pipeline. The documents are parsed and emitted in a forked child
(:mod:`kg.forked`) that leaves each named graph's sorted N-Triples lines, and their union,
in a spool folder in TMPDIR (:mod:`kg.rdf.spool`); the build's own process writes every
serialisation from those files as they stream (:class:`~kg.rdf.quads.SpooledQuads`),
then checks them: SHACL with the project's shapes on the written ``twinning.nt`` (or the
spooled union), and JSON-LD through the strict pyoxigraph parser (Turtle, TriG and
N-Triples are checked as they are written: their lines go through that parser on their way
into pyoxigraph's writers, :func:`_checked_as_written`). So the records, the
emitter's indexes, the lines and the SHACL engine's store are never in memory at the same
time (``bench/README.md``). The files and the build manifest (:mod:`kg.manifest`) are
written into a temporary sibling folder, which then takes the output folder's place in
one atomic exchange. A failed build (bad input, SHACL violations, a file that does not
parse) leaves the previous output folder exactly as it was.

The output folder is replaced only if it is missing, empty, or a previous build that holds
nothing its manifest does not list, unchanged (:func:`~kg.manifest.check_output_folder`);
anything else is refused. A ``kill -9`` at any moment leaves the old folder or the new one
complete in place; the ``.NAME.tmp-*`` / ``.NAME.old-*`` siblings it may leave are removed
by the next build into the same folder, if they hold only files a build writes.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import hashlib
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from rdflib import Graph

if TYPE_CHECKING:
    from kg.rdf.emit import EmitStats
    from kg.reconcile.links import LinksTable

from kg import paths
from kg.errors import KGError, RdfError
from kg.manifest import (
    BUILD_FILE_NAMES,
    DEFAULT_FORMATS,
    MANIFEST_NAME,
    MISSING_LINKS_NAME,
    BuildInputs,
    check_output_folder,
    file_digest,
    input_digests,
    is_current,
    manifest_bytes,
    read_manifest,
)
from kg.model import ParseResult
from kg.progress import Progress
from kg.rdf.quads import Quads, SpooledQuads
from kg.rdf.vocab import DEFAULT_BASE, DEFAULT_SPARQL_ENDPOINT
from kg.validate import ValidationResult

__all__ = [
    "DEFAULT_FORMATS",
    "MANIFEST_NAME",
    "MISSING_LINKS_NAME",
    "BuildInputs",
    "BuildResult",
    "BuildViolations",
    "build",
    "is_current",
    "read_manifest",
    "report_turtle",
]


class BuildViolations(KGError):
    """The built graph does not conform to the shapes; the output folder was not touched."""

    exit_code = 1

    def __init__(self, message: str, *, report_text: str) -> None:
        super().__init__(message)
        self.report_text = report_text


@dataclass
class BuildResult:
    """What a build wrote and found."""

    out: Path
    files: dict[str, int] = field(default_factory=dict)
    triples: int = 0
    twinnings: int = 0
    memberships: int = 0
    places: int = 0
    resolved_places: int = 0
    violations: int = 0
    warnings: int = 0
    parse_rejections: int = 0
    parse_warnings: int = 0
    #: place references (doc, role, key, country) with no row in the links table
    missing_links: list[tuple[str, str, str, str]] = field(default_factory=list)
    #: place references of the user's lists settled by the shipped links table (the
    #: default --links: see kg.reconcile.shipped)
    shipped_links: int = 0
    #: where the whole list of ``missing_links`` was written (None when there are none)
    missing_links_file: Path | None = None
    seconds: float = 0.0
    report_text: str = ""
    #: one-line warnings about the output folder's surroundings (a previous build that
    #: could not be removed); the build itself is complete
    notes: list[str] = field(default_factory=list)


def report_turtle(report: Graph, *, base: str) -> bytes:
    """The SHACL report as Turtle with stable bytes: its blank nodes are replaced by IRIs
    ``<base>validation/<hash>`` derived from their canonical labels (RDF canonicalisation,
    RDFC-1.0 by pyoxigraph), so the same report always gives the same file."""
    import pyoxigraph

    from kg.rdf.quads import Quads
    from kg.rdf.serialize import to_turtle

    data = report.serialize(format="nt", encoding="utf-8")
    dataset = pyoxigraph.Dataset(pyoxigraph.parse(data, pyoxigraph.RdfFormat.N_TRIPLES))
    dataset.canonicalize(pyoxigraph.CanonicalizationAlgorithm.RDFC_1_0)

    def iri(term: object) -> object:
        if isinstance(term, pyoxigraph.BlankNode):
            digest = hashlib.sha1(term.value.encode("utf-8")).hexdigest()[:16]
            return pyoxigraph.NamedNode(f"{base}validation/{digest}")
        return term

    lines = {
        f"{pyoxigraph.Triple(iri(q.subject), q.predicate, iri(q.object))} .".encode()  # type: ignore[arg-type]
        for q in dataset
    }
    return to_turtle(Quads({"": lines}), extra_prefixes=(("sh", "http://www.w3.org/ns/shacl#"),))


def _parse_seeds(seeds: Sequence[Path]) -> list[ParseResult]:
    from kg.sources import parse_path

    results = [parse_path(Path(p)) for p in seeds]
    # Document ids name graphs and IRIs, so they must differ (a generic list's id comes
    # from its file name: rename one of two lists with the same name).
    docs = [r.doc for r in results]
    dupes = sorted({d for d in docs if docs.count(d) > 1})
    if dupes:
        files = ", ".join(r.file for r in results if r.doc in dupes)
        raise RdfError(f"more than one seed document with id {', '.join(dupes)} ({files})")
    return results


def _with_shipped(results: list[ParseResult], links: LinksTable) -> tuple[LinksTable, int]:
    """The shipped table plus the places of a user's list it settles exactly (a list built
    without its own ``--links``), and how many those are."""
    from kg.reconcile import complete_from_shipped
    from kg.reconcile.links import LinksTable
    from kg.reconcile.shipped import ShippedLinks

    known = {row.doc for row in links}
    if all(r.doc in known for r in results):
        return links, 0
    shipped = ShippedLinks.load(paths.LINKS_TSV, None, paths.SEED_DOCUMENTS)
    rows, added = complete_from_shipped(results, links, shipped)
    return LinksTable(rows), added


def _absolute(out: Path) -> Path:
    # Absolute without resolving symbolic links: a link given as --out is refused, not followed.
    out = Path(os.path.abspath(out))
    if out.parent == out:
        raise RdfError("cannot use the root folder as the output folder", path=out)
    return out


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    # An advisory lock on the parent folder: two builds into the same place take turns at
    # checking, cleaning and swapping, so one never removes the other's temporary folder.
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _leftover_pattern(out: Path) -> re.Pattern[str]:
    # tempfile.mkdtemp's names: prefix + 8 characters of [a-z0-9_].
    return re.compile(rf"^\.{re.escape(out.name)}\.(?:tmp|old)-[a-z0-9_]{{8}}$")


def _only_build_files(folder: Path) -> bool:
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return False
    return all(
        e.name in BUILD_FILE_NAMES and e.is_file(follow_symlinks=False) for e in entries
    )


def _rmtree(path: Path, notes: list[str]) -> None:
    """Remove the folder ``path`` (a previous or unfinished build); when that fails (a
    folder without write permission, an immutable file), say so in ``notes``: one line
    naming it, the cause and what to do, instead of leaving it without a word."""
    failures: list[BaseException] = []
    shutil.rmtree(path, onerror=lambda _f, _p, exc: failures.append(exc[1]))
    if failures and path.exists():
        first = failures[0]
        cause = (first.strerror if isinstance(first, OSError) else None) or str(first)
        notes.append(f"{path}: a previous build is left there: cannot remove it ({cause}); "
                     "remove it yourself")


def _in_use(path: Path) -> bool:
    """Whether a live build holds the lock of its temporary folder ``path`` (the kernel
    drops the lock of a killed one)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # also releases the lock just taken
    return False


def _remove_leftovers(out: Path, notes: list[str] | None = None) -> list[Path]:
    """Remove the temporary and previous folders an interrupted build into ``out`` left
    beside it: ``.NAME.tmp-*`` / ``.NAME.old-*`` folders holding only files a build writes
    (anything else there is not ours to delete, so such a folder is kept) and not locked by
    a build still running (its temporary folder, being written). Returns them; one that
    cannot be removed is named in ``notes``."""
    pattern = _leftover_pattern(out)
    removed = []
    for entry in os.scandir(out.parent):
        path = Path(entry.path)
        if (pattern.match(entry.name) and entry.is_dir(follow_symlinks=False)
                and _only_build_files(path) and not _in_use(path)):
            _rmtree(path, [] if notes is None else notes)
            removed.append(path)
    return removed


_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def _exchange(a: Path, b: Path) -> bool:
    """Swap the two paths in one atomic step (Linux ``renameat2(RENAME_EXCHANGE)``, through
    ctypes: the standard library has no binding). False where the system or the file
    system cannot; raises ``OSError`` for any other failure."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return False
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def _swap_in(tmp: Path, out: Path, found: frozenset[str] | None,
             notes: list[str] | None = None) -> None:
    """Put the complete folder ``tmp`` at ``out``, where :func:`check_output_folder` found
    ``found``; the previous folder is then removed (named in ``notes`` if it cannot be),
    unless something appeared in it meanwhile: then it is put back and :class:`RdfError`
    raised."""
    if found is None:
        # Fails (and changes nothing) if a non-empty folder or a file appeared at `out`.
        os.rename(tmp, out)
        return
    if _exchange(tmp, out):
        # One step: `out` is the new folder, `tmp` now holds the previous one.
        old = tmp

        def put_back() -> None:
            _exchange(old, out)
    else:
        # Two renames; a kill between them leaves `out` missing and the previous build
        # complete in `.NAME.old-*` (the next build removes it).
        old = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.old-"))
        old.rmdir()
        os.rename(out, old)
        try:
            os.rename(tmp, out)
        except BaseException:
            os.rename(old, out)
            raise

        def put_back() -> None:
            os.rename(out, tmp)
            os.rename(old, out)
    if not set(os.listdir(old)) <= found:
        put_back()
        shutil.rmtree(tmp, ignore_errors=True)
        raise RdfError("a file appeared in the output folder during the build; it was left "
                       "as it was", path=out)
    _rmtree(old, [] if notes is None else notes)


def _prepare(out: Path) -> None:
    """Before the build: remove leftovers of interrupted builds into ``out`` and check that
    ``out`` may be replaced, so a refusal comes at once. Raises :class:`RdfError`."""
    if not out.parent.is_dir():
        check_output_folder(out)
        return
    try:
        with _locked(out.parent):
            _remove_leftovers(out)
            check_output_folder(out)
    except OSError as exc:
        from kg.fsutil import os_error_text

        msg = f"cannot prepare the output folder: {os_error_text(exc)}"
        raise RdfError(msg, path=out) from None


@contextmanager
def _staging(out: Path) -> Iterator[Path]:
    """A fresh temporary sibling folder of ``out`` to write the build into, locked (flock)
    for as long as this build runs, so another build's cleanup of leftovers leaves it alone;
    removed if anything fails. Made under the parent folder's lock, after removing the
    leftovers of interrupted builds. Raises ``OSError``."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with _locked(out.parent):
        _remove_leftovers(out)
        tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.tmp-"))
        fd = os.open(tmp, os.O_RDONLY | os.O_DIRECTORY)
        fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        os.close(fd)


def _finish(tmp: Path, out: Path, notes: list[str],
            on_commit: Callable[[], None] | None = None) -> None:
    """Swap the complete folder ``tmp`` in at ``out`` (see :func:`_swap_in`), under the
    parent folder's lock, after checking again that ``out`` may be replaced; ``on_commit``
    is called just before the swap. What cannot be cleaned up goes into ``notes``. Raises
    :class:`RdfError` (``out`` unchanged) or ``OSError``."""
    with _locked(out.parent):
        _remove_leftovers(out, notes)
        found = check_output_folder(out)
        tmp.chmod(0o755)
        if on_commit is not None:
            on_commit()
        _swap_in(tmp, out, found, notes)


def _write_output(out: Path, outputs: dict[str, bytes], manifest: bytes,
                  on_commit: Callable[[], None] | None = None) -> list[str]:
    """Write ``outputs`` and the manifest into a temporary sibling folder of ``out``, then
    swap it in (see :func:`_swap_in`), under the lock, after removing leftovers of
    interrupted builds; ``on_commit`` is called just before the swap. Returns one-line notes
    on what could not be cleaned up. Raises
    :class:`RdfError` if ``out`` may not be replaced or the folder cannot be written
    (the cause and what to do, :func:`~kg.fsutil.os_error_text`); ``out`` is then
    unchanged."""
    notes: list[str] = []
    try:
        with _staging(out) as tmp:
            for name, data in sorted(outputs.items()):
                (tmp / name).write_bytes(data)
            # The manifest last: a temporary folder holding one is complete.
            (tmp / MANIFEST_NAME).write_bytes(manifest)
            _finish(tmp, out, notes, on_commit)
    except OSError as exc:
        from kg.fsutil import os_error_text

        msg = f"cannot write the output folder: {os_error_text(exc)}; it is unchanged"
        raise RdfError(msg, path=out) from None
    return notes


def _write_missing_links(path: Path, rows: Sequence[tuple[str, str, str, str]]) -> None:
    # Tab-separated, one place reference a line, with a header; fields never hold a tab or
    # a newline (they come from parsed cells and table keys), but are made safe anyway.
    def cell(text: str) -> str:
        return " ".join(text.split())

    with path.open("w", encoding="utf-8", newline="\n") as handle:
        handle.write("doc\trole\tkey\tcountry\n")
        for row in rows:
            handle.write("\t".join(cell(field) for field in row) + "\n")


_SPOOL_PREFIX = "kg-emit-"


def _spool_folder(cleanup: list[Callable[[], None]]) -> Path:
    """A fresh spool folder in TMPDIR, locked (flock) while this build runs; its removal is
    appended to ``cleanup``. Spool folders of builds killed before their cleanup (unlocked:
    the kernel drops a dead process's lock) are removed first: one holds about twice
    ``twinning.nt``. Raises :class:`RdfError`."""
    root = Path(tempfile.gettempdir())
    try:
        for entry in os.scandir(root):
            path = Path(entry.path)
            if (entry.name.startswith(_SPOOL_PREFIX) and entry.is_dir(follow_symlinks=False)
                    and not _in_use(path)):
                shutil.rmtree(path, ignore_errors=True)
        spool = Path(tempfile.mkdtemp(prefix=_SPOOL_PREFIX))
        fd = os.open(spool, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as exc:
        raise RdfError(f"cannot make a spool folder in {root} (TMPDIR): "
                       f"{exc.strerror or exc}; set TMPDIR to a folder with room") from None
    fcntl.flock(fd, fcntl.LOCK_EX)

    def remove() -> None:
        shutil.rmtree(spool, ignore_errors=True)
        os.close(fd)

    cleanup.append(remove)
    return spool


@dataclass
class _Emitted:
    """What the parsing and emitting process gives back (:func:`_parse_and_emit`)."""

    graphs: dict[str, Path]  # each graph's sorted lines, by graph IRI
    union: Path  # their union, sorted
    stats: EmitStats
    missing: list[tuple[str, str, str, str]]
    parse_rejections: int
    parse_warnings: int
    shipped_links: int


def _parse_and_emit(seeds: Sequence[Path], links_path: Path, base: str, stage: Progress,
                    spool: Path) -> tuple[_Emitted, SpooledQuads]:
    """Parse the documents, read the links table and emit, in a forked child
    (:mod:`kg.forked`), which leaves each graph's sorted lines and their union in files in
    ``spool`` (:mod:`kg.rdf.spool`): the dataset the writers stream from. The records, the
    table, the emitter's indexes and the lines never live in this process. Raises
    :class:`~kg.errors.SourceError`, :class:`~kg.errors.LinksError`, :class:`RdfError` (a
    document id used twice, the spool: TMPDIR, ``sort``)."""
    from kg.forked import run_forked
    from kg.rdf.emit import emit_lines
    from kg.rdf.spool import LineSets, merge_files
    from kg.reconcile.links import missing_rows, read_links

    def work() -> _Emitted:
        results = _parse_seeds(seeds)
        links = read_links(links_path)
        shipped_links = 0
        if links_path == paths.LINKS_TSV:
            links, shipped_links = _with_shipped(results, links)
        missing = missing_rows(results, links)
        rejections = sum(len(r.rejections) for r in results)
        warnings = sum(len(r.warnings) for r in results)
        stage("emitting the graph")
        sets = LineSets(spool)
        names, stats = emit_lines(results, links, sets, base=base,
                                  links_file=links_path.name, consume=True)
        del results, links  # emptied; gone before the lines are sorted
        files = sets.finish_files(list(names))
        union = spool / "union.nt"
        merge_files([files[doc] for doc in names], union)
        return _Emitted({names[doc]: files[doc] for doc in names}, union, stats, missing,
                        rejections, warnings, shipped_links)

    emitted = run_forked(work, what="the build's parsing and emitting process")
    return emitted, SpooledQuads(emitted.graphs, emitted.union)


def _write_and_check(
    ds: Quads, formats: Sequence[str], tmp: Path, out: Path, stage: Progress, *,
    parallel: bool, validated: Callable[[Path | None], ValidationResult],
    small: Callable[[ValidationResult, dict[str, int], Path | None], dict[str, bytes]],
) -> ValidationResult:
    """Write the serialisations of ``ds`` into ``tmp``, validate, write the ``small`` files
    (VoID and the reports, given the result, the files' sizes and the written N-Triples
    file or ``None``) and read back strictly every RDF file not checked as it was written
    (:func:`_checked_as_written`).

    When N-Triples are among the formats, the lines of ``ds`` are released once the
    N-Triples, Turtle and TriG files are written (:meth:`Quads.release`): JSON-LD is then
    made from ``twinning.nt`` and ``validated`` is given that file, so the validator's store
    never sits beside the lines; otherwise ``validated`` gets ``None`` (validate ``ds``) and
    ``ds`` is left as it is. With ``parallel`` and N-Triples among the formats, a forked
    second process (:mod:`kg.buildjob`) makes the JSON-LD file from ``twinning.nt`` and
    checks it while this one writes the rest and validates. Raises :class:`BuildViolations`,
    :class:`RdfError`, ``OSError``."""
    from kg.buildjob import Check, check_written, start
    from kg.forked import Forked
    from kg.rdf.serialize import write_format, write_jsonld
    from kg.rdf.syntax import check_bytes

    triples = len(ds)
    expected = {fmt: sum(ds.graph_sizes().values()) if fmt == "trig" else triples
                for fmt in formats}
    nt = tmp / "twinning.nt" if "nt" in formats else None
    reread = [fmt for fmt in formats if fmt not in _checked_as_written(formats)]
    # N-Triples first (the second process and the JSON-LD writer read it), JSON-LD last
    # (made from that file once the lines are released).
    order = sorted(formats, key=lambda f: (f != "nt", nt is not None and f == "jsonld"))
    side: Forked[None] | None = None
    by_side: set[str] = set()
    try:
        for fmt in order:
            if fmt in by_side:
                continue
            name = f"twinning.{fmt}"
            if nt is not None and fmt == "jsonld":
                ds.release()  # Turtle and TriG are written: the lines are no longer needed
                stage.counting(f"writing {name}", triples, "triples")
                with (tmp / name).open("wb") as handle:
                    write_jsonld(nt, handle, spool_dir=tmp, counted=stage.advance)
                continue
            stage.counting(f"writing {name}", triples, "triples")
            with (tmp / name).open("wb") as handle:
                try:
                    write_format(ds, fmt, handle, spool_dir=tmp, counted=stage.advance)
                except SyntaxError as exc:
                    raise _not_strict(exc, out) from None
            if fmt == "nt" and parallel:
                by_side = {"nt", "jsonld"} & set(formats)
                checks = [Check(str(tmp / f"twinning.{f}"), f, expected[f],
                                str(out / f"twinning.{f}")) for f in sorted(by_side)
                          if f in reread]
                jsonld = tmp / "twinning.jsonld" if "jsonld" in by_side else None
                side = start(tmp / name, jsonld, tmp, checks)
        if nt is not None:
            ds.release()
        stage("validating (SHACL)")
        result = validated(nt)
        if not result.conforms:
            raise BuildViolations(
                f"the graph has {result.violations} SHACL violation(s); {out} left unchanged",
                report_text=result.text,
            )
        for fmt in reread:
            if fmt not in by_side:
                stage(f"checking twinning.{fmt}")
                check_written(tmp / f"twinning.{fmt}", fmt, expected[fmt],
                              out / f"twinning.{fmt}")
        if side is not None:
            stage("writing JSON-LD and checking (second process)")
            side.result()
            side = None
    except BaseException:
        if side is not None:
            side.kill()
        raise
    sizes = {fmt: (tmp / f"twinning.{fmt}").stat().st_size for fmt in formats}
    stage("writing VoID and the reports")
    for name, data in small(result, sizes, nt).items():
        if name.endswith(".ttl"):
            check_bytes(data, "ttl", path=out / name)
        (tmp / name).write_bytes(data)
    return result


def _checked_as_written(formats: Sequence[str]) -> set[str]:
    """The formats whose files need no strict re-parse: Turtle and TriG are written by
    pyoxigraph's writers from terms its strict parser read (each graph's lines, as they
    stream in), and N-Triples are those same lines, when one of the two was written
    (tests/rdf/test_writers_by_construction.py: what these writers write parses strictly
    back to the same graph). JSON-LD, the project's own writer, is always read back."""
    written_by_pyoxigraph = {"ttl", "trig"} & set(formats)
    return written_by_pyoxigraph | ({"nt"} if written_by_pyoxigraph else set())


def _usable_cores() -> int:
    # The cores this process may run on (its affinity, where the system has one).
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _not_strict(exc: SyntaxError, out: Path) -> RdfError:
    # The lines are parsed strictly on their way into the writers: what the build made and
    # the parser refuses is a bug, said as such.
    return RdfError(f"the emitted graph does not parse strictly ({exc}): a bug in kg, "
                    f"please report it; {out} left unchanged")


def build(
    *,
    out: Path = paths.DIST_DIR,
    formats: Sequence[str] = DEFAULT_FORMATS,
    base: str = DEFAULT_BASE,
    links_path: Path = paths.LINKS_TSV,
    seeds: Sequence[Path] = paths.SEED_DOCUMENTS,
    shapes_dir: Path = paths.SHAPES_DIR,
    ontology: Path = paths.ONTOLOGY,
    sparql_endpoint: str = DEFAULT_SPARQL_ENDPOINT,
    on_commit: Callable[[], None] | None = None,
    odbl_coordinates: Path | None = paths.ODBL_COORDINATES_TSV,
    progress: bool | None = None,
    parallel: bool | None = None,
) -> BuildResult:
    """Build the graph and write it to ``out`` (atomically, as a whole folder).

    Writes ``twinning.<fmt>`` for each of ``formats``, the ODbL coordinates of the table
    ``odbl_coordinates`` (none if ``None``) as ``twinning-geo-odbl.<fmt>`` (a dataset of
    their own, :mod:`kg.rdf.odbl`), the ``owl:sameAs`` linkset ``twinning-sameas.nt``,
    ``void.ttl``, ``validation-report.ttl``,
    ``validation-report.txt``, ``missing-links.tsv`` when some place references have no row
    in the links table, and ``manifest.json`` (:mod:`kg.manifest`). Returns counts and
    the report text (warnings included). ``out`` must be missing, empty or a previous build
    (see :func:`~kg.manifest.check_output_folder`); leftovers of interrupted builds into it
    are removed. ``on_commit`` is called at the point of no return, just before the new
    folder takes the old one's place (the CLI stops treating Ctrl-C as an interruption
    there, :mod:`kg.interrupt`). ``progress``: show the progress line on stderr (None: when
    it is a terminal). ``parallel``: write JSON-LD and check it in a forked second process
    (see :mod:`kg.buildjob`); None (the default): when the build may run on two cores or
    more (on an idle 2-core machine it takes a fifth off the wall time, on the seeds and
    at 10^5 twinnings alike: ``bench/README.md``).
    Raises :class:`BuildViolations` (exit code 1) when the graph has SHACL violations,
    :class:`~kg.errors.SourceError` / :class:`~kg.errors.LinksError` for bad input,
    :class:`~kg.errors.RdfError` for an unknown format, a base that is not an absolute
    IRI, a file that does not parse strictly, an output folder it may not replace (checked
    first, before any work) or cannot write; ``out`` is unchanged in every case.
    """
    from kg.fsutil import os_error_text
    from kg.rdf.odbl import add_odbl_void, odbl_dumps, odbl_quads
    from kg.rdf.serialize import (
        FORMATS,
        SAMEAS_LINKSET_NAME,
        UnionStats,
        add_sameas_void,
        sameas_linkset,
        to_turtle,
        void_graph,
    )
    from kg.rdf.syntax import check_bytes
    from kg.reconcile.odbl_coordinates import read_odbl_table
    from kg.validate import validate_ntriples_files

    started = time.perf_counter()
    out = Path(out)
    target = _absolute(out)
    _prepare(target)  # refuse at once, not after the whole build (checked again at the end)
    inputs = BuildInputs(
        seeds=tuple(Path(p) for p in seeds), links=Path(links_path), ontology=Path(ontology),
        shapes_dir=Path(shapes_dir), formats=tuple(dict.fromkeys(formats)), base=base,
        sparql_endpoint=sparql_endpoint, odbl=odbl_coordinates,
    )
    if not base.startswith(("http://", "https://")) or not base.endswith(("/", "#")):
        raise RdfError(f"base IRI must be http(s) and end with / or #: {base!r}")
    formats = list(dict.fromkeys(formats))
    unknown = [f for f in formats if f not in FORMATS]
    if unknown:
        raise RdfError(f"unknown format(s) {', '.join(unknown)} (known: {', '.join(FORMATS)})")
    stage = Progress("kg build", enabled=progress)
    files: dict[str, int] = {}
    notes: list[str] = []
    cleanup: list[Callable[[], None]] = []  # the spool folder, whatever happens
    try:  # the progress line is cleared whatever happens, before any message
        stage("parsing the documents")
        spool = _spool_folder(cleanup)
        emitted, ds = _parse_and_emit(seeds, Path(links_path), base, stage, spool)
        stats = emitted.stats
        stage("finding the ODbL coordinates")
        odbl = odbl_quads(ds.union_file, [] if odbl_coordinates is None
                          else read_odbl_table(Path(odbl_coordinates)), base=base)
        odbl_files: dict[str, bytes] = {}  # small: a few hundred triples
        graph_triples = ds.graph_sizes()

        def small(result: ValidationResult, sizes: dict[str, int],
                  nt: Path | None) -> dict[str, bytes]:
            # VoID's counts and the owl:sameAs linkset, with a fixed predicate (no parse
            # needed), from the written N-Triples when there are, else the spooled union.
            union = UnionStats.of(nt or ds.union_file, base, graphs=graph_triples)
            linkset = sameas_linkset(nt or ds.union_file)
            void = void_graph(union, base=base, files=sizes, sparql_endpoint=sparql_endpoint)
            add_sameas_void(void, base=base, linkset=linkset)
            add_odbl_void(void, odbl, base=base, files=odbl_files,
                          sparql_endpoint=sparql_endpoint)
            return {SAMEAS_LINKSET_NAME: linkset, "void.ttl": to_turtle(void),
                    "validation-report.ttl": report_turtle(result.report_graph, base=base),
                    "validation-report.txt": result.text.encode("utf-8")}

        def validated(nt: Path | None) -> ValidationResult:
            # The ODbL geometry is validated with the graph it adds to. From the written
            # N-Triples when there are (what is published is what is checked), else the
            # spooled union: the same lines.
            return validate_ntriples_files([nt or ds.union_file], extra=odbl.union,
                                           shapes_dir=shapes_dir, ontology=ontology)

        triples = len(ds)
        if parallel is None:
            parallel = hasattr(os, "fork") and _usable_cores() >= 2
        try:
            with _staging(target) as tmp:
                # Spooled in the staging folder, like the main files, not in TMPDIR.
                try:
                    odbl_files.update(odbl_dumps(odbl, formats, spool_dir=tmp))
                except SyntaxError as exc:
                    raise _not_strict(exc, out) from None
                result = _write_and_check(ds, formats, tmp, out, stage, parallel=parallel,
                                          validated=validated, small=small)
                checked = _checked_as_written(formats)
                for name, data in sorted(odbl_files.items()):
                    fmt = name.rsplit(".", 1)[1]
                    if fmt not in checked:
                        check_bytes(data, fmt, path=out / name)
                    (tmp / name).write_bytes(data)
                if emitted.missing:
                    _write_missing_links(tmp / MISSING_LINKS_NAME, emitted.missing)
                stage("writing the manifest")
                try:
                    digests = input_digests(inputs)  # read above already; a race can remove one
                except OSError as exc:
                    raise RdfError("cannot read an input again for the build manifest: "
                                   f"{exc}") from None
                written = {p.name: file_digest(p) for p in sorted(tmp.iterdir())}
                manifest = manifest_bytes(written, inputs, digests)
                # The manifest last: a temporary folder holding one is complete.
                (tmp / MANIFEST_NAME).write_bytes(manifest)
                files = {name: d.size for name, d in written.items()}
                files[MANIFEST_NAME] = len(manifest)
                _finish(tmp, target, notes, on_commit)
        except OSError as exc:
            msg = f"cannot write the output folder: {os_error_text(exc)}; it is unchanged"
            raise RdfError(msg, path=out) from None
    finally:
        for step in cleanup:
            step()
        stage(None)

    return BuildResult(
        out=out,
        files=dict(sorted(files.items())),
        triples=triples,
        twinnings=stats.twinnings,
        memberships=stats.memberships,
        places=stats.places,
        resolved_places=stats.resolved_places,
        violations=result.violations,
        warnings=result.warnings,
        parse_rejections=emitted.parse_rejections,
        parse_warnings=emitted.parse_warnings,
        missing_links=emitted.missing,
        missing_links_file=out / MISSING_LINKS_NAME if emitted.missing else None,
        shipped_links=emitted.shipped_links,
        seconds=time.perf_counter() - started,
        report_text=result.text,
        notes=notes,
    )
