"""QEMU's and libvirt's own messages: features QEMU dropped (host, TCG, dependencies),
libvirt's CPU checks, and the phys-bits warnings and errors. Pure."""

from __future__ import annotations

import cpudb.diagnose.events as lp
from cpudb.diagnose.findings import (
    HOST_PHYS_BITS,
    PHYS_BITS,
    Claim,
    Context,
    Evidence,
    describe,
    feature_at,
)
from cpudb.diagnose.guestcpu import parse_cpu_arg
from cpudb.errors import NotFound
from cpudb.model import Feature
from cpudb.resolve import missing_requirements


def _warning_feature(ctx: Context, w: lp.FeatureWarning) -> Feature | None:
    if w.name:
        try:
            return ctx.names.lookup(w.name)
        except NotFound:
            pass
    if w.msr is not None:
        return feature_at(ctx, f"msr.{w.msr:#x}.{w.bit}")
    if w.leaf is None or w.register is None:
        return None
    if w.subleaf is not None:
        return feature_at(ctx, f"cpuid.{w.leaf:#x}.{w.subleaf}.{w.register}.{w.bit}")
    hits = [
        f
        for f in ctx.release.features
        if (wd := ctx.release.word(f.word)) is not None
        and wd.type == "cpuid"
        and wd.leaf == w.leaf
        and wd.register == w.register
        and f.bit == w.bit
    ]
    return hits[0] if len(hits) == 1 else None


def warning_claims(log: lp.Log, ctx: Context, notes: list[str]) -> list[Claim]:
    claims: list[Claim] = []
    refused = log.of(lp.FeaturesRefused)
    for w in log.of(lp.FeatureWarning):
        f = _warning_feature(ctx, w)
        if f is None:
            where = f"MSR {w.msr:#x}" if w.msr is not None else f"CPUID leaf {w.leaf or 0:#x}"
            if w.name:
                notes.append(
                    f"line {w.line}: QEMU dropped {w.name} ({where} bit {w.bit}), which QEMU "
                    f"{ctx.release.version} does not know: pass --qemu with the release that "
                    "printed it"
                )
            else:
                what = " (an XSAVE state component: it follows from the features that use it)"
                notes.append(
                    f"line {w.line}: QEMU dropped {where} bit {w.bit}, a bit without a feature "
                    f"name{what if w.leaf == 0xD else ''}"
                )
            continue
        cpuid = describe(ctx, f)
        ev = [Evidence(w.line, w.text)]
        end = (
            "QEMU then refused to start (enforce)"
            if refused
            else "QEMU removed it from the guest CPU and started anyway"
        )
        if refused:
            ev.append(Evidence(refused[0].line, refused[0].text))
        if w.accel == "host":
            chain = [f"QEMU asked KVM for {f.name} ({cpuid}) and the host does not offer it", end]
            claims.append(Claim(f.name, "qemu-host", ev, chain, True, host_lacks_line=w.line))
        elif w.accel == "TCG":
            chain = [
                f"QEMU's TCG accelerator does not emulate {f.name} ({cpuid}) in this build",
                end,
                "under KVM the guest can have it when the host has it",
            ]
            claims.append(Claim(f.name, "qemu-tcg", ev, chain, True))
        else:
            have = ctx.cpu.features if ctx.cpu and ctx.cpu.features is not None else frozenset()
            reqs = missing_requirements(f.name, have, ctx.release.dependencies)
            need = " and ".join(" or ".join(r) for r in reqs) or "another feature"
            chain = [
                f"{f.name} ({cpuid}) was requested but depends on {need}, which the guest "
                "CPU does not have",
                end,
            ]
            fixes = []
            if reqs and ctx.cpu is not None and ctx.cpu.name is not None:
                arg = ctx.cpu.arg
                for r in reqs:
                    arg = parse_cpu_arg(arg.with_flag(r[0]))
                fixes.append("-cpu " + arg.with_flag(f.name))
            claims.append(Claim(f.name, "qemu-dependency", ev, chain, True, fixes=fixes))
    return claims


def _libvirt_feature(ctx: Context, name: str, line: int, notes: list[str]) -> Feature | None:
    try:
        return ctx.names.lookup(name)
    except NotFound as e:
        notes.append(f"line {line}: libvirt feature {name!r}: {e}")
        return None


