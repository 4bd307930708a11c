"""Fetch QEMU's cpu.c/cpu.h (and accel defaults) from a tree, a tarball, a git clone or HTTPS.

Fetching is separate from parsing: every fetcher returns `FetchedRelease` (texts plus
provenance), and `scrape()` turns one into a `Release`.
"""

from __future__ import annotations

import fnmatch
import os
import re
import subprocess
import tarfile
from collections.abc import Callable
from pathlib import Path

from cpudb.errors import CpudbError, ParseError, SourceError
from cpudb.model import Release, accel_defaults_of
from cpudb.record import Record
from cpudb.resolve import cpu_names
from cpudb.versions import version_key

from .qemu_parsed import SourceFiles
from .qemu_table import parse_table

TYPE_CHECKING = False
if TYPE_CHECKING:
    import requests

# Paths inside a QEMU tree, newest layout first.
CPU_DIRS = ("target/i386", "target-i386")
EXTRA_FILES = ("kvm/kvm-cpu.c", "tcg/tcg-cpu.c")
UPSTREAM_RAW = "https://gitlab.com/qemu-project/qemu/-/raw/{ref}/{path}"
UPSTREAM_TAGS = "https://gitlab.com/api/v4/projects/qemu-project%2Fqemu/repository/tags"


class FetchedRelease(Record):
    files: SourceFiles
    version: str  # from the VERSION file
    origin: str  # where it came from, for data/README.md and `cpudb versions`


def _files_from(get: Callable[[str], str | None], where: str) -> tuple[SourceFiles, str]:
    """Find the CPU files through `get(relative_path) -> text or None`."""
    for d in CPU_DIRS:
        c = get(f"{d}/cpu.c")
        if c is None:
            continue
        h = get(f"{d}/cpu.h")
        if h is None:
            raise SourceError(
                f"{where}: {d}/cpu.c found but {d}/cpu.h missing",
                hint="is the source tree complete?",
            )
        extra = []
        for e in EXTRA_FILES:
            t = get(f"{d}/{e}")
            if t is not None:
                extra.append((f"{d}/{e}", t))
        version = (get("VERSION") or "").strip()  # "" = none: scrape() then needs a label
        return SourceFiles(c, h, f"{d}/cpu.c", f"{d}/cpu.h", tuple(extra)), version
    raise SourceError(
        f"{where}: no target/i386/cpu.c (or target-i386/cpu.c)",
        hint="point at the top of a QEMU source tree",
    )


def _read_text(data: bytes, name: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def from_dir(path: str | os.PathLike[str]) -> FetchedRelease:
    root = Path(path)
    if not root.is_dir():
        raise SourceError(f"{root}: not a directory", hint="pass the top of a QEMU source tree")

    def get(rel: str) -> str | None:
        p = root / rel
        return _read_text(p.read_bytes(), str(p)) if p.is_file() else None

    files, version = _files_from(get, str(root))
    return FetchedRelease(files, version, f"source tree {root.resolve().name}/")


def from_tarball(path: str | os.PathLike[str]) -> FetchedRelease:
    """Read the few files needed from a release or Debian orig tarball, streaming."""
    p = Path(path)
    if p.is_dir():
        raise SourceError(
            f"{p}: is a directory, not a tarball",
            hint="pass the qemu-X.Y.Z.tar.xz file, or --source DIR for an unpacked tree",
        )
    if not p.is_file():
        raise SourceError(
            f"{p}: no such file", hint="pass a qemu-X.Y.Z.tar.xz or qemu_*.orig.tar.xz"
        )
    wanted = {f"{d}/{n}" for d in CPU_DIRS for n in ("cpu.c", "cpu.h", *EXTRA_FILES)} | {"VERSION"}
    found: dict[str, str] = {}
    try:
        with tarfile.open(p, "r:*") as tf:
            for m in tf:
                if not m.isfile():
                    continue
                parts = m.name.split("/", 1)
                if len(parts) != 2 or parts[1] not in wanted:
                    continue
                fh = tf.extractfile(m)
                if fh is not None:
                    found[parts[1]] = _read_text(fh.read(), m.name)
    except (tarfile.TarError, EOFError, OSError) as e:
        reason = (str(e).splitlines() or [type(e).__name__])[0].rstrip(":")  # one line
        raise SourceError(
            f"{p}: not a readable tarball ({reason})",
            hint="pass a QEMU release or Debian orig tarball",
        ) from e
    files, version = _files_from(found.get, str(p))
    return FetchedRelease(files, version, f"tarball {p.name}")


def _git(repo: str, *args: str) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["git", "-C", repo, *args], capture_output=True, check=False)
    except FileNotFoundError as e:
        raise SourceError("git is not installed", hint="apt-get install git") from e


def git_refs(repo: str, tags: str | None, refs: list[str]) -> list[str]:
    if not Path(repo).exists():
        raise SourceError(f"{repo}: no such directory", hint="pass a local clone of QEMU")
    if _git(repo, "rev-parse", "--git-dir").returncode:
        raise SourceError(
            f"{repo}: not a git repository",
            hint="pass a local clone of QEMU (git clone https://gitlab.com/qemu-project/qemu)",
        )
    out = list(refs)
    if tags:
        r = _git(repo, "tag", "-l")
        matched = [t for t in r.stdout.decode().split() if fnmatch.fnmatch(t, tags)]
        if not matched:
            raise SourceError(f"{repo}: no tag matches {tags!r}", hint="try --tags 'v*.0'")
        out.extend(sorted(matched, key=version_key))
    return out


