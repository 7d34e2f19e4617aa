"""The wheel carries its data: built, listed, installed into a fresh virtualenv and run
from an empty folder, it builds, validates and queries the graph without the checkout.

The virtualenv sees the system's site-packages (so the dependencies need no download), but
the ``kg`` package itself must come from the wheel: the test checks ``kg.__file__``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
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


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    env_dir = tmp_path_factory.mktemp("venv")
    venv.EnvBuilder(system_site_packages=True, with_pip=False).create(env_dir)
    # The venv's python runs the system's pip; --ignore-installed because the system may
    # hold an editable install of the same version, which pip would call "satisfied".
    subprocess.run(
        [str(env_dir / "bin" / "python"), "-m", "pip", "install", "--no-deps", "--no-index",
         "--ignore-installed", "-q", str(wheel)],
        check=True, capture_output=True,
    )
    return env_dir


def _run(env_dir: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "KG_PROJECT_ROOT", "VIRTUAL_ENV")}
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
