"""Build hook: copy the project's data files into the wheel as ``kg/_data/``.

The ontology, shapes, named queries, seed documents (with the links, overrides and
corrections tables) and the licences live at the top of the checkout, where they are
edited and reviewed; ``kg.paths`` reads them there when running from a checkout. A wheel
has no checkout, so this hook copies them into the built package, where ``kg.paths``
finds them through ``importlib.resources``. An editable install copies nothing: it reads
the checkout. Everything else is declared in ``pyproject.toml``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
#: Files and folders copied into ``kg/_data/``: (path in the checkout, glob or "").
DATA = (
    ("ontology.ttl", ""),
    ("LICENSE", ""),
    ("LICENSE-DATA", ""),
    ("CITATION.cff", ""),
    ("shapes", "*.ttl"),
    ("queries", "*.rq"),
    ("LICENSES", "*.txt"),
    ("seeds", "*"),
)


class BuildPyWithData(build_py):
    """``build_py`` that also copies :data:`DATA` into the built package."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib) / "kg" / "_data"
        for name, pattern in DATA:
            src = ROOT / name
            if not pattern:
                (target / name).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, target / name)
                continue
            for path in sorted(src.glob(pattern)):
                if path.is_file():
                    (target / name).mkdir(parents=True, exist_ok=True)
                    shutil.copy2(path, target / name / path.name)


setup(cmdclass={"build_py": BuildPyWithData})
