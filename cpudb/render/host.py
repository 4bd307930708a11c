"""`cpudb host` (one host's reading), `host diff` (drift) and `host check` (a VM's CPU
on hosts) as text and JSON."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cpudb.app.host import HostView
    from cpudb.drift import Drift
    from cpudb.host_cpu import HostCpu
    from cpudb.host_features import HostFeatures
    from cpudb.host_fit import ModelFit
    from cpudb.model import Release
    from cpudb.vmcheck import VmCheck


def _parts(
    v: HostView,
) -> tuple[HostCpu, Release, HostFeatures, tuple[ModelFit, ...], tuple[str, ...], dict[str, Any]]:
    """The view's fields, in the order both renderers use them."""
    return v.cpu, v.release, v.features, v.fits, v.best, v.qemu_unavailable


def to_json(v: HostView) -> dict[str, Any]:
    cpu, rel, hf, fits, best, qemu_unavail = _parts(v)
    models = []
    for f in fits:
        m: dict[str, Any] = {
            "name": f.name,
            "usable": f.usable,
            "blockers": list(f.blockers),
            "unknown": list(f.unknown),
            "alias_of": f.alias_of,
        }
        if f.name in qemu_unavail:
            m["qemu_unavailable"] = list(qemu_unavail[f.name])
        models.append(m)
    return {
        "source": cpu.source,
        "kind": cpu.kind,
        "qemu": rel.version,
        "accel": "kvm",
        "vendor": cpu.vendor,
        "family": cpu.family,
        "model": cpu.model,
        "stepping": cpu.stepping,
        "signature": None if cpu.signature is None else f"{cpu.signature:#010x}",
        "brand": cpu.brand,
        "hypervisor": cpu.hypervisor,
        "features": sorted(hf.present),
        "unknown": sorted(hf.unknown),
        "missing_leaves": list(hf.missing_leaves),
        "kvm_supplied": sorted(hf.kvm_supplied),
        "differing": sorted(hf.differing),
        "notes": list(hf.notes),
        "best": list(best),
        "models": models,
    }


def text(v: HostView, *, show_all: bool = False) -> str:
    """`cpudb host` as text."""
    cpu, rel, hf, fits, best, qemu_unavail = _parts(v)
    from cpudb.host_fit import aliases_of
    from cpudb.render import wrap

    out: list[str] = []

    sig = f", signature {cpu.signature:#010x}" if cpu.signature is not None else ""
    out.append(f"{cpu.brand or '(no brand string)'}")
    out.append(
        f"  {cpu.vendor.strip() or '?'} family {cpu.family} model {cpu.model} "
        f"({cpu.model:#x}) stepping {cpu.stepping}{sig}"
    )
    out.append(
        f"  hypervisor bit: {'set (this host is itself a VM)' if cpu.hypervisor else 'clear'}"
    )
    out.append(f"  source: {cpu.source}")
    for n in hf.notes:
        out.append(f"  note: {n}")
    out.append(f"\nQEMU {rel.version} features present ({len(hf.present)}):")
    out.append(wrap(sorted(hf.present)))
    if hf.unknown:
        msr_words = {w.name for w in rel.words if w.type == "msr"}
        msr = {f.name for f in rel.features if f.word in msr_words} & hf.unknown
        rest = sorted(hf.unknown - msr)
        out.append(f"unknown to this source ({len(hf.unknown)}; not counted as blockers):")
        if rest:
            out.append(wrap(rest))
        if msr:
            out.append(
                f"  + {len(msr)} MSR-based (arch-capabilities bits, vmx-*, ...; --json lists them)"
            )
    if hf.differing:
        out.append("differ between CPUs (CPU 0 used): " + " ".join(sorted(hf.differing)))
    if hf.kvm_supplied:
        pv = sorted(n for n in hf.kvm_supplied if n.startswith(("kvm", "hv-")))
        other = sorted(hf.kvm_supplied - set(pv))
        pv_note = [f"+ {len(pv)} KVM paravirt (kvmclock, kvm-pv-*, ...)"] if pv else []
        out.append("given by KVM although the host CPU lacks them:")
        out.append(wrap(other + pv_note))

    out.append(f"\nbest-fitting models ({cpu.vendor.strip()}, no blockers, newest first):")
    if best:
        shown = [_with_aliases(n, aliases_of(rel, n)) for n in best[:8]]
        out.append(wrap(shown) + (" ..." if len(best) > 8 else ""))
    else:
        out.append("  none: every model of this vendor has blockers (see below)")

    usable = [f for f in fits if f.usable]
    blocked = [f for f in fits if not f.usable]
    out.append(f"\nusable under KVM ({len(usable)} of {len(fits)} CPU names):")
    names = [f.name for f in usable] if show_all else [f.name for f in usable if not f.alias_of]
    out.append(wrap(names) if names else "  none")
    if not show_all and len(names) < len(usable):
        out.append(f"  (+{len(usable) - len(names)} aliases of these; --all lists them)")
    if blocked:
        out.append(f"\nblocked ({len(blocked)}), with the features the host lacks:")
        rows = [f for f in blocked if show_all or not f.alias_of]
        width = max(len(f.name) for f in rows) if rows else 0
        for f in rows:
            extra = ""
            if f.name in qemu_unavail:
                extra = f"   [QEMU says: {' '.join(qemu_unavail[f.name]) or '-'}]"
            out.append(f"  {f.name.ljust(width)}  {' '.join(f.blockers)}{extra}")
    return "\n".join(out) + "\n"


