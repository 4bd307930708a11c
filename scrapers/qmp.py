"""Ask a real QEMU binary over QMP which CPU names it has and what each expands to.

`query-cpu-definitions` lists the names; `query-cpu-model-expansion` (type `full`)
gives every property of each. This is QEMU's own answer: the ground truth the source
parser is checked against, and the way to capture a distro build with its patches.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from cpudb.errors import SourceError
from cpudb.record import Record

if TYPE_CHECKING:
    from cpudb.model import Release

DEFAULT_BINARIES = ("qemu-system-x86_64", "qemu-kvm", "/usr/libexec/qemu-kvm")
# Names that are not table models: host passthrough and QOM-registered special models.
SPECIAL = frozenset({"host", "max", "base"})


class QmpCpu(Record):
    name: str
    alias_of: str | None
    deprecated: bool
    unavailable: tuple[str, ...]
    props: dict[str, object]


class QmpCapture(Record):
    binary: str
    version: str  # "7.2.22"
    package: str  # "Debian 1:7.2+dfsg-7+deb12u18+b3" or ""
    accel: str
    cpus: tuple[QmpCpu, ...]


def find_binary(binary: str | None) -> str:
    candidates = [binary] if binary else list(DEFAULT_BINARIES)
    for c in candidates:
        path = shutil.which(c) if c else None
        if path:
            return path
    raise SourceError(
        f"no QEMU binary found ({', '.join(c for c in candidates if c)})",
        hint="apt-get install qemu-system-x86, or pass --binary PATH",
    )


@contextlib.asynccontextmanager
async def session(
    binary: str, accel: str, timeout: float, *, hint: str
) -> AsyncIterator[tuple[Any, str, str]]:
    """Start `binary -machine none -accel ACCEL` with a QMP socket, connect, and yield
    (client, version "7.2.22", package "Debian 1:7.2+dfsg-..."); the process is killed
    on the way out. `hint` is what to try when QEMU exits at once."""
    for attempt in (1, 2):
        try:
            async with _session(binary, accel, timeout, hint=hint) as got:
                yield got
                return
        except _BadGreeting:
            # seen once on a loaded machine: the first message on the socket was not
            # QMP's greeting. A fresh QEMU gets it right.
            if attempt == 2:
                raise SourceError(f"{binary}: QMP greeting not understood, twice") from None


class _BadGreeting(Exception):
    pass


@contextlib.asynccontextmanager
async def _session(
    binary: str, accel: str, timeout: float, *, hint: str
) -> AsyncIterator[tuple[Any, str, str]]:
    from qemu.qmp import QMPClient
    from qemu.qmp.protocol import ConnectError

    with tempfile.TemporaryDirectory(prefix="cpudb-qmp-") as tmp:
        sock = os.path.join(tmp, "qmp.sock")
        cmd = [binary, "-machine", "none", "-accel", accel, "-nodefaults", "-nographic",
               "-display", "none", "-serial", "none", "-monitor", "none",
               "-qmp", f"unix:{sock},server=on,wait=off"]  # fmt: skip
        proc = subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        client = QMPClient("cpudb")
        try:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + timeout
            while not os.path.exists(sock):
                if proc.poll() is not None:
                    err = (proc.stderr.read() if proc.stderr else b"").decode(errors="replace")
                    last = (
                        err.strip().splitlines()[-1] if err.strip() else f"status {proc.returncode}"
                    )
                    raise SourceError(f"{binary} -accel {accel} exited: {last}", hint=hint)
                if loop.time() > deadline:
                    raise SourceError(f"{binary} did not open its QMP socket in {timeout:.0f}s")
                await asyncio.sleep(0.02)
            try:
                await asyncio.wait_for(client.connect(sock), timeout)
            except ConnectError as e:
                if "Greeting" in str(e):
                    raise _BadGreeting from e
                raise
            ver: Any = await client.execute("query-version")
            q = ver["qemu"]
            version = f"{q['major']}.{q['minor']}.{q['micro']}"
            package = str(ver.get("package", "")).strip().strip("()").strip()
            yield client, version, package
        finally:
            # best effort: the process is killed right after anyway
            with contextlib.suppress(Exception):
                await client.disconnect()
            proc.kill()
            proc.wait()


async def _capture(binary: str, accel: str, names: list[str] | None, timeout: float) -> QmpCapture:
    hint = "is this an x86 system emulator? (try --accel tcg)"
    async with session(binary, accel, timeout, hint=hint) as (client, version, package):
        defs: Any = await client.execute("query-cpu-definitions")
        cpus = []
        for d in defs:
            name = d["name"]
            if names is not None and name not in names:
                continue
            if name in SPECIAL:
                continue
            exp: Any = await client.execute(
                "query-cpu-model-expansion", {"type": "full", "model": {"name": name}}
            )
            cpus.append(
                QmpCpu(
                    name=name,
                    alias_of=d.get("alias-of"),
                    deprecated=bool(d.get("deprecated", False)),
                    unavailable=tuple(d.get("unavailable-features", ())),
                    props=dict(exp["model"].get("props", {})),
                )
            )
        return QmpCapture(binary, version, package, accel, tuple(cpus))


def capture(
    binary: str | None = None,
    accel: str = "tcg",
    names: list[str] | None = None,
    timeout: float = 30.0,
) -> QmpCapture:
    path = find_binary(binary)
    return asyncio.run(_capture(path, accel, names, timeout))


def distro_label(capture: QmpCapture) -> str:
    """A label that never passes a distro build off as upstream: `7.2.22-debian`."""
    pkg = capture.package.lower()
    for distro in ("debian", "ubuntu", "rhel", "fedora", "suse"):
        if distro in pkg:
            return f"{capture.version}-{distro}"
    if re.search(r"\bel\d", pkg):
        return f"{capture.version}-rhel"
    return capture.version if not pkg else f"{capture.version}-build"


def _number(value: object) -> int:
    """A number of QMP's expansion (family, model, stepping) as an int."""
    if isinstance(value, int | float | str):
        return int(value)
    raise TypeError(f"not a number: {value!r}")


