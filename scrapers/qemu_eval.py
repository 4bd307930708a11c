"""Evaluating cpu.c/cpu.h expressions for the table parser: the macros and
constants of one release (and those cpu.c takes from other headers)."""

from __future__ import annotations

from .cexpr import eval_int, eval_str
from .ctext import (
    Define,
    Expr,
    InitList,
    Item,
    Source,
    Token,
    collect_defines,
    tokenize,
)

# Constants that cpu.c takes from Linux or QEMU headers outside target/i386.
EXTERNAL_INTS = {
    "KVM_CPUID_FEATURES": 0x40000001,
    "KVM_CPUID_SIGNATURE": 0x40000000,
}
# String macros defined outside cpu.c/cpu.h that appear in model ids.
# QEMU_VERSION is the release itself; QEMU_HW_VERSION is "2.5+" since it exists.
EXTERNAL_STRINGS = {"QEMU_HW_VERSION": "2.5+"}


class Ctx:
    """Macro table and evaluators shared by the parsing steps of one release."""

    def __init__(self, sources: list[Source], version: str) -> None:
        self.sources = sources
        self.defines: dict[str, Define] = collect_defines(sources)
        self.version = version
        self._ints: dict[str, int] = {}
        self._active: set[str] = set()

    def int_of(self, tok: Token) -> int:
        name = tok.text
        if name in self._ints:
            return self._ints[name]
        d = self.defines.get(name)
        if d is not None and d.conflict:
            raise tok.error(
                "macro defined twice with different values (#if/#else?)",
                hint="cpudb cannot tell which branch QEMU's system emulator uses",
            )
        if d is None:
            if name in EXTERNAL_INTS:
                return EXTERNAL_INTS[name]
            raise tok.error(
                "unknown macro in expression",
                hint="the table uses a name that cpu.c/cpu.h do not define",
            )
        if name in self._active:
            raise tok.error("recursive macro")
        self._active.add(name)
        try:
            toks = tokenize(d.src, d.pos, d.pos + len(d.body))
            if not toks:
                raise tok.error("macro has an empty body")
            value = eval_int(toks, self.int_of)
        finally:
            self._active.discard(name)
        self._ints[name] = value
        return value

    def eval(self, e: Expr) -> int:
        return eval_int(e.tokens, self.int_of)

    def str_of(self, tok: Token) -> str:
        name = tok.text
        if name == "QEMU_VERSION":
            return self.version
        if name in EXTERNAL_STRINGS:
            return EXTERNAL_STRINGS[name]
        d = self.defines.get(name)
        if d is None:
            raise tok.error("unknown string macro")
        toks = tokenize(d.src, d.pos, d.pos + len(d.body))
        return eval_str(toks, self.str_of)

    def string(self, e: Expr) -> str | None:
        if len(e.tokens) == 1 and e.tokens[0].text == "NULL":
            return None
        return eval_str(e.tokens, self.str_of)


def need_expr(item: Item, src: Source) -> Expr:
    if isinstance(item.value, Expr):
        return item.value
    raise src.error("expected a value here, found a '{' list", item.pos)


def need_list(item: Item, src: Source) -> InitList:
    if isinstance(item.value, InitList):
        return item.value
    raise src.error("expected a '{' list here", item.pos, item.value.text())
