"""What ships already knows: a user's list matched against the committed links table.

The links table (``seeds/wikidata-links.tsv``) and the overrides (``seeds/overrides.tsv``)
ship with the package and settle several hundred places, each with its evidence. A place of
a user's list is taken from them only on an **exact, unambiguous** match, because a wrong
QID is worse than none:

- the name equals (after :func:`~kg.reconcile.normalize.name_key`: NFKC, case, Simplified
  Chinese, diacritics) the shipped row's name (its key, without a Wikipedia
  disambiguator), its English label, or a name the seed documents give that place (the
  League's Japanese names: 京都 for Kyoto), or does once an administrative suffix that
  names the row's own kind is dropped (京都市 is 京都 + 市, a city: Kyoto the city, never
  Kyoto Prefecture, whose suffix is 府);
- when the list gives a country, that country is itself matched exactly to a shipped
  country (by name, or by the ISO 3166 code pycountry or the project's aliases give the
  name, against the code in the shipped country's ``dr5hn_countries.tsv`` evidence: 中国
  is CN is China) and every matching row must lie in it; when it gives none, the name must be
  known in one country only;
- every shipped row so matched names the same QID, and none of them is unresolved,
  ambiguous or an override that keeps the place open (a doubt the seeds recorded is
  kept).

The row carried over keeps the shipped evidence, its coordinates, and cites the shipped
row (``wikidata-links.tsv:417``; ``overrides.tsv:5`` for a human decision) with method
``links-table``. Only documents the table does not already describe are matched (the
seeds' own places are the table's rows: reconciling the seeds again goes to the
gazetteer).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from kg.errors import LinksError
from kg.fsutil import read_lines
from kg.model import LinkRow
from kg.reconcile.countries import iso_code
from kg.reconcile.links import read_links
from kg.reconcile.normalize import name_key, strip_disambiguator, strip_suffix
from kg.reconcile.overrides import read_overrides

__all__ = ["ShippedLinks"]

#: The method of a row carried over from the shipped table.
METHOD = "links-table"
#: The ISO code in a country's gazetteer evidence (``dr5hn_countries.tsv:32 Q148 CN China``).
_ISO_IN_EVIDENCE = re.compile(r"dr5hn_countries\.tsv:[0-9]+ Q[0-9]+ ([A-Z]{2}) ")


@dataclass(frozen=True, slots=True)
class _Known:
    """A shipped row as a match candidate, with the line it was read from."""

    row: LinkRow
    where: str
    #: the seed document's name for the place that matched, when it is not the key
    named: str = ""


class ShippedLinks:
    """The shipped links table and overrides, indexed by name for exact matching."""

    def __init__(self, rows: Iterable[tuple[LinkRow, str]],
                 names: Mapping[tuple[str, str, str, str], Iterable[str]] | None = None) -> None:
        """``rows``: shipped rows with where each was read; ``names``: more names of a
        place reference, from the seed documents."""
        self._places: defaultdict[str, list[_Known]] = defaultdict(list)
        self._countries: defaultdict[str, list[_Known]] = defaultdict(list)
        self._by_iso: defaultdict[str, list[_Known]] = defaultdict(list)
        docs: set[str] = set()
        names = names or {}
        for row, where in rows:
            docs.add(row.doc)
            index = self._countries if row.role == "country" else self._places
            keys = self._keys(row)
            for key in keys:
                index[key].append(_Known(row, where))
            if row.role == "country" and (code := _ISO_IN_EVIDENCE.search(row.evidence)):
                self._by_iso[code.group(1)].append(_Known(row, where))
            for name in names.get(row.ref, ()):
                key = name_key(name)
                if key and key not in keys:
                    keys.add(key)
                    index[key].append(_Known(row, where, name))
        self.docs: frozenset[str] = frozenset(docs)

    @staticmethod
    def _keys(row: LinkRow) -> set[str]:
        names = {strip_disambiguator(row.key)[0], row.label_en}
        return {k for k in (name_key(n) for n in names if n) if k}

    @classmethod
    def load(cls, links: Path, overrides: Path | None = None,
             documents: Iterable[Path] = ()) -> ShippedLinks:
        """Read the table (and the overrides, when the file exists), and the names the seed
        ``documents`` give their places.

        Raises :class:`~kg.errors.LinksError` (with ``file:line``) for a table or overrides
        file that does not read (see :func:`~kg.reconcile.links.read_links`), what
        :func:`kg.sources.parse_path` raises for a document that does not parse.
        """
        from kg.reconcile import collect_refs
        from kg.sources import parse_path

        names = {(r.doc, r.role, r.key, r.country): [n for _, n in r.names]
                 for r in collect_refs(parse_path(p) for p in documents)}
        table = read_links(links)
        lines = {tuple(line.split("\t")[:4]): n for n, line in
                 enumerate(read_lines(links, LinksError, "links table"), start=1)}
        found: list[tuple[LinkRow, str]] = [
            (row, f"{links.name}:{lines.get(row.ref, 0)}") for row in table]
        by_ref = {row.ref: row for row in table}
        if overrides is not None and overrides.is_file():
            for ref, ov in read_overrides(overrides).items():
                old = by_ref.get(ref)
                if old is None:
                    continue
                # The table already holds the decision; the override is its citation.
                found.append((replace(old, qid=ov.qid, evidence=ov.evidence,
                                      status="resolved" if ov.qid else "unresolved"),
                              f"{overrides.name}:{ov.line}"))
        return cls(found, names)

    def covers(self, doc: str) -> bool:
        """True for a document whose places are the table's own rows (the seeds)."""
        return doc in self.docs

    def _country_rows(self, name: str) -> tuple[list[_Known], str]:
        """The shipped country rows a name matches, and how, when not by name."""
        known = self._countries.get(name_key(name), [])
        if not known and (code := iso_code(name)):
            return self._by_iso.get(code, []), f" ({name!r} is ISO 3166 {code})"
        return known, ""

    def country(self, name: str) -> LinkRow | None:
        """The shipped country row a country name matches exactly and unambiguously."""
        known = self._country_rows(name)[0]
        qids = {k.row.qid for k in known}
        if len(qids) != 1 or "" in qids:
            return None
        return known[0].row

    def _country_qid(self, name: str) -> str:
        row = self.country(name)
        return row.qid if row is not None else ""

    def match(self, ref: LinkRow) -> LinkRow | None:
        """``ref`` (an unresolved row of the user's list) resolved from the shipped rows,
        or ``None`` when they do not settle it exactly and unambiguously."""
        via = ""
        if ref.role == "country":
            known, via = self._country_rows(ref.key)
            country_qid = ""
        else:
            key = name_key(strip_disambiguator(ref.key)[0])
            known = self._places.get(key, [])
            stripped = strip_suffix(key) if not known else None
            if stripped is not None and stripped[1]:
                core, kind = stripped
                known = [k for k in self._places.get(core, []) if k.row.kind == kind]
                via = f" ({ref.key!r} with its suffix naming a {kind})"
            country_qid = self._country_qid(ref.country) if ref.country else ""
            if ref.country and not country_qid:
                return None  # a country the shipped data does not know: nothing to check
            if country_qid:
                known = [k for k in known if k.row.country_qid == country_qid
                         or (not k.row.country_qid and k.row.qid == country_qid)]
            elif len({k.row.country_qid for k in known}) > 1:
                return None  # the name is known in several countries and the list says none
        if not known or any(k.row.status != "resolved" for k in known):
            return None
        if len({k.row.qid for k in known}) != 1:
            return None
        best = min(known, key=lambda k: (k.where.split(":")[0] != "overrides.tsv",
                                         bool(k.named), k.where))
        others = sorted({k.where for k in known} - {best.where})
        src = best.row
        named = f" (named {best.named!r} in the seed document)" if best.named else ""
        also = f" (also {', '.join(others)})" if others else ""
        note = "" if ref.country or ref.role == "country" else " (the list gives no country)"
        return replace(
            ref, qid=src.qid, status="resolved", method=METHOD, score="1.00", kind=src.kind,
            label_en=src.label_en, country_qid=country_qid or src.country_qid,
            evidence=f"{best.where} {src.doc} {src.role} {src.key!r}{named} = {src.qid}"
            f"{via}{also}{note}; {src.evidence}",
            candidates=f"{src.qid}:1.00", reason="", lat=src.lat, lon=src.lon,
            coord_evidence=src.coord_evidence)
