"""The same host before and after a microcode, kernel or BIOS update: what changed for
its guests. Pure: Release + two decodings (+ the other members of its pool) -> Drift.

Lost and gained features are the host's own as cpudb reads them (a bit that became
unreadable is "now unknown", not lost); a CPU name is newly blocked when it ran before
and has blockers after (the decision core's rule, QEMU's verdicts where the data has
them); a pool breaks when its -cpu (baseline of its members before) has a blocker on
the host after the update.
"""

from __future__ import annotations

from collections.abc import Sequence

from cpudb.baseline import Baseline, baseline
from cpudb.decide.offer import Offer, name_blockers
from cpudb.model import Release
from cpudb.pools import guest_features
from cpudb.record import Record


class PoolDrift(Record):
    members: tuple[str, ...]  # the other hosts of the pool
    before: Baseline  # the pool's baseline with the host as it was
    after: Baseline  # ... and as it is
    blockers: tuple[str, ...]  # what the old -cpu lacks on the host now (() = still runs)

    @property
    def broken(self) -> bool:
        return bool(self.blockers) or self.before.best is None


class Drift(Record):
    qemu: str
    before: str
    after: str
    lost: tuple[str, ...]
    gained: tuple[str, ...]
    now_unknown: tuple[str, ...]  # readable before, not after (a different source)
    newly_blocked: tuple[tuple[str, tuple[str, ...]], ...]  # CPU name -> its new blockers
    newly_usable: tuple[str, ...]
    pool: PoolDrift | None = None

    @property
    def changed(self) -> bool:
        return bool(self.lost or self.gained or self.newly_blocked or self.newly_usable) or (
            self.pool is not None and self.pool.broken
        )


def drift(release: Release, before: Offer, after: Offer, pool: Sequence[Offer] = ()) -> Drift:
    order = {f.name: i for i, f in enumerate(release.features)}

    def ordered(names: set[str] | frozenset[str]) -> tuple[str, ...]:
        return tuple(sorted(names, key=lambda n: order.get(n, 0)))

    lost = before.present - after.present - after.unknown
    gained = after.present - before.present
    now_unknown = (before.present & after.unknown) - after.present
    blocked, usable = [], []
    for c in release.cpus:
        if c.kind == "alias":
            continue
        b0, b1 = name_blockers(release, c, before), name_blockers(release, c, after)
        if not b0 and b1:
            blocked.append((c.name, b1))
        elif b0 and not b1:
            usable.append(c.name)
    pd = None
    if pool:
        old = baseline(release, [before, *pool])
        new = baseline(release, [after, *pool])
        lacks: tuple[str, ...] = ()
        if old.best is not None:
            lacks = after.blockers_for((old.best.name, *old.best.aka), guest_features(old))
        pd = PoolDrift(tuple(o.name for o in pool), old, new, lacks)
    return Drift(
        release.version,
        before.name,
        after.name,
        ordered(lost),
        ordered(gained),
        ordered(now_unknown),
        tuple(blocked),
        tuple(usable),
        pd,
    )
