"""What a host CPU has, and which CPU models it can run under KVM.

A `HostCpu` is release-independent: the raw CPUID registers of CPU 0 (from a `cpuid`
dump or /dev/cpu/0/cpuid), or the CPUID bits /proc/cpuinfo can express, or QEMU's own
`host` model expansion. `HostCpu.features_in(release)` decodes it against one release's
catalogue; `blockers()` is the set inclusion test, with KVM's rules.

Everything here but `load_host` is pure (no I/O).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from cpudb.decide import kvm
from cpudb.decide.kvm import HYPERVISOR_RANGE as _HYPERVISOR_RANGE
from cpudb.decide.kvm import Bit
from cpudb.errors import NotFound, ParseError
from cpudb.model import SUBLEAF_LEAVES, CpuName, Feature, FeatureWord, Release
from cpudb.record import Record, field
from cpudb.resolve import feat2prop, with_accel
from cpudb.scrapers.cpuid_dump import CpuidDump, CpuidLeaf
from cpudb.versions import version_key

TYPE_CHECKING = False  # typing costs ~4 ms to import: only type checkers read these
if TYPE_CHECKING:
    from typing import Any, Literal

    from cpudb.decide.offer import Offer
    from cpudb.query import Db
    from cpudb.scrapers.cpuinfo import Cpuinfo
    from cpudb.scrapers.host_json import QmpAnswers

if TYPE_CHECKING:
    # libvirt: a host-model (QEMU's and KVM's view); libvirt-cpu: libvirt's host CPU
    # (`virsh capabilities`, the CPU's own CPUID, to which KVM's rules apply)
    HostKind = Literal["cpuid", "cpuinfo", "qmp", "kvm", "libvirt", "libvirt-cpu"]

FORMAT = 1
# `cpuid -r` of 1,024 CPUs is ~6 MiB, /proc/cpuinfo of as many ~2 MiB, `kubectl get
# nodes -o json` of 1,000 KubeVirt nodes ~40 MiB: more is not a host file
HOST_FILE_LIMIT = 64 << 20

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

AMD_VENDORS = kvm.AMD_VENDORS

# ------------------------------------------------------------------ dataclasses


class HostFeatures(Record):
    """One host decoded against one release's feature catalogue."""

    present: frozenset[str]  # QEMU canonical names of that release present on the host
    unknown: frozenset[str]  # names whose bits the source cannot tell (MSR words, missing rows)
    missing_leaves: tuple[str, ...]  # leaves within the CPU's range that the dump lacks
    kvm_supplied: frozenset[str] = frozenset()  # names KVM gives a guest anyway (not blockers)
    differing: frozenset[str] = frozenset()  # names whose bit differs between CPU 0 and others
    notes: tuple[str, ...] = ()
    # QEMU's own verdicts where the source has them (QMP unavailable-features, libvirt's
    # domcapabilities usable/blockers, KubeVirt's cpu-model labels): CPU name -> the
    # features QEMU said block it, () = usable. The decision core honours them.
    verdicts: tuple[tuple[str, tuple[str, ...]], ...] = ()


