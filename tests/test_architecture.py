"""Issue 15: the layers hold (import-linter's contracts in .importlinter, run by `make
check`), every cpudb module is placed in one of them, and no module-level import cycle
exists among cpudb, scrapers and tui, nor one through function-level (lazy) imports."""

from __future__ import annotations

import ast
import configparser
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ABOVE = {"cpudb.app", "cpudb.commands", "cpudb.render", "cpudb.cli", "cpudb.data"}
# the folders the install maps into cpudb (pyproject's package-dir)
FOLDERS = {"cpudb": ROOT / "cpudb", "cpudb.scrapers": ROOT / "scrapers", "cpudb.tui": ROOT / "tui"}


def _contracts() -> configparser.ConfigParser:
    cp = configparser.ConfigParser()
    cp.read(ROOT / ".importlinter")
    return cp


def test_every_cpudb_module_sits_in_a_layer() -> None:
    listed = set(_contracts()["importlinter:contract:decisions"]["source_modules"].split())
    placed = listed | ABOVE
    found = set()
    for p in (ROOT / "cpudb").iterdir():
        if p.name.startswith("__") or p.name == "scrapers":
            continue
        if p.suffix == ".py" or (p / "__init__.py").exists():
            found.add(f"cpudb.{p.stem if p.suffix == '.py' else p.name}")
    assert found - placed == set(), "add these to .importlinter's decisions contract"
    assert listed - found == set(), "these are gone: drop them from .importlinter"


# what the TUI may import of the decision layer directly: the data's vocabulary and the
# database it opens; the rest it reaches through the use cases (cpudb.app)
TUI_MAY_NAME = {"cpudb.errors", "cpudb.model", "cpudb.query", "cpudb.record", "cpudb.versions"}


def test_the_tui_reaches_the_decisions_only_through_the_use_cases() -> None:
    contracts = _contracts()
    decisions = set(contracts["importlinter:contract:decisions"]["source_modules"].split())
    forbidden = set(contracts["importlinter:contract:tui"]["forbidden_modules"].split())
    assert decisions - TUI_MAY_NAME <= forbidden, "forbid these in .importlinter's tui contract"
    assert forbidden & TUI_MAY_NAME == set()


def _modules() -> dict[str, Path]:
    out = {}
    for pkg, base in FOLDERS.items():
        for f in base.rglob("*.py"):
            if ".venv" in f.parts or "__snapshots__" in f.parts:
                continue
            parts = f.relative_to(base).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            if pkg == "cpudb" and parts[:1] in (("scrapers",), ("tui",)):
                continue
            out[".".join((pkg, *parts))] = f
    return out


def _imports(name: str, path: Path, known: set[str], *, lazy: bool = False) -> set[str]:
    """Modules `name` imports when it is imported: module level, not under TYPE_CHECKING.
    With `lazy`, also those its functions import when they run (still not the typing-only
    ones: an `if TYPE_CHECKING:` body is skipped, its `else:` is not)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    is_pkg = path.name == "__init__.py"
    base = name.split(".") if is_pkg else name.split(".")[:-1]
    out: set[str] = set()

    def add(mod: str) -> None:
        while mod and mod not in known:
            mod = mod.rpartition(".")[0]
        if mod and mod != name:
            out.add(mod)

    def record(n: ast.AST) -> None:
        if isinstance(n, ast.Import):
            for a in n.names:
                add(a.name)
        elif isinstance(n, ast.ImportFrom):
            if n.level:
                mod = ".".join(base[: len(base) - n.level + 1] + ([n.module] if n.module else []))
            else:
                mod = n.module or ""
            for a in n.names:  # `from pkg import module`
                if f"{mod}.{a.name}" in known:
                    add(f"{mod}.{a.name}")
                else:
                    add(mod)

    def typing_only(n: ast.AST) -> bool:
        return isinstance(n, ast.If) and "TYPE_CHECKING" in ast.unparse(n.test)

    def visit(n: ast.AST) -> None:  # every statement, function bodies included
        if isinstance(n, ast.If) and typing_only(n):
            for m in n.orelse:
                visit(m)
            return
        record(n)
        for child in ast.iter_child_nodes(n):
            visit(child)

    if lazy:
        visit(tree)
        return out
    for node in tree.body:
        if typing_only(node):
            continue
        stmts = [node] if not isinstance(node, (ast.Try, ast.If)) else ast.walk(node)
        for n in stmts:
            record(n)
    return out


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    cycles: list[list[str]] = []

    def strong(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                cycles.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for m in graph:
        if m not in index:
            strong(m)
    return cycles


def test_no_module_level_import_cycles() -> None:
    mods = _modules()
    known = set(mods)
    # a package's __init__ importing its own modules is how packages work; a module
    # importing its package's __init__ back is the cycle
    assert _cycles({m: _imports(m, p, known) for m, p in mods.items()}) == []


def test_no_import_cycles_counting_function_level_imports() -> None:
    """A lazy import (inside a function, to keep start-up fast) still ties two modules
    together: a cycle through one means the shared piece lives in the wrong module."""
    mods = _modules()
    known = set(mods)
    graph = {m: _imports(m, p, known, lazy=True) for m, p in mods.items()}
    cycles = _cycles(graph)
    chains = [[f"{m} -> {sorted(graph[m] & set(c))}" for m in c] for c in cycles]
    assert cycles == [], chains


def test_import_linter_contracts_hold() -> None:
    tool = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    if not Path(tool).exists():
        pytest.skip("no lint-imports: pip install -e '.[test]' (import-linter)")
    r = subprocess.run([tool], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:]
