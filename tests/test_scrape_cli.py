"""`cpudb scrape qemu` from every source kind, and every kind of bad input.

Trees are written from the hand-written fixtures into tmp_path (`<dir>/cpu.c`, `cpu.h`,
`VERSION`); tarballs and git repositories are built from such trees. The HTTPS path runs
against recorded-shape responses of the upstream raw-file URLs (mocked at the network edge
with `responses`). Bad input must give one line on stderr that says what and where plus a
hint, exit status 2, and no snapshot file.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import responses
from cpudb.scrapers import qemu_source as qs
from responses import matchers

from cpudb import snapshot
from cpudb.cli import main
from tests.conftest import need_tool

if TYPE_CHECKING:
    from cpudb.scrapers.qmp import QmpCapture


FIX = Path(__file__).resolve().parent / "fixtures" / "qemu"
MANIFEST = json.loads((FIX / "fixtures.json").read_text())


def texts(name: str) -> tuple[str, str]:
    m = MANIFEST[name]
    return (FIX / m["c"]).read_text(), (FIX / m["h"]).read_text()


def write_tree(name: str, root: Path, *, version: str | None = None, cpu_c: str | None = None,
               with_version: bool = True) -> Path:  # fmt: skip
    m = MANIFEST[name]
    c, h = texts(name)
    d = root / m["dir"]
    d.mkdir(parents=True, exist_ok=True)
    (d / "cpu.c").write_text(cpu_c if cpu_c is not None else c)
    (d / "cpu.h").write_text(h)
    if with_version:
        (root / "VERSION").write_text((version or m["version"]) + "\n")
    return root


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    rc = main(["scrape", *argv])
    out, err = capsys.readouterr()
    return rc, out, err


def assert_one_line_error(rc: int, err: str, *needles: str) -> None:
    assert rc == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("cpudb: error: ")
    assert "(hint: " in lines[0], lines[0]
    for n in needles:
        assert n in lines[0], (n, lines[0])


def nothing_written(out_dir: Path) -> bool:
    return not out_dir.exists() or not any(out_dir.iterdir())


def expected_json(name: str, **kw: object) -> dict[str, Any]:
    m = MANIFEST[name]
    c, h = texts(name)
    files = qs.SourceFiles(c, h, f"{m['dir']}/cpu.c", f"{m['dir']}/cpu.h")
    d = snapshot.to_dict(qs.scrape(qs.FetchedRelease(files, m["version"], "x"), **kw))
    d.pop("origin")
    return d


def read_json(path: Path) -> dict[str, Any]:
    d: dict[str, Any] = json.loads(path.read_text())
    d.pop("origin")
    return d


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


def make_tarball(tree: Path, dest: Path, top: str, *, skip: str | None = None) -> Path:
    with tarfile.open(dest, "w:xz") as tf:
        for p in sorted(tree.rglob("*")):
            rel = p.relative_to(tree).as_posix()
            if skip and skip in rel:
                continue
            tf.add(p, arcname=f"{top}/{rel}", recursive=False)
        readme = b"QEMU README\n"
        info = tarfile.TarInfo(f"{top}/README.rst")
        info.size = len(readme)
        tf.addfile(info, io.BytesIO(readme))
    return dest


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


# --------------------------------------------------------------------- --tag


def raw(tag: str, path: str) -> str:
    url: str = qs.UPSTREAM_RAW.format(ref=tag, path=path)
    return url


def register_release(rsps: responses.RequestsMock, tag: str, name: str) -> None:
    m = MANIFEST[name]
    c, h = texts(name)
    d = m["dir"]
    rsps.get(raw(tag, "VERSION"), body=m["version"] + "\n", content_type="text/plain")
    for other in qs.CPU_DIRS:
        if other != d:
            rsps.get(raw(tag, f"{other}/cpu.c"), status=404, body="404 page not found")
            if qs.CPU_DIRS.index(other) > qs.CPU_DIRS.index(d):
                continue
    rsps.get(raw(tag, f"{d}/cpu.c"), body=c, content_type="text/plain")
    rsps.get(raw(tag, f"{d}/cpu.h"), body=h, content_type="text/plain")
    for extra in qs.EXTRA_FILES:
        rsps.get(raw(tag, f"{d}/{extra}"), status=404, body="404 page not found")


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    c = tmp_path / "cache"
    monkeypatch.setenv("CPUDB_CACHE_DIR", str(c))
    return c


def test_https_tag_downloads_caches_and_scrapes(
    tmp_path: Path, cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        register_release(rsps, "v5.0.0", "era_h_5_0")
        rc, stdout, err = run(capsys, "qemu", "--tag", "v5.0.0", "--out", str(out))
        assert rc == 0, err
        fetched = [c.request.url for c in rsps.calls]
        assert fetched[0] == raw("v5.0.0", "VERSION")
        assert raw("v5.0.0", "target/i386/cpu.c") in fetched
        base = "https://gitlab.com/qemu-project/qemu/-/raw/v5.0.0/"
        assert all(u is not None and u.startswith(base) for u in fetched)

        assert read_json(out / "5.0.0.json") == expected_json("era_h_5_0")
        assert json.loads((out / "5.0.0.json").read_text())["origin"] == (
            "upstream tag v5.0.0 over HTTPS"
        )
        n = len(rsps.calls)
        # second run: everything (including the 404s) comes from the cache
        rc, _, err = run(capsys, "qemu", "--tag", "v5.0.0", "--json")
        assert rc == 0, err
        assert len(rsps.calls) == n
    assert (cache / "sources" / "v5.0.0" / "target/i386/cpu.c").is_file()
    assert not list(cache.rglob("*.part"))


def test_https_old_layout(tmp_path: Path, cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        register_release(rsps, "v2.8.0", "era_e_2_8")
        rc, stdout, err = run(capsys, "qemu", "--tag", "v2.8.0", "--json")
    assert rc == 0, err
    d = json.loads(stdout)
    d.pop("origin")
    assert d == expected_json("era_e_2_8")


def test_https_offline_is_one_clear_error(
    tmp_path: Path, cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    with responses.RequestsMock(assert_all_requests_are_fired=False):  # nothing answers
        rc, _, err = run(capsys, "qemu", "--tag", "v7.2.0", "--out", str(out))
    assert_one_line_error(rc, err, "cannot download", raw("v7.2.0", "VERSION"), "offline?")
    assert nothing_written(out)
    assert not list(cache.rglob("*.json"))


def test_https_unknown_tag_and_server_errors(
    tmp_path: Path, cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.get(raw("v9.9.9", "VERSION"), status=404, body="404 page not found")
        rc, _, err = run(capsys, "qemu", "--tag", "v9.9.9", "--out", str(out))
        assert_one_line_error(rc, err, "unknown tag 'v9.9.9'")
        rsps.get(raw("v8.0.0", "VERSION"), status=403, body="forbidden")
        rc, _, err = run(capsys, "qemu", "--tag", "v8.0.0", "--out", str(out))
        assert_one_line_error(rc, err, "HTTP 403", raw("v8.0.0", "VERSION"))
        rsps.get(raw("v8.1.0", "VERSION"), status=503, body="unavailable")  # retried, then:
        rc, _, err = run(capsys, "qemu", "--tag", "v8.1.0", "--out", str(out))
        assert_one_line_error(rc, err, "kept failing", raw("v8.1.0", "VERSION"))
        assert len([c for c in rsps.calls if "v8.1.0" in (c.request.url or "")]) == 4
    rc, _, err = run(capsys, "qemu", "--tag", "master", "--out", str(out))
    assert_one_line_error(rc, err, "not a QEMU release tag")
    assert nothing_written(out)


def test_https_truncated_download_is_a_parse_error(
    tmp_path: Path, cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    c, h = texts("era_g_4_1")
    out = tmp_path / "out"
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.get(raw("v4.1.0", "VERSION"), body="4.1.0\n")
        cut = c[: c.index('.alias = "Fixturewell-IBRS"')]
        rsps.get(raw("v4.1.0", "target/i386/cpu.c"), body=cut)
        rsps.get(raw("v4.1.0", "target/i386/cpu.h"), body=h)
        for extra in qs.EXTRA_FILES:
            rsps.get(raw("v4.1.0", f"target/i386/{extra}"), status=404)
        rc, _, err = run(capsys, "qemu", "--tag", "v4.1.0", "--out", str(out))
    assert_one_line_error(rc, err, "target/i386/cpu.c:", "truncated")
    assert nothing_written(out)


def _tag(name: str, i: int) -> dict[str, Any]:
    """One entry in the shape of GitLab's /repository/tags API."""
    sha = f"{i:040x}"
    return {
        "name": name,
        "message": f"{name} release",
        "target": sha,
        "commit": {"id": sha, "short_id": sha[:8], "title": f"Update version for {name} release",
                   "created_at": "2022-12-14T18:00:00.000+00:00", "parent_ids": []},
        "release": None,
        "protected": False,
    }  # fmt: skip


