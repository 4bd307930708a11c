"""`cpudb feature NAME`: where a feature lives and which CPU names have it."""

from __future__ import annotations

import argparse

from cpudb.commands.common import add_json, add_qemu, formatter, pick_release

EPILOG = """\
examples:
  cpudb feature pdpe1gb
  cpudb feature sse4_1                     any spelling: QEMU old/new, Linux, libvirt
  cpudb feature CPUID.80000001H:EDX[26]    or a CPUID location"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "feature",
        help="where a feature lives and which CPU names have it",
        formatter_class=formatter(),
        epilog=EPILOG,
        description="Where a feature lives (CPUID leaf/register/bit or MSR), its "
        "names, which CPU names of a release have it, and since when.",
    )
    p.add_argument("name", metavar="NAME", help="feature name or CPUID location")
    add_qemu(p)
    add_json(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from cpudb.describe import describe_feature
    from cpudb.names import FeatureNames
    from cpudb.query import open_db
    from cpudb.render import print_json, wrap

    db = open_db(args.db)
    rel, _ = pick_release(db, args.qemu)
    loc = FeatureNames(rel).lookup(args.name).location
    v = describe_feature(rel, args.name, db.feature_timeline(loc), db.feature_catalogue(loc))
    w = v.word
    if w.type == "msr":
        where = {"msr": {"index": f"{w.msr:#x}", "bit": v.feature.bit}}
    else:
        where = {
            "cpuid": {
                "leaf": f"{w.leaf:#x}",
                "subleaf": w.subleaf,
                "register": w.register,
                "bit": v.feature.bit,
            }
        }
    from cpudb import libvirt_releases

    libvirt = libvirt_releases.spellings(v.feature.location)
    if args.json:
        print_json(
            "feature",
            {
                "name": v.name,
                "qemu": v.release,
                "location": v.feature.location,
                "aliases": list(v.aliases),
                "linux_name": v.linux_name,
                "description": v.description,
                **where,
                "word": w.name,
                "first_known": v.first_known,
                "spellings": [{"since": r, "name": n} for r, n in v.spellings],
                "libvirt": [{"libvirt": r, "name": n} for r, n in libvirt],
                "models": list(v.cpus),
                "first_gained": [{"model": m, "release": r} for m, r in v.first_gained],
            },
        )
        return 0
    print(f"{v.name}: {w.describe(v.feature.bit)}  ({v.feature.location}, QEMU word {w.name})")
    if v.description:
        print(f"  {v.description}")
    if v.aliases:
        print(f"  QEMU aliases: {', '.join(v.aliases)}")
    if v.linux_name:
        print(f"  Linux /proc/cpuinfo: {v.linux_name}")
    if any(n for _, n in libvirt):
        runs: list[list] = []  # [name, first release, last release]: releases that agree
        for r, n in libvirt:
            if runs and runs[-1][0] == n:
                runs[-1][2] = r
            else:
                runs.append([n, r, r])
        said = ", ".join(
            f"{n or '(no name)'} in {a}" + (f"-{b}" if b != a else "") for n, a, b in runs
        )
        print(f"  libvirt: {said}")
    if v.spellings:
        hist = ", ".join(f"{n} (since {r})" for r, n in v.spellings)
        print(f"  QEMU name: {hist}")
    print(f"  CPU names of QEMU {v.release} with it ({len(v.cpus)}):")
    if v.cpus:
        print(wrap(v.cpus, indent="    "))
    else:
        print("    none: add it with -cpu MODEL," + v.name + "=on")
    if v.first_gained:
        print("  first release in which each model had it:")
        print(wrap((f"{m}@{r}" for m, r in v.first_gained), indent="    "))
    return 0
