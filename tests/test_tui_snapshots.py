"""SVG snapshots of the main screens at 80x24 (pixels second: the Pilot tests assert behaviour).

The release is pinned (9.2.0) so that new snapshots in data/ do not change the pictures.
Update after an intended change: pytest tests/test_tui_snapshots.py --snapshot-update
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from cpudb.tui.app import make_app
from cpudb.tui.browse import BrowseScreen
from textual.keys import _character_to_key
from textual.pilot import Pilot

SIZE = (80, 24)
QEMU = "9.2.0"


async def until(pilot: Pilot, cond: Callable[[], Any], timeout: float = 20) -> None:
    end = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < end, "timed out"
        await pilot.pause(0.02)


def keys(text: str) -> list[str]:
    return [_character_to_key(ch) for ch in text]


async def loaded(pilot: Pilot) -> None:
    screen = pilot.app.screen_stack[0]
    assert isinstance(screen, BrowseScreen)
    await until(pilot, lambda: screen.updates > 0)


def test_browse(snap_compare, db) -> None:
    assert snap_compare(make_app(qemu=QEMU), terminal_size=SIZE, run_before=loaded)


def test_browse_needs_filter(snap_compare, db) -> None:
    async def run_before(pilot: Pilot) -> None:
        await loaded(pilot)
        await pilot.press("n", *keys("pdpe1gb la57"), "enter")

    assert snap_compare(make_app(qemu=QEMU), terminal_size=SIZE, run_before=run_before)


def test_browse_would_need(snap_compare, db) -> None:
    async def run_before(pilot: Pilot) -> None:
        await loaded(pilot)
        await pilot.press("n", *keys("pdpe1gb"), "enter", "w")
        screen = pilot.app.screen_stack[0]
        await until(pilot, lambda: screen.would is not None)

    assert snap_compare(make_app(qemu=QEMU), terminal_size=SIZE, run_before=run_before)


def test_model(snap_compare, db) -> None:
    async def run_before(pilot: Pilot) -> None:
        await loaded(pilot)
        await pilot.press("slash", *keys("Haswell-v4"), "enter", "enter")

    assert snap_compare(make_app(qemu=QEMU), terminal_size=SIZE, run_before=run_before)


def test_feature(snap_compare, db) -> None:
    async def run_before(pilot: Pilot) -> None:
        await loaded(pilot)
        await pilot.press("f", *keys("pdpe1gb"), "enter")
        await until(pilot, lambda: getattr(pilot.app.screen, "view", None) is not None)

    assert snap_compare(make_app(qemu=QEMU), terminal_size=SIZE, run_before=run_before)


def test_compare(snap_compare, db) -> None:
    async def run_before(pilot: Pilot) -> None:
        await loaded(pilot)
        await pilot.press("slash", *keys("Haswell-v4"), "enter", "enter", "p")
        await until(pilot, lambda: getattr(pilot.app.screen, "diff", None) is not None)

    assert snap_compare(make_app(qemu=QEMU), terminal_size=SIZE, run_before=run_before)


def test_advise(snap_compare, db) -> None:
    async def run_before(pilot: Pilot) -> None:
        await loaded(pilot)
        await pilot.press("n", *keys("pdpe1gb"), "enter", "a")
        await until(pilot, lambda: getattr(pilot.app.screen, "advice", None) is not None)

    assert snap_compare(make_app(qemu=QEMU), terminal_size=SIZE, run_before=run_before)


def test_help(snap_compare, db) -> None:
    async def run_before(pilot: Pilot) -> None:
        await loaded(pilot)
        await pilot.press("question_mark")

    assert snap_compare(make_app(qemu=QEMU), terminal_size=SIZE, run_before=run_before)


def test_browse_light_theme(snap_compare, db) -> None:
    async def run_before(pilot: Pilot) -> None:
        await loaded(pilot)
        await pilot.press("t")

    assert snap_compare(make_app(qemu=QEMU), terminal_size=SIZE, run_before=run_before)
