"""The ODbL geometry dataset (kg.rdf.odbl) on the committed data: coverage of the twinning
network, the CC BY-SA dumps free of it, both licences in VoID, the manifest, the shapes
checking its geometry, and its distances."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import DCTERMS, RDF, VOID

from kg import paths
from kg.build import build, read_manifest
from kg.cli import main
from kg.rdf.geo import haversine_km, parse_wkt_point
from kg.rdf.odbl import (
    ODBL_ATTRIBUTION,
    ODBL_LICENSE,
    odbl_dataset_iri,
    odbl_graph_iri,
    odbl_quads,
    with_odbl,
)
from kg.rdf.quads import Quads
from kg.rdf.serialize import DATA_LICENSE
from kg.rdf.vocab import DEFAULT_BASE
from kg.reconcile.links import read_links
from kg.reconcile.odbl_coordinates import ODBL_TSV, OdblCoordinate, read_odbl_table
from kg.validate import ENGINES, validate

CC_FILES = ("twinning.ttl", "twinning.nt", "twinning.jsonld", "twinning.trig")
ODBL_FILES = tuple(f.replace("twinning.", "twinning-geo-odbl.") for f in CC_FILES)
PREFIXES = """PREFIX tw: <https://w3id.org/twinning-kg/ontology#>
PREFIX geo: <http://www.opengis.net/ont/geosparql#>
PREFIX schema: <https://schema.org/>
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("odbl") / "dist"
    build(out=out)
    return out


@pytest.fixture(scope="module")
def served(built: Path) -> ox.Store:
    """Both TriG files in one store, as ``kg serve`` loads them."""
    store = ox.Store()
    for name in ("twinning.trig", "twinning-geo-odbl.trig"):
        store.load(path=str(built / name), format=ox.RdfFormat.TRIG)
    return store


def _count(store: ox.Store, where: str) -> int:
    rows = list(store.query(PREFIXES + f"SELECT (COUNT(DISTINCT ?p) AS ?n) WHERE {{ {where} }}",
                            use_default_graph_as_union=True))
    return int(rows[0][0].value)  # type: ignore[index, union-attr]


# The twinning endpoints with a Wikidata link: resolved places, whose IRIs are place/Q….
_ENDPOINT = f"""?t a tw:Twinning ; tw:place ?p .
    FILTER(STRSTARTS(STR(?p), "{DEFAULT_BASE}place/Q"))"""


def test_coverage_of_the_twinning_network(served: ox.Store) -> None:
    """≥ 90 % of the twinning endpoints with a Wikidata link have a point, and so do the
    provinces and states among them (each point from the record of the place's own QID:
    tests/reconcile/test_coordinates.py and test_odbl_coordinates.py check the evidence)."""
    located = "?p geo:hasGeometry/geo:asWKT ?w ."
    area = "?p a schema:AdministrativeArea ."
    endpoints, placed = _count(served, _ENDPOINT), _count(served, _ENDPOINT + located)
    areas, placed_areas = (_count(served, _ENDPOINT + area),
                           _count(served, _ENDPOINT + area + located))
    assert endpoints > 300 and areas > 100
    assert placed >= 0.9 * endpoints, (placed, endpoints)
    assert placed_areas >= 0.9 * areas, (placed_areas, areas)
    # No place has two points (the CC BY-SA and ODbL graphs never both give one).
    assert _count(served, "?p geo:hasGeometry ?a , ?b . FILTER(?a != ?b)") == 0
    assert _count(served, "?p tw:distanceKm ?a , ?b . FILTER(?a != ?b)") == 0


def test_cc_by_sa_dumps_hold_nothing_from_the_odbl_table(built: Path, tmp_path: Path) -> None:
    """The CC BY-SA files are byte for byte those of a build without the ODbL table, and
    share no triple with the ODbL dumps."""
    alone = tmp_path / "alone"
    assert main(["build", "--out", str(alone), "--no-odbl", "-q"]) == 0
    for name in CC_FILES:
        assert (built / name).read_bytes() == (alone / name).read_bytes(), name
    assert not any((alone / name).exists() for name in ODBL_FILES)
    cc = set((built / "twinning.nt").read_bytes().splitlines())
    odbl = set((built / "twinning-geo-odbl.nt").read_bytes().splitlines())
    assert odbl and not cc & odbl
    for name in CC_FILES:
        text = (built / name).read_text(encoding="utf-8")
        assert "opendatacommons.org" not in text and "graph/geo-odbl" not in text, name
    # Every ODbL row's place is in the graph, and gets its point from the ODbL graph only.
    wkt = "<http://www.opengis.net/ont/geosparql#asWKT>"
    for row in read_odbl_table(ODBL_TSV):
        geometry = f"<{DEFAULT_BASE}place/{row.qid}#geometry> {wkt} ".encode()
        assert not any(line.startswith(geometry) for line in cc), row
        assert any(line.startswith(geometry) for line in odbl), row


