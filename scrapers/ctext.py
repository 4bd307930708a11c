"""Just enough C to read QEMU's cpu.c/cpu.h: comments, #defines, tokens, initializer lists.

Pure functions over text. Offsets are kept so that every error names file and line.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Set as AbstractSet
from typing import NamedTuple

from cpudb.errors import ParseError
from cpudb.record import Record, replace

_COMMENT_OR_STRING = re.compile(
    r'"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'|/\*.*?\*/|//[^\n]*', re.S
)


_NOT_NL = re.compile(r"[^\n]")


def strip_comments(text: str) -> str:
    """Blank out comments (keeping newlines, so offsets and line numbers survive)."""

    def repl(m: re.Match[str]) -> str:
        s = m.group(0)
        if s[0] == "/":
            return _NOT_NL.sub(" ", s) if "\n" in s else " " * len(s)
        return s

    out = _COMMENT_OR_STRING.sub(repl, text)
    # An unterminated /* swallows the rest of the file in C: treat it as such.
    return out


class Source:
    """One source file: its name, comment-free text and a (lazy) line index."""

    def __init__(self, name: str, text: str) -> None:
        self.name = name
        self.raw = text
        self.text = strip_comments(text)
        self._nl: list[int] | None = None

    def line(self, offset: int) -> int:
        if self._nl is None:
            self._nl = [m.start() for m in re.finditer("\n", self.text)]
        return bisect.bisect_right(self._nl, offset - 1) + 1

    def error(
        self, message: str, offset: int, token: str | None = None, hint: str | None = None
    ) -> ParseError:
        return ParseError(message, file=self.name, line=self.line(offset), token=token, hint=hint)


class Token(NamedTuple):
    kind: str  # "str", "num", "id", "op"
    text: str
    pos: int
    src: Source

    def error(self, message: str, hint: str | None = None) -> ParseError:
        return self.src.error(message, self.pos, self.text, hint)


_TOKEN = re.compile(
    r"""
      "(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'
    | 0[xX][0-9a-fA-F]+[uUlL]*|\d+[uUlL]*
    | [A-Za-z_]\w*
    | <<|>>|->|&&|\|\||==|!=|<=|>=|\.\.\.
    | [^\s\\]
    """,
    re.X,
)
_OPS = frozenset("{}()[];,.=|&~^+-*/<>!?:%#") | {
    "<<",
    ">>",
    "->",
    "&&",
    "||",
    "==",
    "!=",
    "<=",
    ">=",
    "...",
}
# token kind by first character; anything else is an operator (validated against _OPS)
_KIND = {c: "str" for c in "\"'"}
_KIND.update({c: "num" for c in "0123456789"})
_KIND.update({c: "id" for c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_"})
_new_token = tuple.__new__


def tokenize(src: Source, start: int = 0, end: int | None = None) -> list[Token]:
    """C tokens of src.text[start:end]; whitespace and backslash-newlines are skipped."""
    text = src.text
    end = len(text) if end is None else end
    kind = _KIND.get
    # One comprehension, kinds by first character, tuple.__new__ instead of the NamedTuple
    # constructor: the tokenizer is the largest part of the parse time.
    out = [
        _new_token(Token, (kind(m.group()[0], "op"), m.group(), m.start(), src))
        for m in _TOKEN.finditer(text, start, end)
    ]
    for t in out:
        if t[0] == "op" and t[1] not in _OPS:
            raise src.error("unexpected character", t[2], t[1])
    return out


# ---------------------------------------------------------------- preprocessor


class Define(Record):
    name: str
    body: str
    src: Source
    pos: int  # offset of the body in src.text
    conflict: bool = False  # defined again with another body (#if/#else branches)


_DEFINE = re.compile(r"^[ \t]*#[ \t]*define[ \t]+([A-Za-z_]\w*)(\(?)", re.M)


def _words(body: str) -> list[str]:
    return body.replace("\\", " ").split()


def collect_defines(sources: list[Source]) -> dict[str, Define]:
    """Object-like #defines of all sources; the first wins, a differing redefinition is marked."""
    table: dict[str, Define] = {}
    for src in sources:
        text = src.text
        for m in _DEFINE.finditer(text):
            if m.group(2):  # function-like macro: never used by the table
                continue
            name = m.group(1)
            body_start = m.end()
            # The body runs to the first newline not preceded by a backslash.
            i = body_start
            while True:
                j = text.find("\n", i)
                if j < 0:
                    j = len(text)
                    break
                k = j - 1
                while k >= body_start and text[k] in " \t\r":
                    k -= 1
                if k >= body_start and text[k] == "\\":
                    i = j + 1
                    continue
                break
            body = text[body_start:j]
            first = table.get(name)
            if first is None:
                table[name] = Define(name, body, src, body_start)
            elif not first.conflict and _words(body) != _words(first.body):
                table[name] = replace(first, conflict=True)
    return table


# ------------------------------------------------------- initializer lists


class Expr(Record):
    """A value that is not a brace list: its tokens, kept for later evaluation."""

    tokens: list[Token]

    @property
    def pos(self) -> int:
        return self.tokens[0].pos if self.tokens else 0

    def text(self) -> str:
        return " ".join(t.text for t in self.tokens)


class Item(Record):
    designators: list[tuple[str, object]]  # (".", name) or ("[", Expr)
    value: InitList | Expr
    pos: int

    @property
    def field(self) -> str | None:
        if self.designators and self.designators[0][0] == ".":
            return str(self.designators[0][1])
        return None


class InitList(Record):
    items: list[Item]
    pos: int
    cast: str | None = None  # "(X86CPUVersionDefinition[])" for compound literals


