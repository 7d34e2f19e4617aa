"""The generic CSV/TSV twinning list (:mod:`kg.sources.csvlist`) and the source plug-in
registry: parsing, rejections with their lines, detection, several lists in one build,
a third-party plug-in found through its entry point, and the whole way through
reconciliation (with the gazetteer) to twinnings in the graph with provenance.

QIDs asserted below come from the gazetteer (``KG_SHARED/gazetteer``):
Q956 Beijing (gf_wikidata_cities.tsv:90, naturalearth_populated_places.tsv:80),
Q90 Paris (gf_wikidata_cities.tsv:15, naturalearth_populated_places.tsv:15);
the test checks that the links table cites those rows as evidence.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg.cli import main
from kg.errors import SourceError
from kg.model import DatePrecision, PairTwinning
from kg.sources import detect_format, kinds, parse_path
from kg.sources.csvlist import doc_id, guess_lang, parse, parse_date
from tests.shared import needs_gazetteer

ROOT = Path(__file__).resolve().parents[2]

LIST = textwrap.dedent("""\
    # Sister cities, a test list
    city_a,country_a,city_b,country_b,start_date,note,source_url
    Beijing,China,Paris,France,1997-10,friendship,https://example.org/beijing-paris
    北京市,中国,東京都,日本,1979年3月14日,,

    Kyoto,Japan,,France,2001,,
    "Paris, Texas",United States,Beijing,China,2001-02-30,,
    Lyon,France,Beijing,China,1990,"a note, with a comma",ftp://example.org/x
    Lyon,France,Lyon,France,1990,,
    Nantes,France,Kyoto,Japan
    Paris,France,Beijing,China,1997-10,,
    """)


def test_parse_records_rejections_and_warnings() -> None:
    result = parse(LIST, "sister.csv")
    assert result.doc == "sister" and result.kind == "csv"
    assert [r.source.line for r in result.records] == [3, 4, 11]
    first = result.records[0]
    assert isinstance(first, PairTwinning)
    assert (first.city_a, first.country_a, first.city_b, first.country_b) == (
        "Beijing", "China", "Paris", "France")
    assert first.date is not None and first.date.iso == "1997-10"
    assert first.date.precision is DatePrecision.MONTH
    assert first.note == "friendship" and first.source_url == "https://example.org/beijing-paris"
    second = result.records[1]
    assert isinstance(second, PairTwinning)
    assert second.date is not None and second.date.iso == "1979-03-14"
    assert second.lang_a == "zh" or second.lang_a.startswith("zh")
    rejected = {i.source.line: i.reason for i in result.rejections}
    assert set(rejected) == {6, 7, 8, 9, 10}
    assert "city_b" in rejected[6]
    assert "no such day" in rejected[7]
    assert "http(s) URL" in rejected[8]
    assert "same place" in rejected[9]
    assert "expected 7 cells, found 4" in rejected[10]
    assert [str(w) for w in result.warnings] == ["sister.csv:11: repeats the twinning of line 3"]
    assert result.blank_rows == 1
    assert result.titles == (("Twinning list sister.csv", "en"),)


def test_tsv_quoted_and_multiline_cells_keep_their_lines() -> None:
    text = ('city_a\tcountry_a\tcity_b\tcountry_b\tnote\n'
            'Kyoto\tJapan\tParis\tFrance\t"two\nlines"\n'
            'Kyoto\tJapan\tBoston\tUnited States\t\n')
    result = parse(text, "tabs.tsv")
    assert [r.source.line for r in result.records] == [2, 4]
    rec = result.records[0]
    assert isinstance(rec, PairTwinning) and rec.note == "two\nlines"


@pytest.mark.parametrize(("text", "iso", "precision"), [
    ("1986", "1986", "year"), ("2013-12", "2013-12", "month"), ("2013/1", "2013-01", "month"),
    ("1985-09-12", "1985-09-12", "day"), ("1985.9.12", "1985-09-12", "day"),
    ("1986年", "1986", "year"), ("2013年12月", "2013-12", "month"),
    ("１９８５年９月１２日", "1985-09-12", "day"),
])
def test_dates_keep_their_precision(text: str, iso: str, precision: str) -> None:
    date = parse_date(text)
    assert date is not None and (date.iso, str(date.precision)) == (iso, precision)


@pytest.mark.parametrize("text", ["1985-13", "2001-02-30", "June 1985", "85", "1985-1-1-1"])
def test_bad_dates_raise(text: str) -> None:
    with pytest.raises(ValueError):
        parse_date(text)


def test_language_from_script() -> None:
    assert guess_lang("京都") == "zh"  # no Simplified/Traditional-only form: just zh
    assert guess_lang("とうきょう") == "ja"
    assert guess_lang("서울") == "ko"
    assert guess_lang("北京市") == "zh"
    assert guess_lang("臺北") == "zh-Hant"
    assert guess_lang("广州") == "zh-Hans"
    assert guess_lang("Paris") == "und"


def test_doc_ids_come_from_file_names() -> None:
    assert doc_id("my-twins.csv") == "my-twins"
    assert doc_id("My Twins (2024).tsv") == "my-twins-2024"
    assert doc_id("lhc.csv") == "csv-lhc"
    assert doc_id("links.csv") == "csv-links"
    assert doc_id("友好城市.csv").startswith("csv-")


def test_header_errors_are_one_line_with_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("# comment\ncity_a,country_a,town_b\nKyoto,Japan,Paris\n", encoding="utf-8")
    with pytest.raises(SourceError) as info:
        parse_path(bad, source="csv")
    assert str(info.value).startswith(f"{bad}:2: ") and "city_b" in str(info.value)
    twice = tmp_path / "twice.csv"
    twice.write_text("city_a,city_b,city_b\nA,B,C\n", encoding="utf-8")
    with pytest.raises(SourceError, match="more than once"):
        parse_path(twice)


def test_detected_and_reported_by_kg_parse(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "sister.csv"
    path.write_text(LIST, encoding="utf-8")
    assert detect_format(LIST, "sister.csv") == "csv"
    assert main(["parse", str(path), "--format", "table"]) == 0
    out, err = capsys.readouterr()
    assert "Beijing" in out and "東京都" in out
    assert "sister.csv (sister): 3 records, 5 rejected, 1 warnings, 1 blank rows" in err
    assert "rejection sister.csv:7: no such day" in err


def test_registry_has_the_builtin_kinds() -> None:
    assert {"lhc", "zhwiki", "csv"} <= set(kinds())
    assert kinds()["zhwiki"].titles  # titles come from the registry, not from emit


def test_a_third_party_plugin_is_found_through_its_entry_point(tmp_path: Path) -> None:
    """A package of its own (here: a module and its dist-info on the path) adds a kind."""
    site = tmp_path / "site"
    (site / "pipelist-0.1.dist-info").mkdir(parents=True)
    (site / "pipelist-0.1.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: pipelist\nVersion: 0.1\n", encoding="utf-8")
    (site / "pipelist-0.1.dist-info" / "entry_points.txt").write_text(
        "[twinning_kg.sources]\npipes = pipelist\n", encoding="utf-8")
    (site / "pipelist.py").write_text(textwrap.dedent('''\
        """A list of "A | B" lines, one twinning each."""
        from kg.model import PairTwinning, ParseResult, SourceRef
        TITLES = (("Pipe list", "en"),)
        def looks_like(text):
            return text.startswith("PIPES")
        def parse(text, file):
            recs = []
            for n, line in enumerate(text.splitlines(), 1):
                if "|" in line:
                    a, b = (s.strip() for s in line.split("|"))
                    recs.append(PairTwinning(SourceRef("pipes", file, n), a, "", b, ""))
            return ParseResult("pipes", file, tuple(recs))
        '''), encoding="utf-8")
    doc = tmp_path / "list.txt"
    doc.write_text("PIPES\nKyoto | Paris\nBoston | Kyoto\n", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(ROOT)])}
    done = subprocess.run([sys.executable, "-m", "kg", "parse", str(doc)], env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count('"type": "twinning"') == 2
    assert '"doc": "pipes", "file": "list.txt", "records": 2' in done.stderr
    # ... and builds without any change to the core: its title comes from the plug-in.
    out = tmp_path / "dist"
    links = _empty_links(tmp_path / "links.tsv", "pipes", "Kyoto", "")
    done = subprocess.run([sys.executable, "-m", "kg", "build", "-q", "--seeds", str(doc),
                           "--links", str(links),
                           "--out", str(out)],
                          env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    nt = (out / "twinning.nt").read_text(encoding="utf-8")
    title = '<http://purl.org/dc/terms/title> "Pipe list"@en'
    assert f"<https://w3id.org/twinning-kg/source/pipes> {title}" in nt
    assert nt.count("<https://w3id.org/twinning-kg/ontology#Twinning>") == 2


def _empty_links(path: Path, doc: str = "one", key: str = "Kyoto",
                 country: str = "Japan") -> Path:
    """A links table with one unresolved row and no QID: an empty table is an error, and
    the places without a row stay unresolved (the build names them)."""
    from kg.model import LinkRow
    from kg.reconcile.links import write_links

    write_links([LinkRow(doc, "place", key, country, "", "unresolved", "none", "", "", "",
                         "", "", "", "no candidate")], path)
    return path


def test_two_lists_build_together_offline(tmp_path: Path) -> None:
    """Without a links row, places stay unresolved (warnings); each list is its own graph
    and document, every twinning derived from its line."""
    one = tmp_path / "one.csv"
    one.write_text("city_a,country_a,city_b,country_b,start_date\n"
                   "Kyoto,Japan,Paris,France,1958\n", encoding="utf-8")
    two = tmp_path / "two.tsv"
    two.write_text("city_a\tcountry_a\tcity_b\tcountry_b\tstart_date\n\n"
                   "Boston\tUnited States\tKyoto\tJapan\t1959-06-24\n", encoding="utf-8")
    out = tmp_path / "dist"
    code = main(["build", "-q", "--seeds", str(one), str(two),
                 "--links", str(_empty_links(tmp_path / "links.tsv")), "--out", str(out)])
    assert code == 0
    store = ox.Store()
    store.load(path=str(out / "twinning.trig"), format=ox.RdfFormat.TRIG)
    rows = list(store.query("""
        PREFIX tw: <https://w3id.org/twinning-kg/ontology#>
        PREFIX prov: <http://www.w3.org/ns/prov#>
        SELECT ?g ?t ?line ?date WHERE { GRAPH ?g {
          ?t a tw:Twinning ; prov:wasDerivedFrom ?line ; tw:startDate ?date } }
        ORDER BY ?t""", use_default_graph_as_union=False))
    base = "https://w3id.org/twinning-kg/"
    assert [(r["g"].value, r["t"].value, r["line"].value, r["date"].value) for r in rows] == [
        (f"{base}graph/one", f"{base}twinning/one/L2", f"{base}source/one#L2", "1958"),
        (f"{base}graph/two", f"{base}twinning/two/L3", f"{base}source/two#L3", "1959-06-24"),
    ]


def test_two_lists_with_one_id_are_an_error(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    for folder in ("a", "b"):
        (tmp_path / folder / "list.csv").write_text(
            "city_a,city_b\nKyoto,Paris\n", encoding="utf-8")
    code = main(["build", "--seeds", str(tmp_path / "a" / "list.csv"),
                 str(tmp_path / "b" / "list.csv"),
                 "--links", str(_empty_links(tmp_path / "links.tsv")),
                 "--out", str(tmp_path / "dist")])
    assert code == 2
    err = capsys.readouterr().err
    assert "more than one seed document with id list" in err and err.count("\n") == 1
    assert not (tmp_path / "dist").exists()


@needs_gazetteer
@pytest.mark.slow
def test_reconcile_then_build_then_query(tmp_path: Path) -> None:
    """The CSV's place references go through the same reconciliation (gazetteer) into the
    links table, and come out as twinnings between Wikidata-resolved places."""
    path = tmp_path / "my-twins.csv"
    path.write_text(LIST, encoding="utf-8")
    links = tmp_path / "links.tsv"
    assert main(["reconcile", str(path), "--out", str(links)]) == 0
    table = {tuple(line.split("\t")[:4]): line.split("\t")
             for line in links.read_text(encoding="utf-8").splitlines()[1:]}
    beijing = table[("my-twins", "place", "Beijing", "China")]
    paris = table[("my-twins", "place", "Paris", "France")]
    assert beijing[4] == "Q956" and "gf_wikidata_cities.tsv:90" in beijing[11]
    assert paris[4] == "Q90" and "gf_wikidata_cities.tsv:15" in paris[11]
    assert ("my-twins", "country", "China", "") in table

    out = tmp_path / "x"
    assert main(["build", "-q", "--seeds", str(path), "--links", str(links),
                 "--out", str(out)]) == 0
    store = ox.Store()
    store.load(path=str(out / "twinning.trig"), format=ox.RdfFormat.TRIG)
    rows = list(store.query("""
        PREFIX tw: <https://w3id.org/twinning-kg/ontology#>
        PREFIX prov: <http://www.w3.org/ns/prov#>
        PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
        PREFIX dcterms: <http://purl.org/dc/terms/>
        SELECT ?line ?a ?b ?date ?url WHERE {
          ?t a tw:Twinning ; tw:listedPlace ?pa ; tw:partnerPlace ?pb ;
             prov:wasDerivedFrom ?line ; tw:startDate ?date .
          ?pa skos:exactMatch ?a . ?pb skos:exactMatch ?b . ?pa tw:twinnedWith ?pb .
          OPTIONAL { ?t dcterms:source ?url }
        } ORDER BY ?line""", use_default_graph_as_union=True))
    wd = "http://www.wikidata.org/entity/"
    got = [(r["line"].value.rsplit("/", 1)[1], r["a"].value.removeprefix(wd),
            r["b"].value.removeprefix(wd), r["date"].value,
            r["url"].value if r["url"] else None) for r in rows]
    assert got[0] == ("my-twins#L11", "Q90", "Q956", "1997-10", None)
    assert got[1] == ("my-twins#L3", "Q956", "Q90", "1997-10",
                      "https://example.org/beijing-paris")
    assert got[2][:3] == ("my-twins#L4", "Q956", beijing_tokyo_qid(table))


def beijing_tokyo_qid(table: dict[tuple[str, ...], list[str]]) -> str:
    """Tokyo's QID as the links table gives it (the test does not assume it)."""
    row = table[("my-twins", "place", "東京都", "日本")]
    assert row[4] and row[11], "東京都 resolved with evidence"
    return row[4]


