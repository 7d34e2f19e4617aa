"""Slow readers of long answers: the server's process tree must not grow with them, and a
light query must still be answered quickly. Usage:
``python bench/slow_readers.py FILE [READERS] [SECONDS]`` (defaults 11 and 40).

Starts ``kg serve FILE --cache 0 --max-rows 10000000``, then READERS clients each ask for
``SELECT * { ?s ?p ?o . VALUES ?k { 1 2 3 4 5 6 } }`` as CSV (about 160 MB over 10^4
synthetic twinnings) and read it at 64 KiB a second; meanwhile ``ASK {}`` is sent every
second. Prints the tree's memory (PSS, so pages shared between the server and its forked
workers count once) before and at its highest, and the slowest ``ASK {}``: while the
answers are computed (the workers are busy then) and while they drain (workers free).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time

import requests

__all__ = ["main", "tree_pss_mib"]

_QUERY = "SELECT * { ?s ?p ?o . VALUES ?k { 1 2 3 4 5 6 } }"


def tree_pss_mib(pid: int) -> int:
    """PSS of ``pid`` and its descendants, in MiB."""
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        try:
            with open(f"/proc/{current}/smaps_rollup", encoding="ascii") as handle:
                total += sum(int(line.split()[1]) for line in handle if line.startswith("Pss:"))
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children", encoding="ascii") as handle:
                    todo += [int(child) for child in handle.read().split()]
        except OSError:
            continue
    return total // 1024


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def main(argv: list[str]) -> int:
    """Run the measurement; 0 when done, 2 on a bad argument."""
    if not 1 <= len(argv) <= 3:
        sys.stderr.write("usage: python bench/slow_readers.py FILE [READERS] [SECONDS]\n")
        return 2
    readers = int(argv[1]) if len(argv) > 1 else 11
    seconds = float(argv[2]) if len(argv) > 2 else 40.0
    port = _port()
    url = f"http://127.0.0.1:{port}/sparql"
    server = subprocess.Popen([sys.executable, "-m", "kg", "serve", argv[0], "--port",
                               str(port), "--cache", "0", "--max-rows", "10000000",
                               "--timeout", "300"], stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                requests.get(url, params={"query": "ASK {}"}, timeout=5)
                break
            except requests.RequestException:
                time.sleep(0.2)
        before = tree_pss_mib(server.pid)
        stop = threading.Event()
        sizes: list[int] = []

        def read_slowly() -> None:
            answer = requests.post(url, data={"query": _QUERY}, headers={"Accept": "text/csv"},
                                   stream=True, timeout=300)
            sizes.append(int(answer.headers.get("Content-Length", "0")))
            for _ in answer.iter_content(65536):
                if stop.wait(1.0):
                    break
            answer.close()

        threads = [threading.Thread(target=read_slowly, daemon=True) for _ in range(readers)]
        for thread in threads:
            thread.start()
        highest, slowest, draining, end = before, 0.0, 0.0, time.monotonic() + seconds
        while time.monotonic() < end:
            start = time.monotonic()
            answered = len(sizes) == readers  # every answer written, all now draining
            status = requests.post(url, data={"query": "ASK {}"}, timeout=60).status_code
            took = time.monotonic() - start
            slowest = max(slowest, took)
            if answered:
                draining = max(draining, took)
            if status != 200:
                print(f"ASK {{}} answered {status}")
            highest = max(highest, tree_pss_mib(server.pid))
            time.sleep(1.0)
        stop.set()
        print(f"{readers} slow readers of {max(sizes, default=0) / 1e6:.0f} MB answers "
              f"({len(sizes)} answered) for {seconds:g} s: tree PSS {before} MiB before, "
              f"{highest} MiB at most (+{highest - before}); slowest ASK {{}} {slowest:.2f} s "
              f"(while the answers were being computed), {draining:.2f} s while they drained")
    finally:
        server.terminate()
        server.wait(30)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
