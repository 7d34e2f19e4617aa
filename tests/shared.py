"""What the tests need from the shared data folder, and the skip that says so.

The shared data (the offline gazetteer that ``kg reconcile`` reads, the W3C RDF, SPARQL and
SHACL test suites) is not part of the repository: it sits beside the checkout
(``../shared``) or wherever ``KG_SHARED`` points (``KG_GAZETTEER`` for the gazetteer
alone). A fresh clone without it passes its tests: those needing it skip with these
reasons. See the README, section "Shared data".
"""

from __future__ import annotations

import pytest

from kg import paths

__all__ = ["GAZETTEER_MISSING", "HAVE_GAZETTEER", "needs_gazetteer", "w3c_missing"]

_WHERE = (
    "the shared data folder, ../shared beside the checkout or set KG_SHARED "
    "(README: Shared data)"
)

HAVE_GAZETTEER = paths.GAZETTEER_DIR.is_dir()
GAZETTEER_MISSING = (
    f"needs the offline gazetteer, not found at {paths.GAZETTEER_DIR}: it comes with {_WHERE}, "
    "or set KG_GAZETTEER"
)
#: Skips a test when the gazetteer is missing.
needs_gazetteer = pytest.mark.skipif(not HAVE_GAZETTEER, reason=GAZETTEER_MISSING)


def w3c_missing(suite: str, folder: object) -> str:
    """The skip reason for a W3C test suite that is not at ``folder``."""
    return f"needs the W3C {suite} test suite, not found at {folder}: it comes with {_WHERE}"
