"""The project's shapes bite: each kind of defect, applied to a copy of the built graph, is
rejected with the expected ``sh:resultPath`` and severity Violation; the unbroken graph
conforms, and unresolved places or missing reverse links are Warnings, not Violations.

Each defect is checked by both engines: the default one (``shacl``) on the whole broken
graph, and pySHACL, the reference, on the defect's neighbourhood (the triples two steps out
from the focus node, and those pointing at it), so the suite runs pySHACL over the full
graph once only (the unbroken graph, where both engines must give the same report).

The defects are written against the reused vocabularies the issue fixes (W3C ORG for
memberships, OWL sameAs, PROV-O, XSD dates, language-tagged labels); the project's own
terms (the twinning class and its place property, the direct link) are found in the
shapes and the ontology by what they declare, so a renamed term does not break the tests
but a missing constraint does, with a message saying which shape to add.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from rdflib import OWL, RDF, RDFS, XSD, Graph, Literal, Namespace, URIRef
from rdflib.namespace import PROV, SH, SKOS
from rdflib.term import Node

from kg import paths
from kg.validate import DEFAULT_ENGINE, ValidationResult, top_results, validate

ORG = Namespace("http://www.w3.org/ns/org#")
SCHEMA = Namespace("http://schema.org/")
WIKIDATA_ENTITY = "http://www.wikidata.org/entity/"
LABEL_PATHS = {RDFS.label, SKOS.prefLabel, SKOS.altLabel, SCHEMA.name}
DATE_TYPES = {XSD.date, XSD.gYearMonth, XSD.gYear, XSD.dateTime}

HAVE_SHAPES = paths.SHAPES_DIR.is_dir() and any(paths.SHAPES_DIR.glob("*.ttl"))
pytestmark = pytest.mark.skipif(not HAVE_SHAPES, reason=f"no SHACL shapes in {paths.SHAPES_DIR}")


# --- reading the shapes ----------------------------------------------------------------------


@dataclass(frozen=True)
class PropertyShape:
    """A property shape with the classes whose instances it constrains."""

    node: Node
    path: Node
    classes: frozenset[Node]
    severity: Node

    def value(self, shapes: Graph, predicate: URIRef) -> Node | None:
        return shapes.value(self.node, predicate)


def property_shapes(shapes: Graph) -> list[PropertyShape]:
    """Every property shape, with its target classes (own targets, those of the node shapes
    that use it through sh:property, and implicit class targets)."""

    def targets(shape: Node) -> set[Node]:
        found = set(shapes.objects(shape, SH.targetClass))
        if (shape, RDF.type, RDFS.Class) in shapes or (shape, RDF.type, OWL.Class) in shapes:
            found.add(shape)
        return found

    out = []
    for node in set(shapes.subjects(SH.path, None)):
        classes = targets(node)
        for parent in shapes.subjects(SH.property, node):
            classes |= targets(parent)
        path = shapes.value(node, SH.path)
        assert path is not None
        severity = shapes.value(node, SH.severity) or SH.Violation
        out.append(PropertyShape(node, path, frozenset(classes), severity))
    return out


def find_shape(shapes: Graph, test: Callable[[PropertyShape], bool], wanted: str) -> PropertyShape:
    # Sorted by path and target classes, so the chosen shape does not depend on hash order.
    def key(s: PropertyShape) -> tuple[str, list[str]]:
        return str(s.path), sorted(map(str, s.classes))

    for shape in sorted(property_shapes(shapes), key=key):
        if shape.severity == SH.Violation and test(shape):
            return shape
    pytest.fail(f"shapes/ has no Violation-level property shape for: {wanted}")


def min_count(shapes: Graph, shape: PropertyShape) -> int:
    value = shape.value(shapes, SH.minCount)
    return int(value) if isinstance(value, Literal) else 0


def datatypes(shapes: Graph, shape: PropertyShape) -> set[Node]:
    """sh:datatype of the shape, directly or inside an sh:or / sh:xone list."""
    found = set(shapes.objects(shape.node, SH.datatype))
    for combinator in (SH["or"], SH.xone):
        for head in shapes.objects(shape.node, combinator):
            for member in shapes.items(head):
                found |= set(shapes.objects(member, SH.datatype))
    return found


# --- fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Graph:
    """The graph ``kg build`` writes (offline, from the committed links table)."""
    from kg.cli import main
    from kg.rdf.syntax import read_graph

    out = tmp_path_factory.mktemp("dist")
    assert main(["build", "--out", str(out)]) == 0
    return read_graph(out / "twinning.ttl")


def run(graph: Graph, engine: str = DEFAULT_ENGINE) -> ValidationResult:
    return validate(graph, shapes_dir=paths.SHAPES_DIR, ontology=paths.ONTOLOGY, engine=engine)


def neighbourhood(graph: Graph, focus: Node) -> Graph:
    """The triples of ``graph`` two steps out from ``focus``, and those pointing at it."""
    out = Graph()
    frontier = {focus}
    seen: set[Node] = set()
    for _ in range(3):
        nxt: set[Node] = set()
        for node in frontier - seen:
            for p, o in graph.predicate_objects(node):
                out.add((node, p, o))
                nxt.add(o)
        seen |= frontier
        frontier = nxt
    for s, p in graph.subject_predicates(focus):
        out.add((s, p, focus))
    return out


def copy(graph: Graph) -> Graph:
    out = Graph()
    for prefix, namespace in graph.namespaces():
        out.bind(prefix, namespace)
    out += graph
    return out


def instances(graph: Graph, classes: frozenset[Node], having: Node | None = None) -> list[Node]:
    """Instances of ``classes`` (sorted, so the chosen focus node is stable), optionally
    only those with a value for the predicate ``having``."""
    found = {s for c in classes for s in graph.subjects(RDF.type, c)}
    if having is not None:
        found = {s for s in found if graph.value(s, having) is not None}
    return sorted(found, key=str)


def first_instance(graph: Graph, shape: PropertyShape) -> Node:
    assert isinstance(shape.path, URIRef), "the defects below change simple paths only"
    nodes = instances(graph, shape.classes, having=shape.path)
    assert nodes, f"the built graph has no {sorted(map(str, shape.classes))} with {shape.path}"
    return nodes[0]


def results(result: ValidationResult, severity: URIRef) -> set[tuple[Node, Node]]:
    """(focus node, result path) of every result of ``severity``."""
    report = result.report_graph
    return {
        (report.value(r, SH.focusNode), report.value(r, SH.resultPath))  # type: ignore[misc]
        for r in top_results(report)
        if report.value(r, SH.resultSeverity) == severity
    }


# --- the defects ------------------------------------------------------------------------------


def two_places(shapes: Graph) -> PropertyShape:
    """The twinning's "exactly two places" constraint (sh:minCount 2 and sh:maxCount 2)."""
    return find_shape(
        shapes,
        lambda s: min_count(shapes, s) == 2 and s.value(shapes, SH.maxCount) == Literal(2),
        "a twinning has exactly two places (sh:minCount 2 ; sh:maxCount 2)",
    )


