"""Fetch libvirt's cpu_map (`x86_*.xml`) from a folder, a source tarball or a Debian package.

Fetching is separate from parsing: `read_cpu_map` returns the texts with their provenance
(`CpuMap`), and `libvirt_cpumap.scrape` turns them into data/libvirt-features.json.

- a folder: `/usr/share/libvirt/cpu_map` (Debian's `libvirt-daemon`), labelled with the
  installed package's version;
- a source tarball: `libvirt_X.Y.Z.orig.tar.xz`, its `src/cpu_map/`;
- a package: `libvirt-common_X.Y.Z-*.deb`, its `usr/share/libvirt/cpu_map/` (dpkg-deb).
"""

from __future__ import annotations

from pathlib import Path

from cpudb.errors import SourceError
from cpudb.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    import tarfile

DEFAULT_DIR = Path("/usr/share/libvirt/cpu_map")
FEATURES_FILE = "x86_features.xml"


class CpuMap(Record):
    """The cpu_map files of one libvirt and where they came from."""

    files: dict[str, str]  # file name (x86_features.xml, x86_Haswell.xml, ...) -> text
    where: str  # where x86_features.xml was read, for the source label and errors
    label: str  # "libvirt 11.3.0", "Debian libvirt-daemon 9.0.0-4", or the caller's
    version: str  # libvirt's upstream version; "" for a folder (no version there)


def read_cpu_map(path: Path, label: str | None = None) -> CpuMap:
    """The cpu_map of a folder, a source tarball or a .deb; SourceError without
    x86_features.xml. `label` replaces the one made from the version."""
    if path.is_file() and path.suffix == ".deb":
        files, version = _deb_files(path)
        where = f"{path.name}: usr/share/libvirt/cpu_map/{FEATURES_FILE}"
        label = label or f"libvirt {version or '?'}"
    elif path.is_file():
        files, version = _tarball_files(path)
        where = f"{path.name}: src/cpu_map/{FEATURES_FILE}"
        label = label or f"libvirt {version or '?'}"
    else:
        files = {f.name: f.read_text(encoding="utf-8") for f in sorted(path.glob("x86_*.xml"))}
        where = str(path / FEATURES_FILE)
        if label is None:
            pv = package_version()
            label = f"Debian libvirt-daemon {pv}" if pv else "libvirt"
        version = ""
    if FEATURES_FILE not in files:
        raise SourceError(
            f"{where}: not found",
            hint="apt-get install -y libvirt-daemon, or pass --dir DIR (a folder or tarball)",
        )
    return CpuMap(files, where, label, version)


def package_version(package: str = "libvirt-daemon") -> str | None:
    """The installed Debian package's version, when dpkg knows it."""
    import shutil
    import subprocess

    if not shutil.which("dpkg-query"):
        return None
    r = subprocess.run(
        ["dpkg-query", "-W", "-f", "${Version}", package],
        capture_output=True,
        text=True,
        check=False,
    )
    return r.stdout.strip() or None


def _cpu_map_files(tf: tarfile.TarFile) -> tuple[dict[str, str], str]:
    """The cpu_map/x86_*.xml members of an archive (a source tarball's src/cpu_map/, a
    package's usr/share/libvirt/cpu_map/) by file name, and the first one's path."""
    files: dict[str, str] = {}
    first = ""
    for m in tf:
        parts = m.name.split("/")
        if m.isfile() and parts[-2:-1] == ["cpu_map"] and parts[-1].startswith("x86_"):
            fh = tf.extractfile(m)
            if fh is not None:
                files[parts[-1]] = fh.read().decode("utf-8")
                first = first or m.name
    return files, first


def _tarball_files(tarball: Path) -> tuple[dict[str, str], str]:
    """src/cpu_map/x86_*.xml of a libvirt source tarball, and its version."""
    import re
    import tarfile

    try:
        with tarfile.open(tarball, "r:*") as tf:
            files, where = _cpu_map_files(tf)
    except (tarfile.TarError, OSError) as e:
        raise SourceError(f"{tarball}: not a readable tarball ({e})",
                          hint="give libvirt_X.Y.Z.orig.tar.xz") from None  # fmt: skip
    return files, (re.findall(r"libvirt-(\d+\.\d+\.\d+)", where) or [""])[0]


def _deb_files(deb: Path) -> tuple[dict[str, str], str]:
    """usr/share/libvirt/cpu_map/x86_*.xml of a Debian libvirt-common (or libvirt0) .deb,
    and the upstream version of the package."""
    import io
    import re
    import shutil
    import subprocess
    import tarfile

    if not shutil.which("dpkg-deb"):
        raise SourceError(f"{deb}: reading a .deb needs dpkg-deb", hint="apt-get install dpkg")
    r = subprocess.run(["dpkg-deb", "--fsys-tarfile", str(deb)], capture_output=True, check=False)
    v = subprocess.run(["dpkg-deb", "-f", str(deb), "Version"],
                       capture_output=True, text=True, check=False)  # fmt: skip
    if r.returncode != 0 or v.returncode != 0:
        raise SourceError(f"{deb}: not a readable .deb ({r.stderr.decode(errors='replace')[:80]})",
                          hint="give libvirt-common_X.Y.Z-*.deb (apt-get download)")  # fmt: skip
    with tarfile.open(fileobj=io.BytesIO(r.stdout), mode="r:") as tf:
        files, _ = _cpu_map_files(tf)
    found = re.match(r"(?:\d+:)?(\d+\.\d+\.\d+)", v.stdout.strip())
    return files, found.group(1) if found else ""
