"""The build manifest ``manifest.json``: what a ``kg build`` wrote, from what, with what.

``kg build`` writes it last into its output folder. It lists every file of the folder with
its size and SHA-256, the SHA-256 of every input (seed documents, the League corrections
table, the links table, the ontology, the shapes), the options that shape the output
(formats, base IRI, announced SPARQL endpoint) and the versions of the tool and of the
libraries that write the bytes. It serves three purposes:

* ``kg build`` replaces a non-empty folder only if the manifest recognises it as a previous
  build, holding nothing the manifest does not list, unchanged (:func:`check_output_folder`);
* ``kg serve`` rebuilds ``dist/`` only when it is not current for its inputs
  (:func:`is_current`), and can tell one build from another (:attr:`Manifest.digest`);
* users can check a download (``sha256sum``) and see what it was built from.

It holds no timestamp and no absolute path: the build promises byte-identical output for
identical input, and the manifest is part of the output (the folder's own mtime tells when).
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from kg import __version__, paths
from kg.errors import RdfError
from kg.rdf.vocab import DEFAULT_BASE, DEFAULT_SPARQL_ENDPOINT

__all__ = [
    "BUILD_FILE_NAMES",
    "DEFAULT_FORMATS",
    "KIND",
    "MANIFEST_NAME",
    "MISSING_LINKS_NAME",
    "BuildInputs",
    "FileDigest",
    "InputDigest",
    "Manifest",
    "check_output_folder",
    "file_digest",
    "input_digests",
    "is_current",
    "manifest_bytes",
    "read_manifest",
]

#: The manifest's file name inside the output folder.
MANIFEST_NAME = "manifest.json"
#: The manifest's ``kind``, which tells it from any other ``manifest.json``.
KIND = "twinning-kg build manifest"
_MANIFEST_VERSION = 1
#: The list of place references with no row in the links table, written when there are some.
MISSING_LINKS_NAME = "missing-links.tsv"
#: Formats written when none are named.
DEFAULT_FORMATS: tuple[str, ...] = ("ttl", "nt", "jsonld", "trig")
#: Every file name a build can write (any formats); leftovers are recognised by them.
BUILD_FILE_NAMES = frozenset({
    "twinning.ttl", "twinning.nt", "twinning.jsonld", "twinning.trig", "void.ttl",
    "validation-report.ttl", "validation-report.txt", MISSING_LINKS_NAME, MANIFEST_NAME,
    # The ODbL coordinates, a dataset of their own (kg.rdf.odbl).
    "twinning-geo-odbl.ttl", "twinning-geo-odbl.nt", "twinning-geo-odbl.jsonld",
    "twinning-geo-odbl.trig",
    # The skos:exactMatch links as owl:sameAs, a linkset of its own (kg.rdf.serialize).
    "twinning-sameas.nt",
})
# Libraries whose versions decide the output bytes (serialisers, SHACL engine).
_LIBRARIES = ("pyoxigraph", "rdflib", "pyshacl")
_CHUNK = 1 << 20


def _corrections_default() -> Path:
    from kg.sources.lhc import CORRECTIONS_TSV

    return CORRECTIONS_TSV


@dataclass(frozen=True)
class BuildInputs:
    """Everything a build reads and every option that changes its output."""

    seeds: tuple[Path, ...] = paths.SEED_DOCUMENTS
    links: Path = paths.LINKS_TSV
    ontology: Path = paths.ONTOLOGY
    shapes_dir: Path = paths.SHAPES_DIR
    corrections: Path = field(default_factory=_corrections_default)
    formats: tuple[str, ...] = DEFAULT_FORMATS
    base: str = DEFAULT_BASE
    sparql_endpoint: str = DEFAULT_SPARQL_ENDPOINT
    #: The ODbL coordinates table (kg.rdf.odbl), or None for a build without it.
    odbl: Path | None = paths.ODBL_COORDINATES_TSV

    @classmethod
    def under(cls, root: Path) -> BuildInputs:
        """The project's default inputs in the checkout ``root`` (default options)."""
        seeds = root / "seeds"
        return cls(
            seeds=tuple(seeds / p.name for p in paths.SEED_DOCUMENTS),
            links=seeds / paths.LINKS_TSV.name,
            ontology=root / paths.ONTOLOGY.name,
            shapes_dir=root / paths.SHAPES_DIR.name,
            corrections=seeds / _corrections_default().name,
            odbl=seeds / paths.ODBL_COORDINATES_TSV.name,
        )

    def options(self) -> dict[str, Any]:
        """The options as the manifest records them."""
        return {
            "base": self.base,
            "formats": list(dict.fromkeys(self.formats)),
            "sparql_endpoint": self.sparql_endpoint,
        }

    def files(self) -> list[tuple[str, Path]]:
        """``(role, path)`` of every input file, in a fixed order (shapes: every ``*.ttl`` of
        the shapes folder by name, as validation reads them)."""
        out = [("seed", Path(p)) for p in self.seeds]
        out.append(("corrections", Path(self.corrections)))
        out.append(("links", Path(self.links)))
        out.append(("ontology", Path(self.ontology)))
        if self.odbl is not None:
            out.append(("odbl-coordinates", Path(self.odbl)))
        out.extend(("shape", p) for p in sorted(Path(self.shapes_dir).glob("*.ttl")))
        return out


