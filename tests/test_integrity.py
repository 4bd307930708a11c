"""Integrity of every shipped snapshot in data/qemu/: the facts hold together.

Each vN is recomputed from the model definition with cpudb.resolve (v1..vN props in order,
then feature_dependencies[]) and must equal the stored resolved set; every alias resolves
inside its release; every name is in the release's own catalogue; nothing is empty;
and loading then dumping a snapshot gives back the same bytes.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from cpudb import snapshot
from cpudb.model import Release
from cpudb.paths import shipped_data_dir
from cpudb.resolve import NON_FEATURE_PROPS, apply_dependencies, apply_props, name_index
from cpudb.versions import version_key
from tests.conftest import cpu_named

FILES = sorted((shipped_data_dir() / "qemu").glob("*.json"), key=lambda p: version_key(p.stem))
IDS = [p.stem for p in FILES]


def load(path: Path) -> tuple[str, Release]:
    text = path.read_text(encoding="utf-8")
    return text, snapshot.loads(text, name=str(path))


@pytest.fixture(scope="module", params=FILES, ids=IDS)
def shipped(request: pytest.FixtureRequest) -> tuple[Path, str, Release]:
    text, rel = load(request.param)
    return request.param, text, rel


def test_there_is_data() -> None:
    assert len(FILES) >= 42, FILES
    assert {"1.1.0", "4.1.0", "7.2.0", "8.1.0-rhel"} <= set(IDS)


def test_reload_and_redump_is_byte_identical(shipped: tuple[Path, str, Release]) -> None:
    path, text, rel = shipped
    assert snapshot.dumps(rel) == text
    assert path.stem == rel.version


def test_labels_are_honest(shipped: tuple[Path, str, Release]) -> None:
    _, _, rel = shipped
    downstream = "-" in rel.version  # 8.1.0-rhel, 7.2.22-debian
    assert rel.upstream is not downstream
    assert rel.source == "source" and rel.origin


def test_catalogue_is_keyed_by_location(shipped: tuple[Path, str, Release]) -> None:
    _, _, rel = shipped
    words = {w.name: w for w in rel.words}
    assert len(words) == len(rel.words)
    seen: dict[tuple[str, int], str] = {}
    for f in rel.features:
        w = words[f.word]
        assert f.location == w.location(f.bit)
        assert 0 <= f.bit < (64 if w.type == "msr" else 32), f.location  # CPUID regs: 32 bits
        assert (f.word, f.bit) not in seen, f"{f.location} named twice"
        seen[(f.word, f.bit)] = f.name
    # a name sits on several bits only inside one word (kvmclock 0/3, the EPT/VPID slip);
    # the same name in two words happens before 2.4 (AMD-aliased bits of 8000_0001.EDX)
    for name in {f.name for f in rel.features}:
        places = {f.word for f in rel.features if f.name == name}
        if len(places) > 1:
            assert version_key(rel.version)[0] < (2, 4), (name, places)
            assert places == {"FEAT_1_EDX", "FEAT_8000_0001_EDX"}, (name, places)


def test_every_name_is_in_the_release_catalogue(shipped: tuple[Path, str, Release]) -> None:
    _, _, rel = shipped
    index = name_index(rel.features)
    canonical = {f.name for f in rel.features}
    for m in rel.models:
        assert m.features <= canonical, (m.name, m.features - canonical)
        for v in m.versions:
            for prop, value in v.props:
                if prop not in NON_FEATURE_PROPS:
                    assert prop in index, (m.name, v.version, prop)
                    assert value in ("on", "off", "true", "false"), (m.name, prop, value)
    for c in rel.cpus:
        assert c.features <= canonical, (c.name, c.features - canonical)
    for d in rel.dependencies:
        assert d.requires and set(d.requires) <= canonical, d
        assert set(d.clears) <= canonical, d
        if d.clears_all_of:
            assert set(d.clears) == {f.name for f in rel.features if f.word == d.clears_all_of}
    for accel, props in rel.accel_defaults:
        assert accel in ("kvm", "tcg")
        for prop, _ in props:
            assert prop in index or prop in NON_FEATURE_PROPS, (accel, prop)


def test_no_empty_model_and_unique_names(shipped: tuple[Path, str, Release]) -> None:
    _, _, rel = shipped
    assert rel.models and rel.cpus
    assert len({m.name for m in rel.models}) == len(rel.models)
    assert len({c.name for c in rel.cpus}) == len(rel.cpus)
    for m in rel.models:
        assert m.features, f"{m.name} has no features"
        assert m.vendor in ("GenuineIntel", "AuthenticAMD", "HygonGenuine", "CentaurHauls"), m
    for c in rel.cpus:
        assert c.features, f"{c.name} resolves to nothing"


def test_every_alias_resolves_to_a_version_of_the_same_release(
    shipped: tuple[Path, str, Release],
) -> None:
    _, _, rel = shipped
    by_name = {c.name: c for c in rel.cpus}
    models = {m.name for m in rel.models}
    for c in rel.cpus:
        if c.kind in ("alias", "bare"):
            target = by_name.get(c.alias_of or "")
            assert target is not None, f"{c.name} -> {c.alias_of} missing"
            assert target.kind == "version" and target.alias_of is None
            assert target.features == c.features and target.model == c.model
        if c.kind == "bare":
            assert c.name in models and c.alias_of == f"{c.name}-v1"
        if c.kind == "model":
            assert rel.default_version is None and c.name in models
    if rel.default_version is None:  # before 4.1: every table entry is a CPU name
        assert [c.name for c in rel.cpus] == [m.name for m in rel.models]


def _hypervisor(rel: Release) -> bool:
    """QEMU sets CPUID_EXT_HYPERVISOR on every model when loading it since 1.4."""
    return version_key(rel.version)[0] >= (1, 4) and rel.feature("hypervisor") is not None


def test_each_version_derives_from_the_previous_plus_its_props(
    shipped: tuple[Path, str, Release],
) -> None:
    _, _, rel = shipped
    index = name_index(rel.features)
    extra = {"hypervisor"} if _hypervisor(rel) else set()
    checked = 0
    for m in rel.models:
        base = frozenset(m.features | extra)
        if rel.default_version is None:
            assert cpu_named(rel, m.name).features == apply_dependencies(base, rel.dependencies)
            checked += 1
            continue
        numbers = [v.version for v in m.versions] or [1]
        assert numbers == list(range(1, len(numbers) + 1)), (m.name, numbers)
        chain = base  # the definition before feature_dependencies[]
        for v in m.versions or ():
            previous = chain
            chain = apply_props(previous, v.props, index)
            # vN = v(N-1) + exactly its own props: nothing else changes
            touched = {index[p] for p, _ in v.props if p not in NON_FEATURE_PROPS}
            assert (chain ^ previous) <= touched, (m.name, v.version)
            cpu = rel.cpu(f"{m.name}-v{v.version}")
            assert cpu is not None and cpu.kind == "version"
            assert cpu.features == apply_dependencies(chain, rel.dependencies), (
                f"{rel.version} {cpu.name}"
            )
            checked += 1
        if not m.versions:
            assert cpu_named(rel, f"{m.name}-v1").features == apply_dependencies(
                base, rel.dependencies
            )
            checked += 1
    assert checked == len([c for c in rel.cpus if c.kind in ("model", "version")])


def test_dependencies_leave_nothing_they_forbid(shipped: tuple[Path, str, Release]) -> None:
    """A resolved set is a fixed point of feature_dependencies[] (QEMU's one pass)."""
    _, _, rel = shipped
    for c in rel.cpus:
        assert apply_dependencies(c.features, rel.dependencies) == c.features, c.name
