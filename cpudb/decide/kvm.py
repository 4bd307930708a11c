"""What KVM gives a guest beyond, or short of, the host CPU's own CPUID, bit by bit.

QEMU asks KVM_GET_SUPPORTED_CPUID and adjusts the answer in kvm_arch_get_supported_cpuid()
(target/i386/kvm/kvm.c); KVM fills some bits itself in kvm_set_cpu_caps()
(arch/x86/kvm/cpuid.c) and vmx/svm_set_cpu_caps(). Read from a raw CPUID dump, both
kinds of bits must be added; read from KVM itself (the ioctl, or QEMU's `host` model),
only QEMU's own adjustments are left to add. Checked against QEMU's own answers
(`unavailable-features` under KVM) in ../shared/hosts/expected.json and on live hosts.
"""

from __future__ import annotations

Bit = tuple[int, int, str, int]  # (leaf, subleaf, register, bit)


def bit(leaf: int, reg: str, b: int, sub: int = 0) -> Bit:
    return (leaf, sub, reg, b)


# Leaves that belong to the hypervisor (KVM/Hyper-V paravirt words: kvmclock, kvm-pv-*,
# hv-*): KVM and QEMU provide them, the host CPU has nothing to do with them.
HYPERVISOR_RANGE = range(0x40000000, 0x50000000)

# QEMU's own additions to what KVM reports (kvm_arch_get_supported_cpuid).
QEMU_ADDS: dict[Bit, str] = {
    # `if (function == 1 && reg == R_ECX) ret |= CPUID_EXT_HYPERVISOR;`
    bit(0x1, "ecx", 31): "hypervisor: QEMU always sets it under KVM",
    # `if (has KVM_CAP_TSC_DEADLINE_TIMER) ret |= CPUID_EXT_TSC_DEADLINE_TIMER;`
    bit(0x1, "ecx", 24): "tsc-deadline: emulated by KVM's local APIC timer",
    # "It's safe to enable TOPOEXT even if it's not returned by GET_SUPPORTED_CPUID"
    bit(0x80000001, "ecx", 22): "topoext: QEMU always allows it under KVM",
}
# What KVM emulates whatever the host CPU has (kvm_set_cpu_caps); KVM's own answer
# already includes these.
KVM_EMULATES: dict[Bit, str] = {
    # "KVM emulates x2apic in software irrespective of host support"
    bit(0x1, "ecx", 21): "x2apic: emulated by KVM's in-kernel local APIC",
    # leaf 6: `entry->eax = 0x4; /* allow ARAT */`
    bit(0x6, "eax", 2): "arat: KVM always reports an always-running APIC timer",
    # `kvm_cpu_cap_set(X86_FEATURE_TSC_ADJUST)` (emulated MSR)
    bit(0x7, "ebx", 1): "tsc-adjust: IA32_TSC_ADJUST is emulated by KVM",
    # `kvm_cpu_cap_set(X86_FEATURE_ARCH_CAPABILITIES)` (emulated MSR, also on AMD); the
    # MSR's bits (mds-no, ...) still come from the host.
    bit(0x7, "edx", 29): "arch-capabilities: the MSR is emulated by KVM",
}
TOPOEXT = bit(0x80000001, "ecx", 22)

# CPUID_EXT2_AMD_ALIASES: on the KVM path QEMU copies these bits of CPUID.1:EDX into
# CPUID.80000001H:EDX ("On Intel, kvm returns cpuid according to the Intel spec").
AMD_ALIAS_BITS = (0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 14, 15, 16, 17, 23, 24)
AMD_VENDORS = frozenset({"AuthenticAMD", "HygonGenuine"})

# Speculation-control bits KVM derives from the other vendor's bits (kvm_set_cpu_caps:
# "AMD has separate bits for each SPEC_CTRL bit"; Linux folds both vendors' bits into
# X86_FEATURE_IBPB/IBRS/STIBP, and KVM sets the guest bits of both from those).
SPEC_CTRL = bit(0x7, "edx", 26)
STIBP = bit(0x7, "edx", 27)
SSBD = bit(0x7, "edx", 31)
AMD_IBPB = bit(0x80000008, "ebx", 12)
AMD_IBRS = bit(0x80000008, "ebx", 14)
AMD_STIBP = bit(0x80000008, "ebx", 15)
AMD_SSBD = bit(0x80000008, "ebx", 24)
VIRT_SSBD = bit(0x80000008, "ebx", 25)
VMX = bit(0x1, "ecx", 5)
LM = bit(0x80000001, "edx", 29)
SYSCALL = bit(0x80000001, "edx", 11)
UMIP = bit(0x7, "ecx", 2)
LA57 = bit(0x7, "ecx", 16)

