"""Typed records that flow between the stages.

Parsers (``kg.sources``) produce :class:`Membership`, :class:`Twinning` (zh.wikipedia) and
:class:`PairTwinning` (a generic twinning list) records, each with its :class:`SourceRef`
(document, file, line), plus :class:`Issue` rejections and
warnings. Reconciliation (``kg.reconcile``) produces one :class:`LinkRow` per distinct place
reference. Everything is a frozen dataclass: plain data, no behaviour beyond views.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

__all__ = [
    "DOCS",
    "DOC_ID_RE",
    "LINK_COLUMNS",
    "DatePrecision",
    "DocId",
    "Issue",
    "LinkRow",
    "Membership",
    "PairTwinning",
    "ParseResult",
    "PartialDate",
    "Record",
    "Role",
    "SourceRef",
    "Twinning",
    "WikiLink",
    "is_doc_id",
    "record_to_dict",
]

#: A document id, as used in provenance, the links table and IRIs: ``lhc``, ``zhwiki``, or
#: the id a source plug-in gives (a generic list's comes from its file name).
DocId = str
#: The ids of the built-in seed documents.
DOCS: tuple[DocId, ...] = ("lhc", "zhwiki")
#: What a document id may look like (it is an IRI path segment and a TSV cell).
DOC_ID_RE = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")

#: The role a place reference plays: a League member city, a country (any document),
#: the Chinese side of a zh.wikipedia twinning, its foreign partner, or a place of a
#: generic twinning list (either side).
Role = Literal["member", "country", "cn", "partner", "place"]


def is_doc_id(doc: str) -> bool:
    """True when ``doc`` is a well-formed document id (:data:`DOC_ID_RE`)."""
    return DOC_ID_RE.fullmatch(doc) is not None and doc != "links"


class DatePrecision(StrEnum):
    """How much of a date the source gives."""

    YEAR = "year"
    MONTH = "month"
    DAY = "day"


@dataclass(frozen=True, slots=True)
class SourceRef:
    """Where a record comes from: document id, file name (no directory) and 1-based line."""

    doc: DocId
    file: str
    line: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}"


@dataclass(frozen=True, slots=True)
class PartialDate:
    """A date truncated to its precision: ``1986``, ``2013-12`` or ``1985-09-12``."""

    iso: str
    precision: DatePrecision

    @property
    def xsd_type(self) -> str:
        """The XSD datatype local name for this precision (gYear, gYearMonth, date)."""
        return {
            DatePrecision.YEAR: "gYear",
            DatePrecision.MONTH: "gYearMonth",
            DatePrecision.DAY: "date",
        }[self.precision]


@dataclass(frozen=True, slots=True)
class WikiLink:
    """A zh.wikipedia link: the article ``title`` (unescaped, the thing to resolve) and the
    ``label`` the page shows (which may differ from the title)."""

    title: str
    label: str


@dataclass(frozen=True, slots=True)
class Membership:
    """A city's membership of a city network, as the League list gives it."""

    source: SourceRef
    city_en: str
    city_ja: str
    country_en: str
    country_ja: str
    region_en: str
    region_ja: str
    network: str = "League of Historical Cities"
    as_of: str = "2025-12"

    type: Literal["membership"] = field(default="membership", init=False)


@dataclass(frozen=True, slots=True)
class Twinning:
    """One row of the zh.wikipedia list: a Chinese place twinned with a foreign one.

    ``cn`` and ``partner`` are the adjacent links the page gives for each side, in order:
    the last is the place itself, earlier ones its parents. ``cn_prefix`` is plain text
    before the Chinese links (``信陽市`` in ``〖信陽市[溮河區]〗``). ``cn_from_section`` is
    true when the table gives no Chinese place and the section heading names it (Macau).
    """

    source: SourceRef
    section: str
    cn: tuple[WikiLink, ...]
    partner: tuple[WikiLink, ...]
    country: WikiLink | None = None
    date: PartialDate | None = None
    note: str | None = None
    cn_prefix: str = ""
    cn_from_section: bool = False

    type: Literal["twinning"] = field(default="twinning", init=False)

    @property
    def cn_title(self) -> str:
        """Title of the Chinese place itself (the last Chinese link)."""
        return self.cn[-1].title

    @property
    def partner_title(self) -> str:
        """Title of the foreign place itself (the last partner link)."""
        return self.partner[-1].title


@dataclass(frozen=True, slots=True)
class PairTwinning:
    """One row of a generic twinning list (CSV/TSV): two places, each named with its
    country as the list gives them, in any language (``lang_a``/``lang_b``: the BCP 47
    tags of the names, given or guessed from their script), with the start date, a note
    and the URL the row's claim comes from."""

    source: SourceRef
    city_a: str
    country_a: str
    city_b: str
    country_b: str
    lang_a: str = "und"
    lang_b: str = "und"
    date: PartialDate | None = None
    note: str | None = None
    note_lang: str = "und"
    source_url: str = ""

    type: Literal["twinning"] = field(default="twinning", init=False)


Record = Membership | Twinning | PairTwinning


