"""The one writer of users' files (issue 18): atomic, keeping symbolic links and permission
bits, removing what killed writers left, and one line for every ``OSError``.

The failing places are real: a tmpfs mounted read-only or filled up in a private mount
namespace (``unshare -m``), a file bind-mounted over the table (a busy mount point), an
immutable file (``chattr +i``), a folder without write permission for a process without
the override capabilities (``setpriv --bounding-set``). Each case runs ``kg reconcile
--coordinates-only --out TABLE`` (it reads and writes the whole table) and checks exit 2,
one line on stderr naming the table and the cause, no traceback, the table's bytes
unchanged and no temporary file left.
"""

from __future__ import annotations

import fcntl
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kg import paths
from kg.errors import LinksError
from kg.fsutil import atomic_write_bytes, remove_leftovers
from kg.reconcile.coordinates import COORD_FILES

ROOT = Path(__file__).resolve().parents[1]
TABLE = (ROOT / "seeds" / "wikidata-links.tsv").read_bytes()
GAZ = paths.GAZETTEER_DIR

needs_gazetteer = pytest.mark.skipif(not (GAZ / COORD_FILES[0][0]).is_file(),
                                     reason="the shared gazetteer is not here")


def _can(argv: list[str]) -> bool:
    try:
        return subprocess.run(argv, capture_output=True, timeout=30, check=False).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


# --- in-process: what the writer keeps --------------------------------------------------


def test_a_symlink_stays_a_link_and_its_target_is_written(tmp_path: Path) -> None:
    real = tmp_path / "data" / "links.tsv"
    real.parent.mkdir()
    real.write_bytes(b"old\n")
    link = tmp_path / "links.tsv"
    link.symlink_to(Path("data") / "links.tsv")
    atomic_write_bytes(link, b"new\n")
    assert link.is_symlink() and os.readlink(link) == str(Path("data") / "links.tsv")
    assert real.read_bytes() == b"new\n"
    assert _leftovers(tmp_path) == [] and _leftovers(real.parent) == []


def test_a_file_keeps_its_mode_and_a_new_one_gets_the_umasks(tmp_path: Path) -> None:
    table = tmp_path / "links.tsv"
    table.write_bytes(b"old\n")
    for mode in (0o644, 0o664, 0o600):
        table.chmod(mode)
        atomic_write_bytes(table, b"new\n")
        assert table.stat().st_mode & 0o7777 == mode
    umask = os.umask(0o027)
    try:
        atomic_write_bytes(tmp_path / "fresh.tsv", b"x\n")
    finally:
        os.umask(umask)
    assert (tmp_path / "fresh.tsv").stat().st_mode & 0o7777 == 0o640  # not mkstemp's 0600


def test_leftovers_of_killed_writers_are_removed_and_nothing_else(tmp_path: Path) -> None:
    table = tmp_path / "links.tsv"
    old = time.time() - 60
    dead = tmp_path / ".links.tsv.abcd_123.tmp"  # the writer's own pattern, old, unlocked
    fresh = tmp_path / ".links.tsv.zzzz9999.tmp"  # too young: a writer may be starting
    other = tmp_path / ".links.tsv.notours.tmp"  # not 8 characters: not its pattern
    mine = tmp_path / ".other.tsv.abcd1234.tmp"  # another file's
    for path in (dead, fresh, other, mine):
        path.write_bytes(b"partial")
    for path in (dead, other, mine):
        os.utime(path, (old, old))
    atomic_write_bytes(table, b"new\n")
    assert not dead.exists()
    assert fresh.exists() and other.exists() and mine.exists()


def test_a_live_writers_temporary_file_is_kept(tmp_path: Path) -> None:
    busy = tmp_path / ".links.tsv.live0000.tmp"
    busy.write_bytes(b"being written")
    os.utime(busy, (time.time() - 60, time.time() - 60))
    with busy.open("rb") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        assert remove_leftovers(tmp_path / "links.tsv") == []
    assert busy.exists()


