"""What a query worker runs: the guards, one evaluation, and the answer written where the
server can stream it from.

:func:`execute` never raises: a refusal or failure is returned as ``(status, message)``.
An answer up to :data:`INLINE_BYTES` travels back whole (and may be cached); a longer one
is written to an unlinked temporary file whose descriptor is handed to the server
(:class:`Spool`), which streams it to the socket in chunks: neither the worker nor the
server holds a long answer in memory, and the worker is free as soon as it is written.
"""

from __future__ import annotations

import io
import re
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import IO, Any, cast

import pyoxigraph as ox

from kg.serve.formats import ASK_TYPES, GRAPH_TYPES, SELECT_TYPES, negotiate, results_format
from kg.serve.results import cut_bytes, cut_rows, serialize_graph
from kg.sparql import Outline, outline, tokenize

__all__ = ["INLINE_BYTES", "Job", "Outcome", "Spool", "chain_length", "execute", "guard"]

#: Answers up to this many bytes travel back through the pipe; longer ones in a file.
INLINE_BYTES = 256 * 1024

_SHORT = {"application/sparql-results+json": "json", "application/json": "json",
          "application/sparql-results+xml": "xml", "application/xml": "xml",
          "text/xml": "xml", "text/csv": "csv", "text/tab-separated-values": "tsv"}


@dataclass(frozen=True, slots=True)
class Job:
    """A query for a worker process: the operation, the ``Accept`` header and the limits
    that the worker checks before the store sees the query."""

    query: str
    default_graphs: tuple[str, ...]
    named_graphs: tuple[str, ...]
    base_iri: str | None
    accept: str | None
    max_rows: int
    max_depth: int
    max_chain: int
    allowed_services: frozenset[str]
    max_answer_bytes: int = 0


@dataclass(frozen=True, slots=True)
class Outcome:
    """An answer: its form (``solutions``, ``boolean``, ``graph``), its media type
    (``None``: nothing in ``Accept`` fits the form, 406), the body when it is short, or
    ``spooled`` when it waits in a file (handed over beside it), its length in bytes and
    the row cap when it cut the answer."""

    form: str
    media: str | None
    body: bytes = b""
    spooled: bool = False
    size: int = 0
    truncated_at: int | None = None
    bytes_cap: int | None = None


class Spool(io.RawIOBase):
    """A writable buffer that moves to an unlinked temporary file past ``INLINE_BYTES``."""

    def __init__(self, limit: int = INLINE_BYTES) -> None:
        super().__init__()
        self.limit = limit
        self.file: IO[bytes] = io.BytesIO()
        self.on_disk = False

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        written = self.file.write(data)
        if not self.on_disk and self.file.tell() > self.limit:
            self.spill()
        return written

    def spill(self) -> None:
        """Move what is written to an unlinked temporary file (and write there from now)."""
        if self.on_disk:
            return
        disk = tempfile.TemporaryFile(prefix="kg-answer-")  # noqa: SIM115 - handed over
        disk.write(self.file.getvalue())  # type: ignore[attr-defined]
        self.file, self.on_disk = disk, True

    def size(self) -> int:
        """The bytes written so far (the file's end)."""
        return self.file.seek(0, io.SEEK_END)


_OPERATOR = re.compile(r"\|\||&&|[!/|^+\-*]")


def chain_length(query: str) -> int:
    """The longest chain of operators (``!``, ``||``, ``&&``, path steps ``/ | ^``,
    arithmetic) inside one bracket group: the store's parser nests one level per operator,
    as it does per bracket (a 600-step property path overflowed its stack)."""
    stack = [0]
    longest = 0
    for token in tokenize(query):
        if token.kind != "punct":
            continue
        if token.text in "{([":
            stack.append(0)
        elif token.text in "})]":
            if len(stack) > 1:
                stack.pop()
        else:
            stack[-1] += len(_OPERATOR.findall(token.text))
            longest = max(longest, stack[-1])
    return longest


def guard(query: str, *, max_depth: int, max_chain: int,
          allowed_services: frozenset[str]) -> tuple[Outline, str]:
    """The query's outline and a refusal message (``""``: none): brackets nested deeper
    than ``max_depth``, a chain of more than ``max_chain`` operators in one group, or a
    ``SERVICE`` outside ``allowed_services``. Linear in the query's length."""
    found = outline(query)
    if found.depth > max_depth:
        return found, (f"the query nests brackets {found.depth} deep, over this endpoint's "
                       f"limit of {max_depth} (kg serve --max-depth)")
    # Most queries hold fewer operator characters in all than the limit: no second pass.
    chain = chain_length(query) if len(_OPERATOR.findall(query)) > max_chain else 0
    if chain > max_chain:
        return found, (f"the query chains {chain} operators (!, ||, &&, property path steps, "
                       f"arithmetic) in one group, over this endpoint's limit of {max_chain} "
                       "(kg serve --max-chain)")
    return found, _services_refusal(found.services, allowed_services)


def _services_refusal(services: Sequence[str | None], allowed: frozenset[str]) -> str:
    for target in services:
        if target is None:
            return "SERVICE with a variable endpoint is not allowed"
        if target not in allowed:
            listed = ", ".join(sorted(allowed)) or "none"
            return (f"federated SERVICE <{target}> is not allowed on this endpoint (allowed: "
                    f"{listed}; the server operator can add it with --allow-service URL)")
    return ""


