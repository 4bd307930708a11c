"""libvirt's XML about CPUs, as operators already collect it: `virsh domcapabilities`
(the host-model CPU, and QEMU's own usable verdict and blockers per model),
`virsh capabilities` (the host CPU) and a domain's `<cpu>`.

Pure: text -> `LibvirtCpu`, names as libvirt spells them (mapped to QEMU's by
`cpudb.hostfiles` through data/libvirt-features.json). Shapes as libvirt writes them
(docs/formatdomaincaps, formatcaps, formatdomain; tests/domaincapsdata in libvirt's tree).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from cpudb.errors import ParseError
from cpudb.record import Record, replace

HINT = "give the output of `virsh domcapabilities`, `virsh capabilities` or `virsh dumpxml`"
# libvirt's <vendor> -> CPUID vendor string
VENDORS = {"Intel": "GenuineIntel", "AMD": "AuthenticAMD", "Hygon": "HygonGenuine",
           "Zhaoxin": "  Shanghai  ", "Centaur": "CentaurHauls"}  # fmt: skip
ROOTS = ("domainCapabilities", "capabilities", "domain", "cpu")


class LibvirtCpu(Record):
    """One CPU as libvirt describes it: a libvirt model plus or minus features."""

    what: str  # "domcapabilities host-model" | "capabilities host CPU" | "domain CPU"
    model: str  # libvirt's model name ("" when none: host-passthrough)
    vendor: str  # CPUID vendor string, "" when not said
    family: int = 0
    model_number: int = 0
    stepping: int = 0
    features: tuple[tuple[str, bool], ...] = ()  # libvirt name -> required / disabled
    verdicts: tuple[tuple[str, tuple[str, ...]], ...] = ()  # model -> blockers; () usable
    qemu: str = ""  # QEMU's X.Y, from the newest machine type ("pc-q35-7.2")
    mode: str = ""  # the domain's <cpu mode>: custom, host-model, host-passthrough


def looks_like_xml(text: str) -> bool:
    return text.lstrip()[:1] == "<"


def parse(text: str, file: str = "<xml>") -> LibvirtCpu:
    if re.search(r"<!(DOCTYPE|ENTITY)", text[:4096]):
        raise ParseError("XML with a DTD or entities is not read", file=file, hint=HINT)
    try:
        root = ET.fromstring(text)
    except ET.ParseError as e:
        raise ParseError(
            f"not well-formed XML ({e})", file=file, line=e.position[0], hint=HINT
        ) from None
    if root.tag == "domainCapabilities":
        return _domcaps(root, file)
    if root.tag == "capabilities":
        cpu = root.find("host/cpu")
        if cpu is None:
            raise ParseError("capabilities without <host><cpu>", file=file, hint=HINT)
        return _cpu(cpu, "capabilities host CPU", file)
    if root.tag == "domain":
        cpu = root.find("cpu")
        if cpu is None:
            raise ParseError("domain XML without <cpu>", file=file, hint="add a <cpu> element")
        return _cpu(cpu, "domain CPU", file)
    if root.tag == "cpu":
        return _cpu(root, "CPU", file)
    raise ParseError(
        f"XML root <{root.tag}> is none of " + ", ".join(f"<{r}>" for r in ROOTS),
        file=file,
        hint=HINT,
    )


def _domcaps(root: ET.Element, file: str) -> LibvirtCpu:
    if (root.findtext("arch") or "x86_64") not in ("x86_64", "i686"):
        raise ParseError(f"domcapabilities of arch {root.findtext('arch')}", file=file,
                         hint="cpudb reads x86 hosts")  # fmt: skip
    hm = root.find("cpu/mode[@name='host-model']")
    if hm is None or hm.get("supported") == "no":
        raise ParseError(
            "domcapabilities without a supported host-model CPU",
            file=file,
            hint="run `virsh domcapabilities` on a KVM host (--virttype kvm)",
        )
    base = _cpu(hm, "domcapabilities host-model", file)
    verdicts: dict[str, tuple[str, ...]] = {}
    custom = root.find("cpu/mode[@name='custom']")
    if custom is not None:
        blockers = {
            b.get("model", ""): tuple(f.get("name", "") for f in b.findall("feature"))
            for b in custom.findall("blockers")
        }
        for m in custom.findall("model"):
            name = (m.text or "").strip()
            if not name or m.get("usable") not in ("yes", "no"):
                continue  # usable='unknown': no verdict
            verdicts[name] = () if m.get("usable") == "yes" else blockers.get(name, ("?",))
    machine = root.findtext("machine") or ""
    found = re.search(r"-(\d+\.\d+)$", machine)
    qemu = found.group(1) if found else ""
    return replace(base, verdicts=tuple(sorted(verdicts.items())), qemu=qemu)


def _cpu(el: ET.Element, what: str, file: str) -> LibvirtCpu:
    model = (el.findtext("model") or "").strip()
    vendor_text = (el.findtext("vendor") or "").strip()
    sig = el.find("signature")
    feats: dict[str, bool] = {}
    for f in el.findall("feature"):
        name = f.get("name")
        if not name:
            raise ParseError(f"{what}: <feature> without a name", file=file, hint=HINT)
        policy = f.get("policy", "require")
        if policy in ("require", "force"):
            feats[name] = True
        elif policy in ("disable", "forbid"):
            feats[name] = False
        # optional: the guest takes it when the host has it, which says nothing here
    mode = el.get("mode") or el.get("name") or ""
    if what != "domcapabilities host-model" and mode in ("host-passthrough", "maximum"):
        model = ""
    return LibvirtCpu(
        what=what,
        model=model,
        vendor=VENDORS.get(vendor_text, vendor_text),
        family=_int(sig, "family"),
        model_number=_int(sig, "model"),
        stepping=_int(sig, "stepping"),
        features=tuple(sorted(feats.items())),
        mode=mode,
    )


def _int(el: ET.Element | None, attr: str) -> int:
    v = el.get(attr) if el is not None else None
    return int(v) if v and v.isdigit() else 0
