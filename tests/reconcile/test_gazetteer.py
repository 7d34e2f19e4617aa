"""The gazetteer index: reading, indexing, caching, and damaged input.

``sample_gazetteer`` copies a few real rows (by QID) of the shared gazetteer into a temporary
folder, so the QIDs the tests assert on come from those files (rows cited where used).
"""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from kg import paths
from kg.errors import GazetteerError
from kg.reconcile.gazetteer import FILES, Gazetteer, load_gazetteer
from kg.reconcile.normalize import name_key
from tests.shared import GAZETTEER_MISSING

__all__ = ["SAMPLE_QIDS", "sample_gazetteer"]

REAL = paths.GAZETTEER_DIR
# Every QID here is taken from the shared gazetteer rows named in the tests that use it.
SAMPLE_QIDS = {
    "Q657461", "Q162615",  # Cartagena: Colombia / Spain (naturalearth 4163 / 2224)
    "Q5818", "Q44210",  # Córdoba: Spain / Argentina (naturalearth 472 / 1250)
    "Q2145", "Q176",  # Quebec City (naturalearth 227) / province (gf_provinces 10)
    "Q2868", "Q983974",  # Lima Peru / Lima Ohio (naturalearth 275 / 5102)
    "Q1899", "Q3640", "Q5426", "Q30340",  # Kyiv, Ankara, Izhevsk, Zhengzhou (naturalearth)
    "Q65", "Q104994",  # Los Angeles city (naturalearth 6) / county (dr5hn_us_counties 294)
    "Q1428",  # Georgia, U.S. state (gf_wikidata_provinces 125)
    "Q983779", "Q787466",  # two Titusvilles (naturalearth 5093, gf_wikidata_cities 11665)
}

needs_gazetteer = pytest.mark.skipif(not REAL.is_dir(), reason=GAZETTEER_MISSING)


def sample_gazetteer(target: Path, qids: set[str] = SAMPLE_QIDS) -> Path:
    """Copy the header and the rows of ``qids`` (all country rows) of every file."""
    target.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        lines = (REAL / name).read_text(encoding="utf-8").split("\n")
        header = lines[0].split("\t")
        q = header.index("qid")
        keep = [lines[0]]
        for line in lines[1:]:
            if not line:
                continue
            cells = line.split("\t")
            if "countries" in name or cells[q] in qids:
                keep.append(line)
        (target / name).write_text("\n".join(keep) + "\n", encoding="utf-8")
    return target


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Gazetteer:
    folder = sample_gazetteer(tmp_path_factory.mktemp("gaz"))
    return load_gazetteer(folder, use_cache=False)


@needs_gazetteer
def test_index_finds_names_in_every_script(small: Gazetteer) -> None:
    # naturalearth_populated_places.tsv:196 Q1899 Kiev 基輔
    hits = {small.entries[p.entry].qid for p in small.lookup(name_key("基辅"))}
    assert "Q1899" in hits
    # dr5hn_us_counties.tsv:294 Q104994 Los Angeles County 洛杉矶县
    kinds = {small.entries[p.entry].kind for p in small.lookup(name_key("洛杉磯縣"))}
    assert "county" in kinds


@needs_gazetteer
def test_country_codes_map_to_dr5hn_qids(small: Gazetteer) -> None:
    # dr5hn_countries.tsv: Japan is Q17 (line 3)
    assert small.iso2_to_qid["JP"] == "Q17"


@needs_gazetteer
def test_cache_is_reused_and_rebuilt_when_corrupt(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    folder = sample_gazetteer(tmp_path / "gaz", {"Q1899"})
    cache = tmp_path / "cache"
    first = load_gazetteer(folder, cache_dir=cache)
    files = list(cache.glob("gazetteer-*.pickle"))
    assert len(files) == 1
    second = load_gazetteer(folder, cache_dir=cache)
    assert len(second.entries) == len(first.entries)
    files[0].write_bytes(b"not a pickle")
    third = load_gazetteer(folder, cache_dir=cache)
    assert len(third.entries) == len(first.entries)
    assert "unreadable gazetteer cache" in capsys.readouterr().err
    # a pickle of something else is rebuilt too
    files[0].write_bytes(pickle.dumps({"x": 1}))
    assert len(load_gazetteer(folder, cache_dir=cache).entries) == len(first.entries)


@needs_gazetteer
def test_changed_file_gets_a_new_cache(tmp_path: Path) -> None:
    folder = sample_gazetteer(tmp_path / "gaz", {"Q1899"})
    cache = tmp_path / "cache"
    load_gazetteer(folder, cache_dir=cache)
    sample_gazetteer(folder, {"Q1899", "Q3640"})
    gaz = load_gazetteer(folder, cache_dir=cache)
    assert gaz.entries_of("Q3640")
    assert len(list(cache.glob("gazetteer-*.pickle"))) == 2


def test_missing_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(GazetteerError, match="not found"):
        load_gazetteer(tmp_path / "nope", use_cache=False)


@needs_gazetteer
def test_missing_file_is_an_error(tmp_path: Path) -> None:
    folder = sample_gazetteer(tmp_path / "gaz", {"Q1899"})
    (folder / "wof_places.tsv").unlink()
    with pytest.raises(GazetteerError, match=r"wof_places\.tsv"):
        load_gazetteer(folder, use_cache=False)


@needs_gazetteer
def test_broken_row_names_file_and_line(tmp_path: Path) -> None:
    folder = sample_gazetteer(tmp_path / "gaz", {"Q1899"})
    path = folder / "naturalearth_populated_places.tsv"
    text = path.read_text(encoding="utf-8")
    path.write_text(text + "Q1\tonly two cells\n", encoding="utf-8")
    lines = len(text.rstrip("\n").split("\n")) + 1
    with pytest.raises(GazetteerError) as info:
        load_gazetteer(folder, use_cache=False)
    assert str(info.value).startswith(f"{path}:{lines}:")


@needs_gazetteer
def test_malformed_qid_and_header(tmp_path: Path) -> None:
    folder = sample_gazetteer(tmp_path / "gaz", {"Q1899"})
    path = folder / "gf_wikidata_cities.tsv"
    path.write_text("qid\tlabel_en\tlabel_zh\tcountry_qid\tcountry_zh\n"
                    "X12\tA\tB\tQ1\tC\n", encoding="utf-8")
    with pytest.raises(GazetteerError, match=r":2: malformed qid"):
        load_gazetteer(folder, use_cache=False)
    path.write_text("id\tname\n", encoding="utf-8")
    with pytest.raises(GazetteerError, match=r":1: unexpected header"):
        load_gazetteer(folder, use_cache=False)
