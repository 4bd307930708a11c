"""Evaluate C integer and string constant expressions the way QEMU's table uses them.

Integers: `| & ^ ~ << >> + - * / % ( )`, casts to integer types, hex/decimal/octal
literals with U/L suffixes, and macros (resolved through a callback). Results are
masked to 64 bits. Strings: adjacent literals and string macros are concatenated.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from cpudb.errors import ParseError

from .ctext import Token

MASK64 = (1 << 64) - 1

INT_TYPES = {
    "int",
    "unsigned",
    "long",
    "short",
    "char",
    "signed",
    "uint8_t",
    "uint16_t",
    "uint32_t",
    "uint64_t",
    "int32_t",
    "int64_t",
    "size_t",
}

Resolver = Callable[[Token], int]


def parse_int_literal(text: str) -> int:
    s = text.rstrip("uUlL")
    if s.lower().startswith("0x"):
        return int(s, 16)
    if len(s) > 1 and s.startswith("0"):
        return int(s, 8)
    return int(s, 10)


class _Eval:
    def __init__(self, toks: Sequence[Token], resolve: Resolver) -> None:
        self.toks = toks
        self.i = 0
        self.resolve = resolve

    def peek(self) -> str | None:
        return self.toks[self.i].text if self.i < len(self.toks) else None

    def take(self) -> Token:
        if self.i >= len(self.toks):
            last = self.toks[-1]
            raise last.error("expression ends early")
        t = self.toks[self.i]
        self.i += 1
        return t

    # precedence climbing, C order: | ^ & (shift) (+ -) (* / %) unary
    def parse(self) -> int:
        v = self.bor()
        if self.i != len(self.toks):
            raise self.toks[self.i].error("unexpected token in expression")
        return v

    def bor(self) -> int:
        v = self.bxor()
        while self.peek() == "|":
            self.i += 1
            v |= self.bxor()
        return v

    def bxor(self) -> int:
        v = self.band()
        while self.peek() == "^":
            self.i += 1
            v ^= self.band()
        return v

    def band(self) -> int:
        v = self.shift()
        while self.peek() == "&":
            self.i += 1
            v &= self.shift()
        return v

    def shift(self) -> int:
        v = self.add()
        while self.peek() in ("<<", ">>"):
            op = self.take()
            r = self.add()
            if r < 0 or r > 127:
                raise op.error(f"shift count {r} out of range")
            v = (v << r) & MASK64 if op.text == "<<" else (v & MASK64) >> r
        return v

    def add(self) -> int:
        v = self.mul()
        while self.peek() in ("+", "-"):
            op = self.take().text
            r = self.mul()
            v = v + r if op == "+" else v - r
        return v

    def mul(self) -> int:
        v = self.unary()
        while self.peek() in ("*", "/", "%"):
            op = self.take()
            r = self.unary()
            if op.text == "*":
                v *= r
            elif r == 0:
                raise op.error("division by zero")
            else:
                v = v // r if op.text == "/" else v % r
        return v

    def unary(self) -> int:
        t = self.peek()
        if t == "~":
            self.i += 1
            return ~self.unary() & MASK64
        if t == "-":
            self.i += 1
            return -self.unary()
        if t == "+":
            self.i += 1
            return self.unary()
        if t == "!":
            self.i += 1
            return int(not self.unary())
        if t == "(" and self._is_cast():
            while self.take().text != ")":
                pass
            return self.unary() & MASK64
        return self.primary()

    def _is_cast(self) -> bool:
        j = self.i + 1
        seen = False
        while j < len(self.toks) and self.toks[j].text in INT_TYPES:
            j += 1
            seen = True
        return seen and j < len(self.toks) and self.toks[j].text == ")"

    def primary(self) -> int:
        t = self.take()
        if t.text == "(":
            v = self.bor()
            if self.peek() != ")":
                raise (self.toks[self.i] if self.i < len(self.toks) else t).error("expected ')'")
            self.i += 1
            return v
        if t.kind == "num":
            return _eval_literal(t)
        if t.kind == "id":
            return self.resolve(t)
        raise t.error("unexpected token in expression")


def _eval_literal(t: Token) -> int:
    try:
        return parse_int_literal(t.text)
    except ValueError:
        raise t.error("bad integer literal") from None


def eval_int(tokens: Sequence[Token], resolve: Resolver) -> int:
    if not tokens:
        raise ParseError("empty expression")
    fast = _or_of_atoms(tokens, resolve)
    if fast is not None:
        return fast
    return _Eval(tokens, resolve).parse() & MASK64


def _or_of_atoms(tokens: Sequence[Token], resolve: Resolver) -> int | None:
    """`A | B | 0x10 | C`, the shape of nearly every feature expression in the model table,
    without the recursive descent (a third of the parse time otherwise). None if the
    expression has any other shape."""
    n = len(tokens)
    if n % 2 == 0:
        return None
    for i in range(1, n, 2):
        if tokens[i].text != "|":
            return None
    value = 0
    for i in range(0, n, 2):
        t = tokens[i]
        if t.kind == "id":
            value |= resolve(t)
        elif t.kind == "num":
            value |= _eval_literal(t)
        else:
            return None
    return value & MASK64


def unescape(lit: str) -> str:
    """The value of a C string literal token (including its quotes)."""
    body = lit[1:-1]
    if "\\" not in body:
        return body
    import warnings

    with warnings.catch_warnings():
        # an invalid escape (`\c`) is a DeprecationWarning in Python, an error for us
        warnings.simplefilter("error", DeprecationWarning)
        return bytes(body, "latin-1", "backslashreplace").decode("unicode_escape")


def eval_str(tokens: Sequence[Token], resolve: Callable[[Token], str]) -> str:
    """Concatenate adjacent string literals; identifiers go through `resolve`."""
    parts: list[str] = []
    for t in tokens:
        if t.kind == "str":
            try:
                parts.append(unescape(t.text))
            except (UnicodeDecodeError, DeprecationWarning):
                raise t.error("bad escape in string literal") from None
        elif t.kind == "id":
            parts.append(resolve(t))
        elif t.text in ("(", ")"):
            continue
        else:
            raise t.error("unexpected token in string")
    return "".join(parts)
