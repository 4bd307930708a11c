"""A foreign file is never overwritten; unusable places get one line and exit 2."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cpudb.cli import main


def _err(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    err = capsys.readouterr().err
    return code, err


def test_an_unrelated_sqlite_file_is_left_untouched(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "other.sqlite"
    con = sqlite3.connect(other)
    con.execute("create table mine (a)")
    con.execute("insert into mine values (42)")
    con.commit()
    con.close()
    before = other.read_bytes()
    for argv in (["versions"], ["db", "rebuild"], ["advise", "--needs", "nx"]):
        code, err = _err(capsys, "--db", str(other), *argv)
        assert code == 2 and "not a cpudb database; left untouched" in err, argv
        assert len(err.strip().splitlines()) == 1
    assert other.read_bytes() == before


def test_a_file_that_is_not_sqlite_is_left_untouched(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    junk = tmp_path / "notes.db"
    junk.write_text("my notes\n")
    code, err = _err(capsys, "--db", str(junk), "db", "rebuild")
    assert code == 2 and "left untouched" in err
    assert junk.read_text() == "my notes\n"


def test_our_database_is_marked_and_rebuilt(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "c.sqlite"
    assert main(["--db", str(path), "versions"]) == 0
    assert sqlite3.connect(path).execute("pragma application_id").fetchone()[0] == 0x63707564
    assert main(["--db", str(path), "db", "rebuild"]) == 0


@pytest.mark.parametrize("kind", ["folder", "fifo", "parent-is-a-file"])
def test_unusable_db_paths_say_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    if kind == "folder":
        path = tmp_path / "d"
        path.mkdir()
    elif kind == "fifo":
        path = tmp_path / "pipe"
        os.mkfifo(path)
    else:
        (tmp_path / "f").write_text("")
        path = tmp_path / "f" / "cpudb.sqlite"
    code, err = _err(capsys, "--db", str(path), "versions")
    assert code == 2 and str(path) in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_cache_home_that_is_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "cachefile").write_text("")
    monkeypatch.delenv("CPUDB_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cachefile"))
    code, err = _err(capsys, "versions")
    assert code == 2 and "cachefile" in err and "XDG_CACHE_HOME" in err


def test_unwritable_folder(capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _err(capsys, "--db", "/proc/cpudb-test/cpudb.sqlite", "versions")
    assert code == 2 and "cannot write the database" in err and "--db" in err


def test_a_killed_build_leaves_nothing_for_ever(tmp_path: Path) -> None:
    """kill -9 during `db rebuild` leaves a .building file; the next build removes it."""
    path = tmp_path / "k.sqlite"
    env = dict(os.environ, CPUDB_DB=str(path))
    p = subprocess.Popen([sys.executable, "-m", "cpudb", "db", "rebuild"], env=env)
    deadline = time.time() + 60
    while not list(tmp_path.glob(".k.sqlite.*.building")) and time.time() < deadline:
        time.sleep(0.01)
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    assert list(tmp_path.glob(".k.sqlite.*.building")), "the build was not caught midway"
    subprocess.run([sys.executable, "-m", "cpudb", "db", "rebuild"], env=env, check=True)
    assert not list(tmp_path.glob("*.building")) and path.is_file()
