"""Cross-check against QEMU itself: our parse of Debian's QEMU 7.2 source tarball must give,
for every CPU name, the feature set that the installed QEMU 7.2 binary reports over QMP
(`query-cpu-model-expansion`, type full, under TCG). The capture undoes the
accelerator's defaults (TCG's vme=off, KVM's x2apic=on/svm=off, ...) by the reference
release's definitions, so a capture under KVM equals one under TCG (issue 13.7).

CI installs both (.ci/install-debian-deps): the binary `qemu-system-x86_64` and the orig
tarball in $CPUDB_QEMU_TARBALL_DIR (default /var/cache/cpudb-ci/qemu-src). Locally the test
skips with a how-to when either is missing; in CI (env CI set) it fails instead.
A mismatch is a bug in our model of QEMU, not a tolerance to widen.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from cpudb import snapshot
from cpudb.cli import main
from cpudb.paths import shipped_data_dir
from tests.conftest import need_tool

pytestmark = pytest.mark.integration

TARBALL_DIRS = [
    os.environ.get("CPUDB_QEMU_TARBALL_DIR", "/var/cache/cpudb-ci/qemu-src"),
    "/root/qemu-src/dl",
]
HOW_TARBALL = (
    "run .ci/install-debian-deps (apt-get source --download-only -t bookworm qemu) "
    "or set CPUDB_QEMU_TARBALL_DIR to a folder holding qemu_7.2*.orig.tar.xz"
)


def need_tarball() -> Path:
    for d in TARBALL_DIRS:
        hits = sorted(Path(d).glob("qemu_7.2*.orig.tar.xz"))
        if hits:
            return hits[-1]
    if os.environ.get("CI"):
        pytest.fail(f"QEMU 7.2 orig tarball is required in CI: {HOW_TARBALL}")
    pytest.skip(f"no qemu_7.2*.orig.tar.xz in {TARBALL_DIRS}: {HOW_TARBALL}")


Both = tuple[dict[str, Any], dict[str, Any]]  # (parsed from the tarball, asked from the binary)


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> Both:
    """(snapshot parsed from the tarball, snapshot asked from the binary), as JSON dicts."""
    need_tool("qemu-system-x86_64", "apt-get install qemu-system-x86 (Debian bookworm: 7.2)")
    tarball = need_tarball()
    out = tmp_path_factory.mktemp("crosscheck")
    assert main(["scrape", "qemu", "--tarball", str(tarball), "--out", str(out / "src")]) == 0
    assert main(["scrape", "qmp", "--accel", "tcg", "--out", str(out / "qmp")]) == 0
    (src,) = (out / "src").glob("*.json")
    (qmp,) = (out / "qmp").glob("*.json")
    return json.loads(src.read_text()), json.loads(qmp.read_text())


def resolved(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every CPU name -> its concrete entry (aliases followed)."""
    concrete = {c["name"]: c for c in doc["cpus"] if "alias_of" not in c}
    return {c["name"]: concrete[c.get("alias_of", c["name"])] for c in doc["cpus"]}


def test_the_two_are_the_same_release(both: Both) -> None:
    src, qmp = both
    assert src["version"] == "7.2.0" and src["source"] == "source"
    assert qmp["source"] == "qmp" and qmp["version"].startswith("7.2.")
    assert qmp["upstream"] is False or qmp["version"] == "7.2.0"  # a distro build says so


def test_every_cpu_name_has_the_same_features(both: Both) -> None:
    src, qmp = both
    ours, theirs = resolved(src), resolved(qmp)
    assert set(ours) == set(theirs), set(ours) ^ set(theirs)
    assert not {"host", "max", "base"} & set(ours)
    differ = {}
    for name in sorted(ours):
        a, b = set(ours[name]["features"]), set(theirs[name]["features"])
        if a ^ b:
            differ[name] = {"only parsed": sorted(a - b), "only QEMU": sorted(b - a)}
    equal = len(ours) - len(differ)
    print(f"\nQEMU 7.2 cross-check: {equal} of {len(ours)} CPU names equal")
    assert differ == {}
    assert equal == len(ours) >= 129


def test_aliases_and_identity_fields_agree(both: Both) -> None:
    src, qmp = both
    theirs = {c["name"]: c for c in qmp["cpus"]}
    ours_r, theirs_r = resolved(src), resolved(qmp)
    for c in src["cpus"]:
        t = theirs[c["name"]]
        assert c.get("alias_of") == t.get("alias_of"), c["name"]
        a, b = ours_r[c["name"]], theirs_r[c["name"]]
        for key in ("vendor", "family", "model_number", "stepping", "model_id"):
            assert a[key] == b[key], (c["name"], key, a[key], b[key])


def test_the_shipped_7_2_snapshot_is_this_parse(both: Both) -> None:
    src, _ = both
    shipped = json.loads((shipped_data_dir() / "qemu" / "7.2.0.json").read_text())
    shipped.pop("origin")
    mine = dict(src)
    mine.pop("origin")
    assert mine == shipped


def test_qmp_snapshot_round_trips(both: Both) -> None:
    _, qmp = both
    text = json.dumps(qmp, indent=1, ensure_ascii=False) + "\n"
    assert snapshot.dumps(snapshot.loads(text)) == text


def test_a_capture_under_kvm_equals_one_under_tcg(both: Both, tmp_path: Path) -> None:
    """Like with like: the accelerator's defaults are undone, so `diff` of the two (and
    of either with the shipped release) shows no feature change."""
    from tests.conftest import need_kvm

    need_kvm()
    _, tcg = both
    assert (
        main(["scrape", "qmp", "--accel", "kvm", "--label", "x-kvm", "--out", str(tmp_path)]) == 0
    )
    kvm = json.loads((tmp_path / "x-kvm.json").read_text())
    a, b = resolved(tcg), resolved(kvm)
    assert {n: set(a[n]["features"]) ^ set(b[n]["features"]) for n in a} == {n: set() for n in a}
