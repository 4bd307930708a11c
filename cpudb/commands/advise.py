"""`cpudb advise --needs F`: which -cpu (and which extra flags) give a guest what it needs."""

from __future__ import annotations

import argparse
import sys

from cpudb.commands.common import add_qemu, formatter, pick_release, split_list

EPILOG = """\
examples:
  cpudb advise --needs pdpe1gb                  1 GiB pages: a model that has it, or
                                                Haswell-v4,pdpe1gb=on
  cpudb advise --needs pdpe1gb --qemu 7.2 --json | jq -r '.candidates[0].cpu'
  cpudb advise --needs la57 --host prod-haswell   impossible under KVM there, and why
  cpudb advise --needs avx2,CPUID.80000001H:EDX[26] --host a.cpuid --host b.cpuid
  cpudb advise --needs x86-64-v3 --vendor amd --format libvirt
  cpudb advise --needs rhel9                    "CPU does not support x86-64-v2"
  cpudb advise --needs pdpe1gb --this-host --recommended --format proxmox

Needs in any spelling: QEMU names old and new (sse4.1, sse4_1), Linux /proc/cpuinfo
names, libvirt names, CPUID locations (CPUID.80000001H:EDX[26], 0x80000001.edx.26),
an x86-64 level (x86-64-v3 = every feature of levels v1-v3), or a guest OS whose
vendor states what it needs: rhel9 (x86-64-v2), rhel10 (x86-64-v3), sles16,
windows10, windows11 (24H2: + sse4.2, popcnt), centos-stream9/10, alma9, rocky9.

Hosts: a name stored with `cpudb host add`, a `cpuid -1 -r` dump FILE, `-` for stdin,
--this-host (what this machine's KVM gives a guest) or --qmp (QEMU's own `host` model
here). Under KVM a guest can only get what every host has: names whose features a host
lacks are dropped (--all keeps them, marked), and no flag a host lacks is added. With no
host the answer is ranked for the most real hosts (a catalogue of real CPUs), and when
/dev/kvm works here the answer for this machine and `-cpu host` follow it. Under TCG
hosts do not matter; what TCG emulates does.

The release: --qemu, else that of the installed qemu-system-x86_64 (the header says
which), else the newest.

Exit status: 0 with at least one candidate, 1 when none (the reason on stderr),
2 for bad input."""

FORMATS = ("text", "json", "qemu", "libvirt", "nova", "proxmox", "kubevirt")


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "advise",
        help="which -cpu (and extra flags) give a guest the features it needs",
        formatter_class=formatter(),
        epilog=EPILOG,
        description="Rank the CPU names of a QEMU release for the features a guest needs:\n"
        "names that have them natively first, then names plus the fewest added flags,\n"
        "on the hosts given. Every answer carries its reasons.",
    )
    p.add_argument(
        "--needs",
        action="append",
        required=True,
        metavar="F[,F...]",
        help="features the guest needs (repeatable; comma or space separated)",
    )
    add_qemu(p)
    p.add_argument(
        "--host",
        action="append",
        default=[],
        metavar="NAME|FILE",
        help="a host the guest must run on (repeatable): stored name, cpuid "
        "dump file, or - for stdin",
    )
    p.add_argument(
        "--this-host",
        action="store_true",
        help="add this machine: what its KVM gives a guest (asked of /dev/kvm)",
    )
    p.add_argument(
        "--qmp",
        action="store_true",
        help="add this machine as QEMU itself sees it under KVM (the `host` model)",
    )
    p.add_argument(
        "--accel", choices=("kvm", "tcg"), default="kvm", help="accelerator (default: kvm)"
    )
    p.add_argument(
        "--vendor",
        action="append",
        metavar="V",
        help="only CPU models of this vendor: intel, amd, hygon, zhaoxin",
    )
    p.add_argument(
        "--cross-vendor",
        action="store_true",
        help="allow adding a flag that only another vendor's models have "
        "(svm on an Intel model, ...)",
    )
    p.add_argument(
        "--recommended",
        action="store_true",
        help="also add the flags QEMU's documentation recommends for the model's "
        "vendor (pcid, spec-ctrl, ssbd, md-clear, ibpb, virt-ssbd, ...) that "
        "every host supports",
    )
    p.add_argument(
        "--format",
        choices=FORMATS,
        default="text",
        help="text (default, with reasons), json, qemu (the -cpu argument), "
        "libvirt (domain XML <cpu>), nova (nova.conf and flavor traits), proxmox, "
        "kubevirt (VM spec.domain.cpu and the KubeVirt CR)",
    )
    p.add_argument("--json", action="store_true", help="same as --format json")
    add_libvirt(p)
    p.add_argument(
        "--all",
        action="store_true",
        help="list every CPU name (text), and keep blocked ones, marked",
    )
    p.add_argument(
        "--verify",
        action="store_true",
        help="boot the first answer (and this machine's) in the probe guest under this "
        "machine's QEMU and mark each proven or not (see `cpudb probe`)",
    )
    p.add_argument(
        "--limit",
        type=int,
        default=8,
        metavar="N",
        help="models shown per group in text (default: 8)",
    )
    p.set_defaults(run=run)


