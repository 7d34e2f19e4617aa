"""The wheel carries its data: built, listed, installed into a fresh virtualenv and run
from an empty folder, it builds, validates and queries the graph without the checkout, and
takes a list of one's own from parse to query, offline and without the gazetteer.

The dependencies need no download: the fresh virtualenv sees the site-packages of the
interpreter running the tests (a plain virtualenv, the system's, the user's) through a
``.pth`` file, placed after its own, so the ``kg`` package itself comes from the wheel (the
test checks ``kg.__file__``). A virtualenv made "with system site-packages" would not do:
made from a virtualenv's Python it sees the base interpreter's packages, not the ones the
tests run with.
"""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import sysconfig
import textwrap
import venv
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent

#: What the wheel must hold, beside the code.
EXPECTED = (
    "kg/_data/ontology.ttl",
    "kg/_data/shapes/twinning.ttl",
    "kg/_data/queries/twins-of-place.rq",
    "kg/_data/seeds/lhc-member-cities-2025-12.txt",
    "kg/_data/seeds/zhwiki-prc-sister-cities.md",
    "kg/_data/seeds/wikidata-links.tsv",
    "kg/_data/seeds/overrides.tsv",
    "kg/_data/seeds/lhc-corrections.tsv",
    "kg/_data/seeds/geo-odbl.tsv",  # the ODbL coordinates, built into twinning-geo-odbl.*
    "kg/_data/LICENSE",
    "kg/_data/LICENSE-DATA",
    "kg/serve/static/index.html",
    "kg/serve/static/style.css",
    "kg/serve/templates/resource.html",
    "kg/py.typed",
)


def _source_files() -> list[Path]:
    """The checkout's files as git sees them (tracked and new, not ignored), so that a
    stale build/ or dist/ never leaks into the wheel."""
    try:
        out = subprocess.run(
            ["git", "ls-files", "-co", "--exclude-standard", "-z"],
            cwd=ROOT, capture_output=True, check=True,
        ).stdout.decode("utf-8")
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("needs a git checkout to know which files are the source")
    return [Path(name) for name in out.split("\0") if name and (ROOT / name).is_file()]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("wheel", reason="building a wheel needs the wheel package (.[test])")
    src = tmp_path_factory.mktemp("src")
    for name in _source_files():
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, src / name)
    out = tmp_path_factory.mktemp("wheels")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
         "--no-index", "-q", "-w", str(out), str(src)],
        check=True, capture_output=True,
    )
    (found,) = out.glob("twinning_kg-*.whl")
    return found