def test_list_tags_pages_and_filters(capsys: pytest.CaptureFixture[str], cache: Path) -> None:
    page1 = [_tag(f"v1.{i}.0", i) for i in range(98)] + [_tag("v7.2.0", 98), _tag("v7.2.0-rc4", 99)]
    page2 = [_tag("v10.2.0", 100), _tag("v2.12.1", 101), _tag("stable-2.12", 102)]
    with responses.RequestsMock() as rsps:
        q = matchers.query_param_matcher
        rsps.get(qs.UPSTREAM_TAGS, json=page1, match=[q({"per_page": "100", "page": "1"})])
        rsps.get(qs.UPSTREAM_TAGS, json=page2, match=[q({"per_page": "100", "page": "2"})])
        rc, stdout, err = run(capsys, "qemu", "--list-tags")
    assert rc == 0, err
    tags = stdout.split()
    assert len(tags) == 98 + 3
    assert tags[-3:] == ["v2.12.1", "v7.2.0", "v10.2.0"]  # version order, not text order
    assert "v7.2.0-rc4" not in tags and "stable-2.12" not in tags


def test_list_tags_offline(capsys: pytest.CaptureFixture[str], cache: Path) -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False):
        rc, _, err = run(capsys, "qemu", "--list-tags")
    assert_one_line_error(rc, err, "cannot list upstream tags", "offline?")


