"""Records + links table -> an RDF dataset with one named graph per source document.

:func:`emit` is pure: the same records and links give the same triples, with IRIs only (no
blank nodes), so serialisations can be made byte-identical. Each triple is made once, as
an N-Triples line (:mod:`kg.rdf.quads`): the vocabulary names below (``TW.Place``…) and
:func:`Literal` give terms in N-Triples syntax, not rdflib terms, so emitting 10^5
twinnings costs no rdflib store. What each document states goes
into its own named graph (``<base>graph/lhc``, ``<base>graph/zhwiki``); what reconciliation
adds (``skos:exactMatch``, the records' status, candidates and reconciliations, English
labels from Wikidata) goes into
``<base>graph/links``, the links table being a reviewed source document of its own.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import opencc
from rdflib import URIRef

from kg.model import (
    LinkRow,
    Membership,
    PairTwinning,
    ParseResult,
    Record,
    Twinning,
    WikiLink,
)
from kg.rdf import vocab
from kg.rdf.geo import geo_triples, place_coordinates
from kg.rdf.literals import canonical_decimal
from kg.rdf.quads import Quads, Term, iri, literal
from kg.rdf.spool import LineSets
from kg.rdf.vocab import DEFAULT_BASE, ZHWIKI_PAGE, Iris
from kg.reconcile.links import QID_RE, LinksTable
from kg.zhconv_loader import zhconv

__all__ = [
    "AGREEMENT_KINDS",
    "DOC_TITLES",
    "LABEL_AUTHORITY",
    "LINKS_DOC",
    "NETWORK_NAMES",
    "PRC_COUNTRY",
    "EmitStats",
    "Literal",
    "agreement_kind",
    "emit",
    "emit_lines",
    "zh_tag",
]

#: The links table is a source document of its own (graph ``<base>graph/links``).
LINKS_DOC = "links"

#: Documents whose names of a place are preferred, most authoritative first (other
#: documents follow, by name): the reviewed links table (Wikidata's English label), the
#: League's own member list, zh.wikipedia's list.
LABEL_AUTHORITY: tuple[str, ...] = (LINKS_DOC, "lhc", "zhwiki")

class _Vocab:
    """A vocabulary's terms in N-Triples syntax: ``TW.Place`` -> ``<…ontology#Place>``."""

    def __init__(self, namespace: object) -> None:
        self._base = str(namespace)
        self._terms: dict[str, Term] = {}

    def __getitem__(self, name: str) -> Term:
        term = self._terms.get(name)
        if term is None:
            term = self._terms[name] = iri(self._base + name)
        return term

    def __getattr__(self, name: str) -> Term:
        if name.startswith("_"):
            raise AttributeError(name)
        term = self[name]
        setattr(self, name, term)  # later lookups find the attribute: no __getattr__ call
        return term


DCTERMS, ORG, OWL, PROV, RDF, RDFS, SCHEMA, SKOS, TIME, TW, WD, XSD = (
    _Vocab(ns)
    for ns in (
        vocab.DCTERMS, vocab.ORG, vocab.OWL, vocab.PROV, vocab.RDF, vocab.RDFS, vocab.SCHEMA,
        vocab.SKOS, vocab.TIME, vocab.TW, vocab.WD, vocab.XSD,
    )
)


def Literal(
    value: str | int, *, lang: str | None = None, datatype: Term | None = None
) -> Term:
    """A literal in N-Triples syntax (see :func:`kg.rdf.quads.literal`)."""
    return literal(value, lang=lang, datatype=None if datatype is None else datatype[1:-1])


def _node(value: URIRef | str) -> Term:
    return iri(str(value))


#: Titles of the source documents (``dcterms:title``), by document id.
DOC_TITLES: dict[str, tuple[tuple[str, str], ...]] = {
    "lhc": (
        ("League of Historical Cities: member cities (as of December 2025)", "en"),
        ("世界歴史都市連盟 加盟都市一覧（令和7年12月現在）", "ja"),
    ),
    "zhwiki": (
        ("List of sister cities of the People's Republic of China (zh.wikipedia)", "en"),
        ("中華人民共和國友好城市列表", "zh-Hant"),
    ),
    LINKS_DOC: (("Wikidata links of the place references (reviewed table)", "en"),),
}

#: Names of city networks beyond the English one the list gives, by English name.
NETWORK_NAMES: dict[str, tuple[tuple[str, str], ...]] = {
    "League of Historical Cities": (("世界歴史都市連盟", "ja"),),
}

