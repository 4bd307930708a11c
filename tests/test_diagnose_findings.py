"""`cpudb diagnose` on the fixture logs: every log under fixtures/logs/ is named for its
answer, and each finding says why, with evidence, and how to fix it.

The logs are hand-written from the architecture's rules (SDM vol. 3 ch. 4, APM vol. 2
ch. 5) in the exact formats of QEMU's stderr, `trace-cmd report` and libvirt, except the
`qemu-*.log` ones, which are real stderr of /usr/bin/qemu-system-x86_64 (7.2.22, Debian)
captured on a KVM (PVM) host whose KVM does not offer pdpe1gb, la57 or sse3.
"""

from __future__ import annotations

import pytest

from cpudb.diagnose.fixes import HostView
from cpudb.diagnose.reason import diagnose_text
from cpudb.query import Db
from tests.conftest import cpu_named
from tests.diagnose_logs import LOGS, QEMU, diagnose_log, gives

# log -> the features its findings name, in order ([] = must yield no finding)
EXPECTED = {
    "pdpe1gb-issue8.log": ["pdpe1gb"],
    "pdpe1gb-libvirt.log": ["pdpe1gb"],
    "nx-pae-xd-without-nxe.log": ["nx"],
    "nx-efer-gp.log": ["nx"],
    "la57-cr4-gp.log": ["la57"],
    "smep-cr4-gp.log": ["smep"],
    "phys-bits-walk.log": ["phys-bits"],
    "libvirt-missing-features.log": ["pdpe1gb", "la57"],
    "libvirt-host-incompatible.log": ["hle", "rtm"],
    "qemu-host-enforce.log": ["pni", "la57", "pdpe1gb"],
    "none-emulation-failure-no-trace.log": [],
    "none-firmware-avx-mmio.log": [],
    "none-guest-bug-ps-level4.log": [],
    "none-entry-failed.log": [],
    "none-nx-guest-bug.log": [],
    "la57-five-level-dump.log": [],  # 5-level paging in use, but nothing failed for it
}
# logs with many QEMU warnings: the first findings
FIRST = {
    "qemu-phys-bits-too-low.log": "phys-bits",
    "qemu-host-phys-bits-mismatch.log": "host-phys-bits",
    "qemu-tcg-vmx.log": "vmx",
    "qemu-dependency-taa-no.log": "taa-no",
}


def test_every_fixture_has_an_expectation() -> None:
    assert {p.name for p in LOGS.glob("*.log")} == set(EXPECTED) | set(FIRST)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_findings(db: Db, name: str) -> None:
    d = diagnose_log(db, name)
    assert [f.feature for f in d.findings] == EXPECTED[name], d.notes
    if not EXPECTED[name]:
        assert d.notes, "a log without findings must say what is missing"


@pytest.mark.parametrize("name", sorted(FIRST))
def test_fixture_first_finding(db: Db, name: str) -> None:
    d = diagnose_log(db, name)
    assert d.findings[0].feature == FIRST[name]


def test_issue_log_explains_the_chain(db: Db) -> None:
    (f,) = diagnose_log(db, "pdpe1gb-issue8.log", cpu_arg="Haswell-v4").findings
    assert f.certainty == "certain" and f.kinds == ("page-walk",)
    assert f.location == "cpuid.0x80000001.edx.26" and f.cpuid == "CPUID.80000001H:EDX[26]"
    text = f.explanation
    for piece in (
        "level-3 entry 0xa3 has PS (bit 7) set, i.e. a 1 GiB page",
        "P|RSVD",
        "bit 7 at level 3 is reserved unless the guest CPU has pdpe1gb "
        "(CPUID 0x80000001 EDX bit 26)",
        "the guest CPU here lacks it",
    ):
        assert piece in text
    assert [e.line for e in f.evidence] == [1, 5, 8, 9, 11, 12, 13, 14, 16]
    assert "kvm_mmu_walker_error: pferr 9 P|RSVD" in f.evidence[7].text
    assert "-cpu Haswell-v4,pdpe1gb=on" in f.fixes
    assert "-cpu Haswell-v4,pdpe1gb=on,enforce" in f.fixes
    assert "host" in f.host and "enforce" in f.host


def test_provided_answers_give_the_feature(db: Db) -> None:
    rel = db.release(QEMU)
    for name, feature in (
        ("pdpe1gb-issue8.log", "pdpe1gb"),
        ("la57-cr4-gp.log", "la57"),
        ("nx-efer-gp.log", "nx"),
        ("smep-cr4-gp.log", "smep"),
    ):
        (f,) = diagnose_log(db, name).findings
        assert f.provides, name
        assert all(gives(rel, cpu, feature) for cpu in f.provides), (name, f.provides)
        # the decision core's answers, in its order, after the current model's own fix
        models = [x for x in f.fixes if x.removeprefix("-cpu ") in f.provides]
        assert models == [f"-cpu {p}" for p in f.provides]


def test_the_current_model_with_the_flag_comes_first(db: Db) -> None:
    (f,) = diagnose_log(db, "pdpe1gb-issue8.log", cpu_arg="Haswell-v4").findings
    assert f.fixes[0] == "-cpu Haswell-v4,pdpe1gb=on"
    assert "-cpu Haswell-v4,pdpe1gb=on,enforce" in f.fixes


def test_command_line_cpu_is_used(db: Db) -> None:
    (f,) = diagnose_log(db, "pdpe1gb-libvirt.log").findings
    assert any(
        x.startswith("-cpu Haswell-noTSX-IBRS,vme=on,") and x.endswith(",pdpe1gb=on")
        for x in f.fixes
    )
    assert f.libvirt == ("<feature policy='require' name='pdpe1gb'/>",)
    assert "-cpu Haswell-noTSX-IBRS" in f.explanation  # "... has no pdpe1gb"


