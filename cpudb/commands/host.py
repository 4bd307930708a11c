"""`cpudb host`: what a host CPU has and which CPU models it can run under KVM."""

from __future__ import annotations

import argparse

from cpudb.commands.common import add_json, add_qemu, formatter
from cpudb.errors import CpudbError, NotFound

TYPE_CHECKING = False  # typing costs ~4 ms to import: only type checkers read these
if TYPE_CHECKING:
    from typing import Any

DESCRIPTION = """\
Decode a host CPU against one QEMU release. A host FILE is read by its content: a `cpuid
-1 -r` or `cpuid -r` dump, /proc/cpuinfo, `lscpu -J`, `virsh domcapabilities` (libvirt's
host-model, and QEMU's own usable/blockers verdicts, which are honoured), `virsh
capabilities`, QMP answers (query-cpu-model-expansion of host, query-cpu-definitions) or
`kubectl get nodes -o json` (KubeVirt labels; many hosts, for baseline and pools); or
this machine, or QEMU itself under KVM. It shows its features by QEMU name, and for
every CPU name of the release whether it is usable under KVM or which features it
enables that the host lacks (its blockers; QEMU drops those with "host doesn't support
requested feature" unless `enforce` is set). Features the source cannot tell (MSR-based
ones such as mds-no or vmx-*, leaves missing from a dump) are reported as unknown, never
as absent, and are not blockers."""

EPILOG = """\
examples:
  cpuid -1 -r > box1.cpuid; cpudb host box1.cpuid      decode a dump, list usable models
  cpudb host box1.cpuid --qemu 7.2 --json              the same as JSON, for QEMU 7.2
  cpuid -1 -r | ssh admin cpudb host -                 a dump on stdin
  cpudb host --this-host                               what KVM gives a guest here (asked
                                                       of /dev/kvm; else this CPU's CPUID)
  cpudb host --qmp                                     ask QEMU under KVM what it allows
  cpudb host add box1 box1.cpuid                       keep it in the database as "box1"
  cpudb host box1 --qemu 9.2                           decode a stored host for QEMU 9.2
  cpudb host list                                      stored hosts
  cpudb host "Xeon Gold 6148"                          a catalogued real CPU, no dump needed
  cpudb host list --catalogue                          every catalogued CPU (libvirt's dumps)
  cpudb host rm box1
  cpudb host diff box1.cpuid box1-after.cpuid         drift after a microcode/kernel update:
                                                       features lost/gained, names now blocked
  cpudb host diff old.xml new.xml --pool b.xml c.xml  ... and whether the pool's -cpu still runs
  virsh dumpxml vm1 > vm1.xml; cpudb host check vm1.xml hostB.xml hostC.xml
                                                       can vm1 start on / migrate to these hosts?

JSON (`--json`): {"vendor", "family", "model", "stepping", "brand", "hypervisor",
"source", "qemu", "features": [QEMU names], "unknown": [...], "missing_leaves": [...],
"kvm_supplied": [...], "best": [...], "models": [{"name", "usable", "blockers",
"unknown", "alias_of"}]}; with --qmp each model also has "qemu_unavailable"."""