#: Notes of the zh.wikipedia list that name the kind of agreement (Traditional script).
AGREEMENT_KINDS: dict[str, Term] = {
    "友好協約書": TW.FriendshipCovenant,
    "友好協議": TW.FriendshipAgreement,
    "文化備忘錄": TW.CulturalMemorandum,
}

#: The People's Republic of China, the country of every Chinese side of the zh.wikipedia
#: list (the page lists the PRC's sister cities) when the links table gives none.
#: QID from /work/shared/gazetteer/gf_wikidata_countries.tsv line 34
#: ("Q148	People's Republic of China	中华人民共和国") and dr5hn_countries.tsv line 32.
PRC_COUNTRY: tuple[str, tuple[tuple[str, str], ...]] = (
    "Q148",
    (("People's Republic of China", "en"), ("中华人民共和国", "zh-Hans")),
)

#: Place kinds of the links table -> schema.org classes.
_KIND_CLASS: dict[str, Term] = {
    "city": SCHEMA.City,
    "district": SCHEMA.AdministrativeArea,
    "county": SCHEMA.AdministrativeArea,
    "province": SCHEMA.AdministrativeArea,
    "region": SCHEMA.AdministrativeArea,
    "country": SCHEMA.Country,
}

_STATUS: dict[str, Term] = {
    "resolved": TW.Resolved,
    "ambiguous": TW.Ambiguous,
    "unresolved": TW.Unresolved,
}


@functools.cache
def _opencc(config: str) -> opencc.OpenCC:
    # One converter per configuration, made on first use (each loads its dictionaries).
    return opencc.OpenCC(config)


@functools.lru_cache(maxsize=1 << 16)  # names repeat (a place in many rows)
def zh_tag(text: str) -> str:
    """The BCP 47 tag of a name in a Chinese document: ``zh-Hant``, ``zh-Hans``, ``ja`` or
    ``zh``, by OpenCC's conversion tables (phrase-aware, maintained with the Chinese
    Wikipedias' conventions), never a character list of our own.

    ``zh-Hant`` if OpenCC's Traditional-to-Simplified conversion (``t2s``) changes the text
    and some Simplified-to-Traditional standard (``s2t``, Taiwan's ``s2tw``, Hong Kong's
    ``s2hk``) keeps it; ``zh-Hans`` if every one of those changes it and ``t2s`` does not
    (a form one Traditional standard keeps, 峰 in Taiwan, 台 in Hong Kong, is not
    Simplified-only); ``ja`` if none of that holds but the text holds a Japanese form, a
    character OpenCC's Japanese-to-Traditional conversion (``jp2t``) changes and no
    Chinese one touches (浜 for 濱; not 台, which Chinese writes too); otherwise ``zh``
    (script-neutral text, or both scripts mixed).

    A character written alike in both scripts (里 in 馬德里, 托) decides nothing: OpenCC
    converts 里 only where it means 裏 (inside). A change counts only if the whole text
    and one of its characters both convert: OpenCC's phrase table alone makes 布列斯特
    佈列斯特, a phrase, not a script.

    >>> [zh_tag(t) for t in ("東京", "东京", "北京市", "馬德里", "斯里蘭卡", "浜田", "赤峰市")]
    ['zh-Hant', 'zh-Hans', 'zh', 'zh-Hant', 'zh-Hant', 'ja', 'zh']
    """
    to_hans = _changes("t2s", text)
    to_hant = all(_changes(config, text) for config in ("s2t", "s2tw", "s2hk"))
    if to_hans and not to_hant:
        return "zh-Hant"
    if to_hant and not to_hans:
        return "zh-Hans"
    if not to_hans and not to_hant and any(_japanese_form(char) for char in text):
        return "ja"
    return "zh"


def _changes(config: str, text: str) -> bool:
    # OpenCC's conversion changes the text both as a whole (phrase-aware: 馬德里 keeps 里,
    # which alone it makes 裏) and character by character (a phrase match in a
    # transliteration, 布列斯特 -> 佈列斯特, is not a script difference): both must agree.
    converted: str = _opencc(config).convert(text)
    return converted != text and any(_char_changes(config, char) for char in text)


@functools.lru_cache(maxsize=1 << 14)
def _char_changes(config: str, char: str) -> bool:
    converted: str = _opencc(config).convert(char)
    return converted != char


@functools.lru_cache(maxsize=1 << 14)
def _japanese_form(char: str) -> bool:
    # A Japanese form: OpenCC's jp2t changes it and no Chinese conversion touches it (浜 ->
    # 濱); 台 is not one, though jp2t makes it 臺, as Chinese writes 台 too (s2t changes it).
    return (_char_changes("jp2t", char)
            and not any(_char_changes(config, char) for config in ("s2t", "s2tw", "s2hk", "t2s")))


