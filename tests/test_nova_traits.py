"""data/nova-cpu-traits.json is what the scraper makes of Nova's CPU_TRAITS_MAPPING."""

from __future__ import annotations

import json

import pytest
from cpudb.scrapers import nova_traits

from cpudb.errors import ParseError
from cpudb.paths import shipped_data_dir

SAMPLE = """
import os_traits

CPU_TRAITS_MAPPING = {
    'aes': os_traits.HW_CPU_X86_AESNI,
    'svm': (os_traits.HW_CPU_X86_SVM, os_traits.HW_CPU_X86_AMD_SVM),
    'avx2': os_traits.HW_CPU_X86_AVX2,
}
"""


def test_parse_the_mapping_without_running_nova() -> None:
    assert nova_traits.parse(SAMPLE) == {
        "aes": ["HW_CPU_X86_AESNI"],
        "avx2": ["HW_CPU_X86_AVX2"],
        "svm": ["HW_CPU_X86_SVM", "HW_CPU_X86_AMD_SVM"],
    }
    with pytest.raises(ParseError, match="no CPU_TRAITS_MAPPING"):
        nova_traits.parse("X = {}")
    with pytest.raises(ParseError, match="no os_traits name"):
        nova_traits.parse("CPU_TRAITS_MAPPING = {'aes': 'HW'}")


def test_shipped_traits_use_libvirt_names() -> None:
    d = json.loads((shipped_data_dir() / "nova-cpu-traits.json").read_text())
    assert d["source"].startswith("nova ") and len(d["traits"]) >= 40
    lv = json.loads((shipped_data_dir() / "libvirt-features.json").read_text())["locations"]
    known = {n for e in lv.values() for n in (e["libvirt_name"], *e.get("libvirt_aliases", ()))}
    assert "pclmuldq" in d["traits"] and set(d["traits"]) - known <= {
        "3dnow",
        "amx-bf16",
        "amx-int8",
        "amx-tile",
    }
