"""kg.paths.installed_program: a program pip installed beside this Python is found even when
its folder is not on PATH (a virtualenv used without activating it)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from kg.paths import installed_program


def test_a_program_beside_this_python_is_found_off_path(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    beside = Path(sys.executable).parent
    name = next((p.name for p in beside.iterdir()
                 if p.name not in ("python", "python3") and p.is_file()
                 and os.access(p, os.X_OK)), None)
    if name is None:
        pytest.skip(f"no program beside {sys.executable}")
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty folder: nothing on PATH
    assert installed_program(name) == str(beside / name)
    assert installed_program("kg-no-such-program") is None
    (tmp_path / name).write_text("#!/bin/sh\n")
    (tmp_path / name).chmod(0o755)
    assert installed_program(name) == str(tmp_path / name)  # PATH comes first
