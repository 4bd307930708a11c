"""What TCG gives a guest: the `.tcg_features` masks cpudb scrapes from cpu.c, checked
against the installed QEMU's own verdict under TCG (`query-cpu-definitions`
unavailable-features) for every CPU name of its release, and the preprocessor rule
that picks the masks of qemu-system-x86_64."""

from __future__ import annotations

import pytest
from cpudb.scrapers.cpp_branches import active_text, condition

from cpudb.decide.offer import tcg_offer
from cpudb.query import Db
from cpudb.resolve import name_index, with_accel
from tests.conftest import need_tool


def test_kept_branches_are_those_of_the_64_bit_system_emulator() -> None:
    text = "\n".join(
        [
            "a",
            "#ifdef TARGET_X86_64",
            "lm",
            "#else",
            "no-lm",
            "#endif",
            "#if defined(CONFIG_USER_ONLY)",
            "user",
            "#elif defined(CONFIG_SOFTMMU)",
            "system",
            "#endif",
            "#ifdef SOMETHING_ELSE",
            "kept",
            "#else",
            "also-kept",
            "#endif",
        ]
    )
    kept = [line for line in active_text(text).split("\n") if line]
    assert kept == ["a", "lm", "system", "kept", "also-kept"]
    assert len(active_text(text).split("\n")) == len(text.split("\n"))  # line numbers stay


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    [
        ("ifdef", "TARGET_X86_64", True),
        ("ifndef", "TARGET_X86_64", False),
        ("if", "defined(TARGET_X86_64) && !defined(CONFIG_USER_ONLY)", True),
        ("if", "defined(CONFIG_USER_ONLY) || defined(FOO)", None),  # depends on FOO
        ("if", "defined(CONFIG_USER_ONLY) && defined(FOO)", False),  # false either way
        ("if", "TCG_TARGET_REG_BITS > 32", None),  # a value test is not decided
        ("if", "0", None),
    ],
)
def test_conditions_are_decided_only_when_certain(
    kind: str, text: str, expected: bool | None
) -> None:
    assert condition(kind, text, {"TARGET_X86_64": True, "CONFIG_USER_ONLY": False}) == expected


def test_old_releases_do_not_claim_tcg_masks(db: Db) -> None:
    """Before 2.1 TCG's masks lived in realize code; the snapshot says nothing, not 'all'."""
    assert db.release("2.0.0").tcg_features is None
    assert tcg_offer(db.release("2.0.0")) is None
    tcg = db.release("7.2.0").tcg_features
    assert tcg is not None and "pcid" not in tcg  # TCG 7.2 has no PCID


@pytest.mark.integration
def test_tcg_lacks_exactly_what_qemu_says_tcg_cannot_give(db: Db) -> None:
    need_tool("qemu-system-x86_64", "apt-get install qemu-system-x86 (Debian bookworm: 7.2)")
    from cpudb.scrapers import qmp

    cap = qmp.capture(None, "tcg")
    version = cap.version.split("-")[0]
    rel = db.release(version if version in {i.version for i in db.versions()} else None)
    if rel.version.split(".")[:2] != version.split(".")[:2]:
        pytest.skip(f"no snapshot of QEMU {version}")
    offer = tcg_offer(rel)
    assert offer is not None
    idx = name_index(rel.features)
    by_name = {c.name: c for c in rel.cpus}
    wrong = {}
    for q in cap.cpus:
        if q.name not in by_name:
            continue
        cpu = by_name[q.name]
        ours = set(offer.lacks(with_accel(rel, cpu.features, "tcg")))
        theirs = {idx.get(u, u) for u in q.unavailable}
        if ours != theirs:
            wrong[q.name] = (sorted(ours - theirs), sorted(theirs - ours))
    assert wrong == {}
    assert len([q for q in cap.cpus if q.name in by_name]) == len(rel.cpus)
