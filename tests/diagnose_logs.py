"""Diagnosing the logs under tests/fixtures/logs/ in tests: the release they are read
against, and whether a suggested `-cpu` line gives a feature.

Shared by tests/test_diagnose_findings.py, test_diagnose_cli.py and
test_diagnose_host_warnings.py; no tests here.
"""

from __future__ import annotations

from pathlib import Path

from cpudb.diagnose.findings import Diagnosis
from cpudb.diagnose.fixes import HostView
from cpudb.diagnose.reason import diagnose_text
from cpudb.model import Release
from cpudb.query import Db

LOGS = Path(__file__).parent / "fixtures" / "logs"
QEMU = "7.2.0"


def diagnose_log(
    db: Db, name: str, *, cpu_arg: str | None = None, host: HostView | None = None
) -> Diagnosis:
    return diagnose_text(
        (LOGS / name).read_text(), db.release(QEMU), source=name, cpu_arg=cpu_arg, host=host
    )


def gives(rel: Release, cpu: str, feature: str) -> bool:
    """Does `-cpu NAME,flag=on,...` give the guest `feature` (resolved by the release)?"""
    name, *flags = cpu.split(",")
    c = rel.cpu(name)
    assert c is not None and c.kind in ("version", "model"), cpu  # versioned names
    return feature in c.features | {f.removesuffix("=on") for f in flags}
