"""`cpudb show NAME`: what a CPU name gives a guest, down to the CPUID bit."""

from __future__ import annotations

import argparse

from cpudb.commands.common import add_accel, add_json, add_qemu, formatter, pick_release

TYPE_CHECKING = False  # typing costs ~4 ms to import: only type checkers read these
if TYPE_CHECKING:
    from typing import Any

EPILOG = """\
examples:
  cpudb show Haswell-v4
  cpudb show Skylake-Server --qemu 4.0 --accel kvm
  cpudb show EPYC-Rome --json | jq .features
  cpudb show Skylake-Server --libvirt 9.0     libvirt 9.0's definition, in QEMU's terms"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "show",
        help="show one CPU name's features by CPUID leaf/register/bit",
        formatter_class=formatter(),
        epilog=EPILOG,
        description="Resolve a CPU name (aliases included) and list its features "
        "grouped by CPUID leaf and register, with its x86-64 level, notes, and "
        "what changed from the previous version.",
    )
    p.add_argument("name", metavar="NAME", help="a CPU name as -cpu takes it")
    add_qemu(p)
    add_accel(p)
    p.add_argument(
        "--libvirt",
        metavar="V",
        help="libvirt V's definition of the model (its cpu_map), in the release's names",
    )
    add_json(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from cpudb.describe import describe_cpu
    from cpudb.query import open_db
    from cpudb.render import print_json, wrap

    rel, _ = pick_release(open_db(args.db), args.qemu)
    name: Any = args.name
    if args.libvirt:
        from cpudb.libvirt_releases import as_cpu

        name = as_cpu(rel, args.name, args.libvirt)
    v = describe_cpu(rel, name, args.accel)
    c = v.cpu
    if args.json:
        print_json(
            "show",
            {
                "name": c.name,
                "qemu": v.release,
                "kind": c.kind,
                "alias_of": c.alias_of,
                "aliases": list(v.aliases),
                "model": c.model,
                "version": c.version,
                "vendor": c.vendor,
                "family": c.family,
                "model_number": c.model_number,
                "stepping": c.stepping,
                "model_id": c.model_id,
                "note": c.note,
                "deprecation_note": c.deprecation_note,
                "cache_info": c.cache_info,
                "accel": v.accel,
                "level": v.level,
                "previous": v.previous,
                "added": list(v.added),
                "removed": list(v.removed),
                "features": sorted(v.features),
                "groups": [
                    {
                        "word": g.word.name,
                        "title": g.title,
                        "features": [
                            {
                                "name": r.name,
                                "bit": r.bit,
                                "location": r.location,
                                "linux_name": r.linux_name,
                            }
                            for r in g.features
                        ],
                    }
                    for g in v.groups
                ],
            },
        )
        return 0
    head = f"{c.name} (QEMU {v.release}"
    head += f", {v.accel} defaults)" if v.accel else ")"
    print(head)
    if c.alias_of:
        kind = "bare name: its meaning depends on the machine type" if c.kind == "bare" else "alias"
        print(f"  = {c.alias_of} ({kind})")
    if v.aliases:
        print(f"  also known as: {', '.join(v.aliases)}")
    print(f"  vendor {c.vendor}, family {c.family} model {c.model_number} stepping {c.stepping}")
    print(f"  model-id: {c.model_id!r}")
    print(f"  x86-64 level: v{v.level}" if v.level else "  x86-64 level: below v1")
    if c.note:
        print(f"  version note: {c.note}")
    if c.deprecation_note:
        print(f"  DEPRECATED: {c.deprecation_note}")
    if v.previous:
        changes = [f"+{a}" for a in v.added] + [f"-{r}" for r in v.removed]
        print(f"  vs {v.previous}: {' '.join(changes) if changes else 'no feature change'}")
    print(f"  {len(v.features)} features:")
    for g in v.groups:
        body = wrap((f"{r.name}[{r.bit}]" for r in g.features), indent=" " * 27, width=92)
        print(f"    {g.title:<22} {body.lstrip()}")
    return 0