@functools.lru_cache(maxsize=1024)
def agreement_kind(note: str | None) -> Term:
    """The agreement-kind concept a twinning's note names (default: a sister-city relationship)."""
    if note:
        key = zhconv.convert(note.strip(), "zh-hk")
        for text, concept in AGREEMENT_KINDS.items():
            if zhconv.convert(text, "zh-hk") == key:
                return concept
    return TW.SisterCityRelationship


def _decimal(text: str) -> str | None:
    # A score cell as a canonical xsd:decimal ("1.00" -> "1", ".50" -> "0.5"), the form
    # every store gives back (kg.rdf.literals); None if not a decimal.
    return canonical_decimal(text)


def _title_text(title: str) -> str:
    # An article title as a name: no leading ":" (interwiki-style), spaces for underscores.
    return title.lstrip(":").replace("_", " ").strip()


@dataclass
class EmitStats:
    """What :func:`emit` produced, for the build report."""

    twinnings: int = 0
    memberships: int = 0
    places: int = 0
    resolved_places: int = 0
    unresolved_refs: list[str] = field(default_factory=list)


class _Graph:
    """The triples of one named graph, as a set of N-Triples lines (spilled to disk when
    it holds :attr:`LineSets.run_lines <kg.rdf.spool.LineSets.run_lines>` of them)."""

    __slots__ = ("_doc", "_limit", "_sets", "lines")

    def __init__(self, sets: LineSets, doc: str) -> None:
        self.lines = sets.graph(doc)
        self._sets = sets
        self._doc = doc
        self._limit = sets.run_lines

    def add(self, triple: tuple[Term, Term, Term]) -> None:
        s, p, o = triple
        lines = self.lines
        lines.add(f"{s} {p} {o} .".encode())
        if len(lines) >= self._limit:
            self._sets.spill(self._doc)


class _Iris:
    """:class:`~kg.rdf.vocab.Iris`, minting N-Triples terms."""

    def __init__(self, base: str) -> None:
        self._iris = Iris(base)

    def __getattr__(self, name: str) -> Callable[..., Term]:
        if name.startswith("_"):
            raise AttributeError(name)
        mint = getattr(self._iris, name)

        def term(*args: Any) -> Term:
            return _node(mint(*args))

        setattr(self, name, term)  # made once per method name
        return term