def execute(store: ox.Store, job: Job, spool: Spool | None = None) -> Outcome | tuple[int, str]:
    """Run ``job`` on ``store`` once and write its answer into ``spool`` (a new one if
    ``None``; a long answer then stays in ``spool.file``, see :class:`Outcome`).

    Checks first, before the store's parser sees the query: nesting and operator chains
    (400) and the ``SERVICE`` allow-list (400). A SELECT gets a ``LIMIT`` of
    ``max_rows + 1`` (or keeps its own smaller one) and pyoxigraph writes it; when the
    extra row came back, the written answer is cut (:func:`kg.serve.results.cut_rows`),
    not evaluated again. CONSTRUCT/DESCRIBE triples are written up to the cap. Never
    raises: a refusal or failure is returned as ``(status, message)``.
    """
    found, refusal = guard(job.query, max_depth=job.max_depth, max_chain=job.max_chain,
                           allowed_services=job.allowed_services)
    if refusal:
        return 400, refusal
    kwargs: dict[str, Any] = {"base_iri": job.base_iri}
    if job.default_graphs or job.named_graphs:
        kwargs["default_graph"] = [ox.NamedNode(iri) for iri in job.default_graphs]
        kwargs["named_graphs"] = [ox.NamedNode(iri) for iri in job.named_graphs]
    out = spool if spool is not None else Spool()
    try:
        capped = _capped_select(job.query, found, job.max_rows)
        result: Any = None
        if capped is not None:
            try:
                result = store.query(capped[0], **kwargs)
            except SyntaxError:
                capped = None  # our rewrite did not parse: the original decides below
        if result is None:
            result = store.query(job.query, **kwargs)
        return _write(result, job, out, count=capped is None or capped[1])
    except SyntaxError as exc:
        return 400, f"query syntax error: {exc.msg or exc}"
    except OSError as exc:
        if found.services:
            return 502, f"a SERVICE endpoint failed: {exc}"
        return 500, f"query evaluation failed: {exc}"
    except (ValueError, RuntimeError) as exc:
        return 500, f"query evaluation failed: {exc}"
    except MemoryError:
        return 500, ("the query needed more memory than a query worker may use "
                     "(kg serve --worker-memory)")


def _capped_select(query: str, found: Outline, max_rows: int) -> tuple[str, bool] | None:
    """The SELECT query with a top-level LIMIT of at most ``max_rows + 1``, and whether
    its rows must be counted (``False``: its own LIMIT is within the cap); ``None`` if it
    is not a SELECT whose top level we found."""
    if found.form != "SELECT" or found.where_offset is None or found.update is not None:
        return None
    if found.limit is not None:
        value, start, end = found.limit
        if value <= max_rows:
            return query, False
        return query[:start] + str(max_rows + 1) + query[end:], True
    at = found.values_offset if found.values_offset is not None else len(query)
    return query[:at] + f"\nLIMIT {max_rows + 1}\n" + query[at:], True


def _write(result: Any, job: Job, out: Spool, *, count: bool) -> Outcome:
    if isinstance(result, ox.QueryBoolean):
        media = negotiate(job.accept, ASK_TYPES)
        if media is None:
            return Outcome("boolean", None)
        body = result.serialize(format=results_format(media)) or b""
        return Outcome("boolean", media, body, size=len(body))
    truncated: int | None = None
    if isinstance(result, ox.QuerySolutions):
        form = "solutions"
        media = negotiate(job.accept, SELECT_TYPES)
        if media is None:
            return Outcome(form, None)
        result.serialize(cast(IO[bytes], out), format=results_format(media))
        if count and cut_rows(out.file, _SHORT[media], job.max_rows):
            truncated = job.max_rows
    else:
        form = "graph"
        media = negotiate(job.accept, list(GRAPH_TYPES))
        if media is None:
            return Outcome(form, None)
        cut: list[int] = []
        serialize_graph(_capped(result, job.max_rows, cut), media, cast(IO[bytes], out))
        truncated = cut[0] if cut else None
    bytes_cap = None
    if job.max_answer_bytes:
        shorter = cut_bytes(out.file, form, _SHORT.get(media, ""), media,
                            job.max_answer_bytes,
                            lambda: tempfile.TemporaryFile(prefix="kg-answer-"))  # noqa: SIM115
        if shorter is not None:
            bytes_cap = job.max_answer_bytes
            if shorter is not out.file:
                out.file.close()
                out.file, out.on_disk = shorter, True
    size = out.size()
    if size > out.limit:
        out.spill()  # a cut answer rewritten in memory past the limit goes to a file too
    if out.on_disk and size > out.limit:
        out.file.flush()
        out.file.seek(0)
        return Outcome(form, media, spooled=True, size=size, truncated_at=truncated,
                       bytes_cap=bytes_cap)
    out.file.seek(0)
    return Outcome(form, media, out.file.read(), size=size, truncated_at=truncated,
                   bytes_cap=bytes_cap)


def _capped(items: Any, max_rows: int, cut: list[int]) -> Iterator[Any]:
    """The first ``max_rows`` of ``items``; appends ``max_rows`` to ``cut`` if there are
    more."""
    for n, item in enumerate(items):
        if n == max_rows:
            cut.append(max_rows)
            return
        yield item