# --- issue 19: counts, separators, broken quotes, near misses, language tags -------------


def test_data_rows_add_up() -> None:
    """records + rejections + blank rows = data rows (the report said "of 0 data rows")."""
    result = parse(LIST, "sister.csv")
    assert result.rows == 9 and result.unaccounted == 0


def test_kg_parse_reports_the_data_rows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "sister.csv"
    path.write_text(LIST, encoding="utf-8")
    assert main(["parse", str(path), "--format", "table"]) == 0
    assert "1 blank rows, of 9 data rows" in capsys.readouterr().err


def test_semicolons_separate_cells() -> None:
    text = "city_a;country_a;city_b;country_b\nKyoto;Japan;Paris;France\n"
    assert detect_format(text, "semi.csv") == "csv"
    (rec,) = parse(text, "semi.csv").records
    assert isinstance(rec, PairTwinning) and (rec.city_b, rec.country_b) == ("Paris", "France")


@pytest.mark.parametrize(("header", "missing"), [
    ("city_a,country_a,town_b,country_b", "city_b"),
    ("place_a,country_a,city_b", "city_a"),
])
def test_detection_gives_the_real_reason(tmp_path: Path, header: str, missing: str) -> None:
    path = tmp_path / "almost.csv"
    path.write_text(f"{header}\nKyoto,Japan,Paris,France\n", encoding="utf-8")
    with pytest.raises(SourceError) as info:
        parse_path(path)
    message = str(info.value)
    assert message.startswith(f"{path}: not a csv document: ")
    assert f"needs {missing}" in message and "cannot tell" not in message


