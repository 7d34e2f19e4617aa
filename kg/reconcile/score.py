"""Candidate scoring: which gazetteer QID (if any) a place reference denotes.

A query is a set of names (by language), an optional known country QID (a hard filter) and
a kind hint. Every index hit is a candidate; hits are grouped by QID. A candidate's score is

* the best name match: match quality (exact key 1.0, disambiguator dropped 0.9, an
  administrative suffix dropped from the query 0.85, from the entry only 0.7, both 0.6)
  × the name's trust (source and language, see :mod:`kg.reconcile.gazetteer`);
* + 0.15 for every further independent source family (ne, gf, wof, dr5hn) that also names
  it with quality × trust ≥ 0.5;
* + 0.1 if its kind fits the hint, − 0.2 … − 0.6 if it clashes (a province for a ``市``);
  a hit through a stripped suffix whose kind clashes (洛杉磯郡 → the city) counts 0.4×;
* a dr5hn ja/zh name (machine-made: trust 0.45) counts :data:`CORROBORATED_TRUST` when the
  title spells it exactly, suffix included (阿拉巴馬州), in the known country, with a
  kind the suffix fits;
* + :data:`PARENT_BONUS` if the gazetteer's parent column (Natural Earth ``adm1name``, a
  dr5hn US county's state) names the parent the document gives (``帕薩迪納_(加利福尼亞州)``,
  東京都 before 新宿區), − as much if it names another;
* where no country is known, + Natural Earth prominence (capital 0.35, ≥ 1M people 0.25,
  ≥ 300k 0.1), so Paris is not confused with a namesake village;
* candidates in another country are dropped; candidates with no country at all are
  penalised (− 0.3) when the country is known.

A QID is accepted only with score ≥ :data:`THRESHOLD` and a margin ≥ :data:`MARGIN` over the
runner-up; without a country (the HTML tables) both are stricter, and a small place (no
Natural Earth prominence) that only one source names is never taken; a candidate named by
one source only, or a small namesake of the same kind, needs twice the margin. The one
exception: a candidate that alone carries the whole title, suffix included, under a trusted
name (+ :data:`FULL_TITLE_BONUS`), with no other candidate even nearly matching
(:data:`NEAR_EXACT`), is accepted on one source (延雪平省, 布勒伊拉縣).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from kg.reconcile.gazetteer import Entry, Gazetteer
from kg.reconcile.normalize import kind_hint, name_key, variants

__all__ = [
    "CORROBORATED_TRUST",
    "FULL_TITLE_BONUS",
    "MARGIN",
    "NEAR_EXACT",
    "PARENT_BONUS",
    "STRICT_MARGIN",
    "STRICT_THRESHOLD",
    "THRESHOLD",
    "Candidate",
    "Decision",
    "Query",
    "decide",
    "score_candidates",
]

THRESHOLD = 0.85
#: The trust of a dr5hn ja/zh name (machine-made, normally 0.45) that the title matches
#: exactly, administrative suffix included, within the known country and a fitting kind.
CORROBORATED_TRUST = 0.8
#: Added when a trusted name (trust ≥ 0.9) is the whole title with its suffix.
FULL_TITLE_BONUS = 0.1
#: A runner-up whose name matches this well (an exact name with a disambiguator, 0.81)
#: blocks the full-title rule of :func:`decide`.
NEAR_EXACT = 0.8
#: Added when the gazetteer's parent of a candidate (Natural Earth ``adm1name``, the state
#: of a dr5hn US county) is the parent the document names; subtracted when it is another.
PARENT_BONUS = 0.3
MARGIN = 0.15
STRICT_THRESHOLD = 1.0
STRICT_MARGIN = 0.25

# kind hint -> candidate kind -> adjustment
_KIND_FIT: dict[str, dict[str, float]] = {
    "city": {"city": 0.1, "region": -0.3, "country": -0.6, "other": -0.3},
    "county": {"county": 0.1, "city": -0.2, "country": -0.6, "other": -0.3},
    "region": {"region": 0.1, "city": -0.45, "district": -0.3, "country": -0.6, "other": -0.3},
    "district": {"district": 0.1, "region": -0.3, "country": -0.6, "other": -0.3},
    "country": {"country": 0.2, "city": -0.6, "region": -0.6, "county": -0.6,
                "district": -0.6, "other": -0.6},
    # No suffix: a plain name is most often a city (Quebec the city, not the province).
    # A Chinese title without 州/省/縣 rarely names a province or county.
    "": {"city": 0.1, "region": -0.25, "county": -0.1, "country": -0.6, "other": -0.3},
}


# The entry kinds a stripped query suffix is compatible with.
_SUFFIX_FITS: dict[str, set[str]] = {
    "city": {"city"},
    "county": {"county", "region"},
    "region": {"region", "county"},
    "district": {"district", "city"},
}


@dataclass(frozen=True, slots=True)
class Query:
    """What to look up: names as ``(lang, name)``, the known country, the kind hint."""

    names: tuple[tuple[str, str], ...]
    country_qid: str = ""
    kind: str = ""
    strict: bool = False
    #: Name keys of the parent the document gives (a state in ``帕薩迪納_(加利福尼亞州)``,
    #: 東京都 before 新宿區): compared with the gazetteer's parent column where it has one.
    parent_keys: frozenset[str] = frozenset()


@dataclass
class Candidate:
    """A QID with its score and the gazetteer hits behind it."""

    qid: str
    score: float = 0.0
    name_score: float = 0.0
    families: set[str] = field(default_factory=set)
    hits: list[tuple[float, Entry, str, str]] = field(default_factory=list)  # q, entry, name, how
    #: The kind most near-best rows give (see :func:`_kind_of`; "" = the best entry's).
    fitting_kind: str = ""
    #: A trusted name equals the whole title, administrative suffix included, of a fitting
    #: kind (布勒伊拉縣 = gf's "Brăila County 布勒伊拉縣"): see :func:`decide`.
    full_title: bool = False
    #: +1 the gazetteer's parent column agrees with the document's parent, -1 it disagrees.
    parent_agrees: int = 0

    @property
    def best(self) -> Entry:
        """The entry of the best hit."""
        return max(self.hits, key=lambda h: h[0])[1]

    def evidence(self, limit: int = 3) -> str:
        """The best hits as ``file:line matched-name (how)``, one per source family."""
        seen: set[str] = set()
        parts: list[str] = []
        for q, entry, name, how in sorted(self.hits, key=lambda h: (-h[0], h[1].file, h[1].line)):
            if entry.family in seen:
                continue
            seen.add(entry.family)
            parts.append(f"{entry.where} {entry.qid} {name!r} ({how}, {q:.2f})")
            if len(parts) == limit:
                break
        return "; ".join(parts)

    @property
    def kind(self) -> str:
        """The kind most of its near-best gazetteer rows give, ties to the one that fits the
        query's hint (a Japanese 市 that gf and a WOF locality call a city, and WOF also files
        as a ``county`` polygon, is a city), else the kind of the best entry."""
        return self.fitting_kind or self.best.kind


def _quality(query_how: str, entry_how: str) -> float:
    hows = set(query_how.split("+")) | set(entry_how.split("+"))
    hows.discard("exact")
    if not hows:
        return 1.0
    q = 1.0
    if "disambig" in hows:
        q *= 0.9
    if "translit" in hows:
        q *= 0.9
    if "swap" in hows:
        q *= 0.95
    if "suffix" in hows:
        # Dropping the query's suffix is routine (鄭州市 ~ 郑州); a suffix only the entry
        # has (秋田 ~ 秋田縣) is weaker evidence; both stripped weaker still.
        if "suffix" in query_how and "suffix" in entry_how:
            q *= 0.6
        elif "suffix" in query_how:
            q *= 0.85
        else:
            q *= 0.7
    return q


def _kind_of(cand: Candidate, fit: dict[str, float]) -> str:
    """The kind most of the near-best rows give (each gazetteer row counted once); ties go to
    the kind that fits the query's hint, then to the best row's kind."""
    rows = {(h[1].file, h[1].line): h[1].kind for h in cand.hits
            if h[0] >= cand.name_score - 0.3}
    votes: defaultdict[str, int] = defaultdict(int)
    for kind in rows.values():
        votes[kind] += 1
    best = cand.best.kind
    return max(votes, key=lambda k: (votes[k], fit.get(k, 0.0), k == best, k))


def score_candidates(query: Query, gaz: Gazetteer) -> list[Candidate]:
    """Every candidate QID for ``query``, best first (ties by QID, so stable)."""
    by_qid: dict[str, Candidate] = {}
    per_family: defaultdict[tuple[str, str], float] = defaultdict(float)
    query_variants = [(lang, name, v) for lang, name in query.names for v in variants(name)]
    for lang, name, qv in query_variants:
        for posting in gaz.lookup(qv.key):
            entry = gaz.entries[posting.entry]
            e_lang, e_name, trust = entry.names[posting.name]
            if entry.status in ("historical", "not_current"):
                trust *= 0.5
            # A CJK name may be Japanese or Chinese; Latin names compare across en/native.
            if lang in ("ja", "zh") and e_lang not in ("ja", "zh", "xx"):
                continue
            if lang in ("en", "xx") and e_lang in ("ja", "zh"):
                continue
            if query.country_qid and entry.country_qid and entry.country_qid != query.country_qid:
                continue
            if (trust < CORROBORATED_TRUST and entry.family == "dr5hn" and e_lang in ("ja", "zh")
                    and posting.how == "exact" and qv.how in ("exact", "swap")
                    and query.country_qid and entry.country_qid == query.country_qid
                    and entry.kind in _SUFFIX_FITS.get(kind_hint(name), ())):
                # A machine-made name is weak evidence (README), but a title that spells it
                # exactly, suffix included, for a division of the very country is no accident.
                trust = CORROBORATED_TRUST
            q = _quality(qv.how, posting.how) * trust
            hint = kind_hint(name)
            full = (qv.how == "exact" and posting.how == "exact" and trust >= 0.9
                    and hint in _SUFFIX_FITS and entry.kind in _SUFFIX_FITS[hint])
            if qv.kind and entry.kind not in _SUFFIX_FITS[qv.kind]:
                # 洛杉磯郡 stripped to 洛杉矶 must not become the city of Los Angeles.
                q *= 0.4
            cand = by_qid.setdefault(entry.qid, Candidate(entry.qid))
            cand.full_title = cand.full_title or full
            cand.hits.append((q, entry, e_name, f"{qv.how}~{posting.how}"))
            fam = (entry.qid, entry.family)
            per_family[fam] = max(per_family[fam], q)
    out: list[Candidate] = []
    for cand in by_qid.values():
        fams = {f: s for (qid, f), s in per_family.items() if qid == cand.qid}
        cand.name_score = max(fams.values())
        cand.families = {f for f, s in fams.items() if s >= 0.5}
        score = cand.name_score + 0.15 * max(0, len(cand.families) - 1)
        kinds = sorted({h[1].kind for h in cand.hits if h[0] >= cand.name_score - 0.3})
        fit = _KIND_FIT.get(query.kind, {})
        best_fit = max(fit.get(k, 0.0) for k in kinds)
        score += best_fit
        cand.fitting_kind = _kind_of(cand, fit)
        if query.parent_keys:
            parents = {name_key(h[1].parent) for h in cand.hits if h[1].parent}
            if parents & query.parent_keys:
                cand.parent_agrees = 1
                score += PARENT_BONUS
            elif parents:
                cand.parent_agrees = -1
                score -= PARENT_BONUS
        if cand.full_title:
            score += FULL_TITLE_BONUS
        if query.country_qid and not any(h[1].country_qid for h in cand.hits):
            score -= 0.3
        if query.strict:
            # No country: prefer the capital or the big city over its small namesakes.
            score += max(h[1].prominence for h in cand.hits)
        cand.score = round(score, 3)
        out.append(cand)
    out.sort(key=lambda c: (-c.score, int(c.qid[1:])))
    return out


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome: the accepted candidate (or ``None``), status, reason, all candidates."""

    chosen: Candidate | None
    status: str
    reason: str
    candidates: tuple[Candidate, ...]


