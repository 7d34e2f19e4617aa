"""Only regular files are read (issue 8): a FIFO, a device or a folder is refused at once
with a one-line error, before any read (a FIFO with no writer would block, /dev/zero would
fill memory), and a file over the input size limit is refused; the same reader serves the
documents, the links and overrides tables and the corrections table."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from kg import fsutil
from kg.errors import KGError, LinksError, SourceError
from kg.reconcile.links import read_links
from kg.reconcile.overrides import read_overrides
from kg.sources import lhc, parse_path

SEEDS = Path(__file__).resolve().parents[2] / "seeds"

READERS: dict[str, Callable[[Path], object]] = {
    "document": parse_path,
    "links": read_links,
    "overrides": read_overrides,
    "corrections": lhc.load_corrections,
}


@pytest.fixture
def fifo(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "pipe.md"
    os.mkfifo(path)
    yield path


def _refused(reader: Callable[[Path], object], path: Path, words: str) -> KGError:
    with pytest.raises(KGError) as info:
        reader(path)
    exc = info.value
    assert exc.exit_code == 2 and "\n" not in str(exc)
    assert str(exc).startswith(f"{path}: ") and words in str(exc), str(exc)
    return exc


@pytest.mark.parametrize("reader", list(READERS.values()), ids=list(READERS))
def test_fifo_is_refused_without_blocking(reader: Callable[[Path], object], fifo: Path) -> None:
    # No writer ever opens the FIFO: a blocking open or read would hang the test.
    _refused(reader, fifo, "FIFO")


@pytest.mark.parametrize("reader", list(READERS.values()), ids=list(READERS))
@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom", "/dev/null"])
def test_device_is_refused(reader: Callable[[Path], object], device: str) -> None:
    _refused(reader, Path(device), "character device")


@pytest.mark.parametrize("reader", list(READERS.values()), ids=list(READERS))
def test_directory_is_refused(reader: Callable[[Path], object], tmp_path: Path) -> None:
    _refused(reader, tmp_path, "directory")


def test_symlink_to_a_regular_file_is_read(tmp_path: Path) -> None:
    link = tmp_path / "zhwiki.md"
    link.symlink_to(SEEDS / "zhwiki-prc-sister-cities.md")
    assert len(parse_path(link).records) == 351


def test_symlink_to_a_fifo_is_refused(tmp_path: Path, fifo: Path) -> None:
    link = tmp_path / "link.md"
    link.symlink_to(fifo)
    _refused(parse_path, link, "FIFO")


@pytest.fixture
def small_limit() -> Iterator[int]:
    fsutil.set_max_input_size(500)
    yield 500
    fsutil.set_max_input_size(fsutil.DEFAULT_MAX_INPUT_SIZE)


@pytest.mark.parametrize(
    ("reader", "seed"),
    [
        (parse_path, "zhwiki-prc-sister-cities.md"),
        (read_links, "wikidata-links.tsv"),
        (lhc.load_corrections, "lhc-corrections.tsv"),
    ],
)
def test_oversize_file_is_refused(
    reader: Callable[[Path], object], seed: str, small_limit: int
) -> None:
    assert (SEEDS / seed).stat().st_size > small_limit
    _refused(reader, SEEDS / seed, "input size limit of 500 bytes")


def test_file_at_the_limit_is_read(tmp_path: Path) -> None:
    path = tmp_path / "x.txt"
    path.write_bytes(b"a\nb\n")
    assert fsutil.read_input(path, SourceError, "x", max_size=4) == b"a\nb\n"
    with pytest.raises(SourceError, match="size limit of 3 bytes"):
        fsutil.read_input(path, SourceError, "x", max_size=3)


def test_limit_must_be_positive() -> None:
    with pytest.raises(ValueError):
        fsutil.set_max_input_size(0)
    assert fsutil.max_input_size() == fsutil.DEFAULT_MAX_INPUT_SIZE


def test_read_lines_drops_bom_and_cr(tmp_path: Path) -> None:
    path = tmp_path / "t.tsv"
    path.write_bytes(b"\xef\xbb\xbfa\tb\r\nc\td\r\n")
    assert fsutil.read_lines(path, LinksError, "table") == ["a\tb", "c\td"]


def test_read_lines_not_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "t.tsv"
    path.write_bytes(b"a\nb\xff\n")
    with pytest.raises(LinksError, match=r":2: cannot read table: not UTF-8"):
        fsutil.read_lines(path, LinksError, "table")


@pytest.mark.parametrize(
    "reader", [r for k, r in READERS.items() if k != "overrides"],  # none there means none
    ids=[k for k in READERS if k != "overrides"],
)
def test_unreadable_paths(reader: Callable[[Path], object], tmp_path: Path) -> None:
    """Paths no file can have: under a file, too long, with a NUL byte (os.stat raises
    ValueError for that one, not OSError)."""
    (tmp_path / "file").write_text("x", encoding="utf-8")
    for path in (tmp_path / "file" / "x.md", tmp_path / ("n" * 5000), Path("a\0b")):
        with pytest.raises(KGError) as info:
            reader(path)
        assert "\n" not in str(info.value)


def test_unreadable_file(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root reads any file")
    path = tmp_path / "secret.md"
    path.write_text("## x\n", encoding="utf-8")
    path.chmod(0)
    _refused(parse_path, path, "cannot read")


def test_fifo_in_the_gazetteer_folder_is_refused(tmp_path: Path) -> None:
    """The gazetteer is an input too: a FIFO in place of one of its files is refused
    (it used to block while the cache fingerprint was computed)."""
    from kg.errors import GazetteerError
    from kg.reconcile.gazetteer import FILES, load_gazetteer

    folder = tmp_path / "gaz"
    folder.mkdir()
    for name in FILES:
        os.mkfifo(folder / name)
    with pytest.raises(GazetteerError) as info:
        load_gazetteer(folder, cache_dir=tmp_path / "cache")
    assert "FIFO" in str(info.value) and "\n" not in str(info.value)


def test_fifo_among_the_shapes_is_refused(tmp_path: Path) -> None:
    """Every RDF file the project reads strictly (graphs, shapes) is a regular file."""
    from kg.errors import ValidationError
    from kg.validate import load_shapes

    os.mkfifo(tmp_path / "a.ttl")
    with pytest.raises(ValidationError) as info:
        load_shapes(tmp_path)
    assert "FIFO" in str(info.value) and "\n" not in str(info.value)