class HostCpu(Record):
    """A host CPU as a source tells it; decode with `features_in(release)`."""

    vendor: str
    family: int
    model: int
    stepping: int
    brand: str
    hypervisor: bool
    source: str  # e.g. "cpuid -1 -r dump intel-xeon-e5-2650-v3.cpuid"
    kind: HostKind = "cpuid"
    signature: int | None = None  # CPUID.1:EAX
    leaves: tuple[CpuidLeaf, ...] = ()  # cpuid: CPU 0's registers
    other_leaves: tuple[CpuidLeaf, ...] = ()  # cpuid: other CPUs' rows that differ from CPU 0
    cpu_count: int = 1
    bits: tuple[tuple[str, bool], ...] = ()  # cpuinfo: location -> set, where Linux shows it
    qemu_props: tuple[tuple[str, bool], ...] = ()  # qmp: `host` expansion
    qemu_unavailable: tuple[tuple[str, tuple[str, ...]], ...] = ()  # qmp: model -> features
    qemu_version: str = ""  # qmp: label of the binary (7.2.22-debian)
    msrs: tuple[tuple[int, int], ...] = ()  # kvm: feature MSR index -> value KVM allows
    # libvirt (domcapabilities host-model, capabilities host CPU, KubeVirt labels): its
    # model plus (True) or minus (False) features, libvirt's spellings; the verdicts are
    # in qemu_unavailable, libvirt's spellings too
    libvirt_model: str = ""
    libvirt_features: tuple[tuple[str, bool], ...] = ()
    notes: tuple[str, ...] = field(default=())

    # ------------------------------------------------------------ decoding

    def features_in(self, release: Release) -> HostFeatures:
        if self.kind == "qmp":
            return self._features_qmp(release)
        if self.kind == "cpuinfo":
            return self._features_cpuinfo(release)
        if self.kind in ("libvirt", "libvirt-cpu"):
            from cpudb.hostfiles import libvirt_features

            return libvirt_features(self, release)
        return self._features_cpuid(release)

    def _features_cpuid(self, release: Release) -> HostFeatures:
        regs = {(r.leaf, r.subleaf): r for r in self.leaves}
        ranges = _Ranges.of(regs, self.vendor)
        # KVM's own list is complete: a leaf it does not list gives the guest zeros
        exhaustive = self.kind == "kvm"
        msrs = dict(self.msrs)
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
            b = _word_bit(w, f.bit)
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
        differing = self._differing(release, words)
        notes = list(self.notes)
        if differing:
            notes.append(f"other CPUs differ from CPU 0 in: {' '.join(sorted(differing))}")
        if kvm.LM in has and kvm.SYSCALL not in has:
            # Intel reports SYSCALL only to 64-bit code: a dump taken by 32-bit code
            # (AIDA64 on Windows) shows it clear on every 64-bit CPU.
            has.add(kvm.SYSCALL)
            for f in release.features:
                w = words[f.word]
                if w.type == "cpuid" and w.leaf is not None and _word_bit(w, f.bit) == kvm.SYSCALL:
                    states[f.location] = "1"
            notes.append(
                "syscall reads as clear but lm is set: the dump was taken by 32-bit "
                "code (CPUID shows SYSCALL only in 64-bit mode); counted as present"
            )
        if missing:
            notes.append(
                f"leaves missing from the dump (their features are unknown): {', '.join(missing)}"
            )
        return _collect(release, states, has, self, tuple(missing), differing, notes)

    def _differing(self, release: Release, words: dict[str, FeatureWord]) -> frozenset[str]:
        if not self.other_leaves:
            return frozenset()
        base = {(r.leaf, r.subleaf): r for r in self.leaves}
        out = set()
        for f in release.features:
            w = words[f.word]
            if w.type != "cpuid" or w.leaf is None:
                continue
            leaf, sub, reg, bit = _word_bit(w, f.bit)
            mine = base.get((leaf, sub))
            for r in self.other_leaves:
                if (
                    (r.leaf, r.subleaf) == (leaf, sub)
                    and mine is not None
                    and (r.reg(reg) ^ mine.reg(reg)) >> bit & 1
                ):
                    out.add(f.name)
        return frozenset(out)

    def _features_cpuinfo(self, release: Release) -> HostFeatures:
        known = dict(self.bits)
        hidden: dict[str, str] = {}
        states: dict[str, str] = {}
        has: set[Bit] = set()
        words = {w.name: w for w in release.words}
        for f in release.features:
            w = words[f.word]
            if w.type != "cpuid" or w.leaf is None:
                states[f.location] = "?"
                continue
            b = _word_bit(w, f.bit)
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
        notes = list(self.notes)
        notes += [f"unknown, not absent: {why}" for why in hidden.values()]
        return _collect(release, states, has, self, (), frozenset(), notes)

    def _features_qmp(self, release: Release) -> HostFeatures:
        props = dict(self.qemu_props)
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
        if self.vendor != "AuthenticAMD" and version_key(self.qemu_version) >= version_key("9.1"):
            words = {w.name: w for w in release.words}
            hidden = {
                f.name
                for f in release.features
                if words[f.word].leaf == 0x80000007 and words[f.word].register == "ebx"
            }
            unknown |= hidden - present
        supplied = host_model_supplied(release, frozenset(present))
        notes = list(self.notes)
        if unknown:
            notes.append(
                f"{len(unknown)} features of QEMU {release.version} are unknown to the "
                f"QEMU binary that was asked ({self.qemu_version})"
            )
        return HostFeatures(
            frozenset(present),
            frozenset(unknown),
            (),
            frozenset(supplied),
            notes=tuple(notes),
            verdicts=self.qemu_unavailable,
        )

    # ------------------------------------------------------------ storage

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "format": FORMAT,
            "kind": self.kind,
            "source": self.source,
            "vendor": self.vendor,
            "family": self.family,
            "model": self.model,
            "stepping": self.stepping,
            "brand": self.brand,
            "hypervisor": self.hypervisor,
            "cpu_count": self.cpu_count,
        }
        if self.signature is not None:
            d["signature"] = f"{self.signature:#010x}"
        if self.leaves:
            d["cpuid"] = [_row_text(r) for r in self.leaves]
        if self.other_leaves:
            d["cpuid_other_cpus"] = [_row_text(r) for r in self.other_leaves]
        if self.bits:
            d["bits"] = {loc: on for loc, on in self.bits}
        if self.qemu_props or self.qemu_unavailable or self.qemu_version:
            d["qemu_props"] = {k: v for k, v in self.qemu_props}
            d["qemu_version"] = self.qemu_version
            d["qemu_unavailable"] = {k: list(v) for k, v in self.qemu_unavailable}
        if self.kind in ("libvirt", "libvirt-cpu"):
            d["libvirt_model"] = self.libvirt_model
            d["libvirt_features"] = {k: v for k, v in self.libvirt_features}
        if self.msrs:
            d["msrs"] = {f"{i:#x}": f"{v:#018x}" for i, v in self.msrs}
        if self.notes:
            d["notes"] = list(self.notes)
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any], name: str = "stored host") -> HostCpu:
        from cpudb.scrapers import cpuid_dump

        if d.get("format") != FORMAT:
            raise ParseError(
                f"{name}: stored host data of format {d.get('format')!r}, "
                f"this cpudb reads {FORMAT}",
                hint="remove it (`cpudb host rm NAME`) and add it again",
            )

        def rows(key: str) -> tuple[CpuidLeaf, ...]:
            text = "\n".join(d.get(key, ()))
            return cpuid_dump.parse(text, f"{name}:{key}").cpu0.leaves if text else ()

        sig = d.get("signature")
        return cls(
            vendor=d["vendor"],
            family=int(d["family"]),
            model=int(d["model"]),
            stepping=int(d["stepping"]),
            brand=d["brand"],
            hypervisor=bool(d["hypervisor"]),
            source=d["source"],
            kind=d["kind"],
            signature=int(sig, 16) if sig else None,
            leaves=rows("cpuid"),
            other_leaves=rows("cpuid_other_cpus"),
            cpu_count=int(d.get("cpu_count", 1)),
            bits=tuple(sorted(d.get("bits", {}).items())),
            qemu_props=tuple(sorted(d.get("qemu_props", {}).items())),
            qemu_unavailable=tuple(
                (k, tuple(v)) for k, v in sorted(d.get("qemu_unavailable", {}).items())
            ),
            qemu_version=d.get("qemu_version", ""),
            msrs=tuple(sorted((int(i, 16), int(v, 16)) for i, v in d.get("msrs", {}).items())),
            libvirt_model=d.get("libvirt_model", ""),
            libvirt_features=tuple(sorted(d.get("libvirt_features", {}).items())),
            notes=tuple(d.get("notes", ())),
        )