# ------------------------------------------------------------------ loading (I/O)


def resolve_needs(release, texts: list[str]) -> list:  # noqa: ANN001 -> list[Need]
    """Needs in any spelling -> `advise.Need`s of this release (NotFound: exit 2)."""
    from cpudb.advise import Need
    from cpudb.errors import CpudbError, NotFound
    from cpudb.names import FeatureNames, extra_names

    names: FeatureNames | None = None
    info = extra_names()
    by_loc = {f.location: f for f in release.features}
    out: list[Need] = []

    def need(f, text: str, via: str | None = None) -> Need:  # noqa: ANN001
        w = release.word(f.word)
        extra = info.get(f.location, {})
        return Need(
            text=text,
            name=f.name,
            location=f.location,
            where=w.describe(f.bit) if w else f.location,
            linux_name=extra.get("linux_name"),
            description=extra.get("description"),
            via=via,
        )

    from cpudb import guest_os

    expanded: list[tuple[str, str | None]] = []
    for t in texts:
        g = guest_os.lookup(t)
        expanded += [(x, g.name) for x in g.needs] if g else [(t, None)]
    for t, guest in expanded:
        if t.lower().startswith("x86-64-v"):
            from cpudb import levels

            lvl = levels.parse_level(t)
            for n in range(1, lvl + 1):
                for qname, loc in levels.LEVELS[n]:
                    f = by_loc.get(loc)
                    if f is None:
                        raise CpudbError(
                            f"--needs {t}: QEMU {release.version} has no name for {qname} ({loc})",
                            hint="try a newer --qemu",
                        )
                    out.append(need(f, qname, via=f"{guest} = {t}" if guest else t))
            continue
        f = release.feature(t)
        if f is None:
            names = names or FeatureNames(release)
            try:
                f = names.lookup(t)
            except NotFound as e:
                raise NotFound(f"--needs: {e.message}", hint=e.hint) from None
        out.append(need(f, t, via=guest))
    seen: set[str] = set()
    return [n for n in out if not (n.name in seen or seen.add(n.name))]  # type: ignore[func-returns-value]


def load_hosts(specs: list[str], db, release) -> list:  # noqa: ANN001 -> list[Offer]
    """Hosts by spec (stored NAME, FILE of one or many hosts, - for stdin, this-host,
    qmp), as what KVM offers a guest there in `release`. Identical CPUs (the same reading
    from different files or nodes) are decoded once."""
    if not specs:
        return []
    from pathlib import Path

    from cpudb.decide.offer import Offer, kvm_offer
    from cpudb.host_cpu import same_reading
    from cpudb.host_load import load_hosts as read_hosts

    hosts: list[Offer] = []
    seen: set[str] = set()
    decoded: dict[object, object] = {}
    for spec in specs:
        found = read_hosts(spec, db)
        for label, cpu in found:
            if spec in ("this-host", "qmp"):
                name = "this machine" + (" (QEMU's host model)" if spec == "qmp" else "")
            elif spec == "-" and len(found) == 1:
                name = (cpu.brand or spec).strip()
            elif len(found) > 1:
                name = label
            else:
                name = Path(spec).name if Path(spec).is_file() else spec
            if name in seen:
                name = f"{name}#{len(hosts) + 1}"
            seen.add(name)
            key = same_reading(cpu)
            if key not in decoded:
                decoded[key] = cpu.features_in(release)
            hosts.append(kvm_offer(name, cpu.vendor, decoded[key], cpu.source))  # type: ignore[arg-type]
    return hosts


