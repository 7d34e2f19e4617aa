"""``kg serve``: placeholder until its stage lands."""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["register"]


def register(subparsers: Any) -> None:
    """Add the ``serve`` subcommand."""
    parser: argparse.ArgumentParser = subparsers.add_parser("serve", help="(not yet available)")
    parser.set_defaults(func=lambda args: 2)
