#!/usr/bin/env python3
"""Speed of `cpudb tui`, measured on a real terminal (tmux) as a person sees it.

1. first screen: from starting the command to the table of CPU names drawn (the status
   line "QEMU V: N of N CPU names" on screen), with the database already built;
2. filter keystroke: with the largest release (most CPU names) loaded, from a key typed
   in the name box to the table redrawn with the new count ("N of M" on screen). Keys
   alternate between a letter (the table shrinks) and Backspace (back to every name, the
   worst case: all rows added again).

Targets (issue 7): first screen <= 1.5 s, keystroke -> table <= 100 ms. The screen is read
with `tmux capture-pane` every ~2 ms, so figures include up to a few ms of polling. Wall
times depend on what else the machine runs, so the CPU time the TUI process used (from
/proc, 10 ms ticks) and the load average are printed too.
Needs tmux. BENCH_RUNS (default 5) startups; BENCH_KEYS letters (default "hsekvi").
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import subprocess
import sys
import time

RUNS = int(os.environ.get("BENCH_RUNS", "5"))
LETTERS = os.environ.get("BENCH_KEYS", "hsekvi")
STATUS = re.compile(r"QEMU (\S+): (\d+) of (\d+) CPU names")


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], capture_output=True, text=True, check=False).stdout


def screen(session: str) -> str:
    return tmux("capture-pane", "-p", "-t", session)


def wait_status(session: str, want: int | None, timeout: float = 20) -> tuple[float, str]:
    """Poll the screen until the status line shows `want` names (any count if None)."""
    end = time.perf_counter() + timeout
    while time.perf_counter() < end:
        m = STATUS.search(screen(session))
        if m and (want is None or int(m.group(2)) == want):
            return time.perf_counter(), m.group(0)
        time.sleep(0.002)
    raise SystemExit(f"timed out waiting for {want} names on:\n{screen(session)}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pane_pid(session: str) -> int:
    return int(tmux("list-panes", "-t", session, "-F", "#{pane_pid}").split()[0])


def start(session: str, args: list[str], env: dict[str, str]) -> float:
    envs = [f"-e{k}={v}" for k, v in env.items() if k.startswith("CPUDB_")]
    cmd = " ".join(["exec env -u COLUMNS -u LINES", sys.executable, "-m", "cpudb", "tui", *args])
    t0 = time.perf_counter()
    subprocess.run(
        ["tmux", "new-session", "-d", "-s", session, "-x", "100", "-y", "30", *envs, cmd],
        check=True,
    )
    return t0


def main() -> int:
    if shutil.which("tmux") is None:
        print("tui bench: tmux not installed (apt-get install tmux)")
        return 1
    from cpudb.query import open_db

    env = dict(os.environ)
    db = open_db()  # build the database first: the figure is a normal start, not the first
    infos = db.versions()
    largest = max(infos, key=lambda i: (i.cpu_count, i.version))
    names = [c.name for c in db.release(largest.version).cpus]
    session = f"cpudb-bench-{os.getpid()}"

    print(
        f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
        f"on {os.cpu_count()} CPUs"
    )
    firsts, cpus = [], []
    for _ in range(RUNS):
        t0 = start(session, [], env)
        try:
            t1, _ = wait_status(session, None)
            cpus.append(cpu_seconds(pane_pid(session)))
        finally:
            tmux("kill-session", "-t", session)
        firsts.append(t1 - t0)
    print(
        f"first screen drawn: median {statistics.median(firsts) * 1000:.0f} ms "
        f"(min {min(firsts) * 1000:.0f}, max {max(firsts) * 1000:.0f}; {RUNS} starts; "
        f"target <= 1500 ms); CPU used by then: median {statistics.median(cpus) * 1000:.0f} ms"
    )

    keys: list[tuple[str, float]] = []
    start(session, ["--qemu", largest.version], env)
    try:
        wait_status(session, len(names))
        pid = pane_pid(session)
        tmux("send-keys", "-t", session, "/")
        time.sleep(0.3)
        cpu0 = cpu_seconds(pid)
        for letter in LETTERS:
            for key, want in (
                (letter, sum(letter in n.lower() for n in names)),
                ("BSpace", len(names)),
            ):
                if want == len(names) and key != "BSpace":
                    continue  # the letter is in every name: nothing to see change
                t0 = time.perf_counter()
                tmux("send-keys", "-t", session, key)
                t1, _ = wait_status(session, want)
                keys.append((f"{key}->{want}", t1 - t0))
                time.sleep(0.1)
        cpu_per_key = (cpu_seconds(pid) - cpu0) / max(len(keys), 1)
    finally:
        tmux("send-keys", "-t", session, "Escape")
        time.sleep(0.2)
        tmux("send-keys", "-t", session, "q")
        time.sleep(0.3)
        tmux("kill-session", "-t", session)
    times = [t for _, t in keys]
    print(
        f"filter keystroke -> table updated, QEMU {largest.version} ({len(names)} CPU names): "
        f"median {statistics.median(times) * 1000:.0f} ms, max {max(times) * 1000:.0f} ms "
        f"over {len(times)} keys (target <= 100 ms); CPU per key {cpu_per_key * 1000:.0f} ms"
    )
    print("  " + ", ".join(f"{k} {t * 1000:.0f}" for k, t in keys))
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
