"""Defaults that fit the user's machine: the installed QEMU's release, guest OS needs."""

from __future__ import annotations

import json
import subprocess

import pytest

from cpudb import guest_os, installed
from cpudb.app.inputs import resolve_needs
from cpudb.cli import main
from cpudb.query import Db
from cpudb.store import ReleaseInfo
from tests.conftest import need_tool


def _infos(db: Db) -> list[ReleaseInfo]:
    return db.versions()


@pytest.mark.parametrize(
    ("version", "want", "note"),
    [
        ("7.2.22", "7.2.22", ""),
        ("7.2.5", "7.2.22", "nearest with data: 7.2.22"),  # newest of its series
        ("8.0.4", "8.0.0", "nearest with data: 8.0.0"),
        ("99.0.0", None, "newer than cpudb's data"),  # newest
        ("0.15.0", "1.1.0", "older than cpudb's data"),
    ],
)
def test_nearest_release(db: Db, version: str, want: str | None, note: str) -> None:
    got, why = installed.nearest_release(version, _infos(db))
    assert got == (want or db.resolve_version(None))
    assert note in why


def test_version_line() -> None:
    assert installed.parse_version(
        "QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18)\nCopyright"
    ) == ("7.2.22", "Debian 1:7.2+dfsg-7+deb12u18")
    assert installed.parse_version("QEMU emulator version 9.2\n") == ("9.2.0", "")
    assert installed.parse_version("not qemu") is None


def test_no_installed_qemu_means_newest(db: Db) -> None:
    c = installed.choose_release(db, None)  # the suite hides the installed QEMU
    assert c.version == db.resolve_version(None) and "no qemu-system-x86_64" in c.why
    assert installed.choose_release(db, "7.2").why == "--qemu 7.2"


def test_default_release_is_the_installed_binarys(
    db: Db, machine: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two readings of the installed binary: its --version as cpudb caches it, and the
    version QEMU itself reports over QMP."""
    binary = need_tool("qemu-system-x86_64", "apt-get install qemu-system-x86")
    from cpudb.scrapers import qmp

    cap = qmp.capture(binary, "tcg", names=["qemu64"])
    c = installed.choose_release(db, None)
    assert c.installed is not None and c.installed.version == cap.version
    assert c.version == installed.nearest_release(cap.version, db.versions())[0]
    again = installed.choose_release(db, None)  # from the cache, same answer
    assert again == c
    assert main(["advise", "--needs", "nx", "--json"]) in (0, 1)
    d = json.loads(capsys.readouterr().out)
    assert d["qemu"] == c.version and d["qemu_from"].startswith("installed qemu-system-x86_64")
    out = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout
    parsed = installed.parse_version(out)
    assert parsed is not None and parsed[0] == cap.version


def test_guest_os_needs_expand_to_the_vendors_statement(db: Db) -> None:
    rel = db.release("7.2")
    rhel9 = resolve_needs(rel, ["rhel9"])
    assert {n.name for n in rhel9} == {n.name for n in resolve_needs(rel, ["x86-64-v2"])}
    assert all(n.via == "rhel9 = x86-64-v2" for n in rhel9)
    win = {n.name for n in resolve_needs(rel, ["windows11"])}
    assert {"popcnt", "sse4.2", "cx16", "lahf-lm", "nx"} <= win
    assert guest_os.lookup("RHEL-10") is not None and guest_os.lookup("rhel8") is None
    for g in guest_os.GUESTS:  # every entry resolves in a current release
        assert resolve_needs(rel, [g.name]), g.name


def test_advise_rhel9_quotes_red_hat(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["advise", "--needs", "rhel9", "--qemu", "7.2"]) == 0
    out = capsys.readouterr().out
    assert "(from rhel9 = x86-64-v2)" in out and "rhel9: Red Hat: RHEL 9" in out