class _Emitter:
    def __init__(self, links: LinksTable, base: str, sets: LineSets) -> None:
        self.links = links
        self.iris = _Iris(base)
        self.sets = sets
        self.graphs: dict[str, _Graph] = {}
        self.stats = EmitStats()
        self.places: set[Term] = set()
        self.resolved: set[Term] = set()
        # (twinning, place, place) for geo, as the terms already made (no new strings: a
        # million twinnings)
        self.twin_pairs: list[tuple[Term, Term, Term]] = []
        self.resolved_nodes: dict[tuple[str, str], Term] = {}
        # Each place reference's record node, made once (see :meth:`record`), and the
        # (node, title, label) of the zh.wikipedia links already named.
        self.recorded: dict[tuple[tuple[str, str, str, str], Term], Term] = {}
        self.wiki_named: set[tuple[Term, str, str]] = set()
        # English labels of QIDs from the links table, for country nodes known only by QID.
        self.qid_labels: dict[str, set[str]] = defaultdict(set)
        for row in links:
            if row.qid and row.label_en:
                self.qid_labels[row.qid].add(row.label_en)
        # Every rdfs:label of a place, by node and tag, with the document stating it: the
        # material :meth:`preferred_labels` chooses one skos:prefLabel per language from.
        self.place_labels: dict[Term, dict[str, set[tuple[str, str]]]] = defaultdict(
            lambda: defaultdict(set)
        )
        self.alt_labels: dict[Term, set[tuple[str, Term]]] = defaultdict(set)  # (doc, literal)

    def graph(self, doc: str) -> _Graph:
        graph = self.graphs.get(doc)
        if graph is None:
            graph = self.graphs[doc] = _Graph(self.sets, doc)
        return graph

    # -- places ---------------------------------------------------------------------------

    def _resolved_node(self, qid: str, row: LinkRow | None, kind_hint: str) -> Term:
        kind = row.kind if row is not None and row.kind else kind_hint
        # The same QID and kind give the same triples: made once, however often named.
        done = self.resolved_nodes.get((qid, kind))
        if done is not None:
            return done
        node = self.resolved_nodes[(qid, kind)] = self.iris.place_qid(qid)
        g = self.graph(LINKS_DOC)
        g.add((node, RDF.type, TW.Place))
        g.add((node, RDF.type, SCHEMA.Place))
        # skos:exactMatch, not owl:sameAs: an OWL closure over owl:sameAs would copy every
        # statement on the place (tw:country, tw:twinnedWith…) onto the Wikidata item.
        g.add((node, SKOS.exactMatch, WD[qid]))
        if kind in _KIND_CLASS:
            g.add((node, RDF.type, _KIND_CLASS[kind]))
        for label in sorted(self.qid_labels.get(qid, ())):
            self.place_label(LINKS_DOC, node, label, "en")
        self.places.add(node)
        self.resolved.add(node)
        return node

    def place(
        self, doc: str, role: str, key: str, country: str, unresolved: Term, kind_hint: str,
        line: int,
    ) -> Term:
        """The node of a place reference: its QID's node if resolved, else ``unresolved``.

        The place gets the facts about the place (types, labels elsewhere); how ``doc``
        named it at ``line`` and how it was matched go on the reference's record
        (:meth:`record`), never on the place."""
        row = self.links.get(doc, role, key, country)
        if row is not None and row.qid:
            node = self._resolved_node(row.qid, row, kind_hint)
            self.record(doc, role, key, country, node, row, line)
            return node
        node = unresolved
        g = self.graph(LINKS_DOC)
        g.add((node, RDF.type, TW.Place))
        g.add((node, RDF.type, SCHEMA.Place))
        kind = row.kind if row is not None and row.kind else kind_hint
        if kind in _KIND_CLASS:
            g.add((node, RDF.type, _KIND_CLASS[kind]))
        self.record(doc, role, key, country, node, row, line)
        if node not in self.places:
            where = f" ({country})" if country else ""
            self.stats.unresolved_refs.append(f"{doc}/{role}: {key}{where}")
        self.places.add(node)
        return node

    def record(
        self, doc: str, role: str, key: str, country: str, place: Term, row: LinkRow | None,
        line: int,
    ) -> None:
        """The record of one place reference of ``doc``, a ``tw:PlaceRecord``
        ``<place>#record/<doc>/<role>/<key>[/<country>]``: what the document said
        (``schema:about`` the place, ``tw:namedIn`` the document, ``prov:wasDerivedFrom``
        each source line naming it, in the document's graph) and how it was matched
        (``tw:reconciliationStatus``, ``tw:candidate``s, ``tw:reconciliation``, in the links
        graph). The links run from the record to the place, so ``skos:exactMatch`` or
        ``owl:sameAs`` on the place carries none of them onto a Wikidata item."""
        ref = (doc, role, key, country)
        node = self.recorded.get((ref, place))
        if node is None:
            node = self.recorded[(ref, place)] = self._first_record(ref, place, row)
        # A reference named again (a city in many twinnings) adds only its line: the rest
        # depends on the reference, the place and its links row alone, made once above.
        self.graph(doc).add((node, PROV.wasDerivedFrom, self.iris.source_line(doc, line)))

    def _first_record(self, ref: tuple[str, str, str, str], place: Term,
                      row: LinkRow | None) -> Term:
        # What :meth:`record` states of a reference the first time it is named.
        doc = ref[0]
        node = self._ref_node(place, "record", ref)
        g = self.graph(doc)
        g.add((node, RDF.type, TW.PlaceRecord))
        g.add((node, SCHEMA.about, place))
        g.add((node, TW.namedIn, self.iris.source(doc)))
        links = self.graph(LINKS_DOC)
        status = (TW.Resolved if row is not None and row.qid
                  else _STATUS.get(row.status, TW.Unresolved) if row is not None
                  else TW.Unresolved)
        links.add((node, TW.reconciliationStatus, status))
        if row is None:
            return node
        if not row.qid:
            for cell in row.candidates.split():
                qid = cell.split(":", 1)[0]
                if QID_RE.fullmatch(qid):
                    links.add((node, TW.candidate, WD[qid]))
        links.add((node, TW.reconciliation, self.reconciliation(place, row)))
        return node

    @staticmethod
    def _ref_node(place: Term, kind: str, ref: tuple[str, str, str, str]) -> Term:
        # <place>#<kind>/<doc>/<role>/<key>[/<country>], segments percent-encoded.
        doc, role, key, country = ref
        parts = [doc, role, key] + ([country] if country else [])
        return _node(place[1:-1].split("#", 1)[0] + f"#{kind}/"
                     + "/".join(quote(part, safe="") for part in parts))

    def reconciliation(self, place: Term, row: LinkRow) -> Term:
        """The links-table row behind a place reference, as a ``tw:Reconciliation`` (a
        ``prov:Activity``) ``<place>#reconciliation/<doc>/<role>/<key>[/<country>]`` in the
        links graph: its method, score, outcome, evidence text (kept for people), chosen
        item and scored candidates, ``prov:used`` the links table. Nothing is stated about
        the Wikidata items themselves (they are objects only). Returns the node."""
        node = self._ref_node(place, "reconciliation", row.ref)
        g = self.graph(LINKS_DOC)
        g.add((node, RDF.type, TW.Reconciliation))
        g.add((node, RDF.type, PROV.Activity))
        g.add((node, PROV.used, self.iris.source(LINKS_DOC)))
        g.add((node, TW.outcome, _STATUS.get(row.status, TW.Unresolved)))
        if row.method:
            g.add((node, TW.method, Literal(row.method)))
        score = _decimal(row.score)
        if score is not None:
            g.add((node, TW.score, Literal(score, datatype=XSD.decimal)))
        if row.evidence.strip():
            g.add((node, TW.evidence, Literal(row.evidence.strip())))
        if row.reason.strip():
            g.add((node, SKOS.note, Literal(row.reason.strip(), lang="en")))
        if row.qid and QID_RE.fullmatch(row.qid):
            g.add((node, TW.chosenItem, WD[row.qid]))
        for cell in row.candidates.split():
            qid, _, value = cell.partition(":")
            if not QID_RE.fullmatch(qid):
                continue
            cand = _node(node[1:-1] + "/candidate/" + qid)
            g.add((node, TW.scoredCandidate, cand))
            g.add((cand, RDF.type, TW.ScoredCandidate))
            g.add((cand, TW.candidateItem, WD[qid]))
            cand_score = _decimal(value)
            if cand_score is not None:
                g.add((cand, TW.candidateScore, Literal(cand_score, datatype=XSD.decimal)))
        return node

    def country_from_qid(self, qid: str) -> Term | None:
        """A country node known only by the QID a links row gives (None if it has no label)."""
        if qid == PRC_COUNTRY[0]:
            node = self._resolved_node(qid, None, "country")
            for text, lang in PRC_COUNTRY[1]:
                self.place_label(LINKS_DOC, node, text, lang)
            return node
        if not self.qid_labels.get(qid):
            return None
        return self._resolved_node(qid, None, "country")

    def names(self, doc: str, node: Term, names: Iterable[tuple[str, str]]) -> None:
        for text, lang in names:
            if text.strip():
                self.place_label(doc, node, text.strip(), lang)

    def place_label(self, doc: str, node: Term, text: str, lang: str) -> None:
        """A place's name as ``doc`` states it: an ``rdfs:label`` in that document's graph."""
        self.graph(doc).add((node, RDFS.label, Literal(text, lang=lang)))
        self.place_labels[node][lang].add((doc, text))

    def place_alt_label(self, doc: str, node: Term, text: str, lang: str) -> None:
        """Another name of a place (an article title, a prefixed form): ``skos:altLabel``."""
        self.alt_labels[node].add((doc, Literal(text, lang=lang)))

    def preferred_labels(self) -> None:
        """One ``skos:prefLabel`` per place and language tag, the other names ``skos:altLabel``.

        The preferred name is the one the most authoritative document states
        (:data:`LABEL_AUTHORITY`: the reviewed links table, which carries Wikidata's label,
        then the League's list, then zh.wikipedia, then other documents by name), the
        lowest in code-point order among that document's names; it goes into the graph of
        that document, each other name into the graph of the document stating it. A name
        is never both preferred and alternative for one place (SKOS's disjointness).
        """

        def rank(doc: str) -> tuple[int, str]:
            return (LABEL_AUTHORITY.index(doc) if doc in LABEL_AUTHORITY
                    else len(LABEL_AUTHORITY), doc)

        for node in sorted(self.place_labels.keys() | self.alt_labels.keys()):
            preferred: set[Term] = set()
            for lang, stated in sorted(self.place_labels.get(node, {}).items()):
                doc, text = min(stated, key=lambda d_t: (rank(d_t[0]), d_t[1]))
                pref = Literal(text, lang=lang)
                preferred.add(pref)
                self.graph(doc).add((node, SKOS.prefLabel, pref))
                for other_doc, other in stated:
                    if other != text:
                        self.alt_labels[node].add((other_doc, Literal(other, lang=lang)))
            for doc, alt in sorted(self.alt_labels.get(node, ())):
                if alt not in preferred:
                    self.graph(doc).add((node, SKOS.altLabel, alt))

    def wiki_names(self, node: Term, link: WikiLink) -> None:
        named = (node, link.title, link.label)
        if named in self.wiki_named:
            return  # the same triples and labels as the first time
        self.wiki_named.add(named)
        g = self.graph("zhwiki")
        label = link.label.strip() or _title_text(link.title)
        self.names("zhwiki", node, [(label, zh_tag(label))])
        title = _title_text(link.title)
        if title and title != label:
            self.place_alt_label("zhwiki", node, title, zh_tag(title))
        page = ZHWIKI_PAGE + quote(link.title.replace(" ", "_"), safe="")
        g.add((node, SCHEMA.subjectOf, _node(page)))

    # -- provenance -------------------------------------------------------------------------

    def source(self, doc: str, file: str, titles: Sequence[tuple[str, str]] = ()) -> Term:
        node = self.iris.source(doc)
        g = self.graph(doc)
        g.add((node, RDF.type, TW.SourceDocument))
        g.add((node, DCTERMS.identifier, Literal(file)))
        # Titles come from the source plug-in (kg.sources); DOC_TITLES is the fallback.
        for text, lang in titles or DOC_TITLES.get(doc, ()):
            g.add((node, DCTERMS.title, Literal(text, lang=lang)))
            g.add((node, RDFS.label, Literal(text, lang=lang)))
        return node

    def provenance(self, doc: str, line: int, subject: Term) -> None:
        g = self.graph(doc)
        line_node = self.iris.source_line(doc, line)
        g.add((line_node, RDF.type, TW.SourceLine))
        g.add((line_node, TW.lineNumber, Literal(line, datatype=XSD.integer)))
        g.add((line_node, DCTERMS.isPartOf, self.iris.source(doc)))
        g.add((subject, PROV.wasDerivedFrom, line_node))
        g.add((subject, PROV.hadPrimarySource, self.iris.source(doc)))

    # -- records ----------------------------------------------------------------------------

    def membership(self, rec: Membership, index: int) -> None:
        doc = rec.source.doc
        g = self.graph(doc)
        country = self.place(
            doc, "country", rec.country_en, "",
            self.iris.place_lhc_country(rec.country_en), "country", rec.source.line,
        )
        self.names(doc, country, [(rec.country_en, "en"), (rec.country_ja, "ja")])
        city = self.place(
            doc, "member", rec.city_en, rec.country_en,
            self.iris.place_lhc_city(rec.country_en, rec.city_en), "city", rec.source.line,
        )
        self.names(doc, city, [(rec.city_en, "en"), (rec.city_ja, "ja")])
        g.add((city, TW.country, country))

        network = self.iris.network(rec.network)
        g.add((network, RDF.type, TW.CityNetwork))
        g.add((network, RDFS.label, Literal(rec.network, lang="en")))
        for text, lang in NETWORK_NAMES.get(rec.network, ()):
            g.add((network, RDFS.label, Literal(text, lang=lang)))

        period = self.iris.period_as_of(rec.as_of)
        instant = self.iris.instant(rec.as_of)
        g.add((period, RDF.type, TIME.Interval))
        g.add((period, RDFS.label, Literal(f"as of {rec.as_of}", lang="en")))
        g.add((period, TIME.inside, instant))
        g.add((instant, RDF.type, TIME.Instant))
        g.add((instant, TIME.inXSDgYearMonth, Literal(rec.as_of, datatype=XSD.gYearMonth)))

        node = self.iris.membership(doc, rec.source.line, index)
        g.add((node, RDF.type, ORG.Membership))
        g.add((node, ORG.member, city))
        g.add((node, ORG.organization, network))
        g.add((node, ORG.memberDuring, period))
        for text, lang in ((rec.region_en, "en"), (rec.region_ja, "ja")):
            if text.strip():
                g.add((node, TW.listedRegion, Literal(text.strip(), lang=lang)))
        self.provenance(doc, rec.source.line, node)
        self.stats.memberships += 1

    def twinning(self, rec: Twinning, index: int) -> None:
        doc = rec.source.doc
        g = self.graph(doc)
        cn_link = rec.cn[-1]
        cn = self.place(doc, "cn", cn_link.title, "", self.iris.place_zhwiki(cn_link.title), "",
                        rec.source.line)
        self.wiki_names(cn, cn_link)
        if rec.cn_prefix.strip():
            text = rec.cn_prefix.strip() + (cn_link.label.strip() or _title_text(cn_link.title))
            self.place_alt_label(doc, cn, text, zh_tag(text))
        cn_row = self.links.get(doc, "cn", cn_link.title, "")
        cn_country = self.country_from_qid(
            cn_row.country_qid if cn_row is not None and cn_row.country_qid else PRC_COUNTRY[0]
        )
        if cn_country is not None and cn_country != cn:
            g.add((cn, TW.country, cn_country))

        p_link = rec.partner[-1]
        country_title = rec.country.title if rec.country is not None else ""
        partner = self.place(
            doc, "partner", p_link.title, country_title,
            self.iris.place_zhwiki(p_link.title), "", rec.source.line,
        )
        self.wiki_names(partner, p_link)
        country: Term | None = None
        if rec.country is not None:
            country = self.place(
                doc, "country", rec.country.title, "",
                self.iris.place_zhwiki(rec.country.title), "country", rec.source.line,
            )
            self.wiki_names(country, rec.country)
        else:
            p_row = self.links.get(doc, "partner", p_link.title, country_title)
            if p_row is not None and p_row.country_qid:
                country = self.country_from_qid(p_row.country_qid)
        if country is not None and country != partner:
            g.add((partner, TW.country, country))

        node = self.iris.twinning(doc, rec.source.line, index)
        g.add((node, RDF.type, TW.Twinning))
        g.add((node, TW.place, cn))
        g.add((node, TW.place, partner))
        g.add((node, TW.listedPlace, cn))
        g.add((node, TW.partnerPlace, partner))
        cn_label = cn_link.label.strip() or _title_text(cn_link.title)
        p_label = p_link.label.strip() or _title_text(p_link.title)
        label = f"{cn_label} – {p_label}"
        g.add((node, RDFS.label, Literal(label, lang=zh_tag(label))))
        if rec.date is not None:
            g.add((node, TW.startDate, Literal(rec.date.iso, datatype=XSD[rec.date.xsd_type])))
        g.add((node, TW.agreementKind, agreement_kind(rec.note)))
        if rec.note:
            g.add((node, SKOS.note, Literal(rec.note, lang=zh_tag(rec.note))))
        self.provenance(doc, rec.source.line, node)
        # The direct link, both ways: simple queries stay simple.
        g.add((cn, TW.twinnedWith, partner))
        g.add((partner, TW.twinnedWith, cn))
        self.twin_pairs.append((node, cn, partner))
        self.stats.twinnings += 1

    def pair(self, rec: PairTwinning, index: int) -> None:
        """A twinning of a generic list (kg.sources.csvlist): side A listed, B the partner;
        each place with its country, both reconciled under role ``place``."""
        doc = rec.source.doc
        g = self.graph(doc)
        sides: list[Term] = []
        for city, country_name, lang in ((rec.city_a, rec.country_a, rec.lang_a),
                                         (rec.city_b, rec.country_b, rec.lang_b)):
            node = self.place(doc, "place", city, country_name,
                              self.iris.place_ref(doc, country_name, city), "city",
                              rec.source.line)
            self.names(doc, node, [(city, lang)])
            if country_name:
                country = self.place(doc, "country", country_name, "",
                                     self.iris.place_ref(doc, country_name), "country",
                                     rec.source.line)
                self.names(doc, country, [(country_name, lang)])
                if country != node:
                    g.add((node, TW.country, country))
            sides.append(node)
        a, b = sides
        node = self.iris.twinning(doc, rec.source.line, index)
        g.add((node, RDF.type, TW.Twinning))
        g.add((node, TW.place, a))
        g.add((node, TW.place, b))
        g.add((node, TW.listedPlace, a))
        g.add((node, TW.partnerPlace, b))
        same = rec.lang_a if rec.lang_a == rec.lang_b else "und"
        g.add((node, RDFS.label, Literal(f"{rec.city_a} – {rec.city_b}", lang=same)))
        if rec.date is not None:
            g.add((node, TW.startDate, Literal(rec.date.iso, datatype=XSD[rec.date.xsd_type])))
        g.add((node, TW.agreementKind, agreement_kind(rec.note)))
        if rec.note:
            g.add((node, SKOS.note, Literal(rec.note, lang=rec.note_lang)))
        if rec.source_url:
            g.add((node, DCTERMS.source, _node(rec.source_url)))
        self.provenance(doc, rec.source.line, node)
        g.add((a, TW.twinnedWith, b))
        g.add((b, TW.twinnedWith, a))
        self.twin_pairs.append((node, a, b))
        self.stats.twinnings += 1


