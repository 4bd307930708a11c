"""Issue 13.9: the one-line errors say what is wrong with what the user typed."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from cpudb.cli import main
from cpudb.errors import printable
from cpudb.versions import nearest


def one_line(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    rc = main(list(argv))
    out, err = capsys.readouterr()
    assert rc == 2 and out == "", (rc, out, err)
    assert err.count("\n") == 1 and err.startswith("cpudb: error: ") and "(hint: " in err, err
    return err


def test_a_directory_given_as_tarball(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    err = one_line(capsys, "scrape", "qemu", "--tarball", str(tmp_path))
    assert "is a directory" in err and "--source DIR" in err and "no such file" not in err


def test_git_on_a_plain_or_tagless_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    err = one_line(capsys, "scrape", "qemu", "--git", str(tmp_path), "--ref", "v7.2.0")
    assert "not a git repository" in err and "unknown ref" not in err
    err = one_line(capsys, "scrape", "qemu", "--git", str(tmp_path), "--tags", "v*")
    assert "not a git repository" in err
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    err = one_line(capsys, "scrape", "qemu", "--git", str(tmp_path), "--ref", "v7.2.0")
    assert "no tags" in err and "fetch --tags" in err


def test_an_unknown_release_names_its_neighbours(capsys: pytest.CaptureFixture[str]) -> None:
    err = one_line(capsys, "models", "--qemu", "7.2.1")
    assert "nearest: " in err
    near = err.split("nearest: ")[1].rstrip(")\n").split(", ")
    assert "7.2.0" in near and "7.2.22" in near and "11.1.0" not in near
    assert nearest("1.0.0", ["2.0.0", "3.0.0", "9.0.0"], n=2) == ["2.0.0", "3.0.0"]
    assert nearest("99.0.0", ["2.0.0", "3.0.0", "9.0.0"], n=2) == ["3.0.0", "9.0.0"]
    assert nearest("x", ["2.0.0", "3.0.0", "9.0.0"], n=1) == ["9.0.0"]


def test_non_utf8_names_are_shown_as_bytes(capsys: pytest.CaptureFixture[str]) -> None:
    name = os.fsdecode(b"/tmp/\xff\xfe")  # how Python hands such an argv entry over
    for argv in (["advise", "--needs", os.fsdecode(b"\xff\xfe")], ["host", name]):
        err = one_line(capsys, *argv)
        assert "\\xff\\xfe" in err and "udc" not in err, err
    assert printable("'\\udcff' and \udcfe") == "'\\xff' and \\xfe"


def test_argparse_errors_too(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as e:
        main([os.fsdecode(b"\xff")])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "'\\xff'" in err and "udc" not in err


def test_a_pool_of_one_host(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    from tests.conftest import need_hosts_dir

    dump = need_hosts_dir() / "intel-core-i7-2600.cpuid"
    main(["baseline", str(dump)])
    assert "pool of 1 host: " in capsys.readouterr().out
