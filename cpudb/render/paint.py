"""ANSI colour (or none) and word wrapping, shared by the text renderers."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import TextIO

WIDTH = 88


def use_color(stream: TextIO, choice: str = "auto") -> bool:
    """`always`/`never`, or `auto`: a terminal, and neither NO_COLOR nor TERM=dumb set."""
    if choice != "auto":
        return choice == "always"
    if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
        return False
    return bool(getattr(stream, "isatty", lambda: False)())


class Paint:
    """ANSI SGR codes, or nothing."""

    def __init__(self, color: bool) -> None:
        self.color = color

    def _sgr(self, code: str, text: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.color else text

    def add(self, t: str) -> str:
        return self._sgr("32", t)

    def rem(self, t: str) -> str:
        return self._sgr("31", t)

    def chg(self, t: str) -> str:
        return self._sgr("33", t)

    def dim(self, t: str) -> str:
        return self._sgr("2", t)

    def bold(self, t: str) -> str:
        return self._sgr("1", t)


def wrap_words(
    words: Iterable[str], indent: str, paint: Callable[[str], str] | None = None, width: int = WIDTH
) -> list[str]:
    """Fill lines with words; `paint` colours each word after measuring it."""
    lines: list[str] = []
    cur: list[str] = []
    size = len(indent)
    for w in words:
        if cur and size + 1 + len(w) > width:
            lines.append(indent + " ".join(cur))
            cur, size = [], len(indent)
        size += len(w) + (1 if cur else 0)
        cur.append(paint(w) if paint else w)
    if cur:
        lines.append(indent + " ".join(cur))
    return lines