def org_shape(shapes: Graph, predicate: URIRef) -> PropertyShape:
    return find_shape(
        shapes,
        lambda s: s.path == predicate and ORG.Membership in s.classes and min_count(shapes, s) >= 1,
        f"an org:Membership has an {predicate.n3()} (sh:minCount 1)",
    )


def date_shape(shapes: Graph) -> PropertyShape:
    return find_shape(
        shapes,
        lambda s: bool(datatypes(shapes, s) & DATE_TYPES) and s.path != ORG.memberDuring,
        "dates have XSD date datatypes (sh:datatype or sh:or of xsd:date/gYearMonth/gYear)",
    )


def same_as_shape(shapes: Graph) -> PropertyShape:
    return find_shape(
        shapes,
        lambda s: s.path == SKOS.exactMatch and s.value(shapes, SH.pattern) is not None,
        "skos:exactMatch targets (the places' Wikidata links) match the Wikidata entity IRI"
        " pattern (sh:pattern)",
    )


def label_shape(shapes: Graph, *, required: bool) -> PropertyShape:
    def test(s: PropertyShape) -> bool:
        # A shape without target classes (sh:targetSubjectsOf) gives no instance to break.
        if s.path not in LABEL_PATHS or not s.classes or s.classes & {ORG.Membership}:
            return False
        if required:
            return min_count(shapes, s) >= 1
        tagged = s.value(shapes, SH.datatype) == RDF.langString
        return tagged or s.value(shapes, SH.languageIn) is not None

    wanted = "a place has a label (sh:minCount 1)" if required else "labels are language-tagged"
    return find_shape(shapes, test, wanted + " on rdfs:label, skos:prefLabel or schema:name")


