"""The shipped data loads and the 7.2 table has what QEMU 7.2 has."""

from __future__ import annotations

from cpudb.query import Db
from tests.conftest import cpu_named


def test_shipped_releases_load(db: Db) -> None:
    versions = [v.version for v in db.versions()]
    assert "7.2.0" in versions and "1.1.0" in versions
    rel = db.release("7.2.0")
    assert rel.version == "7.2.0"
    assert len(rel.cpus) == 129
    assert "pdpe1gb" in cpu_named(rel, "Skylake-Server-v1").features
    assert "pdpe1gb" not in cpu_named(rel, "Haswell-v4").features


def test_every_package_is_installed_by_a_plain_install() -> None:
    """`pip install .` (README's first command) ships only the packages pyproject lists:
    every folder of Python modules in the source tree must be among them."""
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    tool = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(tool["packages"])
    dirs = {pkg: root / d for pkg, d in tool["package-dir"].items()}
    missing = []
    for pkg, base in dirs.items():
        for init in base.rglob("__init__.py"):
            rel = init.parent.relative_to(base).parts
            if "__snapshots__" in rel or ".venv" in init.parts:
                continue
            name = ".".join((pkg, *rel))
            if name not in listed:
                missing.append(name)
    assert missing == []
