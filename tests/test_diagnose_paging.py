"""Page-walk reserved-bit rules and control-register decoding, checked against KVM's masks.

`kvm_mask` below is a transcription of `__reset_rsvds_bits_mask()` (arch/x86/kvm/mmu/mmu.c,
Linux 6.x), the code whose verdict `kvm_mmu_walker_error: ... RSVD` reports. The rules in
`cpudb.diagnose.paging` are written from the SDM/APM instead; both must agree.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cpudb.diagnose import paging
from cpudb.diagnose.registers import CR4_GATES, EFER_GATES, GuestState, flags, guest_state
from cpudb.query import Db


def rsvd_bits(lo: int, hi: int) -> int:
    return ((1 << (hi - lo + 1)) - 1) << lo


def kvm_mask(
    mode: str,
    level: int,
    large: bool,
    *,
    maxphy: int,
    nx: bool,
    gbpages: bool,
    amd: bool,
    pse: bool = True,
) -> int:
    """rsvd_bits_mask[large][level - 1] as KVM computes it for the guest's paging mode."""
    if mode == "32-bit":
        if level == 2 and large and pse:
            return rsvd_bits(17, 21)  # is_cpuid_PSE36() is always 1 in KVM
        return 0
    pa_bits_rsvd = rsvd_bits(maxphy, 63)
    high = pa_bits_rsvd & rsvd_bits(0, 62 if mode == "PAE" else 51)
    if not nx:
        high |= rsvd_bits(63, 63)
    bit8 = rsvd_bits(8, 8) if amd else 0
    gb = 0 if gbpages else rsvd_bits(7, 7)
    if mode == "PAE":
        table = {
            (False, 3): rsvd_bits(63, 63) | high | rsvd_bits(5, 8) | rsvd_bits(1, 2),
            (False, 2): high,
            (False, 1): high,
            (True, 2): high | rsvd_bits(13, 20),
            (True, 1): high,
        }
        return table[(large and level != 3, level)]
    table = {
        (False, 5): high | bit8 | rsvd_bits(7, 7),
        (True, 5): high | bit8 | rsvd_bits(7, 7),
        (False, 4): high | bit8 | rsvd_bits(7, 7),
        (True, 4): high | bit8 | rsvd_bits(7, 7),
        (False, 3): high | gb,
        (True, 3): high | gb | rsvd_bits(13, 29),
        (False, 2): high,
        (True, 2): high | rsvd_bits(13, 20),
        (False, 1): high,
        (True, 1): high,
    }
    return table[(large, level)]


def ours(
    mode: str,
    level: int,
    entry: int,
    *,
    maxphy: int,
    nx: bool,
    gbpages: bool,
    amd: bool,
    pse: bool = True,
) -> int:
    """Bits our rules call reserved for this entry, under the same conditions."""
    holds = {"always": True, "pdpe1gb": not gbpages, "nxe": not nx, "maxphyaddr": True, "amd": amd}
    mask = 0
    for h in paging.check(level, entry, mode, maxphy, pse=pse):
        if holds[h.condition]:
            mask |= h.set_bits
    return mask


@given(
    mode=st.sampled_from(["4-level", "5-level", "PAE", "32-bit"]),
    level=st.integers(1, 5),
    entry=st.integers(0, 2**64 - 1),
    maxphy=st.integers(32, 52),
    nx=st.booleans(),
    gbpages=st.booleans(),
    amd=st.booleans(),
)
def test_rules_agree_with_kvm(
    mode: str, level: int, entry: int, maxphy: int, nx: bool, gbpages: bool, amd: bool
) -> None:
    top = paging.TOP_LEVEL[mode]
    level = min(level, top)
    if mode in ("PAE", "32-bit"):
        maxphy = min(maxphy, 52)
    large = bool(entry & paging.PS)
    expected = entry & kvm_mask(mode, level, large, maxphy=maxphy, nx=nx, gbpages=gbpages, amd=amd)
    assert ours(mode, level, entry, maxphy=maxphy, nx=nx, gbpages=gbpages, amd=amd) == expected


def test_issue_entry_is_a_1g_page_reserved_without_pdpe1gb() -> None:
    hits = paging.check(3, 0xA3, "4-level", 40)
    assert [h.condition for h in hits] == ["pdpe1gb"]
    assert hits[0].set_bits == 1 << 7
    assert "1 GiB" in hits[0].rule.why


def test_ps_at_level_4_and_5_is_always_reserved() -> None:
    for mode, level in (("4-level", 4), ("5-level", 5), ("5-level", 4)):
        hits = paging.check(level, 0x83, mode, 40)
        assert [h.condition for h in hits] == ["always"]


def test_level5_entries_exist_only_in_5_level_paging() -> None:
    assert paging.infer_mode([5, 4, 3]) == "5-level"
    assert paging.infer_mode([4, 3]) == "4-level"
    assert paging.infer_mode([3, 2, 1]) == "PAE"
    assert paging.infer_mode([2, 1]) == "32-bit"
    assert paging.LEVEL_NAMES["5-level"][5] == "PML5E"


def test_nx_bit_and_address_bits() -> None:
    e = (1 << 63) | (1 << 41) | 0x63
    hits = {h.condition: h.set_bits for h in paging.check(1, e, "4-level", 40)}
    assert hits == {"nxe": 1 << 63, "maxphyaddr": 1 << 41}
    assert paging.address(e, 1, "4-level") == (1 << 41)
    # in PAE paging the PDPTE has no XD bit: bit 63 is reserved whatever EFER says
    pae = paging.check(3, (1 << 63) | 1, "PAE", 36)
    assert {h.condition for h in pae} == {"always"}


def test_bit_text() -> None:
    assert paging.bit_text(1 << 7) == "bit 7"
    assert paging.bit_text(paging.bits(13, 29)) == "bits 13-29"
    assert paging.bit_text((1 << 40) | (1 << 45)) == "bits 40, 45"


def test_guest_state_modes() -> None:
    assert GuestState(0x11, 0, 0x20, 0).mode == "off"
    assert GuestState(0x80000011, 0, 0x0, 0).mode == "32-bit"
    assert GuestState(0x80000011, 0, 0x20, 0).mode == "PAE"
    assert GuestState(0x80000011, 0, 0x20, 0x500).mode == "4-level"
    assert GuestState(0x80000011, 0, 0x1020, 0x500).mode == "5-level"
    assert GuestState(None, None, None, None).mode is None


def test_decode_issue_registers() -> None:
    st_ = guest_state({"CR0": 0x80000011, "CR3": 0xBF8000, "CR4": 0x20, "EFER": 0x500})
    text = st_.describe()
    assert text[0] == "CR0=0x80000011 (PE ET PG)"
    assert text[1] == "CR4=0x20 (PAE)"
    assert text[2] == "EFER=0x500 (LME LMA)"
    assert text[3] == "4-level paging, CR3 -> PML4 at 0xbf8000"
    assert st_.has("EFER", "NXE") is False


def test_gates_name_real_cpuid_bits(db: Db) -> None:
    """Every CR4/EFER gate points at a bit QEMU names (in the newest release)."""
    from cpudb.names import FeatureNames

    rel = db.release(None)
    by_loc = FeatureNames(rel).by_location
    for g in (*CR4_GATES, *EFER_GATES):
        names = {by_loc[loc].name for loc in g.locations if loc in by_loc}
        assert g.label in names, g
    assert flags(0x10A0, {5: "PAE", 7: "PGE", 12: "LA57"}) == ("PAE", "PGE", "LA57")
