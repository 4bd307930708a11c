"""`cpudb advise`: the answers of the issue, on real snapshots and real host dumps."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from cpudb.advise import Need, advise
from cpudb.app.inputs import resolve_needs
from cpudb.cli import main
from cpudb.decide.guest import GuestBuilder, model_features
from cpudb.decide.offer import Offer, kvm_offer
from cpudb.decide.plan import vendor_only
from cpudb.host_fit import blockers
from cpudb.host_load import load_host
from cpudb.libvirt_model import Answer, LibvirtNames
from cpudb.model import Release
from cpudb.query import Db
from cpudb.recommended import RecommendedFlag, pick_recommended
from cpudb.render.configs import libvirt_xml, nova, proxmox
from cpudb.resolve import with_accel
from tests.conftest import cpu_named, feature_named, need_hosts_dir


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def as_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    code, out, _ = run(capsys, *argv, "--json")
    return code, json.loads(out)


def host(release: Release, name: str) -> Offer:
    cpu = load_host(str(need_hosts_dir() / f"{name}.cpuid"))
    return kvm_offer(name, cpu.vendor, cpu.features_in(release))


def needs(release: Release, *texts: str) -> list[Need]:
    return resolve_needs(release, list(texts))


# ------------------------------------------------------------------ the evidence


def test_pdpe1gb_portable_first_answer_runs_on_most_catalogued_cpus(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, d = as_json(capsys, "advise", "--needs", "pdpe1gb", "--qemu", "7.2.0")
    assert code == 0 and d["qemu"] == "7.2.0"
    assert d["needs"][0]["name"] == "pdpe1gb"
    assert d["needs"][0]["cpuid"] == "CPUID.80000001H:EDX[26]"
    cands = d["candidates"]
    first = cands[0]
    cov = first["coverage"]
    assert first["blockers"] == [] and cov["share"] >= 0.8
    # of the answers that run on that many, none has a higher x86-64 level
    meets = [c for c in cands if c["coverage"]["share"] >= 0.8]
    assert max(c["level"] for c in meets) == first["level"]
    # the newest server part is not the first answer: it runs on few real CPUs
    ice = next(c for c in cands if c["model"].startswith("Icelake-Server"))
    assert ice["coverage"]["runs"] < cov["runs"]
    haswell = next(c for c in cands if c["model"] == "Haswell-v4")
    assert haswell["adds"] == ["pdpe1gb"]
    assert haswell["cpu"] == "Haswell-v4,pdpe1gb=on"
    assert haswell["qemu_args"] == "-cpu Haswell-v4,pdpe1gb=on,enforce"
    assert "Haswell-noTSX-IBRS" in haswell["aka"]
    # Skylake-Server has had it since the release that added the model (2.10); the
    # versioned name exists since versions came (4.1)
    sky = next(c for c in cands if c["model"] == "Skylake-Server-v1")
    assert sky["native"] and sky["since"] == {"pdpe1gb": "4.1.0"}
    assert d["needs"][0]["since"]["Skylake-Server"] == "2.10.0"
    assert "Haswell" not in d["needs"][0]["since"]
    assert len(cands) == len({c["model"] for c in cands})


def test_la57_only_icelake_server_natively(capsys: pytest.CaptureFixture[str], db: Db) -> None:
    code, d = as_json(capsys, "advise", "--needs", "la57", "--qemu", "7.2.0")
    assert code == 0
    native = [c["model"] for c in d["candidates"] if c["native"]]
    rel = db.release("7.2.0")
    expected = [c.name for c in rel.cpus if c.kind == "version" and c.model == "Icelake-Server"]
    assert sorted(native) == sorted(expected) and len(native) == 6


def test_la57_on_a_haswell_host_is_impossible_and_says_why(
    capsys: pytest.CaptureFixture[str], db: Db
) -> None:
    dump = need_hosts_dir() / "intel-xeon-e5-2650-v3.cpuid"
    code, out, err = run(
        capsys, "advise", "--needs", "la57", "--qemu", "7.2.0", "--host", str(dump)
    )
    assert code == 1
    assert "cannot give la57 (CPUID.07H.0:ECX[16]" in err
    assert "impossible under KVM" in err
    # the TCG way out is one TCG 7.2 can give (tests/test_advice_runs.py starts such answers)
    tcg = re.search(r"under TCG .*: -accel tcg -cpu (\S+)", err)
    assert tcg and "enforce" in tcg.group(1)
    cpu = tcg.group(1).split(",")
    assert "la57=on" in cpu or "la57" in cpu_named(db.release("7.2.0"), cpu[0]).features
    assert "No CPU name works" in out
    code, d = as_json(capsys, "advise", "--needs", "la57", "--qemu", "7.2.0", "--host", str(dump))
    assert code == 1 and d["candidates"] == [] and d["impossible"]


def test_every_host_dump_advised_its_own_features_runs_every_candidate(db: Db) -> None:
    """Advise each real CPU's own (model-worthy) feature set back: nothing it can't run."""
    rel = db.release("7.2.0")
    worthy = model_features(rel)
    builder = GuestBuilder(rel, "kvm")
    dumps = sorted(need_hosts_dir().glob("*.cpuid"))
    assert len(dumps) >= 16
    answered = 0
    for path in dumps:
        cpu = load_host(str(path))
        hf = cpu.features_in(rel)
        h = kvm_offer(path.stem, cpu.vendor, hf)
        wanted = sorted((hf.present & worthy) - builder.off)
        own = [Need(n, n, feature_named(rel, n).location, "") for n in wanted]
        a = advise(rel, own, hosts=[h])
        for c in a.candidates:
            cpu_name = rel.cpu(c.name)
            assert cpu_name is not None
            from cpudb.record import replace

            check = replace(cpu_name, features=cpu_name.features | set(c.all_adds()))
            assert blockers(rel, check, hf, "kvm") == (), (path.name, c.name)
            assert c.blockers == ()
            assert set(c.all_adds()) <= hf.present | hf.kvm_supplied | hf.unknown
            assert all(n.name in c.features for n in own), (path.name, c.name)
        answered += bool(a.candidates)
        if not a.candidates:
            assert a.impossible, path.name
    assert answered >= 12, "most real hosts can be given their own features"


# ------------------------------------------------------------------ rules


def test_dependency_brings_the_required_feature(db: Db) -> None:
    rel = db.release("7.2.0")
    a = advise(rel, needs(rel, "mds-no"))
    has = next(c for c in a.candidates if c.name == "Haswell-v4")
    assert [x.name for x in has.adds] == ["mds-no", "arch-capabilities"]
    assert "QEMU clears mds-no without arch-capabilities" in has.adds[1].why
    assert "mds-no" in has.features  # it survives QEMU's feature_dependencies[]
    # without the dependency QEMU would clear it again
    assert "mds-no" not in GuestBuilder(rel, "kvm").guest(
        cpu_named(rel, "Haswell-v4").features, ["mds-no"]
    )
    # names that have arch-capabilities natively need only the one flag
    casc = next(c for c in a.candidates if c.name == "Cascadelake-Server-v2")
    assert casc.native or [x.name for x in casc.adds] == ["mds-no"]


def test_vendor_rule_keeps_amd_only_flags_off_intel_models(db: Db) -> None:
    rel = db.release("7.2.0")
    assert vendor_only(rel)["svm"] == "AMD"
    assert "pdpe1gb" not in vendor_only(rel)  # Intel and AMD models have it
    a = advise(rel, needs(rel, "sse4a"))
    assert a.candidates and all(c.vendor != "GenuineIntel" for c in a.candidates)
    why = next(r.reason for r in a.rejected if r.name == "Haswell-v4")
    assert "AMD-only" in why and "--cross-vendor" in why
    b = advise(rel, needs(rel, "sse4a"), cross_vendor=True)
    assert any(c.name == "Haswell-v4" for c in b.candidates)


def test_kvm_defaults_are_applied_and_can_be_overridden(db: Db) -> None:
    rel = db.release("7.2.0")
    a = advise(rel, needs(rel, "svm"))  # KVM's defaults turn svm off, even on EPYC
    epyc = next(c for c in a.candidates if c.name == "EPYC-v1")
    assert [x.name for x in epyc.adds] == ["svm"]
    epyc_features = cpu_named(rel, "EPYC-v1").features
    assert "svm" in with_accel(rel, epyc_features, "tcg")  # TCG's defaults leave it on
    assert "svm" not in with_accel(rel, epyc_features, "kvm")
    t = advise(rel, needs(rel, "svm"), accel="tcg")
    natives = [c for c in t.candidates if c.native]
    assert natives and all("svm" in cpu_named(rel, c.name).features for c in natives)


def test_guest_builder_is_with_accel(db: Db) -> None:
    for version in ("2.12.0", "7.2.0", "10.2.2"):
        rel = db.release(version)
        for accel in (None, "kvm", "tcg"):
            b = GuestBuilder(rel, accel)
            for c in rel.cpus:
                assert b.guest(c.features) == with_accel(rel, c.features, accel), (version, c.name)


def test_x86_64_level_as_a_need(db: Db, capsys: pytest.CaptureFixture[str]) -> None:
    code, d = as_json(
        capsys, "advise", "--needs", "x86-64-v3", "--qemu", "7.2.0", "--vendor", "amd"
    )
    assert code == 0
    assert {n["via"] for n in d["needs"]} == {"x86-64-v3"} and len(d["needs"]) == 24  # lm too
    assert all(c["level"] >= 3 for c in d["candidates"])
    assert all(c["vendor"] == "AuthenticAMD" for c in d["candidates"])
    assert d["candidates"][0]["native"]


def test_hosts_drop_blocked_names_and_never_add_what_a_host_lacks(db: Db) -> None:
    rel = db.release("7.2.0")
    hs = [host(rel, "intel-xeon-e5-2650-v3"), host(rel, "intel-xeon-gold-6148")]
    a = advise(rel, needs(rel, "pdpe1gb"), hosts=hs)
    assert a.candidates and a.dropped > 0
    assert all(not c.blockers for c in a.candidates)
    # the Haswell host lacks avx512f: no Skylake-Server name survives
    assert not any(c.model == "Skylake-Server" for c in a.candidates)
    assert "closeness" in a.candidates[0].reasons[-1]
    kept = advise(rel, needs(rel, "pdpe1gb"), hosts=hs, keep_blocked=True)
    sky = next(c for c in kept.candidates if c.name == "Skylake-Server-v1")
    assert sky.blockers and sky.blockers[0][0] == "intel-xeon-e5-2650-v3"
    assert "avx512f" in sky.blockers[0][1]
    assert kept.candidates[-1].blockers  # marked ones rank last
    # a flag a host lacks is never added
    b = advise(rel, needs(rel, "avx512f"), hosts=hs)
    assert b.best is None and "intel-xeon-e5-2650-v3 cannot give avx512f" in b.impossible[0]


def test_recommended_flags_only_those_every_host_has(db: Db) -> None:
    rel = db.release("7.2.0")
    hs = [host(rel, "intel-xeon-e5-2650-v3")]

    def qemu_name(n: str) -> str | None:
        f = rel.feature(n)
        return f.name if f else None

    used, rec = pick_recommended(
        json.loads(
            (
                __import__("cpudb.paths").paths.shipped_data_dir() / "qemu-recommended-flags.json"
            ).read_text()
        ),
        rel.version,
        qemu_name,
    )
    assert used == "7.2.0" and [r.name for r in rec["Intel"]][:2] == ["pcid", "spec-ctrl"]
    a = advise(rel, needs(rel, "pdpe1gb"), hosts=hs, recommended=rec)
    for c in a.candidates:
        assert all(x.name in hs[0].present for x in c.extras)
    ivy = next(c for c in a.candidates if c.model == "IvyBridge")
    assert "pcid" in [x.name for x in ivy.extras]
    assert a.best is not None
    skipped = dict(a.best.extras_skipped)
    assert "cannot tell" in skipped["mds-no"]  # an MSR bit: a CPUID dump cannot say
    # without hosts nothing is added, and the advice says so
    n = advise(rel, needs(rel, "pdpe1gb"), recommended=rec)
    assert all(not c.extras for c in n.candidates)
    assert any("--recommended" in x for x in n.notes)


def test_mutually_exclusive_recommendations(db: Db) -> None:
    rel = db.release("7.2.0")
    hs = [host(rel, "amd-epyc-9334")]
    rec: dict[str, tuple[RecommendedFlag, ...]] = {
        "AMD": (
            RecommendedFlag("virt-ssbd", "x"),
            RecommendedFlag("amd-ssbd", "x"),
            RecommendedFlag("amd-no-ssb", "x", ("virt-ssbd", "amd-ssbd")),
        )
    }
    a = advise(rel, needs(rel, "pdpe1gb"), hosts=hs, recommended=rec)
    c = a.best
    assert c is not None
    added = [x.name for x in c.extras]
    if "amd-no-ssb" in added or "amd-no-ssb" in c.features:
        assert "virt-ssbd" not in added and "amd-ssbd" not in added


# ------------------------------------------------------------------ output forms


def test_formats(capsys: pytest.CaptureFixture[str], db: Db) -> None:
    code, d = as_json(capsys, "advise", "--needs", "pdpe1gb", "--qemu", "7.2.0")
    best = d["candidates"][0]["qemu_args"]
    code, out, _ = run(
        capsys, "advise", "--needs", "pdpe1gb", "--qemu", "7.2.0", "--format", "qemu"
    )
    assert code == 0 and out.strip() == best and best.endswith(",enforce")
    code, out, _ = run(
        capsys,
        "advise",
        "--needs",
        "pdpe1gb",
        "--qemu",
        "7.2.0",
        "--format",
        "libvirt",
        "--vendor",
        "intel",
    )
    xml = ET.fromstring(out[out.index("<cpu") :])
    assert xml.get("mode") == "custom" and xml.get("match") == "exact"
    code, out, _ = run(capsys, "advise", "--needs", "pdpe1gb", "--qemu", "7.2.0")
    assert f"Best:  {best}" in out and "Ranking, in order" in out
    code, out, _ = run(capsys, "advise", "--needs", "pdpe1gb", "--qemu", "7.2.0", "--all")
    assert "Haswell-v4,pdpe1gb=on" in out
    assert "enforce" in out and "bare name" in out


def names_of(names: LibvirtNames, libvirt_name: str) -> str:
    """QEMU's name for a libvirt spelling."""
    return next(q for q, lv in names.features.items() if lv == libvirt_name)


