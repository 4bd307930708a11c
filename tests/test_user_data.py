"""User data is never lost: stored hosts live in the user data folder, out of the derived
database, and survive a rebuild, a wiped cache and concurrent commands."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from cpudb import hoststore
from cpudb.cli import main
from cpudb.paths import cache_dir, user_data_dir
from cpudb.query import Db
from tests.conftest import FIXTURES

DUMP = FIXTURES / "hosts" / "intel-6-60-3-haswell-no-pdpe1gb.cpuid"


def _cpudb(*argv: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "cpudb", *argv],
        env=env or dict(os.environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_hosts_survive_a_wiped_cache(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["host", "add", "keepme", str(DUMP)]) == 0
    assert "keepme" in capsys.readouterr().out
    shutil.rmtree(cache_dir(), ignore_errors=True)  # the derived database goes
    assert main(["host", "list", "--json"]) == 0
    assert "keepme" in {h["name"] for h in json.loads(capsys.readouterr().out)["hosts"]}
    assert (user_data_dir() / "hosts" / "keepme.json").is_file()
    assert main(["host", "rm", "keepme"]) == 0


def test_host_add_during_rebuilds_is_kept(tmp_path: Path) -> None:
    """`host add` while `db rebuild` runs: every host reported saved is still there."""
    env = dict(os.environ)
    names = [f"conc{i}" for i in range(5)]
    rebuilds = [_cpudb("db", "rebuild", env=env) for _ in range(2)]
    adds = [_cpudb("host", "add", n, str(DUMP), env=env) for n in names]
    for p in adds + rebuilds:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
    assert set(names) <= {h["name"] for h in hoststore.all_hosts()}
    for n in names:
        hoststore.remove(n)


def test_hosts_of_an_old_database_are_adopted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A database of schema 6 kept hosts in a table: a rebuild copies them out first."""
    old = tmp_path / "old.sqlite"
    data = json.loads((FIXTURES / "hosts" / "stored-host.json").read_text())
    con = sqlite3.connect(old)
    con.execute("create table meta (key text primary key, value text)")
    con.execute("insert into meta values ('schema_version', '6')")
    con.execute("create table hosts (name text primary key, source text, added text, data text)")
    con.execute(
        "insert into hosts values (?, ?, ?, ?)",
        ("legacy", "cpuid dump", "2026-01-01", json.dumps(data)),
    )
    con.commit()
    con.close()
    assert main(["--db", str(old), "versions"]) == 0
    capsys.readouterr()
    h = hoststore.get("legacy")
    assert h is not None and h["added"] == "2026-01-01" and h["data"] == data
    hoststore.remove("legacy")


def test_damaged_host_file_names_itself(capsys: pytest.CaptureFixture[str]) -> None:
    bad = user_data_dir() / "hosts" / "broken.json"
    bad.parent.mkdir(parents=True, exist_ok=True)
    bad.write_text("{not json")
    try:
        assert main(["host", "list"]) == 2
        err = capsys.readouterr().err
        assert str(bad) in err and len(err.strip().splitlines()) <= 2
    finally:
        bad.unlink()


def test_a_user_scrape_of_a_shipped_release_never_takes_the_shipped_data_down(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Issue 13.1: a user snapshot named like a shipped release (7.2.0) and a broken user
    file are skipped with one line each; every command keeps working."""
    import shutil

    from cpudb.cli import main
    from cpudb.paths import shipped_data_dir, user_data_dir

    qemu = user_data_dir() / "qemu"
    qemu.mkdir(parents=True, exist_ok=True)
    shutil.copy(shipped_data_dir() / "qemu" / "7.2.0.json", qemu / "7.2.0.json")
    (qemu / "9.9.9.json").write_text("{not json")
    try:
        assert main(["db", "rebuild"]) == 0
        err = capsys.readouterr().err
        assert "7.2.0 is already known; skipped" in err and "9.9.9.json: skipped" in err
        assert main(["versions"]) == 0
        assert main(["advise", "--needs", "pdpe1gb", "--qemu", "7.2.0", "--format", "qemu"]) == 0
    finally:
        shutil.rmtree(qemu)
        main(["db", "rebuild"])
    capsys.readouterr()


def test_a_scrape_into_the_user_folder_gets_its_own_label(
    db: Db, capsys: pytest.CaptureFixture[str]
) -> None:
    from cpudb.commands import scrape

    r = scrape._own_label(db.release("7.2.0"))

    assert r.version == "7.2.0-user" and r.upstream is False
    assert "labelled 7.2.0-user" in capsys.readouterr().err
    assert scrape._own_label(r) is r  # not a shipped label: kept
