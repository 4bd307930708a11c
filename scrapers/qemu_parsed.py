"""What the QEMU CPU-model table parser (`qemu_table`) reads and what it returns."""

from __future__ import annotations

from cpudb.model import Dependency, Feature, FeatureWord, ModelDef
from cpudb.record import Record, field


class SourceFiles(Record):
    """The texts of one release. Names are used in error messages."""

    cpu_c: str
    cpu_h: str
    cpu_c_name: str = "target/i386/cpu.c"
    cpu_h_name: str = "target/i386/cpu.h"
    extra: tuple[tuple[str, str], ...] = ()  # (name, text): kvm-cpu.c, tcg-cpu.c


class RuntimeRules(Record):
    """Rules QEMU applies in code, detected in this release's cpu.c."""

    hypervisor: bool
    amd_alias_copy: bool


class ParsedTable(Record):
    words: tuple[FeatureWord, ...]
    features: tuple[Feature, ...]
    dependencies: tuple[Dependency, ...]
    models: tuple[ModelDef, ...]
    accel_defaults: dict[str, tuple[tuple[str, str], ...]]
    default_version: str | None
    rules: RuntimeRules
    unnamed: dict[str, tuple[str, ...]] = field(default_factory=dict)  # model -> locations
    tcg_features: frozenset[str] | None = None  # what TCG emulates (qemu-system-x86_64)