def decide(query: Query, candidates: list[Candidate]) -> Decision:
    """Accept the best candidate only above the threshold with a clear margin."""
    threshold, margin = (STRICT_THRESHOLD, STRICT_MARGIN) if query.strict else (THRESHOLD, MARGIN)
    if not candidates:
        return Decision(None, "unresolved", "no gazetteer candidate", ())
    best = candidates[0]
    runner = candidates[1].score if len(candidates) > 1 else 0.0
    if best.score < threshold:
        return Decision(None, "unresolved",
                        f"best score {best.score:.2f} below threshold {threshold}",
                        tuple(candidates))
    if round(best.score - runner, 3) < margin:
        return Decision(None, "ambiguous",
                        f"margin {best.score - runner:.2f} over {candidates[1].qid} below {margin}",
                        tuple(candidates))
    second = candidates[1] if len(candidates) > 1 else None
    if (best.full_title
            and all(not c.full_title and c.name_score < NEAR_EXACT for c in candidates[1:])):
        # Only this item carries the whole title, suffix and all (布勒伊拉縣, 延雪平省), and
        # nothing else even nearly does: the title names it, one source is enough.
        return Decision(best, "resolved", "", tuple(candidates))
    if (query.strict and len(best.families) <= 1 and not best.full_title
            and not any(h[1].prominence for h in best.hits)):
        # No country and one source naming a small place (厄爾巴索 → a village on La Palma,
        # WOF's 埃尔帕索, while El Paso, Texas is 艾爾帕索 in the gazetteer): too thin.
        return Decision(None, "unresolved",
                        "no country and a single source for a small place",
                        tuple(candidates))
    if len(best.families) <= 1 and round(best.score - runner, 3) < 2 * margin:
        # One source only (澤西 in gf): a near runner-up means we cannot tell.
        other = second.qid if second else "-"
        return Decision(None, "ambiguous",
                        f"single source; margin {best.score - runner:.2f} over {other}"
                        f" below {2 * margin}", tuple(candidates))
    if (second is not None and second.name_score >= 0.9 and second.kind == best.kind
            and round(best.score - runner, 3) < 2 * margin
            and max(h[1].prominence for h in best.hits) == 0.0 and "wof" not in best.families):
        # A true namesake (two Titusvilles in one country): being in Natural Earth is not
        # enough; only a city of some size, or one WOF also names, may win by a small margin.
        return Decision(None, "ambiguous",
                        f"namesake {second.qid} of the same kind and name; margin "
                        f"{best.score - runner:.2f} below {2 * margin} for a small place",
                        tuple(candidates))
    return Decision(best, "resolved", "", tuple(candidates))