def test_kill_9_before_the_rename_leaves_a_file_the_next_write_removes(tmp_path: Path) -> None:
    """A real writer killed with SIGKILL while it holds its temporary file (it is stopped
    just before the rename)."""
    table = tmp_path / "links.tsv"
    table.write_bytes(TABLE)
    code = (
        "import os, sys, kg.fsutil as f\n"
        "def stop(*a, **k):\n"
        "    sys.stdout.write('ready\\n'); sys.stdout.flush(); os.kill(os.getpid(), 19)\n"
        "f.os.replace = stop\n"
        f"f.atomic_write_bytes(f.Path({str(table)!r}), b'half')\n"
    )
    writer = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, cwd=ROOT,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert writer.stdout is not None and writer.stdout.readline() == b"ready\n"
    writer.send_signal(signal.SIGKILL)
    writer.wait(30)
    left = _leftovers(tmp_path)
    assert len(left) == 1 and table.read_bytes() == TABLE
    os.utime(tmp_path / left[0], (time.time() - 60, time.time() - 60))
    atomic_write_bytes(table, b"new\n")
    assert _leftovers(tmp_path) == [] and table.read_bytes() == b"new\n"


def test_a_failed_write_is_one_kg_error_naming_the_file(tmp_path: Path) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    with pytest.raises(LinksError) as caught:
        atomic_write_bytes(folder, b"x", error=LinksError, what="the links table")
    text = str(caught.value)
    assert text.startswith(f"{folder}: cannot write the links table: ") and "\n" not in text
    assert folder.is_dir() and _leftovers(tmp_path) == []


# --- through `kg reconcile --out`, on real failing places --------------------------------


def _reconcile_in(script: str, folder: Path, *, prefix: list[str] | None = None,
                  after: str = "") -> subprocess.CompletedProcess[str]:
    """Run ``script`` (shell), then ``kg reconcile --coordinates-only --out
    folder/links.tsv``, then ``after`` (which sees kg's status as ``$?``) in one shell,
    under ``prefix`` (``unshare -m``, ``setpriv``...); the shell's status is kg's."""
    kg = " ".join(shlex.quote(a) for a in (
        sys.executable, "-m", "kg", "reconcile", "--coordinates-only", "--gazetteer", str(GAZ),
        "--out", str(folder / "links.tsv")))
    argv = [*(prefix or []), "sh", "-c",
            f"{script} || exit 99\n{kg}\nstatus=$?{after}\nexit $status"]
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False,
                          cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})


def _check_refused(done: subprocess.CompletedProcess[str], table: Path, cause: str) -> None:
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.rstrip("\n").split("\n")
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"kg reconcile: error: {table}: cannot write the links table: ")
    assert cause in lines[0], lines[0]


needs_unshare = pytest.mark.skipif(
    not _can(["unshare", "-m", "sh", "-c", "mount -t tmpfs tmpfs /mnt"]),
    reason="needs unshare -m and mount (root in a private mount namespace)")


@needs_gazetteer
@needs_unshare
@pytest.mark.parametrize("case", ["read-only", "full", "busy"])
def test_reconcile_out_on_a_failing_mount(case: str, tmp_path: Path) -> None:
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    (tmp_path / "seed.tsv").write_bytes(TABLE)
    table = mnt / "links.tsv"
    q = shlex.quote
    setup = {
        "read-only": f"mount -t tmpfs tmpfs {q(str(mnt))}; cp {q(str(tmp_path / 'seed.tsv'))} "
                     f"{q(str(table))}; mount -o remount,ro {q(str(mnt))}",
        # room for the table and a few pages, not for a second copy
        "full": f"mount -t tmpfs -o size=256k tmpfs {q(str(mnt))}; cp "
                f"{q(str(tmp_path / 'seed.tsv'))} {q(str(table))}; "
                f"head -c 60000 /dev/zero > {q(str(mnt / 'filler'))} || true",
        "busy": f"cp {q(str(tmp_path / 'seed.tsv'))} {q(str(table))}; "
                f"mount --bind {q(str(tmp_path / 'seed.tsv'))} {q(str(table))}",
    }[case]
    # In the namespace, after kg: are the bytes the same, is a temporary file left?
    after = f"\ncmp {q(str(table))} {q(str(tmp_path / 'seed.tsv'))} " \
            f"&& echo same; ls -a {q(str(mnt))}"
    done = _reconcile_in(setup, mnt, prefix=["unshare", "-m"], after=after)
    cause = {"read-only": "read-only", "full": "no space left", "busy": "mount point"}[case]
    _check_refused(done, table, cause)
    assert done.stdout.startswith("same\n") and ".tmp" not in done.stdout, done.stdout


@needs_gazetteer
@pytest.mark.skipif(not _can(["sh", "-c", "d=$(mktemp -d) && touch $d/f && chattr +i $d/f && "
                               "chattr -i $d/f"]), reason="chattr +i does not work here")
