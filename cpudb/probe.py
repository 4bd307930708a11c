"""What a probe boot showed: the guest's own CPUID and the outcome of each check.

`read(boot, release, cpu, accel)` turns the serial output of the probe guest
(probe/probe.asm, booted by `scrapers/qemu_probe.py`) into a `Probe`: started or refused,
the features the `-cpu` asked for (cpudb's resolution of it in the release of that QEMU),
the features the guest sees (its CPUID decoded with the same release's catalogue), those
dropped, and each check's outcome. Pure: the boot is data.
"""

from __future__ import annotations

import re

from cpudb.errors import ParseError
from cpudb.model import Release
from cpudb.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from cpudb.scrapers.qemu_probe import Boot

# Execution order in the guest (la57 is decided before long mode, proven after it).
CHECKS = ("nx", "la57", "long-mode", "1g-pages")
ASKABLE = ("nx", "la57", "1g-pages")  # long-mode always runs
# Which check proves that a guest can use a feature (`advise --verify`).
CHECK_OF = {"nx": "nx", "la57": "la57", "pdpe1gb": "1g-pages", "lm": "long-mode"}
FEATURE_OF = {c: f for f, c in CHECK_OF.items()}  # the feature each check is about
DEFAULT_MODEL = {"qemu-system-x86_64": "qemu64", "qemu-system-i386": "qemu32"}

_CHECK = re.compile(r"check ([\w-]+): (\S+)(.*)")
_FAULT = re.compile(r"vector=(\d+) error=(0x[0-9a-f]+) ip=(0x[0-9a-f]+) cr2=(0x[0-9a-f]+) at=(\S+)")
_WARNED = re.compile(r"requested feature: \S+?\.([\w.-]+) \[bit")
VECTORS = {0: "#DE", 6: "#UD", 8: "#DF", 13: "#GP", 14: "#PF", 18: "#MC"}


class Outcome(Record):
    result: str  # ok fault ignored wrong-data not-in-cpuid | crash timeout not-run
    vector: int | None = None
    error: int | None = None
    ip: int | None = None
    cr2: int | None = None
    at: str = ""  # the step that faulted: ram-read, mmio-write, mov-cr4-la57, ...

    def text(self) -> str:
        if self.result != "fault" or self.vector is None:
            return self.result
        v = VECTORS.get(self.vector, f"vector {self.vector}")
        err = f" error {self.error:#x}" if self.error else ""
        cr2 = f" at address {self.cr2:#x}" if self.vector == 14 and self.cr2 is not None else ""
        return f"fault: {v}{err}{cr2} during {self.at}"

    def to_json(self) -> dict[str, object]:
        d: dict[str, object] = {"result": self.result}
        if self.result == "fault":
            d.update(vector=self.vector, error=self.error, ip=self.ip, cr2=self.cr2, at=self.at)
        return d


class Serial(Record):
    """The guest's serial output, parsed."""

    version: int | None  # the banner's format version; None: the guest never printed
    rows: tuple[str, ...]  # `cpuid -r` rows, as printed
    outcomes: dict[str, Outcome]
    end: str | None  # "done", "fatal" or None (the output stops)
    fatal: Outcome | None = None  # a fault outside any check


def parse_serial(text: str) -> Serial:
    version = None
    rows: list[str] = []
    outcomes: dict[str, Outcome] = {}
    end = None
    fatal = None
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("cpudb-probe "):
            version = int(line.split()[1]) if line.split()[1].isdigit() else 0
        elif line.startswith("cpuid "):
            rows.append(line[6:])
        elif (m := _CHECK.fullmatch(line)) is not None:
            outcomes[m.group(1)] = _outcome(m.group(2), m.group(3))
        elif line.startswith("fault "):
            fatal = _outcome("fault", line[5:])
        elif line in ("done", "fatal"):
            end = line
    return Serial(version, tuple(rows), outcomes, end, fatal)


