"""kg.validate and ``kg validate``: conformance policy, report text, errors, exit codes.

These tests use small shapes written here, so they say what the validation function does
whatever the project's shapes hold; tests/shapes/ checks the project's shapes.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from rdflib import RDF, Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import SH

from kg import paths
from kg.cli import build_parser, main
from kg.errors import ValidationError
from kg.validate import ValidationResult, validate, validate_with_shapes

PREFIXES = """
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix ex: <http://example.org/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
"""

# A city must have a name (violation) and should have a twin (warning).
SHAPES = (
    PREFIXES
    + """
ex:CityShape a sh:NodeShape ;
    sh:targetClass ex:City ;
    sh:property ex:CityShape-name , [
        sh:path ex:twin ; sh:minCount 1 ; sh:severity sh:Warning ;
        sh:message "a city should have a twin" ] .
ex:CityShape-name sh:path ex:name ; sh:minCount 1 ; sh:datatype xsd:string ;
    sh:message "a city needs a name" .
"""
)

GOOD = PREFIXES + 'ex:a a ex:City ; ex:name "A" ; ex:twin ex:b .\n'
WARN_ONLY = PREFIXES + 'ex:a a ex:City ; ex:name "A" .\n'
BAD = PREFIXES + 'ex:b a ex:City ; ex:name "B" .\nex:a a ex:City ; ex:name 5 ; ex:twin ex:b .\n'

EX = "http://example.org/"


@pytest.fixture
def shapes_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "shapes"
    folder.mkdir()
    (folder / "city.ttl").write_text(SHAPES, encoding="utf-8")
    return folder


def graph(text: str) -> Graph:
    return Graph().parse(data=text, format="turtle")


def run(data: str | Graph, shapes_dir: Path, tmp_path: Path) -> ValidationResult:
    if isinstance(data, str):
        path = tmp_path / "data.ttl"
        path.write_text(data, encoding="utf-8")
        return validate(path, shapes_dir=shapes_dir, ontology=None)
    return validate(data, shapes_dir=shapes_dir, ontology=None)


def test_conforming_graph(shapes_dir: Path, tmp_path: Path) -> None:
    result = run(GOOD, shapes_dir, tmp_path)
    assert (result.conforms, result.violations, result.warnings, result.infos) == (
        True,
        0,
        0,
        0,
    )
    assert result.text.startswith("Validation report: conforms (0 violations, 0 warnings")
    assert (None, SH.conforms, Literal(True)) in result.report_graph


def test_warnings_do_not_block(shapes_dir: Path, tmp_path: Path) -> None:
    result = run(WARN_ONLY, shapes_dir, tmp_path)
    assert (result.conforms, result.violations, result.warnings) == (True, 0, 1)
    # The report graph agrees with the result (pySHACL's allow_warnings), and says why.
    assert (None, SH.conforms, Literal(True)) in result.report_graph
    assert "Only violations block conformance" in result.text
    assert "Warning: ex:a" in result.text
    assert "a city should have a twin" in result.text


def test_plain_shacl_counts_warnings(shapes_dir: Path) -> None:
    """validate_with_shapes defaults to plain SHACL, as the W3C suite expects."""
    result = validate_with_shapes(graph(WARN_ONLY), graph(SHAPES))
    assert (result.conforms, result.warnings) == (False, 1)
    assert "Every result, whatever its severity, blocks conformance." in result.text


def test_violations_are_reported_in_order(shapes_dir: Path, tmp_path: Path) -> None:
    result = run(BAD, shapes_dir, tmp_path)
    assert (result.conforms, result.violations, result.warnings) == (False, 1, 1)
    text = result.text
    assert text.startswith("Validation report: DOES NOT CONFORM (1 violations, 1 warnings")
    # Grouped: violations first, then warnings; each with focus, path, shape, message.
    assert text.index("Violation (1)") < text.index("Warning (1)")
    violation = text[text.index("Violation (1)") : text.index("Warning (1)")]
    assert "Violation: ex:a" in violation
    assert "path:       ex:name" in violation
    assert 'value:      "5"^^xsd:integer' in violation
    assert "shape:      ex:CityShape-name" in violation
    assert "constraint: sh:DatatypeConstraintComponent" in violation
    assert "message:    a city needs a name" in violation
    warning = text[text.index("Warning (1)") :]
    assert "Warning: ex:b" in warning
    assert "shape:      [property shape on ex:twin]" in warning


def test_results_sorted_by_focus_node(shapes_dir: Path, tmp_path: Path) -> None:
    data = PREFIXES + "".join(f"ex:c{n} a ex:City ; ex:twin ex:x .\n" for n in (3, 1, 2))
    text = run(data, shapes_dir, tmp_path).text
    positions = [text.index(f"Violation: ex:c{n}\n") for n in (1, 2, 3)]
    assert positions == sorted(positions)


def test_report_graph_structure(shapes_dir: Path, tmp_path: Path) -> None:
    report = run(BAD, shapes_dir, tmp_path).report_graph
    results = list(report.subjects(RDF.type, SH.ValidationResult))
    assert len(results) == 2
    violation = next(r for r in results if report.value(r, SH.resultSeverity) == SH.Violation)
    assert report.value(violation, SH.focusNode) == URIRef(EX + "a")
    assert report.value(violation, SH.resultPath) == URIRef(EX + "name")


def test_graph_argument_is_not_modified(shapes_dir: Path, tmp_path: Path) -> None:
    data = graph(BAD)
    before = Graph()
    before += data
    run(data, shapes_dir, tmp_path)
    assert isomorphic(before, data)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("data.nt", f'<{EX}a> <{RDF.type}> <{EX}City> .\n<{EX}a> <{EX}name> "A" .\n'),
        ("data.trig", PREFIXES + 'ex:g1 { ex:a a ex:City . }\nex:g2 { ex:a ex:name "A" . }\n'),
    ],
)
def test_other_formats(shapes_dir: Path, tmp_path: Path, name: str, text: str) -> None:
    """N-Triples and TriG (named graphs merged) are read too."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    result = validate(path, shapes_dir=shapes_dir, ontology=None)
    assert (result.violations, result.warnings) == (0, 1)


