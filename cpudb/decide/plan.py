"""The flags to add to one CPU name so that a guest gets what it needs, or why not.

A flag is added only where every offer (each host under KVM, or TCG) has it, with what
it depends on (`cpudb.decide.deps`), and not across vendors: a feature that only models
of one vendor enable in the release (svm on AMD models, vmx on Intel ones) is not added
to another vendor's model unless asked (`cross_vendor`).
"""

from __future__ import annotations

from collections.abc import Sequence

from cpudb.decide.deps import Deps
from cpudb.decide.guest import GuestBuilder
from cpudb.decide.offer import Offer
from cpudb.model import CpuName, Release
from cpudb.record import Record

# Vendor strings -> vendor group for the vendor rule (Hygon's Dhyana is an AMD design).
VENDOR_GROUPS = {
    "GenuineIntel": "Intel",
    "AuthenticAMD": "AMD",
    "HygonGenuine": "AMD",
    "CentaurHauls": "Zhaoxin",
    "  Shanghai  ": "Zhaoxin",
}


def vendor_group(vendor: str) -> str:
    return VENDOR_GROUPS.get(vendor, vendor.strip() or "unknown")


def vendor_only(release: Release) -> dict[str, str]:
    """Feature -> vendor group, for features that models of only that vendor enable, at
    least two different models of it (one model alone is weak evidence: invtsc is only in
    Zhaoxin's YongFeng, la57 only in Icelake-Server in 7.2, yet both exist elsewhere)."""
    per_model: dict[tuple[str, str], set[str]] = {}
    for c in release.cpus:
        if c.kind in ("version", "model"):
            per_model.setdefault((vendor_group(c.vendor), c.model), set()).update(c.features)
    groups: dict[str, set[str]] = {}
    counts: dict[str, int] = {}
    for (g, _), feats in per_model.items():
        groups.setdefault(g, set()).update(feats)
        for f in feats:
            counts[f] = counts.get(f, 0) + 1
    out: dict[str, str] = {}
    for g, feats in groups.items():
        others = set().union(*(v for k, v in groups.items() if k != g))
        for f in feats - others:
            if counts[f] > 1:
                out[f] = g
    return out


class Add(Record):
    """A flag added to a CPU name, and why."""

    name: str
    why: str


class Planner:
    """Adds flags to CPU names for the needs, respecting dependencies, vendor, offers."""

    def __init__(
        self,
        release: Release,
        builder: GuestBuilder,
        offers: Sequence[Offer],
        deps: Deps,
        *,
        cross_vendor: bool = False,
    ) -> None:
        self.release = release
        self.builder = builder
        self.offers = tuple(offers)
        self.deps = deps
        self.vendor_rule = vendor_only(release)
        self.cross_vendor = cross_vendor

    def lacking(self, feature: str) -> list[str]:
        """Names of the offers that cannot give `feature`."""
        return [o.name for o in self.offers if o.lacks((feature,))]

    def why_not(self, feature: str, cpu: CpuName) -> str | None:
        """Why `feature` cannot be added to `cpu` (None: it can)."""
        if feature == self.deps.lm:
            return (
                f"{cpu.name} is a 32-bit CPU model: a flag does not make it a 64-bit one "
                "(pick an x86-64 model)"
            )
        owner = self.vendor_rule.get(feature)
        group = vendor_group(cpu.vendor)
        if owner and owner != group and not self.cross_vendor:
            return (
                f"{feature} is {owner}-only in QEMU {self.release.version} (only "
                f"{owner} models have it); --cross-vendor allows it"
            )
        lacking = self.lacking(feature)
        if lacking:
            return f"{', '.join(lacking)} cannot give {feature}"
        return None

    def unknown_on(self, feature: str) -> list[str]:
        """Offers whose data cannot tell whether they have `feature` (MSR bits, ...)."""
        return [o.name for o in self.offers if o.unsure((feature,))]

    def plan(
        self, cpu: CpuName, wanted: Sequence[tuple[str, str]], base: frozenset[str]
    ) -> tuple[list[Add], str | None]:
        """Flags to add so that the guest (`base`: what `cpu` gives it) has every wanted
        feature, or why that fails. `wanted`: (feature, why) in order."""
        adds: list[Add] = []
        if self.deps.lm is not None and self.deps.lm not in base:
            for f, _ in wanted:
                why = self.deps.needs_long_mode(f)
                if f == self.deps.lm:
                    return adds, "a 32-bit model: no lm"
                if why is not None:
                    return adds, f"no lm: {f} needs 64-bit mode"
        queue = [(f, why) for f, why in wanted if f not in base]
        while queue:
            f, why = queue.pop(0)
            if f in base or any(a.name == f for a in adds):
                continue
            bad = self.why_not(f, cpu)
            if bad:
                return adds, bad
            unsure = self.unknown_on(f)
            if unsure:
                why += (
                    f" (the data of {', '.join(unsure)} cannot tell whether it has "
                    f"{f}: with ,enforce QEMU checks when it starts)"
                )
            adds.append(Add(f, why))
            have = base | {a.name for a in adds}
            for requires, rule in self.deps.requirements(f, have):
                pick = next((r for r in requires if self.why_not(r, cpu) is None), None)
                if pick is None:
                    alts = " or ".join(requires)
                    reason = self.why_not(requires[0], cpu)
                    return adds, f"{f} needs {alts} ({rule}), and {reason}"
                queue.insert(0, (pick, rule))
        if not adds:
            return adds, None
        final = self.builder.guest(base, (a.name for a in adds))
        lost = [f for f, _ in wanted if f not in final]
        if lost:  # a dependency we could not see through; be explicit rather than wrong
            return adds, f"QEMU would still clear {', '.join(lost)}"
        return adds, None
