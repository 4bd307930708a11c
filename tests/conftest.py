"""Shared fixtures: an isolated cpudb environment per test session."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
HOSTS_DIR = SHARED / "hosts"
FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session", autouse=True)
def _isolated_env(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Never touch the user's real cache/data folders from tests."""
    base = tmp_path_factory.mktemp("cpudb-home")
    os.environ["CPUDB_CACHE_DIR"] = str(base / "cache")
    os.environ["CPUDB_USER_DIR"] = str(base / "user")
    os.environ.pop("CPUDB_DB", None)
    os.environ.pop("CPUDB_DATA_DIR", None)


@pytest.fixture(scope="session")
def db():
    """The database built from the shipped snapshots (built once per session)."""
    from cpudb.query import open_db

    return open_db()


def need_tool(name: str, how: str) -> str:
    """Skip (with how to get it) when a tool is absent; in CI that is a failure."""
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is required in CI: {how}")
        pytest.skip(f"{name} not installed: {how}")
    return path


def need_hosts_dir() -> Path:
    if not HOSTS_DIR.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"{HOSTS_DIR} missing in CI")
        pytest.skip(f"{HOSTS_DIR} absent (the shared CPUID dumps sit beside the repository)")
    return HOSTS_DIR
