"""`cpudb scrape qmp`: a QMP capture of a QEMU binary turned into a release, and its labels."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from cpudb.scrapers import qemu_source as qs

from cpudb import snapshot
from tests.scrape_run import assert_one_line_error, nothing_written, run, texts

if TYPE_CHECKING:
    from cpudb.scrapers.qmp import QmpCapture

# ---------------------------------------------------------------- scrape qmp


def _capture(version: str = "4.1.0", package: str = "") -> QmpCapture:
    from cpudb.scrapers.qmp import QmpCapture, QmpCpu

    ident = {"vendor": "GenuineIntel", "family": 6, "model": 60, "stepping": 4}
    v1 = {**ident, "model-id": "Intel Core Processor (Fixturewell)", "hle": True, "rtm": True,
          "sse4.2": True, "sse4-2": True, "sse4_2": True, "tsc-adjust": False, "vme": False,
          "pdpe1gb": False, "kvm-no-such-thing": True, "level": 13}  # fmt: skip
    v2 = {**v1, "hle": False, "rtm": False, "stepping": 1}
    return QmpCapture(
        binary="/usr/bin/qemu-system-x86_64", version=version, package=package, accel="tcg",
        cpus=(
            QmpCpu("Fixturewell", "Fixturewell-v1", False, (), v1),
            QmpCpu("Fixturewell-v1", None, False, (), v1),
            QmpCpu("Fixturewell-v2", None, True, ("hle",), v2),
            QmpCpu("Fixturewell-noTSX", "Fixturewell-v2", False, (), v2),
        ),
    )  # fmt: skip


def test_qmp_capture_to_release_uses_the_reference_catalogue() -> None:
    from cpudb.scrapers.qmp import to_release

    ref = qs.scrape(qs.FetchedRelease(qs.SourceFiles(*texts("era_g_4_1")), "4.1.0", "ref"))
    r = to_release(_capture(), ref)
    assert (r.version, r.upstream, r.source) == ("4.1.0", True, "qmp")
    assert "feature locations from 4.1.0" in r.origin and r.models == ()
    assert r.features == ref.features  # QMP gives names; the locations come from the source
    v1 = r.cpu("Fixturewell-v1")
    # only true props that are features, under their canonical names (sse4-2 -> sse4.2)
    assert {"hle", "rtm", "sse4.2"} <= v1.features
    assert not {"tsc-adjust", "vme", "pdpe1gb", "sse4-2", "kvm-no-such-thing"} & v1.features
    assert (v1.kind, v1.model, v1.version, v1.stepping) == ("version", "Fixturewell", 1, 4)
    assert r.cpu("Fixturewell-v2").deprecation_note == "deprecated (as reported by QEMU)"
    bare, alias = r.cpu("Fixturewell"), r.cpu("Fixturewell-noTSX")
    assert (bare.kind, bare.alias_of, bare.features) == ("bare", "Fixturewell-v1", v1.features)
    assert (alias.kind, alias.alias_of) == ("alias", "Fixturewell-v2")
    assert v1.features - alias.features == {"hle", "rtm"}
    text = snapshot.dumps(r)
    assert snapshot.dumps(snapshot.loads(text)) == text


@pytest.mark.parametrize(
    ("package", "label", "upstream"),
    [
        ("Debian 1:7.2+dfsg-7+deb12u18+b3", "7.2.22-debian", False),
        ("qemu-kvm-8.1.0-4.el9", "7.2.22-rhel", False),
        ("", "7.2.22", True),
        ("v7.2.22-dirty", "7.2.22-build", False),
    ],
)
def test_qmp_labels_never_pass_a_distro_build_off_as_upstream(
    package: str, label: str, upstream: bool
) -> None:
    from cpudb.scrapers.qmp import distro_label, to_release

    cap = _capture("7.2.22", package)
    assert distro_label(cap) == label
    ref = qs.scrape(qs.FetchedRelease(qs.SourceFiles(*texts("era_g_4_1")), "4.1.0", "ref"))
    assert to_release(cap, ref).upstream is upstream


def test_qmp_without_a_usable_binary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    rc, _, err = run(capsys, "qmp", "--binary", str(tmp_path / "no-qemu"), "--out", str(out))
    assert_one_line_error(rc, err, "no QEMU binary found", "qemu-system-x86")
    fake = tmp_path / "fake-qemu"
    fake.write_text("#!/bin/sh\necho 'qemu: unsupported machine' >&2\nexit 1\n")
    fake.chmod(0o755)
    rc, _, err = run(capsys, "qmp", "--binary", str(fake), "--out", str(out))
    assert_one_line_error(rc, err, str(fake), "unsupported machine")
    assert nothing_written(out)
