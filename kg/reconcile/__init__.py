"""Reconciliation: every place reference of the parsed documents → a Wikidata QID or none.

Entry point :func:`reconcile` (records + gazetteer + overrides → :class:`~kg.model.LinkRow`
list); :func:`report` renders coverage and the unresolved/ambiguous places. Countries are
resolved first (:mod:`kg.reconcile.countries`) and are a hard filter for their places;
places are scored by :mod:`kg.reconcile.score`. The optional ``client`` (a
:class:`kg.reconcile.online.OnlineResolver`) is asked about what the gazetteer leaves open.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from kg.model import LinkRow, Membership, ParseResult, Twinning
from kg.reconcile.countries import CountryMatch, resolve_country
from kg.reconcile.gazetteer import Gazetteer
from kg.reconcile.normalize import kind_hint
from kg.reconcile.overrides import Override, check_evidence
from kg.reconcile.score import Query, decide, score_candidates

__all__ = ["PlaceRef", "Resolver", "collect_refs", "reconcile", "report"]


@dataclass
class PlaceRef:
    """A distinct place reference: identity plus the names and hints to resolve it."""

    doc: str
    role: str
    key: str
    country: str
    names: list[tuple[str, str]] = field(default_factory=list)
    kind: str = ""


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
            kind: str) -> None:
        ref = refs.setdefault((doc, role, key, country), PlaceRef(doc, role, key, country,
                                                                    kind=kind))
        for name in names:
            if name[1] and name not in ref.names:
                ref.names.append(name)

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
                    kind_hint(cn.title))
                part = rec.partner[-1]
                add("zhwiki", "partner", part.title, country,
                    [("zh", part.title), ("zh", part.label)], kind_hint(part.title))
    return list(refs.values())


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


def reconcile(results: Iterable[ParseResult], gazetteer: Gazetteer,
              overrides: dict[tuple[str, str, str, str], Override] | None = None,
              client: Resolver | None = None, *,
              overrides_path: Path | None = None) -> list[LinkRow]:
    """One :class:`LinkRow` per distinct place reference, sorted by reference.

    Overrides win over everything; a QID override must name a gazetteer row carrying that
    QID (else :class:`~kg.errors.LinksError`). ``client`` is asked about the references
    the gazetteer leaves unresolved. Never raises for an unresolvable place.
    """
    overrides = overrides or {}
    refs = collect_refs(results)
    country_names = {(r.doc, r.key) for r in refs if r.role == "country"}
    countries: dict[tuple[str, str], CountryMatch | None] = {
        key: resolve_country(key[1], gazetteer) for key in sorted(country_names)
    }
    china = resolve_country("China", gazetteer)
    rows: dict[tuple[str, str, str, str], LinkRow] = {}
    for ref in refs:
        ident = (ref.doc, ref.role, ref.key, ref.country)
        if ref.role == "country":
            rows[ident] = _country_row(ref, countries[(ref.doc, ref.key)])
            continue
        if ref.role == "cn":
            cmatch = china
        else:
            cmatch = countries.get((ref.doc, ref.country)) if ref.country else None
        country_qid = cmatch.qid if cmatch else ""
        query = Query(tuple(ref.names), country_qid, ref.kind, strict=not country_qid)
        cands = score_candidates(query, gazetteer)
        decision = decide(query, cands)
        chosen = decision.chosen
        if chosen is not None:
            best = chosen.best
            rows[ident] = LinkRow(
                ref.doc, ref.role, ref.key, ref.country, chosen.qid, "resolved",  # type: ignore[arg-type]
                "gazetteer-" + ("exact" if chosen.name_score >= 0.9 else "variant"),
                f"{chosen.score:.2f}", chosen.kind, best.label_en,
                country_qid or best.country_qid, chosen.evidence(),
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


def _apply_overrides(rows: dict[tuple[str, str, str, str], LinkRow],
                     overrides: dict[tuple[str, str, str, str], Override],
                     gaz: Gazetteer, path: Path) -> None:
    row_qids = {(e.file, e.line): e.qid for e in gaz.entries}
    for ref, ov in overrides.items():
        check_evidence(ov, row_qids, path)
        old = rows.get(ref)
        if old is None:
            continue  # an override for a reference the documents no longer make
        entries = gaz.entries_of(ov.qid) if ov.qid else []
        label = next((e.label_en for e in entries if e.label_en), "")
        kind = entries[0].kind if entries else old.kind
        rows[ref] = LinkRow(
            old.doc, old.role, old.key, old.country, ov.qid,
            "resolved" if ov.qid else "unresolved", "override", "", kind, label,
            old.country_qid, ov.evidence, old.candidates,
            f"override: {ov.reason}" + ("" if ov.qid else f" (gazetteer said {old.qid or '-'})"))


def report(rows: list[LinkRow]) -> str:
    """Coverage per document and role/kind, then the unresolved and ambiguous places."""
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
        for r in open_rows:
            lines.append(f"  {r.doc} {r.role} {r.key!r} [{r.country}] {r.reason}; "
                         f"candidates {r.candidates or '-'}")
    return "\n".join(lines) + "\n"
