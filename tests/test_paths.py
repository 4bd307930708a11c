"""The Linux fast path for cache/data folders agrees with platformdirs."""

from __future__ import annotations

import sys
from pathlib import Path

import platformdirs
import pytest

from cpudb import paths


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="XDG fast path is Linux only")
@pytest.mark.parametrize("xdg", [None, "/tmp/xdg-base"])
def test_xdg_fast_path_matches_platformdirs(
    monkeypatch: pytest.MonkeyPatch, xdg: str | None
) -> None:
    monkeypatch.delenv("CPUDB_USER_DIR", raising=False)
    monkeypatch.delenv("CPUDB_CACHE_DIR", raising=False)
    for var in ("XDG_DATA_HOME", "XDG_CACHE_HOME"):
        if xdg:
            monkeypatch.setenv(var, f"{xdg}/{var}")
        else:
            monkeypatch.delenv(var, raising=False)
    assert str(paths.user_data_dir()) == platformdirs.user_data_dir("cpudb", appauthor=False)
    assert str(paths.cache_dir()) == platformdirs.user_cache_dir("cpudb", appauthor=False)


def test_env_overrides(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CPUDB_DB", str(tmp_path / "x.sqlite"))
    assert paths.db_path() == tmp_path / "x.sqlite"
    assert paths.db_path(str(tmp_path / "y.sqlite")) == tmp_path / "y.sqlite"
