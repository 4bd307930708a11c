"""Linux's cpuid-deps rows (data/linux-cpuid-deps.json) in the advice: a flag is added
with what a Linux guest needs beside it, or the guest kernel clears it."""

from __future__ import annotations

import pytest
from cpudb.scrapers.linux_cpuid_deps import parse_rows

from cpudb import linux_deps
from cpudb.advise import advise
from cpudb.app.inputs import resolve_needs
from cpudb.decide.deps import Deps
from cpudb.query import Db
from cpudb.resolve import with_accel
from tests.conftest import cpu_named

SNIPPET = """
static const struct cpuid_dep cpuid_deps[] = {
	{ X86_FEATURE_FXSR,			X86_FEATURE_FPU	      },
	{ X86_FEATURE_AVX,			X86_FEATURE_XSAVE     },
	{ X86_FEATURE_AVX512F,			X86_FEATURE_AVX	      },
	{}
};
"""


def test_rows_are_read_in_table_order() -> None:
    assert parse_rows(SNIPPET) == [("FXSR", "FPU"), ("AVX", "XSAVE"), ("AVX512F", "AVX")]


def test_shipped_table_holds_the_rows_the_advice_relies_on(db: Db) -> None:
    rel = db.release("7.2.0")
    deps = Deps(rel, linux_deps.pairs())
    assert ("avx",) in [alt for alt, _ in deps.requirements("avx512f", frozenset())]
    assert ("xsave",) in [alt for alt, _ in deps.requirements("avx", frozenset())]
    assert deps.requirements("avx512f", frozenset({"avx", "xsave"})) == []


@pytest.mark.parametrize(
    ("need", "accel"),
    [("avx2", "kvm"), ("avx512f", "kvm"), ("fma", "kvm"), ("avx2", "tcg"), ("fma", "tcg")],
)
def test_no_answer_gives_a_flag_a_linux_guest_would_clear(db: Db, need: str, accel: str) -> None:
    rel = db.release("7.2.0")
    a = advise(rel, resolve_needs(rel, [need]), accel=accel, linux_deps=linux_deps.pairs())
    assert a.candidates
    deps = Deps(rel, linux_deps.pairs())
    for c in a.candidates[:20]:
        guest = with_accel(rel, cpu_named(rel, c.name).features, accel) | {f.name for f in c.adds}
        assert deps.requirements(need, frozenset(guest)) == [], c.name


def test_snowridge_is_not_made_an_avx512_cpu(db: Db) -> None:
    rel = db.release("7.2.0")
    a = advise(rel, resolve_needs(rel, ["avx512f"]), linux_deps=linux_deps.pairs())
    deps = Deps(rel, linux_deps.pairs())
    snowridge = [c for c in a.candidates if c.name.startswith("Snowridge")]
    assert snowridge
    for c in snowridge:
        assert "avx" in {f.name for f in c.adds}
        guest = cpu_named(rel, c.name).features | {f.name for f in c.adds}
        assert deps.requirements("avx512f", frozenset(guest)) == []
