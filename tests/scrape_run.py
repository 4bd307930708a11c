"""Running `cpudb scrape` in tests: fixture trees and tarballs written into tmp_path, the
command run in-process, and what its output and errors must look like.

Shared by tests/test_scrape_local.py, test_scrape_upstream.py, test_scrape_bad_input.py
and test_scrape_qmp.py; no tests here.
"""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path
from typing import Any

import pytest
from cpudb.scrapers import qemu_source as qs

from cpudb import snapshot
from cpudb.cli import main

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