# ------------------------------------------------------------------ helpers


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


def _word_bit(w: FeatureWord, bit: int) -> Bit:
    leaf = int(w.leaf or 0)
    sub = w.subleaf if w.subleaf is not None else 0
    if leaf not in SUBLEAF_LEAVES:
        sub = 0
    return (leaf, sub, str(w.register), bit)


def _bit_location(b: Bit) -> str:
    leaf, sub, reg, bit = b
    s = f".{sub}" if leaf in SUBLEAF_LEAVES else ""
    return f"cpuid.{leaf:#x}{s}.{reg}.{bit}"


def _leaf_id(leaf: int, sub: int) -> str:
    return f"{leaf:#x}.{sub}" if leaf in SUBLEAF_LEAVES else f"{leaf:#x}"


def _row_text(r: CpuidLeaf) -> str:
    return (
        f"0x{r.leaf:08x} 0x{r.subleaf:02x}: eax=0x{r.eax:08x} ebx=0x{r.ebx:08x} "
        f"ecx=0x{r.ecx:08x} edx=0x{r.edx:08x}"
    )


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
    supplied_bits = kvm.supplied_bits(
        frozenset(has), host.vendor, host.family, from_kvm=host.kind == "kvm"
    )
    words = {w.name: w for w in release.words}
    supplied = {f.name for f in release.features if _supplied(f, words, supplied_bits)}
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