def test_ontology_is_mixed_in(shapes_dir: Path, tmp_path: Path) -> None:
    """A subclass declared only in the ontology is a target of the class's shape."""
    ontology = tmp_path / "ontology.ttl"
    ontology.write_text(PREFIXES + "ex:Capital rdfs:subClassOf ex:City .\n", encoding="utf-8")
    data = graph(PREFIXES + "ex:t a ex:Capital .\n")
    assert validate(data, shapes_dir=shapes_dir, ontology=None).conforms
    with_ontology = validate(data, shapes_dir=shapes_dir, ontology=ontology)
    assert with_ontology.violations == 1
    assert len(data) == 1


def test_shapes_from_every_file(shapes_dir: Path, tmp_path: Path) -> None:
    (shapes_dir / "extra.ttl").write_text(
        PREFIXES + "ex:X a sh:NodeShape ; sh:targetNode ex:zz ; sh:class ex:City .\n",
        encoding="utf-8",
    )
    (shapes_dir / "notes.txt").write_text("not a shape", encoding="utf-8")
    result = run(GOOD, shapes_dir, tmp_path)
    assert result.violations == 1
    assert "Violation: ex:zz" in result.text


# --- errors: one ValidationError, with file:line where there is one -------------------------


def test_syntax_error_in_graph(shapes_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "broken.ttl"
    path.write_text(PREFIXES + "ex:a ex:name 'A' \nex:b ex:c .\n", encoding="utf-8")
    with pytest.raises(ValidationError) as info:
        validate(path, shapes_dir=shapes_dir, ontology=None)
    assert str(info.value).startswith(f"{path}:7: column ")


def test_missing_graph(shapes_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="cannot read"):
        validate(tmp_path / "nope.ttl", shapes_dir=shapes_dir, ontology=None)


def test_unknown_graph_format(shapes_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "data.csv"
    path.write_text("a,b\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="unknown RDF format"):
        validate(path, shapes_dir=shapes_dir, ontology=None)


def test_missing_shapes_folder(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="shapes folder not found"):
        validate(graph(GOOD), shapes_dir=tmp_path / "none", ontology=None)


def test_empty_shapes_folder(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match=r"no \.ttl file"):
        validate(graph(GOOD), shapes_dir=tmp_path, ontology=None)


def test_broken_shapes_file(shapes_dir: Path) -> None:
    (shapes_dir / "zz.ttl").write_text(PREFIXES + "ex:S a sh:NodeShape\n", encoding="utf-8")
    with pytest.raises(ValidationError) as info:
        validate(graph(GOOD), shapes_dir=shapes_dir, ontology=None)
    assert str(info.value).startswith(f"{shapes_dir / 'zz.ttl'}:7: column ")


def test_missing_ontology(shapes_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="ontology"):
        validate(graph(GOOD), shapes_dir=shapes_dir, ontology=tmp_path / "none.ttl")


@pytest.mark.parametrize(
    "shape",
    [
        'ex:S a sh:NodeShape ; sh:targetNode ex:a ; sh:property [ sh:path ex:p ; sh:minCount "x" ]',
        'ex:S a sh:NodeShape ; sh:targetNode ex:a ; sh:sparql [ sh:select "SELECT ?this {" ]',
    ],
    ids=["ill-formed-constraint", "bad-sparql"],
)
def test_shapes_pyshacl_cannot_evaluate(shape: str) -> None:
    with pytest.raises(ValidationError, match="SHACL validation failed"):
        validate_with_shapes(graph(GOOD), graph(PREFIXES + shape + " ."))


def test_unknown_inference_option(shapes_dir: Path) -> None:
    with pytest.raises(ValidationError, match="unknown inference option"):
        validate(graph(GOOD), shapes_dir=shapes_dir, ontology=None, inference="magic")


# --- kg validate -----------------------------------------------------------------------------


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "graph.ttl"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(("data", "code"), [(GOOD, 0), (WARN_ONLY, 0), (BAD, 1)])
def test_cli_exit_codes(
    shapes_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], data: str, code: int
) -> None:
    argv = ["validate", str(write(tmp_path, data)), "--shapes", str(shapes_dir), "--no-ontology"]
    assert main(argv) == code
    assert capsys.readouterr().out.startswith("Validation report: ")


def test_cli_turtle_report(
    shapes_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, BAD)
    argv = ["validate", str(path), "--shapes", str(shapes_dir), "--no-ontology", "--format", "ttl"]
    assert main(argv) == 1
    report = Graph().parse(data=capsys.readouterr().out, format="turtle")
    assert len(list(report.subjects(RDF.type, SH.ValidationResult))) == 2
    assert (None, SH.conforms, Literal(False)) in report


def test_cli_error_is_one_line(
    shapes_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, PREFIXES + "ex:a ex:b\n")
    assert main(["validate", str(path), "--shapes", str(shapes_dir), "--no-ontology"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"kg validate: error: {path}:")


def test_cli_defaults() -> None:
    args = build_parser().parse_args(["validate"])
    assert args.graph == paths.DIST_DIR / "twinning.ttl"
    assert args.shapes == paths.SHAPES_DIR
    assert args.ontology == paths.ONTOLOGY
    assert (args.format, args.inference) == ("text", "none")


def test_cli_in_a_subprocess(shapes_dir: Path, tmp_path: Path) -> None:
    """The installed entry point: exit code 1 and the report, no traceback."""
    path = write(tmp_path, BAD)
    options = ["--shapes", str(shapes_dir), "--no-ontology"]
    done = subprocess.run(
        [sys.executable, "-m", "kg", "validate", str(path), *options],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert "Violations (1), by shape:" in done.stdout
    assert '    ex:a (value "5"^^xsd:integer)' in done.stdout
    assert done.stderr == ""
    full = subprocess.run(
        [sys.executable, "-m", "kg", "validate", str(path), *options, "--full"],
        capture_output=True, text=True, check=False,
    )
    assert full.returncode == 1 and "Violation: ex:a" in full.stdout


# --- engines ---------------------------------------------------------------------------------


@pytest.mark.parametrize("data", [GOOD, WARN_ONLY, BAD], ids=["good", "warn-only", "bad"])
def test_engines_give_the_same_report(shapes_dir: Path, tmp_path: Path, data: str) -> None:
    """The shacl engine and pySHACL, the reference: same verdict, counts and report text."""
    path = write(tmp_path, data)
    fast = validate(path, shapes_dir=shapes_dir, ontology=None, engine="shacl")
    reference = validate(path, shapes_dir=shapes_dir, ontology=None, engine="pyshacl")
    assert (fast.conforms, fast.violations, fast.warnings) == (
        reference.conforms, reference.violations, reference.warnings,
    )
    assert fast.text == reference.text


def test_owlrl_inference_needs_pyshacl(shapes_dir: Path) -> None:
    with pytest.raises(ValidationError, match="--engine pyshacl"):
        validate(graph(GOOD), shapes_dir=shapes_dir, ontology=None, inference="owlrl")
    result = validate(graph(GOOD), shapes_dir=shapes_dir, ontology=None, inference="owlrl",
                      engine="pyshacl")
    assert result.conforms


def test_unknown_engine(shapes_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ValidationError, match="unknown SHACL engine"):
        validate(graph(GOOD), shapes_dir=shapes_dir, ontology=None, engine="magic")


@pytest.mark.parametrize("engine", ["shacl", "pyshacl"])
def test_cli_engine_option(
    shapes_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], engine: str
) -> None:
    argv = ["validate", str(write(tmp_path, BAD)), "--shapes", str(shapes_dir), "--no-ontology",
            "--engine", engine, "--full"]
    assert main(argv) == 1
    assert "Violation: ex:a" in capsys.readouterr().out


def test_progress_only_on_a_terminal(shapes_dir: Path, tmp_path: Path) -> None:
    """On a terminal, stderr shows a progress line and clears it; piped, it stays empty
    (test_cli_in_a_subprocess)."""
    import os
    import pty

    path = write(tmp_path, GOOD)
    leader, follower = pty.openpty()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "kg", "validate", str(path), "--shapes", str(shapes_dir),
             "--no-ontology"],
            stdout=subprocess.PIPE, stderr=follower, text=True, check=False, timeout=120,
        )
        os.close(follower)
        seen = b""
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    finally:
        os.close(leader)
    assert done.returncode == 0
    assert b"kg validate: validating" in seen and seen.endswith(b"\r\x1b[K")
    assert done.stdout.startswith("Validation report: conforms")
