"""Control characters in documents (issue 18): a NUL byte inside a place name used to
become U+FFFD in rdfs:label and skos:prefLabel without a word; now every document kind
refuses the first control character (but TAB, LF, CR) with ``file:line`` and its column,
and a build over it leaves the output folder as it was."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kg.errors import SourceError
from kg.sources import check_text, parse_path

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "seeds"


def _kg(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kg", *argv], cwd=ROOT, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True,
                          timeout=300, check=False)


def _with(seed: bytes, anchor: str, insert: bytes) -> tuple[bytes, int, int]:
    """``seed`` with ``insert`` after the first ``anchor``; its line and column."""
    at = seed.index(anchor.encode()) + len(anchor.encode())
    before = seed[:at].decode()
    line = before.count("\n") + 1
    column = len(before) - (before.rfind("\n") + 1) + 1
    return seed[:at] + insert + seed[at:], line, column


@pytest.mark.parametrize(("name", "anchor"), [
    ("zhwiki-prc-sister-cities.md", "[北"), ("lhc-member-cities-2025-12.txt", "Kyo"),
])
@pytest.mark.parametrize("char", [b"\x00", b"\x1b", b"\x7f", b"\x0b", "\u0085".encode()])
def test_a_control_character_is_refused_with_its_line(name: str, anchor: str, char: bytes,
                                                     tmp_path: Path) -> None:
    data, line, column = _with((SEEDS / name).read_bytes(), anchor, char)
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(SourceError) as caught:
        parse_path(path)
    code = ord(char.decode())
    assert str(caught.value).startswith(
        f"{path}:{line}: control character U+{code:04X}"), str(caught.value)
    assert f"at column {column}:" in str(caught.value)


def test_tab_cr_lf_are_text() -> None:
    check_text("a\tb\r\nc\n", "x.csv")


def test_a_nul_in_a_place_name_fails_the_build_and_keeps_dist(tmp_path: Path) -> None:
    data, line, _ = _with((SEEDS / "zhwiki-prc-sister-cities.md").read_bytes(), "[北", b"\x00")
    doc = tmp_path / "zhwiki-prc-sister-cities.md"
    doc.write_bytes(data)
    out = tmp_path / "dist"
    out.mkdir()
    done = _kg("build", "--seeds", str(doc), "--out", str(out))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    assert f"{doc}:{line}: control character U+0000 (NUL)" in done.stderr
    assert list(out.iterdir()) == []
    # and through kg parse the same line
    done = _kg("parse", str(doc))
    assert done.returncode == 2 and done.stdout == "" and f"{doc}:{line}:" in done.stderr