def raw_cpu_supplied(
    release: Release, present: frozenset[str], vendor: str, family: int
) -> frozenset[str]:
    """What KVM gives a guest beyond a CPU's own features (`cpudb.decide.kvm`), for a host
    known by feature names only (libvirt's host CPU)."""
    words = {w.name: w for w in release.words}
    has = frozenset(
        _word_bit(words[f.word], f.bit)
        for f in release.features
        if f.name in present and words[f.word].type == "cpuid" and words[f.word].leaf is not None
    )
    bits = kvm.supplied_bits(has, vendor, family, from_kvm=False)
    return frozenset(f.name for f in release.features if _supplied(f, words, bits)) - present


def host_model_supplied(release: Release, present: frozenset[str]) -> frozenset[str]:
    """What a named model gets under KVM although QEMU's `host` model (and libvirt's
    host-model, made from it) leaves it out: TOPOEXT, which the host model never
    auto-enables (feature_word_info's no_autoenable_flags)."""
    words = {w.name: w for w in release.words}
    return (
        frozenset(
            f.name
            for f in release.features
            if words[f.word].type == "cpuid" and _word_bit(words[f.word], f.bit) == kvm.TOPOEXT
        )
        - present
    )


def _supplied(f: Feature, words: dict[str, FeatureWord], bits: dict[Bit, str]) -> bool:
    w = words[f.word]
    if w.type != "cpuid" or w.leaf is None:
        return False
    return w.leaf in _HYPERVISOR_RANGE or _word_bit(w, f.bit) in bits


# ---------------------------------------------------------------- decisions


def offer(host: HostFeatures, name: str = "host", vendor: str = "") -> Offer:
    """What KVM offers a guest on this host (`cpudb.decide.offer`)."""
    from cpudb.decide.offer import kvm_offer

    return kvm_offer(name, vendor, host)


def blockers(
    release: Release, cpu: CpuName, host: HostFeatures, accel: str = "kvm"
) -> tuple[str, ...]:
    """Features `cpu` enables under `accel` (its defaults applied) that KVM on the host
    cannot give a guest (the decision core's rule: `Offer.lacks`). Unknown features are
    not blockers (callers report them apart: `unknown_of`); features KVM provides anyway
    (`HostFeatures.kvm_supplied`) are not either. Under TCG the host does not matter, so
    only the host's own features count."""
    if accel != "kvm":
        wanted = with_accel(release, cpu.features, accel)
        return tuple(sorted(wanted - host.present - host.unknown))
    from cpudb.decide.offer import name_blockers

    return name_blockers(release, cpu, offer(host))


def unknown_of(
    release: Release, cpu: CpuName, host: HostFeatures, accel: str = "kvm"
) -> tuple[str, ...]:
    """Features `cpu` enables whose presence the host's source cannot tell."""
    wanted = with_accel(release, cpu.features, accel)
    extra = host.kvm_supplied if accel == "kvm" else frozenset()
    return tuple(sorted((wanted & host.unknown) - host.present - extra))


class ModelFit(Record):
    name: str
    usable: bool
    blockers: tuple[str, ...]
    unknown: tuple[str, ...]
    alias_of: str | None = None