SUBCOMMANDS = ("add", "list", "rm", "diff", "check")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "host",
        help="what a host CPU has; which models it can run under KVM",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=formatter(),
    )
    p.add_argument(
        "args",
        nargs="*",
        metavar="FILE|NAME|add|list|rm",
        help="a dump file, - for stdin, a stored host NAME; or `add NAME SOURCE`, "
        "`list`, `rm NAME`",
    )
    src = p.add_mutually_exclusive_group()
    src.add_argument(
        "--this-host",
        action="store_true",
        help="this machine: what KVM gives a guest (KVM_GET_SUPPORTED_CPUID on /dev/kvm), "
        "else the CPU's CPUID (/dev/cpu/0/cpuid, cpuid -1 -r or /proc/cpuinfo)",
    )
    src.add_argument(
        "--qmp",
        action="store_true",
        help="ask QEMU under KVM on this machine (the `host` model and each "
        "model's unavailable-features)",
    )
    p.add_argument("--binary", metavar="PATH", help="QEMU binary for --qmp")
    p.add_argument(
        "--pool",
        nargs="+",
        default=[],
        metavar="HOST",
        help="with `diff`: the other hosts of its pool (does the pool's -cpu still run?)",
    )
    add_qemu(p)
    p.add_argument(
        "--all",
        action="store_true",
        help="list every usable CPU name (default: usable names grouped by model)",
    )
    p.add_argument(
        "--catalogue",
        action="store_true",
        help="with `list`: the catalogued real CPUs (names `cpudb host` and `advise "
        "--host` take when no dump is at hand) instead of the stored hosts",
    )
    add_json(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    words = list(args.args)
    if words and words[0] == "diff":
        return _diff(args, words[1:])
    if words and words[0] == "check":
        return _check(args, words[1:])
    if words and words[0] in SUBCOMMANDS:
        return _manage(args, words)
    spec = _spec(args, words, "cpudb host FILE")
    return _show(args, spec)


def _spec(args: argparse.Namespace, words: list[str], usage: str) -> str:
    given = (
        [w for w in words]
        + (["this-host"] if args.this_host else [])
        + (["qmp"] if args.qmp else [])
    )
    if len(given) != 1:
        what = "no host given" if not given else f"one host at a time, got {' '.join(given)}"
        raise CpudbError(f"{what}", hint=f"{usage}, - (stdin), --this-host or --qmp")
    return given[0]


def _load(spec: str, args: argparse.Namespace, db: Any):  # noqa: ANN202 - HostCpu
    from cpudb import host_load as host

    if spec == "qmp":
        return host.qmp_host(args.binary)
    return host.load_host(spec, db)


def _show(args: argparse.Namespace, spec: str) -> int:
    from cpudb import host_fit as H
    from cpudb.query import open_db

    db = open_db(args.db)
    cpu = _load(spec, args, db)
    rel = _release(db, args.qemu, cpu)
    hf = cpu.features_in(rel)
    fits = H.model_fits(rel, hf)
    best = H.best_models(rel, cpu, hf, limit=None)
    qemu_unavail = dict(cpu.qemu_unavailable)
    if args.json:
        from cpudb.render import print_json

        print_json("host", _json(cpu, rel, hf, fits, best, qemu_unavail))
        return 0
    _text(cpu, rel, hf, fits, best, qemu_unavail, show_all=args.all)
    return 0


def _release(db: Any, query: str | None, cpu: Any):  # noqa: ANN202 - Release
    if query is None and cpu.kind == "qmp":
        # the release of the binary asked: its own label, else its X.Y.Z, else the newest
        # X.Y cpudb has (11.1.3 -> 11.1.0: stable releases keep the models)
        full = cpu.qemu_version.split("-")[0]
        series = ".".join(full.split(".")[:2])
        for label in dict.fromkeys((cpu.qemu_version, full, series)):
            try:
                return db.release(label)
            except NotFound:
                continue
    from cpudb.commands.common import pick_release

    return pick_release(db, query)[0]


def _json(cpu, rel, hf, fits, best, qemu_unavail) -> dict[str, Any]:  # noqa: ANN001
    models = []
    for f in fits:
        m: dict[str, Any] = {
            "name": f.name,
            "usable": f.usable,
            "blockers": list(f.blockers),
            "unknown": list(f.unknown),
            "alias_of": f.alias_of,
        }
        if f.name in qemu_unavail:
            m["qemu_unavailable"] = list(qemu_unavail[f.name])
        models.append(m)
    return {
        "source": cpu.source,
        "kind": cpu.kind,
        "qemu": rel.version,
        "accel": "kvm",
        "vendor": cpu.vendor,
        "family": cpu.family,
        "model": cpu.model,
        "stepping": cpu.stepping,
        "signature": None if cpu.signature is None else f"{cpu.signature:#010x}",
        "brand": cpu.brand,
        "hypervisor": cpu.hypervisor,
        "features": sorted(hf.present),
        "unknown": sorted(hf.unknown),
        "missing_leaves": list(hf.missing_leaves),
        "kvm_supplied": sorted(hf.kvm_supplied),
        "differing": sorted(hf.differing),
        "notes": list(hf.notes),
        "best": list(best),
        "models": models,
    }


def _text(cpu, rel, hf, fits, best, qemu_unavail, *, show_all: bool) -> None:  # noqa: ANN001
    from cpudb import host_fit as H
    from cpudb.render import wrap

    sig = f", signature {cpu.signature:#010x}" if cpu.signature is not None else ""
    print(f"{cpu.brand or '(no brand string)'}")
    print(
        f"  {cpu.vendor.strip() or '?'} family {cpu.family} model {cpu.model} "
        f"({cpu.model:#x}) stepping {cpu.stepping}{sig}"
    )
    print(f"  hypervisor bit: {'set (this host is itself a VM)' if cpu.hypervisor else 'clear'}")
    print(f"  source: {cpu.source}")
    for n in hf.notes:
        print(f"  note: {n}")
    print(f"\nQEMU {rel.version} features present ({len(hf.present)}):")
    print(wrap(sorted(hf.present)))
    if hf.unknown:
        msr_words = {w.name for w in rel.words if w.type == "msr"}
        msr = {f.name for f in rel.features if f.word in msr_words} & hf.unknown
        rest = sorted(hf.unknown - msr)
        print(f"unknown to this source ({len(hf.unknown)}; not counted as blockers):")
        if rest:
            print(wrap(rest))
        if msr:
            print(
                f"  + {len(msr)} MSR-based (arch-capabilities bits, vmx-*, ...; --json lists them)"
            )
    if hf.differing:
        print("differ between CPUs (CPU 0 used): " + " ".join(sorted(hf.differing)))
    if hf.kvm_supplied:
        pv = sorted(n for n in hf.kvm_supplied if n.startswith(("kvm", "hv-")))
        other = sorted(hf.kvm_supplied - set(pv))
        pv_note = [f"+ {len(pv)} KVM paravirt (kvmclock, kvm-pv-*, ...)"] if pv else []
        print("given by KVM although the host CPU lacks them:")
        print(wrap(other + pv_note))

    print(f"\nbest-fitting models ({cpu.vendor.strip()}, no blockers, newest first):")
    if best:
        shown = [_with_aliases(rel, n, H) for n in best[:8]]
        print(wrap(shown) + (" ..." if len(best) > 8 else ""))
    else:
        print("  none: every model of this vendor has blockers (see below)")

    usable = [f for f in fits if f.usable]
    blocked = [f for f in fits if not f.usable]
    print(f"\nusable under KVM ({len(usable)} of {len(fits)} CPU names):")
    names = [f.name for f in usable] if show_all else [f.name for f in usable if not f.alias_of]
    print(wrap(names) if names else "  none")
    if not show_all and len(names) < len(usable):
        print(f"  (+{len(usable) - len(names)} aliases of these; --all lists them)")
    if blocked:
        print(f"\nblocked ({len(blocked)}), with the features the host lacks:")
        rows = [f for f in blocked if show_all or not f.alias_of]
        width = max(len(f.name) for f in rows) if rows else 0
        for f in rows:
            extra = ""
            if f.name in qemu_unavail:
                extra = f"   [QEMU says: {' '.join(qemu_unavail[f.name]) or '-'}]"
            print(f"  {f.name.ljust(width)}  {' '.join(f.blockers)}{extra}")


def _with_aliases(rel: Any, name: str, H: Any) -> str:  # noqa: N803
    al = H.aliases_of(rel, name)
    return f"{name} (= {', '.join(al)})" if al else name


# ----------------------------------------------------------- diff


def _diff(args: argparse.Namespace, rest: list[str]) -> int:
    from cpudb.commands.advise import load_hosts
    from cpudb.commands.common import pick_release
    from cpudb.drift import drift
    from cpudb.query import open_db

    if len(rest) != 2:
        raise CpudbError(
            f"`cpudb host diff` takes BEFORE and AFTER (got {len(rest)})",
            hint="cpudb host diff box1-before.cpuid box1-after.cpuid",
        )
    db = open_db(args.db)
    rel, _ = pick_release(db, args.qemu)
    before, after = load_hosts(rest, db, rel)
    d = drift(rel, before, after, load_hosts(args.pool, db, rel) if args.pool else ())
    if args.json:
        from cpudb.render import print_json

        print_json("host.diff", _diff_json(d))
    else:
        print(_diff_text(d), end="")
    return 1 if d.changed else 0


def _diff_json(d: Any) -> dict[str, Any]:
    pool = None
    if d.pool is not None:
        pool = {
            "members": list(d.pool.members),
            "before": d.pool.before.cpu(),
            "after": d.pool.after.cpu(),
            "broken": d.pool.broken,
            "blockers": list(d.pool.blockers),
        }
    return {
        "qemu": d.qemu,
        "before": d.before,
        "after": d.after,
        "lost": list(d.lost),
        "gained": list(d.gained),
        "now_unknown": list(d.now_unknown),
        "newly_blocked": [{"name": n, "blockers": list(b)} for n, b in d.newly_blocked],
        "newly_usable": list(d.newly_usable),
        "pool": pool,
        "changed": d.changed,
    }


def _diff_text(d: Any) -> str:
    out = [f"QEMU {d.qemu}, KVM: {d.before} -> {d.after}"]
    if not d.changed and not d.now_unknown:
        return "\n".join([*out, "  no change a guest would see"]) + "\n"
    if d.lost:
        out.append(f"  lost ({len(d.lost)}): {' '.join(d.lost)}")
    if d.gained:
        out.append(f"  gained ({len(d.gained)}): {' '.join(d.gained)}")
    if d.now_unknown:
        out.append(f"  no longer readable ({len(d.now_unknown)}): {' '.join(d.now_unknown)}")
    if d.newly_blocked:
        out.append(f"  CPU names that ran before and are now blocked ({len(d.newly_blocked)}):")
        out += [f"    {n}: lacks {', '.join(b)}" for n, b in d.newly_blocked]
    if d.newly_usable:
        out.append(f"  CPU names usable now ({len(d.newly_usable)}): {' '.join(d.newly_usable)}")
    if d.pool is not None:
        p = d.pool
        members = ", ".join(p.members)
        if p.before.best is None:
            out.append(f"  pool with {members}: no CPU name ran on all of it before")
        elif p.blockers:
            out.append(
                f"  pool with {members} BREAKS: -cpu {p.before.cpu(enforce=True)} lacks "
                f"{', '.join(p.blockers)} on {d.after}; "
                + (f"new baseline -cpu {p.after.cpu(enforce=True)}" if p.after.best else
                   "no CPU name runs on the pool now")
            )  # fmt: skip
        else:
            out.append(f"  pool with {members}: -cpu {p.before.cpu(enforce=True)} still runs")
    return "\n".join(out) + "\n"


def _check(args: argparse.Namespace, rest: list[str]) -> int:
    from cpudb.commands.advise import libvirt_names, load_hosts
    from cpudb.commands.common import pick_release
    from cpudb.host_libvirt import libvirt_locations
    from cpudb.query import open_db
    from cpudb.scrapers import libvirt_xml
    from cpudb.textinput import read_small
    from cpudb.vmcheck import check

    if len(rest) < 2:
        raise CpudbError(
            "`cpudb host check` takes a domain XML and one or more hosts",
            hint="virsh dumpxml VM > vm.xml; cpudb host check vm.xml HOST...",
        )
    vm = libvirt_xml.parse(read_small(rest[0], 16 << 20, "libvirt domain XML"), rest[0])
    if vm.what not in ("domain CPU", "CPU"):
        raise CpudbError(
            f"{rest[0]}: {vm.what}, not a domain's <cpu>",
            hint="give `virsh dumpxml VM` (the hosts come after it)",
        )
    db = open_db(args.db)
    rel, _ = pick_release(db, args.qemu)
    names = libvirt_names(rel)
    by_loc = {f.location: f.name for f in rel.features}
    qemu_name = {n: by_loc[loc] for n, loc in libvirt_locations().items() if loc in by_loc}
    r = check(rel, vm, load_hosts(rest[1:], db, rel), names.model_features, qemu_name)
    if args.json:
        from cpudb.render import print_json

        print_json(
            "host.check",
            {
                "qemu": r.qemu,
                "mode": r.mode,
                "model": r.model,
                "unknown": list(r.unknown),
                "hosts": [
                    {"host": h.host, "runs": not h.blockers, "blockers": list(h.blockers)}
                    for h in r.hosts
                ],  # fmt: skip
                "runs_everywhere": r.runs_everywhere,
                "notes": list(r.notes),
            },
        )
    else:
        out = [f"QEMU {r.qemu}, KVM: the VM's CPU: {r.mode} {r.model}".rstrip()]
        for h in r.hosts:
            out.append(
                f"  {h.host}: "
                + ("starts" if not h.blockers else f"BLOCKED, lacks {', '.join(h.blockers)}")
            )
        if r.unknown:
            out.append(f"  libvirt features cpudb cannot place: {', '.join(r.unknown)}")
        out += [f"  note: {n}" for n in r.notes]
        if r.hosts:
            out.append(
                "  it can live-migrate between all of them"
                if r.runs_everywhere
                else "  it cannot start on, or migrate to, the blocked hosts"
            )
        print("\n".join(out))
    return 0 if r.runs_everywhere else 1


# ----------------------------------------------------------- add / list / rm


def _manage(args: argparse.Namespace, words: list[str]) -> int:
    from cpudb import hoststore
    from cpudb.query import open_db

    verb, rest = words[0], words[1:]
    if verb == "list":
        if rest:
            raise CpudbError(f"`cpudb host list` takes no arguments (got {' '.join(rest)})")
        if args.catalogue:
            return _list_catalogue(args.json)
        return _list(hoststore.all_hosts(), args.json)
    if not rest:
        raise CpudbError(
            f"`cpudb host {verb}` needs a NAME",
            hint="cpudb host add NAME FILE | cpudb host rm NAME",
        )
    name = rest[0]
    if verb == "rm":
        if len(rest) > 1 or args.this_host or args.qmp:
            raise CpudbError("`cpudb host rm` takes one NAME")
        if not hoststore.remove(name):
            raise NotFound(f"no stored host named {name!r}", hint="`cpudb host list`")
        print(f"removed host {name}")
        return 0
    reserved = (*SUBCOMMANDS, "this-host", "this-cpu", "kvm", "qmp")
    if not hoststore.NAME.fullmatch(name) or name in reserved:
        raise CpudbError(
            f"bad host name {name!r}",
            hint="letters, digits and . _ - + @, up to 64, not add/list/rm",
        )
    spec = _spec(args, rest[1:], f"cpudb host add {name} FILE")
    cpu = _load(spec, args, open_db(args.db))
    path = hoststore.save(name, cpu.source, cpu.to_json())
    if args.json:
        from cpudb.render import print_json

        print_json(
            "host.add", {"name": name, "source": cpu.source, "brand": cpu.brand, "file": str(path)}
        )
    else:
        print(f"saved host {name}: {cpu.brand or cpu.vendor} ({cpu.source}) in {path}")
    return 0


def _list(hosts: list[dict[str, Any]], as_json: bool) -> int:
    from cpudb.render import print_json, table

    rows = [
        {
            "name": h["name"],
            "added": h["added"],
            "source": h["source"],
            "vendor": h["data"].get("vendor"),
            "family": h["data"].get("family"),
            "model": h["data"].get("model"),
            "stepping": h["data"].get("stepping"),
            "brand": h["data"].get("brand"),
        }
        for h in hosts
    ]
    if as_json:
        print_json("hosts", rows)
        return 0
    if not rows:
        print("no stored hosts (cpudb host add NAME FILE)")
        return 0
    table(
        (
            [
                r["name"],
                r["added"],
                f"{r['family']}/{r['model']}/{r['stepping']}",
                r["brand"] or r["vendor"],
                r["source"],
            ]
            for r in rows
        ),
        ["name", "added", "fam/model/step", "brand", "source"],
    )
    return 0


def _list_catalogue(as_json: bool) -> int:
    from cpudb import cpus
    from cpudb.render import print_json, table

    rows = cpus.entries()
    if as_json:
        print_json("host.catalogue", {"source": cpus.source(), "cpus": rows})
        return 0
    table(
        ([r["name"], f"{r['family']}/{r['model']}/{r['stepping']}", r["brand"]] for r in rows),
        ["name", "fam/model/step", "brand"],
    )
    print(f"({len(rows)} CPUs; {cpus.source()})")
    return 0
