#!/usr/bin/env python3
"""Huge input (issue 13.5): time and peak memory of refusing or reading files far bigger
than any real dump or log. Goal: under 300 MB for any input, and fast refusal of a file
that is not what it claims.

  random-200M.bin      200 MB of random bytes given to `host` and to `diagnose`
  text-200M.txt        200 MB of printable noise with no newline (one endless line)
  trace-100M.log       a real KVM trace (tests/fixtures/logs/real/kvm-1g-default-trace.log)
                       whose benign lines repeat to 100 MB, the crash at the end
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
REAL = REPO / "tests" / "fixtures" / "logs" / "real" / "kvm-1g-default-trace.log"
MB = 1 << 20


def make_inputs(d: Path) -> dict[str, Path]:
    rnd = d / "random-200M.bin"
    with open(rnd, "wb") as fh:
        for _ in range(200):
            fh.write(os.urandom(MB))
    txt = d / "text-200M.txt"
    with open(txt, "wb") as fh:
        block = (b"abcdefghij klmnopqrst " * 50000)[:MB]
        for _ in range(200):
            fh.write(block)
    lines = REAL.read_text().splitlines()
    head, trace = lines[:2], lines[2:]
    crash = [i for i, ln in enumerate(trace) if "kvm_mmu_pagetable_walk" in ln][-1]
    benign, tail = trace[:crash], trace[crash:]
    log = d / "trace-100M.log"
    with open(log, "w") as fh:
        fh.write("\n".join(head) + "\n")
        size = 0
        block = "\n".join(benign) + "\n"
        while size < 100 * MB:
            fh.write(block)
            size += len(block)
        fh.write("\n".join(tail) + "\n")
    return {"random": rnd, "text": txt, "trace": log}


def measure(cmd: list[str]) -> tuple[float, float, int, str]:
    """Wall seconds, peak RSS (MB) of the child, exit status, last stderr/stdout line."""
    t0 = time.monotonic()
    r = subprocess.run(
        ["/usr/bin/env", *cmd], capture_output=True, text=True, check=False,
        env={**os.environ, "CPUDB_QEMU_BINARY": "", "CPUDB_KVM": ""},
    )  # fmt: skip
    wall = time.monotonic() - t0
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    said = (r.stderr.strip() or r.stdout.strip()).splitlines()
    return wall, rss, r.returncode, (said[0] if said else "")[:110]


def main() -> None:
    cpudb = [sys.executable, "-m", "cpudb"]
    with tempfile.TemporaryDirectory() as tmp:
        f = make_inputs(Path(tmp))
        runs = [
            ("host random-200M.bin", [*cpudb, "host", str(f["random"])]),
            ("diagnose random-200M.bin", [*cpudb, "diagnose", str(f["random"])]),
            ("diagnose text-200M.txt", [*cpudb, "diagnose", str(f["text"])]),
            ("diagnose trace-100M.log", [*cpudb, "diagnose", str(f["trace"]), "--json"]),
        ]
        print(f"{'command':<28} {'wall s':>7} {'peak MB':>8} {'exit':>4}  says")
        # ru_maxrss of RUSAGE_CHILDREN is the largest child so far: run the small ones first
        for name, cmd in runs:
            wall, rss, code, said = measure(cmd)
            print(f"{name:<28} {wall:7.2f} {rss:8.0f} {code:>4}  {said}")
        print("(peak MB: the largest child process so far, goal < 300)")


if __name__ == "__main__":
    main()
