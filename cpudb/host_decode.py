"""Decoding a `HostCpu` against one release's catalogue: the CPUID back-end (a dump or
KVM's own list), the /proc/cpuinfo back-end and the QMP back-end (libvirt's view is
`cpudb.host_libvirt`). Pure (no I/O)."""

from __future__ import annotations

from collections.abc import Iterable

from cpudb.decide import kvm
from cpudb.decide.kvm import HYPERVISOR_RANGE as _HYPERVISOR_RANGE
from cpudb.decide.kvm import Bit
from cpudb.host_features import HostFeatures
from cpudb.host_kvm import host_model_supplied, supplied_names, word_bit
from cpudb.model import SUBLEAF_LEAVES, FeatureWord, Release
from cpudb.record import Record
from cpudb.resolve import feat2prop
from cpudb.scrapers.cpuid_dump import CpuidLeaf
from cpudb.versions import version_key

TYPE_CHECKING = False  # typing costs ~4 ms to import: only type checkers read these
if TYPE_CHECKING:
    from cpudb.host_cpu import HostCpu

# Vendors whose 0xC000xxxx leaves are real (elsewhere they echo the highest basic leaf).
CENTAUR_VENDORS = frozenset({"CentaurHauls", "  Shanghai  "})
# Leaves whose subleaf 0 EAX is the highest valid subleaf.
_MAX_SUBLEAF_IN_EAX = frozenset({0x7, 0x14, 0x1E, 0x24})
# Leaves that only mean something when a CPUID.1/7 bit says the feature exists: without
# it the leaf is reserved (zeros), and a dump lacking it lacks nothing.
_LEAF_GATES: dict[int, tuple[int, int, str, int]] = {
    0xD: (0x1, 0, "ecx", 26),  # XSAVE
    0x12: (0x7, 0, "ebx", 2),  # SGX
    0x14: (0x7, 0, "ebx", 25),  # Intel PT
    0x24: (0x7, 1, "edx", 19),  # AVX10
}


def decode(cpu: HostCpu, release: Release) -> HostFeatures:
    """`HostCpu.features_in`: the back-end for the host's kind."""
    if cpu.kind == "qmp":
        return features_qmp(cpu, release)
    if cpu.kind == "cpuinfo":
        return features_cpuinfo(cpu, release)
    if cpu.kind in ("libvirt", "libvirt-cpu"):
        from cpudb.host_libvirt import libvirt_features

        return libvirt_features(cpu, release)
    return features_cpuid(cpu, release)


def features_cpuid(cpu: HostCpu, release: Release) -> HostFeatures:
    regs = {(r.leaf, r.subleaf): r for r in cpu.leaves}
    ranges = _Ranges.of(regs, cpu.vendor)
    # KVM's own list is complete: a leaf it does not list gives the guest zeros
    exhaustive = cpu.kind == "kvm"
    msrs = dict(cpu.msrs)
    states: dict[str, str] = {}  # location -> "1" | "0" | "?"
    has: set[Bit] = set()
    missing: dict[str, None] = {}
    words = {w.name: w for w in release.words}
    for f in release.features:
        w = words[f.word]
        if w.type == "msr" and w.msr is not None and (w.msr in msrs or (exhaustive and msrs)):
            # KVM lists every feature MSR it has: one it does not list gives nothing
            states[f.location] = "1" if msrs.get(w.msr, 0) >> f.bit & 1 else "0"
            continue
        if w.type != "cpuid" or w.leaf is None:
            states[f.location] = "?"
            continue
        b = word_bit(w, f.bit)
        status = ranges.status(b[0], b[1], regs)
        if exhaustive and status == "missing":
            status = "absent"
        if status == "row":
            on = bool(regs[(b[0], b[1])].reg(b[2]) >> b[3] & 1)
            states[f.location] = "1" if on else "0"
            if on:
                has.add(b)
        elif status == "missing":
            states[f.location] = "?"
            missing[_leaf_id(b[0], b[1])] = None
        else:
            states[f.location] = "0"
    for b in kvm.RULE_BITS:
        if ranges.status(b[0], b[1], regs) == "row" and regs[b[:2]].reg(b[2]) >> b[3] & 1:
            has.add(b)
    differing = _differing(cpu, release, words)
    notes = list(cpu.notes)
    if differing:
        notes.append(f"other CPUs differ from CPU 0 in: {' '.join(sorted(differing))}")
    if kvm.LM in has and kvm.SYSCALL not in has:
        # Intel reports SYSCALL only to 64-bit code: a dump taken by 32-bit code
        # (AIDA64 on Windows) shows it clear on every 64-bit CPU.
        has.add(kvm.SYSCALL)
        for f in release.features:
            w = words[f.word]
            if w.type == "cpuid" and w.leaf is not None and word_bit(w, f.bit) == kvm.SYSCALL:
                states[f.location] = "1"
        notes.append(
            "syscall reads as clear but lm is set: the dump was taken by 32-bit "
            "code (CPUID shows SYSCALL only in 64-bit mode); counted as present"
        )
    if missing:
        notes.append(
            f"leaves missing from the dump (their features are unknown): {', '.join(missing)}"
        )
    return _collect(release, states, has, cpu, tuple(missing), differing, notes)


