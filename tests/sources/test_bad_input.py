"""Bad input through :func:`kg.sources.parse_path`: a clear one-line
:class:`~kg.errors.SourceError` naming the file (and line where there is one), or a
rejection with its line; never another exception and never a silently shorter result."""

from __future__ import annotations

from pathlib import Path

import pytest

from kg.errors import KGError, SourceError
from kg.sources import parse_path

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
ZHWIKI = SEEDS / "zhwiki-prc-sister-cities.md"


def _error(path: Path) -> SourceError:
    with pytest.raises(SourceError) as info:
        parse_path(path)
    exc = info.value
    assert isinstance(exc, KGError) and exc.exit_code == 2
    assert "\n" not in str(exc)
    assert str(exc).startswith(str(path))
    return exc


def test_missing_file(tmp_path: Path) -> None:
    exc = _error(tmp_path / "nope.md")
    assert "no such file" in str(exc)


def test_directory(tmp_path: Path) -> None:
    exc = _error(tmp_path)
    assert "directory" in str(exc)


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.md"
    path.write_bytes("## 北京\n\nline two\n".encode() + "café\n".encode("latin-1"))
    exc = _error(path)
    assert "not UTF-8" in str(exc)
    assert exc.line == 4
    assert str(exc).startswith(f"{path}:4:")


def test_gbk_encoded_seed(tmp_path: Path) -> None:
    """The real page saved in a legacy Chinese encoding is refused, not misread."""
    path = tmp_path / "gbk.md"
    text = ZHWIKI.read_text(encoding="utf-8")
    path.write_bytes(text.encode("gb18030"))
    exc = _error(path)
    assert "not UTF-8" in str(exc) and exc.line == 1


@pytest.mark.parametrize("content", [b"", b"\n\n  \n", "\ufeff".encode()])
def test_empty_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "empty.md"
    path.write_bytes(content)
    exc = _error(path)
    assert "empty" in str(exc)


@pytest.mark.parametrize(
    "content",
    [
        "just some prose\nwith two lines\n",
        "# A heading\n\n| a | b |\n|---|---|\n| 1 | 2 |\n",
        '## Seeds\n\n| a | links are `[label](../Page/TITLE.md "wikilink")` |\n',
    ],
)
def test_neither_format(tmp_path: Path, content: str) -> None:
    path = tmp_path / "other.md"
    path.write_text(content, encoding="utf-8")
    exc = _error(path)
    assert "cannot tell the document format" in str(exc)


def test_neither_format_real_readme() -> None:
    _error(SEEDS / "README.md")


def test_unknown_source_name(tmp_path: Path) -> None:
    with pytest.raises(SourceError):
        parse_path(ZHWIKI, source="nope")  # type: ignore[arg-type]


def test_truncated_document_mid_html_row(tmp_path: Path) -> None:
    text = ZHWIKI.read_text(encoding="utf-8")
    path = tmp_path / "cut.md"
    path.write_text(text[: text.index("貝爾格萊德")], encoding="utf-8")  # inside line 18
    result = parse_path(path)
    assert [r.source.line for r in result.records] == [7, 12]
    assert [(r.source.line, "not closed" in r.reason) for r in result.rejections] == [(17, True)]
    assert [(w.source.line, "not closed" in w.reason) for w in result.warnings] == [(5, True)]
    assert all(i.source.file == "cut.md" for i in (*result.rejections, *result.warnings))


def test_truncated_document_mid_pipe_row(tmp_path: Path) -> None:
    text = ZHWIKI.read_text(encoding="utf-8")
    path = tmp_path / "cut.md"
    path.write_text(text[: text.index("赤壁市") + 10], encoding="utf-8")  # inside line 563
    result = parse_path(path)
    assert len(result.records) == 39 + 8 + 23 + 18 + 52
    assert [r.source.line for r in result.rejections] == [563]
    assert "cut short" in result.rejections[0].reason


def test_html_table_with_broken_rows(tmp_path: Path) -> None:
    """A missing cell, an unclosed tag, and a row with no links: each a rejection with the
    line of its <tr>; the good rows around them are kept."""
    lines = ZHWIKI.read_text(encoding="utf-8").split("\n")
    # line 13: <td> of 紐約 (row 12) loses its closing tags; line 20 (row 17) is dropped
    # (a missing cell); line 23 (row 22): 利馬's link becomes plain text.
    lines[12] = lines[12].replace("</a></p></td>", "</p>")
    del lines[19]
    lines[21] = "<td><p>利馬</p></td>"
    path = tmp_path / "broken.md"
    path.write_text("\n".join(lines), encoding="utf-8")
    result = parse_path(path)
    rejected = {i.source.line: i.reason for i in result.rejections}
    assert sorted(rejected) == [12, 17, 21, 656]  # 657 moved up one line
    assert "unbalanced" in rejected[12] or "unclosed" in rejected[12]
    assert "cells" in rejected[17]
    assert "no partner link" in rejected[21]
    assert len(result.records) == 351 - 3