def provenance_shape(shapes: Graph) -> PropertyShape:
    twinning = two_places(shapes).classes
    return find_shape(
        shapes,
        lambda s: (
            str(s.path).startswith(str(PROV))
            and bool(s.classes & twinning)
            and min_count(shapes, s) >= 1
        ),
        "a twinning carries its provenance (a PROV-O property, sh:minCount 1)",
    )


#: A defect breaks the graph (first argument) using the shapes (second) and returns the
#: focus node and result path the shapes must report.
Breaker = Callable[[Graph, Graph], tuple[Node, Node]]
ShapeFinder = Callable[[Graph], PropertyShape]


def remove_all(shape_of: ShapeFinder) -> Breaker:
    def apply(graph: Graph, shapes: Graph) -> tuple[Node, Node]:
        shape = shape_of(shapes)
        focus = first_instance(graph, shape)
        graph.remove((focus, shape.path, None))
        return focus, shape.path

    return apply


def set_value(shape_of: ShapeFinder, value: Node) -> Breaker:
    def apply(graph: Graph, shapes: Graph) -> tuple[Node, Node]:
        shape = shape_of(shapes)
        focus = first_instance(graph, shape)
        graph.set((focus, shape.path, value))
        return focus, shape.path

    return apply


def add_value(shape_of: ShapeFinder, value: Node) -> Breaker:
    def apply(graph: Graph, shapes: Graph) -> tuple[Node, Node]:
        shape = shape_of(shapes)
        focus = first_instance(graph, shape)
        graph.add((focus, shape.path, value))
        return focus, shape.path

    return apply


def one_place(graph: Graph, shapes: Graph) -> tuple[Node, Node]:
    shape = two_places(shapes)
    focus = first_instance(graph, shape)
    graph.remove((focus, shape.path, sorted(graph.objects(focus, shape.path), key=str)[0]))
    return focus, shape.path


def three_places(graph: Graph, shapes: Graph) -> tuple[Node, Node]:
    shape = two_places(shapes)
    focus = first_instance(graph, shape)
    current = set(graph.objects(focus, shape.path))
    # Another place: one that some twinning names, else any node of a place's class.
    kinds = {k for place in current for k in graph.objects(place, RDF.type)}
    candidates = set(graph.objects(None, shape.path))
    candidates |= {n for k in kinds for n in graph.subjects(RDF.type, k)}
    others = sorted((n for n in candidates if n not in current), key=str)
    assert others, "the built graph has a single place"
    other = others[0]
    graph.add((focus, shape.path, other))
    return focus, shape.path


def same_place_twice(graph: Graph, shapes: Graph) -> tuple[Node, Node]:
    """Both ends of a twinning are one place (in RDF a set: it leaves one distinct place)."""
    shape = two_places(shapes)
    focus = first_instance(graph, shape)
    first, second = sorted(graph.objects(focus, shape.path), key=str)
    graph.remove((focus, shape.path, second))
    graph.add((focus, shape.path, first))
    return focus, shape.path


