"""Name normalisation: scripts, variants, suffixes, disambiguators."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from kg.reconcile.normalize import (
    kind_hint,
    name_key,
    strip_disambiguator,
    to_simplified,
    variants,
)


def test_traditional_simplified_and_japanese_forms_meet() -> None:
    assert name_key("濱松市") == name_key("浜松市") == name_key("滨松市")
    assert name_key("姫路") == name_key("姬路")
    assert name_key("神奈川縣") == name_key("神奈川県") == name_key("神奈川县")
    assert name_key("基輔") == name_key("基辅")
    assert to_simplified("龍") == to_simplified("竜")


def test_latin_case_diacritics_and_apostrophes() -> None:
    assert name_key("Fès") == name_key("FES") == "fes"
    assert name_key("Xi'an") == name_key("Xi’an") == "xian"
    assert name_key("Cluj-Napoca") == "cluj napoca"
    assert name_key("Iași") == "iasi"


def test_interwiki_colon_and_disambiguator() -> None:
    assert name_key(":普羅夫迪夫州") == name_key("普罗夫迪夫州")
    assert strip_disambiguator("南陽市_(日本)") == ("南陽市", "日本")
    assert strip_disambiguator("Nara") == ("Nara", "")
    keys = {v.key: v.how for v in variants("南陽市_(日本)")}
    assert keys[name_key("南陽市")] == "disambig"


def test_administrative_suffixes_are_variants_with_a_kind() -> None:
    found = {v.key: (v.how, v.kind) for v in variants("堪薩斯州")}
    assert found[name_key("堪薩斯")] == ("suffix", "region")
    assert kind_hint("洛杉磯郡") == "county"
    assert kind_hint("新宿區") == "district"
    assert kind_hint("鄭州市") == "city"
    assert kind_hint("廣西壯族自治區") == "region"
    assert kind_hint("Orange County") == "county"
    assert kind_hint("東京") == ""
    # too short to strip: a one-character core is no name
    assert all(v.how == "exact" for v in variants("市"))


def test_transliteration_variants() -> None:
    keys = {v.key for v in variants("Saint Petersburg")}
    assert "st petersburg" in keys


@given(st.text(max_size=20))
def test_name_key_never_raises_and_is_idempotent_on_ascii(text: str) -> None:
    key = name_key(text)
    assert isinstance(key, str)
    if text.isascii() and key:
        assert name_key(key) == key
