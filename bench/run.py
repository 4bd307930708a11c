#!/usr/bin/env python3
"""cpudb's database and command-line speed targets, measured side by side (`make bench`
also runs bench/parse_bench.py and bench/tui_bench.py).

Commands are measured by the median CPU time of their process over BENCH_RUNS runs,
against `python -c "import sqlite3"` measured the same way in the same run.
"""

from __future__ import annotations

import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUNS = int(os.environ.get("BENCH_RUNS", "15"))


def median_run(cmd: list[str], env: dict[str, str], runs: int = RUNS) -> float:
    """Median CPU time (user + system) of the command's process. CPU time, not wall time:
    on a shared 2-core machine other load stretches wall time but barely CPU time."""
    times = []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run(
            cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False
        )
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        times.append((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))
    return statistics.median(times)


def machine_speed() -> float:
    """CPU seconds of a fixed pure-Python loop: this shared VM's speed drifts by 1.5x or more
    over minutes, so absolute figures are quoted with this reference beside them."""
    t = time.process_time()
    sum(range(3 * 10**7))
    return time.process_time() - t


def main() -> int:
    print(f"machine reference (sum(range(3e7))): {machine_speed():.2f} s CPU")
    tmp = Path(tempfile.mkdtemp(prefix="cpudb-bench-"))
    # an installed package has its bytecode compiled; this machine sets
    # PYTHONDONTWRITEBYTECODE, which would time the compiler instead of cpudb
    repo = Path(__file__).resolve().parent.parent
    for d in ("cpudb", "scrapers", "tui"):
        subprocess.run(
            [sys.executable, "-m", "compileall", "-q", str(repo / d)],
            check=False,
            stdout=subprocess.DEVNULL,
            env=dict(os.environ, PYTHONDONTWRITEBYTECODE=""),
        )
    # machine-neutral (no installed QEMU, no KVM) unless a case asks for this machine
    env = dict(
        os.environ,
        CPUDB_DB=str(tmp / "bench.sqlite"),
        CPUDB_USER_DIR=str(tmp / "user"),
        CPUDB_QEMU_BINARY="",
        CPUDB_KVM="",
    )
    cpudb = shutil.which("cpudb") or "cpudb"
    t = time.perf_counter()
    subprocess.run([cpudb, "db", "rebuild"], env=env, check=True, stdout=subprocess.DEVNULL)
    build = time.perf_counter() - t
    size = (tmp / "bench.sqlite").stat().st_size / 1e6
    print(
        f"db rebuild (all shipped snapshots, whole command): {build:.2f} s (target <= 2 s); "
        f"file {size:.1f} MB (target <= 50 MB)"
    )
    cases = [
        (["show", "Haswell"], 2.0),
        (["models", "--has", "pdpe1gb"], 2.0),
        (["advise", "--needs", "pdpe1gb"], 2.0),
        (["diff", "--qemu", "10.2.0", "11.0.0"], None),
    ]
    cmds = {"baseline": [sys.executable, "-c", "import sqlite3"]}
    # the same advice on this machine: the installed QEMU's release, and KVM asked
    here = [sys.executable, "-c", "import os, sys; os.environ.pop('CPUDB_QEMU_BINARY'); "
            "os.environ.pop('CPUDB_KVM'); from cpudb.cli import main; "
            "sys.exit(main(['advise', '--needs', 'pdpe1gb']))"]  # fmt: skip
    here_key = "advise --needs pdpe1gb, this machine (installed QEMU, /dev/kvm asked)"
    for args, _ in cases:
        r = subprocess.run([cpudb, *args], env=env, capture_output=True, check=False)
        if r.returncode in (0, 1):
            cmds[" ".join(args)] = [cpudb, *args]
        else:
            print(f"cpudb {' '.join(args)}: not available ({r.stderr.decode().strip()[:80]})")
    cmds[here_key] = here
    # interleaved: each round runs every command once, so drift hits all of them alike
    samples: dict[str, list[float]] = {k: [] for k in cmds}
    for _ in range(RUNS):
        for k, cmd in cmds.items():
            samples[k].append(median_run(cmd, env, runs=1))
    base = statistics.median(samples["baseline"])
    print(f"baseline python -c 'import sqlite3': {base * 1000:.0f} ms CPU (median of {RUNS})")
    for args, ratio in cases:
        key = " ".join(args)
        if key not in samples:
            continue
        m = statistics.median(samples[key])
        target = f"target <= {ratio:.0f}x" if ratio else "target <= 300 ms"
        print(f"cpudb {key}: {m * 1000:.0f} ms CPU = {m / base:.2f}x baseline ({target})")
    m = statistics.median(samples[here_key])
    print(f"cpudb {here_key}: {m * 1000:.0f} ms CPU = {m / base:.2f}x baseline (target <= 3x)")
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