def _differing(cpu: HostCpu, release: Release, words: dict[str, FeatureWord]) -> frozenset[str]:
    if not cpu.other_leaves:
        return frozenset()
    base = {(r.leaf, r.subleaf): r for r in cpu.leaves}
    out = set()
    for f in release.features:
        w = words[f.word]
        if w.type != "cpuid" or w.leaf is None:
            continue
        leaf, sub, reg, bit = word_bit(w, f.bit)
        mine = base.get((leaf, sub))
        for r in cpu.other_leaves:
            if (
                (r.leaf, r.subleaf) == (leaf, sub)
                and mine is not None
                and (r.reg(reg) ^ mine.reg(reg)) >> bit & 1
            ):
                out.add(f.name)
    return frozenset(out)


def features_cpuinfo(cpu: HostCpu, release: Release) -> HostFeatures:
    known = dict(cpu.bits)
    hidden: dict[str, str] = {}
    states: dict[str, str] = {}
    has: set[Bit] = set()
    words = {w.name: w for w in release.words}
    for f in release.features:
        w = words[f.word]
        if w.type != "cpuid" or w.leaf is None:
            states[f.location] = "?"
            continue
        b = word_bit(w, f.bit)
        loc = _bit_location(b)
        if loc not in known:
            states[f.location] = "?"
        elif known[loc]:
            states[f.location] = "1"
            has.add(b)
        elif b in kvm.CPUINFO_HIDES:
            states[f.location] = "?"
            hidden[f.name] = kvm.CPUINFO_HIDES[b]
        else:
            states[f.location] = "0"
    has |= {b for b in kvm.RULE_BITS if known.get(_bit_location(b))}
    notes = list(cpu.notes)
    notes += [f"unknown, not absent: {why}" for why in hidden.values()]
    return _collect(release, states, has, cpu, (), frozenset(), notes)


def features_qmp(cpu: HostCpu, release: Release) -> HostFeatures:
    props = dict(cpu.qemu_props)
    present, unknown = set(), set()
    for f in release.features:
        keys = (f.name, feat2prop(f.name), *f.aliases, *(feat2prop(a) for a in f.aliases))
        hit = next((props[k] for k in keys if k in props), None)
        if hit is None:
            unknown.add(f.name)
        elif hit:
            present.add(f.name)
    unknown -= present
    # QEMU 9.1+ zeroes CPUID 0x80000007 EBX (AMD machine-check: succor, overflow-recov)
    # in the `host` expansion of a non-AMD CPU, yet checks named models against what KVM
    # supports there (x86_cpu_get_supported_feature_word(NULL, w)): the expansion cannot
    # tell, so these are unknown rather than blockers.
    if cpu.vendor != "AuthenticAMD" and version_key(cpu.qemu_version) >= version_key("9.1"):
        words = {w.name: w for w in release.words}
        hidden = {
            f.name
            for f in release.features
            if words[f.word].leaf == 0x80000007 and words[f.word].register == "ebx"
        }
        unknown |= hidden - present
    supplied = host_model_supplied(release, frozenset(present))
    notes = list(cpu.notes)
    if unknown:
        notes.append(
            f"{len(unknown)} features of QEMU {release.version} are unknown to the "
            f"QEMU binary that was asked ({cpu.qemu_version})"
        )
    return HostFeatures(
        frozenset(present),
        frozenset(unknown),
        (),
        frozenset(supplied),
        notes=tuple(notes),
        verdicts=cpu.qemu_unavailable,
    )