# Host bits the rules read, whether or not a release's catalogue names them.
RULE_BITS = frozenset(
    {
        *(bit(0x1, "edx", b) for b in AMD_ALIAS_BITS),
        SPEC_CTRL,
        STIBP,
        SSBD,
        AMD_IBPB,
        AMD_IBRS,
        AMD_STIBP,
        AMD_SSBD,
        VMX,
        LM,
        SYSCALL,
    }
)

# Bits /proc/cpuinfo can hide although KVM offers them: their absence there is unknown,
# not absent. Linux clears X86_FEATURE_LA57 when the kernel itself runs 4-level paging
# (`if (!pgtable_l5_enabled()) setup_clear_cpu_cap(X86_FEATURE_LA57)`), while KVM sets
# it from the CPU's own CPUID ("Set LA57 based on hardware capability").
CPUINFO_HIDES: dict[Bit, str] = {
    LA57: "la57: Linux lists it only when the kernel itself runs 5-level paging, "
    "KVM offers it from the CPU's CPUID",
}


def supplied_bits(
    has: frozenset[Bit], vendor: str, family: int, *, from_kvm: bool = False
) -> dict[Bit, str]:
    """Bits a guest gets under KVM on this host beyond `has`, with the reason.

    `has`: the bits the source shows. `from_kvm`: the source is KVM's own answer
    (KVM_GET_SUPPORTED_CPUID), which already holds what KVM emulates or derives; only
    QEMU's adjustments remain."""
    out = dict(QEMU_ADDS)
    for b in AMD_ALIAS_BITS:
        if bit(0x1, "edx", b) in has:
            out[bit(0x80000001, "edx", b)] = "AMD alias of CPUID.1:EDX, copied by QEMU"
    if from_kvm:
        return out
    out.update(KVM_EMULATES)
    ibpb = SPEC_CTRL in has or AMD_IBPB in has
    ibrs = SPEC_CTRL in has or AMD_IBRS in has
    stibp = STIBP in has or AMD_STIBP in has
    ssbd = SSBD in has or AMD_SSBD in has
    if ibpb and ibrs:  # `if (IBPB && IBRS) kvm_cpu_cap_set(X86_FEATURE_SPEC_CTRL)`
        out[SPEC_CTRL] = "spec-ctrl: KVM sets it from the host's IBRS+IBPB (either vendor)"
    if ibpb:
        out[AMD_IBPB] = "ibpb: KVM sets it from the host's IBPB (either vendor)"
    if ibrs:
        out[AMD_IBRS] = "ibrs: KVM sets it from the host's IBRS (either vendor)"
    if stibp:
        out[STIBP] = "stibp: KVM sets it from the host's STIBP (either vendor)"
        out[AMD_STIBP] = "amd-stibp: KVM sets it from the host's STIBP (either vendor)"
    if ssbd:
        out[SSBD] = "ssbd: KVM sets it from the host's SSBD (either vendor)"
        out[AMD_SSBD] = "amd-ssbd: KVM sets it from the host's SSBD (either vendor)"
    # svm_set_cpu_caps: `if (LS_CFG_SSBD || AMD_SSBD) kvm_cpu_cap_set(X86_FEATURE_VIRT_SSBD)`;
    # Linux sets LS_CFG_SSBD on AMD families 15h-17h and Hygon 18h.
    if vendor in AMD_VENDORS and (AMD_SSBD in has or 0x15 <= family <= 0x18):
        out[VIRT_SSBD] = "virt-ssbd: KVM on AMD virtualises SSBD"
    # vmx_set_cpu_caps: `if (vmx_umip_emulated()) kvm_cpu_cap_set(X86_FEATURE_UMIP)`:
    # VMX hosts with descriptor-table exiting (every VMX CPU since Westmere) emulate UMIP.
    if VMX in has:
        out[UMIP] = "umip: emulated by KVM on VMX hosts (descriptor-table exiting)"
    return out
