"""Driving the TUI headless in tests: run a scenario, wait for its workers, read what it shows.

No tests here: the pilot tests are tests/test_tui_browse.py, test_tui_screens.py and
test_tui_app.py.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from contextlib import suppress
from typing import Any

from cpudb.tui.app import CpudbApp, make_app
from cpudb.tui.browse import BrowseScreen
from cpudb.tui.quick_table import QuickTable
from textual.keys import _character_to_key
from textual.pilot import Pilot
from textual.widgets import DataTable, Static
from textual.worker import WorkerCancelled, WorkerFailed

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
