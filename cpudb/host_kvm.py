"""KVM's rules in a release's names: a feature's CPUID bit, and which features KVM gives
a guest beyond the host's own bits (`cpudb.decide.kvm` holds the rules by bit)."""

from __future__ import annotations

from cpudb.decide import kvm
from cpudb.decide.kvm import HYPERVISOR_RANGE as _HYPERVISOR_RANGE
from cpudb.decide.kvm import Bit
from cpudb.model import SUBLEAF_LEAVES, Feature, FeatureWord, Release


def word_bit(w: FeatureWord, bit: int) -> Bit:
    """The CPUID bit (leaf, subleaf, register, bit) of bit `bit` of a CPUID word."""
    leaf = int(w.leaf or 0)
    sub = w.subleaf if w.subleaf is not None else 0
    if leaf not in SUBLEAF_LEAVES:
        sub = 0
    return (leaf, sub, str(w.register), bit)


def supplied_names(
    release: Release, has: frozenset[Bit], vendor: str, family: int, *, from_kvm: bool
) -> frozenset[str]:
    """The release's names of the bits KVM gives a guest on a host with the bits `has`."""
    words = {w.name: w for w in release.words}
    bits = kvm.supplied_bits(has, vendor, family, from_kvm=from_kvm)
    return frozenset(f.name for f in release.features if _supplied(f, words, bits))


def raw_cpu_supplied(
    release: Release, present: frozenset[str], vendor: str, family: int
) -> frozenset[str]:
    """What KVM gives a guest beyond a CPU's own features (`cpudb.decide.kvm`), for a host
    known by feature names only (libvirt's host CPU)."""
    words = {w.name: w for w in release.words}
    has = frozenset(
        word_bit(words[f.word], f.bit)
        for f in release.features
        if f.name in present and words[f.word].type == "cpuid" and words[f.word].leaf is not None
    )
    return supplied_names(release, has, vendor, family, from_kvm=False) - present


def host_model_supplied(release: Release, present: frozenset[str]) -> frozenset[str]:
    """What a named model gets under KVM although QEMU's `host` model (and libvirt's
    host-model, made from it) leaves it out: TOPOEXT, which the host model never
    auto-enables (feature_word_info's no_autoenable_flags)."""
    words = {w.name: w for w in release.words}
    return (
        frozenset(
            f.name
            for f in release.features
            if words[f.word].type == "cpuid" and word_bit(words[f.word], f.bit) == kvm.TOPOEXT
        )
        - present
    )


def _supplied(f: Feature, words: dict[str, FeatureWord], bits: dict[Bit, str]) -> bool:
    w = words[f.word]
    if w.type != "cpuid" or w.leaf is None:
        return False
    return w.leaf in _HYPERVISOR_RANGE or word_bit(w, f.bit) in bits
