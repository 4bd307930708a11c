"""Pilot tests of the TUI's screens opened from the list: a model, a feature, compare, advise.

Expected answers come from the shipped data through the library (the TUI must show what
`cpudb show/feature/diff/advise` compute) and from facts about QEMU's tables.
"""

from __future__ import annotations

from cpudb.tui.advise_view import AdviseScreen
from cpudb.tui.app import CpudbApp
from cpudb.tui.browse import BrowseScreen
from cpudb.tui.compare import CompareScreen
from cpudb.tui.feature_view import FeaturePrompt, FeatureScreen
from cpudb.tui.model_view import ModelScreen
from cpudb.tui.quick_table import QuickTable
from textual.pilot import Pilot
from textual.widgets import DataTable, Input

from cpudb import facts
from cpudb.advise import advise
from cpudb.app.compare import DiffRequest, diff_case
from cpudb.app.inputs import resolve_needs
from cpudb.describe import describe_cpu
from cpudb.diff import CpuDiff, diff_cpus
from cpudb.host_fit import blockers
from cpudb.host_load import load_host
from cpudb.query import Db
from tests.conftest import need_hosts_dir
from tests.tui_pilot import (
    browse,
    drive,
    keys,
    settle,
    status,
    table_column,
    type_into,
    wait_for,
)

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
