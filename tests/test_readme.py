"""Every command and query in README.md runs, so the README cannot drift from the code.

The two Quick start commands are run by ``.ci/run``; every other ``console`` block's command
is run here, each by a runner listed in ``RUNNERS``. A README command without a runner fails
:func:`test_every_command_has_a_runner`, so a new command in the README needs a test.
Commands run as written from the project root; only addresses change (a free port instead of
8000, the test's own Oxigraph and Virtuoso instead of 7878 and 8890, a scratch folder for a
new store), and the benchmark runs with fewer requests.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pyoxigraph as ox
import pytest
import requests

from kg import paths
from tests.shared import GAZETTEER_MISSING
from tests.stores import Store, free_port

README = paths.PROJECT_ROOT / "README.md"
TEXT = README.read_text(encoding="utf-8")
PLACE = "https://w3id.org/twinning-kg/place/"


def section(title: str) -> str:
    return TEXT.split(f"## {title}", 1)[1].split("\n## ", 1)[0]


def blocks(language: str, text: str = TEXT) -> list[str]:
    return [b.strip() for b in re.findall(rf"```{language}\n(.*?)```", text, re.S)]


def commands() -> list[str]:
    """Each line of each ``console`` block outside the Quick start."""
    quick = set(blocks("console", section("Quick start")))
    return [line for block in blocks("console") if block not in quick
            for line in block.splitlines() if line.strip()]


def shell(command: str, *, timeout: float = 600,
          env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``command`` in bash from the project root, with this Python's ``kg`` first on PATH."""
    full_env = {**os.environ, **(env or {})}
    full_env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{full_env.get('PATH', '')}"
    return subprocess.run(["bash", "-c", command], cwd=paths.PROJECT_ROOT, env=full_env,
                          capture_output=True, text=True, timeout=timeout, check=False)


def ok(command: str, **options: object) -> subprocess.CompletedProcess[str]:
    done = shell(command, **options)  # type: ignore[arg-type]
    assert done.returncode == 0, f"{command}\n{done.stderr[-3000:]}"
    assert "Traceback" not in done.stderr
    return done