def model_fits(release: Release, host: HostFeatures, accel: str = "kvm") -> tuple[ModelFit, ...]:
    """Every CPU name of the release: usable, or its blockers (libvirt's `<blockers>`)."""
    out = []
    for c in release.cpus:
        b = blockers(release, c, host, accel)
        out.append(ModelFit(c.name, not b, b, unknown_of(release, c, host, accel), c.alias_of))
    return tuple(out)


def usable_models(release: Release, host: HostFeatures, accel: str = "kvm") -> tuple[str, ...]:
    return tuple(f.name for f in model_fits(release, host, accel) if f.usable)


def best_models(
    release: Release, cpu: HostCpu, host: HostFeatures, limit: int | None = 5
) -> tuple[str, ...]:
    """The host's vendor's CPU names with no blockers under KVM, ranked by the decision
    core's `closest` policy (fewest of the host's model features left out of the guest,
    then the newest version). Aliases and bare names are left out: they name the same
    features as their target."""
    from cpudb.decide.core import choose

    o = offer(host, cpu.brand or "host", cpu.vendor)
    names = tuple(c.name for c in choose(release, offers=(o,), vendors=(cpu.vendor,)).candidates)
    return names if limit is None else names[:limit]


def aliases_of(release: Release, name: str) -> tuple[str, ...]:
    """Other names of the same CPU (`Haswell-v2` -> `Haswell-noTSX`)."""
    return tuple(c.name for c in release.cpus if c.alias_of == name and c.kind == "alias")


# ---------------------------------------------------------------- building


def identify(leaves: Iterable[CpuidLeaf], file: str = "<dump>") -> dict[str, Any]:
    """Vendor, family/model/stepping (Linux/QEMU rule), brand and hypervisor bit."""
    regs = {(r.leaf, r.subleaf): r for r in leaves}
    for leaf, what in ((0, "vendor"), (1, "family/model/stepping")):
        if (leaf, 0) not in regs:
            raise ParseError(
                f"no CPUID leaf {leaf:#x} row: cannot tell the {what}",
                file=file,
                hint="give the whole `cpuid -1 -r` output",
            )
    v = regs[(0, 0)]
    vendor = b"".join(x.to_bytes(4, "little") for x in (v.ebx, v.edx, v.ecx))
    eax = regs[(1, 0)].eax
    family, model, stepping = signature_fms(eax)
    brand = ""
    ext = regs.get((0x80000000, 0))
    if (
        ext is not None
        and 0x80000004 <= ext.eax <= 0x8000FFFF
        and all((lf, 0) in regs for lf in (0x80000002, 0x80000003, 0x80000004))
    ):
        raw = b"".join(
            regs[(lf, 0)].reg(r).to_bytes(4, "little")
            for lf in (0x80000002, 0x80000003, 0x80000004)
            for r in ("eax", "ebx", "ecx", "edx")
        )
        brand = raw.split(b"\0", 1)[0].decode("latin-1").strip()
    return {
        "vendor": vendor.decode("latin-1"),
        "family": family,
        "model": model,
        "stepping": stepping,
        "brand": brand,
        "hypervisor": bool(regs[(1, 0)].ecx >> 31 & 1),
        "signature": eax,
    }


def signature_fms(eax: int) -> tuple[int, int, int]:
    """CPUID.1:EAX -> (family, model, stepping) as Linux and QEMU compute them: the
    extended family is added when the base family is 0xf; the extended model is the high
    nibble of the model when the family is 6 or more."""
    base_family = eax >> 8 & 0xF
    family = base_family + (eax >> 20 & 0xFF) if base_family == 0xF else base_family
    model = eax >> 4 & 0xF
    if family >= 6:
        model |= (eax >> 16 & 0xF) << 4
    return family, model, eax & 0xF


def from_dump(dump: CpuidDump, source: str) -> HostCpu:
    """A parsed `cpuid -r` / `cpuid -1 -r` dump (CPU 0 of it) -> HostCpu."""
    ident = identify(dump.cpu0.leaves, dump.file)
    others = dump.differing_rows()
    notes = []
    if len(dump.cpus) > 1:
        notes.append(f"the dump has {len(dump.cpus)} CPUs: CPU {dump.cpu0.index} is used")
    return HostCpu(
        source=source,
        kind="cpuid",
        leaves=dump.cpu0.leaves,
        other_leaves=others,
        cpu_count=len(dump.cpus),
        notes=tuple(notes),
        **ident,
    )


