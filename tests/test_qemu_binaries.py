"""More real QEMU binaries (issue 13): Debian's 5.2, 10.0.2, 10.0.13 and 11.1.x, unpacked
beside the installed 7.2 by .ci/fetch-qemu-binaries (../shared/qemu-sources.md §5).

For each: every CPU name of the shipped snapshot of that release has the features the
binary reports over QMP (TCG, accelerator defaults undone), and under KVM `cpudb host
--qmp` names for every model exactly the blockers QEMU itself reports as its
unavailable-features. A binary that cannot be had (suites move, sid most) skips with the
recipe; it never fails for that alone.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from cpudb.cli import main
from cpudb.paths import shipped_data_dir
from cpudb.versions import version_key
from tests.test_qmp_crosscheck import resolved

pytestmark = pytest.mark.integration

ROOT = Path(os.environ.get("CPUDB_QEMU_BINARIES", "/var/cache/cpudb-ci/qemu-bin"))
SUITES = ["bullseye-security", "bookworm-backports", "trixie", "sid"]


def binary(suite: str) -> Path:
    path = ROOT / suite / "qemu-system-x86_64"
    if not os.access(path, os.X_OK):
        pytest.skip(
            f"no Debian {suite} QEMU in {ROOT}: run `.ci/fetch-qemu-binaries {suite}` "
            "(apt-get download + dpkg -x, nothing installed; CPUDB_QEMU_BINARIES moves it)"
        )
    return path


def shipped_for(version: str) -> dict[str, Any]:
    """The shipped snapshot of the binary's release: X.Y.Z itself, else the newest X.Y.z
    shipped (stable releases do not change models: the comparison says if they did)."""
    base = version.split("-")[0]
    series = ".".join(base.split(".")[:2])
    have = [p.stem for p in (shipped_data_dir() / "qemu").glob("*.json")]
    pick = (
        base
        if base in have
        else max((v for v in have if v.startswith(series + ".")), key=version_key, default=None)
    )
    if pick is None:
        pytest.fail(f"no shipped snapshot of QEMU {series}.x for the {version} binary")
    shipped: dict[str, Any] = json.loads((shipped_data_dir() / "qemu" / f"{pick}.json").read_text())
    return shipped


@pytest.fixture(scope="module", params=SUITES)
def capture(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, Path, dict[str, Any]]:
    suite: str = request.param
    qemu = binary(suite)
    out = tmp_path_factory.mktemp(f"qmp-{suite}")
    args = ["scrape", "qmp", "--binary", str(qemu), "--accel", "tcg", "--label", "x"]
    assert main([*args, "--out", str(out)]) == 0
    doc = json.loads((out / "x.json").read_text())
    return suite, qemu, doc


def test_every_cpu_name_has_the_features_the_binary_reports(
    capture: tuple[str, Path, dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    suite, _, qmp = capture
    version = qmp["origin"].split()[2]  # "QMP qemu-system-x86_64 11.1.3 (Debian ...)"
    shipped = shipped_for(version)
    ours, theirs = resolved(shipped), resolved(qmp)
    assert set(ours) == set(theirs), set(ours) ^ set(theirs)
    differ = {
        n: {"only shipped": sorted(a - b), "only QEMU": sorted(b - a)}
        for n in sorted(ours)
        if (a := set(ours[n]["features"])) != (b := set(theirs[n]["features"]))
    }
    for n in ours:
        for key in ("vendor", "family", "model_number", "stepping", "model_id"):
            assert ours[n][key] == theirs[n][key], (n, key)
        assert ours[n].get("alias_of") == theirs[n].get("alias_of"), n
    equal = len(ours) - len(differ)
    with capsys.disabled():
        print(f"\n{suite} QEMU {version} vs shipped {shipped['version']}: {equal} of {len(ours)}")
    assert differ == {}


def test_host_qmp_blockers_are_qemus_own(
    capture: tuple[str, Path, dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    """Under KVM: the blockers cpudb computes from the `host` expansion alone (QEMU's
    verdicts set aside) are exactly the unavailable-features QEMU reports for every model
    (invtsc and AMD machine-check bits included, which the default migratable expansion
    hides)."""
    from cpudb.host_fit import blockers
    from cpudb.host_load import qmp_host
    from cpudb.query import open_db
    from cpudb.record import replace
    from tests.conftest import need_kvm

    need_kvm()
    suite, qemu, _ = capture
    cpu = qmp_host(str(qemu))
    rel = open_db().release(shipped_for(cpu.qemu_version)["version"])
    computed = replace(cpu.features_in(rel), verdicts=())
    qemus = dict(cpu.qemu_unavailable)
    assert len(qemus) == len(rel.cpus)
    differ = {
        c.name: sorted(set(b) ^ set(qemus[c.name]))
        for c in rel.cpus
        if set(b := blockers(rel, c, computed)) != set(qemus[c.name])
    }
    with capsys.disabled():
        print(f"\n{suite} under KVM, against {rel.version}: {len(qemus) - len(differ)} equal")
    assert differ == {}
    # and the decisions honour QEMU's verdicts as they are
    judged = cpu.features_in(rel)
    assert all(blockers(rel, c, judged) == tuple(sorted(qemus[c.name])) for c in rel.cpus)
