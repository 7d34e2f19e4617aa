"""Our side of the comparison: the twinnings and memberships of the built graph, the evidence
behind each QID (the links table) and the give-back evidence file.

The built graph (``dist/twinning.trig``) is read with pyoxigraph and a few SPARQL queries: a
``tw:Twinning`` has its ``tw:listedPlace`` and ``tw:partnerPlace``, each with
``skos:exactMatch`` to a Wikidata item when resolved, ``tw:startDate`` typed by precision
(``xsd:date``, ``xsd:gYearMonth``, ``xsd:gYear``) and ``prov:wasDerivedFrom`` its source
line. A place without ``skos:exactMatch`` (unresolved or ambiguous) is never compared and
never written.

The give-back evidence file (``seeds/wikidata-giveback.tsv``) records, like the links table,
only what has evidence: the URL of each source document's page (the reference of every
command, ``S854``) and the QID of each city network (``P463`` targets). A row without a value
says why in its ``note``; a value without evidence is an error.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from kg.errors import GiveBackError, KGError
from kg.fsutil import read_lines
from kg.reconcile.links import QID_RE, read_links

__all__ = [
    "EVIDENCE_COLUMNS",
    "GiveBackEvidence",
    "Membership",
    "OurData",
    "Place",
    "StartDate",
    "Twinning",
    "is_page_url",
    "qid_evidence",
    "read_evidence",
    "read_graph",
]

WD = "http://www.wikidata.org/entity/"
_XSD = "http://www.w3.org/2001/XMLSchema#"
#: Wikidata time precision by the XSD type of ``tw:startDate``.
_PRECISION = {f"{_XSD}date": 11, f"{_XSD}gYearMonth": 10, f"{_XSD}gYear": 9}
_DATE = {11: re.compile(r"\d{4}-\d{2}-\d{2}"), 10: re.compile(r"\d{4}-\d{2}"),
         9: re.compile(r"\d{4}")}
EVIDENCE_COLUMNS = ("kind", "key", "value", "evidence", "note")
_KINDS = ("source-page", "network")
# A live answer as the Wikidata client records it: "wikidata URL retrieved 2026-11-23T12:00:00Z".
_LIVE_ANSWER = re.compile(r"https?://\S+.*\bretrieved \d{4}-\d{2}-\d{2}")

_PREFIXES = """\
PREFIX tw: <https://w3id.org/twinning-kg/ontology#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX org: <http://www.w3.org/ns/org#>
"""
_TWINNINGS = _PREFIXES + """\
SELECT ?t ?a ?b ?date ?line ?n ?doc ?file WHERE {
  ?t a tw:Twinning ; tw:listedPlace ?a ; tw:partnerPlace ?b .
  OPTIONAL { ?t tw:startDate ?date }
  OPTIONAL { ?t prov:wasDerivedFrom ?line .
             OPTIONAL { ?line tw:lineNumber ?n }
             OPTIONAL { ?line dcterms:isPartOf ?doc . OPTIONAL { ?doc dcterms:identifier ?file } } }
}"""
_MEMBERSHIPS = _PREFIXES + """\
SELECT ?m ?member ?network ?line ?n ?doc ?file WHERE {
  ?m a org:Membership ; org:member ?member ; org:organization ?network .
  OPTIONAL { ?m prov:wasDerivedFrom ?line .
             OPTIONAL { ?line tw:lineNumber ?n }
             OPTIONAL { ?line dcterms:isPartOf ?doc . OPTIONAL { ?doc dcterms:identifier ?file } } }
}"""
_PLACES = _PREFIXES + """\
SELECT ?p ?same ?label ?country WHERE {
  { ?t a tw:Twinning ; tw:place ?p } UNION { ?m a org:Membership ; org:member ?p }
  UNION { ?m a org:Membership ; org:organization ?p }
  UNION { ?x tw:country ?p }
  OPTIONAL { ?p skos:exactMatch ?same }
  OPTIONAL { ?p rdfs:label ?label }
  OPTIONAL { ?p tw:country ?country }
}"""


@dataclass(frozen=True)
class StartDate:
    """A start date as the source gives it: ISO 8601 truncated to its precision (``1980``,
    ``1980-02``, ``1980-02-25``) and Wikidata's precision code (9 year, 10 month, 11 day)."""

    iso: str
    precision: int

    def quickstatements(self) -> str:
        """The QuickStatements V1 time value, Wikidata's convention for the missing parts:
        ``+1980-02-25T00:00:00Z/11``, ``+1980-02-00T00:00:00Z/10``, ``+1980-00-00T00:00:00Z/9``.
        """
        parts = [*self.iso.split("-"), "00", "00"][:3]
        return f"+{parts[0]}-{parts[1]}-{parts[2]}T00:00:00Z/{self.precision}"

    def covers(self, iso: str, precision: int) -> bool:
        """Whether another date agrees with this one at the coarser of the two precisions."""
        width = {9: 4, 10: 7, 11: 10}[min(self.precision, precision)]
        return self.iso[:width] == iso[:width]


