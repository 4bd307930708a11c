"""Host files by content: what operators already collect, each read into `HostCpu`s.

A `cpuid -r` dump or /proc/cpuinfo text (`cpudb.host.from_text`); libvirt XML
(`virsh domcapabilities`, `virsh capabilities`); JSON (`lscpu -J`, QMP answers, KubeVirt
node objects, which may hold many hosts). Libvirt's names are mapped to QEMU's through
the CPUID locations of data/libvirt-features.json, and libvirt's model to its features
as libvirt's cpu_map defines them.
"""

from __future__ import annotations

from cpudb.errors import ParseError
from cpudb.host import (
    HostCpu,
    HostFeatures,
    host_model_supplied,
    linux_flag_map,
    raw_cpu_supplied,
)
from cpudb.model import Release
from cpudb.scrapers import host_json, libvirt_xml

WHAT = "host CPU file"
EXPECTED = (
    "a `cpuid -1 -r` dump, /proc/cpuinfo, `lscpu -J`, `virsh domcapabilities` or "
    "`virsh capabilities` XML, QMP answers (query-cpu-model-expansion host, "
    "query-cpu-definitions) or `kubectl get nodes -o json`"
)


def read(text: str, name: str) -> list[tuple[str, HostCpu]]:
    """Every host the text describes, (name, host), detected by its content."""
    from cpudb.host import from_text

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
        from cpudb.host import from_cpuinfo

        info = host_json.lscpu(docs[0], name)
        h = from_cpuinfo(info, linux_flag_map(), f"lscpu -J {name}")
        return [(name, h)]
    if kinds == {"qmp"}:
        from cpudb.host import from_qmp

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


# ------------------------------------------------------------------ decoding


def libvirt_locations() -> dict[str, str]:
    """Every libvirt spelling (names and aliases, of every shipped release) -> location."""
    from cpudb import libvirt_releases

    return libvirt_releases.any_spelling()


def libvirt_features(host: HostCpu, release: Release) -> HostFeatures:
    """libvirt's model (as its cpu_map defines it) plus or minus the listed features, in
    the release's names. Bits libvirt has no name for are unknown: libvirt cannot say."""
    loc_of = libvirt_locations()
    known = set(loc_of.values())
    from cpudb import libvirt_releases

    defined = libvirt_releases.first_definition(host.libvirt_model or "")
    model_locs = list(defined[1]) if defined else None
    notes = list(host.notes)
    if model_locs is None:
        cpu = release.cpu(host.libvirt_model) if host.libvirt_model else None
        if cpu is not None:
            model_locs = [f.location for f in release.features if f.name in cpu.features]
            notes.append(
                f"libvirt model {host.libvirt_model} unknown to cpudb's libvirt data: "
                f"QEMU {release.version}'s model of that name used"
            )
        else:
            model_locs = []
            known = {loc_of[n] for n, _ in host.libvirt_features if n in loc_of}
            if host.libvirt_model:
                notes.append(f"libvirt model {host.libvirt_model} unknown: only listed features")
    have = set(model_locs)
    unnamed = []
    for n, on in host.libvirt_features:
        loc = loc_of.get(n)
        if loc is None:
            unnamed.append(n)
        elif on:
            have.add(loc)
        else:
            have.discard(loc)
    if unnamed:
        notes.append(f"libvirt features cpudb cannot place: {', '.join(unnamed)}")
    present = frozenset(f.name for f in release.features if f.location in have)
    unknown = frozenset(f.name for f in release.features if f.location not in known) - present
    by_loc = {f.location: f.name for f in release.features}

    def qemu_name(n: str) -> str:
        return by_loc.get(loc_of.get(n, ""), n)

    verdicts = tuple((m, tuple(qemu_name(n) for n in fs)) for m, fs in host.qemu_unavailable)
    if host.kind == "libvirt-cpu":
        supplied = raw_cpu_supplied(release, present, host.vendor, host.family)
    else:
        supplied = host_model_supplied(release, present)
    return HostFeatures(
        present, unknown - supplied, (), supplied, notes=tuple(notes), verdicts=verdicts
    )
