"""Keep only the `#if` branches that a given build compiles.

QEMU's TCG masks differ between builds: `#ifdef TARGET_X86_64` selects the 64-bit
system emulator's SYSCALL/LM bits, `#ifdef CONFIG_USER_ONLY` the user-mode ones. The
masks cpudb records are those of `qemu-system-x86_64`: TARGET_X86_64 defined,
CONFIG_USER_ONLY not. A condition on any other macro keeps every branch (as the
plain parser does), so nothing is decided on a guess.

`active_text` blanks the lines of inactive branches (newlines kept, so line numbers
stay those of the file).
"""

from __future__ import annotations

import itertools
import re

SYSTEM_X86_64: dict[str, bool] = {
    "TARGET_X86_64": True,
    "CONFIG_USER_ONLY": False,
    "CONFIG_LINUX_USER": False,
    "CONFIG_BSD_USER": False,
    "CONFIG_SOFTMMU": True,
    "CONFIG_SYSTEM_ONLY": True,
}

_DIRECTIVE = re.compile(r"^[ \t]*#[ \t]*(if|ifdef|ifndef|elif|else|endif)\b(.*)$")
_DEFINED = re.compile(r"defined\s*\(\s*(\w+)\s*\)|defined\s+(\w+)")


def condition(kind: str, text: str, macros: dict[str, bool]) -> bool | None:
    """True/False when the condition depends only on `macros`; None when unknown."""
    text = text.strip()
    if kind in ("ifdef", "ifndef"):
        name = text.split()[0] if text.split() else ""
        if name not in macros:
            return None
        return macros[name] if kind == "ifdef" else not macros[name]
    # `#if` / `#elif`: defined(X), !, &&, || and parentheses; a macro not in `macros`
    # is unknown, and the condition is decided only when it is the same either way
    names = {m.group(1) or m.group(2) for m in _DEFINED.finditer(text)}
    unknown = sorted(names - macros.keys())
    if len(unknown) > 6:
        return None
    results = {
        _eval(text, {**macros, **dict(zip(unknown, values, strict=True))})
        for values in itertools.product((False, True), repeat=len(unknown))
    }
    return results.pop() if len(results) == 1 else None


def _eval(text: str, macros: dict[str, bool]) -> bool | None:
    expr = _DEFINED.sub(lambda m: str(macros[m.group(1) or m.group(2)]), text)
    expr = expr.replace("&&", " and ").replace("||", " or ")
    expr = re.sub(r"!(?!=)", " not ", expr)
    if not re.fullmatch(r"[\s()]*(?:(?:True|False|and|or|not)[\s()]*)+", expr):
        return None  # a value test (#if X > 2, #if 0): not decided here
    try:
        return bool(eval(expr, {"__builtins__": {}}, {}))  # only True/False/and/or/not
    except SyntaxError:
        return None


def active_text(text: str, macros: dict[str, bool] = SYSTEM_X86_64) -> str:
    """`text` with the lines of branches this build does not compile blanked."""
    out: list[str] = []
    # per open #if: (this branch active?, some earlier branch taken?, decided?)
    stack: list[tuple[bool, bool, bool]] = []

    def live() -> bool:
        return all(active for active, _, _ in stack)

    for line in text.split("\n"):
        m = _DIRECTIVE.match(line)
        if m is None:
            out.append(line if live() else "")
            continue
        kind, rest = m.group(1), m.group(2)
        if kind in ("if", "ifdef", "ifndef"):
            c = condition(kind, rest, macros)
            stack.append((c is not False, c is True, c is not None))
        elif kind == "elif" and stack:
            _, taken, decided = stack.pop()
            c = condition("if", rest, macros)
            if not decided:
                stack.append((True, False, False))
            elif taken:
                stack.append((False, True, True))
            else:
                stack.append((c is not False, c is True, c is not None))
        elif kind == "else" and stack:
            _, taken, decided = stack.pop()
            stack.append((not taken if decided else True, True, decided))
        elif kind == "endif" and stack:
            stack.pop()
        out.append("")
    return "\n".join(out)
