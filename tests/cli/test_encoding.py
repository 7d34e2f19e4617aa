"""One encoding policy for standard output (issue 18, :func:`kg.cli.encode_safely`): a
non-UTF-8 standard output (``PYTHONIOENCODING=latin-1``; ``LC_ALL=C`` with locale coercion
and UTF-8 mode off, i.e. ASCII) gets backslash escapes for what it cannot hold, never a
``UnicodeEncodeError`` traceback. Real ``kg`` processes over the seed documents, whose
names are Chinese."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kg import paths
from kg.cli import main

ROOT = Path(__file__).resolve().parents[2]
ZHWIKI = ROOT / "seeds" / "zhwiki-prc-sister-cities.md"

ENCODINGS = {
    "latin-1": ({"PYTHONIOENCODING": "latin-1"}, "latin-1"),
    "C locale": ({"LC_ALL": "C", "PYTHONCOERCECLOCALE": "0", "PYTHONUTF8": "0",
                  "PYTHONIOENCODING": ""}, "ascii"),
}


def _kg(argv: list[str], case: str) -> tuple[subprocess.CompletedProcess[bytes], str]:
    extra, codec = ENCODINGS[case]
    env = {**os.environ, "PYTHONPATH": str(ROOT), **extra}
    env = {k: v for k, v in env.items() if v != ""}
    done = subprocess.run([sys.executable, "-m", "kg", *argv], cwd=ROOT, env=env,
                          capture_output=True, timeout=300, check=False)
    return done, codec


def _check(done: subprocess.CompletedProcess[bytes], codec: str) -> str:
    err = done.stderr.decode(codec)
    assert done.returncode == 0, err
    assert "Traceback" not in err and "UnicodeEncodeError" not in err
    text = done.stdout.decode(codec)  # every byte is in the stream's encoding
    assert "\\u" in text  # the Chinese names, escaped
    return text


@pytest.mark.parametrize("case", ENCODINGS)
@pytest.mark.parametrize("fmt", ["table", "tsv", "jsonl"])
def test_parse(case: str, fmt: str) -> None:
    done, codec = _kg(["parse", str(ZHWIKI), "--format", fmt], case)
    text = _check(done, codec)
    # the escape is the character's (\u5317\u4eac is 北京); JSON lines too: they are
    # written with ensure_ascii=False, so the stream's policy applies to them as well
    assert "\\u5317\\u4eac" in text


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("enc") / "dist"
    assert main(["build", "-q", "--formats", "trig", "--out", str(out)]) == 0
    return out / "twinning.trig"


@pytest.mark.parametrize("case", ENCODINGS)
@pytest.mark.parametrize("fmt", ["table", "csv", "tsv"])
def test_query(case: str, fmt: str, built: Path) -> None:
    done, codec = _kg(["query", "most-twinned-places", "--data", str(built), "--format", fmt],
                      case)
    _check(done, codec)


@pytest.mark.skipif(not paths.GAZETTEER_DIR.is_dir(), reason="the shared gazetteer is not here")
def test_reconcile_report(tmp_path: Path) -> None:
    """(One case: the gazetteer takes seconds to load.)"""
    listing = tmp_path / "mine.csv"
    listing.write_text("city_a,country_a,city_b,country_b\n北京,中国,巴黎,法国\n"
                       "Zürich,Schweiz,昆明,中国\n虚构之城,中国,巴黎,法国\n", encoding="utf-8")
    done, codec = _kg(["reconcile", str(listing), "--out", str(tmp_path / "links.tsv"),
                       "--report"], "C locale")
    _check(done, codec)
