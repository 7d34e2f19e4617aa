"""The display width of text in a terminal, for the plain-text tables of ``kg parse`` and
``kg query``.

CJK ideographs and kana take two columns, combining marks and zero-width characters none;
:mod:`wcwidth` knows the Unicode tables (and emoji sequences) better than a hand-made
``east_asian_width`` rule, so columns stay aligned for names in any script.
"""

from __future__ import annotations

from wcwidth import wcswidth, wcwidth

__all__ = ["display_width", "pad"]


def display_width(text: str) -> int:
    """The number of terminal columns ``text`` takes (never negative: a control
    character, for which wcwidth has no width, counts as nothing)."""
    width = wcswidth(text)
    if width >= 0:
        return int(width)
    return sum(max(int(wcwidth(ch)), 0) for ch in text)


def pad(text: str, width: int) -> str:
    """``text`` followed by spaces up to ``width`` display columns."""
    return text + " " * max(width - display_width(text), 0)