def load_recommended(release):  # noqa: ANN001, ANN201
    import json

    from cpudb.advise import pick_recommended
    from cpudb.paths import shipped_data_dir

    path = shipped_data_dir() / "qemu-recommended-flags.json"
    if not path.exists():
        from cpudb.errors import CpudbError

        raise CpudbError(
            f"{path}: missing",
            hint="python -m cpudb.scrapers.qemu_docs --source QEMU_TREE --out data/",
        )
    data = json.loads(path.read_text(encoding="utf-8"))

    def resolve(name: str) -> str | None:
        f = release.feature(name)
        return f.name if f else None

    return pick_recommended(data, release.version, resolve)


def libvirt_names(release, libvirt: str | None = None):  # noqa: ANN001, ANN201
    """libvirt's names for `release` as libvirt `libvirt` (default: the installed one)
    spells them (cpudb.libvirt_releases)."""
    from cpudb import libvirt_releases
    from cpudb.render_configs import LibvirtNames

    version, why = libvirt_releases.choose(libvirt)
    data = libvirt_releases.load(version)
    spelled = data.get("locations", {})
    feats = {
        f.name: spelled[f.location]["libvirt_name"]
        for f in release.features
        if spelled.get(f.location, {}).get("libvirt_name")
    }
    by_loc = {f.location: f.name for f in release.features}
    models = {
        m: frozenset(by_loc[loc] for loc in locs if loc in by_loc)
        for m, locs in data.get("model_features", {}).items()
    }
    return LibvirtNames(
        feats,
        frozenset(data.get("models", ())),
        data.get("source", ""),
        model_features=models,
        version=version,
        why=why,
        dependencies=release.dependencies,
    )


def add_libvirt(p) -> None:  # noqa: ANN001 - an ArgumentParser
    p.add_argument(
        "--libvirt",
        metavar="V",
        help="for libvirt, nova, proxmox and kubevirt: the names libvirt V knows "
        "(default: the installed libvirt; libvirt before 10.x has no versioned names)",
    )


def nova_traits() -> dict:
    """libvirt feature -> Nova's HW_CPU_X86_* traits (data/nova-cpu-traits.json)."""
    import json

    from cpudb.paths import shipped_data_dir

    path = shipped_data_dir() / "nova-cpu-traits.json"
    return json.loads(path.read_text(encoding="utf-8"))["traits"] if path.exists() else {}


def render_config(fmt: str, answer, names) -> str:  # noqa: ANN001
    """--format libvirt|nova|proxmox|kubevirt of one chosen CPU (a render_configs.Answer),
    in the names of one libvirt (a render_configs.LibvirtNames)."""
    from cpudb import render_configs as rc

    if fmt == "nova":
        return rc.nova(answer, names, nova_traits())
    return rc.RENDERERS[fmt](answer, names)


def deprecated_names(release) -> tuple:  # noqa: ANN001
    return tuple(c.name for c in release.cpus if c.deprecation_note is not None)


def history(db, release, advice) -> tuple[dict, dict]:  # noqa: ANN001
    """need -> model -> first upstream release with it natively; need -> CPU name -> same.
    Only models and names of `release`, and releases up to it."""
    from cpudb.advise import since_by_model, since_by_name
    from cpudb.versions import version_key

    timeline = getattr(db, "feature_timeline", None)
    if timeline is None:
        return {}, {}
    top = version_key(release.version)[0]
    ups = [i.version for i in db.versions() if i.upstream and version_key(i.version)[0] <= top]
    models = {c.model for c in release.cpus}
    names = {c.name for c in release.cpus}
    by_model, by_name = {}, {}
    firsts = getattr(db, "feature_firsts", None)
    for n in advice.needs:
        rows = firsts(n.location, release.version) if firsts else timeline(n.location)
        by_model[n.name] = {m: v for m, v in since_by_model(rows, ups).items() if m in models}
        by_name[n.name] = {c: v for c, v in since_by_name(rows, ups).items() if c in names}
    return by_model, by_name


