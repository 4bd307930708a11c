"""Does a real QEMU start with this `-cpu`? The proof of an advised answer.

QEMU is started paused (`-S`) on a PC machine with nothing attached, its monitor on
stdin reading `quit`: a CPU that `enforce` refuses makes QEMU exit 1 with its own
message before the monitor runs; one it accepts reaches the monitor and quits (0).
"""

from __future__ import annotations

import subprocess

from cpudb.errors import SourceError
from cpudb.record import Record


class Started(Record):
    cpu: str
    accel: str
    started: bool
    message: str  # QEMU's last stderr line when it refused ('' when it started)
    warnings: tuple[str, ...]  # QEMU's warnings (features it dropped without enforce)


def try_start(binary: str, cpu: str, accel: str, timeout: float = 60.0) -> Started:
    cmd = [binary, "-accel", accel, "-cpu", cpu, "-machine", "pc", "-S", "-nodefaults",
           "-display", "none", "-serial", "none", "-monitor", "stdio"]  # fmt: skip
    try:
        r = subprocess.run(
            cmd, input="quit\n", capture_output=True, text=True, timeout=timeout, check=False
        )
    except FileNotFoundError as e:
        raise SourceError(f"{binary}: not found", hint="apt-get install qemu-system-x86") from e
    except subprocess.TimeoutExpired as e:
        raise SourceError(f"{binary} -cpu {cpu}: no answer in {timeout:.0f}s") from e
    lines = [ln.strip() for ln in r.stderr.splitlines() if ln.strip()]
    warnings = tuple(ln for ln in lines if "warning:" in ln)
    started = r.returncode == 0
    message = "" if started else (lines[-1] if lines else f"exit status {r.returncode}")
    return Started(cpu, accel, started, message, warnings)
