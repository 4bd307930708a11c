"""What a diagnosis is made of, and the facts every reasoner asks about the guest CPU.

`Claim` is one reasoner's conclusion (a feature, its evidence lines and its reasoning);
`reason.diagnose` merges claims per feature into `Finding`s and adds the fixes. The
helpers answer "did the guest have feature X?" from the configured `-cpu`, the host, and
QEMU's own warnings in the log. Pure.
"""

from __future__ import annotations

from collections.abc import Sequence

import cpudb.diagnose.events as lp
import cpudb.diagnose.fixes as fx
from cpudb.decide.rank import CatalogOffer
from cpudb.diagnose.guestcpu import GuestCpu
from cpudb.diagnose.registers import GuestState, guest_state
from cpudb.model import Feature, Release
from cpudb.names import FeatureNames
from cpudb.record import Record, field

# page-fault error code bits, as kvm_mmu_trace_pferr_flags prints them
PFERR = {0: "P", 1: "W", 2: "U", 3: "RSVD", 4: "F", 5: "PK", 6: "SS"}
RSVD = 1 << 3
# findings that are not a CPUID feature but a -cpu property
PHYS_BITS = "phys-bits"
HOST_PHYS_BITS = "host-phys-bits"


def pferr_text(code: int) -> str:
    return "|".join(n for b, n in PFERR.items() if code >> b & 1) or "0 (not present)"


class Evidence(Record):
    line: int
    text: str


class Finding(Record):
    feature: str  # QEMU name in the chosen release, or "phys-bits" / "host-phys-bits"
    location: str | None  # cpuid.0x80000001.edx.26
    cpuid: str | None  # CPUID.80000001H:EDX[26]
    kinds: tuple[str, ...]
    evidence: tuple[Evidence, ...]
    chain: tuple[str, ...]
    certainty: str  # "certain" or "likely"
    provides: tuple[str, ...] = ()
    fixes: tuple[str, ...] = ()
    host: str = ""
    host_has: bool | None = None
    libvirt: tuple[str, ...] = ()
    advice: tuple[str, ...] = ()  # what the fixes alone do not say
    # "cause": the log shows the failure it made (a fault, a refusal to start);
    # "note": QEMU dropped it, but nothing in the log shows the guest used it
    role: str = "cause"

    @property
    def explanation(self) -> str:
        return "; ".join(self.chain) + "."


class Context(Record):
    release: Release
    names: FeatureNames
    cpu: GuestCpu | None
    accel: str | None
    machine: str | None = None
    host: fx.HostView | None = None
    catalogue: Sequence[CatalogOffer] | None = None  # for the portable ranking of fixes
    linux_deps: tuple[tuple[str, str], ...] = ()
    notes: tuple[str, ...] = ()


class Diagnosis(Record):
    source: str
    release: str
    findings: tuple[Finding, ...]
    notes: tuple[str, ...]
    recognised: dict[str, int]
    state: tuple[str, ...]  # decoded registers, one line each
    cpu: GuestCpu | None
    machine: str | None
    accel: str | None


class Claim(Record):
    key: str  # feature name, or PHYS_BITS / HOST_PHYS_BITS
    kind: str
    evidence: list[Evidence]
    chain: list[str]
    certain: bool = True
    host_lacks_line: int | None = None
    fixes: list[str] = field(default_factory=list)  # for phys-bits claims


def model_has(ctx: Context, feature: str) -> bool | None:
    """Whether the configured -cpu gives `feature` (None: unknown, or host/max without --host)."""
    if ctx.cpu is None:
        return None
    if ctx.cpu.is_host:
        return ctx.host.has(feature) if ctx.host else None
    return ctx.cpu.has(feature)


def has(log: lp.Log, ctx: Context, feature: str) -> bool | None:
    """Whether the guest really got `feature`: configured, and not dropped for the host."""
    has = model_has(ctx, feature)
    if has and ctx.accel != "tcg" and host_dropped(log, ctx, feature):
        return False
    return has


def cpu_label(ctx: Context) -> str:
    if ctx.cpu is None:
        return "the guest CPU"
    return f"-cpu {ctx.cpu.arg.text}"


def feature_at(ctx: Context, location: str) -> Feature | None:
    return ctx.names.by_location.get(location)


def describe(ctx: Context, f: Feature) -> str:
    word = ctx.release.word(f.word)
    return word.describe(f.bit) if word else f.location


def internal_evidence(log: lp.Log) -> list[Evidence]:
    return [Evidence(e.line, e.text) for e in log.of(lp.InternalError)][:1]


def host_warning_line(log: lp.Log, name: str) -> int | None:
    for e in log.of(lp.FeatureWarning):
        if e.accel == "host" and e.name is not None and e.name.replace("_", "-") == name:
            return e.line
    return None


def host_dropped(log: lp.Log, ctx: Context, name: str) -> bool:
    return host_warning_line(log, name) is not None or (
        ctx.host is not None and ctx.host.has(name) is False
    )


def lacks_chain(log: lp.Log, ctx: Context, name: str) -> list[str]:
    has = model_has(ctx, name)
    line = host_warning_line(log, name)
    if has is False:
        return [f"the guest CPU here lacks it ({cpu_label(ctx)} has no {name})"]
    if has is None:
        why = "the fault shows the guest CPU here lacks it"
        if ctx.cpu is not None and ctx.cpu.is_host:
            why += (
                f" (-cpu {ctx.cpu.arg.model} passes the host's features: the host or KVM lacks it)"
            )
        return [why]
    if line is not None:
        return [
            f"{cpu_label(ctx)} has {name}, but QEMU dropped it because the host does not "
            f"offer it (line {line}), so the guest CPU here lacks it"
        ]
    if ctx.host is not None and ctx.host.has(name) is False:
        return [
            f"{cpu_label(ctx)} has {name}, but host {ctx.host.name} lacks it, so under "
            "KVM the guest CPU here lacks it"
        ]
    return [
        f"{cpu_label(ctx)} has {name}, yet the guest CPU here lacked it: QEMU drops a "
        "feature the host (KVM) does not offer, with only a warning; check the host, or "
        "that the log comes from this configuration"
    ]


def state_near(log: lp.Log, line: int) -> tuple[GuestState | None, lp.RegisterDump | None]:
    """The register dump closest to `line` (the one after an internal error comes first)."""
    dumps = log.of(lp.RegisterDump)
    if not dumps:
        return None, None
    dump = min(dumps, key=lambda d: abs(d.line - line))
    return guest_state(dump.regs), dump


def dump_evidence(dump: lp.RegisterDump | None) -> list[Evidence]:
    if dump is None:
        return []
    return [
        Evidence(n, t.strip())
        for n, t in dump.lines
        if any(k in t for k in ("CR0=", "EFER=", "EIP=", "RIP="))
    ]
