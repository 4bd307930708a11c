"""Pilot tests of the TUI: what is listed, selected, opened, compared, advised, copied.

Expected answers come from the shipped data through the library (the TUI must show what
`cpudb models/show/feature/diff/advise` compute) and from facts about QEMU's tables.
"""

from __future__ import annotations

import ast
import asyncio
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from contextlib import suppress
from pathlib import Path
from typing import Any

import pytest
from cpudb.tui.advise_view import AdviseScreen
from cpudb.tui.app import CpudbApp, make_app
from cpudb.tui.browse import BrowseScreen
from cpudb.tui.compare import CompareScreen
from cpudb.tui.feature_view import FeaturePrompt, FeatureScreen
from cpudb.tui.help import HelpScreen
from cpudb.tui.model_view import ModelScreen
from cpudb.tui.quick_table import QuickTable
from textual.keys import _character_to_key
from textual.pilot import Pilot
from textual.widgets import Checkbox, DataTable, Input, Select, Static
from textual.worker import WorkerCancelled, WorkerFailed

from cpudb import facts
from cpudb.advise import advise
from cpudb.app.compare import DiffRequest, diff_case
from cpudb.app.inputs import resolve_needs
from cpudb.describe import describe_cpu, filter_models
from cpudb.diff import CpuDiff, diff_cpus
from cpudb.host_fit import blockers
from cpudb.host_load import load_host
from cpudb.query import Db
from tests.conftest import need_hosts_dir

Scenario = Callable[[CpudbApp, Pilot[int]], Awaitable[None]]


async def wait_for(
    pilot: Pilot[int], cond: Callable[[], Any], what: str, timeout: float = 20
) -> None:
    end = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.02)


async def settle(pilot: Pilot[int]) -> None:
    """Wait for every worker (and the workers their answers start) to finish and for the
    answers to be shown."""
    await pilot.pause()
    while busy := [w for w in pilot.app.workers if not w.is_finished]:
        with suppress(WorkerCancelled, WorkerFailed):  # a newer request replaced it
            await pilot.app.workers.wait_for_complete(busy)
        await pilot.pause()


def browse(app: CpudbApp) -> BrowseScreen:
    screen = app.screen_stack[0]
    assert isinstance(screen, BrowseScreen)
    return screen


def drive(scenario: Scenario, *, size: tuple[int, int] = (100, 30), **kw: Any) -> CpudbApp:
    """Run the app headless, wait for the first table, then play the scenario."""
    app = make_app(**kw)

    async def main() -> None:
        async with app.run_test(size=size, notifications=True) as pilot:
            await settle(pilot)
            assert browse(app).query_one("#models", QuickTable).row_count > 0, "no table"
            await scenario(app, pilot)

    asyncio.run(main())
    return app


def status(screen: Any, selector: str = "#status") -> str:
    return str(screen.query_one(selector, Static).render())


def names(app: CpudbApp) -> list[str]:
    return [s.row.cpu.name for s in browse(app).shown]


def table_column(screen: Any, selector: str, column: int) -> list[str]:
    table = screen.query_one(selector, DataTable)
    return [str(table.get_row_at(i)[column]) for i in range(table.row_count)]


def keys(text: str) -> list[str]:
    return [_character_to_key(ch) for ch in text]


async def type_into(pilot: Pilot[int], key: str, text: str) -> None:
    """Focus a box with its key (from the table) and type."""
    await pilot.press(key)
    await pilot.press(*keys(text))
    await pilot.pause()


# ------------------------------------------------------------------ browse


def test_first_screen_lists_every_cpu_name_of_the_newest_release(db: Db) -> None:
    rel = db.release()

    async def scenario(app: CpudbApp, pilot: Pilot[int]) -> None:
        screen = browse(app)
        assert sorted(names(app)) == sorted(c.name for c in rel.cpus)
        assert names(app) == sorted(names(app), key=str.lower)  # sorted by name
        assert status(screen).startswith(f"QEMU {rel.version}: {len(rel.cpus)} of ")
        assert screen.query_one("#release", Select).value == rel.version
        table = screen.query_one("#models", QuickTable)
        assert table.row_count == len(rel.cpus)
        assert [c.label for c in table.columns] == [
            "CPU name ▲", "vendor", "fam/mod", "feats", "kind", "level",
        ]  # fmt: skip
        haswell = rel.cpu("Haswell-v4")
        assert haswell is not None
        assert table.row("Haswell-v4") == [
            "Haswell-v4", "Intel", "6/60", str(len(haswell.features)), "version", "v3",
        ]  # fmt: skip
        assert app.focused is table
        assert table.cursor_key == names(app)[0]
        await pilot.press("down", "down")
        assert table.cursor_key == names(app)[2] == screen.selected

    drive(scenario)