class _Ranges(Record):
    max_basic: int
    max_ext: int
    max_centaur: int
    max_hv: int

    @classmethod
    def of(cls, regs: dict[tuple[int, int], CpuidLeaf], vendor: str) -> _Ranges:
        def top(leaf: int) -> int:
            r = regs.get((leaf, 0))
            # a valid range answer is within its own range (else it echoes another leaf)
            return r.eax if r is not None and leaf <= r.eax <= leaf + 0xFFFF else 0

        basic = regs[(0, 0)].eax if (0, 0) in regs else 0
        return cls(
            basic,
            top(0x80000000),
            top(0xC0000000) if vendor in CENTAUR_VENDORS else 0,
            top(0x40000000),
        )

    def status(self, leaf: int, sub: int, regs: dict[tuple[int, int], CpuidLeaf]) -> str:
        """'row' (bits readable), 'absent' (the CPU has no such leaf), 'missing' (the dump
        lacks a row the CPU should have: unknown)."""
        if leaf in _HYPERVISOR_RANGE:
            top = self.max_hv
        elif leaf >= 0xC0000000:
            top = self.max_centaur
        elif leaf >= 0x80000000:
            top = self.max_ext
        else:
            top = self.max_basic
        if not top or leaf > top:
            return "absent"
        if sub and leaf in _MAX_SUBLEAF_IN_EAX and (leaf, 0) in regs and sub > regs[(leaf, 0)].eax:
            return "absent"
        if (leaf, sub) in regs:
            return "row"
        gate = _LEAF_GATES.get(leaf)
        if gate is not None:
            g = regs.get(gate[:2])
            if g is not None and not g.reg(gate[2]) >> gate[3] & 1:
                return "absent"
        return "absent" if leaf in _HYPERVISOR_RANGE else "missing"


def _bit_location(b: Bit) -> str:
    leaf, sub, reg, bit = b
    s = f".{sub}" if leaf in SUBLEAF_LEAVES else ""
    return f"cpuid.{leaf:#x}{s}.{reg}.{bit}"


def _leaf_id(leaf: int, sub: int) -> str:
    return f"{leaf:#x}.{sub}" if leaf in SUBLEAF_LEAVES else f"{leaf:#x}"


def _collect(
    release: Release,
    states: dict[str, str],
    has: Iterable[Bit],
    host: HostCpu,
    missing: tuple[str, ...],
    differing: frozenset[str],
    notes: list[str],
) -> HostFeatures:
    """Location states -> names. A name is present when any of its locations is set (old
    releases name the AMD alias bits like their CPUID.1 twins), unknown when none is set
    and one cannot be told."""
    present: set[str] = set()
    maybe: set[str] = set()
    for f in release.features:
        s = states.get(f.location, "?")
        if s == "1":
            present.add(f.name)
        elif s == "?":
            maybe.add(f.name)
    supplied = supplied_names(
        release, frozenset(has), host.vendor, host.family, from_kvm=host.kind == "kvm"
    )
    words = {w.name: w for w in release.words}
    unknown = maybe - present
    msr = len({f.name for f in release.features if words[f.word].type == "msr"} & unknown)
    if msr:
        notes.append(
            f"{msr} MSR-based features (e.g. arch-capabilities bits, vmx-*) cannot be "
            f"read from {'/proc/cpuinfo' if host.kind == 'cpuinfo' else 'CPUID'}: "
            f"unknown, not absent"
        )
    return HostFeatures(
        frozenset(present),
        frozenset(unknown),
        missing,
        frozenset(supplied - present),
        differing,
        tuple(notes),
    )
