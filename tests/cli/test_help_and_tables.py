"""CLI polish: help without reST markup and with defaults, tables padded by display width,
every output format ending with a newline."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from kg.cli import SUBCOMMANDS, build_parser, main, one_default_style, plain_text
from kg.query import render_table
from kg.rdf.vocab import DEFAULT_BASE, DEFAULT_SPARQL_ENDPOINT
from kg.textwidth import display_width


def _help(command: str) -> str:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    text: str = sub.choices[command].format_help()
    return text


@pytest.mark.parametrize("command", SUBCOMMANDS)
def test_help_has_no_rest_markup(command: str) -> None:
    text = _help(command)
    assert "``" not in text and ":class:" not in text and ":func:" not in text


def test_defaults_are_shown() -> None:
    assert "output format (default: jsonl)" in _help("parse")
    build = " ".join(_help("build").split())
    assert "--out DIR output folder" in build and "dist/)" in build
    assert f"(default: {DEFAULT_BASE})" in build
    assert f"(default: {DEFAULT_SPARQL_ENDPOINT})" in build
    # A flag shows no default ("default: False" says nothing).
    assert "default: False" not in _help("build") and "default: True" not in _help("load")


@pytest.mark.parametrize("command", SUBCOMMANDS)
def test_one_help_style(command: str) -> None:
    """Every default as ``(default: X)``; no default is a path of this machine; the
    description does not repeat the usage line."""
    text = " ".join(_help(command).split())
    assert "(default " not in text and "; default " not in text
    assert str(Path(__file__).resolve().parents[2]) not in text
    assert str(Path.home()) + "/" not in text
    description = _help(command).split("\n\n")[1]
    assert not description.startswith(f"kg {command} ")


def test_one_default_style() -> None:
    assert one_default_style("port (default 8000; 0: any)") == "port (default: 8000; 0: any)"
    assert one_default_style("size (bytes, or 1G; default 64M)") == \
        "size (bytes, or 1G) (default: 64M)"
    assert one_default_style("x (default: 3)") == "x (default: 3)"


def test_bare_kg_shows_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    out = capsys.readouterr().out
    for command in SUBCOMMANDS:
        assert f"    {command} " in out or f"    {command}\n" in out
    assert "required" not in out


def test_online_urls_have_help() -> None:
    text = " ".join(_help("reconcile").split())
    assert "--api-url URL MediaWiki Action API" in text
    assert "--sparql-url URL SPARQL query service" in text


def test_plain_text() -> None:
    assert plain_text("see ``kg build`` and :class:`~kg.errors.KGError`") == (
        "see kg build and KGError")


def test_display_width() -> None:
    assert display_width("北京市") == 6
    assert display_width("e\u0301") == 1  # a combining accent takes no column
    assert display_width("Paris") == 5
    assert display_width("a\x07b") == 2  # a control character counts as nothing


def test_query_table_columns_line_up_by_display_width() -> None:
    text = render_table(["name", "n"], [["北京市", "1"], ["Paris", "22"], ["e\u0301", "3"]])
    lines = text.splitlines()[:5]
    # The second column starts at the same display column on every line.
    starts = {display_width(line[: line.rindex(" ") + 1]) for line in lines}
    assert len(starts) == 1, lines


def test_parse_table_columns_line_up(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "list.csv"
    path.write_text("city_a,country_a,city_b,country_b\n北京市,中国,Paris,France\n"
                    "Kyoto,Japan,東京都,日本\n", encoding="utf-8")
    assert main(["parse", str(path), "--format", "table"]) == 0
    lines = capsys.readouterr().out.splitlines()
    for column in ("country_a", "city_b", "country_b"):
        at = display_width(lines[0][: lines[0].index(column)])
        for line in lines[1:]:
            cells = line.split()
            # the cell starting at that display column is preceded by two spaces
            prefix = next(line[:i] for i in range(len(line)) if display_width(line[:i]) == at)
            assert prefix.endswith("  ") and not line[len(prefix)].isspace(), (column, cells)


@pytest.mark.parametrize("fmt", ["xml", "json", "csv", "tsv", "table"])
def test_query_output_ends_with_a_newline(
    fmt: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "g.ttl"
    data.write_text("<http://example.org/a> <http://example.org/b> \"北京\" .\n",
                    encoding="utf-8")
    query = tmp_path / "q.rq"
    query.write_text("SELECT ?s ?o WHERE { ?s ?p ?o }\n", encoding="utf-8")
    assert main(["query", str(query), "--data", str(data), "--format", fmt]) == 0
    out = capsys.readouterr().out
    assert out.endswith("\n") and not out.endswith("\n\n")
    construct = tmp_path / "c.rq"
    construct.write_text("CONSTRUCT WHERE { ?s ?p ?o }\n", encoding="utf-8")
    if fmt in ("xml", "json"):
        assert main(["query", str(construct), "--data", str(data), "--format", fmt]) == 0
        assert capsys.readouterr().out.endswith("\n")