def test_needs_filter_keeps_the_names_that_have_every_need(db: Db) -> None:
    rel = db.release("9.2")

    async def scenario(app: CpudbApp, pilot: Pilot[int]) -> None:
        await type_into(pilot, "n", "pdpe1gb la57")
        shown = names(app)
        expected = [c.name for c, _ in filter_models(rel, has=["pdpe1gb", "la57"])]
        assert sorted(shown) == sorted(expected)
        assert "Icelake-Server-v1" in shown and "Haswell-v4" not in shown
        assert "Skylake-Server-v1" not in shown  # pdpe1gb but no la57
        for s in browse(app).shown:
            assert {"pdpe1gb", "la57"} <= s.row.features
        assert "with pdpe1gb la57" in status(browse(app))
        # the same bit by its CPUID location
        await pilot.press(*["backspace"] * len("pdpe1gb la57"))
        await pilot.press(*keys("CPUID.80000001H:EDX[26]"))
        expected = [c.name for c, _ in filter_models(rel, has=["pdpe1gb"])]
        assert sorted(names(app)) == sorted(expected)

    drive(scenario, qemu="9.2.0")


def test_name_filter_and_unknown_need_are_reported_not_raised(db: Db) -> None:
    rel = db.release()

    async def scenario(app: CpudbApp, pilot: Pilot[int]) -> None:
        await type_into(pilot, "slash", "haswell")
        assert names(app) and all("haswell" in n.lower() for n in names(app))
        assert len(names(app)) == sum("haswell" in c.name.lower() for c in rel.cpus)
        await pilot.press("escape")
        await type_into(pilot, "n", "pdpe1gbx")
        screen = browse(app)
        assert "unknown feature 'pdpe1gbx'" in status(screen, "#problems")
        assert "did you mean pdpe1gb" in status(screen, "#problems")
        assert screen.query_one("#problems").display
        assert len(names(app)) == sum("haswell" in c.name.lower() for c in rel.cpus)
        await pilot.press("backspace")
        assert not screen.query_one("#problems").display
        assert "Haswell-v4" not in names(app)  # Haswell has no pdpe1gb

    drive(scenario)


def test_would_need_shows_what_the_advisor_adds_to_each_name(db: Db) -> None:
    rel = db.release("9.2.0")
    advice = advise(rel, resolve_needs(rel, ["pdpe1gb"]))
    adds = {c.name: [a.name for a in c.adds] for c in advice.candidates}
    assert adds["Haswell-v4"] == ["pdpe1gb"] and adds["Skylake-Server-v1"] == []

    async def scenario(app: CpudbApp, pilot: Pilot[int]) -> None:
        await type_into(pilot, "n", "pdpe1gb")
        filtered = len(names(app))
        await pilot.press("escape", "w")
        screen = browse(app)
        await settle(pilot)
        assert screen.would is not None
        assert screen.query_one("#would", Checkbox).value
        assert len(names(app)) == len(rel.cpus) > filtered
        would = {s.row.cpu.name: s.would for s in screen.shown}
        assert would["Haswell-v4"] is not None and would["Haswell-v4"].text == "+pdpe1gb"
        assert would["Haswell-noTSX-IBRS"].text == "+pdpe1gb"  # alias of Haswell-v4
        assert would["Skylake-Server-v1"].text == "nothing"
        table = screen.query_one("#models", QuickTable)
        assert table.row("Haswell-v4")[1] == "+pdpe1gb"
        assert table.row("Skylake-Server-v1")[1] == "has all"
        assert "would need pdpe1gb" in status(screen)
        # sorting by the column puts the names that need nothing first
        screen.sort_key = "would"
        screen.refresh_table()
        assert all(s.would is not None and s.would.count == 0 for s in screen.shown[:5])
        await pilot.press("w")
        assert sorted(names(app)) == sorted(c.name for c, _ in filter_models(rel, has=["pdpe1gb"]))

    drive(scenario, qemu="9.2.0")


