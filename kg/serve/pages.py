"""HTML pages about the graph's resources and the ontology, made on the server.

Every value is escaped, there is no script but the place map's; only ``http`` and
``https`` IRIs become links, IRIs under the base link to their local page, Wikidata items
to Wikidata. The page's language follows ``?lang=`` or ``Accept-Language``
(:mod:`kg.serve.linked_data` chooses it).
"""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import unquote

import pyoxigraph as ox

from kg.serve.descriptions import (
    _DCTERMS,
    _DEFINITIONS,
    _LABEL_PREDICATES,
    _ONTOLOGY_IRI,
    _ORG,
    _OWL,
    _PROV,
    _QID,
    _RDFS,
    _SKOS,
    _TYPE,
    _WD,
    DOCUMENT_SUFFIXES,
    MAX_IN,
    MAX_OUT,
    ONTOLOGY_NS,
    Description,
    _key,
    _labels,
    _text,
    _triples,
    curie,
    load_ontology,
)

__all__: list[str] = []

_DUMP = re.compile(r"[\w.-]+\.(?:ttl|nt|nq|jsonld|trig|rdf|txt)")



def _tag(lang: str) -> str:
    # A language tag as BCP 47 writes it (Oxigraph gives them in lower case).
    parts = lang.split("-")
    return "-".join([parts[0], *(p.title() if len(p) == 4 else p.upper() if len(p) == 2
                                 else p for p in parts[1:])]) if lang else ""


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _with_curie(label: str, iri: str) -> str:
    short = curie(iri)
    return short if label == short else f"{label} ({short})"


