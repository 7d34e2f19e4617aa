"""Every subcommand with malformed options (issue 8): bad URLs, zero and negative numbers,
missing, unreadable and special files, unknown formats and values. Each must end with exit
code 2 and exactly one line on stderr that names the option or the value, never a
traceback.

The cases are generated from the argument parser itself (:func:`kg.cli.build_parser`):
every option of every subcommand is classified by its ``type=`` function, and an option
this module cannot classify fails :func:`test_every_option_is_classified`, so a new
option is covered as soon as it is added. Most cases run in-process through
:func:`kg.cli.main` (fast); ``serve`` and ``bench``, which would start servers if a bad
value slipped through, run as subprocesses that are stopped by their PID after a bound.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import pytest

from kg import cli

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "seeds"
ZHWIKI = SEEDS / "zhwiki-prc-sister-cities.md"
LHC = SEEDS / "lhc-member-cities-2025-12.txt"

SMALL_TTL = (
    "@prefix tw: <https://w3id.org/twinning-kg/ontology#> .\n"
    "<https://w3id.org/twinning-kg/place/Q956> tw:twinnedWith "
    "<https://w3id.org/twinning-kg/place/Q90> .\n"
)

BAD_URLS = ("http://[::1", "ftp://x", "not a url", "http://", "http://h:99999/x", "")

#: Options where 0 has a documented meaning (the help says so; checked below).
ZERO_ALLOWED = {("serve", "--port"), ("serve", "--cache"), ("serve", "--express-workers"),
                ("serve", "--queue"), ("serve", "--worker-memory"),
                # 0: no cap on an answer's bytes, no per-client limit
                ("serve", "--max-answer-bytes"), ("serve", "--max-client-connections"),
                ("serve", "--max-client-queries")}

#: Path options that name something the command writes or creates, not an input
#: (refusing what they point at is the build/serve manifests' job, tested elsewhere).
OUTPUTS = {"out", "cache_dir", "store", "dist", "odbl_out", "state"}

#: Free-text options: any string is a valid value.
FREE_TEXT = {"user", "password", "user_agent"}

#: Options of other kinds, with bad values for each.
SPECIAL: dict[str, tuple[str, ...]] = {
    "formats": ("bogus", "ttl,bogus", ","),
    "endpoints": ("bogus", ","),
    "base": ("not a url", "ftp://x/", "https://example.org/no-trailing-slash"),
    "graph": ("not a url", "x y"),
    "param": ("noequals", "=v"),
    "host": ("bad host!", "999.1.1.1"),
    "trusted_proxy": ("proxy.example.org", "10.0.0.0/8", "999.1.1.1"),
    "query": ("no-such-query", "missing/file.rq", "/dev/zero"),
    "source": ("bogus",),
    "lang": ("", "not a tag", "e"),
}

NUMERIC_TYPES = {"positive_int", "positive_float", "non_negative_int", "byte_size", "port"}


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Case:
    """One run: a subcommand, the option (or positional dest) made bad, and its value."""

    command: str
    option: str  # "--timeout", or the dest of a positional
    value: str
    positional: bool = False

    @property
    def id(self) -> str:
        return f"{self.command} {self.option}={self.value!r}"


def _subparsers() -> dict[str, argparse.ArgumentParser]:
    parser = cli.build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def _actions(sub: argparse.ArgumentParser) -> list[argparse.Action]:
    return [
        a for a in sub._actions
        if not isinstance(a, (argparse._HelpAction, argparse._VersionAction))
    ]


def _type_name(action: argparse.Action) -> str:
    kind = action.type
    if kind is None:
        return ""
    name = getattr(kind, "__name__", "")
    return "int_range" if name.startswith("int_range") else name


def _kind(action: argparse.Action) -> str:
    """What sort of value the option takes, for the cases generated below."""
    if action.nargs == 0:
        return "flag"
    if action.choices is not None:
        return "choice"
    type_name = _type_name(action)
    if type_name in NUMERIC_TYPES or type_name == "int_range":
        return "number"
    if type_name == "http_url":
        return "url"
    if type_name in ("Path", "input_file"):
        if action.dest in OUTPUTS:
            return "output"
        return "dir" if action.metavar == "DIR" or action.dest == "gazetteer" else "file"
    if action.dest in SPECIAL or type_name == "comma_list":
        return "special"
    if action.dest in FREE_TEXT:
        return "free"
    return "unclassified"


def _values(command: str, action: argparse.Action, kind: str) -> list[str]:
    opt = action.option_strings[-1] if action.option_strings else action.dest
    if kind == "number":
        values = ["-1", "x", "1.5x"]
        if (command, opt) not in ZERO_ALLOWED:
            values.append("0")
        if _type_name(action) == "port":
            values.append("65536")
        if "float" in _type_name(action):
            values += ["nan", "inf", "-0.0"]
        return values
    if kind == "url":
        return list(BAD_URLS)
    if kind == "choice":
        return ["bogus"]
    if kind == "file":
        return ["@missing", "@dir", "@fifo", "/dev/zero", "@notdir", "@unknown-format"]
    if kind == "dir":
        return ["@missing", "@file", "@fifo"]
    if kind == "special":
        return list(SPECIAL.get(action.dest, ("bogus",)))
    return []


def _cases() -> list[Case]:
    cases = []
    for command, sub in _subparsers().items():
        for action in _actions(sub):
            for value in _values(command, action, _kind(action)):
                opt = action.option_strings[-1] if action.option_strings else action.dest
                cases.append(Case(command, opt, value, positional=not action.option_strings))
    return cases


CASES = _cases()
SUBPROCESS = {"serve", "bench"}


def test_every_option_is_classified() -> None:
    """A new option must get a validating type (or be listed above): no raw int/float."""
    for command, sub in _subparsers().items():
        for action in _actions(sub):
            assert action.type not in (int, float), (command, action.option_strings)
            assert _kind(action) != "unclassified", (command, action.option_strings, action.dest)
            if action.metavar == "URL" or action.dest.endswith(("_url", "endpoint")):
                assert _type_name(action) == "http_url", (command, action.option_strings)


def test_zero_allowed_options_say_so() -> None:
    subs = _subparsers()
    for command, opt in ZERO_ALLOWED:
        (action,) = [a for a in _actions(subs[command]) if opt in a.option_strings]
        assert "0" in (action.help or ""), (command, opt)


def test_every_subcommand_has_cases() -> None:
    assert {case.command for case in CASES} == set(cli.SUBCOMMANDS)
    assert len(CASES) > 150


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path]]:
    base = tmp_path_factory.mktemp("badopts")
    (base / "small.ttl").write_text(SMALL_TTL, encoding="utf-8")
    (base / "small.nt").write_text(
        "<http://example.org/a> <http://example.org/p> <http://example.org/b> .\n",
        encoding="utf-8",
    )
    (base / "a-file").write_text("x\n", encoding="utf-8")
    (base / "data.xyz").write_text("this is in no known format\n", encoding="utf-8")
    (base / "dir").mkdir()
    os.mkfifo(base / "fifo")
    yield {
        "base": base,
        "@missing": base / "no-such-file.ttl",
        "@dir": base / "dir",
        "@file": base / "a-file",
        "@fifo": base / "fifo",
        "@notdir": base / "a-file" / "x.ttl",
        "@unknown-format": base / "data.xyz",
    }


def _baseline(command: str, files: dict[str, Path]) -> tuple[list[str], list[str]]:
    """(positionals, options) that alone run the command harmlessly, writing only to
    the test's folder; a case replaces or adds one of them."""
    base = files["base"]
    ttl, nt = str(base / "small.ttl"), str(base / "small.nt")
    return {
        "parse": ([str(ZHWIKI)], []),
        "reconcile": ([str(ZHWIKI), str(LHC)], ["--out", str(base / "links.tsv")]),
        "build": ([], ["--out", str(base / "dist"), "--quiet"]),
        "validate": ([ttl], []),
        "serve": ([ttl], ["--port", "0", "--no-build", "--dist", str(base / "dist")]),
        "query": (["twins-of-place"], ["--param", "place=Q956", "--data", ttl]),
        "load": ([nt], ["--endpoint", f"http://127.0.0.1:{_closed_port()}/store",
                        "--timeout", "5"]),
        "bench": ([ttl], ["--endpoints", "oxigraph", "--requests", "1", "--clients", "1",
                          "--time-limit", "5"]),
        # Its options sit on its actions (diff, quickstatements); only the action is
        # checked here, the options in tests/wikidata.
        "wikidata": (["diff"], []),
    }[command]


