"""What QEMU drops for the host, diagnosed: the installed QEMU's real warning, `-cpu host`,
a model's feature the host lacks, the oldest release's warning format, unnamed bits.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from cpudb.diagnose.reason import diagnose_text
from cpudb.query import Db
from tests.conftest import need_tool
from tests.diagnose_logs import LOGS, QEMU, diagnose_log, gives


@pytest.mark.integration
def test_live_qemu_warning_is_diagnosed(db: Db, tmp_path: Path) -> None:
    """Run the installed QEMU with a flag TCG cannot give; diagnose its real stderr."""
    qemu = need_tool("qemu-system-x86_64", "apt-get install qemu-system-x86")
    proc = subprocess.run(
        [
            qemu,
            "-display",
            "none",
            "-S",
            "-accel",
            "tcg",
            "-machine",
            "none",
            "-cpu",
            "Haswell-v4,vmx=on,enforce",
            "-monitor",
            "none",
            "-serial",
            "none",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if "doesn't support requested feature" not in proc.stderr:
        # `-machine none` creates no CPU on some builds: use a real machine type
        proc = subprocess.run(
            [
                qemu,
                "-display",
                "none",
                "-S",
                "-accel",
                "tcg",
                "-cpu",
                "Haswell-v4,vmx=on,enforce",
                "-monitor",
                "none",
                "-serial",
                "none",
                "-m",
                "64",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert proc.returncode != 0  # enforce: QEMU refuses to start
    log = f"$ qemu-system-x86_64 -accel tcg -cpu Haswell-v4,vmx=on,enforce\n{proc.stderr}"
    d = diagnose_text(log, db.release(QEMU))
    vmx = next(f for f in d.findings if f.feature == "vmx")
    assert vmx.kinds == ("qemu-tcg",)
    assert "QEMU then refused to start (enforce)" in vmx.chain
    assert shutil.which("qemu-system-x86_64")


def test_cpu_host_means_the_host_lacks_it(db: Db) -> None:
    text = (
        "$ qemu-system-x86_64 -enable-kvm -cpu host -m 1G\n"
        + (LOGS / "pdpe1gb-issue8.log").read_text()
    )
    (f,) = diagnose_text(text, db.release(QEMU)).findings
    assert any("-cpu host passes the host's features" in s for s in f.chain)
    assert not any(x.startswith("-cpu host,") for x in f.fixes)  # no flag helps -cpu host
    assert any("lacks pdpe1gb" in a for a in f.advice)


def test_model_has_it_but_the_host_dropped_it(db: Db) -> None:
    lines = (LOGS / "la57-cr4-gp.log").read_text().splitlines()
    text = "\n".join(
        [
            "$ qemu-system-x86_64 -accel kvm -cpu Icelake-Server-v1 -m 8G -kernel la57.elf",
            "qemu-system-x86_64: warning: host doesn't support requested feature: "
            "CPUID.07H:ECX.la57 [bit 16]",
            *lines[1:],
        ]
    )
    (f,) = diagnose_text(text, db.release(QEMU)).findings
    assert f.feature == "la57" and f.kinds == ("cr4-write", "qemu-host")
    assert any("Icelake-Server-v1 has la57, but QEMU dropped it" in s for s in f.chain)


def test_oldest_release_and_warning_format(db: Db) -> None:
    text = "warning: host cpuid 8000_0001 lacks requested flag 'pdpe1gb' [0x04000000]\n"
    (f,) = diagnose_text(text, db.release("1.1.0")).findings
    assert f.feature == "pdpe1gb" and f.kinds == ("qemu-host",)
    assert f.provides and all(gives(db.release("1.1.0"), p, "pdpe1gb") for p in f.provides)


def test_unnamed_xsave_bits_are_explained(db: Db) -> None:
    d = diagnose_log(db, "qemu-host-phys-bits-mismatch.log")
    assert any("CPUID leaf 0xd bit 6, a bit without a feature name" in n for n in d.notes)
