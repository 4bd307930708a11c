"""What to do about a missing feature: the current model with the flag, the decision core's
answers for a guest that needs it, enforce, and what the host has to say about it. Pure:
release data in, sentences and `-cpu` lines out.
"""

from __future__ import annotations

from collections.abc import Sequence

from cpudb.decide.core import Need, choose
from cpudb.decide.offer import Offer
from cpudb.decide.rank import CatalogOffer
from cpudb.diagnose.guestcpu import GuestCpu
from cpudb.model import Release
from cpudb.record import Record


class HostView(Record):
    """The host's features in one release (`HostCpu.features_in`), reduced to what we need."""

    name: str
    present: frozenset[str]  # what KVM offers there (KVM-supplied features included)
    unknown: frozenset[str] = frozenset()
    phys_bits: int | None = None

    def has(self, feature: str) -> bool | None:
        if feature in self.present:
            return True
        if feature in self.unknown:
            return None
        return False

    def offer(self) -> Offer:
        return Offer(self.name, "kvm", self.present, self.unknown - self.present)


def providers(
    release: Release,
    feature: str,
    *,
    host: HostView | None = None,
    catalogue: Sequence[CatalogOffer] | None = None,
    linux_deps: Sequence[tuple[str, str]] = (),
    limit: int = 3,
) -> list[str]:
    """The decision core's first `-cpu` answers for a guest that needs `feature`: on the
    host when one is given (its `closest` ranking), else for the most real hosts (its
    `portable` ranking over the catalogue), as `cpudb advise --needs FEATURE` gives them."""
    f = release.feature(feature)
    if f is None:
        return []
    need = Need(feature, f.name, f.location, f.location)
    offers = (host.offer(),) if host is not None else ()
    choice = choose(release, (need,), offers=offers, catalogue=catalogue, linux_deps=linux_deps)
    seen: dict[str, str] = {}  # one answer per model: its best-ranked version
    for c in choice.candidates:
        seen.setdefault(c.model, c.cpu())
    return list(seen.values())[:limit]


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
