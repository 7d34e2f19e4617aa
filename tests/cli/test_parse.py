"""``kg parse`` end to end: output shapes, the report on stderr, and bad input as a
one-line error with exit code 2 (never a traceback)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from kg.cli import main

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
ZHWIKI = SEEDS / "zhwiki-prc-sister-cities.md"
LHC = SEEDS / "lhc-member-cities-2025-12.txt"

TWINNING_KEYS = {
    "type",
    "line",
    "cn_title",
    "partner_titles",
    "country_title",
    "date",
    "date_precision",
    "note",
    "section",
}
MEMBERSHIP_KEYS = {"type", "line", "city_en", "city_ja", "country_en", "region"}


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["parse", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_jsonl_twinnings(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, str(ZHWIKI))
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert len(rows) == 351
    assert all(set(row) >= TWINNING_KEYS and row["type"] == "twinning" for row in rows)
    by_line = {row["line"]: row for row in rows}
    assert len(by_line) == 351
    row = by_line[837]
    assert row["cn_title"] == "烏魯木齊市"
    assert row["partner_titles"] == ["京畿道", "烏山市"]
    assert row["country_title"] == "韓國"
    assert (row["date"], row["date_precision"], row["section"]) == ("2004-04-23", "day", "新疆")
    assert by_line[708]["date"] == "2013-12" and by_line[708]["date_precision"] == "month"
    assert by_line[705]["date"] == "1986" and by_line[705]["date_precision"] == "year"
    assert by_line[241]["note"] == "友好協約書" and by_line[241]["date"] is None
    assert by_line[241]["country_title"] is None and by_line[241]["cn_title"] == "澳門"
    # the report, as JSON lines on stderr
    report = [json.loads(line) for line in err.splitlines()]
    (doc,) = [r for r in report if r["report"] == "document"]
    assert (doc["records"], doc["rejections"], doc["blank_rows"]) == (351, 1, 9)
    groups = [(r["group"], r["records"]) for r in report if r["report"] == "group"]
    assert groups[:3] == [("北京", 39), ("澳門", 8), ("天津市", 23)]
    assert ("河北省", 0) in groups and len(groups) == 32
    (rejection,) = [r for r in report if r["report"] == "rejection"]
    assert rejection["line"] == 657 and "no partner city" in rejection["reason"]


def test_jsonl_memberships(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, str(LHC))
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert rows, "the League parser returned no records"
    assert all(set(row) >= MEMBERSHIP_KEYS and row["type"] == "membership" for row in rows)


def test_both_documents_detected(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, str(LHC), str(ZHWIKI))
    assert code == 0
    types = {json.loads(line)["type"] for line in out.splitlines()}
    assert types == {"membership", "twinning"}
    docs = [json.loads(line) for line in err.splitlines()]
    assert [d["doc"] for d in docs if d["report"] == "document"] == ["lhc", "zhwiki"]


def test_tsv(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, str(ZHWIKI), "--format", "tsv")
    assert code == 0
    lines = out.splitlines()
    header = lines[0].split("\t")
    assert set(header) >= TWINNING_KEYS
    assert len(lines) == 1 + 351
    assert all(len(line.split("\t")) == len(header) for line in lines)
    row = dict(zip(header, lines[1 + 350].split("\t"), strict=True))  # last record, line 838
    assert row["line"] == "838" and row["cn_title"] == "新疆自治區"
    assert err.splitlines()[0].split("\t")[0] == "report"
    assert any(
        line.startswith("rejection\tzhwiki\t") and "\t657\t" in line for line in err.splitlines()
    )


def test_table(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(capsys, str(ZHWIKI), "--format", "table")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split()[:4] == ["type", "doc", "file", "line"]
    assert len(lines) == 1 + 351
    assert err.splitlines()[0].startswith(
        "zhwiki-prc-sister-cities.md (zhwiki): 351 records, 1 rejected"
    )
    assert "  河北省: 0" in err.splitlines()
    assert any("rejection zhwiki-prc-sister-cities.md:657:" in line for line in err.splitlines())


def _bad_inputs(tmp_path: Path) -> dict[str, Path]:
    bad = {
        "missing": tmp_path / "missing.md",
        "directory": tmp_path,
        "not_utf8": tmp_path / "latin1.md",
        "empty": tmp_path / "empty.md",
        "neither": tmp_path / "neither.md",
    }
    bad["not_utf8"].write_bytes("## 北京\n".encode() + "caf\xe9\n".encode("latin-1"))
    bad["empty"].write_bytes(b"")
    bad["neither"].write_text("# notes\n\nnothing to see\n", encoding="utf-8")
    return bad


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("missing", "no such file"),
        ("directory", "is a directory"),
        ("not_utf8", "not UTF-8"),
        ("empty", "document is empty"),
        ("neither", "cannot tell the document format"),
    ],
)
def test_bad_input_one_line_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, case: str, message: str
) -> None:
    path = _bad_inputs(tmp_path)[case]
    code, out, err = _run(capsys, str(ZHWIKI), str(path))
    assert code == 2
    assert out == ""  # a bad document fails the run before any output
    assert err.count("\n") == 1 and err.startswith(f"kg parse: error: {path}")
    assert message in err


def test_truncated_and_broken_rows_are_reported(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    text = ZHWIKI.read_text(encoding="utf-8")
    cut = tmp_path / "cut.md"
    cut.write_text(text[: text.index("貝爾格萊德")], encoding="utf-8")
    code, out, err = _run(capsys, str(cut), "--format", "table")
    assert code == 0
    assert len(out.splitlines()) == 1 + 2
    assert "rejection cut.md:17: table row is not closed" in err
    assert "warning cut.md:5: HTML table is not closed" in err


def test_subprocess_no_traceback(tmp_path: Path) -> None:
    """`python -m kg parse` on every kind of bad input: exit 2, one line, no traceback."""
    for case, path in _bad_inputs(tmp_path).items():
        proc = subprocess.run(
            [sys.executable, "-m", "kg", "parse", str(path)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert proc.returncode == 2, (case, proc.stderr)
        assert "Traceback" not in proc.stderr, case
        assert proc.stderr.count("\n") == 1, (case, proc.stderr)
        assert proc.stdout == ""
    proc = subprocess.run(
        [sys.executable, "-m", "kg", "parse", str(ZHWIKI), "--format", "table"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0 and "Traceback" not in proc.stderr
    assert len(proc.stdout.splitlines()) == 352


def test_report_counts_data_rows(capsys: pytest.CaptureFixture[str]) -> None:
    """records + rejections + blank rows = data rows, in every report format."""
    code, _, err = _run(capsys, str(ZHWIKI), str(LHC))
    assert code == 0
    docs = [json.loads(line) for line in err.splitlines()]
    docs = [d for d in docs if d["report"] == "document"]
    assert [(d["doc"], d["rows"]) for d in docs] == [("zhwiki", 361), ("lhc", 140)]
    for d in docs:
        assert d["records"] + d["rejections"] + d["blank_rows"] == d["rows"]
    code, _, err = _run(capsys, str(ZHWIKI), "--format", "table")
    assert "351 records, 1 rejected, 1 warnings, 9 blank rows, of 361 data rows" in err
    code, _, err = _run(capsys, str(ZHWIKI), "--format", "tsv")
    assert "rows=361" in err
