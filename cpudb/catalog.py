"""The snapshots: shipped ones in data/qemu/, the user's own in the user data folder."""

from __future__ import annotations

from pathlib import Path

from cpudb import snapshot
from cpudb.errors import NotFound
from cpudb.model import Release
from cpudb.paths import shipped_data_dir, user_data_dir
from cpudb.versions import version_key


def snapshot_files(*, user: bool = True) -> list[tuple[Path, bool]]:
    """(path, shipped?) for every snapshot, oldest release first."""
    out = [(p, True) for p in sorted((shipped_data_dir() / "qemu").glob("*.json"))]
    if user:
        out += [(p, False) for p in sorted((user_data_dir() / "qemu").glob("*.json"))]
    return sorted(out, key=lambda t: version_key(t[0].stem))


def load(path: Path) -> Release:
    return snapshot.loads(path.read_text(encoding="utf-8"), name=str(path))


def shipped_releases() -> list[Release]:
    return [load(p) for p, _ in snapshot_files(user=False)]


def nearest_release(version: str) -> Release:
    """The newest shipped source snapshot not newer than `version` (else the oldest)."""
    files = [p for p, _ in snapshot_files(user=False)]
    if not files:
        raise NotFound("no shipped snapshots", hint="reinstall cpudb")
    key = version_key(version)[0]
    older = [p for p in files if version_key(p.stem)[0] <= key and not version_key(p.stem)[1]]
    return load((older or files)[-1] if older else files[0])
