"""Human decisions: ``seeds/overrides.tsv``.

Columns: ``doc role key country qid evidence reason``. An empty ``qid`` forces the place
unresolved. Every row needs evidence (for a QID: the gazetteer row ``file:line`` that
carries it, or a live answer) and a reason. Raises :class:`~kg.errors.LinksError` with
``file:line`` for a wrong header, a wrong number of cells, a malformed QID, a missing
evidence or reason, an unknown doc/role, or a duplicated place reference.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import get_args

from kg.errors import LinksError
from kg.fsutil import read_lines
from kg.model import Role, is_doc_id
from kg.reconcile.links import qid_problem

__all__ = ["OVERRIDE_COLUMNS", "Override", "check_evidence", "read_overrides"]

OVERRIDE_COLUMNS = ("doc", "role", "key", "country", "qid", "evidence", "reason")
_ROLES = get_args(Role)
_ROW_REF = re.compile(r"([A-Za-z0-9_.-]+\.tsv):([0-9]+)")


@dataclass(frozen=True, slots=True)
class Override:
    """One human decision and where it was written."""

    doc: str
    role: str
    key: str
    country: str
    qid: str
    evidence: str
    reason: str
    line: int

    @property
    def ref(self) -> tuple[str, str, str, str]:
        """The place reference it overrides."""
        return (self.doc, self.role, self.key, self.country)


def read_overrides(path: Path) -> dict[tuple[str, str, str, str], Override]:
    """The overrides in ``path`` by place reference; a missing file means none."""
    if not path.exists():
        return {}
    lines = read_lines(path, LinksError, "overrides")
    if not lines or tuple(lines[0].split("\t")) != OVERRIDE_COLUMNS:
        raise LinksError(f"header must be: {' '.join(OVERRIDE_COLUMNS)}", path=path, line=1)
    out: dict[tuple[str, str, str, str], Override] = {}
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip() or line.startswith("#"):
            continue
        cells = line.split("\t")
        if len(cells) != len(OVERRIDE_COLUMNS):
            raise LinksError(f"expected {len(OVERRIDE_COLUMNS)} cells, found {len(cells)}",
                             path=path, line=number)
        doc, role, key, country, qid, evidence, reason = cells
        row = Override(doc, role, key, country, qid, evidence, reason, number)
        if not is_doc_id(row.doc):
            raise LinksError(f"malformed doc id {row.doc!r}", path=path, line=number)
        if row.role not in _ROLES:
            raise LinksError(f"unknown role {row.role!r}", path=path, line=number)
        if row.qid and (problem := qid_problem(row.qid)):
            raise LinksError(f"malformed QID: {problem}", path=path, line=number)
        if not row.evidence.strip():
            raise LinksError("override without evidence", path=path, line=number)
        if not row.reason.strip():
            raise LinksError("override without a reason", path=path, line=number)
        if row.ref in out:
            raise LinksError(f"duplicate override for {row.ref}", path=path, line=number)
        out[row.ref] = row
    return out


def check_evidence(override: Override, rows_by_ref: dict[tuple[str, int], str],
                   path: Path) -> None:
    """Check that a QID override names a gazetteer row (``file.tsv:line``) carrying that
    QID. ``rows_by_ref`` maps ``(file, line)`` to the row's QID. Raises :class:`LinksError`."""
    if not override.qid:
        return
    refs = _ROW_REF.findall(override.evidence)
    if not refs:
        raise LinksError("override evidence must name a gazetteer row as file.tsv:line",
                         path=path, line=override.line)
    for file, line in refs:
        if rows_by_ref.get((file, int(line))) == override.qid:
            return
    raise LinksError(f"no gazetteer row named in the evidence carries {override.qid}",
                     path=path, line=override.line)