def from_cpuinfo(info: Cpuinfo, linux_map: dict[str, Any], source: str) -> HostCpu:
    """/proc/cpuinfo + data/linux-cpufeatures.json -> HostCpu (only CPUID bits Linux shows)."""
    cpu = info.cpu0
    bits = tuple(
        sorted(
            (loc, d["linux_name"] in cpu.flags)
            for loc, d in linux_map.get("locations", {}).items()
            if d.get("linux_name")
        )
    )
    notes = [
        f"/proc/cpuinfo flags mapped to CPUID bits with Linux "
        f"{linux_map.get('linux_version', '?')}'s cpufeatures.h; bits Linux hides or "
        f"clears are unknown or absent"
    ]
    diff = info.differing_flags()
    if diff:
        notes.append(
            f"{len(info.cpus)} CPUs, CPU {cpu.processor} used; flags differ between "
            f"CPUs: {' '.join(sorted(diff))}"
        )
    return HostCpu(
        vendor=cpu.vendor,
        family=cpu.family,
        model=cpu.model,
        stepping=cpu.stepping,
        brand=cpu.brand,
        hypervisor="hypervisor" in cpu.flags,
        source=source,
        kind="cpuinfo",
        cpu_count=len(info.cpus),
        bits=bits,
        notes=tuple(notes),
    )


def from_text(text: str, name: str, linux_map: dict[str, Any] | None = None) -> HostCpu:
    """A file's text: a raw CPUID dump, or /proc/cpuinfo (needs `linux_map`)."""
    from cpudb.scrapers import cpuid_dump, cpuinfo

    if not cpuid_dump.looks_like_dump(text) and cpuinfo.looks_like_cpuinfo(text):
        if linux_map is None:
            raise NotFound(
                "no Linux flag map (data/linux-cpufeatures.json)", hint="reinstall cpudb"
            )
        return from_cpuinfo(cpuinfo.parse(text, name), linux_map, f"/proc/cpuinfo text {name}")
    seen = _DUMPS.get(text)
    if seen is None:
        dump = cpuid_dump.parse(text, name)
        multi = len(dump.cpus) > 1 or re.search(r"^CPU \d+:", text, re.M)
        seen = ("cpuid -r" if multi else "cpuid -1 -r", from_dump(dump, ""))
        if len(_DUMPS) < 4096:
            _DUMPS[text] = seen
    from cpudb.record import replace

    return replace(seen[1], source=f"{seen[0]} dump {name}")


# `cpuid -1 -r` dumps of one CPU model are byte-identical from host to host (CPU 0's APIC
# ids are 0): a fleet's copies are parsed and identified once per process
_DUMPS: dict[str, tuple[str, HostCpu]] = {}


def same_reading(cpu: HostCpu) -> tuple:
    """What decodes alike (`features_in`), source and notes aside: a fleet's identical
    CPUs are decoded once. Plain tuples, which hash in C."""
    return (
        cpu.kind, cpu.vendor, cpu.family, cpu.model, cpu.stepping, cpu.leaves,
        cpu.other_leaves, cpu.bits, cpu.qemu_props, cpu.qemu_unavailable, cpu.qemu_version,
        cpu.msrs, cpu.libvirt_model, cpu.libvirt_features, cpu.hypervisor,
    )  # fmt: skip


# ------------------------------------------------------------------ loading (I/O)


def linux_flag_map() -> dict[str, Any]:
    """data/linux-cpufeatures.json, read once per process (a fleet reads it per file)."""
    if _FLAG_MAP:
        return _FLAG_MAP[0]
    _FLAG_MAP.append(_read_flag_map())
    return _FLAG_MAP[0]


_FLAG_MAP: list[dict[str, Any]] = []


