"""``kg build`` and the output folder's surroundings (issue 18): into a ``dist/`` whose
permissions forbid removing the previous build, the new build is in place (exit 0) and one
warning line names the folder left behind, the cause and what to do, instead of a silent
``.dist.tmp-*``; into a ``dist/`` that is a mount point, one line says what to do.

Root bypasses permissions, so as root the build runs under ``setpriv`` without the
capabilities that override them (``CAP_DAC_OVERRIDE``, ``CAP_DAC_READ_SEARCH``,
``CAP_FOWNER``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kg.cli import main

ROOT = Path(__file__).resolve().parents[1]
NO_OVERRIDE = ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner", "--"]


def test_a_previous_build_that_cannot_be_removed_is_named(tmp_path: Path) -> None:
    if os.geteuid() == 0 and shutil.which("setpriv") is None:
        pytest.skip("root without setpriv: permissions do not apply")
    prefix = NO_OVERRIDE if os.geteuid() == 0 else []
    out = tmp_path / "dist"
    assert main(["build", "-q", "--formats", "nt", "--out", str(out)]) == 0
    out.chmod(0o555)
    try:
        done = subprocess.run(
            [*prefix, sys.executable, "-m", "kg", "build", "-q", "--formats", "nt,ttl",
             "--out", str(out)],
            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True,
            text=True, timeout=300, check=False)
        left = [p for p in tmp_path.iterdir() if p.name != "dist"]
        assert done.returncode == 0, done.stderr
        assert (out / "twinning.ttl").is_file()  # the new build is in place
        assert len(left) == 1 and left[0].name.startswith(".dist.tmp-")
        lines = done.stderr.rstrip("\n").split("\n")
        assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
        assert lines[0] == (f"kg build: warning: {left[0]}: a previous build is left there: "
                            "cannot remove it (Permission denied); remove it yourself")
    finally:
        for folder in tmp_path.iterdir():
            folder.chmod(0o755)


def test_an_output_folder_that_is_a_mount_point_says_what_to_do(tmp_path: Path) -> None:
    """(Regression: "Device or resource busy" and nothing more.) A tmpfs mounted on
    ``dist/`` in a private mount namespace."""
    import shlex

    out = tmp_path / "dist"
    out.mkdir()
    kg = " ".join(shlex.quote(a) for a in (sys.executable, "-m", "kg", "build", "-q",
                                           "--formats", "nt", "--out", str(out)))
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True, check=False)
    if probe.returncode != 0:
        pytest.skip("needs unshare -m (root in a private mount namespace)")
    done = subprocess.run(
        ["unshare", "-m", "sh", "-c", f"mount -t tmpfs tmpfs {shlex.quote(str(out))} || exit 99"
         f"\n{kg}"], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 2, done.stderr
    assert done.stderr == (f"kg build: error: {out}: cannot write the output folder: device "
                           "or resource busy (a mount point cannot be replaced: choose a path "
                           "inside it, or elsewhere); it is unchanged\n")
    assert [p.name for p in tmp_path.iterdir()] == ["dist"]
