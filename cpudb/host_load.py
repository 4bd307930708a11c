"""Loading hosts (I/O): a stored host, a host file, a catalogued CPU, stdin, or this
machine asked directly (its CPUID, KVM, or QEMU under KVM)."""

from __future__ import annotations

from cpudb.errors import NotFound, ParseError
from cpudb.host_build import from_live, from_qmp, identify
from cpudb.host_cpu import HostCpu

TYPE_CHECKING = False  # typing costs ~4 ms to import: only type checkers read these
if TYPE_CHECKING:
    from cpudb.query import Db

# `cpuid -r` of 1,024 CPUs is ~6 MiB, /proc/cpuinfo of as many ~2 MiB, `kubectl get
# nodes -o json` of 1,000 KubeVirt nodes ~40 MiB: more is not a host file
HOST_FILE_LIMIT = 64 << 20


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