def emit(
    results: Sequence[ParseResult], links: LinksTable, *, base: str = DEFAULT_BASE,
    links_file: str = "wikidata-links.tsv", consume: bool = False,
) -> tuple[Quads, EmitStats]:
    """The dataset for parsed documents and a links table, with its counts.

    One named graph per source document plus ``<base>graph/links``; no blank nodes; IRIs as
    :class:`~kg.rdf.vocab.Iris` describes. A place reference the table has no row for, or a
    row without a QID, becomes an unresolved place node. With ``consume`` and a list of
    ``results``, the list is emptied and each document's records are released once emitted,
    so they are not held beside the whole graph (``kg build``: about a gigabyte at 10^6
    twinnings). Never raises for well-typed input.
    """
    sets = LineSets()
    try:
        names, stats = emit_lines(results, links, sets, base=base, links_file=links_file,
                                  consume=consume)
        finished = sets.finish(list(names))
        return Quads({names[doc]: finished.pop(doc) for doc in names}), stats
    finally:
        sets.close()


def emit_lines(
    results: Sequence[ParseResult], links: LinksTable, sets: LineSets, *,
    base: str = DEFAULT_BASE, links_file: str = "wikidata-links.tsv", consume: bool = False,
) -> tuple[dict[str, str], EmitStats]:
    """:func:`emit`, the lines left in ``sets`` (to be finished: :meth:`LineSets.finish`
    or :meth:`LineSets.finish_files`): returns each graph's IRI by document id, the most
    authoritative document first (the order to finish in), and the counts."""
    return _emit(_Emitter(links, base, sets), results, links, links_file=links_file,
                 consume=consume)


