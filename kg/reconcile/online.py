"""``kg reconcile --online``: ask the live Wikidata API about what the gazetteer leaves open.

zh.wikipedia titles are resolved exactly through their sitelinks (method
``wikidata-sitelink``; the evidence names the API answer); an entity whose P17 names
another country than the document's is not accepted. League names are searched
(``wbsearchentities`` in en and ja), the candidates fetched, and scored like the gazetteer:
an exact label/alias key match in the right country, with a clear margin, or nothing.
The client (:mod:`kg.reconcile.wikidata`) is imported lazily, so offline runs never need it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kg.model import LinkRow
from kg.reconcile.gazetteer import Gazetteer
from kg.reconcile.normalize import name_key, variants

if TYPE_CHECKING:
    from kg.reconcile import PlaceRef

__all__ = ["OnlineResolver", "entity_name_score"]


def entity_name_score(entity: Any, names: list[tuple[str, str]]) -> float:
    """How well an entity's labels/aliases match ``names``: 1.0 exact key, 0.8 variant key,
    0 none. Languages are compared loosely (a CJK name against ja/zh labels)."""
    keys: set[str] = set()
    for lang, label in entity.labels.items():
        if lang.split("-")[0] in ("en", "ja", "zh"):
            keys.add(name_key(label))
    for lang, aliases in entity.aliases.items():
        if lang.split("-")[0] in ("en", "ja", "zh"):
            keys.update(name_key(a) for a in aliases)
    best = 0.0
    for _lang, name in names:
        for variant in variants(name):
            if variant.key in keys:
                best = max(best, 1.0 if variant.how == "exact" else 0.8)
    return best


class OnlineResolver:
    """Resolves open place references with a ``WikidataClient``-like object."""

    def __init__(self, client: Any, gazetteer: Gazetteer | None = None) -> None:
        self.client = client
        self.gazetteer = gazetteer

    @classmethod
    def from_options(cls, *, api_url: str, sparql_url: str, cache_dir: Path | None,
                     gazetteer: Gazetteer | None = None,
                     user_agent: str | None = None) -> OnlineResolver:
        """Build the live client (lazy import) and wrap it. Answers are cached under
        ``cache_dir/wikidata`` (default: the user's cache folder), so a rerun asks nothing
        twice; ``user_agent`` replaces the default User-Agent (Wikimedia asks for a contact)."""
        from kg.reconcile.gazetteer import default_cache_dir
        from kg.reconcile.wikidata import DEFAULT_USER_AGENT, WikidataClient

        client = WikidataClient(api_url=api_url, sparql_url=sparql_url,
                                cache_dir=(cache_dir or default_cache_dir()) / "wikidata",
                                user_agent=user_agent or DEFAULT_USER_AGENT)
        return cls(client, gazetteer)

    def resolve(self, refs: list[PlaceRef], country_qids: dict[str, str]) -> dict[
            tuple[str, str, str, str], LinkRow]:
        """Rows for the references the live answers settle; others are left out.

        ``country_qids`` maps ``"doc\\tcountry name"`` to the resolved country QID ("" if
        none). Raises :class:`~kg.errors.WikidataError` when the service fails.
        """
        out: dict[tuple[str, str, str, str], LinkRow] = {}
        titles = [r.key for r in refs if r.doc == "zhwiki"]
        found = self.client.entities_by_zhwiki_titles(titles) if titles else {}
        for ref in refs:
            cq = country_qids.get(f"{ref.doc}\t{ref.country}", "") if ref.country else ""
            if ref.role == "country":
                cq = ""
            ident = (ref.doc, ref.role, ref.key, ref.country)
            if ref.doc == "zhwiki":
                entity = found.get(ref.key)
                if entity is None:
                    continue
                if cq and entity.country and cq not in entity.country:
                    continue  # the sitelink's item lies in another country: keep it open
                evidence = self.client.title_evidence(ref.key)
                out[ident] = self._row(ref, entity, cq, "wikidata-sitelink", 1.0,
                                       f"zhwiki sitelink {ref.key!r}: {evidence}")
                continue
            row = self._search(ref, cq)
            if row is not None:
                out[ident] = row
        return out

    def coordinates(self, qids: Sequence[str]) -> dict[str, tuple[float, float, str]]:
        """``{QID: (lat, lon, evidence)}`` from the P625 of each item, for the items that
        have one. An answer for another item (a redirect) is not taken: the coordinate must
        be the asked QID's own. Raises :class:`~kg.errors.WikidataError` when the service
        fails."""
        out: dict[str, tuple[float, float, str]] = {}
        entities = self.client.get_entities(list(qids)) if qids else {}
        for qid in qids:
            entity = entities.get(qid)
            if entity is None or entity.qid != qid or entity.coord is None:
                continue
            lat, lon = entity.coord
            evidence = self.client.evidence(qid)
            if evidence is not None and abs(lat) <= 90 and abs(lon) <= 180:
                out[qid] = (lat, lon, f"{evidence} (P625)")
        return out

    def _search(self, ref: PlaceRef, cq: str) -> LinkRow | None:
        qids: list[str] = []
        for lang, name in ref.names:
            for qid in self.client.search(name, lang if lang in ("en", "ja", "zh") else "en"):
                if qid not in qids:
                    qids.append(qid)
        if not qids:
            return None
        entities = self.client.get_entities(qids)
        scored = []
        for qid in qids:
            entity = entities.get(qid)
            if entity is None or (cq and cq not in entity.country):
                continue
            score = entity_name_score(entity, ref.names)
            if score >= 0.8:
                scored.append((score, qid, entity))
        scored.sort(key=lambda s: (-s[0], int(s[1][1:])))
        if not scored or (len(scored) > 1 and scored[0][0] - scored[1][0] < 0.2):
            return None
        score, qid, entity = scored[0]
        evidence = self.client.evidence(qid)
        return self._row(ref, entity, cq, "wikidata-search", score,
                         f"wbsearchentities {ref.names[0][1]!r} + {evidence}",
                         " ".join(f"{q}:{s:.2f}" for s, q, _ in scored[:5]))

    @staticmethod
    def _row(ref: PlaceRef, entity: Any, cq: str, method: str, score: float, evidence: str,
             candidates: str = "") -> LinkRow:
        label = entity.labels.get("en", "")
        return LinkRow(ref.doc, ref.role, ref.key, ref.country, entity.qid,  # type: ignore[arg-type]
                       "resolved", method, f"{score:.2f}", ref.kind, label,
                       cq or (entity.country[0] if entity.country else ""), evidence,
                       candidates or f"{entity.qid}:{score:.2f}", "")
