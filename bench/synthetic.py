"""Write N synthetic twinnings (zh.wikipedia format) and their links table, then print the
``kg build`` command that builds them. Usage: ``python bench/synthetic.py N OUT_DIR [SEED]``.

The QIDs are synthetic (Q9000000000 and up, see kg/synthetic.py); the folder is refused if it
lies under seeds/ or holds files the generator did not write.
"""

from __future__ import annotations

import sys
from pathlib import Path

from kg.errors import KGError
from kg.synthetic import generate

__all__ = ["main"]


def main(argv: list[str]) -> int:
    """Generate; 0 on success, 2 (one line on stderr) on a bad argument or folder."""
    if len(argv) not in (2, 3) or not argv[0].isdigit():
        sys.stderr.write("usage: python bench/synthetic.py N OUT_DIR [SEED]\n")
        return 2
    try:
        made = generate(int(argv[0]), Path(argv[1]), seed=int(argv[2]) if len(argv) == 3 else 0)
    except KGError as exc:
        sys.stderr.write(f"bench/synthetic.py: error: {exc}\n")
        return 2
    print(f"kg build --seeds {made.document} --links {made.links} --out {made.folder / 'dist'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