def _outcome(result: str, rest: str) -> Outcome:
    m = _FAULT.search(rest)
    if result != "fault" or m is None:
        return Outcome(result)
    return Outcome(
        "fault", int(m.group(1)), int(m.group(2), 16), int(m.group(3), 16),
        int(m.group(4), 16), m.group(5),
    )  # fmt: skip


class Probe(Record):
    cpu: str  # the -cpu argument ("" for the binary's default model)
    model: str  # the model that ran: the -cpu's, or the default one
    accel: str
    qemu: str  # version of the binary (7.2.22)
    release: str  # the cpudb release the names come from
    binary: str
    started: bool
    refused: str  # QEMU's message when it did not start the guest
    ended: str  # done | fatal | triple-fault | timeout | refused | no-output
    requested: tuple[str, ...]  # features the -cpu asks for (None-like: () for host/max)
    seen: tuple[str, ...]  # features of the release the guest's CPUID shows
    dropped: tuple[str, ...]  # requested, CPUID-visible, not seen
    extra: tuple[str, ...]  # seen, not requested
    checks: dict[str, Outcome]
    warnings: tuple[str, ...]  # QEMU's warnings (features it dropped)
    seconds: float
    command: tuple[str, ...]
    firmware: str
    notes: tuple[str, ...] = ()

    def broken(self) -> tuple[str, ...]:
        """Checks that failed although the guest's CPUID offers their feature (a kernel
        that trusts CPUID would use it and crash)."""
        return tuple(
            c for c, o in self.checks.items()
            if o.result not in ("ok", "not-run") and FEATURE_OF.get(c) in self.seen
        )  # fmt: skip

    @property
    def clean(self) -> bool:
        """Started, finished, nothing dropped, no check broken: exit status 0."""
        return self.started and self.ended == "done" and not self.dropped and not self.broken()

    @property
    def warned(self) -> tuple[str, ...]:
        """Feature names in QEMU's `... requested feature: CPUID.01H:ECX.pni [bit 0]`."""
        out = []
        for w in self.warnings:
            m = _WARNED.search(w)
            if m:
                out.append(m.group(1))
        return tuple(out)

    def proves(self, features: frozenset[str]) -> tuple[bool, str]:
        """Does this boot prove that a guest gets `features`? (yes/no, and why)"""
        if not self.started:
            lacks = f" (it warned of: {', '.join(self.warned)})" if self.warned else ""
            return False, f"QEMU refused it: {self.refused}{lacks}"
        if self.ended != "done":
            return False, f"the guest did not finish: {self.ended}"
        missing = sorted(f for f in features if f not in self.seen)
        if missing:
            return False, f"the guest does not see {', '.join(missing)}"
        why = [f"the guest sees {', '.join(sorted(features))}"]
        for f in sorted(features):
            check = CHECK_OF.get(f)
            if check is None or check not in self.checks:
                continue
            o = self.checks[check]
            if o.result != "ok":
                return False, f"the guest sees {f}, but check {check}: {o.text()}"
            why.append(f"check {check} ok")
        return True, "; ".join(why)

    def to_json(self) -> dict[str, object]:
        return {
            "cpu": self.cpu,
            "model": self.model,
            "accel": self.accel,
            "qemu": self.qemu,
            "release": self.release,
            "binary": self.binary,
            "started": self.started,
            "refused": self.refused or None,
            "ended": self.ended,
            "requested": list(self.requested),
            "seen": list(self.seen),
            "dropped": list(self.dropped),
            "extra": list(self.extra),
            "checks": {k: v.result for k, v in self.checks.items()},
            "broken": list(self.broken()),
            "faults": {k: v.to_json() for k, v in self.checks.items() if v.result == "fault"},
            "warnings": list(self.warnings),
            "seconds": self.seconds,
            "firmware": self.firmware,
            "command": list(self.command),
            "notes": list(self.notes),
        }


