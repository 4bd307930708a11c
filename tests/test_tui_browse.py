"""Pilot tests of the TUI's first screen: what is listed, filtered, sorted, selected.

Expected answers come from the shipped data through the library (the TUI must show what
`cpudb models` computes) and from facts about QEMU's tables.
"""

from __future__ import annotations

from cpudb.tui.app import CpudbApp
from cpudb.tui.model_view import ModelScreen
from cpudb.tui.quick_table import QuickTable
from textual.pilot import Pilot
from textual.widgets import Checkbox, Select

from cpudb.advise import advise
from cpudb.app.inputs import resolve_needs
from cpudb.describe import filter_models
from cpudb.query import Db
from tests.tui_pilot import browse, drive, keys, names, settle, status, type_into, wait_for

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