# ----------------------------------------------------------------- bad input


def test_a_file_that_is_not_cpu_c(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tree = write_tree("era_g_4_1", tmp_path / "t", cpu_c="/* just some C */\nint main(void);\n")
    out = tmp_path / "out"
    rc, _, err = run(capsys, "qemu", "--source", str(tree), "--out", str(out))
    assert_one_line_error(rc, err, "target/i386/cpu.c", "builtin_x86_defs")
    assert nothing_written(out)


def test_a_truncated_cpu_c(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    c, _ = texts("era_g_4_1")
    cut = c[: c.index('.alias = "Fixturewell-IBRS"')]
    tree = write_tree("era_g_4_1", tmp_path / "t", cpu_c=cut)
    out = tmp_path / "out"
    rc, _, err = run(capsys, "qemu", "--source", str(tree), "--out", str(out))
    line = c[: c.index("static X86CPUDefinition builtin_x86_defs")].count("\n") + 1
    assert_one_line_error(rc, err, f"target/i386/cpu.c:{line}:", "unterminated", "truncated")
    assert nothing_written(out)


def test_a_binary_cpu_c(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tree = write_tree("era_g_4_1", tmp_path / "t")
    (tree / "target/i386/cpu.c").write_bytes(bytes(range(256)) * 4)
    out = tmp_path / "out"
    rc, _, err = run(capsys, "qemu", "--source", str(tree), "--out", str(out))
    assert_one_line_error(rc, err, "target/i386/cpu.c")
    assert nothing_written(out)


def test_a_tarball_without_the_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tree = write_tree("era_g_4_1", tmp_path / "t")
    tb = make_tarball(tree, tmp_path / "qemu-4.1.0.tar.xz", "qemu-4.1.0", skip="cpu.c")
    out = tmp_path / "out"
    rc, _, err = run(capsys, "qemu", "--tarball", str(tb), "--out", str(out))
    assert_one_line_error(rc, err, str(tb), "no target/i386/cpu.c")
    assert nothing_written(out)
    only_c = make_tarball(tree, tmp_path / "half.tar.xz", "qemu-4.1.0", skip="cpu.h")
    rc, _, err = run(capsys, "qemu", "--tarball", str(only_c), "--out", str(out))
    assert_one_line_error(rc, err, "cpu.h missing")
    assert nothing_written(out)


def test_not_a_tarball_and_no_such_paths(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    junk = tmp_path / "qemu.tar.xz"
    junk.write_bytes(b"\xfd7zXZ\x00 this is not really xz" * 10)
    out = tmp_path / "out"
    rc, _, err = run(capsys, "qemu", "--tarball", str(junk), "--out", str(out))
    assert_one_line_error(rc, err, str(junk), "not a readable tarball")
    rc, _, err = run(capsys, "qemu", "--tarball", str(tmp_path / "missing.tar.xz"))
    assert_one_line_error(rc, err, "missing.tar.xz", "no such file")
    rc, _, err = run(capsys, "qemu", "--source", str(tmp_path / "missing"))
    assert_one_line_error(rc, err, "missing", "not a directory")
    empty = tmp_path / "empty"
    empty.mkdir()
    rc, _, err = run(capsys, "qemu", "--source", str(empty))
    assert_one_line_error(rc, err, "no target/i386/cpu.c")
    assert nothing_written(out)


def test_bad_input_through_the_real_command(tmp_path: Path) -> None:
    """The installed entry point: exit status 2, one line on stderr, nothing on stdout."""
    tree = write_tree("era_g_4_1", tmp_path / "t", cpu_c="int x;\n")
    out = tmp_path / "out"
    argv = [sys.executable, "-m", "cpudb", "scrape", "qemu", "--source", str(tree)]
    argv += ["--out", str(out)]
    p = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert p.returncode == 2 and p.stdout == ""
    assert len(p.stderr.strip().splitlines()) == 1 and "target/i386/cpu.c" in p.stderr
    assert nothing_written(out)


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
