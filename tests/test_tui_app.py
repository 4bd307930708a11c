"""Tests of the TUI as a whole: app-wide keys and sizes, its messages, how its modules import
each other, and the `cpudb tui` command.
"""

from __future__ import annotations

import ast
import asyncio
import subprocess
import sys
from pathlib import Path

import pytest
from cpudb.tui.app import CpudbApp, make_app
from cpudb.tui.browse import BrowseScreen
from cpudb.tui.help import HelpScreen
from cpudb.tui.quick_table import QuickTable
from textual.pilot import Pilot
from textual.widgets import Checkbox

from cpudb.query import Db
from tests.tui_pilot import browse, drive, settle, status

# ------------------------------------------------------------------ app-wide


def test_help_theme_and_quit() -> None:
    async def scenario(app: CpudbApp, pilot: Pilot[int]) -> None:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert isinstance(app.screen, BrowseScreen)
        theme = app.theme
        await pilot.press("t")
        assert app.theme != theme and "light" in app.theme
        await pilot.press("t")
        assert app.theme == theme
        await pilot.press("q")
        await pilot.pause()
        assert not app.is_running

    drive(scenario)


def test_usable_at_80x24() -> None:
    async def scenario(app: CpudbApp, pilot: Pilot[int]) -> None:
        screen = browse(app)
        assert screen.query_one("#models", QuickTable).size.height >= 15
        footer = " ".join(
            f"{b.key} {b.description}" for (_, b, _, _) in screen.active_bindings.values() if b.show
        )
        for key in ("q quit", "question_mark help", "a advise", "c compare", "f feature"):
            assert key in footer

    drive(scenario, size=(80, 24))


def test_mouse_toggles_would_need(db: Db) -> None:
    async def scenario(app: CpudbApp, pilot: Pilot[int]) -> None:
        await pilot.click("#would")
        assert browse(app).query_one("#would", Checkbox).value
        assert browse(app).would_mode

    drive(scenario)


def test_bad_release_is_a_message_not_a_traceback() -> None:
    app = make_app(qemu="99.9")

    async def main() -> None:
        async with app.run_test(notifications=True) as pilot:
            screen = browse(app)
            await settle(pilot)
            assert status(screen).startswith("cannot load")
            assert "unknown QEMU release '99.9'" in status(screen)
            assert any("99.9" in n.message for n in app._notifications)
            assert app.is_running

    asyncio.run(main())


# ------------------------------------------------------------------ messages


def test_a_newer_answer_replaces_an_older_one_still_queued() -> None:
    """`can_replace`: of two answers of one kind queued before the screen reads them, only
    the newer is handled (the needs box typed on while the advisor worked)."""
    from cpudb.tui.messages import AdviceLoaded, Failed, ReleaseLoaded
    from textual import on
    from textual.app import App

    older, newer = AdviceLoaded("older"), AdviceLoaded("newer")
    assert older.can_replace(newer)
    assert not older.can_replace(ReleaseLoaded("a release"))
    assert not older.can_replace(Failed(AdviceLoaded, "an error"))

    class Recorder(App[None]):
        def __init__(self) -> None:
            super().__init__()
            self.seen: list[object] = []

        @on(AdviceLoaded)
        def got(self, message: AdviceLoaded) -> None:
            self.seen.append(message.value)

    app = Recorder()

    async def main() -> None:
        async with app.run_test() as pilot:
            app.post_message(AdviceLoaded("older"))
            app.post_message(AdviceLoaded("newer"))
            await pilot.pause()

    asyncio.run(main())
    assert app.seen == ["newer"]


# ------------------------------------------------------------------ the modules

TUI = Path(__file__).resolve().parent.parent / "tui"
SCREENS = {"browse", "model_view", "feature_view", "compare", "advise_view", "help"}


def tui_imports() -> dict[str, set[str]]:
    """Each tui module -> the tui modules it imports anywhere (in functions, and under
    TYPE_CHECKING, too)."""
    graph: dict[str, set[str]] = {}
    for path in sorted(TUI.glob("*.py")):
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                if node.module:
                    deps.add(node.module.split(".")[0])
                else:
                    deps.update(a.name for a in node.names)
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("cpudb.tui"):
                deps.add((node.module or "").split(".")[2])
            elif isinstance(node, ast.Import):
                deps.update(a.name.split(".")[2] for a in node.names
                            if a.name.startswith("cpudb.tui."))  # fmt: skip
        graph[path.stem] = deps - {path.stem}
    return graph


def test_tui_modules_import_no_cycle_and_screens_not_each_other() -> None:
    graph = tui_imports()
    assert set(graph) >= SCREENS and "intents" in graph

    def cycle_from(start: str) -> list[str] | None:
        stack = [(start, [start])]
        while stack:
            node, path = stack.pop()
            for nxt in graph.get(node, ()):
                if nxt == start:
                    return [*path, nxt]
                if nxt not in path:
                    stack.append((nxt, [*path, nxt]))
        return None

    assert {m: c for m in graph if (c := cycle_from(m))} == {}
    assert {m: graph[m] & SCREENS for m in SCREENS if graph[m] & SCREENS} == {}
    assert [m for m in graph if "app" in graph[m]] == []  # only the App opens screens


# ------------------------------------------------------------------ the command


def test_cli_help_and_bad_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    from cpudb.cli import main

    with pytest.raises(SystemExit):
        main(["tui", "--help"])
    out = capsys.readouterr().out
    assert "cpudb tui --qemu 7.2" in out and "--host NAME|FILE" in out
    assert main(["tui", "--qemu", "99.9"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown QEMU release '99.9'" in err
    assert main(["tui", "--host", "/nonexistent/host.cpuid"]) == 2
    assert "no file and no stored host" in capsys.readouterr().err


def test_cli_does_not_import_textual_until_the_tui_runs() -> None:
    code = (
        "import sys, cpudb.cli; cpudb.cli.build_parser(); "
        "print(sorted(m for m in ('textual', 'cpudb.tui.app') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