def _with_aliases(name: str, aliases: tuple[str, ...]) -> str:
    return f"{name} (= {', '.join(aliases)})" if aliases else name


def drift_json(d: Drift) -> dict[str, Any]:
    pool = None
    if d.pool is not None:
        pool = {
            "members": list(d.pool.members),
            "before": d.pool.before.cpu(),
            "after": d.pool.after.cpu(),
            "broken": d.pool.broken,
            "blockers": list(d.pool.blockers),
        }
    return {
        "qemu": d.qemu,
        "before": d.before,
        "after": d.after,
        "lost": list(d.lost),
        "gained": list(d.gained),
        "now_unknown": list(d.now_unknown),
        "newly_blocked": [{"name": n, "blockers": list(b)} for n, b in d.newly_blocked],
        "newly_usable": list(d.newly_usable),
        "pool": pool,
        "changed": d.changed,
    }


def drift_text(d: Drift) -> str:
    out = [f"QEMU {d.qemu}, KVM: {d.before} -> {d.after}"]
    if not d.changed and not d.now_unknown:
        return "\n".join([*out, "  no change a guest would see"]) + "\n"
    if d.lost:
        out.append(f"  lost ({len(d.lost)}): {' '.join(d.lost)}")
    if d.gained:
        out.append(f"  gained ({len(d.gained)}): {' '.join(d.gained)}")
    if d.now_unknown:
        out.append(f"  no longer readable ({len(d.now_unknown)}): {' '.join(d.now_unknown)}")
    if d.newly_blocked:
        out.append(f"  CPU names that ran before and are now blocked ({len(d.newly_blocked)}):")
        out += [f"    {n}: lacks {', '.join(b)}" for n, b in d.newly_blocked]
    if d.newly_usable:
        out.append(f"  CPU names usable now ({len(d.newly_usable)}): {' '.join(d.newly_usable)}")
    if d.pool is not None:
        p = d.pool
        members = ", ".join(p.members)
        if p.before.best is None:
            out.append(f"  pool with {members}: no CPU name ran on all of it before")
        elif p.blockers:
            out.append(
                f"  pool with {members} BREAKS: -cpu {p.before.cpu(enforce=True)} lacks "
                f"{', '.join(p.blockers)} on {d.after}; "
                + (f"new baseline -cpu {p.after.cpu(enforce=True)}" if p.after.best else
                   "no CPU name runs on the pool now")
            )  # fmt: skip
        else:
            out.append(f"  pool with {members}: -cpu {p.before.cpu(enforce=True)} still runs")
    return "\n".join(out) + "\n"


def check_json(r: VmCheck) -> dict[str, Any]:
    return {
        "qemu": r.qemu,
        "mode": r.mode,
        "model": r.model,
        "unknown": list(r.unknown),
        "hosts": [
            {"host": h.host, "runs": not h.blockers, "blockers": list(h.blockers)} for h in r.hosts
        ],  # fmt: skip
        "runs_everywhere": r.runs_everywhere,
        "notes": list(r.notes),
    }


def check_text(r: VmCheck) -> str:
    out = [f"QEMU {r.qemu}, KVM: the VM's CPU: {r.mode} {r.model}".rstrip()]
    for h in r.hosts:
        out.append(
            f"  {h.host}: "
            + ("starts" if not h.blockers else f"BLOCKED, lacks {', '.join(h.blockers)}")
        )
    if r.unknown:
        out.append(f"  libvirt features cpudb cannot place: {', '.join(r.unknown)}")
    out += [f"  note: {n}" for n in r.notes]
    if r.hosts:
        out.append(
            "  it can live-migrate between all of them"
            if r.runs_everywhere
            else "  it cannot start on, or migrate to, the blocked hosts"
        )
    return "\n".join(out) + "\n"