def _argv(case: Case, files: dict[str, Path]) -> list[str]:
    value = str(files.get(case.value, case.value))
    positionals, options = _baseline(case.command, files)
    if case.positional:
        return [case.command, value, *options]
    return [case.command, *positionals, *options, f"{case.option}={value}"]


class _Hung(Exception):
    pass


def _alarm(signum: int, frame: FrameType | None) -> None:
    raise _Hung


def _run_in_process(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    # A case that blocks (a FIFO opened for reading) or runs away fails instead of hanging.
    old = signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(120)
    try:
        code = cli.main(argv)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except _Hung:
        pytest.fail(f"kg {' '.join(argv)} did not finish within 120 s")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
    return code, capsys.readouterr().err


def _run_subprocess(argv: list[str]) -> tuple[int, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "kg", *argv], cwd=ROOT, env=env, text=True,
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group: servers it starts stop with it
    )
    try:
        _, err = process.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # this test's own child's group, by its PID
        process.communicate()
        pytest.fail(f"kg {' '.join(argv)} did not stop within 120 s (server started?)")
    return process.returncode, err


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_option_is_one_line_and_exit_2(
    case: Case, files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    argv = _argv(case, files)
    if case.command in SUBPROCESS:
        code, err = _run_subprocess(argv)
    else:
        code, err = _run_in_process(argv, capsys)
    shown = f"kg {' '.join(argv)}"
    assert "Traceback" not in err, f"{shown}\n{err}"
    lines = err.rstrip("\n").split("\n")
    assert code == 2, f"{shown}: exit {code}\n{err}"
    assert len(lines) == 1 and lines[0], f"{shown}: not one line\n{err}"
    assert lines[0].startswith(("kg: error:", f"kg {case.command}: error:")), lines[0]
    value = str(files.get(case.value, case.value))
    named = (case.option in lines[0]) or (value and value in lines[0])
    if case.positional:
        named = named or case.option.upper() in lines[0] or "PATH" in lines[0]
    assert named or case.value in ("", ","), f"{shown}: names neither option nor value: {err}"


NO_NETWORK_CASES = [
    # the examples, through the real console entry point
    ["load", "--endpoint", "http://[::1"],
    ["load", "--endpoint", "http://127.0.0.1:1/store", "--timeout", "0"],
    ["load", "--endpoint", "http://127.0.0.1:1/store", "--timeout", "-1"],
    ["load", "--endpoint", "http://127.0.0.1:1/store", "--batch-size", "0"],
    ["parse", "/dev/zero"],
    ["parse", "--max-input-size", "0", str(ZHWIKI)],
    ["parse", "--max-input-size", "100", str(ZHWIKI)],
    ["nosuchcommand"],
    [],
]


@pytest.mark.parametrize("argv", NO_NETWORK_CASES, ids=[" ".join(a) for a in NO_NETWORK_CASES])
def test_examples_through_the_console_script(argv: list[str]) -> None:
    code, err = _run_subprocess(argv)
    assert code == 2 and "Traceback" not in err, err
    assert len(err.rstrip("\n").split("\n")) == 1, err


def test_fifo_never_blocks_the_cli(files: dict[str, Path]) -> None:
    """The issue's hang: `kg parse FIFO` and `kg build --seeds FIFO` with no writer."""
    fifo = str(files["@fifo"])
    for argv in (["parse", fifo], ["build", "--out", str(files["base"] / "d"), "--seeds", fifo],
                 ["reconcile", fifo, "--out", str(files["base"] / "l.tsv")],
                 ["validate", fifo]):
        code, err = _run_subprocess(argv)
        assert code == 2 and "FIFO" in err and len(err.strip().split("\n")) == 1, err
