"""What to do about a missing feature: CPU names that have it, the added-flag form, enforce,
and what the host has to say about it. Pure: release data in, sentences and `-cpu` lines out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from cpudb.diagnose.guestcpu import GuestCpu
from cpudb.model import CpuName, Release

# Features a model may carry that KVM provides whatever the host CPUID says.
_KVM_PROVIDED = frozenset({"hypervisor", "x2apic", "tsc-deadline", "kvmclock"})


@dataclass(frozen=True)
class HostView:
    """The host's features in one release (from `cpudb.host`), reduced to what we need."""

    name: str
    present: frozenset[str]
    unknown: frozenset[str] = frozenset()
    phys_bits: int | None = None

    def has(self, feature: str) -> bool | None:
        if feature in self.present:
            return True
        if feature in self.unknown:
            return None
        return False


def _kvm_words(release: Release) -> frozenset[str]:
    words = {w.name for w in release.words if w.name.startswith(("FEAT_KVM", "FEAT_HYPERV"))}
    return frozenset(f.name for f in release.features if f.word in words)


def blockers(cpu: CpuName, host: HostView, release: Release) -> frozenset[str]:
    """Features of `cpu` that the host does not have (unknown ones are not counted)."""
    free = _KVM_PROVIDED | _kvm_words(release)
    return frozenset(cpu.features - host.present - host.unknown - free)


def model_newness(releases: Iterable[Release]) -> dict[str, int]:
    """Model name -> index of the first upstream release (oldest first) that has it."""
    from cpudb.versions import version_key

    out: dict[str, int] = {}
    ups = sorted((r for r in releases if r.upstream), key=lambda r: version_key(r.version))
    for i, r in enumerate(ups):
        for m in r.models:
            out.setdefault(m.name, i)
    return out


def providers(
    release: Release,
    feature: str,
    *,
    vendor: str | None = None,
    current: frozenset[str] | None = None,
    host: HostView | None = None,
    newness: Mapping[str, int] | None = None,
    limit: int = 3,
) -> list[str]:
    """CPU names of `release` with `feature` natively: one per model (its newest version that
    has it, and that runs on `host` when given). Same vendor first, then the models that lose
    the fewest features of the `current` one, then the newest (by first QEMU release).
    When the current model is unknown, the oldest models come first instead (the most
    hosts can run them), Intel before AMD when the vendor is unknown too."""
    newness = newness or {}
    table_pos: dict[str, int] = {}
    best: dict[str, CpuName] = {}
    for i, c in enumerate(release.cpus):
        if c.kind not in ("version", "model") or feature not in c.features:
            continue
        if host is not None and blockers(c, host, release):
            continue
        table_pos.setdefault(c.model, i)
        cur = best.get(c.model)
        if cur is None or (c.version or 0) > (cur.version or 0):
            best[c.model] = c

    prefer = vendor or "GenuineIntel"

    def key(c: CpuName) -> tuple:
        age = newness.get(c.model, 0)
        return (
            c.vendor != prefer,
            len(current - c.features - {feature}) if current is not None else 0,
            c.deprecation_note is not None,
            -age if current is not None else age,
            -table_pos[c.model] if current is not None else table_pos[c.model],
        )

    return [c.name for c in sorted(best.values(), key=key)[:limit]]


def flag_forms(feature: str, cpu: GuestCpu | None) -> list[str]:
    """`-cpu CURRENT,feature=on` and the same with `enforce`."""
    if cpu is not None and cpu.is_host:
        return []
    if cpu is None or cpu.name is None:
        return [f"-cpu <your model>,{feature}=on", f"-cpu <your model>,{feature}=on,enforce"]
    plain = "-cpu " + cpu.arg.with_flag(feature)
    enforced = "-cpu " + cpu.arg.with_flag(feature, enforce=True)
    return [plain] if plain == enforced else [plain, enforced]


def host_caveat(
    feature: str,
    *,
    accel: str | None,
    host: HostView | None,
    reported_missing: int | None,
    linux_name: str | None = None,
) -> tuple[str, bool | None]:
    """One sentence on whether the host can back the fix, and True/False/None (unknown)."""
    if accel == "tcg":
        return (
            f"under TCG QEMU emulates the CPU, so the host CPU does not matter for "
            f"{feature}; TCG must support it though (QEMU warns 'TCG doesn't support "
            "requested feature' otherwise)"
        ), None
    if host is not None:
        has = host.has(feature)
        if has:
            return (f"host {host.name} has {feature}, so KVM can give it to the guest"), True
        if has is None:
            return (
                f"the host dump {host.name} lacks the CPUID leaf of {feature}: cannot tell "
                "whether the host has it"
            ), None
        return (
            f"host {host.name} lacks {feature}: under KVM no -cpu choice gives it to the "
            "guest there; QEMU drops it with a warning (with enforce it refuses to start). "
            "Use a host that has it, or TCG (-accel tcg, slow)"
        ), False
    if reported_missing is not None:
        return (
            f"the log (line {reported_missing}) says this host (KVM) does not offer "
            f"{feature}: the fixes above work only on a host that has it; with enforce QEMU "
            "refuses to start instead of dropping it"
        ), False
    name = linux_name or feature
    return (
        f"under KVM the host must offer {feature} too (check `grep -w {name} "
        "/proc/cpuinfo`; nested and PVM hosts may still hide it from KVM); without "
        "enforce QEMU drops a feature the host lacks with only a warning. "
        "`--host DUMP` checks a host"
    ), None