def from_git(repo: str, ref: str) -> FetchedRelease:
    r = _git(repo, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    if r.returncode:
        if not _git(repo, "tag", "-l").stdout.strip():
            raise SourceError(
                f"{repo}: unknown ref {ref!r}; the clone has no tags",
                hint="fetch them with git -C REPO fetch --tags, or give a commit",
            )
        raise SourceError(f"{repo}: unknown ref {ref!r}", hint="list them with git tag -l")
    commit = r.stdout.decode().strip()

    def get(rel: str) -> str | None:
        s = _git(repo, "show", f"{commit}:{rel}")
        return _read_text(s.stdout, rel) if s.returncode == 0 else None

    files, version = _files_from(get, f"{repo}@{ref}")
    return FetchedRelease(files, version, f"git {ref} ({commit[:12]})")


def from_https(
    tag: str, cache_dir: Path, *, session: requests.Session | None = None, timeout: float = 20.0
) -> FetchedRelease:
    """Download the files of an upstream tag (cached); offline is a clear error."""
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.util.retry import Retry

    if not re.fullmatch(r"v\d+\.\d+\.\d+(-rc\d+)?", tag):
        raise SourceError(f"--tag {tag!r} is not a QEMU release tag", hint="use the form v7.2.0")
    if session is None:
        session = requests.Session()
        retry = Retry(total=3, backoff_factor=0.5, status_forcelist=(429, 500, 502, 503, 504))
        session.mount("https://", HTTPAdapter(max_retries=retry))
    cache = cache_dir / tag

    def get(rel: str) -> str | None:
        p = cache / rel
        missing = cache / (rel + ".404")
        if p.is_file():
            return p.read_text(encoding="utf-8")
        if missing.exists():
            return None
        url = UPSTREAM_RAW.format(ref=tag, path=rel)
        try:
            resp = session.get(url, timeout=timeout)
        except requests.exceptions.RetryError as e:
            raise SourceError(
                f"{url}: the server kept failing (HTTP 429/5xx) after 3 retries",
                hint="try again later",
            ) from e
        except requests.RequestException as e:
            raise SourceError(
                f"cannot download {url} ({type(e).__name__})",
                hint="offline? use --tarball or --source with a local copy",
            ) from e
        if resp.status_code == 404:
            missing.parent.mkdir(parents=True, exist_ok=True)
            missing.touch()
            return None
        if resp.status_code != 200:
            raise SourceError(f"{url}: HTTP {resp.status_code}", hint="try again later")
        p.parent.mkdir(parents=True, exist_ok=True)
        tmp = p.with_suffix(p.suffix + ".part")
        tmp.write_text(resp.text, encoding="utf-8")
        os.replace(tmp, p)
        return resp.text

    if get("VERSION") is None:
        raise SourceError(
            f"unknown tag {tag!r} upstream", hint="list tags with `cpudb scrape qemu --list-tags`"
        )
    files, version = _files_from(get, f"upstream {tag}")
    return FetchedRelease(files, version, f"upstream tag {tag} over HTTPS")


def list_upstream_tags(
    *, session: requests.Session | None = None, timeout: float = 20.0
) -> list[str]:
    import requests

    s = session or requests.Session()
    tags: list[str] = []
    page = 1
    while True:
        try:
            resp = s.get(UPSTREAM_TAGS, params={"per_page": 100, "page": page}, timeout=timeout)
        except requests.RequestException as e:
            raise SourceError(
                f"cannot list upstream tags ({type(e).__name__})",
                hint="offline? use --git with a local clone",
            ) from e
        if resp.status_code != 200:
            raise SourceError(f"listing upstream tags: HTTP {resp.status_code}")
        batch = [t["name"] for t in resp.json()]
        tags.extend(t for t in batch if re.fullmatch(r"v\d+\.\d+\.\d+", t))
        if len(batch) < 100:
            break
        page += 1
    return sorted(tags, key=version_key)


def scrape(fetched: FetchedRelease, *, label: str | None = None, upstream: bool = True) -> Release:
    """Parse and resolve one fetched release. Raises ParseError naming file and line."""
    version = label or fetched.version
    if not version:
        raise SourceError(f"{fetched.origin}: no VERSION file", hint="pass --label VERSION")
    try:
        table = parse_table(fetched.files, fetched.version or version)
    except ParseError as e:
        raise ParseError(
            f"{fetched.origin}: {e.message}", hint=e.hint or "is this an unmodified QEMU source?"
        ) from e
    except RecursionError as e:
        raise CpudbError(f"{fetched.origin}: expression nesting too deep") from e
    cpus = cpu_names(
        table.models,
        table.features,
        table.dependencies,
        hypervisor=table.rules.hypervisor,
        default_version=table.default_version,
    )
    return Release(
        version=version,
        upstream=upstream,
        origin=fetched.origin,
        words=table.words,
        features=table.features,
        dependencies=table.dependencies,
        accel_defaults=accel_defaults_of(table.accel_defaults),
        models=table.models,
        cpus=cpus,
        default_version=table.default_version,
        source="source",
        tcg_features=table.tcg_features,
    )
