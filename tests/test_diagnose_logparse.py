"""The log recognisers: each kind of line, with its line number, in the formats QEMU, the
kernel's tracepoints and libvirt print (across QEMU 1.x .. 10.x)."""

from __future__ import annotations

from pathlib import Path

from cpudb.diagnose import events as ev
from cpudb.diagnose import logparse as lp
from cpudb.diagnose.guestcpu import parse_cpu_arg

LOGS = Path(__file__).parent / "fixtures" / "logs"


def test_issue_log_events_in_order() -> None:
    log = lp.parse((LOGS / "pdpe1gb-issue8.log").read_text(), "issue")
    kinds = [type(e).__name__ for e in log.events]
    assert kinds == [
        "InternalError",
        "RegisterDump",
        "KvmExit",
        "WalkStart",
        "PagingElement",
        "PagingElement",
        "WalkerError",
        "EmulateInsn",
        "EmulateInsn",
        "UserspaceExit",
    ]
    err, dump, exit_, walk, pml4, pdpt, werr, ok, fail, uexit = log.events
    assert isinstance(err, ev.InternalError) and isinstance(dump, ev.RegisterDump)
    assert isinstance(exit_, ev.KvmExit) and isinstance(walk, ev.WalkStart)
    assert isinstance(pml4, ev.PagingElement) and isinstance(pdpt, ev.PagingElement)
    assert isinstance(werr, ev.WalkerError) and isinstance(uexit, ev.UserspaceExit)
    assert isinstance(ok, ev.EmulateInsn) and isinstance(fail, ev.EmulateInsn)
    assert (err.line, err.suberror, err.detail) == (1, 1, "emulation failure")
    assert dump.line == 3 and dump.regs["CR0"] == 0x80000011 and dump.regs["EFER"] == 0x500
    assert dump.regs["CR3"] == 0xBF8000 and dump.regs["EIP"] == 0x133025
    assert [n for n, _ in dump.lines] == list(range(3, 10))
    assert exit_.reason == "EPT_MISCONFIG" and exit_.rip == 0x133025
    assert exit_.task == "qemu-system-x86-31218"
    assert (walk.addr, walk.pferr) == (0x133025, 0x10)
    assert (pml4.pte, pml4.level, pdpt.pte, pdpt.level) == (0xBF9023, 4, 0xA3, 3)
    assert (werr.line, werr.pferr) == (14, 9)
    assert ok.insn == (0xEC,) and not ok.failed
    assert fail.failed and fail.insn == (0xEC,)  # "FAIL" is not read as the byte 0xFA
    assert uexit.reason == "KVM_EXIT_INTERNAL_ERROR"


def test_feature_warning_formats() -> None:
    text = "\n".join(
        [
            # QEMU 2.x-10.0
            "qemu-system-x86_64: warning: host doesn't support requested feature: "
            "CPUID.80000001H:EDX.pdpe1gb [bit 26]",
            # QEMU 10.1+ prints the subleaf
            "qemu-system-x86_64: warning: host doesn't support requested feature: "
            "CPUID[eax=07h,ecx=00h].ECX.la57 [bit 16]",
            "qemu-system-x86_64: warning: TCG doesn't support requested feature: "
            "CPUID[eax=80000001h].EDX.pdpe1gb [bit 26]",
            # MSR words, unnamed bits, dependency warnings
            "qemu-system-x86_64: warning: TCG doesn't support requested feature: "
            "MSR(48EH).vmx-hlt-exit [bit 7]",
            "qemu-system-x86_64: warning: host doesn't support requested feature: "
            "CPUID.0DH:EAX [bit 6]",
            "qemu-system-x86_64: warning: This feature depends on other features that were not "
            "requested: MSR(10AH).taa-no [bit 8]",
            # QEMU 1.1-1.3
            "warning: host cpuid 8000_0001 lacks requested flag 'pdpe1gb' [0x04000000]",
            "qemu-system-x86_64: Host doesn't support requested features",
        ]
    )
    ev = lp.parse(text).events
    w = [e for e in ev if isinstance(e, lp.FeatureWarning)]
    assert [(e.accel, e.leaf, e.subleaf, e.register, e.msr, e.name, e.bit) for e in w] == [
        ("host", 0x80000001, None, "edx", None, "pdpe1gb", 26),
        ("host", 0x7, 0, "ecx", None, "la57", 16),
        ("TCG", 0x80000001, None, "edx", None, "pdpe1gb", 26),
        ("TCG", None, None, None, 0x48E, "vmx-hlt-exit", 7),
        ("host", 0xD, None, "eax", None, None, 6),
        ("dependency", None, None, None, 0x10A, "taa-no", 8),
        ("host", 0x80000001, None, None, None, "pdpe1gb", 26),
    ]
    assert [e.line for e in w] == [1, 2, 3, 4, 5, 6, 7]
    assert isinstance(ev[-1], lp.FeaturesRefused) and ev[-1].line == 8


def test_phys_bits_messages() -> None:
    text = (LOGS / "qemu-phys-bits-too-low.log").read_text()
    ev = lp.parse(text).events
    mism = [e for e in ev if isinstance(e, lp.PhysBitsMismatch)]
    lim = [e for e in ev if isinstance(e, lp.AddressSpaceLimit)]
    assert [(m.host_bits, m.guest_bits) for m in mism] == [(48, 33)]
    assert [(a.limit, a.needed, a.phys_bits) for a in lim] == [(0x1FFFFFFFF, 0x4BFFFFFFF, 33)]


