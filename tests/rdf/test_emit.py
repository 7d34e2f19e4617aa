"""The emitter: golden graph by isomorphism, merging by QID, unresolved places, tags."""

from __future__ import annotations

from pathlib import Path

from rdflib import BNode, Dataset, Literal, URIRef
from rdflib.compare import isomorphic

from kg.rdf import emit
from kg.rdf.emit import agreement_kind, zh_tag
from kg.rdf.serialize import union_graph
from kg.rdf.vocab import OWL, PROV, SCHEMA, SKOS, TW, WD, Iris
from tests.rdf.fixtures import BEIJING, KYOTO, links, results

GOLDEN = Path(__file__).parent / "golden" / "small.trig"


def test_golden_graph_is_isomorphic_per_named_graph() -> None:
    ds, _ = emit(results(), links())
    golden = Dataset()
    golden.parse(GOLDEN, format="trig")
    names = {str(g.identifier) for g in golden.graphs() if len(g)}
    assert set(ds.graph_names()) == names
    for name in names:
        assert isomorphic(ds.to_rdflib(name), golden.graph(URIRef(name))), name


def test_same_qid_in_both_documents_is_one_node() -> None:
    dset, stats = emit(results(), links())
    ds = union_graph(dset)
    kyoto = Iris().place_qid(KYOTO)
    records = set(ds.subjects(SCHEMA.about, kyoto))
    docs = {ds.value(r, TW.namedIn) for r in records}
    assert docs == {Iris().source("lhc"), Iris().source("zhwiki")}
    assert (kyoto, SKOS.exactMatch, WD[KYOTO]) in ds
    assert not list(ds.objects(kyoto, OWL.sameAs))
    assert stats.twinnings == 3 and stats.memberships == 2


def test_unresolved_place_has_node_label_country_and_status() -> None:
    dset, stats = emit(results(), links())
    ds = union_graph(dset)
    masuda = Iris().place_lhc_city("Japan", "Masuda")
    (record,) = ds.subjects(SCHEMA.about, masuda)
    assert (record, TW.reconciliationStatus, TW.Unresolved) in ds
    assert (record, PROV.wasDerivedFrom, Iris().source_line("lhc", 6)) in ds
    assert not list(ds.objects(masuda, TW.reconciliationStatus))
    assert (masuda, None, Literal("益田", lang="ja")) in ds
    assert (masuda, TW.country, None) in ds
    assert not list(ds.objects(masuda, SKOS.exactMatch))
    assert "lhc/member: Masuda (Japan)" in stats.unresolved_refs


def test_twinning_is_stated_both_ways_with_provenance() -> None:
    ds = union_graph(emit(results(), links())[0])
    iris = Iris()
    beijing = iris.place_qid(BEIJING)
    t = iris.twinning("zhwiki", 11)
    assert (beijing, TW.twinnedWith, iris.place_qid(KYOTO)) in ds
    assert (iris.place_qid(KYOTO), TW.twinnedWith, beijing) in ds
    assert set(ds.objects(t, TW.place)) == {beijing, iris.place_qid(KYOTO)}
    line = next(iter(ds.objects(t, URIRef("http://www.w3.org/ns/prov#wasDerivedFrom"))))
    assert str(line) == "https://w3id.org/twinning-kg/source/zhwiki#L11"


def test_no_blank_nodes_and_base_is_configurable() -> None:
    ds, _ = emit(results(), links(), base="http://example.org/kg/")
    for s, _, o in ds.to_rdflib():
        assert not isinstance(s, BNode) and not isinstance(o, BNode)
        assert not (isinstance(s, URIRef) and str(s).startswith("https://w3id.org/twinning-kg/"))


def test_zh_tag_and_agreement_kind() -> None:
    assert zh_tag("東京") == "zh-Hant"
    assert zh_tag("东京") == "zh-Hans"
    assert zh_tag("北京市") == "zh"
    assert zh_tag("台灣") == "zh-Hant"
    # Terms in N-Triples syntax (kg.rdf.quads.Term).
    assert agreement_kind("文化備忘錄") == TW.CulturalMemorandum.n3()
    assert agreement_kind("文化备忘录") == TW.CulturalMemorandum.n3()
    assert agreement_kind("友好協約書") == TW.FriendshipCovenant.n3()
    assert agreement_kind(None) == TW.SisterCityRelationship.n3()