def checks_of(serial: Serial, asked: tuple[str, ...], ended: str) -> dict[str, Outcome]:
    """Each asked check's outcome; the first without one (in execution order) is the
    one the guest died in (crash) or hung in (timeout) when the output stops early."""
    wanted = [c for c in CHECKS if c in asked or c == "long-mode"]
    out: dict[str, Outcome] = {}
    blamed = False
    for c in wanted:
        if c in serial.outcomes:
            out[c] = serial.outcomes[c]
        elif ended in ("triple-fault", "timeout") and not blamed and serial.version is not None:
            out[c] = Outcome("crash" if ended == "triple-fault" else "timeout")
            blamed = True
        else:
            out[c] = Outcome("not-run")
    return out


def read(
    boot: Boot,
    release: Release,
    *,
    cpu: str | None,
    accel: str,
    qemu: str,
    binary: str,
    asked: tuple[str, ...],
    default_model: str = "qemu64",
    host_model: frozenset[str] | None = None,
) -> Probe:
    """`host_model`: QEMU's own expansion of `host` on this machine, which is what
    `-cpu host` (and `max` under KVM) asks for."""
    from cpudb.diagnose.guestcpu import parse_cpu_arg, resolve
    from cpudb.names import FeatureNames

    status = boot.status
    serial = parse_serial(boot.serial)
    lines = [ln.strip() for ln in boot.stderr.splitlines() if ln.strip()]
    warnings = tuple(ln for ln in lines if "warning:" in ln)
    started = serial.version is not None
    refused = ""
    if status is None:
        ended = "timeout"
    elif not started:
        ended = "refused" if status != 0 else "no-output"
        errors = [ln for ln in lines if "warning:" not in ln]
        refused = (errors or lines or [f"exit status {status}"])[-1]
    elif serial.end is not None:
        ended = serial.end
    else:
        ended = "triple-fault" if status == 0 else f"exit status {status}"
    if status is None and not started:
        refused = ""
    arg = parse_cpu_arg(cpu or default_model)
    names = FeatureNames(release)
    notes: list[str] = []
    guest = resolve(arg, release, names, source="--cpu", accel=accel, strict=False)
    notes += guest.problems
    requested = frozenset(guest.features or ())
    if guest.features is None and host_model is not None:
        requested = host_model
        notes.append(f"{arg.model}: 'requested' is QEMU's own expansion of the host model here")
    elif guest.features is None:
        notes.append(f"{arg.model}: what the accelerator offers, so nothing is 'requested'")
    seen: frozenset[str] = frozenset()
    visible = requested
    if serial.rows:
        from cpudb.host_build import from_dump
        from cpudb.scrapers import cpuid_dump

        try:
            dump = cpuid_dump.parse("\n".join(serial.rows), "<probe guest>")
        except ParseError as e:  # a garbled serial line is a finding, not a crash
            notes.append(f"the guest's CPUID rows could not be read: {e}")
        else:
            hf = from_dump(dump, "the probe guest's CPUID").features_in(release)
            seen = hf.present
            visible = frozenset(requested - hf.unknown)
    elif started:
        notes.append("the guest printed no CPUID rows")
    return Probe(
        cpu=cpu or "",
        model=arg.model,
        accel=accel,
        qemu=qemu,
        release=release.version,
        binary=binary,
        started=started,
        refused=refused,
        ended=ended,
        requested=tuple(sorted(requested)),
        seen=tuple(sorted(seen)),
        dropped=tuple(sorted(visible - seen)) if serial.rows else (),
        extra=tuple(sorted(seen - requested)) if requested else (),
        checks=checks_of(serial, asked, ended) if started or ended == "timeout" else
        {c: Outcome("not-run") for c in CHECKS if c in asked or c == "long-mode"},
        warnings=warnings,
        seconds=boot.seconds,
        command=boot.command,
        firmware=boot.firmware,
        notes=tuple(notes),
    )  # fmt: skip


class Verified(Record):
    """One advised answer, booted in the probe guest (`advise --verify`)."""

    role: str  # "first answer", "this machine"
    cpu: str
    accel: str
    proven: bool
    why: str
    probe: Probe

    def to_json(self) -> dict[str, object]:
        return {
            "role": self.role,
            "cpu": self.cpu,
            "accel": self.accel,
            "proven": self.proven,
            "why": self.why,
            "probe": self.probe.to_json(),
        }