def to_release(cap: QmpCapture, reference: Release, label: str | None = None) -> Release:
    """A Release from a QMP capture. Feature locations come from `reference` (a parsed
    release close to the binary's version), since QMP reports names, not CPUID bits."""
    from cpudb.model import CpuName, Release
    from cpudb.resolve import name_index

    index = name_index(reference.features)
    # QEMU's expansion applies the accelerator's defaults (TCG: vme=off; KVM: x2apic=on,
    # svm=off, ...): for the features they set, record the definition, as the reference
    # release has it, so a capture under either accelerator compares with the source.
    touched = set(index[k] for k, _ in reference.default_props(cap.accel) if k in index)
    for dep in reference.dependencies:  # svm=off also clears npt, nrip-save, ...
        if set(dep.requires) & touched:
            touched |= set(dep.clears)
    defined = {c.name: c.features & touched for c in reference.cpus}
    touched_names = sorted(touched)
    concrete: dict[str, CpuName] = {}
    for c in cap.cpus:
        p = c.props
        feats = frozenset(index[k] for k, v in p.items() if v is True and k in index)
        if c.name in defined:
            feats = (feats - touched) | defined[c.name]
        m = re.fullmatch(r"(.+)-v(\d+)", c.name)
        concrete[c.name] = CpuName(
            name=c.name,
            kind="version" if m else "model",
            model=m.group(1) if m else c.name,
            version=int(m.group(2)) if m else None,
            features=feats,
            vendor=str(p.get("vendor", "")),
            family=_number(p.get("family", 0)),
            model_number=_number(p.get("model", 0)),
            stepping=_number(p.get("stepping", 0)),
            model_id=str(p.get("model-id", "")),
            deprecation_note="deprecated (as reported by QEMU)" if c.deprecated else None,
        )
    from cpudb.record import replace

    cpus = []
    for c in cap.cpus:
        cpu = concrete[c.name]
        if c.alias_of and c.alias_of in concrete:
            target = concrete[c.alias_of]
            kind = "bare" if target.model == c.name else "alias"
            cpu = replace(target, name=c.name, kind=kind, alias_of=c.alias_of)
        cpus.append(cpu)
    version = label or distro_label(cap)
    return Release(
        version=version,
        upstream=version == cap.version,
        origin=f"QMP {os.path.basename(cap.binary)} {cap.version}"
        + (f" ({cap.package})" if cap.package else "")
        + f", accel {cap.accel} (its defaults undone: "
        + (", ".join(touched_names[:6]) + (", ..." if len(touched_names) > 6 else "") or "none")
        + f", as defined in {reference.version}); feature locations from {reference.version}",
        words=reference.words,
        features=reference.features,
        dependencies=reference.dependencies,
        accel_defaults=reference.accel_defaults,
        models=(),
        cpus=tuple(cpus),
        default_version=reference.default_version,
        source="qmp",
    )