def _read_flag_map() -> dict[str, Any]:
    import json

    from cpudb.paths import shipped_data_dir

    p = shipped_data_dir() / "linux-cpufeatures.json"
    if not p.exists():
        return {}
    return dict(json.loads(p.read_text(encoding="utf-8")))


def load_host(spec: str, db: Db | None = None) -> HostCpu:
    """One host (`load_hosts`, which see); a file of several hosts is an error here."""
    hosts = load_hosts(spec, db)
    if len(hosts) > 1:
        names = [n for n, _ in hosts]
        raise ParseError(
            f"{spec}: {len(hosts)} hosts ({', '.join(names[:5])}{', ...' * (len(names) > 5)})",
            hint="`cpudb baseline` and `cpudb pools` take them all; for one, save it alone",
        )
    return hosts[0][1]


def load_hosts(spec: str, db: Db | None = None) -> list[tuple[str, HostCpu]]:
    """spec: a stored host NAME, a FILE (every format `cpudb.hostfiles` reads, by
    content; a KubeVirt node list holds many hosts), a catalogued CPU ("Xeon Gold 6148",
    data/cpu-catalog.json), "-" (stdin), "this-host" (what KVM gives a guest on this
    machine, asked of KVM; the CPU's own CPUID when /dev/kvm is not usable), "this-cpu"
    (this machine's CPUID), "kvm" (KVM only) or "qmp" (ask QEMU under KVM here)."""
    from pathlib import Path

    from cpudb.errors import SourceError
    from cpudb.hostfiles import WHAT, read
    from cpudb.textinput import read_small

    if spec == "-":
        return read(read_small("-", HOST_FILE_LIMIT, WHAT), "<stdin>")
    if spec in ("this-host", "--this-host"):
        return [("this-host", this_host())]
    if spec in ("kvm", "--kvm"):
        return [("kvm", kvm_host(kvm_device() or "/dev/kvm"))]
    if spec == "this-cpu":
        from cpudb.scrapers import live_host

        return [(spec, from_live(live_host.capture()))]
    if spec in ("qmp", "--qmp"):
        return [("qmp", qmp_host())]
    p = Path(spec)
    if p.is_file():
        return read(read_small(spec, HOST_FILE_LIMIT, WHAT), p.name)
    stored = _stored(spec, db)
    if stored is not None:
        return [(spec, stored)]
    if p.exists():
        raise SourceError(f"{spec}: not a file", hint="give a `cpuid -1 -r` dump file")
    from cpudb import cpus

    catalogued = cpus.lookup(spec)
    if catalogued is not None:
        return [(spec, catalogued)]
    several = cpus.matches(spec)
    if several:
        raise NotFound(
            f"{spec!r} names {len(several)} catalogued CPUs: {', '.join(several[:8])}"
            + (", ..." if len(several) > 8 else ""),
            hint="give one of them (`cpudb host list --catalogue` lists every one)",
        )
    raise NotFound(
        f"no file and no stored host or catalogued CPU named {spec!r}",
        hint="`cpudb host list` shows stored hosts (--catalogue: the catalogued real CPUs); "
        "or give a `cpuid -1 -r` dump, - for stdin, or --this-host",
    )


def _stored(name: str, db: Db | None) -> HostCpu | None:
    from cpudb import hoststore

    h = hoststore.get(name)
    return HostCpu.from_json(h["data"], f"stored host {name!r}") if h else None


def from_live(cap: Any) -> HostCpu:  # cap: scrapers.live_host.LiveCapture
    if cap.dump is not None:
        h = from_dump(cap.dump, cap.source)
    else:
        h = from_cpuinfo(cap.cpuinfo, linux_flag_map(), cap.source)
    if cap.tried:
        from cpudb.record import replace

        h = replace(h, notes=(*h.notes, *cap.tried))
    return h


def this_host() -> HostCpu:
    """What a guest can get on this machine: KVM's own answer when /dev/kvm is usable,
    else the CPU's CPUID (what a KVM would start from), with a note saying so."""
    from cpudb.errors import SourceError
    from cpudb.scrapers import live_host

    dev = kvm_device()
    why = "no usable /dev/kvm"
    if dev is not None:
        try:
            return kvm_host(dev)
        except SourceError as e:
            why = e.message
    h = from_live(live_host.capture())
    from cpudb.record import replace

    note = f"{why}: read the CPU's own CPUID; a KVM here may give a guest less"
    return replace(h, notes=(*h.notes, note))


