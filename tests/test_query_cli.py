"""The query commands (versions, models, show, feature, db) against the shipped data."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from cpudb.cli import main


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_versions_json_oldest_first(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "versions", "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["schema"] == "cpudb.versions/1"
    rows = doc["versions"]
    versions = [r["version"] for r in rows]
    assert versions[0] == "1.1.0"
    assert versions.index("4.0.0") < versions.index("4.1.0") < versions.index("10.2.0")
    rhel = next(r for r in rows if r["version"] == "8.1.0-rhel")
    assert rhel["upstream"] is False


def test_models_has_pdpe1gb_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "models", "--qemu", "7.2.0", "--has", "pdpe1gb", "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["schema"] == "cpudb.models/1"
    rows = doc["models"]
    names = {r["name"] for r in rows}
    assert "Skylake-Server-v1" in names and "Haswell-v4" not in names
    assert all("pdpe1gb" in r["features"] for r in rows)
    bare = next(r for r in rows if r["name"] == "Skylake-Server")
    assert bare["alias_of"] == "Skylake-Server-v1"


def test_models_has_accepts_any_spelling(capsys: pytest.CaptureFixture[str]) -> None:
    _, a, _ = run(capsys, "models", "--qemu", "7.2.0", "--has", "sse4_1,pni", "--json")
    _, b, _ = run(capsys, "models", "--qemu", "7.2.0", "--has", "sse4.1", "--has", "sse3", "--json")
    assert json.loads(a) == json.loads(b)


def test_models_vendor_and_level(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(
        capsys, "models", "--qemu", "7.2.0", "--vendor", "amd", "--level", "v3", "--json"
    )
    rows = json.loads(out)["models"]
    assert rows and all(r["vendor"] == "AuthenticAMD" and r["level"] >= 3 for r in rows)
    assert "EPYC-v1" in {r["name"] for r in rows}


def test_show_resolves_alias_and_groups_by_word(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "show", "Haswell-noTSX-IBRS", "--qemu", "7.2.0", "--json")
    assert code == 0
    d = json.loads(out)
    assert d["alias_of"] == "Haswell-v4" and d["vendor"] == "GenuineIntel"
    assert "spec-ctrl" in d["features"] and "hle" not in d["features"]
    assert d["level"] == 3
    words = {g["word"]: g for g in d["groups"]}
    assert {"name": "lm", "bit": 29} in [
        {"name": f["name"], "bit": f["bit"]} for f in words["FEAT_8000_0001_EDX"]["features"]
    ]


def test_show_previous_version_delta(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "show", "Haswell-v2", "--qemu", "7.2.0", "--json")
    d = json.loads(out)
    assert d["previous"] == "Haswell-v1" and set(d["removed"]) == {"hle", "rtm"}


def test_show_accel_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "show", "Haswell-v1", "--qemu", "7.2.0", "--accel", "kvm", "--json")
    kvm = set(json.loads(out)["features"])
    _, out, _ = run(capsys, "show", "Haswell-v1", "--qemu", "7.2.0", "--accel", "tcg", "--json")
    tcg = set(json.loads(out)["features"])
    assert "kvmclock" in kvm and "kvmclock" not in tcg
    assert "vme" not in tcg and "vme" in kvm


def test_feature_pdpe1gb(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "feature", "CPUID.80000001H:EDX[26]", "--qemu", "7.2.0", "--json")
    assert code == 0
    d = json.loads(out)
    assert d["name"] == "pdpe1gb"
    assert d["cpuid"] == {"leaf": "0x80000001", "subleaf": None, "register": "edx", "bit": 26}
    assert "Skylake-Server-v1" in d["models"]
    first = {x["model"]: x["release"] for x in d["first_gained"]}
    assert first["Skylake-Server"] == "2.10.0"


def test_feature_spelling_history(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(capsys, "feature", "sse4_1", "--json")
    d = json.loads(out)
    assert d["name"] == "sse4.1"
    assert [s["name"] for s in d["spellings"]][:1] == ["sse4.1"]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["show", "Haswel", "--qemu", "7.2.0"], "did you mean Haswell"),
        (["models", "--qemu", "0.9"], "unknown QEMU release '0.9'"),
        (["models", "--has", "pdpe1g"], "did you mean pdpe1gb"),
        (["models", "--vendor", "arm"], "unknown vendor"),
        (["models", "--level", "v7"], "unknown x86-64 level"),
        (["feature", "nosuchflag"], "unknown feature"),
    ],
)
def test_bad_input_one_line_exit_2(
    capsys: pytest.CaptureFixture[str], args: list[str], needle: str
) -> None:
    code, out, err = run(capsys, *args)
    assert code == 2
    assert out == ""
    assert needle in err and err.count("\n") == 1


def test_corrupt_database_is_rebuilt(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A cpudb database damaged past its header is derived data: rebuilt on next use.
    (A file that is not cpudb's is never touched: tests/test_store_safety.py.)"""
    bad = tmp_path / "bad.sqlite"
    assert run(capsys, "--db", str(bad), "versions")[0] == 0
    data = bytearray(bad.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)  # the schema page, header kept
    bad.write_bytes(bytes(data))
    code, out, _ = run(capsys, "--db", str(bad), "versions", "--json")
    assert code == 0 and json.loads(out)


