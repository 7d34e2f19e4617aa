"""The project's exceptions: one root, one subclass per stage.

Every error a user can cause (a bad file, a bad option, an unreachable server) is raised as
a :class:`KGError` subclass whose message says what went wrong and where (``file:line``).
The CLI prints it as one line and exits with :attr:`KGError.exit_code`; anything else is a
bug and keeps its traceback.

Exit codes used by ``kg`` (documented in the README):

* 0 success (``kg validate``: the graph conforms)
* 1 the data does not conform (``kg validate``, ``kg build`` with SHACL violations)
* 2 an error: bad input, bad option, unreachable service (every :class:`KGError`)
* 130 interrupted
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "GazetteerError",
    "GiveBackError",
    "KGError",
    "LinksError",
    "LoadError",
    "QueryError",
    "RdfError",
    "ReconcileError",
    "ServeError",
    "SourceError",
    "StoreError",
    "ValidationError",
    "WikidataError",
]


class KGError(Exception):
    """Root of every error reported to a user.

    ``path`` and ``line`` locate the problem; ``str()`` renders ``path:line: message``.
    """

    exit_code: int = 2

    def __init__(
        self, message: str, *, path: str | Path | None = None, line: int | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = None if path is None else str(path)
        self.line = line

    def __str__(self) -> str:
        if self.path is None:
            return self.message
        if self.line is None:
            return f"{self.path}: {self.message}"
        return f"{self.path}:{self.line}: {self.message}"


class SourceError(KGError):
    """A source document cannot be read or parsed at all (missing, not UTF-8, unknown format)."""


class ReconcileError(KGError):
    """Reconciliation failed: bad gazetteer, links table, overrides or Wikidata answer."""


class GazetteerError(ReconcileError):
    """The offline gazetteer is missing, unreadable or damaged."""


class WikidataError(ReconcileError):
    """The live Wikidata API or query service failed or answered something malformed."""


class LinksError(ReconcileError):
    """The links table or the overrides file is malformed."""


class RdfError(KGError):
    """The graph cannot be emitted (bad ontology, unwritable output folder)."""


class ValidationError(KGError):
    """SHACL validation could not run (bad shapes, unreadable graph); not a non-conformance."""


class StoreError(KGError):
    """RDF data cannot be loaded into the embedded store."""


class ServeError(KGError):
    """The SPARQL endpoint cannot start (port in use, bad options)."""


class QueryError(KGError):
    """A named query is unknown, a parameter is malformed, or an endpoint failed."""


class LoadError(KGError):
    """Pushing the graph to an external store over the Graph Store Protocol failed."""


class GiveBackError(KGError):
    """Comparing with Wikidata or writing QuickStatements failed (bad evidence file, an output
    file that exists, an unreadable graph)."""