class _Page:
    """Renders HTML about resources of ``stores``; IRIs under ``base`` link locally."""

    def __init__(self, stores: list[ox.Store], base: str, langs: list[str]) -> None:
        self.stores = stores
        self.base = base
        self.langs = langs
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
        """The label of ``iri`` in the page's language (else any language, else a prefixed
        name)."""
        found: dict[str, str] = {}
        for store in [*self.stores, self.onto]:
            for lang, text in _labels(store, ox.NamedNode(iri)):
                found.setdefault(lang, text)
        for lang in self.langs:
            if lang in found:
                return found[lang]
        if found:
            return found[sorted(found)[0]]
        if iri.startswith(_WD):
            return "wd:" + iri[len(_WD):]
        return curie(iri)

    def link(self, iri: str, text: str | None = None) -> str:
        shown = _e(text if text is not None else self.label(iri))
        target = self.href(iri)
        if target is None:
            return f'<span class="iri">{shown}</span>'
        extra = ' rel="noopener"' if not target.startswith("/") else ""
        out = f'<a href="{_e(target)}"{extra}>{shown}</a>'
        if iri.startswith(_WD):
            return out
        qid = _wikidata_of(iri, self.stores)
        if qid:
            out += (f' <a class="wd" href="https://www.wikidata.org/wiki/{qid}" '
                    f'rel="noopener">wd:{qid}</a>')
        return out

    def term(self, term: Any) -> str:
        if isinstance(term, ox.NamedNode):
            return self.link(term.value)
        if isinstance(term, ox.Literal):
            out = _e(term.value)
            if term.language:
                out += f' <span class="lang">@{_e(_tag(term.language))}</span>'
            elif term.datatype.value not in ("http://www.w3.org/2001/XMLSchema#string",):
                out += f' <span class="dt">{_e(curie(term.datatype.value))}</span>'
            return out
        return _e(str(term))

    def values(self, subject: str, predicate: str) -> list[Any]:
        return sorted({t.object for t in _triples(self.stores, ox.NamedNode(subject),
                                                  ox.NamedNode(predicate))}, key=str)

    def value(self, subject: str, predicate: str) -> str:
        found = self.values(subject, predicate)
        return ", ".join(self.term(v) for v in found)

    # -- page frame --------------------------------------------------------------------------

    def frame(self, title: str, body: str, *, alternates: str = "") -> str:
        lang = _tag(self.langs[0]) if self.langs else "en"
        return (
            "<!DOCTYPE html>\n"
            f'<html lang="{_e(lang)}">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{_e(title)}</title>\n"
            '<link rel="stylesheet" href="/static/style.css">\n'
            '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">\n'
            f"{alternates}</head>\n<body class=\"resource\">\n"
            '<header><p class="crumbs"><a href="/">twinning-kg</a> · '
            '<a href="/ontology">ontology</a> · <a href="/sparql">SPARQL</a></p>\n'
            f"{body}</main>\n</body>\n</html>\n"
        )

    def _formats(self, path: str) -> tuple[str, str]:
        names = {".ttl": "Turtle", ".nt": "N-Triples", ".jsonld": "JSON-LD", ".rdf": "RDF/XML"}
        head = "".join(
            f'<link rel="alternate" type="{DOCUMENT_SUFFIXES[s]}" href="{_e(path + s)}">\n'
            for s in names)
        links = " · ".join(f'<a href="{_e(path + s)}">{n}</a>' for s, n in names.items())
        return head, f'<p class="formats">Also as {links}.</p>\n'

    # -- a resource --------------------------------------------------------------------------

    def resource(self, iri: str, desc: Description) -> str:
        """The HTML page of ``iri`` from its description (and a few lookups for places)."""
        node = ox.NamedNode(iri)
        types = sorted({t.object.value for t in desc.triples
                        if t.subject == node and t.predicate == _TYPE
                        and isinstance(t.object, ox.NamedNode)})
        title = self.label(iri)
        path = "/" + iri[len(self.base):]
        alternates, formats = self._formats(path)
        kinds = ", ".join(self.link(t, _with_curie(self.label(t), t)) for t in types)
        parts = [
            f"<h1>{_e(title)}</h1>\n",
            f'<p class="iri-line"><code>{_e(iri)}</code>'
            + (f" · {kinds}" if kinds else "") + "</p>\n",
            formats,
            "</header>\n<main>\n",
        ]
        if desc.truncated:
            parts.append('<p class="warning">This description is cut at the server\'s '
                         f"bounds ({MAX_OUT} statements about it, {MAX_IN} pointing to it); "
                         'the <a href="/sparql">SPARQL endpoint</a> has the rest.</p>\n')
        if ONTOLOGY_NS + "Place" in types:
            parts.append(self._place(iri))
            parts.append(self._place_map(iri))
        if ONTOLOGY_NS + "SourceDocument" in types:
            parts.append(self._source_lines(iri, desc))
        parts.append(self._statements(iri, desc))
        parts.append(self._incoming(iri, desc))
        return self.frame(title, "".join(parts), alternates=alternates)

    def _names(self, iri: str) -> str:
        rows = []
        for predicate in (_SKOS + "prefLabel", _RDFS + "label", _SKOS + "altLabel"):
            for obj in self.values(iri, predicate):
                if isinstance(obj, ox.Literal):
                    rows.append((obj.language or "", obj.value, curie(predicate)))
        if not rows:
            return ""
        order = {lang: i for i, lang in enumerate(self.langs)}
        rows.sort(key=lambda r: (order.get(r[0], len(order)), r[0], r[2], r[1]))
        body = "".join(f'<tr><td lang="{_e(_tag(lang))}">{_e(text)}</td>'
                       f'<td>{_e(_tag(lang)) or "—"}</td>'
                       f"<td>{_e(kind)}</td></tr>\n" for lang, text, kind in rows)
        return ('<section id="names"><h2>Names</h2>\n<table><thead><tr><th>name</th>'
                '<th>language</th><th>as</th></tr></thead><tbody>\n' + body
                + "</tbody></table></section>\n")

    def _sources_of(self, node: str) -> str:
        lines = self.values(node, _PROV + "wasDerivedFrom")
        out = []
        for line in lines:
            if not isinstance(line, ox.NamedNode):
                continue
            number = self.values(line.value, ONTOLOGY_NS + "lineNumber")
            doc = self.values(line.value, _DCTERMS + "isPartOf")
            # file:line, as the build report and the links table cite sources
            files = self.values(doc[0].value, _DCTERMS + "identifier") if doc else []
            name = files[0].value if files else _path_text(line.value.split("#")[0], self.base)
            text = f"{name}:{number[0].value}" if number else _path_text(line.value, self.base)
            out.append(self.link(line.value, text))
        return ", ".join(out)

    def _place_map(self, iri: str) -> str:
        """A small map of a place with a point geometry and its twins, drawn in the browser
        by ``static/map.js`` (``kgPlaceMap``) from the SPARQL endpoint; "" without one."""
        if not self.values(iri, "http://www.opengis.net/ont/geosparql#hasGeometry"):
            return ""
        scripts = "".join(f'<script src="/static/{name}"></script>\n' for name in (
            "vendor/d3-array.min.js", "vendor/d3-geo.min.js", "vendor/topojson-client.min.js",
            "map.js"))
        return ('<section id="place-map"><h2>Map</h2>\n'
                '<link rel="stylesheet" href="/static/map.css">\n'
                f'<div class="place-map" data-kg-place-map="{_e(iri)}"></div>\n'
                '<p class="note">The place and its twins, as great-circle lines.</p>\n'
                f"{scripts}</section>\n")

    def _place(self, iri: str) -> str:
        node = ox.NamedNode(iri)
        parts = [self._names(iri)]
        same = [t.object.value for t in _triples(self.stores, node)
                if isinstance(t.object, ox.NamedNode) and t.object.value.startswith(_WD)
                and t.predicate.value in (_OWL + "sameAs", _SKOS + "exactMatch")]
        facts = []
        for qiri in sorted(set(same)):
            qid = qiri[len(_WD):]
            facts.append(("Wikidata", f'<a href="https://www.wikidata.org/wiki/{_e(qid)}" '
                                      f'rel="noopener">{_e(qid)}</a> (<code>{_e(qiri)}</code>)'))
        for name, predicate in (("Country", ONTOLOGY_NS + "country"),
                                ("Named in", ONTOLOGY_NS + "namedIn"),
                                ("Article", "https://schema.org/subjectOf")):
            value = self.value(iri, predicate)
            if value:
                facts.append((name, value))
        if facts:
            parts.append('<section id="facts"><dl class="facts">\n' + "".join(
                f"<dt>{_e(k)}</dt><dd>{v}</dd>\n" for k, v in facts) + "</dl></section>\n")
        parts.append(self._twins(iri))
        parts.append(self._memberships(iri))
        parts.append(self._reconciliation(iri))
        return "".join(parts)

    def _twins(self, iri: str) -> str:
        node = ox.NamedNode(iri)
        twinnings = sorted({t.subject.value for t in _triples(
            self.stores, None, ox.NamedNode(ONTOLOGY_NS + "place"), node)
            if isinstance(t.subject, ox.NamedNode)})
        rows = []
        for tw in twinnings:
            others = [p.value for p in self.values(tw, ONTOLOGY_NS + "place")
                      if isinstance(p, ox.NamedNode) and p.value != iri] or [iri]
            start = self.values(tw, ONTOLOGY_NS + "startDate")
            end = self.values(tw, ONTOLOGY_NS + "endDate")
            rows.append((start[0].value if start else "", (
                f"<tr><td>{', '.join(self.link(o) for o in others)}</td>"
                f"<td>{self.value(tw, ONTOLOGY_NS + 'startDate')}</td>"
                f"<td>{''.join(self.term(v) for v in end)}</td>"
                f"<td>{self.value(tw, ONTOLOGY_NS + 'agreementKind')}</td>"
                f"<td>{self.link(tw, _path_text(tw, self.base))}</td>"
                f"<td>{self._sources_of(tw)}</td></tr>\n")))
        if not rows:
            return ""
        rows.sort(key=lambda r: r[0])
        return ('<section id="twins"><h2>Twinned with</h2>\n<table><thead><tr><th>place</th>'
                "<th>since</th><th>until</th><th>agreement</th><th>twinning</th>"
                "<th>source</th></tr></thead><tbody>\n" + "".join(r[1] for r in rows)
                + "</tbody></table></section>\n")

    def _memberships(self, iri: str) -> str:
        node = ox.NamedNode(iri)
        found = sorted({t.subject.value for t in _triples(
            self.stores, None, ox.NamedNode(_ORG + "member"), node)
            if isinstance(t.subject, ox.NamedNode)})
        rows = []
        for m in found:
            rows.append(
                f"<tr><td>{self.value(m, _ORG + 'organization')}</td>"
                f"<td>{self.value(m, _ORG + 'memberDuring')}</td>"
                f"<td>{self.value(m, ONTOLOGY_NS + 'listedRegion')}</td>"
                f"<td>{self.link(m, _path_text(m, self.base))}</td>"
                f"<td>{self._sources_of(m)}</td></tr>\n")
        if not rows:
            return ""
        return ('<section id="memberships"><h2>Memberships</h2>\n<table><thead><tr>'
                "<th>network</th><th>during</th><th>region</th><th>membership</th>"
                "<th>source</th></tr></thead><tbody>\n" + "".join(rows)
                + "</tbody></table></section>\n")

    def _reconciliation(self, iri: str) -> str:
        """Status, candidates and any reconciliation node the graph links to the place."""
        node = ox.NamedNode(iri)
        facts = []
        status = self.value(iri, ONTOLOGY_NS + "reconciliationStatus")
        if status:
            facts.append(("Status", status))
        candidates = self.value(iri, ONTOLOGY_NS + "candidate")
        if candidates:
            facts.append(("Candidates", candidates))
        nodes = []
        reconciliation = ox.NamedNode(ONTOLOGY_NS + "Reconciliation")
        for t in _triples(self.stores, node):
            obj = t.object
            if isinstance(obj, ox.NamedNode | ox.BlankNode) and any(
                    True for _ in _triples(self.stores, obj, _TYPE, reconciliation)):
                nodes.append(obj)
        for t in _triples(self.stores, None, None, node):
            if isinstance(t.subject, ox.NamedNode | ox.BlankNode) and any(
                    True for _ in _triples(self.stores, t.subject, _TYPE, reconciliation)):
                nodes.append(t.subject)
        blocks = []
        for rec in sorted(set(nodes), key=str):
            rows = sorted(_triples(self.stores, rec), key=_key)
            blocks.append('<dl class="facts reconciliation">\n' + "".join(
                f"<dt>{self.link(t.predicate.value)}</dt>"
                f"<dd>{self._deep(t.object, str(rec.value))}</dd>\n"
                for t in rows if t.predicate != _TYPE) + "</dl>\n")
        if not facts and not blocks:
            return ""
        return ('<section id="reconciliation"><h2>Reconciliation with Wikidata</h2>\n'
                + ('<dl class="facts">\n' + "".join(f"<dt>{_e(k)}</dt><dd>{v}</dd>\n"
                                                    for k, v in facts) + "</dl>\n"
                   if facts else "")
                + "".join(blocks) + "</section>\n")

    def _deep(self, term: Any, parent: str, depth: int = 2) -> str:
        # A part of the reconciliation (a candidate with its score, say: a blank node or an
        # IRI under the reconciliation node's own) is shown by its own statements.
        part = isinstance(term, ox.BlankNode) or (
            isinstance(term, ox.NamedNode) and term.value.startswith((parent + "/", parent + "#")))
        if not part or depth == 0:
            return self.term(term)
        inner = sorted(_triples(self.stores, term), key=_key)
        shown = "; ".join(f"{self.link(t.predicate.value, curie(t.predicate.value))} "
                          f"{self._deep(t.object, parent, depth - 1)}"
                          for t in inner if t.predicate != _TYPE)
        return f'<span class="part">{shown or self.term(term)}</span>'


    def _source_lines(self, iri: str, desc: Description) -> str:
        lines: dict[str, list[str]] = {}
        for t in desc.triples:
            if (isinstance(t.subject, ox.NamedNode) and t.subject.value.startswith(iri + "#")
                    and t.predicate.value == ONTOLOGY_NS + "lineNumber"):
                lines.setdefault(t.subject.value, [])
        derived = ox.NamedNode(_PROV + "wasDerivedFrom")
        rows = []
        for line in sorted(lines, key=lambda v: (len(v), v)):
            things = sorted({t.subject.value for t in _triples(
                self.stores, None, derived, ox.NamedNode(line))
                if isinstance(t.subject, ox.NamedNode)})
            anchor = line[len(iri) + 1:]
            rows.append(f'<tr id="{_e(anchor)}"><td><a href="#{_e(anchor)}">{_e(anchor)}</a></td>'
                        f"<td>{'<br>'.join(self.link(x) for x in things)}</td></tr>\n")
        if not rows:
            return ""
        return ('<section id="lines"><h2>Lines and what the graph derives from them</h2>\n'
                "<table><thead><tr><th>line</th><th>statements</th></tr></thead><tbody>\n"
                + "".join(rows) + "</tbody></table></section>\n")

    def _statements(self, iri: str, desc: Description) -> str:
        node = ox.NamedNode(iri)
        by_predicate: dict[str, list[Any]] = {}
        for t in desc.triples:
            if t.subject == node:
                by_predicate.setdefault(t.predicate.value, []).append(t.object)
        rows = "".join(
            f"<tr><th scope=\"row\">{self.link(p, curie(p))}</th><td>"
            + "<br>".join(self.term(o) for o in objs) + "</td></tr>\n"
            for p, objs in sorted(by_predicate.items(), key=lambda kv: curie(kv[0])))
        return ('<section id="statements"><h2>All statements about it</h2>\n<table>'
                "<tbody>\n" + rows + "</tbody></table></section>\n")

    def _incoming(self, iri: str, desc: Description) -> str:
        node = ox.NamedNode(iri)
        rows = [(t.predicate.value, t.subject) for t in desc.triples
                if t.object == node and isinstance(t.subject, ox.NamedNode)
                and not t.subject.value.startswith(iri + "#")]
        if not rows:
            return ""
        body = "".join(f"<tr><td>{self.link(s.value)}</td><td>{self.link(p, curie(p))}</td></tr>\n"
                       for p, s in rows)
        return ('<section id="incoming"><h2>Pointing to it</h2>\n<table><tbody>\n' + body
                + "</tbody></table></section>\n")

    # -- the ontology ------------------------------------------------------------------------

    def ontology(self, onto: ox.Store) -> str:
        """The ontology's documentation: its header, then every ``tw:`` term with its labels
        and definitions in every language and its other statements, then the reused terms."""
        head = ox.NamedNode(_ONTOLOGY_IRI)
        title = self.label(_ONTOLOGY_IRI)
        titles = self.values(_ONTOLOGY_IRI, _DCTERMS + "title")
        for lang in self.langs:
            match = [t.value for t in titles if isinstance(t, ox.Literal) and t.language == lang]
            if match:
                title = match[0]
                break
        alternates, formats = self._formats("/ontology")
        parts = [f"<h1>{_e(title)}</h1>\n", f'<p class="iri-line"><code>{_e(_ONTOLOGY_IRI)}'
                 f"</code> · prefix <code>tw:</code> = <code>{_e(ONTOLOGY_NS)}</code></p>\n",
                 formats, "</header>\n<main>\n"]
        parts.append('<section id="about"><dl class="facts">\n' + "".join(
            f"<dt>{self.link(t.predicate.value, curie(t.predicate.value))}</dt>"
            f"<dd>{self.term(t.object)}</dd>\n"
            for t in sorted(_triples([onto], head), key=_key) if t.predicate != _TYPE)
            + "</dl></section>\n")
        terms = sorted({t.subject.value for t in _triples([onto])
                        if isinstance(t.subject, ox.NamedNode)
                        and t.subject.value.startswith(ONTOLOGY_NS)})
        groups: dict[str, list[str]] = {}
        group_names = [
            (_OWL + "Class", "Classes"), (_OWL + "ObjectProperty", "Object properties"),
            (_OWL + "DatatypeProperty", "Datatype properties"),
            (_OWL + "AnnotationProperty", "Annotation properties"),
            (_SKOS + "ConceptScheme", "Concept schemes"), (_SKOS + "Concept", "Concepts"),
            (_RDFS + "Datatype", "Datatypes"),
        ]
        for iri in terms:
            kinds = {_text(t.object) for t in _triples([onto], ox.NamedNode(iri), _TYPE)}
            group = next((name for kind, name in group_names if kind in kinds), "Other terms")
            groups.setdefault(group, []).append(iri)
        toc = []
        for _, name in [*group_names, ("", "Other terms")]:
            if name not in groups:
                continue
            toc.append(f"<li>{_e(name)}: " + ", ".join(
                f'<a href="#{_e(i[len(ONTOLOGY_NS):])}">{_e(curie(i))}</a>' for i in groups[name])
                + "</li>\n")
        parts.append('<nav id="toc"><ul>\n' + "".join(toc) + "</ul></nav>\n")
        for _, name in [*group_names, ("", "Other terms")]:
            if name not in groups:
                continue
            parts.append(f"<section><h2>{_e(name)}</h2>\n")
            for iri in groups[name]:
                parts.append(self._term_doc(onto, iri))
            parts.append("</section>\n")
        reused = sorted({t.subject.value for t in _triples([onto], None, ox.NamedNode(
            _RDFS + "isDefinedBy")) if isinstance(t.subject, ox.NamedNode)
            and not t.subject.value.startswith(ONTOLOGY_NS)})
        parts.append('<section id="reused"><h2>Terms reused from other vocabularies</h2>\n'
                     "<ul>\n" + "".join(f"<li>{self.link(i, curie(i))}</li>\n" for i in reused)
                     + "</ul></section>\n")
        return self.frame(title, "".join(parts), alternates=alternates)

    def _term_doc(self, onto: ox.Store, iri: str) -> str:
        local = iri[len(ONTOLOGY_NS):]
        node = ox.NamedNode(iri)
        triples = sorted(_triples([onto], node), key=_key)
        order = {lang: i for i, lang in enumerate(self.langs)}
        texts = [(t.object.language or "", t.predicate.value, t.object.value) for t in triples
                 if isinstance(t.object, ox.Literal)
                 and t.predicate.value in (*_LABEL_PREDICATES, *_DEFINITIONS)]
        texts.sort(key=lambda r: (order.get(r[0], len(order)), r[0], r[1]))
        by_lang: dict[str, dict[str, str]] = {}
        for lang, predicate, text in texts:
            kind = "definition" if predicate in _DEFINITIONS else "label"
            by_lang.setdefault(lang, {}).setdefault(kind, text)
        rows = "".join(
            f'<tr><td>{_e(_tag(lang)) or "—"}</td>'
            f'<td lang="{_e(_tag(lang))}">{_e(v.get("label", ""))}</td>'
            f'<td lang="{_e(_tag(lang))}">{_e(v.get("definition", ""))}</td></tr>\n'
            for lang, v in by_lang.items())
        other = "".join(
            f"<dt>{self.link(t.predicate.value, curie(t.predicate.value))}</dt>"
            f"<dd>{self.term(t.object)}</dd>\n" for t in triples
            if not (isinstance(t.object, ox.Literal)
                    and t.predicate.value in (*_LABEL_PREDICATES, *_DEFINITIONS)))
        return (f'<article class="term" id="{_e(local)}"><h3>{_e(curie(iri))} '
                f'<span class="term-label">{_e(self.label(iri))}</span></h3>\n'
                f"<p><code>{_e(iri)}</code></p>\n"
                "<table><thead><tr><th>language</th><th>label</th><th>definition</th></tr>"
                f"</thead><tbody>\n{rows}</tbody></table>\n"
                f'<dl class="facts">\n{other}</dl></article>\n')


def _path_text(iri: str, base: str) -> str:
    """``iri`` relative to ``base`` (``twinning/zhwiki/L12``), for link texts."""
    return unquote(iri[len(base):]) if iri.startswith(base) else curie(iri)


def _wikidata_of(iri: str, stores: list[ox.Store]) -> str | None:
    # The QID beside a local link: owl:sameAs (or skos:exactMatch) to a Wikidata item.
    node = ox.NamedNode(iri)
    for predicate in (_OWL + "sameAs", _SKOS + "exactMatch"):
        for t in _triples(stores, node, ox.NamedNode(predicate)):
            value = _text(t.object)
            if value.startswith(_WD) and _QID.match(value[len(_WD):]):
                return str(value[len(_WD):])
    return None