def test_an_unclosed_quote_loses_only_its_row(tmp_path: Path) -> None:
    path = tmp_path / "quote.csv"
    path.write_text(
        'city_a,country_a,city_b,country_b,note\n'
        'Kyoto,Japan,Paris,France,"never closed\n'
        'Kyoto,Japan,Boston,United States,\n'
        'Kyoto,Japan,Florence,Italy,"a ""quoted"" note, with a comma"\n'
        'Kyoto,Japan,Xi\'an,China,"two\nlines"\n',
        encoding="utf-8")
    result = parse_path(path)
    assert [r.source.line for r in result.records] == [3, 4, 5]
    (broken,) = result.rejections
    assert str(broken).startswith("quote.csv:2: a quote") and "never closes" in str(broken)
    assert result.rows == 4 and result.unaccounted == 0
    florence = result.records[1]
    assert isinstance(florence, PairTwinning) and florence.note == 'a "quoted" note, with a comma'


def test_an_unclosed_quote_in_the_header_is_an_error_with_its_line() -> None:
    with pytest.raises(SourceError, match="never closes") as info:
        parse('city_a,"country_a,city_b\nKyoto,Japan,Paris\n', "h.csv")
    assert info.value.line == 1


def test_han_names_in_a_japan_row_are_japanese() -> None:
    """京都市 and 札幌市 in Japan are Japanese, not zh; the same characters elsewhere stay zh."""
    text = ("city_a,country_a,city_b,country_b\n"
            "京都市,日本,札幌市,Japan\n"
            "北京市,中国,京都市,JP\n")
    first, second = parse(text, "kanji.csv").records
    assert isinstance(first, PairTwinning) and isinstance(second, PairTwinning)
    assert (first.lang_a, first.lang_b) == ("ja", "ja")
    assert (second.lang_a, second.lang_b) == ("zh", "ja")


