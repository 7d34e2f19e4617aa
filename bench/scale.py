"""``kg build`` at scale against its floor, side by side in one run (bench/README.md).

Usage: ``python bench/scale.py FOLDER [--rounds N] [--jobs build,floor,shacl,serial,parallel]``,
where FOLDER holds a synthetic source (``python bench/synthetic.py N FOLDER``). Each round
runs, in a fresh process each, one after the other (the order rotating each round):

* ``build``: ``kg build -q`` of the folder's sources into ``FOLDER/dist``;
* ``floor``: a fresh Python process that parses the build's own ``twinning.nt`` with
  pyoxigraph, bulk-loads an in-memory store and writes Turtle, N-Triples, JSON-LD and TriG
  (what any build of these triples must at least do);
* ``serial`` and ``parallel``: the same build with JSON-LD and its check in this process or
  in a second one (``build(parallel=False)`` or ``True``), into ``FOLDER/dist-serial`` or
  ``FOLDER/dist-parallel``;
* ``shacl``: the default SHACL engine alone (shapes compiled, then the build's
  ``twinning.nt`` with the ontology, as ``kg build`` feeds it).

It prints, per job, the median wall time, CPU time (user + system, children included) and
peak resident memory of the process tree (sampled from /proc, the build's second process
included), and the build's ratios to the floor. A measurement, not a test.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

__all__ = ["main"]

_FLOOR = """
import sys, pyoxigraph as ox
nt, out = sys.argv[1], sys.argv[2]
store = ox.Store()
store.bulk_load(path=nt, format=ox.RdfFormat.N_TRIPLES)
for fmt, ext in ((ox.RdfFormat.TURTLE, "ttl"), (ox.RdfFormat.N_TRIPLES, "nt"),
                 (ox.RdfFormat.JSON_LD, "jsonld")):
    store.dump(output=f"{out}/floor.{ext}", format=fmt, from_graph=ox.DefaultGraph())
store.dump(output=f"{out}/floor.trig", format=ox.RdfFormat.TRIG)
"""

_SHACL = """
import sys, tempfile, shutil
from pathlib import Path
from kg import paths
from kg.validate import _ntriples, _read_ntriples, _validate_rs, load_shapes
nt = Path(sys.argv[1])
shapes = load_shapes(paths.SHAPES_DIR)
ontology = _read_ntriples(paths.ONTOLOGY, "ontology").encode()
def lines():
    with nt.open("rb") as handle:
        for line in handle:
            yield line.rstrip(b"\\n")
    yield from ontology.splitlines()
result = _validate_rs(lines(), _ntriples(shapes), shapes, allow_warnings=True)
print(result.violations, result.warnings)
"""


_ONE_OR_TWO = """
import sys
from pathlib import Path
from kg.fsutil import set_max_input_size
from kg.build import build
folder = Path(sys.argv[1])
set_max_input_size(4 << 30)
build(seeds=[folder / "zhwiki-synthetic.md"], links_path=folder / "wikidata-links-synthetic.tsv",
      out=Path(sys.argv[2]), parallel=sys.argv[3] == "parallel", progress=False)
"""


def _tree_rss(pid: int) -> int:
    """Resident bytes of ``pid`` and its descendants now (from /proc; 0 once gone)."""
    total = 0
    stack = [pid]
    while stack:
        current = stack.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            for task in Path(f"/proc/{current}/task").iterdir():
                stack.extend(int(c) for c in (task / "children").read_text().split())
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) * 1024
    return total


def _run(argv: list[str]) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds (user + system, the process and its children) and peak
    resident memory of the process tree (sampled every 0.2 s: the build's second process
    counts too)."""
    started = time.monotonic()
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(0.2):
            peak = max(peak, _tree_rss(process.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.monotonic() - started
    done.set()
    sampler.join()
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"bench/scale.py: {argv[:4]} exited with {process.returncode}")
    return wall, usage.ru_utime + usage.ru_stime, max(peak, usage.ru_maxrss * 1024)


def main(argv: list[str]) -> int:
    """Run the rounds and print the table; 0, or 2 on a bad argument."""
    parser = argparse.ArgumentParser(prog="bench/scale.py")
    parser.add_argument("folder", type=Path)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--jobs", default="build,floor,shacl")
    args = parser.parse_args(argv)
    folder: Path = args.folder
    dist = folder / "dist"
    build = [sys.executable, "-m", "kg", "build", "-q", "--seeds",
             str(folder / "zhwiki-synthetic.md"), "--links",
             str(folder / "wikidata-links-synthetic.tsv"), "--out", str(dist),
             "--max-input-size", "4G"]  # 10^6 twinnings: a 160 MB document
    jobs = [j.strip() for j in args.jobs.split(",") if j.strip()]
    if not (dist / "twinning.nt").exists():
        if "build" not in jobs:
            _run(build)  # the floor and the SHACL job read the build's own file
        jobs = ["build", *(j for j in jobs if j != "build")]  # the first build makes it
    figures: dict[str, list[tuple[float, float, int]]] = {job: [] for job in jobs}
    with tempfile.TemporaryDirectory(prefix="kg-scale-") as scratch:
        commands = {
            "build": build,
            "floor": [sys.executable, "-c", _FLOOR, str(dist / "twinning.nt"), scratch],
            "shacl": [sys.executable, "-c", _SHACL, str(dist / "twinning.nt")],
            **{how: [sys.executable, "-c", _ONE_OR_TWO, str(folder), str(folder / f"dist-{how}"),
                     how] for how in ("serial", "parallel")},
        }
        for number in range(args.rounds):
            order = jobs[number % len(jobs):] + jobs[: number % len(jobs)]
            if number == 0:
                order = jobs
            for job in order:
                figures[job].append(_run(commands[job]))
                wall, cpu, rss = figures[job][-1]
                print(f"round {number + 1} {job}: {wall:.1f} s wall, {cpu:.1f} s CPU, "
                      f"{rss / 2**30:.2f} GiB peak", file=sys.stderr, flush=True)
    print("| job | runs | wall s (median) | CPU s (median) | peak GiB (max) |")
    print("|---|---:|---:|---:|---:|")
    medians = {}
    for job, runs in figures.items():
        wall = statistics.median(r[0] for r in runs)
        cpu = statistics.median(r[1] for r in runs)
        peak = max(r[2] for r in runs) / 2**30
        medians[job] = (wall, cpu, peak)
        print(f"| {job} | {len(runs)} | {wall:.1f} | {cpu:.1f} | {peak:.2f} |")
    if "build" in medians and "floor" in medians:
        b, f = medians["build"], medians["floor"]
        print(f"\nbuild ÷ floor: wall {b[0] / f[0]:.2f}×, CPU {b[1] / f[1]:.2f}×, "
              f"peak memory {b[2] / f[2]:.2f}×")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