def test_reconcile_out_on_an_immutable_table(tmp_path: Path) -> None:
    table = tmp_path / "links.tsv"
    table.write_bytes(TABLE)
    subprocess.run(["chattr", "+i", str(table)], check=True)
    try:
        done = _reconcile_in("true", tmp_path)
    finally:
        subprocess.run(["chattr", "-i", str(table)], check=True)
    _check_refused(done, table, "immutable")
    assert table.read_bytes() == TABLE and _leftovers(tmp_path) == []


NO_OVERRIDE = ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner", "--"]


@needs_gazetteer
def test_reconcile_out_in_a_folder_without_write_permission(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    table = folder / "links.tsv"
    table.write_bytes(TABLE)
    table.chmod(0o644)
    folder.chmod(0o555)
    prefix = NO_OVERRIDE if os.geteuid() == 0 and shutil.which("setpriv") else []
    if os.geteuid() == 0 and not prefix:
        pytest.skip("root without setpriv: permissions do not apply")
    try:
        done = _reconcile_in("true", folder, prefix=prefix)
    finally:
        folder.chmod(0o755)
    _check_refused(done, table, "permission denied")
    assert table.read_bytes() == TABLE and _leftovers(folder) == []


# --- line (cell, literal) length limit ---------------------------------------------------


def test_a_17_mb_evidence_cell_is_refused_where_the_table_is_read(tmp_path: Path) -> None:
    """(Regression: MemoryError "Reached the buffer maximal size of 16777216" from
    pyoxigraph's Turtle writer, a traceback, exit 1.)"""
    lines = TABLE.decode().split("\n")
    cells = lines[5].split("\t")
    cells[11] = "x" * (17 * 1024 * 1024)  # evidence
    lines[5] = "\t".join(cells)
    links = tmp_path / "links.tsv"
    links.write_text("\n".join(lines), encoding="utf-8")
    out = tmp_path / "dist"
    done = subprocess.run([sys.executable, "-m", "kg", "build", "--links", str(links), "--out",
                           str(out)], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith(f"kg build: error: {links}:6: links table: the line is "
                                  "17,825,")
    assert not out.exists()


def test_the_limit_itself_is_allowed(tmp_path: Path) -> None:
    from kg.fsutil import MAX_LINE_LENGTH, read_lines

    path = tmp_path / "t.tsv"
    path.write_text("a\n" + "é" * MAX_LINE_LENGTH + "\n", encoding="utf-8")
    assert len(read_lines(path, LinksError, "table")) == 2
    path.write_text("a\n" + "é" * (MAX_LINE_LENGTH + 1) + "\n", encoding="utf-8")
    with pytest.raises(LinksError, match=rf"^{path}:2: table: the line is 1,048,577 "):
        read_lines(path, LinksError, "table")


def test_a_document_line_over_the_limit_is_refused(tmp_path: Path) -> None:
    from kg.errors import SourceError
    from kg.sources import parse_path

    path = tmp_path / "mine.csv"
    path.write_text("city_a,country_a,city_b,country_b\nKyoto,Japan,Paris,France\n"
                    + "K" * (2 * 1024 * 1024) + ",Japan,Paris,France\n", encoding="utf-8")
    with pytest.raises(SourceError, match=rf"^{path}:3: document: the line is 2,097,171 "):
        parse_path(path)


@needs_unshare
def test_a_full_tmpdir_says_what_to_do(tmp_path: Path) -> None:
    # The build's first use of TMPDIR is the emitted graph's spool (issue 21), before the
    # validation: a full TMPDIR is reported there, in one line saying what to do.
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    out = tmp_path / "dist"
    q = shlex.quote
    kg = " ".join(q(a) for a in (sys.executable, "-m", "kg", "build", "-q", "--out", str(out)))
    done = subprocess.run(
        ["unshare", "-m", "sh", "-c",
         f"mount -t tmpfs -o size=64k tmpfs {q(str(tmp))} || exit 99\nTMPDIR={q(str(tmp))} {kg}"],
        capture_output=True, text=True, timeout=300, check=False, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr == (
        f"kg build: error: cannot spool the emitted graph in {tmp} (TMPDIR): No space left "
        "on device; free some space there, or set TMPDIR to a folder with room\n")
    assert not out.exists()