@dataclass(frozen=True, slots=True)
class FileDigest:
    """Size in bytes and SHA-256 (hex) of one file."""

    size: int
    sha256: str


@dataclass(frozen=True, slots=True)
class InputDigest:
    """One input file: its role (seed, corrections, links, ontology, shape), its name (no
    folder: the manifest must not depend on where the checkout is), size and SHA-256."""

    role: str
    name: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    """A parsed build manifest; :attr:`digest` (SHA-256 of its bytes) identifies the build."""

    version: str
    tool: Mapping[str, Any]
    options: Mapping[str, Any]
    inputs: tuple[InputDigest, ...]
    files: Mapping[str, FileDigest]
    digest: str


def file_digest(path: Path) -> FileDigest:
    """Size and SHA-256 of the regular file ``path``. Raises ``OSError`` if it is
    unreadable or not a regular file (a FIFO or device is never read)."""
    digest = hashlib.sha256()
    size = 0
    # O_NONBLOCK: opening a FIFO must not wait for a writer; fstat then refuses it.
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f"not a regular file: {path}")
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return FileDigest(size, digest.hexdigest())


def input_digests(inputs: BuildInputs) -> tuple[InputDigest, ...]:
    """The digests of every input file of ``inputs``. Raises ``OSError`` if one is
    unreadable (the build itself reports that better)."""
    out = []
    for role, path in inputs.files():
        d = file_digest(path)
        out.append(InputDigest(role, path.name, d.size, d.sha256))
    return tuple(out)


def _tool() -> dict[str, Any]:
    libraries = {}
    for name in _LIBRARIES:
        try:
            libraries[name] = metadata.version(name)
        except metadata.PackageNotFoundError:  # pragma: no cover - all are dependencies
            libraries[name] = "unknown"
    return {"name": "twinning-kg", "version": __version__, "libraries": libraries}


def manifest_bytes(files: Mapping[str, bytes | FileDigest], inputs: BuildInputs,
                   digests: Sequence[InputDigest] | None = None) -> bytes:
    """The manifest of a folder holding ``files`` (name -> bytes, or the digest of a file
    already written, :func:`file_digest`) built from ``inputs``: UTF-8 JSON, keys sorted,
    two-space indent, one final newline (stable bytes).

    ``digests`` are the inputs' digests if already computed (else they are read now;
    ``OSError`` if an input is unreadable).
    """
    listed = {}
    for name, data in sorted(files.items()):
        d = data if isinstance(data, FileDigest) else FileDigest(
            len(data), hashlib.sha256(data).hexdigest())
        listed[name] = {"size": d.size, "sha256": d.sha256}
    doc = {
        "kind": KIND,
        "manifest_version": _MANIFEST_VERSION,
        "tool": _tool(),
        "options": inputs.options(),
        "inputs": [
            {"role": d.role, "name": d.name, "size": d.size, "sha256": d.sha256}
            for d in (input_digests(inputs) if digests is None else digests)
        ],
        "files": listed,
    }
    text = json.dumps(doc, ensure_ascii=False, indent=2, sort_keys=True)
    return (text + "\n").encode("utf-8")


