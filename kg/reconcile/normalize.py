"""Name normalisation shared by every matcher (gazetteer index, scorer, online adapter).

A name is reduced to a *key*: Unicode NFKC, case folded, Chinese converted to Simplified
(zhconv, MediaWiki's tables, so Traditional and Simplified meet in the middle), Japanese
shinjitai mapped to the forms zhconv knows (浜 → 濱 → 滨), Latin diacritics and punctuation
dropped (``Fès`` → ``fes``, ``Xi'an`` → ``xian``). On top of the key, :func:`variants` gives
weaker keys: the administrative suffix stripped (市 縣 州 省 區 … City, County, Province …),
a Wikipedia disambiguator stripped (``南陽市_(日本)`` → ``南陽市``), a few transliteration
variants (``st`` ↔ ``saint``), and the county suffixes 郡 ↔ 县 swapped (Taiwan writes 洛杉磯郡 where
the mainland writes 洛杉矶县). Each variant carries a name saying how it was derived, so the
scorer can trust an exact key more than a stripped one.

>>> name_key("濱松市") == name_key("浜松市") == name_key("滨松市")
True
>>> name_key("Fès")
'fes'
>>> sorted(v.key for v in variants("堪薩斯州"))
['堪萨斯', '堪萨斯州']
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from kg.zhconv_loader import zhconv

__all__ = [
    "CJK_SUFFIXES",
    "LATIN_SUFFIXES",
    "Variant",
    "has_cjk",
    "kind_hint",
    "name_key",
    "strip_disambiguator",
    "strip_suffix",
    "suffix_kind",
    "to_simplified",
    "to_traditional",
    "variants",
]

# Japanese shinjitai (and a few variant forms) -> the traditional form zhconv converts.
# Only characters that occur in place names and that zhconv leaves alone as Japanese forms.
_JA_VARIANTS: dict[str, str] = dict(
    zip(
        "浜沢竜辺邉県広桜関駅鉄栄稲戸弥滝団豊蔵円徳姫縄児亀塩気対発渋穂総覚営郷戦単巣帰拠挙峡暁剣権験雑釈従縦焼乗浄譲図瀬専銭荘庁斉斎黒恵仏来静真宝条将済寿国区会湾岳万楽薬訳読転伝変歩満売労緑両霊歴鶏舘髙﨑嶋嶌德淺黄",
        "濱澤龍邊邊縣廣櫻關驛鐵榮稻戶彌瀧團豐藏圓德姬繩兒龜鹽氣對發澁穗總覺營鄉戰單巢歸據舉峽曉劍權驗雜釋從縱燒乘淨讓圖瀨專錢莊廳齊齋黑惠佛來靜眞寶條將濟壽國區會灣嶽萬樂藥譯讀轉傳變步滿賣勞綠兩靈歷雞館高崎島島德淺黃",
        strict=True,
    )
)
_JA_TABLE = str.maketrans(_JA_VARIANTS)

# Longest first, so 自治區 is stripped before 區. Kinds are hints, not facts.
CJK_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("特别行政区", "region"),
    ("维吾尔自治区", "region"),
    ("回族自治区", "region"),
    ("壮族自治区", "region"),
    ("自治共和国", "region"),
    ("边疆区", "region"),
    ("自治区", "region"),
    ("自治州", "region"),
    ("自治县", "county"),
    ("特别市", "city"),
    ("广域市", "city"),
    ("直辖市", "city"),
    ("地区", "region"),
    ("大区", "region"),
    ("特区", "region"),
    ("联邦区", "region"),
    ("都", "region"),
    ("市", "city"),
    ("县", "county"),
    ("州", "region"),
    ("省", "region"),
    ("区", "district"),
    ("郡", "county"),
    ("町", "city"),
    ("村", "city"),
    ("府", "region"),
    ("道", "region"),
    ("镇", "city"),
)
LATIN_SUFFIXES: tuple[tuple[str, str], ...] = (
    (" metropolitan city", "city"),
    (" metropolitan municipality", "city"),
    (" municipality", "city"),
    (" prefecture", "region"),
    (" province", "region"),
    (" county", "county"),
    (" region", "region"),
    (" district", "district"),
    (" oblast", "region"),
    (" governorate", "region"),
    (" state", "region"),
    (" city", "city"),
    (" shi", "city"),
    (" ken", "region"),
    (" town", "city"),
)
_LATIN_PREFIXES = ("city of ", "province of ", "county of ", "state of ", "the ")
_DISAMBIG = re.compile(r"\s*(?:[_ ]\(([^()]*)\)|（([^（）]*)）)\s*$")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]")
_PUNCT = re.compile(r"[\s\-‐‑‒–—―_·・･.,\"/]+")
_APOS = re.compile(r"['’‘`´ʻʼ]")
_TRANSLIT = (("saint ", "st "), ("sainte ", "ste "), ("sankt ", "st "))
# The same kind of division under two names: a county is 郡 in Taiwan, 县 on the mainland.
_SUFFIX_SWAPS = (("郡", "县"), ("县", "郡"))


@dataclass(frozen=True, slots=True)
class Variant:
    """A normalised key of a name and how it was derived (``exact``, ``suffix``,
    ``disambig``, ``translit``, or a combination joined by ``+``)."""

    key: str
    how: str
    kind: str = ""  # the kind the stripped suffix suggests, if any


def has_cjk(text: str) -> bool:
    """True if ``text`` holds a CJK ideograph or kana."""
    return bool(_CJK.search(text))


@lru_cache(maxsize=200_000)
def to_simplified(text: str) -> str:
    """``text`` in Simplified Chinese, with Japanese shinjitai folded first."""
    return zhconv.convert(text.translate(_JA_TABLE), "zh-hans")  # type: ignore[no-any-return]


@lru_cache(maxsize=20_000)
def to_traditional(text: str) -> str:
    """``text`` in Traditional Chinese (zh-hant)."""
    return zhconv.convert(text, "zh-hant")  # type: ignore[no-any-return]


def strip_disambiguator(name: str) -> tuple[str, str]:
    """``(name without a trailing Wikipedia disambiguator, the disambiguator)``.

    ``"南陽市_(日本)"`` → ``("南陽市", "日本")``; a name without one is returned unchanged
    with ``""``.
    """
    match = _DISAMBIG.search(name)
    if not match or match.start() == 0:
        return name, ""
    return name[: match.start()], (match.group(1) or match.group(2) or "").strip()


@lru_cache(maxsize=400_000)
def name_key(name: str) -> str:
    """The exact-match key of a name: NFKC, casefold, Simplified Chinese, no diacritics,
    no punctuation, a leading ``:`` (interwiki colon) dropped. Never raises."""
    text = unicodedata.normalize("NFKC", name).strip().lstrip(":").strip()
    text = text.casefold()
    if has_cjk(text):
        text = to_simplified(text)
        return _PUNCT.sub("", _APOS.sub("", text))
    decomposed = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in decomposed if not unicodedata.combining(c))
    text = text.replace("ß", "ss").replace("ı", "i").replace("ø", "o").replace("ł", "l")
    text = text.replace("æ", "ae").replace("œ", "oe").replace("đ", "d")
    text = _PUNCT.sub(" ", _APOS.sub("", text)).strip()
    # Apostrophes join syllables (Xi'an): compare without them, and without spaces around.
    return re.sub(r"\s+", " ", text)


def strip_suffix(key: str) -> tuple[str, str] | None:
    """``(core, kind)`` if ``key`` (already a :func:`name_key`) ends in an administrative
    suffix and enough of the name is left, else ``None``."""
    if has_cjk(key):
        for suffix, kind in CJK_SUFFIXES:
            if key.endswith(suffix) and len(key) - len(suffix) >= 2:
                return key[: -len(suffix)], kind
        return None
    for suffix, kind in LATIN_SUFFIXES:
        if key.endswith(suffix) and len(key) - len(suffix) >= 3:
            return key[: -len(suffix)], kind
    for prefix in _LATIN_PREFIXES:
        if key.startswith(prefix) and len(key) - len(prefix) >= 3:
            return key[len(prefix) :], ""
    return None


def suffix_kind(word: str) -> str:
    """The kind an administrative suffix standing alone names (``大區`` → ``region``, as in
    the disambiguator of ``中央_(大區)``), else ``""``."""
    key = name_key(word)
    table = CJK_SUFFIXES if has_cjk(key) else tuple((s.strip(), k) for s, k in LATIN_SUFFIXES)
    return next((kind for suffix, kind in table if key == suffix), "")


def kind_hint(name: str) -> str:
    """The place kind a name's administrative suffix suggests (``city``, ``county``,
    ``district``, ``region``) or ``""``."""
    stripped = strip_suffix(name_key(strip_disambiguator(name)[0]))
    return stripped[1] if stripped else ""


@lru_cache(maxsize=400_000)
def variants(name: str) -> tuple[Variant, ...]:
    """Every key a name may match under, the exact key first, without duplicates.

    Derivations: ``exact``; ``disambig`` (a trailing ``(…)`` dropped); ``suffix`` (an
    administrative suffix dropped; its kind recorded); ``swap`` (郡 ↔ 县, the same kind
    of division; kind ``county``); ``translit`` (saint ↔ st …).

    >>> [(v.key, v.how) for v in variants("洛杉磯郡")][:2]
    [('洛杉矶郡', 'exact'), ('洛杉矶县', 'swap')]
    """
    out: dict[str, Variant] = {}

    def add(key: str, how: str, kind: str = "") -> None:
        if key and key not in out:
            out[key] = Variant(key, how, kind)

    base, disamb = strip_disambiguator(name.strip().lstrip(":"))
    exact = name_key(name)
    add(exact, "exact")
    if disamb:
        add(name_key(base), "disambig")
    for key, how in list((v.key, v.how) for v in out.values()):
        for old, new in _SUFFIX_SWAPS:
            if key.endswith(old) and len(key) > len(old) + 1:
                add(key[: -len(old)] + new, f"{how}+swap" if how != "exact" else "swap",
                    "county")
    for key, how in list((v.key, v.how) for v in out.values()):
        stripped = strip_suffix(key)
        if stripped:
            add(stripped[0], f"{how}+suffix" if how != "exact" else "suffix", stripped[1])
    for key, how in list((v.key, v.how) for v in out.values()):
        if has_cjk(key):
            continue
        for long, short in _TRANSLIT:
            if key.startswith(long):
                add(short + key[len(long) :], f"{how}+translit")
            elif key.startswith(short):
                add(long + key[len(short) :], f"{how}+translit")
    return tuple(out.values())
