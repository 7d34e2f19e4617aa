"""Where the project's own files live: seeds, ontology, shapes, queries.

Defaults point into the source checkout (the package is installed editable, as the README's
Quick start does); every stage also takes an explicit path, so nothing depends on these.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = [
    "DIST_DIR",
    "GAZETTEER_DIR",
    "LINKS_TSV",
    "ONTOLOGY",
    "OVERRIDES_TSV",
    "PROJECT_ROOT",
    "QUERIES_DIR",
    "SEEDS_DIR",
    "SEED_DOCUMENTS",
    "SHAPES_DIR",
    "SHARED_DIR",
]

PROJECT_ROOT = Path(os.environ.get("KG_PROJECT_ROOT", Path(__file__).resolve().parent.parent))
SEEDS_DIR = PROJECT_ROOT / "seeds"
SEED_DOCUMENTS = (
    SEEDS_DIR / "lhc-member-cities-2025-12.txt",
    SEEDS_DIR / "zhwiki-prc-sister-cities.md",
)
LINKS_TSV = SEEDS_DIR / "wikidata-links.tsv"
OVERRIDES_TSV = SEEDS_DIR / "overrides.tsv"
ONTOLOGY = PROJECT_ROOT / "ontology.ttl"
SHAPES_DIR = PROJECT_ROOT / "shapes"
QUERIES_DIR = PROJECT_ROOT / "queries"
DIST_DIR = PROJECT_ROOT / "dist"
# Shared data (gazetteer, W3C suites) sits beside the checkout; KG_SHARED points elsewhere
# (a clone in another folder), KG_GAZETTEER at the gazetteer alone.
SHARED_DIR = Path(os.environ.get("KG_SHARED", PROJECT_ROOT.parent / "shared"))
GAZETTEER_DIR = Path(os.environ.get("KG_GAZETTEER", SHARED_DIR / "gazetteer"))