def test_wheel_holds_data_licences_and_entry_points(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        dist_info = next(n.split("/")[0] for n in names if n.endswith(".dist-info/METADATA"))
        metadata = zf.read(f"{dist_info}/METADATA").decode("utf-8")
        entry_points = zf.read(f"{dist_info}/entry_points.txt").decode("utf-8")
    missing = [name for name in EXPECTED if name not in names]
    assert not missing, f"not in the wheel: {missing}"
    for licence in ("LICENSE", "LICENSE-DATA", "CC-BY-SA-4.0.txt", "CC-BY-4.0.txt"):
        assert any(n.startswith(dist_info) and n.endswith(licence) for n in names), licence
    assert "MIT License" in metadata and "CC-BY-SA-4.0" in metadata
    assert "[twinning_kg.sources]" in entry_points
    for kind in ("lhc", "zhwiki", "csv"):
        assert f"{kind} = kg.sources." in entry_points


def _our_site_packages() -> list[str]:
    """The site-packages folders the running interpreter imports from (never the checkout,
    which an editable install puts on ``sys.path``)."""
    found = [sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"],
             *site.getsitepackages(), site.getusersitepackages(), *sys.path]
    return list(dict.fromkeys(
        p for p in found
        if Path(p).is_dir() and Path(p).name in ("site-packages", "dist-packages")
        and not Path(p).resolve().is_relative_to(ROOT)))


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    env_dir = tmp_path_factory.mktemp("venv")
    venv.EnvBuilder(with_pip=False).create(env_dir)
    inner = subprocess.run(
        [str(env_dir / "bin" / "python"), "-c",
         "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True).stdout.strip()
    # A .pth file's folders come after the venv's own site-packages: the dependencies (and
    # pip) from the interpreter running the tests, kg from the wheel. Their own .pth files
    # are not read, so an editable install of kg there stays out.
    (Path(inner) / "_test_dependencies.pth").write_text(
        "".join(f"{p}\n" for p in _our_site_packages()), encoding="utf-8")
    # --ignore-installed: the folders seen through the .pth may hold an install of the
    # same version, which pip would call "satisfied".
    subprocess.run(
        [str(env_dir / "bin" / "python"), "-m", "pip", "install", "--no-deps", "--no-index",
         "--ignore-installed", "-q", str(wheel)],
        check=True, capture_output=True,
    )
    return env_dir


def _run(env_dir: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "KG_PROJECT_ROOT", "VIRTUAL_ENV", "KG_SHARED")}
    # Nothing beside the empty folder: no gazetteer anywhere.
    env["KG_GAZETTEER"] = str(cwd / "no-gazetteer-here")
    env["PATH"] = f"{env_dir / 'bin'}{os.pathsep}{env['PATH']}"
    return subprocess.run(list(args), cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=900)


def test_installed_wheel_works_from_an_empty_folder(installed: Path, tmp_path: Path) -> None:
    work = tmp_path / "empty"
    work.mkdir()
    where = _run(installed, work, "python", "-c",
                 "import kg, kg.paths; print(kg.__file__); print(kg.paths.ONTOLOGY)")
    assert where.returncode == 0, where.stderr
    kg_file, ontology = where.stdout.split()
    assert Path(kg_file).is_relative_to(installed), f"kg came from {kg_file}, not the wheel"
    assert Path(ontology).is_relative_to(installed)

    built = _run(installed, work, "kg", "build")
    assert built.returncode == 0, built.stderr
    assert (work / "dist" / "twinning.ttl").is_file()
    void = (work / "dist" / "void.ttl").read_text(encoding="utf-8")
    # The data's licence and the ontology's, both in VoID.
    assert "creativecommons.org/licenses/by-sa/4.0/" in void
    assert "creativecommons.org/licenses/by/4.0/" in void

    listed = _run(installed, work, "kg", "query", "--list")
    assert listed.returncode == 0, listed.stderr
    assert "twins-of-place" in listed.stdout

    valid = _run(installed, work, "kg", "validate")
    assert valid.returncode == 0, valid.stderr

    twins = _run(installed, work, "kg", "query", "twins-of-place", "--param", "place=Q956",
                 "--format", "csv")
    assert twins.returncode == 0, twins.stderr
    assert "http://www.wikidata.org/entity/" in twins.stdout
    # Nothing but dist/ was written to the folder.
    assert sorted(p.name for p in work.iterdir()) == ["dist"]


#: A list of one's own, names only (no QIDs): places the shipped links table knows
#: (Kyoto and Paris as League members, Berlin and Tokyo as zh.wikipedia partners, 京都 as the
#: League's Japanese name of Kyoto) and one it does not (札幌市).
MY_LIST = textwrap.dedent("""\
    city_a,country_a,city_b,country_b,start_date
    Kyoto,Japan,Paris,France,1958
    Berlin,Germany,Tokyo,Japan,1994
    京都市,日本,札幌市,日本,
    Kyoto,Japan,Boston,,
    """)


def test_own_list_from_the_wheel_offline_without_gazetteer(installed: Path,
                                                           tmp_path: Path) -> None:
    work = tmp_path / "empty"
    work.mkdir()
    (work / "my.csv").write_text(MY_LIST, encoding="utf-8")

    # No dist/ yet: query and validate give the one answer, naming this folder's dist/.
    for command in (("query", "twins-of-place"), ("validate",)):
        missing = _run(installed, work, "kg", *command)
        assert missing.returncode == 2
        assert f"no built graph in {work / 'dist'} (run `kg build` first" in missing.stderr

    parsed = _run(installed, work, "kg", "parse", "my.csv", "--format", "table")
    assert parsed.returncode == 0, parsed.stderr
    assert "my.csv (my): 4 records, 0 rejected, 0 warnings, 0 blank rows, of 4 data rows" \
        in parsed.stderr

    rec = _run(installed, work, "kg", "reconcile", "my.csv", "--out", "my-links.tsv",
               "--report", "--lang", "en")
    assert rec.returncode == 0, rec.stderr
    assert "from the shipped links table" in rec.stderr
    assert "no gazetteer at" in rec.stderr and "Shared data" in rec.stderr
    rows = {tuple(line.split("\t")[2:4]): line.split("\t")
            for line in (work / "my-links.tsv").read_text(encoding="utf-8").splitlines()[1:]}
    # QIDs as the shipped table gives them, each row citing it.
    for (key, country), qid in {("Kyoto", "Japan"): "Q34600", ("Paris", "France"): "Q90",
                                ("京都市", "日本"): "Q34600"}.items():
        row = rows[(key, country)]
        assert (row[4], row[6]) == (qid, "links-table"), row
        assert row[11].startswith("wikidata-links.tsv:"), row
    assert rows[("札幌市", "日本")][5] == "unresolved"
    assert (work / "my-links.report.txt").is_file()

    built = _run(installed, work, "kg", "build", "--seeds", "my.csv", "--links", "my-links.tsv",
                 "--out", "my-dist", "--lang", "en", "-q")
    assert built.returncode == 0, built.stderr
    twins = _run(installed, work, "kg", "query", "twins-of-place", "-p", "place=Kyoto",
                 "--data", "my-dist/twinning.trig", "--format", "csv")
    assert twins.returncode == 0, twins.stderr
    # The label column is filled: Paris is named, not only its IRI place/Q90.
    assert "Paris" in twins.stdout and "Q90" in twins.stdout

    # Without --links: what ships resolves what it knows, and the build says how to do better.
    plain = _run(installed, work, "kg", "build", "--seeds", "my.csv", "--out", "plain-dist", "-q")
    assert plain.returncode == 0, plain.stderr
    assert "resolved from the shipped links table" in plain.stderr
    assert "kg reconcile my.csv --out my-links.tsv" in plain.stderr
    assert sorted(p.name for p in work.iterdir()) == [
        "my-dist", "my-links.report.txt", "my-links.tsv", "my.csv", "plain-dist"]
