"""Host files by content: what operators already collect, each read into `HostCpu`s.

A `cpuid -r` dump or /proc/cpuinfo text (`cpudb.host_build.from_text`); libvirt XML
(`virsh domcapabilities`, `virsh capabilities`); JSON (`lscpu -J`, QMP answers, KubeVirt
node objects, which may hold many hosts). Libvirt's names are mapped to QEMU's through
the CPUID locations of data/libvirt-features.json, and libvirt's model to its features
as libvirt's cpu_map defines them (decoding them: `cpudb.host_libvirt`).
"""

from __future__ import annotations

from cpudb.errors import ParseError
from cpudb.host_build import linux_flag_map
from cpudb.host_cpu import HostCpu
from cpudb.scrapers import host_json, libvirt_xml

WHAT = "host CPU file"
EXPECTED = (
    "a `cpuid -1 -r` dump, /proc/cpuinfo, `lscpu -J`, `virsh domcapabilities` or "
    "`virsh capabilities` XML, QMP answers (query-cpu-model-expansion host, "
    "query-cpu-definitions) or `kubectl get nodes -o json`"
)


def read(text: str, name: str) -> list[tuple[str, HostCpu]]:
    """Every host the text describes, (name, host), detected by its content."""
    from cpudb.host_build import from_text

    if libvirt_xml.looks_like_xml(text):
        cpu = libvirt_xml.parse(text, name)
        if cpu.what == "domain CPU" or cpu.what == "CPU":
            raise ParseError(
                "a domain's <cpu> is what a VM asks for, not what a host has",
                file=name,
                hint="give the host's `virsh domcapabilities`; check the VM with "
                "`cpudb host check VM.xml HOST...`",
            )
        return [(name, from_libvirt(cpu, f"{cpu.what} {name}"))]
    if host_json.looks_like_json(text):
        return _from_json(text, name)
    return [(name, from_text(text, name, linux_flag_map()))]


def _from_json(text: str, name: str) -> list[tuple[str, HostCpu]]:
    docs = host_json.documents(text, name)
    kinds = {host_json.kind_of(d) for d in docs}
    if kinds == {"lscpu"} and len(docs) == 1:
        from cpudb.host_build import from_cpuinfo

        info = host_json.lscpu(docs[0], name)
        h = from_cpuinfo(info, linux_flag_map(), f"lscpu -J {name}")
        return [(name, h)]
    if kinds == {"qmp"}:
        from cpudb.host_build import from_qmp

        return [(name, from_qmp(host_json.qmp(docs, name), f"QMP answers {name}"))]
    if kinds == {"kubevirt"} and len(docs) == 1:
        return [
            (node, from_libvirt(cpu, f"KubeVirt node {node} ({name})"))
            for node, cpu in host_json.kubevirt_nodes(docs[0], name)
        ]
    raise ParseError(
        "JSON that is none of the host formats cpudb reads", file=name, hint=f"give {EXPECTED}"
    )


def from_libvirt(cpu: libvirt_xml.LibvirtCpu, source: str) -> HostCpu:
    notes = []
    if cpu.what == "capabilities host CPU":
        notes.append(
            "libvirt's host CPU is the CPU's own CPUID; KVM may give a guest less "
            "(domcapabilities' host-model says what QEMU and KVM allow)"
        )
    if cpu.verdicts:
        notes.append(f"QEMU's own verdicts on {len(cpu.verdicts)} CPU models (through libvirt)")
    return HostCpu(
        vendor=cpu.vendor,
        family=cpu.family,
        model=cpu.model_number,
        stepping=cpu.stepping,
        brand=cpu.model,
        hypervisor=False,
        source=source,
        kind="libvirt-cpu" if cpu.what == "capabilities host CPU" else "libvirt",
        qemu_unavailable=cpu.verdicts,
        qemu_version=cpu.qemu,
        libvirt_model=cpu.model,
        libvirt_features=cpu.features,
        notes=tuple(notes),
    )