@dataclass
class Place:
    """A place of the graph: its node, QID (``""`` when unresolved or ambiguous), labels
    (``en`` and ``zh``, the first in code-point order when there are several) and country."""

    node: str
    qid: str = ""
    en: str = ""
    zh: str = ""
    country: str = ""  # node of the country


@dataclass(frozen=True)
class Twinning:
    """One twinning of the graph: listed place, partner, start date, source."""

    node: str
    listed: str
    partner: str
    date: StartDate | None
    doc: str
    source: str  # ``file:line``
    order: tuple[str, int]


@dataclass(frozen=True)
class Membership:
    """One membership of the graph: member, network, source."""

    node: str
    member: str
    network: str
    doc: str
    source: str
    order: tuple[str, int]


@dataclass
class OurData:
    """What the graph states, keyed by node IRI."""

    places: dict[str, Place] = field(default_factory=dict)
    twinnings: list[Twinning] = field(default_factory=list)
    memberships: list[Membership] = field(default_factory=list)

    def place(self, node: str) -> Place:
        """The place of ``node`` (an empty one when the graph says nothing of it)."""
        return self.places.get(node) or Place(node)

    def qids(self) -> list[str]:
        """The QIDs of the places that take part in a twinning or a membership, sorted."""
        nodes = {t.listed for t in self.twinnings} | {t.partner for t in self.twinnings}
        nodes |= {m.member for m in self.memberships}
        found = {self.place(n).qid for n in nodes} - {""}
        return sorted(found, key=lambda q: int(q[1:]))


@dataclass(frozen=True)
class GiveBackEvidence:
    """The give-back evidence file: source page URLs by document id, network QIDs by the
    network's English name, each with its evidence; and the notes of the rows without value."""

    pages: dict[str, tuple[str, str]]
    networks: dict[str, tuple[str, str]]
    notes: dict[tuple[str, str], str]


def _value(term: object) -> str:
    if isinstance(term, ox.NamedNode | ox.Literal | ox.BlankNode):
        return str(term.value)
    return ""


def _source(solution: ox.QuerySolution) -> tuple[str, str, tuple[str, int]]:
    """``(doc, "file:line", order)`` of a solution with ``?line ?n ?doc ?file``."""
    line_iri, number, doc_iri, file = (_value(solution[v]) for v in ("line", "n", "doc", "file"))
    doc = doc_iri.rsplit("/", 1)[-1] if doc_iri else line_iri.split("#")[0].rsplit("/", 1)[-1]
    if not number and "#L" in line_iri:
        number = line_iri.rsplit("#L", 1)[1]
    line = int(number) if number.isdigit() else 0
    where = f"{file or doc}:{line}" if line else (file or doc)
    return doc, where, (doc, line)


def _solutions(store: ox.Store, query: str) -> ox.QuerySolutions:
    result = store.query(query, use_default_graph_as_union=True)
    assert isinstance(result, ox.QuerySolutions)
    return result