def test_sort_by_key_and_by_clicking_a_header(db: Db) -> None:
    async def scenario(app: CpudbApp, pilot: Pilot[int]) -> None:
        screen = browse(app)
        await pilot.press("s")  # next column: vendor
        assert screen.sort_key == "vendor"
        table = screen.query_one("#models", QuickTable)
        vendors = table.column("vendor")
        assert vendors == sorted(vendors) and vendors[0] != vendors[-1]
        assert [c.label for c in table.columns][1] == "vendor ▲"
        await pilot.press("S")
        assert table.column("vendor") == sorted(vendors, reverse=True)
        assert [c.label for c in table.columns][1] == "vendor ▼"
        # the mouse: click the "feats" header (after name, vendor and fam/mod)
        x = sum(w + 2 for w in table.widths[:3])
        await pilot.click("#models", offset=(x + 2, 0))
        assert screen.sort_key == "features"
        counts = [int(v) for v in table.column("features")]
        assert counts == sorted(counts) and counts[0] < counts[-1]
        # a click on a row highlights it, a second click opens it (the row under the
        # pointer: screen line 3 is row 2 below the header, plus however far it scrolled
        # to keep the cursor visible after the re-sort)
        await pilot.pause()
        row = table.scroll_offset.y + 2
        await pilot.click("#models", offset=(3, 3))
        assert table.cursor == row
        await pilot.click("#models", offset=(3, 3))
        await wait_for(pilot, lambda: isinstance(app.screen, ModelScreen), "the model screen")
        assert app.screen.cpu_name == table.keys[row]

    drive(scenario, qemu="8.2")


def test_pick_another_release(db: Db) -> None:
    async def scenario(app: CpudbApp, pilot: Pilot[int]) -> None:
        screen = browse(app)
        await pilot.press("r")
        select = screen.query_one("#release", Select)
        assert select.expanded
        await pilot.press(*keys("7.2.0"), "enter")
        await settle(pilot)
        assert screen.data is not None and screen.data.version == "7.2.0"
        table = screen.query_one("#models", QuickTable)
        assert table.row_count == len(db.release("7.2.0").cpus)
        assert sorted(table.keys) == sorted(names(app))
        assert sorted(names(app)) == sorted(c.name for c in db.release("7.2.0").cpus)
        assert screen.query_one("#release", Select).value == "7.2.0"
        assert "QEMU 7.2.0" in screen.sub_title

    drive(scenario)


# ------------------------------------------------------------------ a model


def test_open_a_model_shows_groups_bits_aliases_and_the_previous_version(db: Db) -> None:
    rel = db.release("9.2.0")
    view = describe_cpu(rel, "Haswell-v4")

    async def scenario(app: CpudbApp, pilot: Pilot[int]) -> None:
        await type_into(pilot, "slash", "Haswell-v4")
        await pilot.press("enter", "enter")  # to the table, open the highlighted name
        await wait_for(pilot, lambda: isinstance(app.screen, ModelScreen), "the model screen")
        screen = app.screen
        text = status(screen, "#summary")
        assert "Haswell-v4" in text and "also: Haswell-noTSX-IBRS" in text
        assert "vs Haswell-v3: -hle -rtm" in text
        assert "x86-64-v3" in text
        table = screen.query_one("#features", DataTable)
        assert table.row_count == sum(len(g.features) for g in view.groups)
        avx2 = table.get_row("cpuid.0x7.0.ebx.5")
        assert [str(x) for x in avx2[1:3]] == ["5", "avx2"]
        titles = [t for t in table_column(screen, "#features", 0) if t]
        assert titles == [g.title for g in view.groups]
        assert "CPUID.07H.0:EBX" in titles
        await pilot.press("y")
        assert app.clipboard == "-cpu Haswell-v4"
        await pilot.press("escape")
        assert isinstance(app.screen, BrowseScreen)

    drive(scenario, qemu="9.2.0")


