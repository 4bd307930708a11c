"""`cpudb scrape qemu` from local sources: a source tree, a tarball, a git repository.

Trees are written from the hand-written fixtures into tmp_path (`<dir>/cpu.c`, `cpu.h`,
`VERSION`); tarballs and git repositories are built from such trees.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import need_tool
from tests.scrape_run import (
    assert_one_line_error,
    expected_json,
    make_tarball,
    nothing_written,
    read_json,
    run,
    texts,
    write_tree,
)

# ------------------------------------------------------------------ --source


def test_source_tree_to_out_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tree = write_tree("era_g_4_1", tmp_path / "qemu-4.1.0")
    out = tmp_path / "out"
    rc, stdout, err = run(capsys, "qemu", "--source", str(tree), "--out", str(out))
    assert rc == 0, err
    assert [p.name for p in out.iterdir()] == ["4.1.0.json"]
    assert stdout.strip() == f"4.1.0: 9 CPU names, 84 features -> {out / '4.1.0.json'}"
    assert read_json(out / "4.1.0.json") == expected_json("era_g_4_1")
    assert json.loads((out / "4.1.0.json").read_text())["origin"] == "source tree qemu-4.1.0/"


def test_source_tree_json_to_stdout_and_old_layout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tree = write_tree("era_e_2_8", tmp_path / "src")  # target-i386/ before 2.9
    rc, stdout, err = run(capsys, "qemu", "--source", str(tree), "--json")
    assert rc == 0, err
    d = json.loads(stdout)
    assert d["version"] == "2.8.0" and len(d["cpus"]) == 3
    d.pop("origin")
    assert d == expected_json("era_e_2_8")


def test_label_and_downstream(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tree = write_tree("rhel_8_1", tmp_path / "rhel")
    out = tmp_path / "out"
    rc, _, err = run(capsys, "qemu", "--source", str(tree), "--label", "8.1.0-rhel",
                     "--downstream", "--out", str(out))  # fmt: skip
    assert rc == 0, err
    d = json.loads((out / "8.1.0-rhel.json").read_text())
    assert (d["version"], d["upstream"]) == ("8.1.0-rhel", False)


def test_missing_version_file_is_fine_with_a_label(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tree = write_tree("era_j_8_2", tmp_path / "t", with_version=False)
    out = tmp_path / "out"
    rc, _, err = run(capsys, "qemu", "--source", str(tree), "--out", str(out))
    assert_one_line_error(rc, err, "VERSION", "--label")
    assert nothing_written(out)
    rc, _, err = run(capsys, "qemu", "--source", str(tree), "--label", "8.2.0", "--out", str(out))
    assert rc == 0, err
    assert read_json(out / "8.2.0.json") == expected_json("era_j_8_2")


# ----------------------------------------------------------------- --tarball


def test_tarball(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tree = write_tree("era_h_5_0", tmp_path / "tree")
    tb = make_tarball(tree, tmp_path / "qemu_5.0+dfsg.orig.tar.xz", "qemu-5.0")
    out = tmp_path / "out"
    rc, stdout, err = run(capsys, "qemu", "--tarball", str(tb), "--out", str(out))
    assert rc == 0, err
    assert "5.0.0: " in stdout
    assert read_json(out / "5.0.0.json") == expected_json("era_h_5_0")
    d = json.loads((out / "5.0.0.json").read_text())
    assert d["origin"] == "tarball qemu_5.0+dfsg.orig.tar.xz"


# --------------------------------------------------------------------- --git


def git(repo: Path, *args: str) -> None:
    env_args = ["-c", "user.name=cpudb tests", "-c", "user.email=tests@cpudb.invalid",
                "-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false"]  # fmt: skip
    subprocess.run(["git", "-C", str(repo), *env_args, *args], check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """Two tagged releases: 2.8.0 (target-i386/) and 5.0.0 (target/i386/), plus a stray tag."""
    need_tool("git", "apt-get install git")
    r = tmp_path / "qemu.git"
    r.mkdir()
    git(r, "init", "-q", "-b", "master")
    write_tree("era_e_2_8", r)
    git(r, "add", "-A")
    git(r, "commit", "-q", "-m", "Update version for v2.8.0 release")
    git(r, "tag", "v2.8.0")
    git(r, "rm", "-q", "-r", "target-i386")
    write_tree("era_h_5_0", r)
    git(r, "add", "-A")
    git(r, "commit", "-q", "-m", "Update version for v5.0.0 release")
    git(r, "tag", "-a", "v5.0.0", "-m", "v5.0.0")
    git(r, "tag", "not-a-release")
    return r


def test_git_tags_glob_scrapes_every_matching_tag(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    rc, stdout, err = run(capsys, "qemu", "--git", str(repo), "--tags", "v*", "--out", str(out))
    assert rc == 0, err
    assert sorted(p.name for p in out.iterdir()) == ["2.8.0.json", "5.0.0.json"]
    assert [ln.split(":")[0] for ln in stdout.splitlines()] == ["2.8.0", "5.0.0"]
    assert read_json(out / "2.8.0.json") == expected_json("era_e_2_8")
    assert read_json(out / "5.0.0.json") == expected_json("era_h_5_0")
    assert json.loads((out / "5.0.0.json").read_text())["origin"].startswith("git v5.0.0 (")


def test_git_refs(repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    rc, _, err = run(capsys, "qemu", "--git", str(repo), "--ref", "v2.8.0", "master",
                     "--json")  # fmt: skip
    assert rc == 0, err
    docs = [json.loads(x) for x in _split_json_docs(capsys, _)]
    assert [d["version"] for d in docs] == ["2.8.0", "5.0.0"]
    assert nothing_written(out)


def _split_json_docs(capsys: pytest.CaptureFixture[str], stdout: str) -> list[str]:
    """--json prints one pretty-printed document per release, each ending in a newline."""
    docs, cur = [], []
    for line in stdout.splitlines(keepends=True):
        cur.append(line)
        if line == "}\n":
            docs.append("".join(cur))
            cur = []
    assert not cur
    return docs


def test_git_bad_refs_write_nothing(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    rc, _, err = run(capsys, "qemu", "--git", str(repo), "--ref", "v2.8.0", "v9.9.9",
                     "--out", str(out))  # fmt: skip
    assert_one_line_error(rc, err, "unknown ref 'v9.9.9'", str(repo))
    assert nothing_written(out)  # v2.8.0 parsed fine, but nothing is written on failure
    rc, _, err = run(capsys, "qemu", "--git", str(repo), "--tags", "qemu-*", "--out", str(out))
    assert_one_line_error(rc, err, "no tag matches 'qemu-*'")
    rc, _, err = run(capsys, "qemu", "--git", str(tmp_path / "nope"), "--tags", "v*")
    assert_one_line_error(rc, err, "no such directory")
    plain = tmp_path / "plain"
    plain.mkdir()
    rc, _, err = run(capsys, "qemu", "--git", str(plain), "--tags", "v*")
    assert_one_line_error(rc, err, "not a git repository")
    assert nothing_written(out)


def test_git_argument_errors(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, _, err = run(capsys, "qemu", "--git", str(repo))
    assert rc == 2 and "--ref" in err and "--tags" in err
    rc, _, err = run(capsys, "qemu", "--source", str(repo), "--tags", "v*")
    assert rc == 2 and "--git" in err


def test_git_a_broken_release_among_good_ones_writes_nothing(
    repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    c, _ = texts("era_h_5_0")
    cut = c[: c.index('.name = "Fixture-NoVMX"')]
    (repo / "target/i386/cpu.c").write_text(cut)
    git(repo, "commit", "-q", "-am", "truncated")
    git(repo, "tag", "v5.1.0")
    out = tmp_path / "out"
    rc, _, err = run(capsys, "qemu", "--git", str(repo), "--tags", "v*", "--out", str(out))
    assert_one_line_error(rc, err, "target/i386/cpu.c:")
    assert nothing_written(out)
