"""`cpudb diagnose`: from a KVM/QEMU failure log to the missing CPU feature and the fix.

    logparse   text -> events with line numbers (internal errors, register dumps,
               kvm/kvmmmu trace lines, QEMU and libvirt messages, the command line)
    registers  CR0/CR3/CR4/EFER decoded; which CR4/EFER bits need which CPUID feature
    paging     reserved bits of each paging level (SDM vol. 3 ch. 4, APM vol. 2 ch. 5)
    guestcpu   a `-cpu` argument resolved against one release
    fixes      CPU names with a feature, `-cpu X,feat=on`, enforce, the host caveat
    reason     findings with evidence and an explanation chain; notes when the log
               does not support a conclusion
    report     JSON and text

All pure; the command (`cpudb/commands/diagnose.py`) reads the file and the database.
"""

from __future__ import annotations

from collections.abc import Sequence

from cpudb.decide.rank import CatalogOffer
from cpudb.diagnose.fixes import HostView
from cpudb.diagnose.logparse import parse
from cpudb.diagnose.reason import Diagnosis, Finding, build_context, diagnose
from cpudb.model import Release

__all__ = ["Diagnosis", "Finding", "HostView", "diagnose_text"]


def diagnose_text(
    text: str,
    release: Release,
    *,
    source: str = "<log>",
    cpu_arg: str | None = None,
    host: HostView | None = None,
    catalogue: Sequence[CatalogOffer] | None = None,
    linux_deps: Sequence[tuple[str, str]] = (),
    notes: tuple[str, ...] = (),
) -> Diagnosis:
    """Parse a log and reason about it against one release."""
    log = parse(text, source)
    ctx = build_context(
        log,
        release,
        cpu_arg=cpu_arg,
        host=host,
        catalogue=catalogue,
        linux_deps=linux_deps,
        notes=notes,
    )
    return diagnose(log, ctx)
