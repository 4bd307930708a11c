"""A CPU for a pool of hosts (live migration): the best name every host runs, the extra
flags they all share, and what stops the next better model.

Pure: Release + hosts (+ needs) -> Baseline. Under KVM a guest may only see what every
host in the pool has, or it cannot migrate there. Built on the advisor, so the ranking
and the reasons are the same as `cpudb advise` with the same hosts:
  - the name: the advisor's best candidate with every host (no blockers; the needs met
    natively or with flags every host has; the model feature set closest to what the
    hosts share);
  - the extra flags: features that every host has, that some QEMU model of the release
    enables (host-only bits such as ht, ds or tm describe the host, not a guest), that
    the name lacks, and that pass the advisor's dependency and vendor rules;
  - the next better model: the model of the hosts' vendor whose generation (features of
    its newest version) comes right after the chosen one, with, for its closest version,
    which host lacks which features.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from cpudb.advise import Add, Advice, Candidate, Need, advise
from cpudb.decide.core import Context
from cpudb.decide.guest import candidate_names
from cpudb.decide.offer import Offer, common, distinct
from cpudb.decide.plan import vendor_group
from cpudb.model import CpuName, Release
from cpudb.record import Record

# QEMU's unmigratable flags (FeatureWordInfo.unmigratable_flags, CPUID_APM_INVTSC): a guest
# with them cannot be live-migrated (unless e.g. tsc-frequency is pinned), so a pool's
# baseline never adds them.
UNMIGRATABLE = {"cpuid.0x80000007.edx.8": "invtsc"}


class NextModel(Record):
    """The next better model and what each host lacks for its closest version."""

    name: str  # the version checked (fewest blockers)
    model: str
    generation: int
    blockers: tuple[tuple[str, tuple[str, ...]], ...]  # (host, features it lacks)


class Baseline(Record):
    qemu: str
    hosts: tuple[str, ...]
    needs: tuple[Need, ...]
    best: Candidate | None
    extras: tuple[Add, ...]  # flags every host has, added to the best name
    skipped: tuple[tuple[str, str], ...]  # shared flags not added, and why
    next_better: NextModel | None
    advice: Advice  # the ranking behind `best`
    notes: tuple[str, ...]

    def cpu(self, *, enforce: bool = False) -> str | None:
        if self.best is None:
            return None
        parts = [self.best.cpu()] + [f"{a.name}=on" for a in self.extras]
        return ",".join(parts + (["enforce"] if enforce else []))


def baseline(
    release: Release,
    hosts: Sequence[Offer],
    needs: Sequence[Need] = (),
    *,
    vendors: Sequence[str] = (),
    linux_deps: Sequence[tuple[str, str]] = (),
    accept: Callable[[Candidate], bool] | None = None,
) -> Baseline:
    """The best CPU name and flags every host in the pool can give a guest under KVM.
    Identical CPUs are decided once: blockers name the first host of each kind.
    `accept`: only candidates it accepts (the names libvirt knows, for its formats)."""
    accel = "kvm"
    names = tuple(h.name for h in hosts)
    hosts = [members[0] for members in distinct(hosts).values()]
    a = advise(release, needs, hosts=hosts, accel=accel, vendors=vendors, linux_deps=linux_deps)
    best = next((c for c in a.candidates if accept(c)), None) if accept else a.best
    notes = list(a.notes)
    if best is None:
        return Baseline(
            release.version,
            names,
            tuple(needs),
            None,
            (),
            (),
            None,
            a,
            tuple(notes),
        )
    ctx = Context(release, accel, hosts, linux_deps)
    builder, planner = ctx.builder, ctx.planner
    shared = common(hosts) & ctx.worthy
    order = {f.name: i for i, f in enumerate(release.features)}
    extras: list[Add] = []
    skipped: list[tuple[str, str]] = []
    have = best.features
    for f in sorted(shared - have, key=lambda n: order.get(n, 0)):
        feature = release.feature(f)
        if feature is not None and feature.location in UNMIGRATABLE:
            skipped.append(
                (
                    f,
                    "QEMU marks it unmigratable: a guest with it cannot be "
                    "live-migrated (unless its TSC frequency is pinned)",
                )
            )
            continue
        if f in builder.off:
            skipped.append(
                (
                    f,
                    "the accelerator turns it off by default (QEMU's "
                    "kvm_default_props): not a guest feature under KVM",
                )
            )
            continue
        if f in have or any(x.name == f for x in extras):
            continue
        more, bad = planner.plan(_as_cpu(release, best), [(f, "every host has it")], have)
        if bad:
            skipped.append((f, bad))
            continue
        off = [m.name for m in more if m.name in builder.off]
        if off:
            skipped.append(
                (
                    f,
                    f"needs {', '.join(off)}, which KVM's defaults turn off "
                    "(add both yourself if the guest should have them)",
                )
            )
            continue
        extras.extend(more)
        have = builder.guest(have, (m.name for m in more))
    nxt = _next_better(ctx, best, hosts, vendors)
    return Baseline(
        release.version,
        names,
        tuple(needs),
        best,
        tuple(extras),
        tuple(skipped),
        nxt,
        a,
        tuple(notes),
    )


def _as_cpu(release: Release, c: Candidate) -> CpuName:
    cpu = release.cpu(c.name)
    assert cpu is not None
    return cpu


def _next_better(
    ctx: Context, best: Candidate, hosts: Sequence[Offer], vendors: Sequence[str]
) -> NextModel | None:
    """The model of the hosts' vendor that comes next by generation (the features of its
    newest version), with, for its version with the fewest blockers, what each host lacks."""
    release = ctx.release
    groups = {vendor_group(h.vendor) for h in hosts}
    by_model: dict[str, list[CpuName]] = {}
    for cpu, _ in candidate_names(release):
        if vendors and cpu.vendor not in vendors:
            continue
        if groups and vendor_group(cpu.vendor) not in groups:
            continue
        if cpu.deprecation_note is not None:
            continue
        by_model.setdefault(cpu.model, []).append(cpu)
    gens = {m: len(max(cs, key=lambda c: c.version or 0).features) for m, cs in by_model.items()}
    mine = gens.get(best.model, len(best.features))
    better = sorted((m for m in by_model if gens[m] > mine), key=lambda m: (gens[m], m))
    if not better:
        return None
    model = better[0]
    adds = [a.name for a in best.adds]
    checked = []
    for cpu in by_model[model]:
        guest = ctx.builder.guest(cpu.features, adds)
        blocked = tuple((h.name, b) for h in hosts if (b := h.lacks(guest)))
        checked.append((sum(len(b) for _, b in blocked), -(cpu.version or 0), cpu.name, blocked))
    checked.sort()
    _, _, name, blocked = checked[0]
    return NextModel(name, model, gens[model], blocked)