def test_host_column_blockers_and_their_highlight(db: Db) -> None:
    hosts = need_hosts_dir()
    dump = str(hosts / "intel-xeon-e5-2650-v3.cpuid")
    rel = db.release("7.2.0")
    hf = load_host(dump, db).features_in(rel)
    expected = {c.name: blockers(rel, c, hf, "kvm") for c in rel.cpus}
    assert expected["Haswell-noTSX"] == () and expected["Skylake-Client-v1"]

    async def scenario(app: CpudbApp, pilot: Pilot[int]) -> None:
        screen = browse(app)
        table = screen.query_one("#models", QuickTable)
        assert [c.label for c in table.columns][:2] == ["CPU name ▲", "on host"]
        for name, lacking in expected.items():
            cell = table.row(name)[1]
            assert cell == ("usable" if not lacking else f"{len(lacking)} blocker" +
                            ("s" if len(lacking) > 1 else ""))  # fmt: skip
        usable = sum(1 for b in expected.values() if not b)
        assert f"{usable} usable on intel-xeon-e5-2650-v3.cpuid" in status(screen)
        await type_into(pilot, "slash", "Skylake-Client-v1")
        await pilot.press("enter", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ModelScreen), "the model screen")
        model = app.screen
        lacking = expected["Skylake-Client-v1"]
        assert " ".join(lacking) in status(model, "#summary")
        await pilot.press("b")
        ftable = model.query_one("#features", DataTable)
        assert str(ftable.get_row_at(ftable.cursor_row)[2]) == f"✗ {lacking[0]}"

    drive(scenario, qemu="7.2.0", host=dump)


# ------------------------------------------------------------------ a feature


def test_open_a_feature_by_cpuid_location(db: Db) -> None:
    rel = db.release("9.2.0")
    having = [c.name for c in rel.cpus if "pdpe1gb" in c.features]

    async def scenario(app: CpudbApp, pilot: Pilot[int]) -> None:
        await pilot.press("f")
        assert isinstance(app.screen, FeaturePrompt)
        await pilot.press(*"pdpe1gx", "enter")
        assert isinstance(app.screen, FeaturePrompt)  # unknown: stays, says why
        assert "did you mean pdpe1gb" in status(app.screen, "#prompt-error")
        app.screen.query_one("#feature", Input).value = "CPUID.80000001H:EDX[26]"
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, FeatureScreen), "feature screen")
        screen = app.screen
        await settle(pilot)
        assert screen.view is not None
        text = status(screen, "#about")
        assert text.startswith("pdpe1gb  CPUID.80000001H:EDX[26]")
        assert f"{len(having)} CPU names of QEMU 9.2.0 have it" in text
        table = screen.query_one("#holders", DataTable)
        assert sorted(table_column(screen, "#holders", 0)) == sorted(having)
        assert [str(x) for x in table.get_row("Skylake-Server-v1")] == [
            "Skylake-Server-v1", "Skylake-Server", "2.10.0",
        ]  # fmt: skip
        assert str(table.get_row_at(0)[2]) == "1.1.0"  # oldest first: phenom had it in 1.1
        await pilot.press("escape")
        assert isinstance(app.screen, BrowseScreen)

    drive(scenario, qemu="9.2.0")


# ------------------------------------------------------------------ compare