def test_libvirt_nova_proxmox_use_libvirt_names(db: Db) -> None:
    rel = db.release("7.2.0")
    a = advise(rel, needs(rel, "pclmulqdq", "pdpe1gb"), vendors=["GenuineIntel"])
    c = next(x for x in a.candidates if x.name == "Nehalem-v1")
    assert [x.name for x in c.adds] == ["pclmulqdq", "pdpe1gb"]
    from cpudb.app.libvirt import libvirt_names

    names = libvirt_names(rel, "9.0.0")
    xml = ET.fromstring(libvirt_xml(Answer(c), names))
    model = xml.find("model")
    assert model is not None
    assert model.text == "Nehalem"  # libvirt has no versioned names
    assert model.get("fallback") == "forbid"
    feats = [(f.get("policy"), f.attrib["name"]) for f in xml.findall("feature")]
    # cpudb's flags first, in libvirt's spelling; then what makes libvirt's Nehalem QEMU's
    assert feats[:2] == [("require", "pclmuldq"), ("require", "pdpe1gb")]
    lv = names.model_features["Nehalem"]
    got = (lv | {names_of(names, n) for p, n in feats if p == "require"}) - {
        names_of(names, n) for p, n in feats if p == "disable"
    }
    assert {f for f in c.features if names.feature(f)} == got
    conf = nova(Answer(c), names)
    assert "cpu_models = Nehalem" in conf and "cpu_model_extra_flags = +pclmuldq, +pdpe1gb" in conf
    # pclmulqdq is not in Proxmox's per-VM flag list: a custom model is needed
    px = proxmox(Answer(c), names)
    assert "cpu-model: cpudb-nehalem-v1" in px and "reported-model Nehalem" in px
    d = advise(rel, needs(rel, "pdpe1gb"))
    h = next(x for x in d.candidates if x.name == "Haswell-v4")
    assert proxmox(Answer(h), names).splitlines()[-1] == "cpu: Haswell-noTSX-IBRS,flags=+pdpe1gb"
    assert LibvirtNames().model_for(h) == ("Haswell-v4", None)


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--needs", "pdpe1gbb"], "did you mean pdpe1gb"),
        (["--needs", ","], "--needs is empty"),
        (["--needs", "pdpe1gb", "--qemu", "99.1"], "99.1"),
        (["--needs", "pdpe1gb", "--vendor", "via"], "unknown vendor"),
        (["--needs", "pdpe1gb", "--host", "/nonexistent/dump.cpuid"], "no file and no stored host"),
        (["--needs", "x86-64-v7"], "x86-64 level"),
        (["--needs", "pdpe1gb", "--limit", "0"], "--limit"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str], argv: list[str], needle: str
) -> None:
    code, out, err = run(capsys, "advise", *argv)
    assert code == 2 and out == ""
    assert needle in err and len(err.strip().splitlines()) == 1


def test_any_spelling_of_a_need(db: Db) -> None:
    rel = db.release("7.2.0")
    for text in ("pdpe1gb", "CPUID.80000001H:EDX[26]", "0x80000001.edx.26"):
        assert [n.name for n in needs(rel, text)] == ["pdpe1gb"], text
    assert [n.name for n in needs(rel, "sse4_1", "pclmuldq")] == ["sse4.1", "pclmulqdq"]


# ------------------------------------------------------------------ the fast path


def test_advise_imports_nothing_heavy(tmp_path: Path) -> None:
    env = dict(os.environ, CPUDB_CACHE_DIR=os.environ["CPUDB_CACHE_DIR"])
    code = (
        "import sys, io, contextlib\n"
        "from cpudb.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    rc = main(['advise', '--needs', 'pdpe1gb'])\n"
        "heavy = [m for m in ('rich', 'requests', 'bs4', 'textual', 'sqlite_utils')"
        " if m in sys.modules]\n"
        "print(rc, heavy)\n"
    )
    r = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )
    assert r.stdout.strip() == "0 []", r.stderr