def test_old_schema_is_rebuilt_not_a_crash(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = tmp_path / "old.sqlite"
    con = sqlite3.connect(old)
    con.execute("create table releases (version text)")
    con.commit()
    con.close()
    code, out, _ = run(capsys, "--db", str(old), "versions", "--json")
    assert code == 0 and any(r["version"] == "7.2.0" for r in json.loads(out)["versions"])


def test_failed_build_leaves_database_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cpudb import store_build as store

    path = tmp_path / "db.sqlite"
    store.build(path)
    before = path.read_bytes()

    def boom(*a: object, **k: object) -> None:

        raise RuntimeError("interrupted")

    monkeypatch.setattr(store, "_insert_release", boom)
    with pytest.raises(RuntimeError):
        store.build(path)
    assert path.read_bytes() == before
    assert not list(tmp_path.glob(".*building"))


def test_user_snapshots_survive_rebuild(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from cpudb import snapshot
    from cpudb.query import open_db

    monkeypatch.setenv("CPUDB_USER_DIR", str(tmp_path / "user"))
    db_file = tmp_path / "u.sqlite"
    rel = open_db(str(db_file)).release("7.2.0")
    mine = tmp_path / "user" / "qemu" / "7.2.0-mine.json"
    mine.parent.mkdir(parents=True)
    from cpudb.record import replace

    mine.write_text(snapshot.dumps(replace(rel, version="7.2.0-mine", upstream=False)))
    assert "7.2.0-mine" in [v.version for v in open_db(str(db_file)).versions()]
    assert run(capsys, "--db", str(db_file), "db", "rebuild")[0] == 0
    _, out, _ = run(capsys, "--db", str(db_file), "versions", "--json")
    row = next(r for r in json.loads(out)["versions"] if r["version"] == "7.2.0-mine")
    assert row["shipped"] is False and row["upstream"] is False


def test_a_snapshot_rewritten_in_place_is_seen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`cp new.json user/qemu/X.json` over an existing file changes no folder mtime; the
    database must still notice and rebuild."""
    from cpudb import snapshot
    from cpudb.query import open_db
    from cpudb.record import replace

    monkeypatch.setenv("CPUDB_USER_DIR", str(tmp_path / "user"))
    db_file = str(tmp_path / "u.sqlite")
    rel = open_db(db_file).release("7.2.0")
    mine = tmp_path / "user" / "qemu" / "7.2.0-mine.json"
    mine.parent.mkdir(parents=True)
    mine.write_text(snapshot.dumps(replace(rel, version="7.2.0-mine", upstream=False)))
    assert open_db(db_file).release("7.2.0-mine").cpu("Haswell-v1") is not None
    dir_mtime = mine.parent.stat().st_mtime_ns
    fewer = replace(rel, version="7.2.0-mine", upstream=False, origin="rewritten")
    with open(mine, "r+") as fh:  # in place, as cp does
        fh.write(snapshot.dumps(fewer))
        fh.truncate()
    os.utime(mine.parent, ns=(dir_mtime, dir_mtime))
    st = mine.stat()
    os.utime(mine, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))  # coarse-mtime filesystems
    assert open_db(db_file).release("7.2.0-mine").origin == "rewritten"


def test_query_path_imports_nothing_heavy(tmp_path: Path) -> None:
    """`cpudb show` and `cpudb models` must not import textual, requests, bs4, rich or
    sqlite_utils (the db already exists)."""
    env = dict(os.environ, CPUDB_DB=str(tmp_path / "m.sqlite"))
    subprocess.run(
        [sys.executable, "-m", "cpudb", "db", "rebuild"], env=env, check=True, capture_output=True
    )
    probe = (
        "import sys, runpy\n"
        "sys.argv = ['cpudb'] + sys.argv[1:]\n"
        "from cpudb.cli import main\n"
        "code = main(sys.argv[1:])\n"
        "heavy = sorted(m for m in ('textual', 'requests', 'bs4', 'rich', 'sqlite_utils')"
        " if m in sys.modules)\n"
        "print('HEAVY', heavy, file=sys.stderr)\n"
    )
    for args in (["show", "Haswell"], ["models", "--has", "pdpe1gb"], ["feature", "la57"]):
        r = subprocess.run(
            [sys.executable, "-c", probe, *args], env=env, capture_output=True, text=True
        )
        assert r.returncode == 0, r.stderr
        assert "HEAVY []" in r.stderr, (args, r.stderr)


# one run of each command that answers from the database alone
EVERY_COMMAND = [
    ["versions"],
    ["models", "--qemu", "7.2.0"],
    ["show", "Haswell-v4", "--qemu", "7.2.0"],
    ["feature", "pdpe1gb"],
    ["diff", "--qemu", "7.1.0", "7.2.0"],
    ["history", "Haswell"],
    ["advise", "--needs", "pdpe1gb", "--qemu", "7.2.0"],
    ["baseline", "tests/fixtures/hosts/intel-6-60-3-haswell-no-pdpe1gb.cpuid"],
    ["diagnose", "tests/fixtures/logs/pdpe1gb-issue8.log"],
    ["host", "list"],
    ["db", "info"],
]


@pytest.mark.parametrize("argv", EVERY_COMMAND, ids=lambda a: a[0])
def test_every_json_document_names_its_schema(
    capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    """A CI script can rely on --json: one object, `schema` first (issue 13.8)."""
    main([*argv, "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert isinstance(doc, dict) and next(iter(doc)) == "schema"
    assert re.fullmatch(r"cpudb\.[a-z.]+/\d+", doc["schema"]), doc["schema"]


@pytest.mark.parametrize("argv", [*EVERY_COMMAND, ["db", "path"]], ids=lambda a: "-".join(a[:2]))
def test_every_command_answers_in_text_too(
    capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    """The text renderers, beside the JSON ones above: an answer, no traceback (`db info`
    once raised KeyError here, reading a dict key the JSON had renamed)."""
    code = main(argv)
    out = capsys.readouterr().out
    assert code in (0, 1) and out.strip(), argv


def test_impossible_is_structured(capsys: pytest.CaptureFixture[str]) -> None:
    host = "tests/fixtures/hosts/intel-6-60-3-haswell-no-pdpe1gb.cpuid"
    code = main(["advise", "--needs", "la57", "--qemu", "7.2.0", "--host", host, "--json"])
    d = json.loads(capsys.readouterr().out)
    assert code == 1 and d["impossible"]
    kinds = {r["kind"]: r for r in d["impossible_reasons"]}
    assert kinds["host-lacks"]["need"] == "la57" and kinds["host-lacks"]["hosts"]
    assert kinds["instead"]["accel"] == "tcg" and kinds["instead"]["cpu"].endswith(",enforce")
    assert [r["text"] for r in d["impossible_reasons"]] == d["impossible"]
