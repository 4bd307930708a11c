"""The features a CPU name gives a guest under an accelerator, as QEMU builds them."""

from __future__ import annotations

from collections.abc import Iterable

from cpudb.model import CpuName, Release
from cpudb.resolve import name_index


class GuestBuilder:
    """A CPU name's features -> the guest's: the accelerator's defaults (KVM: x2apic on,
    svm/monitor off, kvmclock...; TCG: vme off), the user's flags, QEMU's
    `feature_dependencies[]`, and no paravirt KVM words outside KVM. The same as
    `resolve.with_accel`, with the accelerator's props indexed once."""

    def __init__(self, release: Release, accel: str | None) -> None:
        self.release = release
        self.accel = accel
        on: set[str] = set()
        off: set[str] = set()
        if accel:
            idx = name_index(release.features)
            for name, value in release.default_props(accel):
                canon = idx.get(name)
                if canon is None:
                    continue
                (on if value in ("on", "true") else off).add(canon)
                (off if value in ("on", "true") else on).discard(canon)
        self.deps = [(frozenset(d.requires), frozenset(d.clears)) for d in release.dependencies]
        self.on = frozenset(on)
        self.off = frozenset(off)
        self.not_here = frozenset(
            f.name for f in release.features if accel and accel != "kvm" and f.word == "FEAT_KVM"
        )

    def guest(self, features: frozenset[str], adds: Iterable[str] = ()) -> frozenset[str]:
        """Model features -> accel defaults -> user flags -> feature_dependencies[]
        (one pass, in order, as `resolve.apply_dependencies`)."""
        feats = set(features)
        if self.accel:
            feats = (feats - self.off) | self.on
        feats.update(adds)
        for requires, clears in self.deps:
            if requires.isdisjoint(feats):
                feats -= clears
        out = frozenset(feats)
        return out - self.not_here if self.not_here else out


def model_features(release: Release) -> frozenset[str]:
    """Features some CPU model of the release enables: what a guest model is made of
    (host-only bits such as ht, ds, tm, acpi describe the host, not a guest)."""
    out: set[str] = set()
    for c in release.cpus:
        out |= c.features
    return frozenset(out)


def candidate_names(release: Release) -> list[tuple[CpuName, tuple[str, ...]]]:
    """(versioned or table CPU name, the aliases and bare names that resolve to it)."""
    aka: dict[str, list[str]] = {}
    for c in release.cpus:
        if c.alias_of:
            aka.setdefault(c.alias_of, []).append(c.name)
    return [(c, tuple(aka.get(c.name, ()))) for c in release.cpus if c.kind in ("version", "model")]