def test_compare_previous_version_and_across_releases(db: Db) -> None:
    old, new = db.release("2.12"), db.release("9.2.0")
    across = diff_cpus(old, "Skylake-Server", new, "Skylake-Server-v4")
    assert across.only_in_first or across.only_in_second
    libvirt = diff_case(DiffRequest((), ("Skylake-Server@libvirt-9.0", "Skylake-Server-v1@9.2.0")))
    assert isinstance(libvirt, CpuDiff) and libvirt.only_in_second  # libvirt 9.0 lacks some

    async def scenario(app: CpudbApp, pilot: Pilot[int]) -> None:
        await type_into(pilot, "slash", "Haswell-v4")
        await pilot.press("enter", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ModelScreen), "the model screen")
        await pilot.press("p")
        screen = app.screen
        assert isinstance(screen, CompareScreen)
        await settle(pilot)
        assert screen.diff is not None
        assert table_column(screen, "#only-first", 0) == ["hle", "rtm"]
        assert table_column(screen, "#only-first", 1) == [
            "CPUID.07H.0:EBX[4]", "CPUID.07H.0:EBX[11]",
        ]  # fmt: skip
        assert table_column(screen, "#only-second", 0) == []
        assert "Haswell-v3 (QEMU 9.2.0" in status(screen, "#headline")
        # one model across two releases
        screen.query_one("#first", Input).value = "Skylake-Server@2.12"
        screen.query_one("#second", Input).value = "Skylake-Server-v4"
        screen.query_one("#second", Input).focus()
        screen.diff = None
        await pilot.press("enter")
        await settle(pilot)
        assert screen.diff is not None
        assert table_column(screen, "#only-first", 0) == [r.name for r in across.only_in_first]
        assert table_column(screen, "#only-second", 0) == [r.name for r in across.only_in_second]
        assert "QEMU 2.12.1" in status(screen, "#headline")
        # libvirt's model, in the screen's release: what `cpudb diff` answers
        screen.query_one("#first", Input).value = "Skylake-Server@libvirt-9.0"
        screen.query_one("#second", Input).value = "Skylake-Server-v1"
        screen.query_one("#second", Input).focus()
        screen.diff = None
        await pilot.press("enter")
        await settle(pilot)
        assert screen.diff == libvirt
        assert "libvirt-9.0.0" in status(screen, "#headline")
        # a bad name: said in the interface, no traceback
        screen.query_one("#second", Input).value = "Skylake-Servr@9.2"
        screen.query_one("#second", Input).focus()
        await pilot.press("enter")
        await settle(pilot)
        assert "did you mean" in status(screen, "#headline")
        assert any("no CPU model 'Skylake-Servr'" in n.message for n in app._notifications)

    drive(scenario, qemu="9.2.0")


# ------------------------------------------------------------------ advise


def test_advise_lists_candidates_and_copies_the_cpu_line(db: Db) -> None:
    rel = db.release("9.2.0")
    advice = advise(rel, resolve_needs(rel, ["pdpe1gb", "avx2"]), **facts.for_advice(rel))
    assert advice.best is not None

    async def scenario(app: CpudbApp, pilot: Pilot[int]) -> None:
        await type_into(pilot, "n", "pdpe1gb avx2")
        await pilot.press("escape", "a")
        screen = app.screen
        assert isinstance(screen, AdviseScreen)
        assert screen.query_one("#advise-needs", Input).value == "pdpe1gb avx2"
        await settle(pilot)
        assert screen.advice is not None
        best = advice.best
        assert best is not None
        assert f"best: -cpu {best.cpu(enforce=True)}" in status(screen, "#verdict")
        got = table_column(screen, "#candidates", 1)
        assert got == [c.cpu() for c in advice.candidates]
        await pilot.press("down")
        await pilot.press("y")
        assert app.clipboard == f"-cpu {advice.candidates[1].cpu(enforce=True)}"
        assert advice.candidates[1].name in status(screen, "#why")

    drive(scenario, qemu="9.2.0")


def test_advise_on_a_host_that_cannot_says_why(db: Db) -> None:
    dump = str(need_hosts_dir() / "intel-xeon-e5-2650-v3.cpuid")

    async def scenario(app: CpudbApp, pilot: Pilot[int]) -> None:
        await pilot.press("a")
        screen = app.screen
        assert isinstance(screen, AdviseScreen)
        assert "host intel-xeon-e5-2650-v3.cpuid" in screen.sub_title
        await pilot.press(*keys("la57"), "enter")
        await settle(pilot)
        assert screen.advice is not None
        text = status(screen, "#verdict")
        assert text.startswith("No CPU name works:")
        assert "la57" in text and "impossible under KVM" in text
        await pilot.press("tab", "y")  # nothing to copy: a warning, not a crash
        assert any("nothing to copy" in n.message for n in app._notifications)

    drive(scenario, qemu="9.2.0", host=dump)


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
