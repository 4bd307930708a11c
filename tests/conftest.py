"""Shared fixtures: an isolated cpudb environment per test session."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from cpudb.model import CpuName, Feature, Release
    from cpudb.query import Db

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
    # answers must not depend on this machine's QEMU or KVM unless a test asks for them
    # (`machine` below): the installed QEMU sets the default release, a usable /dev/kvm
    # adds an answer for this machine
    os.environ["CPUDB_QEMU_BINARY"] = ""
    os.environ["CPUDB_KVM"] = ""
    os.environ.pop("CPUDB_DATA_DIR", None)


@pytest.fixture
def machine(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let cpudb see this machine's installed QEMU and /dev/kvm."""
    monkeypatch.delenv("CPUDB_QEMU_BINARY")
    monkeypatch.delenv("CPUDB_KVM")


@pytest.fixture(scope="session")
def db() -> Db:
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


def need_kvm() -> None:
    """Skip when /dev/kvm is not usable here (in CI that is a failure: CI runs KVM)."""
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        if os.environ.get("CI"):
            pytest.fail("/dev/kvm must be usable in CI")
        pytest.skip("/dev/kvm not usable (load kvm_intel/kvm_amd; join the kvm group)")


def need_hosts_dir() -> Path:
    if not HOSTS_DIR.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"{HOSTS_DIR} missing in CI")
        pytest.skip(f"{HOSTS_DIR} absent (the shared CPUID dumps sit beside the repository)")
    return HOSTS_DIR


def cpu_named(rel: Release, name: str) -> CpuName:
    """rel's CPU name `name`, which the test expects to exist."""
    cpu = rel.cpu(name)
    assert cpu is not None, f"{name} is not a CPU name of {rel.version}"
    return cpu


def feature_named(rel: Release, name: str) -> Feature:
    """rel's feature `name` (or alias), which the test expects to exist."""
    feature = rel.feature(name)
    assert feature is not None, f"{name} is not a feature of {rel.version}"
    return feature
