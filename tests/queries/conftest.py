"""Fixtures for the named-query tests: the graph built from the seeds, once per session."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest


@pytest.fixture(scope="session")
def built_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``kg build --out TMP`` on the seeds (the repository's dist/ is left alone)."""
    out = tmp_path_factory.mktemp("dist")
    done = subprocess.run(
        [sys.executable, "-m", "kg", "build", "--out", str(out)],
        capture_output=True, text=True, timeout=600, check=False,
    )
    if not (out / "twinning.trig").is_file():
        reason = (done.stderr.strip().splitlines() or ["no output"])[-1]
        pytest.fail(f"kg build failed (exit {done.returncode}): {reason}")
    return out


@pytest.fixture(scope="session")
def store(built_dir: Path) -> ox.Store:
    """The built graph (dist/twinning.trig) in an in-memory pyoxigraph store."""
    result = ox.Store()
    result.bulk_load(path=str(built_dir / "twinning.trig"), format=ox.RdfFormat.TRIG)
    return result