def _emit(em: _Emitter, results: Sequence[ParseResult], links: LinksTable, *,
          links_file: str, consume: bool) -> tuple[dict[str, str], EmitStats]:
    em.source(LINKS_DOC, links_file)
    pending = sorted(results, key=lambda r: r.doc)
    pending.reverse()  # popped from the end, in document order
    if consume and isinstance(results, list):
        results.clear()
    while pending:
        # Popped, so no reference to a document's records outlives its emission.
        _emit_document(em, pending.pop())
    em.preferred_labels()
    _emit_geo(em, links)
    em.stats.places = len(em.places)
    em.stats.resolved_places = len(em.resolved)
    em.stats.unresolved_refs.sort()
    # Each triple in one graph only: that of the most authoritative document stating it
    # (LABEL_AUTHORITY, then by name). A triple in two graphs is counted twice by stores
    # that answer a query over several default-graph-uri's (or the union default graph)
    # with a bag, not the RDF merge (Oxigraph, kg serve: 24,581 for 24,388 triples), and
    # the dumps and VoID count it once; stated once, every store counts alike.
    order = sorted(em.graphs, key=lambda doc: (
        LABEL_AUTHORITY.index(doc) if doc in LABEL_AUTHORITY else len(LABEL_AUTHORITY), doc))
    return {doc: em.iris.graph(doc)[1:-1] for doc in order}, em.stats


