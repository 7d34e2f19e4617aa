"""Where the project's own files live: seeds, ontology, shapes, queries, licences.

Two layouts, one set of names. Run from a source checkout (an editable install, as the
README's Quick start does), the names point at the checkout's files, so an edit to
``ontology.ttl`` or ``seeds/`` is seen at once. Installed from a wheel, the same files
ship inside the package (``kg/_data/``, copied there by ``setup.py`` at build time) and
are found through :mod:`importlib.resources`; what a command writes (``dist/``) then goes
to the current folder. Every stage also takes explicit paths, so nothing depends on these.
"""

from __future__ import annotations

import os
import shutil
import sys
from importlib.resources import files
from pathlib import Path

__all__ = [
    "DATA_ROOT",
    "DIST_DIR",
    "FROM_CHECKOUT",
    "GAZETTEER_DIR",
    "LHC_CORRECTIONS_TSV",
    "LICENSE_FILES",
    "LINKS_TSV",
    "ODBL_COORDINATES_TSV",
    "ONTOLOGY",
    "OVERRIDES_TSV",
    "PROJECT_ROOT",
    "QUERIES_DIR",
    "SEEDS_DIR",
    "SEED_DOCUMENTS",
    "SHAPES_DIR",
    "SHARED_DIR",
    "installed_program",
]

_PACKAGE_DIR = Path(__file__).resolve().parent
_CHECKOUT = _PACKAGE_DIR.parent


def _from_checkout() -> bool:
    # A checkout has the ontology beside the package; an installed wheel has it inside.
    if "KG_PROJECT_ROOT" in os.environ:
        return True
    return (_CHECKOUT / "ontology.ttl").is_file() and (_CHECKOUT / "seeds").is_dir()


#: True when running from a source checkout, false when installed from a wheel.
FROM_CHECKOUT = _from_checkout()
#: The folder holding ontology.ttl, shapes/, queries/, seeds/ and the licences.
DATA_ROOT = (
    Path(os.environ.get("KG_PROJECT_ROOT", _CHECKOUT))
    if FROM_CHECKOUT
    else Path(str(files("kg").joinpath("_data")))
)
#: The checkout (or, installed, the package's data folder): kept for older callers.
PROJECT_ROOT = DATA_ROOT
SEEDS_DIR = DATA_ROOT / "seeds"
SEED_DOCUMENTS = (
    SEEDS_DIR / "lhc-member-cities-2025-12.txt",
    SEEDS_DIR / "zhwiki-prc-sister-cities.md",
)
LINKS_TSV = SEEDS_DIR / "wikidata-links.tsv"
OVERRIDES_TSV = SEEDS_DIR / "overrides.tsv"
#: dr5hn coordinates, ODbL 1.0: a table (and a dataset) of their own (kg.rdf.odbl).
ODBL_COORDINATES_TSV = SEEDS_DIR / "geo-odbl.tsv"
LHC_CORRECTIONS_TSV = SEEDS_DIR / "lhc-corrections.tsv"
ONTOLOGY = DATA_ROOT / "ontology.ttl"
SHAPES_DIR = DATA_ROOT / "shapes"
QUERIES_DIR = DATA_ROOT / "queries"
#: Code (MIT), data (CC BY-SA 4.0) and ontology (CC BY 4.0) licences.
LICENSE_FILES = (DATA_ROOT / "LICENSE", DATA_ROOT / "LICENSE-DATA")
# Output: the checkout's dist/, or, installed, dist/ in the current folder (the package's
# own folder may not be writable and is no place for a user's build).
DIST_DIR = DATA_ROOT / "dist" if FROM_CHECKOUT else Path.cwd() / "dist"
# Shared data (gazetteer, W3C suites) sits beside the checkout; KG_SHARED points elsewhere
# (a clone in another folder, an installed wheel), KG_GAZETTEER at the gazetteer alone.
SHARED_DIR = Path(
    os.environ.get("KG_SHARED", _CHECKOUT.parent / "shared" if FROM_CHECKOUT else "shared")
)
GAZETTEER_DIR = Path(os.environ.get("KG_GAZETTEER", SHARED_DIR / "gazetteer"))


def installed_program(name: str) -> str | None:
    """The path of the program ``name`` (``oxigraph``): on ``PATH``, else beside this
    Python, where ``pip`` put it with the package that ships it (a virtualenv used without
    activating it, as ``venv/bin/python -m pytest``); None if neither has it."""
    found = shutil.which(name)
    if found is None:
        found = shutil.which(name, path=str(Path(sys.executable).parent))
    return found
