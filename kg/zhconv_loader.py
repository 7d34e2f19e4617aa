"""zhconv (MediaWiki's Traditional/Simplified tables), imported without ``pkg_resources``.

zhconv finds its dictionary with setuptools' deprecated ``pkg_resources`` when it can import
it, which costs a tenth of a second at every start (a twelfth of a seed build); when it
cannot, its own fallback opens the same file next to its module. This module makes that
import fail for zhconv alone, then puts ``sys.modules`` back as it was.
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType

__all__ = ["zhconv"]


def _import_zhconv() -> ModuleType:
    if "zhconv" in sys.modules:
        return sys.modules["zhconv"]
    missing = object()
    before = sys.modules.get("pkg_resources", missing)
    sys.modules["pkg_resources"] = None  # type: ignore[assignment]  # "import" raises ImportError
    try:
        module = importlib.import_module("zhconv")
    finally:
        if before is missing:
            del sys.modules["pkg_resources"]
        else:
            sys.modules["pkg_resources"] = before  # type: ignore[assignment]
    return module


zhconv = _import_zhconv()