def read_graph(path: Path) -> OurData:
    """The twinnings, memberships and places of the built graph ``path`` (TriG, N-Quads,
    Turtle, N-Triples), in source order.

    Raises :class:`~kg.errors.GiveBackError` when the file is missing or unreadable.
    """
    from kg.store import load_store

    try:
        store = load_store([path])
    except KGError as exc:
        raise GiveBackError(exc.message, path=exc.path, line=exc.line) from None
    data = OurData()
    labels: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for row in _solutions(store, _PLACES):
        node = _value(row["p"])
        place = data.places.setdefault(node, Place(node))
        same = _value(row["same"])
        if same.startswith(WD) and QID_RE.fullmatch(same[len(WD):]):
            place.qid = same[len(WD):]
        country = _value(row["country"])
        if country:
            place.country = country
        label = row["label"]
        if isinstance(label, ox.Literal) and label.language:
            lang = label.language.lower()
            key = "en" if lang == "en" else "zh" if lang.split("-")[0] == "zh" else ""
            if key and label.value not in labels[node][key]:
                labels[node][key].append(label.value)
    for node, by_lang in labels.items():
        data.places[node].en = min(by_lang["en"], default="")
        data.places[node].zh = min(by_lang["zh"], default="")
    seen: set[str] = set()
    for row in _solutions(store, _TWINNINGS):
        node = _value(row["t"])
        if node in seen:  # a second source line or date: keep the first, in source order
            continue
        seen.add(node)
        date = None
        literal = row["date"]
        if isinstance(literal, ox.Literal):
            precision = _PRECISION.get(literal.datatype.value)
            if precision is not None and _DATE[precision].fullmatch(literal.value):
                date = StartDate(literal.value, precision)
        doc, where, order = _source(row)
        data.twinnings.append(Twinning(node, _value(row["a"]), _value(row["b"]), date, doc,
                                       where, order))
    seen.clear()
    for row in _solutions(store, _MEMBERSHIPS):
        node = _value(row["m"])
        if node in seen:
            continue
        seen.add(node)
        doc, where, order = _source(row)
        data.memberships.append(Membership(node, _value(row["member"]), _value(row["network"]),
                                           doc, where, order))
    data.twinnings.sort(key=lambda t: (t.order, t.node))
    data.memberships.sort(key=lambda m: (m.order, m.node))
    return data


def is_page_url(url: str) -> bool:
    """Whether ``url`` can be a reference URL in a command: http(s), no space, tab or quote
    (a QuickStatements string has no escape for a double quote)."""
    return bool(re.fullmatch(r"https?://[^\s\"]+", url))


def qid_evidence(links: Path) -> dict[str, str]:
    """The evidence of each QID of the links table (``evidence`` column of every row with
    that QID, distinct, joined with `` | ``). Raises :class:`~kg.errors.LinksError`."""
    found: dict[str, list[str]] = defaultdict(list)
    for row in read_links(links):
        if row.qid and row.evidence and row.evidence not in found[row.qid]:
            found[row.qid].append(row.evidence)
    return {qid: " | ".join(items) for qid, items in found.items()}


def read_evidence(path: Path) -> GiveBackEvidence:
    """Read the give-back evidence file (TSV, header ``kind key value evidence note``).

    ``kind`` is ``source-page`` (``key`` a document id, ``value`` an http(s) URL) or
    ``network`` (``key`` the network's English name, ``value`` a QID whose evidence is a live
    answer: its URL and ``retrieved`` time, as the Wikidata client writes it). Raises
    :class:`~kg.errors.GiveBackError` (``file:line``) for a missing file, a wrong header or
    cell count, an unknown kind, a malformed value, a value without evidence, or a key given
    twice.
    """
    lines = read_lines(path, GiveBackError, "give-back evidence file")
    if not lines or tuple(lines[0].split("\t")) != EVIDENCE_COLUMNS:
        raise GiveBackError(f"header must be: {' '.join(EVIDENCE_COLUMNS)}", path=path, line=1)
    pages: dict[str, tuple[str, str]] = {}
    networks: dict[str, tuple[str, str]] = {}
    notes: dict[tuple[str, str], str] = {}
    seen: set[tuple[str, str]] = set()
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        cells = line.split("\t")
        if len(cells) != len(EVIDENCE_COLUMNS):
            raise GiveBackError(f"expected {len(EVIDENCE_COLUMNS)} cells, found {len(cells)}",
                                path=path, line=number)
        kind, key, value, evidence, note = (c.strip() for c in cells)
        if kind not in _KINDS:
            raise GiveBackError(f"unknown kind {kind!r} (expected {' or '.join(_KINDS)})",
                                path=path, line=number)
        if not key or (kind, key) in seen:
            raise GiveBackError(f"{kind} {key!r}: empty or given twice", path=path, line=number)
        seen.add((kind, key))
        if not value:
            notes[(kind, key)] = note
            continue
        if not evidence:
            raise GiveBackError(f"{kind} {key!r}: {value} has no evidence", path=path,
                                line=number)
        if kind == "network" and not QID_RE.fullmatch(value):
            raise GiveBackError(f"malformed QID {value!r}", path=path, line=number)
        if kind == "network" and not _LIVE_ANSWER.search(evidence):
            raise GiveBackError(f"{kind} {key!r}: the evidence of {value} must be a live answer "
                                "(its URL and 'retrieved' time)", path=path, line=number)
        if kind == "source-page" and not is_page_url(value):
            raise GiveBackError(f"malformed URL {value!r}", path=path, line=number)
        (networks if kind == "network" else pages)[key] = (value, evidence)
    return GiveBackEvidence(pages, networks, notes)
