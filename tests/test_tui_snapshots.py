"""SVG snapshots of the main screens at 80x24 (pixels second: the Pilot tests assert behaviour).

The release is pinned (9.2.0) so that new snapshots in data/ do not change the pictures.
Update after an intended change: pytest tests/test_tui_snapshots.py --snapshot-update
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from contextlib import suppress
from pathlib import PurePath
from typing import Any, Protocol

from cpudb.tui.app import make_app
from cpudb.tui.browse import BrowseScreen
from cpudb.tui.quick_table import QuickTable
from textual.app import App
from textual.keys import _character_to_key
from textual.pilot import Pilot
from textual.worker import WorkerCancelled, WorkerFailed

from cpudb.query import Db


class SnapCompare(Protocol):
    """The `snap_compare` fixture's function (pytest-textual-snapshot declares it as
    taking only the app)."""

    def __call__(
        self,
        app: str | PurePath | App[Any],
        press: Iterable[str] = (),
        terminal_size: tuple[int, int] = (80, 24),
        run_before: Callable[[Pilot[Any]], Awaitable[None] | None] | None = None,
    ) -> bool: ...


SIZE = (80, 24)
QEMU = "9.2.0"


def keys(text: str) -> list[str]:
    return [_character_to_key(ch) for ch in text]


async def settle(pilot: Pilot[int]) -> None:
    """Wait for every worker (and those their answers start) and for the answers shown."""
    await pilot.pause()
    while busy := [w for w in pilot.app.workers if not w.is_finished]:
        with suppress(WorkerCancelled, WorkerFailed):  # a newer request replaced it
            await pilot.app.workers.wait_for_complete(busy)
        await pilot.pause()


async def loaded(pilot: Pilot[int]) -> None:
    screen = pilot.app.screen_stack[0]
    assert isinstance(screen, BrowseScreen)
    await settle(pilot)
    assert screen.query_one("#models", QuickTable).row_count > 0


def test_browse(snap_compare: SnapCompare, db: Db) -> None:
    assert snap_compare(make_app(qemu=QEMU), terminal_size=SIZE, run_before=loaded)


def test_browse_needs_filter(snap_compare: SnapCompare, db: Db) -> None:
    async def run_before(pilot: Pilot[int]) -> None:
        await loaded(pilot)
        await pilot.press("n", *keys("pdpe1gb la57"), "enter")

    assert snap_compare(make_app(qemu=QEMU), terminal_size=SIZE, run_before=run_before)


def test_browse_would_need(snap_compare: SnapCompare, db: Db) -> None:
    async def run_before(pilot: Pilot[int]) -> None:
        await loaded(pilot)
        await pilot.press("n", *keys("pdpe1gb"), "enter", "w")
        screen = pilot.app.screen_stack[0]
        assert isinstance(screen, BrowseScreen)
        await settle(pilot)
        assert screen.would is not None

    assert snap_compare(make_app(qemu=QEMU), terminal_size=SIZE, run_before=run_before)


def test_model(snap_compare: SnapCompare, db: Db) -> None:
    async def run_before(pilot: Pilot[int]) -> None:
        await loaded(pilot)
        await pilot.press("slash", *keys("Haswell-v4"), "enter", "enter")

    assert snap_compare(make_app(qemu=QEMU), terminal_size=SIZE, run_before=run_before)


def test_feature(snap_compare: SnapCompare, db: Db) -> None:
    async def run_before(pilot: Pilot[int]) -> None:
        await loaded(pilot)
        await pilot.press("f", *keys("pdpe1gb"), "enter")
        await settle(pilot)
        assert getattr(pilot.app.screen, "view", None) is not None

    assert snap_compare(make_app(qemu=QEMU), terminal_size=SIZE, run_before=run_before)


def test_compare(snap_compare: SnapCompare, db: Db) -> None:
    async def run_before(pilot: Pilot[int]) -> None:
        await loaded(pilot)
        await pilot.press("slash", *keys("Haswell-v4"), "enter", "enter", "p")
        await settle(pilot)
        assert getattr(pilot.app.screen, "diff", None) is not None

    assert snap_compare(make_app(qemu=QEMU), terminal_size=SIZE, run_before=run_before)


def test_advise(snap_compare: SnapCompare, db: Db) -> None:
    async def run_before(pilot: Pilot[int]) -> None:
        await loaded(pilot)
        await pilot.press("n", *keys("pdpe1gb"), "enter", "a")
        await settle(pilot)
        assert getattr(pilot.app.screen, "advice", None) is not None

    assert snap_compare(make_app(qemu=QEMU), terminal_size=SIZE, run_before=run_before)


def test_help(snap_compare: SnapCompare, db: Db) -> None:
    async def run_before(pilot: Pilot[int]) -> None:
        await loaded(pilot)
        await pilot.press("question_mark")

    assert snap_compare(make_app(qemu=QEMU), terminal_size=SIZE, run_before=run_before)


def test_browse_light_theme(snap_compare: SnapCompare, db: Db) -> None:
    async def run_before(pilot: Pilot[int]) -> None:
        await loaded(pilot)
        await pilot.press("t")

    assert snap_compare(make_app(qemu=QEMU), terminal_size=SIZE, run_before=run_before)
