"""The real `cpudb tui` command in a real terminal (tmux): start, type a filter, read the
screen, quit with q and check the exit status."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

from cpudb.query import Db
from tests.conftest import need_tool

QEMU = "9.2.0"


def tmux(*args: str, check: bool = False) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["tmux", *args], capture_output=True, text=True, check=check)


def screen(session: str) -> str:
    return tmux("capture-pane", "-p", "-t", session).stdout


def wait_screen(session: str, pattern: str, timeout: float = 30) -> re.Match[str]:
    end = time.monotonic() + timeout
    text = ""
    while time.monotonic() < end:
        text = screen(session)
        m = re.search(pattern, text)
        if m:
            return m
        time.sleep(0.05)
    raise AssertionError(f"{pattern!r} never appeared; the screen was:\n{text}")


def test_real_command_filters_and_quits(db: Db, tmp_path: Path) -> None:
    need_tool("tmux", "apt-get install tmux")
    rel = db.release(QEMU)
    haswells = sorted(c.name for c in rel.cpus if "haswell" in c.name.lower())
    session = f"cpudb-test-{os.getpid()}"
    env = [f"-e{k}={v}" for k, v in os.environ.items() if k.startswith("CPUDB_")]
    # COLUMNS/LINES from the test runner would override the pane size; the shell that
    # runs the command writes its exit status to a file
    status = tmp_path / "status"
    cmd = f"env -u COLUMNS -u LINES {sys.executable} -m cpudb tui --qemu {QEMU}; echo $? > {status}"
    tmux("new-session", "-d", "-s", session, "-x", "100", "-y", "30", *env, cmd, check=True)
    try:
        total = len(rel.cpus)
        wait_screen(session, rf"QEMU {QEMU}: {total} of {total} CPU names")
        tmux("send-keys", "-t", session, "/")
        tmux("send-keys", "-t", session, "-l", "haswell")
        wait_screen(session, rf"QEMU {QEMU}: {len(haswells)} of {total} CPU names")
        text = screen(session)
        header = next(i for i, line in enumerate(text.splitlines()) if "CPU name" in line)
        rows = [ln.split()[0] for ln in text.splitlines()[header + 1 :] if ln.strip()]
        listed = [r for r in rows if r in {c.name for c in rel.cpus}]
        assert listed == haswells, text
        assert "haswell" in text  # the name box shows what was typed
        time.sleep(0.2)
        tmux("send-keys", "-t", session, "Escape")  # leave the box, so that q is a key
        time.sleep(0.5)
        tmux("send-keys", "-t", session, "q")
        end = time.monotonic() + 15
        while not status.exists() or not status.read_text().strip():
            assert time.monotonic() < end, f"q did not quit:\n{screen(session)}"
            time.sleep(0.05)
        assert status.read_text().strip() == "0"
    finally:
        tmux("kill-session", "-t", session)
