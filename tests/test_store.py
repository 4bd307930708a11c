"""Store queries that have a fast form agree with the general one."""

from __future__ import annotations

import pytest

from cpudb.advise import since_by_model, since_by_name
from cpudb.query import Db
from cpudb.versions import version_key


@pytest.mark.parametrize("version", ["2.0.0", "4.0.0", "7.2.0", "11.1.0"])
@pytest.mark.parametrize(
    "location",
    ["cpuid.0x80000001.edx.26", "cpuid.0x7.0.ecx.16", "cpuid.0x1.ecx.0", "cpuid.0x7.0.edx.26"],
)
def test_feature_firsts_gives_the_timeline_answers(db: Db, version: str, location: str) -> None:
    top = version_key(version)[0]
    ups = [i.version for i in db.versions() if i.upstream and version_key(i.version)[0] <= top]
    full = db.feature_timeline(location)
    fast = db.feature_firsts(location, version)
    assert since_by_model(fast, ups) == since_by_model(full, ups)
    assert since_by_name(fast, ups) == since_by_name(full, ups)
    assert len(fast) < len(full) or not full


def test_timeline_is_in_release_order_and_includes_aliases(db: Db) -> None:
    rows = db.feature_timeline("cpuid.0x80000001.edx.26")
    order = [v.version for v in db.versions()]
    assert [order.index(r[0]) for r in rows] == sorted(order.index(r[0]) for r in rows)
    assert ("7.2.0", "Skylake-Server-IBRS", "Skylake-Server") in rows  # an alias in 7.2
    assert ("2.12.0", "Skylake-Server-IBRS", "Skylake-Server-IBRS") in rows  # a model in 2.12
