"""The catalogue of real CPUs (data/cpu-catalog.json, libvirt's CPUID dumps) and the
portable ranking it backs."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from cpudb.scrapers import libvirt_cputestdata as lc

from cpudb import cpus, facts
from cpudb.advise import advise
from cpudb.app.inputs import resolve_needs
from cpudb.cli import main
from cpudb.decide.offer import kvm_offer
from cpudb.host_load import load_host
from cpudb.paths import shipped_data_dir
from cpudb.query import Db
from tests.conftest import need_hosts_dir

XML = """<!-- Intel(R) Xeon(R) CPU E5-2650 v3 @ 2.30GHz -->
<cpudata arch='x86'>
  <cpuid eax_in='0x00000000' ecx_in='0x00' eax='0x0000000f' ebx='0x756e6547' ecx='0x6c65746e' edx='0x49656e69'/>
  <cpuid eax_in='0x00000001' ecx_in='0x00' eax='0x000306f2' ebx='0x00200800' ecx='0x7ffefbff' edx='0xbfebfbff'/>
  <msr index='0x10a' edx='0x00000000' eax='0x0000006b'/>
</cpudata>
"""  # noqa: E501


def test_scraper_keeps_cpus_drops_derived_files_baselines_and_variants(tmp_path: Path) -> None:
    d = tmp_path / "libvirt-11.3.0" / "tests" / "cputestdata"
    d.mkdir(parents=True)
    (d / "x86_64-cpuid-Xeon-E5-2650-v3.xml").write_text(XML)
    (d / "x86_64-cpuid-Xeon-E5-2650-v3-arat.xml").write_text(XML)  # an edited copy
    (d / "x86_64-cpuid-Xeon-E5-2650-v3-guest.xml").write_text("<cpu/>")
    (d / "x86_64-cpuid-baseline-A+B.xml").write_text("<cpu mode='custom'/>")
    doc = lc.scrape(tmp_path / "libvirt-11.3.0")
    assert doc["libvirt_version"] == "11.3.0"
    (cpu,) = doc["cpus"]
    assert cpu["name"] == "Xeon-E5-2650-v3" and cpu["variants"] == ["Xeon-E5-2650-v3-arat"]
    assert (cpu["family"], cpu["model"], cpu["stepping"]) == (6, 63, 2)
    assert cpu["leaves"][1].startswith("0x00000001 0x00: eax=0x000306f2")
    assert cpu["msrs"] == {"0x10a": "0x000000000000006b"}
    assert doc["skipped_not_a_cpu"] == ["baseline-A+B"]


def test_shipped_catalogue_is_what_the_scraper_makes_of_libvirts_source() -> None:
    shipped = json.loads((shipped_data_dir() / cpus.FILE).read_text())
    version = shipped["libvirt_version"]
    where = Path(os.environ.get("CPUDB_LIBVIRT_TARBALL_DIR", "/var/cache/cpudb-ci/libvirt"))
    tarball = where / f"libvirt_{version}.orig.tar.xz"
    if not tarball.exists():
        pytest.skip(
            f"no {tarball}: apt-get source --download-only -t trixie libvirt in {where} "
            "(.ci/install-debian-deps does it)"
        )
    assert lc.scrape(tarball) == shipped


def test_a_catalogued_cpu_is_a_host(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["host", "Xeon Gold 6148", "--qemu", "7.2.0", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["family"] == 6 and d["model"] == 85 and "avx512f" in d["features"]
    assert main(["host", "Xeon"]) == 2  # several: one line naming them
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "21 catalogued CPUs: Xeon-5110" in err


def test_offers_are_cached_and_equal_to_a_fresh_decoding(
    db: Db, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rel = db.release("7.2.0")
    monkeypatch.setenv("CPUDB_CACHE_DIR", str(tmp_path / "cache"))
    first = cpus.offers(rel)
    assert (tmp_path / "cache" / "catalog-offers" / "7.2.0.json").exists()
    assert cpus.offers(rel) == first == cpus.compute_offers(rel)
    assert sum(len(o.cpus) for o in first) == len(cpus.entries())
    (tmp_path / "ro").mkdir(mode=0o500)
    monkeypatch.setenv("CPUDB_CACHE_DIR", str(tmp_path / "ro" / "cache"))
    assert cpus.offers(rel) == first  # an unwritable cache costs only time


NEEDS = ["pdpe1gb", "avx2", "aes", "pcid", "nx", "x86-64-v2", "x86-64-v3", "la57", "ss,pdpe1gb"]


@pytest.mark.parametrize("needs", NEEDS)
def test_portable_first_answer_meets_the_share_at_the_highest_level(db: Db, needs: str) -> None:

    rel = db.release("7.2.0")
    a = advise(rel, resolve_needs(rel, needs.split(",")), **facts.for_advice(rel))
    best = a.best
    assert best is not None and best.coverage is not None
    assert best.coverage.share >= 0.8
    meets = [c for c in a.candidates if c.coverage and c.coverage.share >= 0.8]
    assert best.level == max(c.level for c in meets)
    # by inclusion: no answer that meets the share, at that level and with as few added
    # flags, runs on more catalogued CPUs
    same = [c for c in meets if c.level == best.level and len(c.adds) == len(best.adds)]
    assert best.coverage.runs == max(c.coverage.runs for c in same if c.coverage)


def test_first_answers_run_on_most_real_cpus_outside_the_catalogue(db: Db) -> None:
    """The shared dumps (not shipped, partly not in the catalogue): the first answer
    without a host runs on at least 70% of those that can give the needs."""
    hosts = sorted(need_hosts_dir().glob("*.cpuid"))
    rel = db.release("7.2.0")
    offers = [
        kvm_offer(p.name, h.vendor, h.features_in(rel)) for p in hosts for h in [load_host(str(p))]
    ]
    runs = able = 0
    for needs in NEEDS:
        ns = resolve_needs(rel, needs.split(","))
        best = advise(rel, ns, **facts.for_advice(rel)).best
        assert best is not None
        can = [o for o in offers if not o.lacks([n.name for n in ns])]
        able += len(can)
        runs += sum(1 for o in can if not o.lacks(best.features))
    print(f"first answers run on {runs} of {able} ({100 * runs // able}%)")
    assert runs >= 0.7 * able


def test_first_answer_for_each_shared_dump_runs_on_it(db: Db) -> None:
    """With --host DUMP the first answer is usable on that host by the same core, or the
    advice says why nothing is."""
    rel = db.release("7.2.0")
    for p in sorted(need_hosts_dir().glob("*.cpuid")):
        h = load_host(str(p))
        offer = kvm_offer(p.name, h.vendor, h.features_in(rel))
        for needs in NEEDS:
            ns = resolve_needs(rel, needs.split(","))
            a = advise(rel, ns, hosts=[offer], **facts.for_advice(rel, [offer]))
            if a.best is None:
                assert a.impossible and offer.lacks([n.name for n in ns]), (p.name, needs)
            else:
                assert not a.best.blockers and not offer.lacks(a.best.features), (p.name, needs)
