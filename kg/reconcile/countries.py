"""Countries first: a League country name or a zh.wikipedia country title → ISO code → QID.

Names go to an ISO 3166-1 alpha-2 code through the gazetteer's own country rows
(dr5hn names in en/native/ja/zh, current gf countries, WOF country rows), pycountry (names,
official and common names, codes) and a small table of spellings neither knows (the League's
``Chinese Taipei``; zh.wikipedia's ``象牙海岸``, ``印尼``…). The QID always comes from the
``dr5hn_countries.tsv`` row of that code, named in the evidence; a name that leads to two
codes is not resolved.
"""

from __future__ import annotations

from dataclasses import dataclass

import pycountry

from kg.reconcile.gazetteer import Gazetteer
from kg.reconcile.normalize import name_key

__all__ = ["ALIASES", "CountryMatch", "iso_code", "resolve_country"]

#: Spellings that neither pycountry nor the gazetteer's country names know, → ISO alpha-2.
#: (Codes, not QIDs: the QID is looked up in dr5hn_countries.tsv.)
ALIASES: dict[str, str] = {
    "chinese taipei": "TW",
    "palestine": "PS",
    "象牙海岸": "CI",
    "科特迪瓦": "CI",
    "印尼": "ID",
    "辛巴威": "ZW",
    "茅利塔尼亞": "MR",
    "毛里塔尼亚": "MR",
    "苏丹共和国": "SD",
    "老撾": "LA",
    "貝寧": "BJ",
    "剛果共和國": "CG",
    "坦尚尼亞": "TZ",
    "紐西蘭": "NZ",
    "義大利": "IT",
    "愛爾蘭": "IE",
    "北韓": "KP",
    "朝鮮": "KP",
    "南韓": "KR",
    "韓國": "KR",
    "台灣": "TW",
    "中華民國": "TW",
    "中國": "CN",
    "中华人民共和国": "CN",
}


@dataclass(frozen=True, slots=True)
class CountryMatch:
    """A resolved country: QID, ISO code, English label, the evidence row, how it matched."""

    qid: str
    iso2: str
    label_en: str
    evidence: str
    method: str


def _codes_from_gazetteer(gaz: Gazetteer, key: str) -> set[str]:
    codes: set[str] = set()
    for posting in gaz.lookup(key):
        if posting.how != "exact":
            continue
        entry = gaz.entries[posting.entry]
        if entry.kind != "country" or entry.status == "historical":
            continue
        if entry.country_iso2 and len(entry.country_iso2) == 2:
            codes.add(entry.country_iso2)
    return codes


def _code_from_pycountry(name: str) -> str | None:
    try:
        found = pycountry.countries.lookup(name)
    except LookupError:
        return None
    return str(found.alpha_2)


def iso_code(name: str) -> str | None:
    """The ISO 3166-1 alpha-2 code a country name denotes through :data:`ALIASES` or
    pycountry (names, official and common names, codes), without the gazetteer; ``None``
    when neither knows it."""
    key = name_key(name)
    alias = ALIASES.get(key) or ALIASES.get(name.strip())
    if alias is None:
        alias = next((c for k, c in ALIASES.items() if name_key(k) == key), None)
    return alias or _code_from_pycountry(name)


def resolve_country(name: str, gaz: Gazetteer) -> CountryMatch | None:
    """The country a name denotes, or ``None`` when it is unknown or ambiguous."""
    key = name_key(name)
    method = "country-gazetteer"
    codes = _codes_from_gazetteer(gaz, key)
    if not codes:
        alias = ALIASES.get(key) or ALIASES.get(name.strip())
        if alias is None:
            alias = next((c for k, c in ALIASES.items() if name_key(k) == key), None)
        if alias:
            codes, method = {alias}, "country-alias"
    if not codes:
        code = _code_from_pycountry(name)
        if code:
            codes, method = {code}, "country-pycountry"
    if len(codes) != 1:
        return None
    code = codes.pop()
    for entry in gaz.entries:
        if entry.file == "dr5hn_countries.tsv" and entry.country_iso2 == code:
            return CountryMatch(
                entry.qid, code, entry.label_en,
                f"{entry.where} {entry.qid} {code} {entry.label_en}", method,
            )
    return None