def libvirt_claims(log: lp.Log, ctx: Context, notes: list[str]) -> list[Claim]:
    claims: list[Claim] = []
    for m in log.of(lp.LibvirtMismatch):
        for name in m.missing:
            f = _libvirt_feature(ctx, name, m.line, notes)
            if f is None:
                continue
            chain = [
                f"libvirt compared the CPU QEMU created with the domain XML: {f.name} "
                f"({describe(ctx, f)}) is missing",
                "QEMU leaves out a requested feature that the host (KVM) does not offer, so "
                "this host most likely lacks it (after a migration: the destination host)",
            ]
            claims.append(
                Claim(
                    f.name,
                    "libvirt-missing",
                    [Evidence(m.line, m.text)],
                    chain,
                    False,
                    host_lacks_line=m.line,
                )
            )
        if m.extra:
            notes.append(
                f"line {m.line}: libvirt found extra features ({', '.join(m.extra)}) "
                "that the domain XML does not list: not a missing feature"
            )
        if not m.missing and not m.extra:
            notes.append(
                f"line {m.line}: libvirt says the guest CPU does not match the "
                "specification without naming features: look for QEMU's warnings in "
                "the domain log (/var/log/libvirt/qemu/DOMAIN.log)"
            )
    for inc in log.of(lp.LibvirtIncompatible):
        if not inc.features:
            notes.append(
                f"line {inc.line}: libvirt says the CPU is incompatible with the host "
                "without naming features"
            )
        for name in inc.features:
            f = _libvirt_feature(ctx, name, inc.line, notes)
            if f is None:
                continue
            chain = [
                f"libvirt compared the domain's CPU with the host CPU: the host does not "
                f"provide {f.name} ({describe(ctx, f)})",
                "so libvirt refused to start it",
            ]
            claims.append(
                Claim(
                    f.name,
                    "libvirt-host",
                    [Evidence(inc.line, inc.text)],
                    chain,
                    True,
                    host_lacks_line=inc.line,
                )
            )
    return claims


def host_bits(log: lp.Log, ctx: Context) -> int | None:
    if ctx.host is not None and ctx.host.phys_bits:
        return ctx.host.phys_bits
    mism = log.of(lp.PhysBitsMismatch)
    return mism[-1].host_bits if mism else None


def phys_fixes(ctx: Context, needed: int, log: lp.Log) -> list[str]:
    model = ctx.cpu.arg if ctx.cpu is not None and ctx.cpu.name is not None else None

    def form(prop: str, value: str) -> str:
        if model is None:
            return f"-cpu <your model>,{prop}={value}"
        return "-cpu " + model.with_flag(prop, value)

    host = host_bits(log, ctx)
    out = []
    if host is None or host >= needed:
        out.append(form("phys-bits", str(max(needed, 32))))
        out.append(form("host-phys-bits", "on"))
    return out


def phys_claims(log: lp.Log, ctx: Context, notes: list[str]) -> list[Claim]:
    claims: list[Claim] = []
    host = host_bits(log, ctx)
    for a in log.of(lp.AddressSpaceLimit):
        needed = a.needed.bit_length()
        chain = [
            f"QEMU refused to start: the guest's highest physical address {a.needed:#x} "
            f"needs {needed} bits, but phys-bits is {a.phys_bits} (limit {a.limit:#x})",
            "the RAM size, maxmem, hot-plug slots and the 64-bit PCI hole all have to fit "
            "below 2^phys-bits",
        ]
        if host is not None and host < needed:
            chain.append(
                f"the host has only {host} physical-address bits: reduce -m/maxmem or "
                "the PCI hole instead"
            )
        claims.append(
            Claim(
                PHYS_BITS,
                "address-space",
                [Evidence(a.line, a.text)],
                chain,
                True,
                fixes=phys_fixes(ctx, needed, log),
            )
        )
    for m in log.of(lp.PhysBitsMismatch):
        if m.guest_bits > m.host_bits:
            chain = [
                f"QEMU tells the guest it has {m.guest_bits} physical-address bits while "
                f"the host has {m.host_bits}",
                f"guest-physical addresses at or above 2^{m.host_bits} cannot be mapped by "
                "the host's EPT/NPT: a guest that uses them (large RAM, 64-bit PCI BARs "
                "placed high by the firmware) sees EPT misconfigurations, emulation failures "
                "or lost writes",
            ]
            model = ctx.cpu.arg if ctx.cpu is not None and ctx.cpu.name is not None else None
            base = "-cpu " + (
                model.with_flag("host-phys-bits", "on")
                if model
                else "<your model>,host-phys-bits=on"
            )
            alt = "-cpu " + (
                model.with_flag("phys-bits", str(m.host_bits))
                if model
                else f"<your model>,phys-bits={m.host_bits}"
            )
            claims.append(
                Claim(
                    HOST_PHYS_BITS,
                    "phys-bits-mismatch",
                    [Evidence(m.line, m.text)],
                    chain,
                    True,
                    fixes=[base, alt],
                )
            )
        else:
            notes.append(
                f"line {m.line}: the guest has fewer physical-address bits "
                f"({m.guest_bits}) than the host ({m.host_bits}): harmless unless the "
                "guest needs memory above that limit"
            )
    return claims