_RBRACKET = frozenset({"]"})
_OPEN = frozenset("([{")
_CLOSE = frozenset(")]}")


class _Parser:
    def __init__(self, tokens: list[Token], src: Source) -> None:
        self.toks = tokens
        self.i = 0
        self.src = src

    def peek(self, k: int = 0) -> Token | None:
        j = self.i + k
        return self.toks[j] if j < len(self.toks) else None

    def expect(self, text: str) -> Token:
        t = self.peek()
        if t is None:
            pos = self.toks[-1].pos if self.toks else 0
            raise self.src.error(
                f"unexpected end of input, expected {text!r}", pos, hint="the file looks truncated"
            )
        if t.text != text:
            raise t.error(f"expected {text!r}")
        self.i += 1
        return t

    def _matching_paren(self, j: int) -> int:
        depth = 0
        while j < len(self.toks):
            t = self.toks[j].text
            if t == "(":
                depth += 1
            elif t == ")":
                depth -= 1
                if depth == 0:
                    return j
            j += 1
        return -1

    def init_list(self, cast: str | None = None) -> InitList:
        start = self.expect("{")
        items: list[Item] = []
        toks = self.toks
        n = len(toks)
        while True:
            if self.i >= n:
                raise self.src.error("unterminated '{'", start.pos, hint="the file looks truncated")
            if toks[self.i].text == "}":
                self.i += 1
                return InitList(items, start.pos, cast)
            items.append(self.item())
            if self.i < n:
                text = toks[self.i].text
                if text == ",":
                    self.i += 1
                elif text != "}":
                    raise toks[self.i].error("expected ',' or '}' in initializer")

    def item(self) -> Item:
        toks = self.toks
        n = len(toks)
        i = self.i
        first = toks[i]
        designators: list[tuple[str, object]] = []
        while i < n:
            text = toks[i].text
            if text == "." and i + 1 < n and toks[i + 1].kind == "id":
                designators.append((".", toks[i + 1].text))
                i += 2
            elif text == "[":
                self.i = i
                if not self._is_designator():
                    break
                self.i = i + 1
                designators.append(("[", self.expr(stop=_RBRACKET)))
                self.expect("]")
                i = self.i
            else:
                break
        self.i = i
        if designators:
            self.expect("=")
        return Item(designators, self.value(), first.pos)

    def _is_designator(self) -> bool:
        # `[N] = ...` at the start of an item is a designator.
        depth = 0
        j = self.i
        while j < len(self.toks):
            t = self.toks[j].text
            if t == "[":
                depth += 1
            elif t == "]":
                depth -= 1
                if depth == 0:
                    nxt = self.toks[j + 1].text if j + 1 < len(self.toks) else ""
                    return nxt in ("=", "[", ".")
            j += 1
        return False

    def value(self) -> InitList | Expr:
        t = self.peek()
        if t is None:
            raise self.src.error("unexpected end of input in initializer", self.toks[-1].pos)
        if t.text == "{":
            return self.init_list()
        # compound literal: (Type[]) { ... }  or  &(Type) { ... }
        j = self.i + (1 if t.text == "&" else 0)
        if j < len(self.toks) and self.toks[j].text == "(":
            k = self._matching_paren(j)
            if k > 0 and k + 1 < len(self.toks) and self.toks[k + 1].text == "{":
                cast = " ".join(x.text for x in self.toks[j : k + 1])
                self.i = k + 1
                return self.init_list(cast=cast)
        return self.expr(stop={",", "}"})

    def expr(self, stop: AbstractSet[str]) -> Expr:
        depth = 0
        start = i = self.i
        toks_all = self.toks
        n = len(toks_all)
        while i < n:
            text = toks_all[i].text
            if depth == 0 and text in stop:
                break
            if text in _OPEN:
                depth += 1
            elif text in _CLOSE:
                depth -= 1
                if depth < 0:
                    raise toks_all[i].error("unbalanced bracket")
            i += 1
        self.i = i
        toks = toks_all[start:i]
        if not toks:
            t = self.peek()
            if t is None:
                raise self.src.error("unexpected end of input", self.toks[-1].pos)
            raise t.error("empty value in initializer")
        return Expr(toks)


def parse_initializer(src: Source, brace_pos: int) -> tuple[InitList, int]:
    """Parse the brace list starting at `brace_pos`; return it and the offset after it."""
    end = match_brace(src, brace_pos)
    toks = tokenize(src, brace_pos, end + 1)
    p = _Parser(toks, src)
    node = p.init_list()
    if p.i != len(toks):
        raise toks[p.i].error("trailing tokens after initializer")
    return node, end + 1


_BRACE_OR_STRING = re.compile(r'[{}]|"(?:\\.|[^"\\\n])*"')


def match_brace(src: Source, pos: int) -> int:
    """Offset of the `}` matching the `{` at `pos` (strings skipped)."""
    depth = 0
    for m in _BRACE_OR_STRING.finditer(src.text, pos):
        c = m.group(0)
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return m.start()
    raise src.error("unterminated '{'", pos, hint="the file looks truncated")


def find_initializer(src: Source, pattern: str, *, required: bool = True) -> int | None:
    """Offset of the `{` of the first initializer whose declarator matches `pattern`."""
    m = re.search(pattern + r"\s*=\s*\{", src.text)
    if not m:
        if required:
            raise ParseError(
                f"no `{pattern}` initializer found",
                file=src.name,
                hint="is this QEMU's target/i386/cpu.c?",
            )
        return None
    return m.end() - 1
