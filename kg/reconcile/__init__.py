"""Reconciliation: every place reference of the parsed documents → a Wikidata QID or none.

Entry point :func:`reconcile` (records + gazetteer + overrides → :class:`~kg.model.LinkRow`
list); :func:`report` renders coverage and the unresolved/ambiguous places. Countries are
resolved first (:mod:`kg.reconcile.countries`) and are a hard filter for their places;
places are scored by :mod:`kg.reconcile.score`. The places of a user's list are first
matched against what ships (:mod:`kg.reconcile.shipped`: the committed links table and
overrides, exact and unambiguous matches only); the gazetteer, when there is one, and the
online client take what is left. What the page says a place lies in (the
earlier links of a multi-link cell, a title's disambiguator) is resolved first and gives a
missing country and a parent to check candidates against. The optional ``client`` (a
:class:`kg.reconcile.online.OnlineResolver`) is asked about what the gazetteer leaves open.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from kg.model import LinkRow, Membership, PairTwinning, ParseResult, Twinning, WikiLink
from kg.reconcile.countries import CountryMatch, resolve_country
from kg.reconcile.gazetteer import Gazetteer
from kg.reconcile.normalize import (
    has_cjk,
    kind_hint,
    name_key,
    strip_disambiguator,
    suffix_kind,
)
from kg.reconcile.overrides import Override, check_evidence
from kg.reconcile.score import Query, decide, score_candidates
from kg.reconcile.shipped import ShippedLinks

__all__ = ["NO_GAZETTEER", "PlaceRef", "Resolver", "collect_refs", "complete_from_shipped",
           "reconcile", "report"]


@dataclass
class PlaceRef:
    """A distinct place reference: identity plus the names and hints to resolve it."""

    doc: str
    role: str
    key: str
    country: str
    names: list[tuple[str, str]] = field(default_factory=list)
    kind: str = ""
    #: What the document says the place lies in: the titles of the earlier links of a
    #: multi-link cell (東京都 before 新宿區), then a disambiguator (加利福尼亞州 in
    #: 帕薩迪納_(加利福尼亞州)). Resolved in turn to a country or a parent place.
    context: list[str] = field(default_factory=list)


class Resolver(Protocol):
    """An online fallback (see :mod:`kg.reconcile.online`)."""

    def resolve(self, refs: list[PlaceRef], country_qids: dict[str, str]) -> dict[
        tuple[str, str, str, str], LinkRow]:
        """Rows for the references it could resolve."""
        ...


def collect_refs(results: Iterable[ParseResult]) -> list[PlaceRef]:
    """Every distinct place reference of the parse results, in first-seen order."""
    refs: dict[tuple[str, str, str, str], PlaceRef] = {}

    def add(doc: str, role: str, key: str, country: str, names: list[tuple[str, str]],
            kind: str, context: tuple[str, ...] = ()) -> None:
        ref = refs.setdefault((doc, role, key, country), PlaceRef(doc, role, key, country,
                                                                    kind=kind))
        for name in names:
            if name[1] and name not in ref.names:
                ref.names.append(name)
        for item in context:
            if item and item not in ref.context:
                ref.context.append(item)

    for result in results:
        for rec in result.records:
            if isinstance(rec, Membership):
                add("lhc", "country", rec.country_en, "", [("en", rec.country_en)], "country")
                add("lhc", "member", rec.city_en, rec.country_en,
                    [("en", rec.city_en), ("ja", rec.city_ja)],
                    kind_hint(rec.city_en) or "city")
            elif isinstance(rec, Twinning):
                country = rec.country.title if rec.country else ""
                if rec.country:
                    add("zhwiki", "country", country, "", [("zh", country)], "country")
                cn = rec.cn[-1]
                add("zhwiki", "cn", cn.title, "", [("zh", cn.title), ("zh", cn.label)],
                    _link_kind(cn), _context(rec.cn))
                part = rec.partner[-1]
                add("zhwiki", "partner", part.title, country,
                    [("zh", part.title), ("zh", part.label)], _link_kind(part),
                    _context(rec.partner))
            elif isinstance(rec, PairTwinning):
                # A generic list: both sides are places of the list's document, each with
                # the country the row gives.
                doc = rec.source.doc
                for city, country, tag in ((rec.city_a, rec.country_a, rec.lang_a),
                                           (rec.city_b, rec.country_b, rec.lang_b)):
                    if country:
                        add(doc, "country", country, "", [(_name_lang(country, ""), country)],
                            "country")
                    add(doc, "place", city, country, [(_name_lang(city, tag), city)],
                        kind_hint(city) or "city")
    return list(refs.values())


def _name_lang(name: str, tag: str) -> str:
    """The gazetteer language to match a name in: ``ja``, ``zh``, ``en`` (Latin script),
    or ``xx`` (any other), from its BCP 47 tag or, without one, its script."""
    primary = tag.split("-", 1)[0].lower()
    if primary in ("ja", "zh", "en"):
        return primary
    if has_cjk(name):
        return "zh"
    return "en" if all(ord(c) < 0x250 for c in name) else "xx"


def _link_kind(link: WikiLink) -> str:
    """The kind hint of a link: its title's suffix, else its label's (坎帕尼亞 shown as
    坎帕尼亞大區 is the region), else a disambiguator that is itself a kind word
    (中央_(大區))."""
    hint = kind_hint(link.title) or kind_hint(link.label)
    if not hint:
        disamb = strip_disambiguator(link.title)[1]
        hint = suffix_kind(disamb)
    return hint


def _context(links: tuple[WikiLink, ...]) -> tuple[str, ...]:
    """The parents the document gives for the last link: earlier links, then its title's
    disambiguator."""
    disamb = strip_disambiguator(links[-1].title)[1]
    return (*(link.title for link in links[:-1]), disamb)


def _fmt_candidates(cands: Iterable[object], limit: int = 5) -> str:
    out = []
    for cand in list(cands)[:limit]:
        out.append(f"{cand.qid}:{cand.score:.2f}")  # type: ignore[attr-defined]
    return " ".join(out)


def _country_row(ref: PlaceRef, match: CountryMatch | None) -> LinkRow:
    if match is None:
        return LinkRow(ref.doc, ref.role, ref.key, "", "", "unresolved", "", "", "country",  # type: ignore[arg-type]
                       "", "", "", "", "country name not known to the gazetteer or pycountry")
    return LinkRow(ref.doc, ref.role, ref.key, "", match.qid, "resolved", match.method,  # type: ignore[arg-type]
                   "1.00", "country", match.label_en, match.qid, match.evidence,
                   f"{match.qid}:1.00", "")


#: Why a place stays open when neither the shipped table nor a gazetteer settles it.
NO_GAZETTEER = "not in the shipped links table, and no gazetteer to match it against"


def _unresolved(ref: PlaceRef, reason: str, country_qid: str = "") -> LinkRow:
    return LinkRow(ref.doc, ref.role, ref.key, ref.country, "", "unresolved", "", "",  # type: ignore[arg-type]
                   ref.kind, "", country_qid, "", "", reason)


def reconcile(results: Iterable[ParseResult], gazetteer: Gazetteer | None,
              overrides: dict[tuple[str, str, str, str], Override] | None = None,
              client: Resolver | None = None, *,
              overrides_path: Path | None = None,
              shipped: ShippedLinks | None = None) -> list[LinkRow]:
    """One :class:`LinkRow` per distinct place reference, sorted by reference.

    With ``shipped``, the places of documents it does not cover (a user's list) are first
    matched against it, exactly (:meth:`ShippedLinks.match`). The gazetteer (``None``: no
    gazetteer, those places stay unresolved saying so) takes what is left, then
    ``client`` what is still open. Overrides win over everything; with a gazetteer, a QID
    override must name a gazetteer row carrying that QID (else
    :class:`~kg.errors.LinksError`). Never raises for an unresolvable place.
    """
    overrides = overrides or {}
    refs = collect_refs(results)
    rows: dict[tuple[str, str, str, str], LinkRow] = {}
    shipped_countries: dict[tuple[str, str], str] = {}
    if shipped is not None:
        for ref in refs:
            if shipped.covers(ref.doc):
                continue
            found = shipped.match(_unresolved(ref, ""))
            if found is not None:
                rows[(ref.doc, ref.role, ref.key, ref.country)] = found
                if ref.role == "country":
                    shipped_countries[(ref.doc, ref.key)] = found.qid
    country_names = {(r.doc, r.key) for r in refs if r.role == "country"}
    countries: dict[tuple[str, str], CountryMatch | None] = {
        key: resolve_country(key[1], gazetteer) if gazetteer is not None else None
        for key in sorted(country_names)
    }
    for key, qid in shipped_countries.items():
        if countries.get(key) is None:
            countries[key] = CountryMatch(qid, "", "", "", "links-table")
    china = resolve_country("China", gazetteer) if gazetteer is not None else None
    for ref in refs:
        ident = (ref.doc, ref.role, ref.key, ref.country)
        if ident in rows:
            continue
        if gazetteer is None:
            cmatch = countries.get((ref.doc, ref.country)) if ref.country else None
            rows[ident] = _unresolved(ref, NO_GAZETTEER, cmatch.qid if cmatch else "")
            continue
        if ref.role == "country":
            rows[ident] = _country_row(ref, countries[(ref.doc, ref.key)])
            continue
        if ref.role == "cn":
            cmatch = china
        else:
            cmatch = countries.get((ref.doc, ref.country)) if ref.country else None
        country_qid = cmatch.qid if cmatch else ""
        country_qid, parent_keys, context_note = _resolve_context(ref.context, country_qid,
                                                                  gazetteer)
        query = Query(tuple(ref.names), country_qid, ref.kind, strict=not country_qid,
                      parent_keys=parent_keys)
        cands = score_candidates(query, gazetteer)
        decision = decide(query, cands)
        chosen = decision.chosen
        if chosen is not None:
            best = chosen.best
            evidence = chosen.evidence()
            if context_note and (chosen.parent_agrees > 0 or not cmatch):
                evidence += f"; {context_note}"
            rows[ident] = LinkRow(
                ref.doc, ref.role, ref.key, ref.country, chosen.qid, "resolved",  # type: ignore[arg-type]
                "gazetteer-" + ("exact" if chosen.name_score >= 0.9 else "variant"),
                f"{chosen.score:.2f}", chosen.kind, best.label_en,
                country_qid or best.country_qid, evidence,
                _fmt_candidates(cands), "")
        else:
            rows[ident] = LinkRow(
                ref.doc, ref.role, ref.key, ref.country, "", decision.status, "",  # type: ignore[arg-type]
                f"{cands[0].score:.2f}" if cands else "", ref.kind, "", country_qid,
                cands[0].evidence(1) if cands else "", _fmt_candidates(cands),
                decision.reason + ("" if country_qid else " (no country: strict)"))
    if client is not None:
        open_refs = [r for r in refs if rows[(r.doc, r.role, r.key, r.country)].status
                     != "resolved"]
        cq = {f"{d}\t{k}": (m.qid if m else "") for (d, k), m in countries.items()}
        rows.update(client.resolve(open_refs, cq))
    _apply_overrides(rows, overrides, gazetteer, overrides_path or Path("overrides.tsv"))
    return sorted(rows.values(), key=lambda r: r.ref)


def complete_from_shipped(results: Iterable[ParseResult], rows: Iterable[LinkRow],
                          shipped: ShippedLinks) -> tuple[list[LinkRow], int]:
    """``rows`` plus a row for each place reference of ``results`` that has none and that
    ``shipped`` settles exactly (see :meth:`ShippedLinks.match`), and how many were added:
    ``kg build --seeds my-list.csv`` without ``--links`` uses what ships for what it
    knows. References it does not settle stay without a row (the build lists them)."""
    have = {row.ref: row for row in rows}
    added = 0
    for ref in collect_refs(results):
        ident = (ref.doc, ref.role, ref.key, ref.country)
        if ident in have or shipped.covers(ref.doc):
            continue
        found = shipped.match(_unresolved(ref, ""))
        if found is not None:
            have[ident] = found
            added += 1
    return sorted(have.values(), key=lambda r: r.ref), added


def _resolve_context(context: list[str], country_qid: str,
                     gaz: Gazetteer) -> tuple[str, frozenset[str], str]:
    """``(country QID, parent name keys, evidence note)`` from what the document says a place
    lies in.

    Each item is tried as a country (``日本`` in ``南陽市_(日本)``), then as a place
    resolved with the same rules as any other (so only a confident parent counts): its
    country fills in an unknown country, and its English names become the parent keys a
    candidate's gazetteer parent column is compared with. A country the document gives is
    never replaced. Never raises.
    """
    keys: set[str] = set()
    notes: list[str] = []
    for item in context:
        if not name_key(item):
            continue
        cmatch = resolve_country(item, gaz)
        if cmatch is not None:
            if not country_qid:
                country_qid = cmatch.qid
                notes.append(f"country from {item!r}: {cmatch.evidence}")
            continue
        query = Query(((("zh" if has_cjk(item) else "en"), item),), country_qid,
                      kind_hint(item), strict=not country_qid)
        chosen = decide(query, score_candidates(query, gaz)).chosen
        if chosen is None:
            continue
        entries = gaz.entries_of(chosen.qid)
        countries = {e.country_qid for e in entries if e.country_qid}
        if not country_qid and len(countries) == 1:
            country_qid = countries.pop()
        keys.update(name_key(name) for e in entries for lang, name, _ in e.names
                    if lang in ("en", "xx"))
        notes.append(f"parent {item!r} = {chosen.qid} ({chosen.best.where})")
    return country_qid, frozenset(k for k in keys if k), "; ".join(notes)


def _apply_overrides(rows: dict[tuple[str, str, str, str], LinkRow],
                     overrides: dict[tuple[str, str, str, str], Override],
                     gaz: Gazetteer | None, path: Path) -> None:
    # Without a gazetteer an override's evidence cannot be checked against its rows; it is
    # applied as the human wrote it (read_overrides has checked its shape).
    row_qids = {(e.file, e.line): e.qid for e in gaz.entries} if gaz is not None else {}
    for ref, ov in overrides.items():
        if gaz is not None:
            check_evidence(ov, row_qids, path)
        old = rows.get(ref)
        if old is None:
            continue  # an override for a reference the documents no longer make
        entries = gaz.entries_of(ov.qid) if ov.qid and gaz is not None else []
        label = next((e.label_en for e in entries if e.label_en),
                     "" if gaz is not None else old.label_en)
        kind = entries[0].kind if entries else old.kind
        rows[ref] = LinkRow(
            old.doc, old.role, old.key, old.country, ov.qid,
            "resolved" if ov.qid else "unresolved", "override", "", kind, label,
            old.country_qid, ov.evidence, old.candidates,
            f"override: {ov.reason}" + ("" if ov.qid else f" (gazetteer said {old.qid or '-'})"))


def report(rows: list[LinkRow], *, limit: int | None = None, whole: Path | None = None) -> str:
    """Coverage per document and role/kind, then the unresolved and ambiguous places: all
    of them, or the first ``limit`` of each status followed by "and N more" (naming the
    file ``whole`` that holds them all)."""
    lines: list[str] = []
    groups: defaultdict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for row in rows:
        groups[(row.doc, row.role)][row.status] += 1
    lines.append("coverage (resolved / total):")
    for (doc, role), counts in sorted(groups.items()):
        total = sum(counts.values())
        lines.append(f"  {doc:7} {role:8} {counts['resolved']:4} / {total:4} "
                     f"({100 * counts['resolved'] / total:5.1f}%)  ambiguous {counts['ambiguous']}"
                     f", unresolved {counts['unresolved']}")
    kinds: Counter[tuple[str, str]] = Counter((r.doc, r.kind) for r in rows
                                              if r.status == "resolved")
    lines.append("resolved by kind:")
    for (doc, kind), n in sorted(kinds.items()):
        lines.append(f"  {doc:7} {kind or '-':10} {n}")
    for status in ("ambiguous", "unresolved"):
        open_rows = [r for r in rows if r.status == status]
        lines.append(f"{status} ({len(open_rows)}):")
        shown = open_rows if limit is None else open_rows[:limit]
        for r in shown:
            lines.append(f"  {r.doc} {r.role} {r.key!r} [{r.country}] {r.reason}; "
                         f"candidates {r.candidates or '-'}")
        if len(shown) < len(open_rows):
            where = f" (all of them in {whole})" if whole is not None else ""
            lines.append(f"  … and {len(open_rows) - len(shown)} more{where}")
    return "\n".join(lines) + "\n"