@dataclass(frozen=True, slots=True)
class Issue:
    """A rejected row or a warning: where, why, and the offending text."""

    source: SourceRef
    reason: str
    text: str = ""

    def __str__(self) -> str:
        return f"{self.source}: {self.reason}"


@dataclass(frozen=True, slots=True)
class ParseResult:
    """Everything a parser found in one document; every row is accounted for: it is part
    of the document's structure (headings, headers, titles), or one of the ``rows`` of data,
    each of which ends as a record, a rejection or a blank row, so that
    ``len(records) + len(rejections) + blank_rows == rows`` (:attr:`unaccounted` is 0).
    A League row that a correction splits into k cities (the PDF merged k rows) counts as
    k rows."""

    doc: DocId
    file: str
    records: tuple[Record, ...]
    rejections: tuple[Issue, ...] = ()
    warnings: tuple[Issue, ...] = ()
    blank_rows: int = 0
    #: records per section (zhwiki) or region (lhc), in document order
    groups: tuple[tuple[str, int], ...] = ()
    #: data rows read (see the class docstring)
    rows: int = 0

    @property
    def unaccounted(self) -> int:
        """Data rows that ended as neither a record, a rejection nor a blank row (0 for a
        correct parser; the tests check it on every document they parse)."""
        return self.rows - len(self.records) - len(self.rejections) - self.blank_rows
    #: the document's titles as ``(text, BCP 47 tag)`` (``dcterms:title`` of its source
    #: node); filled in from the source plug-in when the parser gives none
    titles: tuple[tuple[str, str], ...] = ()
    #: the source plug-in that read the document (``lhc``, ``zhwiki``, ``csv``…)
    kind: str = ""


def record_to_dict(record: Record) -> dict[str, Any]:
    """The JSON view of a record (``kg parse --format jsonl``), stable key order."""
    src = record.source
    base: dict[str, Any] = {"type": record.type, "doc": src.doc, "file": src.file, "line": src.line}
    if isinstance(record, Membership):
        base.update(
            city_en=record.city_en,
            city_ja=record.city_ja,
            country_en=record.country_en,
            country_ja=record.country_ja,
            region=record.region_en,
            region_ja=record.region_ja,
            network=record.network,
            as_of=record.as_of,
        )
        return base
    if isinstance(record, PairTwinning):
        base.update(
            city_a=record.city_a,
            country_a=record.country_a,
            city_b=record.city_b,
            country_b=record.country_b,
            lang_a=record.lang_a,
            lang_b=record.lang_b,
            date=record.date.iso if record.date else None,
            date_precision=str(record.date.precision) if record.date else None,
            note=record.note,
            source_url=record.source_url,
        )
        return base
    base.update(
        section=record.section,
        cn_title=record.cn_title,
        cn_label=record.cn[-1].label,
        cn_titles=[link.title for link in record.cn],
        cn_prefix=record.cn_prefix,
        cn_from_section=record.cn_from_section,
        partner_titles=[link.title for link in record.partner],
        partner_labels=[link.label for link in record.partner],
        country_title=record.country.title if record.country else None,
        country_label=record.country.label if record.country else None,
        date=record.date.iso if record.date else None,
        date_precision=str(record.date.precision) if record.date else None,
        note=record.note,
    )
    return base


#: Columns of ``seeds/wikidata-links.tsv``, in order.
LINK_COLUMNS: tuple[str, ...] = (
    "doc",
    "role",
    "key",
    "country",
    "qid",
    "status",
    "method",
    "score",
    "kind",
    "label_en",
    "country_qid",
    "evidence",
    "candidates",
    "reason",
    "lat",
    "lon",
    "coord_evidence",
)


@dataclass(frozen=True, slots=True)
class LinkRow:
    """One row of the links table: a distinct place reference and its Wikidata QID (or none).

    The reference is identified by ``(doc, role, key, country)``: for the League, ``key`` is
    the English city (or country) name as listed and ``country`` the English country name;
    for zh.wikipedia, ``key`` is the link target title (for a multi-link place, the last)
    and ``country`` the country link title ("" where the page gives none).

    ``status`` is ``resolved`` (``qid`` set), ``ambiguous`` or ``unresolved`` (``qid`` empty,
    ``candidates`` and ``reason`` say why). ``evidence`` names the gazetteer records or live
    answers behind the QID; ``candidates`` lists ``QID:score`` pairs, best first.
    ``kind`` is the place kind (city, district, county, province, country, region);
    ``country_qid`` the QID of the place's country when known.
    """

    doc: DocId
    role: Role
    key: str
    country: str
    qid: str
    status: str
    method: str
    score: str
    kind: str
    label_en: str
    country_qid: str
    evidence: str
    candidates: str
    reason: str
    #: WGS84 decimal degrees of the QID's place, as the record named by ``coord_evidence``
    #: (gazetteer ``file:line``, or a Wikidata P625 answer) gives them; "" when none.
    lat: str = ""
    lon: str = ""
    coord_evidence: str = ""

    @property
    def ref(self) -> tuple[str, str, str, str]:
        """The identity of the place reference: (doc, role, key, country)."""
        return (self.doc, self.role, self.key, self.country)