def this_machine(db, release, needs, options: dict):  # noqa: ANN001, ANN201 -> Advice | None
    """The same advice for this machine alone, when its KVM can be asked (else None)."""
    from cpudb import facts
    from cpudb.advise import advise
    from cpudb.host_load import kvm_device

    if kvm_device() is None:
        return None
    hosts = load_hosts(["this-host"], db, release)
    return advise(release, needs, hosts=hosts, **options, **facts.for_advice(release, hosts))


def verify(db, advice, here):  # noqa: ANN001, ANN201 -> list[Verified]
    """Probe the first answer (under its accelerator) and this machine's answer."""
    from cpudb.commands.probe import probe
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


# ------------------------------------------------------------------ run


def run(args: argparse.Namespace) -> int:
    from cpudb import facts
    from cpudb import render_advice as ra
    from cpudb.advise import advise
    from cpudb.errors import CpudbError
    from cpudb.query import open_db

    fmt = "json" if args.json else args.format
    texts = split_list(args.needs)
    if not texts:
        raise CpudbError("--needs is empty", hint="e.g. --needs pdpe1gb")
    if args.limit < 1:
        raise CpudbError(f"--limit {args.limit}: must be at least 1")
    if args.verify and fmt not in ("text", "json"):
        raise CpudbError(f"--verify with --format {fmt}", hint="--verify reports in text or json")
    db = open_db(args.db)
    release, picked = pick_release(db, args.qemu)
    needs = resolve_needs(release, texts)
    vendors: list[str] = []
    if args.vendor:
        from cpudb.describe import vendor_strings

        for v in split_list(args.vendor):
            vendors += vendor_strings(v)
    specs = (
        list(args.host) + (["this-host"] if args.this_host else []) + (["qmp"] if args.qmp else [])
    )
    hosts = load_hosts(specs, db, release)
    recommended = None
    if args.recommended:
        _, recommended = load_recommended(release)
    options = {
        "accel": args.accel,
        "vendors": vendors,
        "cross_vendor": args.cross_vendor,
        "recommended": recommended,
        "keep_blocked": args.all,
    }
    advice = advise(
        release, needs, hosts=hosts, **options, **facts.for_advice(release, hosts, args.accel)
    )
    here = None
    if not specs and args.accel == "kvm":
        here = this_machine(db, release, needs, options)
    best = advice.best
    if best is None:
        for s in advice.impossible:
            print(f"cpudb: {s}", file=sys.stderr)
    verified = verify(db, advice, here) if args.verify else None
    if fmt in ("text", "json"):
        since_model, since_name = history(db, release, advice)
        if fmt == "json":
            from cpudb.render import print_json

            doc = ra.to_json(
                advice,
                since_model=since_model,
                since_name=since_name,
                qemu_from=picked.why,
                here=here,
            )
            if verified is not None:
                doc["verified"] = [v.to_json() for v in verified]
            print_json("advise", doc)
        else:
            sys.stdout.write(
                ra.text(
                    advice,
                    limit=args.limit,
                    show_all=args.all,
                    since_model=since_model,
                    qemu_from="" if args.qemu else picked.why,
                    here=here,
                )
            )
            if verified is not None:
                sys.stdout.write(ra.verified_text(verified))
    elif best is not None:
        if fmt == "qemu":
            print(ra.qemu_arg(best))
        else:
            from cpudb.render_configs import Answer

            names = libvirt_names(release, args.libvirt)
            # libvirt (and so Nova, Proxmox and KubeVirt) has no versioned names: take the
            # best candidate it can name, and only fall back to the overall best with a caveat.
            usable = [c for c in advice.candidates if not c.blockers]
            nameable = [c for c in usable if names.knows(c)]
            pick = nameable[0] if nameable else best
            rest = tuple(c for c in nameable if c is not pick)[:3]
            answer = Answer(
                pick, tuple(needs), alternates=rest, deprecated=deprecated_names(release)
            )
            sys.stdout.write(render_config(fmt, answer, names))
    return 0 if best is not None else 1