@contextmanager
def serving(command: str) -> Iterator[str]:
    """Run a ``kg serve`` command on a free port; yields its base URL, stops it with Ctrl-C."""
    port = free_port()
    argv = [*shlex.split(command), "--port", str(port)]  # the last --port wins
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    process = subprocess.Popen(argv, cwd=paths.PROJECT_ROOT, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while True:
            assert process.poll() is None, process.communicate()[1][-3000:]
            try:
                if requests.get(f"{base}/sparql", params={"query": "ASK {}"}, timeout=2).ok:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline, f"{command}: not up after 300 s"
            time.sleep(0.3)
        yield base
    finally:
        process.send_signal(signal.SIGINT)
        try:
            code = process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
        stderr = process.communicate()[1]
        assert "Traceback" not in stderr and code in (0, 130), stderr[-3000:]


# --- runners: one per README command ----------------------------------------------------------

Runner = Callable[[str, pytest.FixtureRequest], None]


def run_plain(command: str, request: pytest.FixtureRequest) -> None:
    ok(command)


def run_parse(command: str, request: pytest.FixtureRequest) -> None:
    done = ok(command)
    assert "records" in done.stderr and done.stdout


def run_reconcile_report(command: str, request: pytest.FixtureRequest) -> None:
    """The report, with the table written aside: it must equal the committed one."""
    if not paths.GAZETTEER_DIR.is_dir():
        pytest.skip(GAZETTEER_MISSING)
    out = request.getfixturevalue("tmp_path") / "links.tsv"
    done = ok(f"{command} --out {shlex.quote(str(out))}")
    assert "coverage" in done.stdout.lower()
    assert out.read_bytes() == paths.LINKS_TSV.read_bytes(), (
        "seeds/wikidata-links.tsv is not what `kg reconcile` writes; run it and commit")


def run_validate(command: str, request: pytest.FixtureRequest) -> None:
    request.getfixturevalue("built")
    assert "conforms" in ok(command).stdout


def run_serve(command: str, request: pytest.FixtureRequest) -> None:
    request.getfixturevalue("built")
    with serving(command) as base:
        answer = requests.get(f"{base}/sparql", params={"query": "SELECT * { ?s ?p ?o } LIMIT 1"},
                              headers={"Accept": "application/sparql-results+json"}, timeout=30)
        assert answer.ok and answer.json()["results"]["bindings"]
        assert requests.get(base + "/", timeout=30).ok


def run_query(command: str, request: pytest.FixtureRequest) -> None:
    request.getfixturevalue("built")
    if "--endpoint http://127.0.0.1:8000/sparql" in command:
        with serving("kg serve --no-build") as base:
            done = ok(command.replace("http://127.0.0.1:8000", base))
    else:
        done = ok(command)
    assert done.stdout.strip()


def run_load(command: str, request: pytest.FixtureRequest) -> None:
    request.getfixturevalue("built")
    local: dict[str, str] = {}
    for default, fixture in (("127.0.0.1:7878", "oxigraph"), ("127.0.0.1:8890", "virtuoso")):
        if default in command:
            store: Store = request.getfixturevalue(fixture)
            local[default] = store.gsp.split("/")[2]
    assert local, f"no known store address in {command}"
    for default, actual in local.items():
        command = command.replace(default, actual)
    done = ok(command)
    assert "triples" in (done.stdout + done.stderr)


def run_oxigraph_load(command: str, request: pytest.FixtureRequest) -> None:
    """The fresh Oxigraph store of "Replacing a large graph", made in a scratch folder:
    it holds the built graph in the named graph."""
    request.getfixturevalue("built")
    if paths.installed_program("oxigraph") is None:
        pytest.skip("the oxigraph server binary is not installed (pip install oxigraph)")
    location = request.getfixturevalue("tmp_path") / "store"
    ok(command.replace("--location twinning-store-2", f"--location {location}"))
    graph = ox.NamedNode(command.rsplit("--graph ", 1)[1].split()[0])
    store = ox.Store.read_only(str(location))
    lines = (paths.PROJECT_ROOT / "dist" / "twinning.nt").read_bytes().count(b"\n")
    assert sum(1 for _ in store.quads_for_pattern(None, None, None, graph)) == lines


def run_bench(command: str, request: pytest.FixtureRequest) -> None:
    """The benchmark, installed extras aside and with few requests: a behaviour check."""
    pytest.importorskip("rdflib_endpoint", reason="pip install -e '.[bench]'")
    chain = command.split(" && ")
    assert chain[0].startswith("pip install") and chain[-1] == "kg bench"
    done = ok(" && ".join(chain[1:]) + " --requests 1 --clients 1 --time-limit 30")
    assert "| oxigraph |" in done.stdout and "| kg-serve |" in done.stdout


def run_own_list(command: str, request: pytest.FixtureRequest) -> None:
    """Reconcile, build and query a list of one's own, in a scratch folder holding a copy of
    ``examples/`` (the command writes my-links.tsv and my-dist/ where it runs)."""
    if not paths.GAZETTEER_DIR.is_dir():
        pytest.skip(GAZETTEER_MISSING)
    work = request.getfixturevalue("tmp_path")
    shutil.copytree(paths.PROJECT_ROOT / "examples", work / "examples")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "PYTHONPATH": os.pathsep.join(
               filter(None, [str(paths.PROJECT_ROOT), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run(["bash", "-c", command], cwd=work, env=env, capture_output=True,
                          text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    # Paris (Q90): gf_wikidata_cities.tsv:15 of the gazetteer, cited in my-links.tsv.
    assert "http://www.wikidata.org/entity/Q90" in done.stdout
    assert "gf_wikidata_cities.tsv:15 Q90" in (work / "my-links.tsv").read_text("utf-8")


def run_own_list_shipped(command: str, request: pytest.FixtureRequest) -> None:
    """Build a list of one's own without --links, in a scratch folder holding a copy of
    ``examples/`` and no gazetteer: what ships resolves Paris (Q90, the League member
    Paris of seeds/wikidata-links.tsv), whose twins the query lists."""
    work = request.getfixturevalue("tmp_path")
    shutil.copytree(paths.PROJECT_ROOT / "examples", work / "examples")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "PYTHONPATH": os.pathsep.join(
               filter(None, [str(paths.PROJECT_ROOT), os.environ.get("PYTHONPATH")])),
           "KG_GAZETTEER": str(work / "no-gazetteer")}
    done = subprocess.run(["bash", "-c", command], cwd=work, env=env, capture_output=True,
                          text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "resolved from the shipped links table" in done.stderr
    assert "http://www.wikidata.org/entity/Q956" in done.stdout  # Beijing, Paris's twin


def run_curl(command: str, request: pytest.FixtureRequest) -> None:
    """A request to ``kg serve`` (the README's 127.0.0.1:8000 becomes the test's server);
    a Turtle answer must parse and describe what it names."""
    request.getfixturevalue("built")
    with serving("kg serve --no-build") as base:
        done = ok(command.replace("http://127.0.0.1:8000", base))
    if "text/turtle" in command:
        iri = "https://w3id.org/twinning-kg/" + command.rsplit("/", 2)[-2] + "/" + \
            command.rsplit("/", 1)[-1]
        triples = list(ox.parse(done.stdout.encode(), format=ox.RdfFormat.TURTLE))
        assert any(t.subject == ox.NamedNode(iri) for t in triples), done.stdout[:2000]


RUNNERS: dict[str, Runner] = {
    "curl": run_curl,
    "kg parse": run_parse,
    "kg reconcile --report": run_reconcile_report,
    "kg reconcile examples/twinning-list.csv": run_own_list,
    "kg build --seeds examples/twinning-list.csv": run_own_list_shipped,
    "kg build": run_plain,
    "kg validate": run_validate,
    "kg serve": run_serve,
    "kg query": run_query,
    "kg load": run_load,
    "KG_LOAD_PASSWORD=dba kg load": run_load,
    "oxigraph load": run_oxigraph_load,
    "pip install -e '.[bench]' && kg build && kg bench": run_bench,
}


def runner(command: str) -> Runner | None:
    # The longest matching prefix: "kg reconcile --report" before a plain "kg reconcile".
    for prefix in sorted(RUNNERS, key=len, reverse=True):
        if command == prefix or command.startswith(prefix + " "):
            return RUNNERS[prefix]
    return None


@pytest.fixture(scope="module")
def built() -> Path:
    """``kg build`` as the README runs it (into dist/, as the Quick start does)."""
    ok("kg build -q")
    return paths.DIST_DIR


def test_quick_start_has_exactly_two_commands() -> None:
    quick = blocks("console", section("Quick start"))
    assert len(quick) == 2 and all(len(q.splitlines()) == 1 for q in quick)
    assert quick[0].startswith("pip install -e .") and quick[0].endswith("kg serve")
    assert quick[1].startswith("pip install -e '.[test]'") and "pytest" in quick[1]


def test_every_command_has_a_runner() -> None:
    assert commands()
    assert [c for c in commands() if runner(c) is None] == []


@pytest.mark.parametrize("command", commands())
def test_readme_command(command: str, request: pytest.FixtureRequest) -> None:
    found = runner(command)
    assert found is not None
    found(command, request)


# --- the README's three queries ---------------------------------------------------------------


@pytest.fixture(scope="module")
def graph(built: Path) -> ox.Store:
    store = ox.Store()
    store.bulk_load(path=str(built / "twinning.ttl"), format=ox.RdfFormat.TURTLE)
    return store


def test_readme_shows_three_queries() -> None:
    assert len(blocks("sparql")) == 3


def test_twins_of_beijing(graph: ox.Store) -> None:
    rows = graph.query(blocks("sparql")[0])
    assert isinstance(rows, ox.QuerySolutions)
    twins = {row["twin"].value for row in rows}  # type: ignore[union-attr]
    # seeds/zhwiki-prc-sister-cities.md line 7: 北京市 — 東京 (1979-03-14); Tokyo is Q1490,
    # ../shared/gazetteer/gf_wikidata_cities.tsv line 153 (evidence in seeds/wikidata-links.tsv).
    assert PLACE + "Q1490" in twins and len(twins) > 20


def test_league_members_with_a_twin(graph: ox.Store) -> None:
    rows = graph.query(blocks("sparql")[1])
    assert isinstance(rows, ox.QuerySolutions)
    names = {row["name"].value for row in rows}  # type: ignore[union-attr]
    # Athens: a League member (seeds/lhc-member-cities-2025-12.txt line 69) and Beijing's twin
    # (seeds/zhwiki-prc-sister-cities.md line 148, 雅典).
    assert "Athens" in names and len(names) > 5


def test_twinnings_per_country_pair(graph: ox.Store) -> None:
    rows = graph.query(blocks("sparql")[2])
    assert isinstance(rows, ox.QuerySolutions)
    top = next(iter(rows))
    # Q148 (PRC) gf_wikidata_countries.tsv:34; Q17 (Japan) gf_wikidata_countries.tsv:3
    assert (top["countryA"].value, top["countryB"].value) == (  # type: ignore[union-attr]
        PLACE + "Q148", PLACE + "Q17")