def test_language_columns_win_over_the_guess() -> None:
    text = ("city_a,country_a,city_b,country_b,lang_a,lang_b\n"
            "Kyoto,Japan,Paris,France,en,fr\n"
            "京都市,日本,Paris,France,zh-Hant,\n")
    first, second = parse(text, "tags.csv").records
    assert isinstance(first, PairTwinning) and isinstance(second, PairTwinning)
    assert (first.lang_a, first.lang_b) == ("en", "fr")
    assert (second.lang_a, second.lang_b) == ("zh-Hant", "und")
    both = parse("city_a,city_b,lang\nKyoto,Paris,en\n", "one.csv").records[0]
    assert isinstance(both, PairTwinning) and (both.lang_a, both.lang_b) == ("en", "en")


def test_lang_option_tags_what_no_column_tags(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--lang en`: Latin names are en, not und; a lang column still wins; the option does
    not outlive the command."""
    path = tmp_path / "names.csv"
    path.write_text("city_a,city_b,lang_b\nKyoto,Paris,fr\n", encoding="utf-8")
    assert main(["parse", str(path), "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert '"lang_a": "en"' in out and '"lang_b": "fr"' in out
    (rec,) = parse_path(path).records
    assert isinstance(rec, PairTwinning) and rec.lang_a == "und"
    assert main(["parse", str(path), "--lang", "not a tag"]) == 2
    assert "--lang" in capsys.readouterr().err


def test_build_without_links_uses_what_ships(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`kg build --seeds my.csv` without --links: Kyoto (League member, wikidata-links.tsv)
    and Paris resolve from the shipped table; an unknown place is listed with the command
    that does better."""
    path = tmp_path / "mine.csv"
    path.write_text("city_a,country_a,city_b,country_b\nKyoto,Japan,Paris,France\n"
                    "Kyoto,Japan,Nowhere-upon-Nothing,Japan\n", encoding="utf-8")
    out = tmp_path / "dist"
    assert main(["build", "--seeds", str(path), "--out", str(out), "-q", "--lang", "en"]) == 0
    err = capsys.readouterr().err
    # Kyoto, Paris, and the countries Japan and France.
    assert "4 place(s) of your lists resolved from the shipped links table" in err
    assert f"kg reconcile {path} --out my-links.tsv" in err and "Nowhere-upon-Nothing" in err
    ds = ox.Store()
    ds.load(path=str(out / "twinning.nq") if (out / "twinning.nq").exists()
            else str(out / "twinning.trig"), format=ox.RdfFormat.TRIG)
    same = {str(q.object.value) for q in ds.quads_for_pattern(
        None, ox.NamedNode("http://www.w3.org/2004/02/skos/core#exactMatch"), None)}
    assert {"http://www.wikidata.org/entity/Q34600", "http://www.wikidata.org/entity/Q90"} <= same
    labels = {(q.object.value, q.object.language) for q in ds.quads_for_pattern(
        None, ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label"), None)
        if isinstance(q.object, ox.Literal)}
    assert ("Nowhere-upon-Nothing", "en") in labels
