"""The shipped facts a decision takes beside the release and the hosts: Linux's CPUID
dependencies (data/linux-cpuid-deps.json) and, when no host is given under KVM, what KVM
offers on the catalogued real CPUs (data/cpu-catalog.json). `advise`, `diagnose` and
the TUI take them from here, so they give the same answers (`baseline` always has
hosts, so it takes Linux's dependencies alone, from `cpudb.linux_deps`)."""

from __future__ import annotations

from collections.abc import Sequence

TYPE_CHECKING = False  # typing costs ~4 ms to import: only type checkers read these
if TYPE_CHECKING:
    from typing import Any

    from cpudb.model import Release


def for_advice(
    release: Release, hosts: Sequence[object] = (), accel: str = "kvm"
) -> dict[str, Any]:
    """Keyword arguments for `cpudb.advise.advise` / `cpudb.decide.core.choose`."""
    from cpudb import cpus, linux_deps

    out: dict[str, Any] = {"linux_deps": linux_deps.pairs()}
    if not hosts and accel == "kvm":
        out["catalogue"] = cpus.offers(release)
    return out
