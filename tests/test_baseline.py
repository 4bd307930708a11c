"""`cpudb baseline`: one CPU for a pool of real hosts."""

from __future__ import annotations

import json

import pytest

from cpudb.app.inputs import resolve_needs
from cpudb.baseline import baseline
from cpudb.cli import main
from cpudb.decide.offer import Offer, kvm_offer
from cpudb.host_load import load_host
from cpudb.model import Release
from cpudb.query import Db
from cpudb.record import replace
from cpudb.resolve import with_accel
from tests.conftest import need_hosts_dir


def pool(release: Release, *names: str) -> list[Offer]:

    out = []
    for n in names:
        cpu = load_host(str(need_hosts_dir() / f"{n}.cpuid"))
        out.append(kvm_offer(n, cpu.vendor, cpu.features_in(release)))
    return out


def test_haswell_and_skylake_pool(db: Db) -> None:
    rel = db.release("7.2.0")
    hosts = pool(rel, "intel-xeon-e5-2650-v3", "intel-xeon-gold-6148", "intel-core-i7-5600u")
    b = baseline(rel, hosts)
    assert b.best is not None and b.best.model == "Haswell"
    cpu = rel.cpu(b.best.name)
    assert cpu is not None
    full = replace(cpu, features=cpu.features | {a.name for a in b.extras})
    for h in hosts:  # the answer, flags included, runs on every host
        assert h.lacks(with_accel(rel, full.features, "kvm")) == ()
        assert {a.name for a in b.extras} <= h.present
    assert "pdpe1gb" in [a.name for a in b.extras]  # every host has 1 GiB pages
    # KVM's defaults turn these off: never "shared extras"
    args = b.cpu()
    assert args is not None and "monitor" not in args and "acpi" not in args

    skipped = dict(b.skipped)
    assert "kvm_default_props" in skipped["monitor"]
    # the next model up is Broadwell, and it is the Haswell host that blocks it
    assert b.next_better is not None and b.next_better.model == "Broadwell"
    ((who, missing),) = b.next_better.blockers
    assert who == "intel-xeon-e5-2650-v3"
    assert {"adx", "rdseed", "smap"} <= set(missing)


def test_pool_with_needs_and_impossible_needs(db: Db, capsys: pytest.CaptureFixture[str]) -> None:
    rel = db.release("7.2.0")
    hosts = pool(rel, "intel-xeon-gold-6148", "intel-xeon-platinum-9242")
    b = baseline(rel, hosts, resolve_needs(rel, ["avx512f"]))
    assert b.best is not None and "avx512f" in b.best.features
    none = baseline(rel, hosts, resolve_needs(rel, ["la57"]))
    assert none.best is None and none.cpu() is None
    assert "can give la57" in none.advice.impossible[0]
    d = need_hosts_dir()
    code = main(
        [
            "baseline",
            str(d / "intel-xeon-gold-6148.cpuid"),
            str(d / "intel-xeon-platinum-9242.cpuid"),
            "--qemu",
            "7.2.0",
            "--needs",
            "la57",
        ]
    )
    out, err = capsys.readouterr()
    assert code == 1 and "can give la57" in err


def test_unmigratable_invtsc_is_never_added(db: Db) -> None:
    rel = db.release("10.2.2")
    hosts = pool(rel, "intel-xeon-gold-6148", "intel-xeon-platinum-9242")
    assert all("invtsc" in h.present for h in hosts)
    b = baseline(rel, hosts)
    assert "invtsc" not in [a.name for a in b.extras]
    assert "unmigratable" in dict(b.skipped)["invtsc"]


def test_cli_json_shape(capsys: pytest.CaptureFixture[str]) -> None:
    d = need_hosts_dir()
    code = main(
        [
            "baseline",
            str(d / "amd-epyc-7502.cpuid"),
            str(d / "amd-epyc-7601.cpuid"),
            "--qemu",
            "7.2.0",
            "--json",
        ]
    )
    out = json.loads(capsys.readouterr().out)
    assert code == 0
    assert out["hosts"] == ["amd-epyc-7502.cpuid", "amd-epyc-7601.cpuid"]
    assert out["model"].startswith("EPYC")
    assert out["cpu"].startswith(out["model"]) and out["qemu_args"].endswith(",enforce")
    assert out["candidate"]["blockers"] == []
    assert "svm" not in out["extras"]  # KVM's defaults: nested SVM stays opt-in
    nxt = out["next_better"]
    assert nxt is not None and nxt["blockers"]
    assert all(b["host"] in out["hosts"] and b["missing"] for b in nxt["blockers"])


def test_cli_bad_host_is_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["baseline", "/nonexistent.cpuid"]) == 2
    assert "no file and no stored host" in capsys.readouterr().err
