"""HTML pages about the graph's resources and the ontology, made on the server.

The pages are Jinja2 templates (``templates/``) with autoescaping on: this module gathers
what a page shows (:class:`Link`, :class:`Shown`, plain dicts) and the templates lay it
out, so no value from the data reaches the HTML unescaped. Every text from the data sits
in ``<bdi>`` or an element with ``dir``, so a name in a right-to-left script or with bidi
control characters cannot reorder the text around it. Only ``http`` and ``https`` IRIs
become links; IRIs under the base link to their local page, Wikidata items to Wikidata.
There is no script but the place map's. The page's language (the order of ``langs``)
is chosen by :mod:`kg.serve.linked_data`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import jinja2
import pyoxigraph as ox

from kg.rdf.vocab import (
    DCTERMS,
    ORG,
    OWL,
    PREFIXES,
    PROV,
    RDF,
    RDFS,
    SCHEMA,
    SKOS,
    TW,
    VOID,
    WD,
    XSD,
)
from kg.serve.descriptions import (
    DOCUMENT_SUFFIXES,
    MAX_IN,
    MAX_OUT,
    ONTOLOGY_NS,
    Description,
    curie,
    labels_of,
    load_ontology,
    term_text,
    triple_key,
    triples_of,
)

__all__ = ["Link", "Page", "Shown", "bcp47", "render"]

_ONTOLOGY_IRI = ONTOLOGY_NS[:-1]
_WD = str(WD)
_SKOS = str(SKOS)
_TYPE = ox.NamedNode(str(RDF.type))
_LABEL_PREDICATES = {str(RDFS.label), str(SKOS.prefLabel), str(SKOS.altLabel),
                     str(DCTERMS.title)}
_DEFINITIONS = (str(SKOS.definition), str(RDFS.comment))
_QID = re.compile(r"^Q[1-9][0-9]*$")
_GEO_HAS_GEOMETRY = dict(PREFIXES)["geo"] + "hasGeometry"
_DUMP = re.compile(r"[\w.-]+\.(?:ttl|nt|nq|jsonld|trig|rdf|txt)")
_FORMAT_NAMES = {".ttl": "Turtle", ".nt": "N-Triples", ".jsonld": "JSON-LD", ".rdf": "RDF/XML"}

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("kg.serve", "templates"),
    autoescape=True,  # every template is HTML
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    auto_reload=False,  # the templates ship with the package: no stat per page
)


def render(template: str, **context: Any) -> str:
    """``templates/TEMPLATE`` rendered with ``context``, every value escaped.

    Raises :class:`jinja2.TemplateError` for a template that does not exist or a name the
    context lacks (a defect, caught by the tests)."""
    return _ENV.get_template(template).render(**context)


@dataclass(frozen=True, slots=True)
class Link:
    """A link as a page shows it: its text, its target (None: shown as text, not a link),
    whether it leaves the site, and the Wikidata item beside a local link."""

    text: str
    href: str | None
    external: bool = False
    qid: str | None = None


@dataclass(frozen=True, slots=True)
class Shown:
    """A term as a page shows it: a link, or a literal's text with its language or
    datatype, or a part of a resource (a candidate with its score, say) by its statements."""

    text: str = ""
    link: Link | None = None
    lang: str = ""
    datatype: str = ""
    parts: tuple[tuple[Link, Shown], ...] = ()


def bcp47(lang: str) -> str:
    """A language tag as BCP 47 writes it (Oxigraph gives them in lower case):
    ``zh-hant`` -> ``zh-Hant``, ``en-gb`` -> ``en-GB``."""
    parts = lang.split("-")
    return "-".join([parts[0], *(p.title() if len(p) == 4 else p.upper() if len(p) == 2
                                 else p for p in parts[1:])]) if lang else ""


def _path_text(iri: str, base: str) -> str:
    """``iri`` relative to ``base`` (``twinning/zhwiki/L12``), for link texts."""
    return unquote(iri[len(base):]) if iri.startswith(base) else curie(iri)


class Page:
    """What the pages about resources of ``stores`` show, in the languages ``langs``
    (lower-case tags, most wanted first); IRIs under ``base`` link locally. ``home`` is
    the site's name (the dataset's title) in the page's language."""

    def __init__(self, stores: list[ox.Store], base: str, langs: list[str],
                 home: str = "home") -> None:
        self.stores = stores
        self.base = base
        self.langs = langs
        self.home = home
        self.onto = load_ontology()

    # -- terms -----------------------------------------------------------------------------

    def href(self, iri: str) -> str | None:
        """Where a link to ``iri`` goes (None: not a link)."""
        if iri.startswith(self.base):
            rest = iri[len(self.base):]
            if _DUMP.fullmatch(rest):
                return "/dumps/" + rest  # a dump's w3id IRI, as the w3id rules send it
            return "/" + rest
        if iri.startswith(ONTOLOGY_NS):
            return "/ontology#" + iri[len(ONTOLOGY_NS):]
        if iri == _ONTOLOGY_IRI:
            return "/ontology"
        if iri.startswith(_WD) and _QID.match(iri[len(_WD):]):
            return "https://www.wikidata.org/wiki/" + iri[len(_WD):]
        if iri.startswith(("http://", "https://")):
            return iri
        return None

    def label(self, iri: str) -> str:
        """The label of ``iri`` in the first of the page's languages that has one (else the
        first in code-point order of any language, else a prefixed name)."""
        found: dict[str, str] = {}
        for store in [*self.stores, self.onto]:
            for lang, text in labels_of(store, ox.NamedNode(iri)):
                found.setdefault(lang, text)
        for lang in self.langs:
            if lang in found:
                return found[lang]
        if found:
            return found[sorted(found)[0]]
        if iri.startswith(_WD):
            return "wd:" + iri[len(_WD):]
        return curie(iri)

    def link(self, iri: str, text: str | None = None) -> Link:
        """A link to ``iri`` with ``text`` (default its label), and its Wikidata item."""
        target = self.href(iri)
        qid = None if iri.startswith(_WD) or target is None else self.wikidata_of(iri)
        return Link(text if text is not None else self.label(iri), target,
                    external=target is not None and not target.startswith("/"), qid=qid)

    def term_link(self, iri: str) -> Link:
        """A link to a term (a predicate, a class) by its prefixed name."""
        return self.link(iri, curie(iri))

    def shown(self, term: Any) -> Shown:
        """``term`` as a page shows it."""
        if isinstance(term, ox.NamedNode):
            return Shown(link=self.link(term.value))
        if isinstance(term, ox.Literal):
            if term.language:
                return Shown(term.value, lang=bcp47(term.language))
            plain = term.datatype.value == str(XSD.string)
            return Shown(term.value, datatype="" if plain else curie(term.datatype.value))
        return Shown(str(term))

    def values(self, subject: str, predicate: str) -> list[Any]:
        """The objects of ``subject predicate ?o``, sorted."""
        return sorted({t.object for t in triples_of(self.stores, ox.NamedNode(subject),
                                                    ox.NamedNode(predicate))}, key=str)

    def shown_values(self, subject: str, predicate: str) -> list[Shown]:
        """The objects of ``subject predicate ?o`` as a page shows them."""
        return [self.shown(v) for v in self.values(subject, predicate)]

    def wikidata_of(self, iri: str) -> str | None:
        """The QID beside a local link: ``owl:sameAs`` (or ``skos:exactMatch``) to a
        Wikidata item."""
        node = ox.NamedNode(iri)
        for predicate in (str(OWL.sameAs), str(SKOS.exactMatch)):
            for t in triples_of(self.stores, node, ox.NamedNode(predicate)):
                value = term_text(t.object)
                if value.startswith(_WD) and _QID.match(value[len(_WD):]):
                    return str(value[len(_WD):])
        return None

    def frame(self, path: str, title: str) -> dict[str, Any]:
        """What every page's frame (``base.html``) needs."""
        formats = [{"media": DOCUMENT_SUFFIXES[s], "href": path + s, "name": name}
                   for s, name in _FORMAT_NAMES.items()]
        return {"lang": bcp47(self.langs[0]) if self.langs else "en", "title": title,
                "home": self.home, "formats": formats}

    # -- a resource --------------------------------------------------------------------------

    def resource(self, iri: str, desc: Description) -> str:
        """The HTML page of ``iri`` from its description (and a few lookups for places)."""
        node = ox.NamedNode(iri)
        types = sorted({t.object.value for t in desc.triples
                        if t.subject == node and t.predicate == _TYPE
                        and isinstance(t.object, ox.NamedNode)})
        title = self.label(iri)
        kinds = [self.link(t, _with_curie(self.label(t), t)) for t in types]
        place = self._place(iri) if str(TW.Place) in types else None
        lines = self._source_lines(iri, desc) if str(TW.SourceDocument) in types else []
        shown = {iri + "#" + line["anchor"] for line in lines}
        covers = ([block["iri"] for block in place["reconciliation"]["blocks"]]
                  if place is not None and place["reconciliation"] is not None else [])
        return render(
            "resource.html", **self.frame("/" + iri[len(self.base):], title),
            iri=iri, kinds=kinds, truncated=desc.truncated, max_out=MAX_OUT, max_in=MAX_IN,
            place=place, lines=lines, parts=self._parts(iri, desc, shown, covers),
            statements=self._statements(iri, desc), incoming=self._incoming(iri, desc),
            datasets=self._datasets(iri, desc))

    def _parts(self, iri: str, desc: Description, shown: set[str],
               covers: list[str]) -> list[dict[str, Any]]:
        """The hash resources of the document (``#geometry``…) that no other section shows
        (``shown``, and ``covers`` with what lies under them), each with its statements,
        under an anchor that is its fragment, so that a link to the hash IRI lands on it."""
        by_subject: dict[str, list[ox.Triple]] = {}
        for t in desc.triples:
            if isinstance(t.subject, ox.NamedNode) and t.subject.value.startswith(iri + "#"):
                by_subject.setdefault(t.subject.value, []).append(t)
        out = []
        for subject, triples in sorted(by_subject.items()):
            if subject in shown or any(subject == s or subject.startswith((s + "/", s + "#"))
                                       for s in covers):
                continue
            anchor = subject[len(iri) + 1:]
            out.append({"anchor": anchor, "title": "#" + unquote(anchor),
                        "rows": [(self.term_link(t.predicate.value), self._deep(t.object, subject))
                                 for t in sorted(triples, key=triple_key)]})
        return out

    # -- a place -----------------------------------------------------------------------------

    def _place(self, iri: str) -> dict[str, Any]:
        """Names, facts, twins, memberships, reconciliation and map of a place."""
        node = ox.NamedNode(iri)
        same = sorted({t.object.value for t in triples_of(self.stores, node)
                       if isinstance(t.object, ox.NamedNode) and t.object.value.startswith(_WD)
                       and t.predicate.value in (str(OWL.sameAs), str(SKOS.exactMatch))})
        facts: list[tuple[str, list[Shown]]] = []
        for qiri in same:
            qid = qiri[len(_WD):]
            facts.append(("Wikidata", [Shown(link=Link(f"{qid} ({qiri})", self.href(qiri),
                                                       external=True))]))
        for name, predicate in (("Country", str(TW.country)),
                                ("Article", str(SCHEMA.subjectOf))):
            shown = self.shown_values(iri, predicate)
            if shown:
                facts.append((name, shown))
        # The documents naming the place are said of its records (tw:PlaceRecord
        # schema:about it), not of the place.
        named = sorted({shown for record in self._records(node)
                        for shown in self.shown_values(term_text(record), str(TW.namedIn))},
                       key=str)
        if named:
            facts.append(("Named in", named))
        return {"names": self._names(iri), "facts": facts, "twins": self._twins(iri),
                "memberships": self._memberships(iri),
                "reconciliation": self._reconciliation(iri),
                "map_iri": iri if self.values(iri, _GEO_HAS_GEOMETRY) else None}

    def _names(self, iri: str) -> list[tuple[str, str, str]]:
        rows = []
        for predicate in (str(SKOS.prefLabel), str(RDFS.label), str(SKOS.altLabel)):
            for obj in self.values(iri, predicate):
                if isinstance(obj, ox.Literal):
                    rows.append((obj.language or "", obj.value, curie(predicate)))
        order = {lang: i for i, lang in enumerate(self.langs)}
        rows.sort(key=lambda r: (order.get(r[0], len(order)), r[0], r[2], r[1]))
        return [(text, bcp47(lang), kind) for lang, text, kind in rows]

    def _sources_of(self, node: str) -> list[Link]:
        out = []
        for line in self.values(node, str(PROV.wasDerivedFrom)):
            if not isinstance(line, ox.NamedNode):
                continue
            number = self.values(line.value, str(TW.lineNumber))
            doc = self.values(line.value, str(DCTERMS.isPartOf))
            # file:line, as the build report and the links table cite sources
            files = self.values(doc[0].value, str(DCTERMS.identifier)) if doc else []
            name = files[0].value if files else _path_text(line.value.split("#")[0], self.base)
            text = f"{name}:{number[0].value}" if number else _path_text(line.value, self.base)
            out.append(self.link(line.value, text))
        return out

    def _twins(self, iri: str) -> list[dict[str, Any]]:
        node = ox.NamedNode(iri)
        twinnings = sorted({t.subject.value for t in triples_of(
            self.stores, None, ox.NamedNode(str(TW.place)), node)
            if isinstance(t.subject, ox.NamedNode)})
        rows = []
        for tw in twinnings:
            others = [p.value for p in self.values(tw, str(TW.place))
                      if isinstance(p, ox.NamedNode) and p.value != iri] or [iri]
            start = self.values(tw, str(TW.startDate))
            rows.append((start[0].value if start else "", {
                "others": [self.link(o) for o in others], "since": [self.shown(s) for s in start],
                "until": self.shown_values(tw, str(TW.endDate)),
                "kind": self.shown_values(tw, str(TW.agreementKind)),
                "twinning": self.link(tw, _path_text(tw, self.base)),
                "sources": self._sources_of(tw)}))
        rows.sort(key=lambda r: r[0])
        return [row for _, row in rows]

    def _memberships(self, iri: str) -> list[dict[str, Any]]:
        found = sorted({t.subject.value for t in triples_of(
            self.stores, None, ox.NamedNode(str(ORG.member)), ox.NamedNode(iri))
            if isinstance(t.subject, ox.NamedNode)})
        return [{"network": self.shown_values(m, str(ORG.organization)),
                 "during": self.shown_values(m, str(ORG.memberDuring)),
                 "region": self.shown_values(m, str(TW.listedRegion)),
                 "membership": self.link(m, _path_text(m, self.base)),
                 "sources": self._sources_of(m)} for m in found]

    def _reconciliation(self, iri: str) -> dict[str, Any] | None:
        """Status, candidates and any reconciliation node the graph links to the place."""
        node = ox.NamedNode(iri)
        facts = [(name, shown) for name, shown in (
            ("Status", self.shown_values(iri, str(TW.reconciliationStatus))),
            ("Candidates", self.shown_values(iri, str(TW.candidate)))) if shown]
        reconciliation = ox.NamedNode(str(TW.Reconciliation))

        def is_reconciliation(term: Any) -> bool:
            return isinstance(term, ox.NamedNode | ox.BlankNode) and any(
                True for _ in triples_of(self.stores, term, _TYPE, reconciliation))

        nodes = {t.object for t in triples_of(self.stores, node) if is_reconciliation(t.object)}
        nodes |= {t.subject for t in triples_of(self.stores, None, None, node)
                  if is_reconciliation(t.subject)}
        # The place records about the place (how a document named it, its status and
        # candidates) and the reconciliations they link to.
        for record in self._records(node):
            nodes.add(record)
            nodes |= {t.object for t in triples_of(self.stores, record,
                                                   ox.NamedNode(str(TW.reconciliation)))
                      if isinstance(t.object, ox.NamedNode)}
        blocks = [{"iri": term_text(rec),
                   "anchor": term_text(rec)[len(iri) + 1:]
                   if term_text(rec).startswith(iri + "#") else "",
                   "rows": [(self.link(t.predicate.value), self._deep(t.object, term_text(rec)))
                            for t in sorted(triples_of(self.stores, rec), key=triple_key)
                            if t.predicate != _TYPE]}
                  for rec in sorted(nodes, key=str)]
        return {"facts": facts, "blocks": blocks} if facts or blocks else None

    def _records(self, node: ox.NamedNode) -> list[Any]:
        """The place records (``tw:PlaceRecord``) that are ``schema:about`` ``node``."""
        record = ox.NamedNode(str(TW.PlaceRecord))
        return sorted({t.subject for t in triples_of(self.stores, None,
                                                     ox.NamedNode(str(SCHEMA.about)), node)
                       if isinstance(t.subject, ox.NamedNode | ox.BlankNode) and any(
                           True for _ in triples_of(self.stores, t.subject, _TYPE, record))},
                      key=str)

    def _deep(self, term: Any, parent: str, depth: int = 2) -> Shown:
        # A part of the reconciliation (a candidate with its score, say: a blank node or an
        # IRI under the reconciliation node's own) is shown by its own statements.
        part = isinstance(term, ox.BlankNode) or (
            isinstance(term, ox.NamedNode) and term.value.startswith((parent + "/", parent + "#")))
        if not part or depth == 0:
            return self.shown(term)
        inner = [(self.term_link(t.predicate.value), self._deep(t.object, parent, depth - 1))
                 for t in sorted(triples_of(self.stores, term), key=triple_key)
                 if t.predicate != _TYPE]
        return Shown(parts=tuple(inner)) if inner else self.shown(term)

    def _source_lines(self, iri: str, desc: Description) -> list[dict[str, Any]]:
        lines = {t.subject.value for t in desc.triples
                 if isinstance(t.subject, ox.NamedNode) and t.subject.value.startswith(iri + "#")
                 and t.predicate.value == str(TW.lineNumber)}
        derived = ox.NamedNode(str(PROV.wasDerivedFrom))
        rows = []
        for line in sorted(lines, key=lambda v: (len(v), v)):
            things = sorted({t.subject.value for t in triples_of(
                self.stores, None, derived, ox.NamedNode(line))
                if isinstance(t.subject, ox.NamedNode)})
            rows.append({"anchor": line[len(iri) + 1:],
                         "things": [self.link(x) for x in things]})
        return rows

    def _statements(self, iri: str, desc: Description) -> list[tuple[Link, list[Shown]]]:
        node = ox.NamedNode(iri)
        by_predicate: dict[str, list[Any]] = {}
        for t in desc.triples:
            if t.subject == node:
                by_predicate.setdefault(t.predicate.value, []).append(t.object)
        return [(self.term_link(p), [self.shown(o) for o in objs])
                for p, objs in sorted(by_predicate.items(), key=lambda kv: curie(kv[0]))]

    def _incoming(self, iri: str, desc: Description) -> list[tuple[Link, Link]]:
        node = ox.NamedNode(iri)
        return [(self.link(t.subject.value), self.term_link(t.predicate.value))
                for t in desc.triples
                if t.object == node and isinstance(t.subject, ox.NamedNode)
                and not t.subject.value.startswith(iri + "#")]

    def _datasets(self, iri: str, desc: Description) -> list[dict[str, Any]]:
        # The datasets the description names with void:inDataset, with their licences.
        node = ox.NamedNode(iri)
        datasets = sorted({t.object.value for t in desc.triples
                           if t.subject == node and t.predicate.value == str(VOID.inDataset)
                           and isinstance(t.object, ox.NamedNode)})
        out = []
        for dataset in datasets:
            licences = sorted({t.object.value for t in desc.triples
                               if isinstance(t.subject, ox.NamedNode)
                               and t.subject.value == dataset
                               and t.predicate.value == str(DCTERMS.license)
                               and isinstance(t.object, ox.NamedNode)})
            out.append({"dataset": self.link(dataset),
                        "licences": [self.link(x, x) for x in licences]})
        return out

    # -- the ontology ------------------------------------------------------------------------

    def ontology(self, onto: ox.Store) -> str:
        """The ontology's documentation: its header, then every ``tw:`` term with its labels
        and definitions in every language and its other statements, then the reused terms."""
        head = ox.NamedNode(_ONTOLOGY_IRI)
        title = self.label(_ONTOLOGY_IRI)
        titles = self.values(_ONTOLOGY_IRI, str(DCTERMS.title))
        for lang in self.langs:
            match = [t.value for t in titles if isinstance(t, ox.Literal) and t.language == lang]
            if match:
                title = match[0]
                break
        about = [(self.term_link(t.predicate.value), self.shown(t.object))
                 for t in sorted(triples_of([onto], head), key=triple_key)
                 if t.predicate != _TYPE]
        terms = sorted({t.subject.value for t in triples_of([onto])
                        if isinstance(t.subject, ox.NamedNode)
                        and t.subject.value.startswith(ONTOLOGY_NS)})
        group_names = [
            (str(OWL.Class), "Classes"), (str(OWL.ObjectProperty), "Object properties"),
            (str(OWL.DatatypeProperty), "Datatype properties"),
            (str(OWL.AnnotationProperty), "Annotation properties"),
            (_SKOS + "ConceptScheme", "Concept schemes"), (_SKOS + "Concept", "Concepts"),
            (str(RDFS.Datatype), "Datatypes"), ("", "Other terms"),
        ]
        groups: dict[str, list[dict[str, Any]]] = {}
        for iri in terms:
            kinds = {term_text(t.object) for t in triples_of([onto], ox.NamedNode(iri), _TYPE)}
            group = next((name for kind, name in group_names if kind in kinds), "Other terms")
            groups.setdefault(group, []).append(self._term_doc(onto, iri))
        reused = sorted({t.subject.value for t in triples_of([onto], None, ox.NamedNode(
            str(RDFS.isDefinedBy))) if isinstance(t.subject, ox.NamedNode)
            and not t.subject.value.startswith(ONTOLOGY_NS)})
        return render(
            "ontology.html", **self.frame("/ontology", title), iri=_ONTOLOGY_IRI,
            namespace=ONTOLOGY_NS, about=about,
            groups=[(name, groups[name]) for _, name in group_names if name in groups],
            reused=[self.term_link(i) for i in reused])

    def _term_doc(self, onto: ox.Store, iri: str) -> dict[str, Any]:
        triples = sorted(triples_of([onto], ox.NamedNode(iri)), key=triple_key)
        order = {lang: i for i, lang in enumerate(self.langs)}
        texts = [(t.object.language or "", t.predicate.value, t.object.value) for t in triples
                 if isinstance(t.object, ox.Literal)
                 and t.predicate.value in (*_LABEL_PREDICATES, *_DEFINITIONS)]
        texts.sort(key=lambda r: (order.get(r[0], len(order)), r[0], r[1]))
        by_lang: dict[str, dict[str, str]] = {}
        for lang, predicate, text in texts:
            kind = "definition" if predicate in _DEFINITIONS else "label"
            by_lang.setdefault(lang, {}).setdefault(kind, text)
        return {
            "iri": iri, "local": iri[len(ONTOLOGY_NS):], "curie": curie(iri),
            "label": self.label(iri),
            "texts": [(bcp47(lang), v.get("label", ""), v.get("definition", ""))
                      for lang, v in by_lang.items()],
            "other": [(self.term_link(t.predicate.value), self.shown(t.object))
                      for t in triples if not (
                          isinstance(t.object, ox.Literal)
                          and t.predicate.value in (*_LABEL_PREDICATES, *_DEFINITIONS))],
        }


def _with_curie(label: str, iri: str) -> str:
    short = curie(iri)
    return short if label == short else f"{label} ({short})"

