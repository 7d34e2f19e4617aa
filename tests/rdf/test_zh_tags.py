"""Chinese language tags (issues 11 and 17), by OpenCC's conversion tables.

The literals both issues found mis-tagged, Japanese forms, and properties checked against
a second converter (zhconv's tables): text it converts to one script never gets the other
script's tag.
"""

from __future__ import annotations

import pytest
import zhconv
from hypothesis import given, settings
from hypothesis import strategies as st
from zhconv import zhconv as tables

from kg.rdf.emit import zh_tag

# Place names issue 11 lists, and the six twinning labels it re-tagged.
ISSUE_11 = {
    "神戶": "zh-Hant",
    "戶田": "zh-Hant",
    "沙溫": "zh-Hant",
    "雅爾達": "zh-Hant",  # zh-hk's phrase table turns it into 雅爾塔: vocabulary, not script
    "茅利塔尼亞": "zh-Hant",
    "義大利": "zh-Hant",
    "索恩-羅亞爾省": "zh-Hant",
    "赤峰市": "zh",  # 峰 is Taiwan's form too (zh-hant's 峯 is a variant)
    "辛巴威": "zh",  # Taiwan's word, but 辛, 巴 and 威 are written alike in both scripts
    "天津市 – 神戶": "zh-Hant",
    "赤峰市 – 稻澤市": "zh-Hant",
    "河南省 – 索恩-羅亞爾省": "zh-Hant",
    "開封市 – 戶田": "zh-Hant",
    "三亞市 – 雅爾達": "zh-Hant",
    "昆明市 – 沙溫": "zh-Hant",
}

# Issue 17: the labels the character-by-character rule tagged bare zh (it took 里 and 托,
# written alike in both scripts, for Simplified-only), by seed line of the twinning labels
# (seeds/zhwiki-prc-sister-cities.md); and the Japanese form 浜 (濱 in Chinese).
ISSUE_17 = {
    "馬德里": "zh-Hant",
    "斯里蘭卡": "zh-Hant",
    "薩拉托夫州": "zh-Hant",
    "克里米亞共和國": "zh-Hant",
    "北京市 – 馬德里": "zh-Hant",  # L32
    "北京市 – 馬德里自治區": "zh-Hant",  # L142
    "澳門 – 里斯本": "zh-Hant",  # L216
    "開封市 – 威奇托": "zh-Hant",  # L532
    "湖北省 – 薩拉托夫州": "zh-Hant",  # L578
    "隨州市 – 皮里港": "zh-Hant",  # L590
    "海南省 – 克里米亞共和國": "zh-Hant",  # L678
    "浜田": "ja",
    "石嘴山市 – 浜田": "ja",  # L815
    # OpenCC's phrase table alone would make this 佈列斯特 (a phrase, not a script).
    "布列斯特": "zh",
}


@pytest.mark.parametrize(("text", "tag"), sorted({**ISSUE_11, **ISSUE_17}.items()))
def test_mis_tagged_literals(text: str, tag: str) -> None:
    assert zh_tag(text) == tag


def test_simplified_and_mixed() -> None:
    assert zh_tag("东京") == "zh-Hans"
    assert zh_tag("索恩-罗亚尔省") == "zh-Hans"
    assert zh_tag("東京 – 北京") == "zh-Hant"
    assert zh_tag("東京 – 东京") == "zh"  # both scripts: no script subtag
    assert zh_tag("") == "zh"
    assert zh_tag("托") == zh_tag("台") == zh_tag("峰") == "zh"  # kept by a standard of each


def _characters() -> list[str]:
    # Every character zhconv's tables convert, in any of its six standards: the second
    # converter's view of which characters differ between the scripts.
    chars: set[str] = set()
    for locale in ("zh-hans", "zh-hant", "zh-cn", "zh-tw", "zh-hk", "zh-sg"):
        for key, value in tables.getdict(locale).items():
            if len(key) == 1 and len(value) == 1:
                chars.update(key, value)
    return sorted(chars)


names = st.text(st.sampled_from(_characters()), min_size=1, max_size=8)


@settings(max_examples=300, deadline=None)
@given(names)
def test_the_other_converter_never_gives_the_other_script(text: str) -> None:
    assert zh_tag(zhconv.convert(text, "zh-hans")) != "zh-Hant"
    assert zh_tag(zhconv.convert(text, "zh-hant")) != "zh-Hans"