def test_libvirt_messages() -> None:
    text = "\n".join(
        [
            "error: operation failed: guest CPU doesn't match specification: missing features: "
            "pdpe1gb,la57",
            "error: operation failed: guest CPU doesn't match specification: extra features: ht",
            "2021-01-11 10:28:18.110+0000: 25288: error : virCPUx86Compare:1785 : the CPU is "
            "incompatible with host CPU: Host CPU does not provide required features: xsave, avx",
        ]
    )
    a, b, c = lp.parse(text).events
    assert isinstance(a, lp.LibvirtMismatch) and a.missing == ("pdpe1gb", "la57")
    assert isinstance(b, lp.LibvirtMismatch) and b.extra == ("ht",) and b.missing == ()
    assert isinstance(c, lp.LibvirtIncompatible) and c.features == ("xsave", "avx")


def test_libvirt_domain_log_command_line_and_version() -> None:
    log = lp.parse((LOGS / "pdpe1gb-libvirt.log").read_text())
    assert log.from_libvirt
    (ver,) = log.of(lp.QemuVersion)
    assert (ver.version, ver.via, ver.line) == ("7.2.0", "libvirt", 1)
    (cmd,) = log.of(lp.CommandLine)
    assert cmd.line == 2  # the logical line starts at `LC_ALL=C \`
    assert cmd.argv[0] == "/usr/bin/qemu-system-x86_64"
    assert cmd.machine == "pc-q35-7.2" and cmd.accel == "kvm"
    assert cmd.cpu is not None and cmd.cpu.startswith("Haswell-noTSX-IBRS,vme=on")
    dump = log.of(lp.RegisterDump)[0]
    assert dump.regs["RIP"] == 0xFFFFFFFF80200A14 and dump.regs["CR4"] == 0x6A0
    assert dump.code[:3] == (0x66, 0x89, 0x02)  # the bytes from <66> on
    (werr,) = log.of(lp.WalkerError)
    assert werr.pferr == 0x19


def test_command_line_forms() -> None:
    argv = ["qemu-system-x86_64", "-M", "pc-i440fx-2.12,accel=kvm", "-cpu", "Haswell,+pdpe1gb"]
    assert lp.parse_cpu_machine(argv) == ("Haswell,+pdpe1gb", "pc-i440fx-2.12", "kvm")
    argv = ["qemu-system-x86_64", "-machine", "type=q35", "-enable-kvm"]
    assert lp.parse_cpu_machine(argv) == (None, "q35", "kvm")
    log = lp.parse("$ qemu-system-i386 -enable-kvm -cpu kvm32 -m 1G\n")
    (cmd,) = log.of(lp.CommandLine)
    assert cmd.cpu == "kvm32" and cmd.accel == "kvm"
    # a trace line whose task is named after the binary is not a command line
    assert not lp.parse(" qemu-system-x86-1 [000] 1.0: kvm_exit: reason HLT rip 0x1\n").of(
        lp.CommandLine
    )


def test_cpu_arg_parsing() -> None:
    a = parse_cpu_arg("Haswell-v4,+pdpe1gb,-hle,x2apic=off,phys-bits=46,enforce,model-id=A,,B")
    assert a.model == "Haswell-v4"
    assert a.props == (
        ("pdpe1gb", "on"),
        ("hle", "off"),
        ("x2apic", "off"),
        ("phys-bits", "46"),
        ("enforce", "on"),
        ("model-id", "A,B"),
    )
    assert a.enforce
    assert a.with_flag("hle") == (
        "Haswell-v4,pdpe1gb=on,x2apic=off,phys-bits=46,model-id=A,,B,hle=on,enforce"
    )
    assert a.with_flag("host-phys-bits") == (
        "Haswell-v4,pdpe1gb=on,hle=off,x2apic=off,model-id=A,,B,host-phys-bits=on,enforce"
    )
    assert parse_cpu_arg("Haswell-v4").with_flag("pdpe1gb", enforce=True) == (
        "Haswell-v4,pdpe1gb=on,enforce"
    )


def test_trace_variants() -> None:
    text = "\n".join(
        [
            # perf script
            "qemu-system-x86 1234 [002] 99.000001: kvmmmu:kvm_mmu_walker_error: pferr 9 P|RSVD",
            # raw trace_pipe with the irq-flags column
            "  qemu-system-x86-1234  [002] d..1. 99.000002: kvm_cr: cr_write 4 = 0x10a0",
            "  qemu-system-x86-1234  [002] d..1. 99.000003: kvm_inj_exception: #GP (0x0)",
            "  qemu-system-x86-1234  [002] d..1. 99.000004: kvm_msr: "
            "msr_write c0000080 = 0x901 (#GP)",
            "  qemu-system-x86-1234  [002] 99.000005: kvm_exit: vcpu 0 reason EPT_VIOLATION rip "
            "0xfff0 info1 0x0000000000000181 info2 0x0000000000000000 intr_info 0x00000000 "
            "error_code 0x00000000",
        ]
    )
    a, b, c, d, e = lp.parse(text).events
    assert isinstance(a, lp.WalkerError) and a.pferr == 9
    assert isinstance(b, lp.CrAccess) and (b.cr, b.value, b.write) == (4, 0x10A0, True)
    assert isinstance(c, lp.InjectedException) and (c.vector, c.error_code) == ("#GP", 0)
    assert isinstance(d, lp.MsrAccess) and (d.msr, d.value, d.gp) == (0xC0000080, 0x901, True)
    assert isinstance(e, lp.KvmExit) and (e.reason, e.rip) == ("EPT_VIOLATION", 0xFFF0)
    assert b.task == c.task == "qemu-system-x86-1234"


def test_unrelated_text_is_ignored() -> None:
    log = lp.parse("Booting Linux...\nhello kvm world\n\nEAX is a register\n")
    assert log.events == ()
    assert log.line_count == 4
