"""`cpudb scrape qemu` on every kind of bad input: one line on stderr that says what and
where plus a hint, exit status 2, and no snapshot file.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.scrape_run import (
    assert_one_line_error,
    make_tarball,
    nothing_written,
    run,
    texts,
    write_tree,
)

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
