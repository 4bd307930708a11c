"""The guest's CPU as configured: a `-cpu` argument resolved against one QEMU release.

`-cpu Haswell-v4,pdpe1gb=on,-hle,+x2apic,phys-bits=46,enforce` -> the model, its feature
set with the flags applied (QEMU names of the release), the accelerator's defaults, and
the non-feature properties that matter here (`phys-bits`, `host-phys-bits`, `enforce`).
Pure: the release is data; unknown names are returned as problems for the caller to
raise (a user's `--cpu`) or report (a log's command line).
"""

from __future__ import annotations

from cpudb.errors import NotFound
from cpudb.model import Release
from cpudb.names import FeatureNames, lookup_cpu
from cpudb.record import Record
from cpudb.resolve import apply_dependencies, with_accel

HOST_MODELS = frozenset({"host", "max"})
_ON = ("on", "true", "yes")
_OFF = ("off", "false", "no")
# host-phys-bits=on overrides phys-bits=N (QEMU's host_cpu_adjust_phys_bits): never both
_CONFLICTS = {"phys-bits": ("host-phys-bits",), "host-phys-bits": ("phys-bits",)}
_FLAGS = (
    "enforce",
    "check",
    "migratable",
    "host-phys-bits",
    "kvm",
    "pmu",
    "lmce",
    "host-cache-info",
    "l3-cache",
    "full-cpuid-auto-level",
    "x-force-features",
)


class CpuArg(Record):
    """A `-cpu` argument split into its model and its comma-separated properties."""

    text: str
    model: str
    props: tuple[tuple[str, str], ...]  # ("pdpe1gb", "on"), ("phys-bits", "46"), ...

    def prop(self, key: str) -> str | None:
        value = None
        for k, v in self.props:
            if k == key:
                value = v
        return value

    @property
    def enforce(self) -> bool:
        return (self.prop("enforce") or "off") in _ON

    def with_flag(self, feature: str, value: str = "on", *, enforce: bool = False) -> str:
        """The same argument with `feature=value` (replacing any earlier setting of it)."""
        drop = {feature, "enforce", *_CONFLICTS.get(feature, ())}
        keep = [f"{k}={v.replace(',', ',,')}" for k, v in self.props if k not in drop]
        parts = [self.model, *keep, f"{feature}={value}"]
        if enforce or self.enforce:
            parts.append("enforce")
        return ",".join(parts)


def parse_cpu_arg(text: str) -> CpuArg:
    """Split like QEMU's option parser: `,,` is a literal comma; `+f`/`-f` are old-style."""
    parts: list[str] = []
    cur = ""
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "," and text[i + 1 : i + 2] == ",":
            cur += ","
            i += 2
            continue
        if ch == ",":
            parts.append(cur)
            cur = ""
        else:
            cur += ch
        i += 1
    parts.append(cur)
    model, props = parts[0].strip(), []
    for p in parts[1:]:
        p = p.strip()
        if not p:
            continue
        if p[0] in "+-" and "=" not in p:
            props.append((p[1:], "on" if p[0] == "+" else "off"))
        elif "=" in p:
            k, v = p.split("=", 1)
            props.append((k, v))
        else:
            props.append((p, "on"))  # `enforce`, `check`, or a bare feature name
    return CpuArg(text, model, tuple(props))


class GuestCpu(Record):
    """What the guest CPU was (or will be) configured as, and where that came from."""

    arg: CpuArg
    source: str  # "--cpu", "the log's command line", "QEMU's default (no -cpu on the command line)"
    name: str | None  # the CPU name of the release (None for host/max or unknown names)
    vendor: str | None
    features: frozenset[str] | None  # None when it depends on the host (host/max)
    accel: str | None
    problems: tuple[str, ...] = ()  # names in the argument the release does not know
    configured: frozenset[str] | None = None  # model + flags, before the accelerator's defaults

    @property
    def is_host(self) -> bool:
        return self.arg.model in HOST_MODELS

    def has(self, feature: str) -> bool | None:
        return None if self.features is None else feature in self.features


def resolve(
    arg: CpuArg,
    release: Release,
    names: FeatureNames,
    *,
    source: str,
    accel: str | None,
    strict: bool,
) -> GuestCpu:
    """Features of `arg` in `release`; `strict` raises NotFound for unknown names."""
    problems: list[str] = []
    if arg.model in HOST_MODELS:
        return GuestCpu(arg, source, None, None, None, accel)
    try:
        cpu = lookup_cpu(release, arg.model)
    except NotFound:
        if strict:
            raise
        problems.append(f"QEMU {release.version} has no CPU model {arg.model!r}")
        return GuestCpu(arg, source, None, None, None, accel, tuple(problems))
    feats = set(cpu.features)
    for key, value in arg.props:
        if key in _FLAGS or key.startswith(("hv-", "hv_")) or not (value in _ON or value in _OFF):
            continue
        try:
            f = names.lookup(key)
        except NotFound:
            if strict:
                raise
            problems.append(f"-cpu property {key!r} is not a feature of QEMU {release.version}")
            continue
        if value in _ON:
            feats.add(f.name)
        else:
            feats.discard(f.name)
    configured = apply_dependencies(frozenset(feats), release.dependencies)
    features = apply_dependencies(with_accel(release, configured, accel), release.dependencies)
    return GuestCpu(arg, source, cpu.name, cpu.vendor, features, accel, tuple(problems), configured)
