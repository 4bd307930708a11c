"""The advise use case: needs (and hosts) in, the ranked advice out, with what the
answer needs around it: this machine's own answer under KVM, since-when history, the
probe verdicts of --verify, and the CPU to write in a libvirt-based config."""

from __future__ import annotations

from cpudb.record import Record

TYPE_CHECKING = False  # typing costs ~4 ms to import: only type checkers read these
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any

    from cpudb.advise import Advice, Candidate, Need
    from cpudb.decide.offer import Offer
    from cpudb.installed import Choice
    from cpudb.libvirt_model import LibvirtNames
    from cpudb.model import Release
    from cpudb.probe import Verified
    from cpudb.query import Db
    from cpudb.recommended import RecommendedFlag


class AdviseRequest(Record):
    needs: tuple[str, ...]  # any spelling, x86-64-vN, guest OS names
    qemu: str | None = None  # release query (None: the installed QEMU's, else the newest)
    accel: str = "kvm"
    vendors: tuple[str, ...] = ()  # intel, amd, GenuineIntel, ...
    cross_vendor: bool = False
    hosts: tuple[str, ...] = ()  # host specs: stored name, file, -, this-host, qmp
    recommended: bool = False  # add QEMU's recommended flags
    keep_blocked: bool = False  # keep candidates a host blocks (--all)
    verify: bool = False  # probe the first answer (and this machine's)
    history: bool = True  # since-when each model has each need (text and JSON)
    db: str | None = None


class AdviseResult(Record):
    release: Release
    picked: Choice  # which release and why
    needs: tuple[Need, ...]
    advice: Advice
    here: Advice | None  # this machine's answer (KVM, no hosts given), when KVM answers
    verified: tuple[Verified, ...] | None
    since_model: dict[str, Any]
    since_name: dict[str, Any]


def advise_case(req: AdviseRequest) -> AdviseResult:
    from cpudb.app.inputs import (
        load_hosts,
        load_recommended,
        pick_release,
        resolve_needs,
        vendors,
    )
    from cpudb.errors import CpudbError
    from cpudb.query import open_db

    if not req.needs:
        raise CpudbError("--needs is empty", hint="e.g. --needs pdpe1gb")
    db = open_db(req.db)
    release, picked = pick_release(db, req.qemu)
    needs = tuple(resolve_needs(release, list(req.needs)))
    hosts = load_hosts(list(req.hosts), db, release)
    options = Options(
        accel=req.accel,
        vendors=tuple(vendors(list(req.vendors))),
        cross_vendor=req.cross_vendor,
        recommended=load_recommended(release)[1] if req.recommended else None,
        keep_blocked=req.keep_blocked,
    )
    advice = advise_loaded(release, needs, hosts, options)
    here = None
    if not req.hosts and req.accel == "kvm":
        here = this_machine(db, release, needs, options)
    verified = tuple(verify(db, advice, here)) if req.verify else None
    since_model, since_name = history(db, release, advice) if req.history else ({}, {})
    return AdviseResult(release, picked, needs, advice, here, verified, since_model, since_name)


class Options(Record):
    """How to rank, beside the needs and the hosts (`cpudb advise`'s options)."""

    accel: str = "kvm"
    vendors: tuple[str, ...] = ()  # CPUID vendor strings to keep (empty: all)
    cross_vendor: bool = False
    recommended: dict[str, tuple[RecommendedFlag, ...]] | None = None
    keep_blocked: bool = False


def advise_loaded(
    release: Release,
    needs: Sequence[Need],
    hosts: Sequence[Offer],
    options: Options | None = None,
) -> Advice:
    """The advisor's answer for needs and hosts already read (the TUI's needs box too),
    with the facts it ranks by: the catalogue of real CPUs and Linux's feature deps."""
    from cpudb import facts
    from cpudb.advise import advise

    options = options or Options()
    return advise(
        release,
        needs,
        hosts=hosts,
        accel=options.accel,
        vendors=options.vendors,
        cross_vendor=options.cross_vendor,
        recommended=options.recommended,
        keep_blocked=options.keep_blocked,
        **facts.for_advice(release, hosts, options.accel),
    )


def config_pick(advice: Advice, names: LibvirtNames) -> tuple[Candidate, tuple[Candidate, ...]]:
    """The CPU to write in a libvirt-based config, and up to 3 alternates: libvirt (and so
    Nova, Proxmox and KubeVirt) has no versioned names before 10.x, so the best candidate
    it can name, falling back to the overall best (its config says the caveat)."""
    assert advice.best is not None
    usable = [c for c in advice.candidates if not c.blockers]
    nameable = [c for c in usable if names.knows(c)]
    pick = nameable[0] if nameable else advice.best
    return pick, tuple(c for c in nameable if c is not pick)[:3]


def history(db: Db, release: Release, advice: Advice) -> tuple[dict[str, Any], dict[str, Any]]:
    """need -> model -> first upstream release with it natively; need -> CPU name -> same.
    Only models and names of `release`, and releases up to it."""
    from cpudb.advise import since_by_model, since_by_name
    from cpudb.versions import version_key

    top = version_key(release.version)[0]
    ups = [i.version for i in db.versions() if i.upstream and version_key(i.version)[0] <= top]
    models = {c.model for c in release.cpus}
    names = {c.name for c in release.cpus}
    by_model: dict[str, Any] = {}
    by_name: dict[str, Any] = {}
    for n in advice.needs:
        rows = db.feature_firsts(n.location, release.version)
        by_model[n.name] = {m: v for m, v in since_by_model(rows, ups).items() if m in models}
        by_name[n.name] = {c: v for c, v in since_by_name(rows, ups).items() if c in names}
    return by_model, by_name


def this_machine(
    db: Db, release: Release, needs: Sequence[Need], options: Options
) -> Advice | None:
    """The same advice for this machine alone, when its KVM can be asked (else None)."""
    from cpudb.app.inputs import load_hosts
    from cpudb.host_load import kvm_device

    if kvm_device() is None:
        return None
    return advise_loaded(release, needs, load_hosts(["this-host"], db, release), options)


def verify(db: Db, advice: Advice, here: Advice | None) -> list[Verified]:
    """Probe the first answer (under its accelerator) and this machine's answer."""
    from cpudb.app.probe import probe
    from cpudb.probe import ASKABLE, CHECK_OF, Verified

    needs = frozenset(n.name for n in advice.needs)
    checks = tuple(c for c in ASKABLE if c in {CHECK_OF.get(n) for n in needs})
    targets = []
    if advice.best is not None:
        targets.append(("first answer", advice.best.cpu(enforce=True), advice.accel))
    if here is not None and here.best is not None:
        targets.append(("this machine", here.best.cpu(enforce=True), "kvm"))
    out = []
    for role, cpu, accel in targets:
        p = probe(db, cpu, accel, checks)
        proven, why = p.proves(needs)
        out.append(Verified(role, cpu, accel, proven, why, p))
    return out
