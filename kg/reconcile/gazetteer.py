"""The offline gazetteer: the eight TSV extracts in ``../shared/gazetteer/`` as one index.

Every row becomes an :class:`Entry` (QID, kind, country, names by language with a trust
weight, and its ``file:line`` for evidence). Names are indexed under every
:func:`~kg.reconcile.normalize.variants` key. Building takes a few seconds, so the index is
pickled under a cache folder, keyed by the files' sizes, mtimes and a content hash; a
corrupt cache is rebuilt with a warning.

Raises :class:`~kg.errors.GazetteerError` (with ``file:line``) for a missing folder or file,
a wrong header, a row with the wrong number of cells or a malformed QID.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import re
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from kg.errors import GazetteerError
from kg.fsutil import atomic_write_bytes, read_input, read_lines
from kg.reconcile.normalize import variants

__all__ = [
    "FILES",
    "WHERE_FROM",
    "Entry",
    "Gazetteer",
    "Posting",
    "default_cache_dir",
    "load_gazetteer",
]

_QID = re.compile(r"Q[1-9][0-9]*")
# Bump when the Entry layout or the indexing rules change: old caches are then ignored.
_INDEX_VERSION = "7"

#: The expected files and their (leading) header columns.
FILES: dict[str, tuple[str, ...]] = {
    "dr5hn_countries.tsv": ("qid", "iso2", "iso3", "name", "native", "name_ja", "name_zh_cn"),
    "dr5hn_states.tsv": ("qid", "name", "native", "type", "country_iso2", "state_code"),
    "dr5hn_us_counties.tsv": ("qid", "name", "native", "type", "state_code", "state_name"),
    "gf_wikidata_countries.tsv": ("qid", "label_en", "label_zh"),
    "gf_wikidata_provinces.tsv": ("qid", "label_en", "label_zh", "country_qid", "class_qid"),
    "gf_wikidata_cities.tsv": ("qid", "label_en", "label_zh", "country_qid", "country_zh"),
    "naturalearth_populated_places.tsv": ("qid", "name", "name_en", "name_zh", "name_alt"),
    "wof_places.tsv": ("wof_id", "qid", "placetype", "iso_country", "name_eng", "name_jpn"),
}


@dataclass(frozen=True, slots=True)
class Entry:
    """One gazetteer row. ``names`` holds ``(lang, name, trust)`` with lang ``en``/``ja``/
    ``zh``/``xx`` (native) and trust in (0, 1]; ``family`` is the independent source
    (``ne``, ``gf``, ``wof``, ``dr5hn``)."""

    qid: str
    file: str
    line: int
    family: str
    kind: str
    country_qid: str
    country_iso2: str
    label_en: str
    names: tuple[tuple[str, str, float], ...]
    status: str = "current"
    parent: str = ""
    #: Natural Earth prominence (capital, population) used only where no country is known.
    prominence: float = 0.0

    @property
    def where(self) -> str:
        """``file:line`` of the row."""
        return f"{self.file}:{self.line}"


@dataclass(frozen=True, slots=True)
class Posting:
    """An index hit: entry number, name number within it, how the key was derived."""

    entry: int
    name: int
    how: str


@dataclass
class Gazetteer:
    """All entries plus the name index (key → postings) and the country tables."""

    directory: str
    entries: list[Entry]
    index: dict[str, list[Posting]] = field(default_factory=dict)
    iso2_to_qid: dict[str, str] = field(default_factory=dict)
    by_qid: dict[str, list[int]] = field(default_factory=dict)

    def lookup(self, key: str) -> list[Posting]:
        """Postings under a normalised key (empty list if none)."""
        return self.index.get(key, [])

    def entries_of(self, qid: str) -> list[Entry]:
        """Every entry that carries ``qid``."""
        return [self.entries[i] for i in self.by_qid.get(qid, [])]


def _rows(path: Path, header: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    lines = read_lines(path, GazetteerError, "gazetteer file")
    if not lines:
        raise GazetteerError("empty gazetteer file", path=path, line=1)
    columns = lines[0].split("\t")
    if tuple(columns[: len(header)]) != header:
        raise GazetteerError(
            f"unexpected header (expected it to start with {' '.join(header)})", path=path, line=1
        )
    out: list[tuple[int, dict[str, str]]] = []
    for number, line in enumerate(lines[1:], start=2):
        cells = line.split("\t")
        if len(cells) != len(columns):
            raise GazetteerError(
                f"expected {len(columns)} cells, found {len(cells)}", path=path, line=number
            )
        row = dict(zip(columns, cells, strict=True))
        if not _QID.fullmatch(row["qid"]):
            raise GazetteerError(f"malformed qid {row['qid']!r}", path=path, line=number)
        out.append((number, row))
    return out


def _names(*items: tuple[str, str, float]) -> tuple[tuple[str, str, float], ...]:
    seen: set[tuple[str, str]] = set()
    out: list[tuple[str, str, float]] = []
    for lang, name, trust in items:
        name = name.strip()
        if name and (lang, name) not in seen:
            seen.add((lang, name))
            out.append((lang, name, trust))
    return tuple(out)


def _state_kind(type_: str) -> str:
    t = type_.lower()
    if "county" in t and "city" not in t:
        return "county"
    # dr5hn "states" are first/second-level divisions: a Portuguese "district" is a region.
    if "district municipality" in t:
        return "region"
    if "borough" in t or "quarter" in t:
        return "district"
    if "municipal" in t or "city" in t or "commune" in t or "village" in t or "town" in t:
        return "city"
    return "region"


def _province_kind(label: str) -> str:
    t = label.lower()
    if "county" in t:
        return "county"
    if "municipality" in t or "city" in t or "commune" in t:
        return "city"
    return "region"


_WOF_KIND = {
    "locality": "city",
    "localadmin": "city",
    "borough": "district",
    "neighbourhood": "district",
    "macrohood": "district",
    "microhood": "district",
    "county": "county",
    "region": "region",
    "macroregion": "region",
    "country": "country",
    "dependency": "country",
    "campus": "other",
}
_WOF_LANG = {"eng": "en", "jpn": "ja", "zho": "zh"}


def _read_all(directory: Path) -> list[Entry]:
    if not directory.is_dir():
        raise GazetteerError(f"gazetteer folder not found ({WHERE_FROM})", path=directory)
    entries: list[Entry] = []
    iso2_to_qid: dict[str, str] = {}
    rows = {name: _rows(directory / name, header) for name, header in FILES.items()}
    for line, r in rows["dr5hn_countries.tsv"]:
        iso2_to_qid.setdefault(r["iso2"], r["qid"])
        entries.append(Entry(
            r["qid"], "dr5hn_countries.tsv", line, "dr5hn", "country", r["qid"], r["iso2"],
            r["name"], _names(("en", r["name"], 1.0), ("xx", r["native"], 0.9),
                              ("ja", r["name_ja"], 0.8), ("zh", r["name_zh_cn"], 0.8)),
        ))
    qid_to_iso2 = {q: i for i, q in iso2_to_qid.items()}
    for line, r in rows["gf_wikidata_countries.tsv"]:
        historical = "historical" in r.get("note", "")
        entries.append(Entry(
            r["qid"], "gf_wikidata_countries.tsv", line, "gf", "country", r["qid"],
            qid_to_iso2.get(r["qid"], ""), r["label_en"],
            _names(("en", r["label_en"], 0.9), ("zh", r["label_zh"], 0.9)),
            status="historical" if historical else "current",
        ))
    for line, r in rows["dr5hn_states.tsv"]:
        iso = r["country_iso2"]
        entries.append(Entry(
            r["qid"], "dr5hn_states.tsv", line, "dr5hn", _state_kind(r["type"]),
            iso2_to_qid.get(iso, ""), iso, r["name"],
            # The ja/zh translations are machine-made (README): weak evidence only.
            _names(("en", r["name"], 0.9), ("xx", r["native"], 0.8),
                   ("ja", r["name_ja"], 0.45), ("zh", r["name_zh_cn"], 0.45)),
        ))
    for line, r in rows["dr5hn_us_counties.tsv"]:
        entries.append(Entry(
            r["qid"], "dr5hn_us_counties.tsv", line, "dr5hn", "county",
            iso2_to_qid.get("US", ""), "US", r["native"] or r["name"],
            _names(("en", r["native"], 0.9), ("en", r["name"], 0.7),
                   ("ja", r["name_ja"], 0.45), ("zh", r["name_zh_cn"], 0.45)),
            parent=r["state_name"],
        ))
    for line, r in rows["gf_wikidata_provinces.tsv"]:
        cq = r["country_qid"]
        entries.append(Entry(
            r["qid"], "gf_wikidata_provinces.tsv", line, "gf", _province_kind(r["class_label_en"]),
            cq, qid_to_iso2.get(cq, ""), r["label_en"],
            _names(("en", r["label_en"], 0.9), ("zh", r["label_zh"], 0.9)),
            status="historical" if _historical_class(r["class_label_en"]) else "current",
        ))
    for line, r in rows["gf_wikidata_cities.tsv"]:
        cq = r["country_qid"]
        entries.append(Entry(
            r["qid"], "gf_wikidata_cities.tsv", line, "gf", "city", cq, qid_to_iso2.get(cq, ""),
            r["label_en"], _names(("en", r["label_en"], 0.9), ("zh", r["label_zh"], 0.9)),
        ))
    for line, r in rows["naturalearth_populated_places.tsv"]:
        iso = r["iso_a2"]
        other = r["featurecla"] in ("Historic place", "Scientific station")
        kind = "other" if other else "city"
        alts = [("en", a, 0.7) for a in r["name_alt"].split(",")] if r["name_alt"] else []
        try:
            pop = float(r["pop_max"] or 0)
        except ValueError:
            raise GazetteerError(f"malformed pop_max {r['pop_max']!r}",
                                 path=directory / "naturalearth_populated_places.tsv",
                                 line=line) from None
        prominence = (0.35 if r["featurecla"] == "Admin-0 capital" else
                      0.25 if pop >= 1_000_000 else 0.1 if pop >= 300_000 else 0.0)
        entries.append(Entry(
            r["qid"], "naturalearth_populated_places.tsv", line, "ne", kind,
            iso2_to_qid.get(iso, ""), iso, r["name_en"] or r["name"],
            _names(("en", r["name_en"], 1.0), ("en", r["name"], 1.0),
                   ("en", r["name_ascii"], 0.9), ("zh", r["name_zh"], 0.9), *alts),
            parent=r["adm1name"], prominence=prominence,
        ))
    for line, r in rows["wof_places.tsv"]:
        iso = r["iso_country"]
        weak = r["status"] in ("deprecated", "superseded")
        scale = 0.5 if weak else 1.0
        names = [("en", r["name_eng"], 0.95), ("ja", r["name_jpn"], 0.95),
                 ("zh", r["name_zho"], 0.9)]
        for variant in r["variants"].split(";") if r["variants"] else []:
            tag, _, value = variant.partition(":")
            lang = _WOF_LANG.get(tag.split("_")[0])
            # Colloquial/historical variants are mixed in: medium trust.
            if lang and value and not (lang == "en" and len(value) <= 3 and value.isupper()):
                names.append((lang, value, 0.75))
        entries.append(Entry(
            r["qid"], "wof_places.tsv", line, "wof", _WOF_KIND.get(r["placetype"], "other"),
            iso2_to_qid.get(iso, ""), iso, r["name_eng"] or r["wof_name"],
            _names(*((lang, n, t * scale) for lang, n, t in names)),
            status=r["status"],
        ))
    return entries


def _historical_class(label: str) -> bool:
    t = label.lower()
    return any(w in t for w in ("holy roman", "byzantine", "former", "empire", "kingdom of",
                                "historical", "eyalet", "viceroyalty", "theme of", "slottslän",
                                "hochstift", "free imperial"))


def _build(directory: Path) -> Gazetteer:
    entries = _read_all(directory)
    gaz = Gazetteer(str(directory), entries)
    index: defaultdict[str, list[Posting]] = defaultdict(list)
    by_qid: defaultdict[str, list[int]] = defaultdict(list)
    for number, entry in enumerate(entries):
        by_qid[entry.qid].append(number)
        if entry.family == "dr5hn" and entry.kind == "country":
            gaz.iso2_to_qid.setdefault(entry.country_iso2, entry.qid)
        for name_no, (_lang, name, _trust) in enumerate(entry.names):
            for variant in variants(name):
                index[variant.key].append(Posting(number, name_no, variant.how))
    gaz.index = dict(index)
    gaz.by_qid = dict(by_qid)
    return gaz


#: Where a gazetteer comes from, said by every message about a missing one.
WHERE_FROM = ("the gazetteer does not ship with kg: it is the gazetteer/ folder of the shared "
              "data (Natural Earth, gf-wikidata-tools, Who's On First, Countries States "
              "Cities; README: Shared data), found at ../shared/gazetteer beside a checkout, "
              "or named by --gazetteer DIR, KG_GAZETTEER or KG_SHARED")


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/twinning-kg`` (or ``~/.cache/twinning-kg``)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "twinning-kg"


def _fingerprint(directory: Path) -> str:
    digest = hashlib.sha256(_INDEX_VERSION.encode())
    for name in sorted(FILES):
        path = directory / name
        try:
            stat = path.stat()
            digest.update(f"{name}:{stat.st_size}:{stat.st_mtime_ns}:".encode())
            # read_input: a FIFO or device in the folder must not block or run forever.
            data = read_input(path, GazetteerError, "gazetteer file")
            digest.update(hashlib.sha256(data).digest())
        except (OSError, GazetteerError):
            digest.update(f"{name}:missing".encode())
    return digest.hexdigest()[:24]


def load_gazetteer(directory: Path, *, cache_dir: Path | None = None,
                   use_cache: bool = True) -> Gazetteer:
    """The gazetteer index for ``directory``, from the cache when it is current.

    The cache file is named after a fingerprint of the files (sizes, mtimes, content hash,
    index version); a cache that cannot be unpickled is rebuilt with a warning on stderr.
    Raises :class:`GazetteerError` for a missing or damaged gazetteer.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise GazetteerError(f"gazetteer folder not found ({WHERE_FROM})", path=directory)
    if not use_cache:
        return _build(directory)
    cache_dir = cache_dir or default_cache_dir()
    cache = cache_dir / f"gazetteer-{_fingerprint(directory)}.pickle"
    if cache.exists():
        try:
            with cache.open("rb") as handle:
                loaded = pickle.load(handle)
            if isinstance(loaded, Gazetteer):
                loaded.directory = str(directory)
                return loaded
            raise TypeError("not a Gazetteer")
        except Exception as exc:  # any unpickling failure means: rebuild
            print(f"kg reconcile: warning: {cache}: unreadable gazetteer cache ({exc}); "
                  "rebuilding", file=sys.stderr)
    gaz = _build(directory)
    try:
        atomic_write_bytes(cache, pickle.dumps(gaz, protocol=pickle.HIGHEST_PROTOCOL),
                           error=GazetteerError, what="the gazetteer cache")
    except GazetteerError as exc:
        print(f"kg reconcile: warning: {exc} (the gazetteer is read without it)",
              file=sys.stderr)
    return gaz
