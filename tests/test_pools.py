"""Issue 14.2: `cpudb pools` splits a fleet into live-migration pools."""

from __future__ import annotations

import json
from functools import cache

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cpudb.cli import main
from cpudb.decide.offer import Offer, kvm_offer
from cpudb.host_features import HostFeatures
from cpudb.host_load import load_host
from cpudb.model import Release
from cpudb.pools import guest_features, pools
from cpudb.query import open_db
from tests.conftest import FIXTURES, cpu_named, need_hosts_dir

NODES = FIXTURES / "hostfiles" / "kubevirt-nodes.json"


@cache
def fleet() -> tuple[Release, dict[str, Offer]]:
    """(release, offers by name), decoded once for the module."""
    rel = open_db().release("7.2.22")
    out = {}
    for p in sorted(need_hosts_dir().glob("*.cpuid")):
        cpu = load_host(str(p))
        out[p.name] = kvm_offer(p.name, cpu.vendor, cpu.features_in(rel))
    return rel, out


def test_pools_never_mix_vendors_and_every_member_runs_its_pool(
    capsys: pytest.CaptureFixture[str],
) -> None:
    rel, hosts = fleet()
    p = pools(rel, list(hosts.values()))
    assert sum(len(x.hosts) for x in p.pools) == len(hosts)
    for x in p.pools:
        assert {hosts[h].vendor for h in x.hosts} == {x.vendor}
        if x.model is None:
            continue
        cpu = cpu_named(rel, x.model)

        guest = guest_features(x.baseline)
        for h in x.hosts:  # the pool's model and flags: no blocker on any member
            assert hosts[h].blockers_for((cpu.name,), guest) == (), (x.model, h)
    # no pool of one host where another host of its vendor exists (min_pool 2)
    for x in p.pools:
        same = [h for h in hosts.values() if h.vendor == x.vendor]
        assert len(x.hosts) >= 2 or len(same) == 1


def test_a_pool_gets_more_than_the_all_host_baseline() -> None:
    rel, hosts = fleet()
    p = pools(rel, list(hosts.values()))
    together = dict(p.together)
    intel = [x for x in p.pools if x.vendor == "GenuineIntel"]
    assert len(intel) > 1
    base = len(guest_features(together["GenuineIntel"]))
    assert max(len(x.features) for x in intel) > base + 20


def test_leaving_out_the_weakest_host_gains_features() -> None:
    rel, hosts = fleet()
    for x in pools(rel, list(hosts.values())).pools:
        for w in x.without:
            assert w.gains and set(w.left_out) < set(x.hosts) and w.cpu


def test_identical_cpus_are_decided_once_and_weights_count() -> None:
    rel, hosts = fleet()
    one = hosts["intel-xeon-gold-6148.cpuid"]
    copies = [kvm_offer(f"n{i}", one.vendor, HostFeatures(one.present, one.unknown, ()))
              for i in range(50)]  # fmt: skip
    p = pools(rel, [*copies, hosts["intel-core-i7-2600.cpuid"]], weights={"n0": 10})
    assert p.distinct == 2
    assert sum(x.weight for x in p.pools) == 50 + 9 + 1


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_every_pools_model_is_usable_on_every_member(data: st.DataObject) -> None:
    """Property: for any subset of real hosts, weights and min pool, each pool's model
    and flags have no blocker on any member, and pools never mix vendors."""
    rel, hosts = fleet()
    names = data.draw(st.lists(st.sampled_from(sorted(hosts)), min_size=1, max_size=12))
    weights = {n: data.draw(st.integers(1, 5)) for n in names if data.draw(st.booleans())}
    min_pool = data.draw(st.integers(1, 4))
    offers = [hosts[n] for n in dict.fromkeys(names)]
    p = pools(rel, offers, weights=weights, min_pool=min_pool, leave_out=1)
    assert sorted(h for x in p.pools for h in x.hosts) == sorted(o.name for o in offers)
    for x in p.pools:
        assert len({hosts[h].vendor for h in x.hosts}) == 1
        if x.model is not None:
            guest = guest_features(x.baseline)
            assert all(not hosts[h].blockers_for((x.model,), guest) for h in x.hosts)


def test_pools_command_on_kubevirt_nodes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pools", str(NODES), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["schema"] == "cpudb.pools/1"
    by_vendor = {x["vendor"]: x for x in d["pools"]}
    assert set(by_vendor) == {"GenuineIntel", "AuthenticAMD"}
    assert by_vendor["GenuineIntel"]["hosts"] == ["node-a", "node-b"]
    assert by_vendor["AuthenticAMD"]["cpu"].startswith("EPYC-Rome")
    assert main(["pools", str(NODES)]) == 0
    out = capsys.readouterr().out
    assert "2 pools for 3 hosts (2 distinct CPUs)" in out and "never pooled together" in out


def test_bad_weights_and_mixed_vendor_baseline(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pools", str(NODES), "--weight", "node-a"]) == 2
    assert "not HOST=N" in capsys.readouterr().err
    assert main(["pools", str(NODES), "--weight", "nosuch=3"]) == 2
    assert "names no host: nosuch" in capsys.readouterr().err
    assert main(["baseline", str(NODES)]) == 2
    err = capsys.readouterr().err
    assert "2 CPU vendors" in err and "cpudb pools" in err
    assert main(["baseline", str(NODES), "--cross-vendor"]) == 0