def _emit_geo(em: _Emitter, links: LinksTable) -> None:
    # Geometry and distances (kg.rdf.geo), in the links graph: the links table gave them.
    place_qid = em.iris.place_qid
    coords = place_coordinates(links, lambda qid: place_qid(qid)[1:-1])
    resolved = {p: c for p, c in coords.items() if iri(p) in em.resolved}
    links_graph = em.graph(LINKS_DOC)
    pairs = ((t[1:-1], a[1:-1], b[1:-1]) for t, a, b in em.twin_pairs)
    for s, p, o in geo_triples(resolved, pairs):
        obj = iri(o) if isinstance(o, str) else Literal(o[0], datatype=iri(o[1]))
        links_graph.add((iri(s), iri(p), obj))


def _emit_document(em: _Emitter, result: ParseResult) -> None:
    em.source(result.doc, result.file, result.titles)
    records: list[Record | None] = list(result.records)
    # Unless the caller keeps it, the document goes now and each record once emitted
    # (emit(consume=True): about a gigabyte at 10^6 twinnings, freed for the lines).
    del result
    seen: dict[tuple[str, int], int] = defaultdict(int)
    for number in range(len(records)):
        rec = records[number]
        records[number] = None
        assert rec is not None  # each taken once
        key = (rec.source.doc, rec.source.line)
        seen[key] += 1
        if isinstance(rec, Membership):
            em.membership(rec, seen[key])
        elif isinstance(rec, PairTwinning):
            em.pair(rec, seen[key])
        else:
            em.twinning(rec, seen[key])