DEFECTS: dict[str, Breaker] = {
    "twinning-with-one-place": one_place,
    "twinning-with-three-places": three_places,
    "twinning-same-place-twice": same_place_twice,
    "malformed-date": set_value(date_shape, Literal("1985-13-40", datatype=XSD.date)),
    "date-as-plain-string": set_value(date_shape, Literal("1985-06-01")),
    "exactMatch-not-wikidata": set_value(same_as_shape, URIRef("http://dbpedia.org/resource/Kyoto")),
    "exactMatch-wikidata-property-not-entity": set_value(
        same_as_shape, URIRef("http://www.wikidata.org/prop/direct/P190")
    ),
    "label-without-language": add_value(
        lambda shapes: label_shape(shapes, required=False), Literal("Nowhere")
    ),
    "membership-without-network": remove_all(lambda shapes: org_shape(shapes, ORG.organization)),
    "membership-without-member": remove_all(lambda shapes: org_shape(shapes, ORG.member)),
    "membership-without-period": remove_all(lambda shapes: org_shape(shapes, ORG.memberDuring)),
    "place-without-label": remove_all(lambda shapes: label_shape(shapes, required=True)),
    "twinning-without-provenance": remove_all(provenance_shape),
}


def test_the_unbroken_graph_conforms(built: Graph) -> None:
    result = run(built)
    assert result.violations == 0, result.text
    assert result.conforms


def test_engines_agree_on_the_whole_graph(built: Graph) -> None:
    """pySHACL, the reference, over the full graph once: the same report text."""
    reference = run(built, "pyshacl")
    assert reference.conforms and reference.violations == 0, reference.text
    assert run(built).text == reference.text


@pytest.mark.parametrize("defect", sorted(DEFECTS))
def test_defect_is_a_violation(built: Graph, shapes: Graph, defect: str) -> None:
    broken = copy(built)
    focus, path = DEFECTS[defect](broken, shapes)
    for engine, graph in ((DEFAULT_ENGINE, broken), ("pyshacl", neighbourhood(broken, focus))):
        result = run(graph, engine)
        assert not result.conforms, engine
        violations = results(result, SH.Violation)
        assert (focus, path) in violations, (
            f"{defect} ({engine}): expected a Violation at {focus} {path}\n" + result.text
        )


def test_unresolved_place_is_a_warning(built: Graph) -> None:
    """A place without skos:exactMatch is reported as a Warning and blocks nothing."""
    broken = copy(built)
    place = sorted(set(broken.subjects(SKOS.exactMatch, None)), key=str)[0]
    broken.remove((place, SKOS.exactMatch, None))
    before = results(run(built), SH.Warning)
    result = run(broken)
    assert result.conforms and result.violations == 0, result.text
    new = results(result, SH.Warning) - before
    assert any(focus == place for focus, _ in new), result.text


def test_missing_reverse_link_is_a_warning(built: Graph) -> None:
    """Removing one direction of the direct symmetric link leaves a Warning only."""
    ontology = Graph().parse(paths.ONTOLOGY, format="turtle")
    symmetric = sorted(
        p for p in ontology.subjects(RDF.type, OWL.SymmetricProperty) if isinstance(p, URIRef)
    )
    links = [(s, p, o) for p in symmetric for s, o in built.subject_objects(p)]
    assert links, "the built graph has no direct twinning link (owl:SymmetricProperty)"
    subject, predicate, obj = sorted(links)[0]
    assert (obj, predicate, subject) in built, "the built graph states both directions"
    broken = copy(built)
    broken.remove((obj, predicate, subject))
    before = results(run(built), SH.Warning)
    result = run(broken)
    assert result.conforms and result.violations == 0, result.text
    assert results(result, SH.Warning) - before, result.text


def test_defects_cover_the_issue() -> None:
    assert len(DEFECTS) >= 10