def _parse(data: bytes) -> Manifest:
    doc = json.loads(data.decode("utf-8"))
    if not isinstance(doc, dict) or doc.get("kind") != KIND:
        raise ValueError("not a kg build manifest")
    if doc.get("manifest_version") != _MANIFEST_VERSION:
        raise ValueError(f"manifest version {doc.get('manifest_version')!r} is not known")
    files = {
        str(name): FileDigest(int(entry["size"]), str(entry["sha256"]))
        for name, entry in dict(doc["files"]).items()
    }
    inputs = tuple(
        InputDigest(str(e["role"]), str(e["name"]), int(e["size"]), str(e["sha256"]))
        for e in list(doc["inputs"])
    )
    tool = dict(doc["tool"])
    return Manifest(
        version=str(tool.get("version")),
        tool=tool,
        options=dict(doc["options"]),
        inputs=inputs,
        files=files,
        digest=hashlib.sha256(data).hexdigest(),
    )


def read_manifest(folder: Path) -> Manifest | None:
    """The manifest of the build folder ``folder``; ``None`` if it has no ``manifest.json``
    (or the folder is missing).

    Raises :class:`~kg.errors.RdfError` if the file exists but cannot be read or is not a
    kg build manifest.
    """
    path = Path(folder) / MANIFEST_NAME
    try:
        data = path.read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        raise RdfError(f"cannot read the build manifest: {exc.strerror or exc}",
                       path=path) from None
    try:
        return _parse(data)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise RdfError(f"not a kg build manifest ({exc})", path=path) from None


def _regular(path: Path) -> os.stat_result | None:
    try:
        st = os.lstat(path)
    except OSError:
        return None
    return st if stat.S_ISREG(st.st_mode) else None


def is_current(folder: Path, inputs: BuildInputs | None = None, *, verify: bool = True) -> bool:
    """Whether ``folder`` is a build of exactly ``inputs`` (default: the project's inputs
    and default options) by this version of the tool and its libraries, complete: every
    file its manifest lists is there with its size (and, with ``verify``, its SHA-256).

    Never raises: a missing folder, manifest or input, or a damaged manifest is ``False``.
    """
    inputs = inputs or BuildInputs()
    try:
        manifest = read_manifest(folder)
        if manifest is None:
            return False
        if dict(manifest.tool) != _tool() or dict(manifest.options) != inputs.options():
            return False
        if manifest.inputs != input_digests(inputs):
            return False
        for name, expected in manifest.files.items():
            st = _regular(Path(folder) / name)
            if st is None or st.st_size != expected.size:
                return False
            if verify and file_digest(Path(folder) / name) != expected:
                return False
    except (OSError, RdfError):
        return False
    return True


_REFUSE = "kg build writes only into a missing or empty folder or a previous build"


def check_output_folder(out: Path) -> frozenset[str] | None:
    """Whether the build may replace ``out``: ``None`` if it does not exist, else the
    names it holds (none for an empty folder; a previous build's files otherwise).

    Raises :class:`~kg.errors.RdfError` (one line, why) if ``out`` is a symbolic link, not a
    folder, a non-empty folder without a kg build manifest, or a previous build holding a
    file its manifest does not list, or a listed file changed since the build wrote it:
    the build replaces only what it made.
    """
    try:
        st = os.lstat(out)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise RdfError(f"cannot inspect the output folder: {exc.strerror or exc}",
                       path=out) from None
    if stat.S_ISLNK(st.st_mode):
        raise RdfError(f"is a symbolic link (to {os.readlink(out)!r}); give the folder itself",
                       path=out)
    if not stat.S_ISDIR(st.st_mode):
        raise RdfError(f"exists and is not a folder; {_REFUSE}", path=out)
    try:
        names = frozenset(os.listdir(out))
    except OSError as exc:
        raise RdfError(f"cannot list the output folder: {exc.strerror or exc}",
                       path=out) from None
    if not names:
        return names
    manifest = read_manifest(out)
    if manifest is None:
        raise RdfError(f"is not empty and holds no {MANIFEST_NAME} of a previous build; "
                       f"{_REFUSE} (move its files away or choose another --out)", path=out)
    extra = sorted(names - set(manifest.files) - {MANIFEST_NAME})
    if extra:
        more = f" (and {len(extra) - 1} more)" if len(extra) > 1 else ""
        raise RdfError(f"holds {extra[0]!r}{more}, which the previous build did not write; "
                       "move it away or choose another --out", path=out)
    for name in sorted(names - {MANIFEST_NAME}):
        path = out / name
        try:
            changed = _regular(path) is None or file_digest(path) != manifest.files[name]
        except OSError:
            changed = True
        if changed:
            raise RdfError(f"{name!r} changed since kg build wrote it; move it away or choose "
                           "another --out", path=out)
    return names
