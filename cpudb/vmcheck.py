"""Can this VM start, or live-migrate, on these hosts? A libvirt domain's `<cpu>` read as
the guest CPU it asks for, checked against each host by the decision core's rule.

Pure: Release + the VM's CPU (libvirt spelling) + hosts (KVM offers) -> VmCheck.
mode='custom': libvirt's model as its cpu_map defines it, plus required and minus
disabled features (what libvirt makes QEMU give the guest); QEMU's own verdict on the
model is used where the host data has one. host-model and host-passthrough guests copy
the host they start on: they start anywhere, and migrate only to hosts that have
everything the first one gave them, which cpudb cannot tell from the domain alone.
"""

from __future__ import annotations

from collections.abc import Sequence

from cpudb.decide.offer import Offer
from cpudb.model import Release
from cpudb.record import Record
from cpudb.resolve import with_accel
from cpudb.scrapers.libvirt_xml import LibvirtCpu


class HostVerdict(Record):
    host: str
    blockers: tuple[str, ...]  # QEMU names; () = the VM starts there


class VmCheck(Record):
    qemu: str
    mode: str
    model: str
    guest: frozenset[str]  # the features the VM's CPU asks for (QEMU names)
    unknown: tuple[str, ...]  # libvirt names cpudb cannot place
    hosts: tuple[HostVerdict, ...]
    notes: tuple[str, ...] = ()

    @property
    def runs_everywhere(self) -> bool:
        return all(not h.blockers for h in self.hosts)


def check(
    release: Release,
    vm: LibvirtCpu,
    hosts: Sequence[Offer],
    model_features: dict[str, frozenset[str]],
    qemu_name: dict[str, str],
) -> VmCheck:
    """`model_features`: libvirt model -> its features (QEMU names); `qemu_name`: libvirt
    spelling -> QEMU name."""
    notes: list[str] = []
    mode = vm.mode or ("custom" if vm.model else "host-passthrough")
    if mode in ("host-model", "host-passthrough", "maximum"):
        notes.append(
            f"a {mode} guest copies the host it starts on: it starts on any of them, and "
            "live-migrates only between hosts with the same CPU (`cpudb pools` groups them)"
        )
        return VmCheck(release.version, mode, "", frozenset(), (), (), tuple(notes))
    base = model_features.get(vm.model)
    if base is None:
        cpu = release.cpu(vm.model)
        if cpu is None:
            from cpudb.errors import NotFound

            raise NotFound(
                f"the VM's CPU model {vm.model!r} is neither libvirt's nor "
                f"QEMU {release.version}'s",
                hint="`cpudb models` lists QEMU's names",
            )
        base = cpu.features
        notes.append(f"libvirt model {vm.model} unknown: QEMU {release.version}'s used")
    unknown = tuple(n for n, _ in vm.features if n not in qemu_name)
    required = {qemu_name[n] for n, on in vm.features if on and n in qemu_name}
    disabled = {qemu_name[n] for n, on in vm.features if not on and n in qemu_name}
    guest = with_accel(release, frozenset((base | required) - disabled), "kvm")
    # QEMU's verdict (where a host has one) is on QEMU's model of that name: what the VM
    # asks beyond it (its required features, libvirt's definition's extras) is checked too
    qemu_model = release.cpu(vm.model)
    beyond = required | (base - qemu_model.features if qemu_model else frozenset())
    verdicts = tuple(
        HostVerdict(h.name, h.blockers_for((vm.model,), guest, sorted(beyond - disabled)))
        for h in hosts
    )
    return VmCheck(release.version, mode, vm.model, guest, unknown, verdicts, tuple(notes))