def kvm_device() -> str | None:
    """This machine's KVM device when it can be opened (`CPUDB_KVM` names another;
    empty: act as if there were none, as the test suite does to stay machine-neutral)."""
    import os

    path = os.environ.get("CPUDB_KVM", "/dev/kvm")
    if not path.strip() or not os.access(path, os.R_OK | os.W_OK):
        return None
    return path


def kvm_host(path: str = "/dev/kvm") -> HostCpu:
    """Ask KVM itself (KVM_GET_SUPPORTED_CPUID and its feature MSRs): what it can give a
    guest on this machine, which on a host that is itself a VM is far less than CPUID."""
    from cpudb.scrapers import kvm_cpuid, live_host

    cap = kvm_cpuid.capture(path)
    regs = {(r.leaf, r.subleaf): r for r in cap.leaves}
    ident = identify(cap.leaves, path)
    hyper = live_host.hypervisor_bit()
    module = f" ({cap.module})" if cap.module else ""
    notes = [
        f"asked KVM{module} through KVM_GET_SUPPORTED_CPUID on {path}: what it can give a "
        f"guest on this machine, {len(cap.msrs)} feature MSRs included"
    ]
    if hyper:
        notes.append(
            "this machine is itself a virtual machine (hypervisor bit set): its KVM "
            "(nested or PVM) can give a guest less than its CPU has"
        )
    leaf1 = regs.get((1, 0))
    return HostCpu(
        vendor=ident["vendor"],
        family=ident["family"],
        model=ident["model"],
        stepping=ident["stepping"],
        brand=ident["brand"] or _cpuinfo_brand(),
        hypervisor=bool(hyper),
        source=f"KVM_GET_SUPPORTED_CPUID on {path}{module}",
        kind="kvm",
        signature=leaf1.eax if leaf1 else None,
        leaves=cap.leaves,
        msrs=cap.msrs,
        notes=tuple(notes),
    )


def _cpuinfo_brand() -> str:
    """CPU 0's `model name` (KVM's CPUID has no brand string leaves)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
                if not line.strip():
                    break
    except OSError:
        pass
    return ""


def qmp_host(binary: str | None = None) -> HostCpu:
    """Ask QEMU under KVM: the `host` model expansion and each model's unavailable features."""
    from cpudb.scrapers import host_json, live_host

    q = live_host.qmp_host(binary)
    hyper = live_host.hypervisor_bit()
    notes = [
        f"asked {q.binary} ({q.label}) under KVM: the `host` model expansion is what KVM "
        f"allows a guest on this machine"
    ]
    if hyper is None:
        notes.append("the hypervisor bit of this machine could not be read")
    return from_qmp(
        host_json.answers(q.props, q.unavailable),
        f"QMP query-cpu-model-expansion host, {q.label} under KVM",
        hypervisor=bool(hyper),
        qemu_version=q.label,
        notes=notes,
    )


def from_qmp(
    q: QmpAnswers,
    source: str,
    *,
    hypervisor: bool = False,
    qemu_version: str = "",
    notes: Iterable[str] = (),
) -> HostCpu:
    """QEMU's own answers (asked here, or pasted from `virsh qemu-monitor-command`)."""
    values = dict(q.values)
    said = list(notes)
    if not q.props:
        said.append(
            "no host expansion in the QMP answers: only QEMU's verdicts per model are known"
        )
    return HostCpu(
        vendor=values.get("vendor", ""),
        family=_int(values.get("family")),
        model=_int(values.get("model")),
        stepping=_int(values.get("stepping")),
        brand=values.get("model-id", "").strip(),
        hypervisor=hypervisor,
        source=source,
        kind="qmp",
        qemu_props=q.props,
        qemu_unavailable=q.unavailable,
        qemu_version=qemu_version,
        notes=tuple(said),
    )


def _int(v: object) -> int:
    return int(v) if isinstance(v, (int, str)) else 0
