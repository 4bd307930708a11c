"""The configurations people paste, for one chosen CPU (an `advise` answer, a
`baseline`, a pool): libvirt domain XML, OpenStack Nova, Proxmox VE and KubeVirt.

libvirt (and Nova, Proxmox and KubeVirt, which go through it) knows CPU models by its
own cpu_map, whose definitions differ from QEMU's (libvirt's Haswell lacks abm, f16c
and rdrand; its Skylake-Client-IBRS has mpx): the libvirt outputs name libvirt's model
and then require every feature of the QEMU CPU cpudb chose that libvirt's model lacks,
and disable every one it has that the QEMU CPU does not, so the guest gets exactly what
cpudb checked on the hosts. Pure: strings out.
"""

from __future__ import annotations

from collections.abc import Sequence

from cpudb.libvirt_model import Answer, LibvirtNames, libvirt_cpu

# Proxmox VE accepts only these in a VM's `cpu: ...,flags=` (qemu-server
# PVE/QemuServer/CPUConfig.pm, @supported_cpu_flags); anything else needs a custom
# model in /etc/pve/virtual-guest/cpu-models.conf, whose flags may be any QEMU flag.
PROXMOX_VM_FLAGS = frozenset(
    {
        "pcid",
        "spec-ctrl",
        "ibpb",
        "ssbd",
        "virt-ssbd",
        "amd-ssbd",
        "amd-no-ssb",
        "pdpe1gb",
        "md-clear",
        "hv-tlbflush",
        "hv-evmcs",
        "aes",
    }
)


def xml_comment(text: str) -> str:
    """An XML comment: it may not hold "--" (XML 1.0, 2.5)."""
    while "--" in text:
        text = text.replace("--", "-")
    return f"<!-- {text.rstrip('-')} -->"


def libvirt_xml(a: Answer, names: LibvirtNames) -> str:
    lc = libvirt_cpu(a, names)
    lines = [xml_comment(n) for n in lc.notes]
    lines += [
        "<cpu mode='custom' match='exact' check='full'>",
        f"  <model fallback='forbid'>{lc.model}</model>",
    ]
    lines += [f"  <feature policy='require' name='{f}'/>" for f in lc.require]
    lines += [f"  <feature policy='disable' name='{f}'/>" for f in lc.disable]
    lines += [
        "  " + xml_comment(f"libvirt's cpu_map has no feature for QEMU's {f}: use a newer "
                        "libvirt, or <qemu:commandline>")
        for f in lc.unnamed
    ]  # fmt: skip
    lines.append("</cpu>")
    return "\n".join(lines) + "\n"


def nova(a: Answer, names: LibvirtNames, traits: dict[str, Sequence[str]] | None = None) -> str:
    """nova.conf's [libvirt] cpu_mode/cpu_models/cpu_model_extra_flags, and the flavor's
    trait requirements for the needs (Nova's libvirt driver reports HW_CPU_X86_* traits
    for the host CPU's libvirt features: data/nova-cpu-traits.json)."""
    lc = libvirt_cpu(a, names)
    models = [lc.model]
    for c in a.alternates:  # Nova tries cpu_models in order, each with the same flags
        alt = libvirt_cpu(Answer(c, a.needs), names)
        same = (alt.require, alt.disable) == (lc.require, lc.disable)
        if same and names.knows(c) and alt.model not in models:
            models.append(alt.model)
    flags = [f"+{f.lower()}" for f in lc.require] + [f"-{f.lower()}" for f in lc.disable]
    lines = ["# nova.conf on the compute hosts (libvirt driver)"]
    lines += [f"# {n}" for n in lc.notes]
    lines += ["[libvirt]", "cpu_mode = custom", f"cpu_models = {', '.join(models)}"]
    if flags:
        lines.append(f"cpu_model_extra_flags = {', '.join(flags)}")
    wanted = []
    for n in a.needs:
        lv = names.feature(n.name) or n.name
        wanted += [t for t in (traits or {}).get(lv, ())]
    if wanted:
        lines += ["", "# the flavor: schedule only onto hosts whose CPU has the needs"]
        lines += [f"#   openstack flavor set FLAVOR --property trait:{t}=required" for t in wanted]
    return "\n".join(lines) + "\n"


def proxmox(a: Answer, names: LibvirtNames) -> str:
    model, caveat = names.model_for(a.cpu)
    flags = list(a.flags())
    lines = [f"# {caveat}"] if caveat else []
    if all(f in PROXMOX_VM_FLAGS for f in flags):
        lines.append("# /etc/pve/qemu-server/<vmid>.conf")
        lines.append(
            f"cpu: {model}" + (f",flags={';'.join('+' + f for f in flags)}" if flags else "")
        )
        return "\n".join(lines) + "\n"
    custom = "cpudb-" + a.cpu.name.lower()
    lines += [
        f"# a VM's flags= takes only {', '.join(sorted(PROXMOX_VM_FLAGS))};",
        "# other flags need a custom model: /etc/pve/virtual-guest/cpu-models.conf",
        f"cpu-model: {custom}",
        f"    flags {';'.join('+' + f for f in flags)}",
        f"    reported-model {model}",
        "",
        "# /etc/pve/qemu-server/<vmid>.conf",
        f"cpu: custom-{custom}",
    ]
    return "\n".join(lines) + "\n"


def kubevirt(a: Answer, names: LibvirtNames) -> str:
    """A VirtualMachine's spec.domain.cpu (libvirt's model and features), and the
    cluster-wide default in the KubeVirt CR (cpuModel; obsoleteCPUModels: the models
    QEMU deprecates in this release, so the node labeller offers none of them)."""
    lc = libvirt_cpu(a, names)
    lines = [f"# {n}" for n in lc.notes]
    lines += [
        "# VirtualMachine: spec.template.spec.domain.cpu",
        "cpu:",
        f"  model: {lc.model}",
    ]
    feats = [(f, "require") for f in lc.require] + [(f, "disable") for f in lc.disable]
    if feats:
        lines.append("  features:")
        for f, policy in feats:
            lines += [f"  - name: {f}", f"    policy: {policy}"]
    lines += [
        "",
        "# or for every VM: kubectl edit kubevirt -n kubevirt",
        "spec:",
        "  configuration:",
        f"    cpuModel: {lc.model}",
    ]
    if a.deprecated:
        lines.append("    obsoleteCPUModels:")
        lines += [f"      {m}: true" for m in a.deprecated if m != lc.model]
    return "\n".join(lines) + "\n"


RENDERERS = {"libvirt": libvirt_xml, "proxmox": proxmox, "kubevirt": kubevirt}


def config(fmt: str, answer: Answer, names: LibvirtNames, traits: dict[str, Sequence[str]]) -> str:
    """--format libvirt|nova|proxmox|kubevirt of one chosen CPU, in one libvirt's names
    (Nova's flavor also names the traits of the needs)."""
    if fmt == "nova":
        return nova(answer, names, traits)
    return RENDERERS[fmt](answer, names)