def test_a_missing_odbl_table_is_one_line(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "geo-odbl.tsv"
    out = tmp_path / "dist"
    assert main(["build", "--out", str(out), "--odbl-coordinates", str(missing)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{missing}: ODbL coordinates table not found" in err
    assert not out.exists()


def test_void_states_both_licences(built: Path) -> None:
    void = Graph().parse(built / "void.ttl", format="turtle")
    main = URIRef(DEFAULT_BASE + "dataset")
    odbl = URIRef(odbl_dataset_iri(DEFAULT_BASE))
    odbl_licence = URIRef(ODBL_LICENSE)
    assert set(void.objects(main, DCTERMS.license)) == {DATA_LICENSE}
    assert set(void.objects(odbl, DCTERMS.license)) == {odbl_licence}
    assert (odbl, RDF.type, VOID.Dataset) in void
    assert str(void.value(odbl, DCTERMS.rights)) == ODBL_ATTRIBUTION
    # A dataset of its own: not a subset of the CC BY-SA dataset.
    assert odbl not in set(void.transitive_objects(main, VOID.subset))
    # Each dump under its own licence.
    for name, licence in [*((n, DATA_LICENSE) for n in CC_FILES),
                          *((n, odbl_licence) for n in ODBL_FILES)]:
        node = URIRef(DEFAULT_BASE + "dataset/" + name)
        owner = odbl if name in ODBL_FILES else main
        assert (owner, VOID.dataDump, URIRef(DEFAULT_BASE + name)) in void, name
        assert set(void.objects(node, DCTERMS.license)) == {licence}, name
    # The linkset of its geometry links, counted.
    linkset = URIRef(DEFAULT_BASE + "dataset/linkset/geo-odbl")
    assert (odbl, VOID.subset, linkset) in void
    assert (linkset, VOID.objectsTarget, odbl) in void
    assert (linkset, VOID.subjectsTarget, main) in void
    links = (built / "twinning-geo-odbl.nt").read_bytes().count(
        b"<http://www.opengis.net/ont/geosparql#hasGeometry>")
    assert int(void.value(linkset, VOID.triples)) == links == len(read_odbl_table(ODBL_TSV))
    triples = len((built / "twinning-geo-odbl.nt").read_bytes().splitlines())
    assert int(void.value(odbl, VOID.triples)) == triples


def test_the_graph_carries_its_licence_for_descriptions(served: ox.Store) -> None:
    """Each ODbL geometry says which dataset it is in, and that dataset its licence and
    attribution, in the ODbL graph itself (so a description of the geometry can show it)."""
    graph = odbl_graph_iri(DEFAULT_BASE)
    rows = list(served.query(f"""
        PREFIX void: <http://rdfs.org/ns/void#> PREFIX dcterms: <http://purl.org/dc/terms/>
        SELECT DISTINCT ?d ?l WHERE {{ GRAPH <{graph}> {{
          ?g void:inDataset ?d . ?d dcterms:license ?l }} }}"""))
    assert [(r[0].value, r[1].value) for r in rows] == [  # type: ignore[index, union-attr]
        (odbl_dataset_iri(DEFAULT_BASE), ODBL_LICENSE)]
    # Every geometry of the ODbL graph names its licence itself.
    unlicensed = list(served.query(f"""
        PREFIX dcterms: <http://purl.org/dc/terms/>
        PREFIX geo: <http://www.opengis.net/ont/geosparql#>
        SELECT ?g WHERE {{ GRAPH <{graph}> {{ ?g geo:asWKT ?w
          FILTER NOT EXISTS {{ ?g dcterms:license <{ODBL_LICENSE}> }} }} }}"""))
    assert not unlicensed


def test_manifest_lists_the_odbl_files_and_table(built: Path) -> None:
    manifest = read_manifest(built)
    assert manifest is not None
    assert set(ODBL_FILES) <= set(manifest.files)
    inputs = {i.role: i.name for i in manifest.inputs}
    assert inputs["odbl-coordinates"] == ODBL_TSV.name


def test_odbl_distances_are_the_great_circle_between_the_points(served: ox.Store) -> None:
    rows = list(served.query(PREFIXES + f"""SELECT ?d ?wa ?wb WHERE {{
        GRAPH <{odbl_graph_iri(DEFAULT_BASE)}> {{ ?t tw:distanceKm ?d }}
        ?t tw:listedPlace ?a ; tw:partnerPlace ?b .
        ?a geo:hasGeometry/geo:asWKT ?wa . ?b geo:hasGeometry/geo:asWKT ?wb }}""",
        use_default_graph_as_union=True))
    assert len(rows) > 50
    for d, wa, wb in rows:  # type: ignore[misc]
        a, b = parse_wkt_point(wa.value), parse_wkt_point(wb.value)
        assert float(d.value) == pytest.approx(haversine_km(*a, *b), abs=0.05)


def _main_and_odbl() -> tuple[Quads, Quads]:
    from kg.rdf import emit
    from kg.sources import parse_path

    links = read_links(paths.LINKS_TSV)
    ds, _ = emit([parse_path(p) for p in paths.SEED_DOCUMENTS], links)
    return ds, odbl_quads(ds, read_odbl_table(ODBL_TSV), base=DEFAULT_BASE)


@pytest.mark.parametrize("engine", ENGINES)
def test_shapes_check_the_odbl_geometry(engine: str) -> None:
    """The build validates the ODbL graph with the one it adds to: a broken point or a
    second geometry for a place is a violation, on both SHACL engines."""
    ds, odbl = _main_and_odbl()
    name = odbl_graph_iri(DEFAULT_BASE)
    assert validate(with_odbl(ds, odbl), engine=engine).conforms
    lines = odbl.graphs[name]
    broken = [line.replace(b'"POINT(', b'"POINT(1', 1) if b"#asWKT>" in line else line
              for line in lines]
    assert broken != lines
    result = validate(Quads({**ds.graphs, name: broken}), engine=engine)
    assert not result.conforms and "POINT(" in result.text
    # A second geometry for a place the CC BY-SA graph already locates.
    beijing = f"<{DEFAULT_BASE}place/Q956>".encode()
    extra = beijing + b" <http://www.opengis.net/ont/geosparql#hasGeometry> <" + \
        DEFAULT_BASE.encode() + b"place/Q956#other> ."
    result = validate(Quads({**ds.graphs, name: [*lines, extra]}), engine=engine)
    assert not result.conforms


def test_stale_rows_are_left_out() -> None:
    """A row for a place the graph does not hold, or already locates, adds nothing."""
    ds, odbl = _main_and_odbl()
    beijing = read_links(paths.LINKS_TSV).get("zhwiki", "cn", "北京市")
    assert beijing is not None and beijing.lat  # Natural Earth gives Beijing its point
    stale = [OdblCoordinate(beijing.qid, "1", "2", "test"),
             OdblCoordinate("Q999999999", "1", "2", "test")]
    assert len(odbl_quads(ds, stale, base=DEFAULT_BASE)) == 0
    assert len(odbl_quads(ds, [], base=DEFAULT_BASE)) == 0
    assert len(odbl) > 500


def test_the_odbl_graph_from_the_written_union_is_the_same(tmp_path: Path) -> None:
    """kg build looks the table's places up in the spooled union file, as it streams."""
    ds, odbl = _main_and_odbl()
    union = tmp_path / "union.nt"
    union.write_bytes(ds.ntriples())
    assert odbl_quads(union, read_odbl_table(ODBL_TSV), base=DEFAULT_BASE).graphs == odbl.graphs


def test_kg_query_reads_both_datasets_by_default(
        built: Path, served: ox.Store, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """`kg query` without --data reads the built graph with its ODbL coordinates, as
    `kg serve` does: the longest twinnings are the same on both."""
    from kg.query import resolve, run_local

    monkeypatch.setattr(paths, "DIST_DIR", built)
    assert main(["query", "longest-twinnings", "--format", "csv"]) == 0
    local = capsys.readouterr().out
    assert local == run_local(resolve("longest-twinnings").text, served, "csv")
    # Some of them need an ODbL point (a province or state at one end at least).
    odbl = (built / "twinning-geo-odbl.nt").read_text(encoding="utf-8")
    twinnings = [line.split(",")[0] for line in local.splitlines()[1:]]
    assert any(f"<{t}> <https://w3id.org/twinning-kg/ontology#distanceKm>" in odbl
               for t in twinnings)
    # --data names one file: that file alone.
    assert main(["query", "longest-twinnings", "--format", "csv",
                 "--data", str(built / "twinning.trig")]) == 0
    assert capsys.readouterr().out != local