def test_nx_reasoning(db: Db) -> None:
    (f,) = diagnose_log(db, "nx-pae-xd-without-nxe.log").findings
    assert "EFER.NXE is 0 in the register dump" in f.chain
    assert "-cpu pentium3,nx=on" in f.fixes
    (g,) = diagnose_log(db, "nx-efer-gp.log").findings
    assert g.kinds == ("efer-write",)
    assert any("EFER.NXE (bit 11) is reserved unless the guest CPU has nx" in s for s in g.chain)
    bug = diagnose_log(db, "none-nx-guest-bug.log")
    assert any("guest never enabled NXE" in n for n in bug.notes)


def test_la57_from_a_5_level_dump_on_a_cpu_without_it(db: Db) -> None:
    (f,) = diagnose_log(db, "la57-five-level-dump.log", cpu_arg="Cascadelake-Server-v1").findings
    assert f.feature == "la57" and f.kinds == ("paging-mode",) and f.certainty == "likely"
    assert any("CR4.LA57=1" in s for s in f.chain)
    assert any("level-5 entry" in s for s in f.chain)
    # the same guest on a CPU with la57: nothing to find
    assert not diagnose_log(db, "la57-five-level-dump.log", cpu_arg="Icelake-Server-v1").findings


def test_phys_bits(db: Db) -> None:
    (f,) = diagnose_log(db, "phys-bits-walk.log").findings
    assert f.fixes == ("-cpu Haswell-v4,phys-bits=41", "-cpu Haswell-v4,host-phys-bits=on")
    assert any("needs 41 address bits" in s for s in f.chain)
    # a host with 39 bits cannot back it: no phys-bits fix, say why
    (g,) = diagnose_log(
        db, "phys-bits-walk.log", host=HostView("laptop", frozenset(), phys_bits=39)
    ).findings
    assert g.fixes == () and g.advice
    low = diagnose_log(db, "qemu-phys-bits-too-low.log").findings[0]
    assert low.kinds == ("address-space",)
    assert low.fixes[0] == "-cpu Haswell-v4,phys-bits=35"  # 0x4bfffffff needs 35 bits
    mism = diagnose_log(db, "qemu-host-phys-bits-mismatch.log").findings[0]
    assert mism.fixes == (
        "-cpu Skylake-Server-v4,host-phys-bits=on",
        "-cpu Skylake-Server-v4,phys-bits=48",
    )


def test_host_warnings_and_enforce(db: Db) -> None:
    fs = diagnose_log(db, "qemu-host-enforce.log").findings
    pd = next(f for f in fs if f.feature == "pdpe1gb")
    assert pd.kinds == ("qemu-host",) and pd.host_has is False
    assert "QEMU then refused to start (enforce)" in pd.chain
    assert any("pdpe1gb=off" in a for a in pd.advice)
    assert [e.line for e in pd.evidence] == [4, 5]


def test_warning_and_walk_merge_into_one_finding(db: Db) -> None:
    """The walk says the guest lacked pdpe1gb; the warning says why: the host lacks it."""
    text = (LOGS / "pdpe1gb-issue8.log").read_text() + (
        "qemu-system-x86_64: warning: host doesn't support requested feature: "
        "CPUID.80000001H:EDX.pdpe1gb [bit 26]\n"
    )
    (f,) = diagnose_text(text, db.release(QEMU), cpu_arg="Skylake-Server-v1").findings
    assert f.kinds == ("page-walk", "qemu-host")
    assert any("QEMU dropped it because the host does not offer it" in s for s in f.chain)
    assert f.host_has is False


def test_tcg_and_dependency_fixes(db: Db) -> None:
    fs = diagnose_log(db, "qemu-tcg-vmx.log").findings
    vmx = fs[0]
    assert vmx.kinds == ("qemu-tcg",)
    assert all(x.startswith("-accel kvm ") for x in vmx.fixes)
    assert "-accel kvm -cpu Haswell-v4,vmx=on" in vmx.fixes
    dep = diagnose_log(db, "qemu-dependency-taa-no.log").findings[0]
    assert dep.fixes[0] == "-cpu Skylake-Client-v1,arch-capabilities=on,taa-no=on"


def test_host_view_filters_models(db: Db) -> None:
    rel = db.release(QEMU)
    haswell_host = HostView("haswell", cpu_named(rel, "Haswell-v4").features | {"pdpe1gb"})
    (f,) = diagnose_log(db, "pdpe1gb-issue8.log", cpu_arg="Haswell-v4", host=haswell_host).findings
    assert f.host_has is True
    for cpu in f.provides:  # only models the host can run
        assert cpu_named(rel, cpu).features <= haswell_host.present | {"hypervisor"}
    assert "-cpu Haswell-v4,pdpe1gb=on" in f.fixes
    old = HostView("core2", cpu_named(rel, "Conroe-v1").features)
    (g,) = diagnose_log(db, "pdpe1gb-issue8.log", cpu_arg="Haswell-v4", host=old).findings
    assert g.host_has is False and "lacks pdpe1gb" in g.host


def test_no_finding_notes_say_what_is_missing(db: Db) -> None:
    d = diagnose_log(db, "none-emulation-failure-no-trace.log")
    assert any("trace-cmd record -e kvm -e kvmmmu" in n for n in d.notes)
    d = diagnose_log(db, "none-firmware-avx-mmio.log")
    assert any("VEX-encoded (AVX)" in n for n in d.notes)
    d = diagnose_log(db, "none-guest-bug-ps-level4.log")
    assert any("reserved whatever the CPU model" in n for n in d.notes)
    d = diagnose_log(db, "none-entry-failed.log")
    assert any("invalid guest state" in n for n in d.notes)
