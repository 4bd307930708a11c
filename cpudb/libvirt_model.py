"""A CPU cpudb chose, as libvirt must be told it: libvirt's model name for it and the
features to require and disable so that libvirt's model (its cpu_map definition, which
differs from QEMU's) becomes exactly the QEMU CPU cpudb checked. Pure decisions; the
text of the configs is cpudb.render.configs."""

from __future__ import annotations

from cpudb.advise import Candidate, Need
from cpudb.record import Record, field

TYPE_CHECKING = False  # typing costs ~4 ms to import: only type checkers read these
if TYPE_CHECKING:
    from cpudb.model import Dependency


class LibvirtNames(Record):
    """libvirt's spelling of this release's features, its cpu_map model names and what
    each of its models has (data/libvirt-features.json)."""

    features: dict[str, str] = field(default_factory=dict)  # QEMU name -> libvirt name
    models: frozenset[str] = frozenset()
    source: str = ""
    model_features: dict[str, frozenset[str]] = field(default_factory=dict)  # -> QEMU names
    version: str = ""  # the libvirt release these names are of
    why: str = ""  # why that one (--libvirt, the installed one, ...)
    dependencies: tuple[Dependency, ...] = ()  # the QEMU release's feature_dependencies

    def feature(self, qemu_name: str) -> str | None:
        return self.features.get(qemu_name)

    def knows(self, c: Candidate) -> bool:
        """Does this libvirt have a model name for the candidate (see `model_for`)?"""
        return self.model_for(c)[1] is None

    def model_for(self, c: Candidate) -> tuple[str, str | None]:
        """(model name for libvirt/Nova/Proxmox/KubeVirt, a caveat or None).

        libvirt's cpu_map has no versioned names: use a fixed alias it knows
        (Haswell-noTSX-IBRS for Haswell-v4), else the bare name when it means this
        version (-v1), else the versioned name with a caveat."""
        named = [a for a in c.aka if a != c.model]
        bare = [a for a in c.aka if a == c.model]
        for n in named + bare + [c.name]:
            if n in self.models:
                return n, None
        if not self.models:
            return c.name, None
        return c.name, (
            f"libvirt {self.version or '(installed)'}'s cpu_map has no model "
            f"{c.name}: a newer libvirt may (option libvirt V); otherwise pick another candidate"
        )


class Answer(Record):
    """One chosen CPU: the candidate, flags added on top (a baseline's extras), the
    needs it was chosen for, and the next candidates (Nova's ordered cpu_models)."""

    cpu: Candidate
    needs: tuple[Need, ...] = ()
    extras: tuple[str, ...] = ()
    alternates: tuple[Candidate, ...] = ()
    deprecated: tuple[str, ...] = ()  # the release's deprecated model names (KubeVirt)

    def flags(self) -> tuple[str, ...]:
        return (*self.cpu.all_adds(), *(x for x in self.extras if x not in self.cpu.all_adds()))

    def guest(self) -> frozenset[str]:
        return self.cpu.features | set(self.flags())


class LibvirtCpu(Record):
    model: str
    require: tuple[str, ...]  # libvirt names
    disable: tuple[str, ...]
    unnamed: tuple[str, ...]  # QEMU flags libvirt has no name for
    notes: tuple[str, ...]


def libvirt_cpu(a: Answer, names: LibvirtNames) -> LibvirtCpu:
    """libvirt's model for the answer and the features that make it the QEMU CPU."""
    model, caveat = names.model_for(a.cpu)
    notes = [f"names of libvirt {names.version} ({names.why})"] if names.version else []
    notes += [caveat] if caveat else []
    if model != a.cpu.name:
        notes.append(f"{model} is libvirt's name for QEMU's {a.cpu.name}")
    guest = a.guest()
    has = names.model_features.get(model)
    if has is None:  # no definition at hand: the flags cpudb added, as QEMU names them
        want, drop = [f for f in a.flags()], []
        notes.append(f"libvirt's definition of {model} unknown: only cpudb's flags listed")
    else:
        flags = a.flags()
        # cpudb's flags first (named or not), then the rest of the guest libvirt can name
        order = list(flags) + sorted(guest - set(flags))
        want = [f for f in order if f not in has and (f in flags or names.feature(f))]
        # what QEMU would clear anyway (vmx-* without vmx) needs no disable
        from cpudb.resolve import apply_dependencies

        drop = sorted(
            f
            for f in has - guest
            if names.feature(f) and f in apply_dependencies(guest | {f}, names.dependencies)
        )
    unnamed = tuple(f for f in want if names.feature(f) is None)
    return LibvirtCpu(
        model,
        tuple(names.feature(f) or f for f in want if f not in unnamed),
        tuple(names.feature(f) or f for f in drop),
        unnamed,
        tuple(notes),
    )
