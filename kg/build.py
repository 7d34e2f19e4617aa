"""``kg build``: parse both documents, read the links table, emit, validate, write ``dist/``.

:func:`build` is the pipeline. Everything is made in memory and checked first (SHACL with
the project's shapes, then every file through the strict pyoxigraph parser); the files are
written into a temporary sibling folder, which then replaces the output folder with two
renames. A failed build (bad input, SHACL violations, a file that does not parse) leaves
the previous output folder exactly as it was.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import Graph

from kg import paths
from kg.errors import KGError, RdfError
from kg.model import ParseResult
from kg.rdf.vocab import DEFAULT_BASE, DEFAULT_SPARQL_ENDPOINT

__all__ = [
    "DEFAULT_FORMATS",
    "BuildResult",
    "BuildViolations",
    "build",
    "report_turtle",
]

#: Formats written when none are named.
DEFAULT_FORMATS: tuple[str, ...] = ("ttl", "nt", "jsonld", "trig")


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
    seconds: float = 0.0
    report_text: str = ""


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


class _Progress:
    """One progress line on stderr, rewritten in place, when stderr is a terminal (quiet
    otherwise: logs and pipes get only the final summary)."""

    def __init__(self, command: str) -> None:
        self.command = command
        self.on = sys.stderr.isatty()
        self.started = time.perf_counter()

    def __call__(self, what: str | None) -> None:
        if not self.on:
            return
        if what is None:  # done: clear the line
            sys.stderr.write("\r\x1b[K")
        else:
            elapsed = time.perf_counter() - self.started
            sys.stderr.write(f"\r\x1b[K{self.command}: {what}… ({elapsed:.1f} s)")
        sys.stderr.flush()


def _parse_seeds(seeds: Sequence[Path]) -> list[ParseResult]:
    from kg.sources import parse_path

    results = [parse_path(Path(p)) for p in seeds]
    docs = [r.doc for r in results]
    dupes = sorted({d for d in docs if docs.count(d) > 1})
    if dupes:
        raise RdfError(f"more than one seed document of kind {', '.join(dupes)}")
    return results


def _swap_in(tmp: Path, out: Path) -> None:
    # Two renames: out -> old, tmp -> out; then drop old. A reader sees the old folder or the
    # new one, never a mix; if the second rename fails the old folder is put back.
    old: Path | None = None
    if out.exists():
        old = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.old-"))
        old.rmdir()
        os.replace(out, old)
    try:
        os.replace(tmp, out)
    except BaseException:
        if old is not None:
            os.replace(old, out)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


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
) -> BuildResult:
    """Build the graph and write it to ``out`` (atomically, as a whole folder).

    Writes ``twinning.<fmt>`` for each of ``formats``, ``void.ttl``, ``validation-report.ttl``
    and ``validation-report.txt``. Returns counts and the report text (warnings included).
    Raises :class:`BuildViolations` (exit code 1) when the graph has SHACL violations,
    :class:`~kg.errors.SourceError` / :class:`~kg.errors.LinksError` for bad input,
    :class:`~kg.errors.RdfError` for an unknown format, a base that is not an absolute IRI,
    a file that does not parse strictly, or an output folder that cannot be written;
    ``out`` is unchanged in every case.
    """
    from kg.rdf import emit
    from kg.rdf.serialize import serialize_dataset, to_turtle, void_graph
    from kg.rdf.syntax import check_bytes
    from kg.reconcile.links import read_links
    from kg.validate import validate

    started = time.perf_counter()
    if not base.startswith(("http://", "https://")) or not base.endswith(("/", "#")):
        raise RdfError(f"base IRI must be http(s) and end with / or #: {base!r}")
    formats = list(dict.fromkeys(formats))
    stage = _Progress("kg build")
    try:  # the progress line is cleared whatever happens, before any message
        stage("parsing the documents")
        results = _parse_seeds(seeds)
        links = read_links(Path(links_path))
        stage("emitting the graph")
        ds, stats = emit(results, links, base=base, links_file=Path(links_path).name)
        stage(f"writing {len(ds):,} triples as {', '.join(formats)}")
        files = serialize_dataset(ds, formats)  # raises RdfError for an unknown format
        # The union, made once (sorted N-Triples lines), is what the validator reads.
        stage("validating (SHACL)")
        result = validate(ds, shapes_dir=shapes_dir, ontology=ontology)
    finally:
        stage(None)
    if not result.conforms:
        raise BuildViolations(
            f"the graph has {result.violations} SHACL violation(s); {out} left unchanged",
            report_text=result.text,
        )

    outputs: dict[str, bytes] = {}
    for name, data in files.items():
        outputs[f"twinning.{name}"] = data
    void = void_graph(ds, base=base, files=files, sparql_endpoint=sparql_endpoint)
    outputs["void.ttl"] = to_turtle(void)
    outputs["validation-report.ttl"] = report_turtle(result.report_graph, base=base)
    outputs["validation-report.txt"] = result.text.encode("utf-8")

    for name, data in outputs.items():
        fmt = name.rsplit(".", 1)[1]
        if fmt != "txt":
            check_bytes(data, fmt, path=out / name)

    out = Path(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.tmp-"))
    except OSError as exc:
        msg = f"cannot create the output folder: {exc.strerror or exc}"
        raise RdfError(msg, path=out) from None
    try:
        for name, data in sorted(outputs.items()):
            (tmp / name).write_bytes(data)
        tmp.chmod(0o755)
        _swap_in(tmp, out)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise RdfError(f"cannot write the output folder: {exc.strerror or exc}", path=out) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise

    return BuildResult(
        out=out,
        files={name: len(data) for name, data in sorted(outputs.items())},
        triples=len(ds),
        twinnings=stats.twinnings,
        memberships=stats.memberships,
        places=stats.places,
        resolved_places=stats.resolved_places,
        violations=result.violations,
        warnings=result.warnings,
        parse_rejections=sum(len(r.rejections) for r in results),
        parse_warnings=sum(len(r.warnings) for r in results),
        seconds=time.perf_counter() - started,
        report_text=result.text,
    )
