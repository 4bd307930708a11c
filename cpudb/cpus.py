"""The catalogue of real CPUs (data/cpu-catalog.json, from libvirt's public CPUID dumps):
each as a HostCpu, what KVM would offer on each for a release (the portable ranking
counts hosts with it), and lookup by name (`cpudb host "Xeon Gold 6148"`).

Decoding 57 dumps against a release costs ~70 ms, so the grouped offers of each
release are kept in the cache folder (`catalog-offers/VERSION.json`, keyed by the
catalogue file and the release's features); an unwritable cache only costs the time.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from functools import cache

from cpudb.decide.rank import CatalogOffer

TYPE_CHECKING = False  # typing costs ~4 ms to import: only type checkers read these
if TYPE_CHECKING:  # the cached path needs neither HostCpu nor Release: decoding imports them
    from typing import Any

    from cpudb.host_cpu import HostCpu
    from cpudb.model import Release

FILE = "cpu-catalog.json"


@cache
def _doc() -> dict[str, Any]:
    from cpudb.paths import shipped_data_dir

    p = shipped_data_dir() / FILE
    if not p.exists():
        return {"cpus": [], "source": ""}
    doc: dict[str, Any] = json.loads(p.read_text(encoding="utf-8"))
    return doc


def source() -> str:
    return str(_doc().get("source", ""))


def entries() -> list[dict[str, Any]]:
    """Name, vendor, family/model/stepping and brand of every catalogued CPU."""
    keys = ("name", "vendor", "family", "model", "stepping", "brand", "file")
    return [{k: c[k] for k in keys} for c in _doc()["cpus"]]


def host_of(entry: dict[str, Any]) -> HostCpu:
    """One catalogue entry as a host, decoded like a user's `cpuid -1 -r` dump."""
    from cpudb.host_build import from_dump
    from cpudb.record import replace
    from cpudb.scrapers import cpuid_dump

    dump = cpuid_dump.parse("CPU:\n" + "\n".join(entry["leaves"]) + "\n", entry["file"])
    h = from_dump(
        dump, f"catalogued CPU {entry['name']} ({source().split(':')[0]}, {entry['file']})"
    )
    msrs = tuple(sorted((int(i, 16), int(v, 16)) for i, v in entry.get("msrs", {}).items()))
    return replace(h, msrs=msrs, brand=h.brand or entry.get("brand", ""))


def _norm(text: str) -> str:
    t = re.sub(r"\((?:r|tm)\)|\bcpu\b|\bprocessor\b|@.*$", " ", text.lower())
    return " ".join(re.sub(r"[^a-z0-9]+", " ", t).split())


def _matching(text: str) -> list[dict[str, Any]]:
    want = _norm(text)
    if not want:
        return []
    hits = []
    for e in _doc()["cpus"]:
        keys = {_norm(e["name"]), _norm(e["brand"])}
        if want in keys:
            return [e]
        if any(f" {want} " in f" {k} " for k in keys):
            hits.append(e)
    return hits


def matches(text: str) -> list[str]:
    """Catalogued CPU names for `text`: its name (`Xeon-Gold-6148`) or brand words
    (`Xeon Gold 6148`, `Intel(R) Xeon(R) Gold 6148 CPU @ 2.40GHz`); an exact match
    alone when there is one."""
    return [e["name"] for e in _matching(text)]


def lookup(text: str) -> HostCpu | None:
    """The one catalogued CPU `text` names (None when none or several match)."""
    from cpudb.record import replace

    hits = _matching(text)
    if len(hits) != 1:
        return None
    entry = hits[0]
    h = host_of(entry)
    note = (
        f"catalogued CPU {entry['name']}: libvirt's CPUID dump of a real {h.brand}, taken "
        "on bare metal; a host of this CPU gives a guest only what its own KVM, kernel "
        "and microcode allow (a dump of yours, --this-host or --qmp is exact)"
    )
    return replace(h, notes=(*h.notes, note))


@cache
def _inputs_digest() -> bytes:
    """The catalogue and the code that decodes it (a changed KVM rule is a new key)."""
    from pathlib import Path

    from cpudb import __version__
    from cpudb.paths import shipped_data_dir

    h = hashlib.sha1()
    with contextlib.suppress(OSError):
        h.update((shipped_data_dir() / FILE).read_bytes())
    here = Path(__file__).parent
    for f in ("host.py", "decide/kvm.py", "decide/offer.py", "cpus.py"):
        with contextlib.suppress(OSError):
            h.update((here / f).read_bytes())
    h.update(__version__.encode())
    return h.digest()


def _key(release: Release) -> str:
    h = hashlib.sha1(_inputs_digest())
    for f in release.features:
        h.update(f"{f.name}={f.location};".encode())
    for w in release.words:
        h.update(f"{w.name}:{w.type}:{w.leaf}:{w.subleaf}:{w.register}:{w.msr};".encode())
    return h.hexdigest()


def compute_offers(release: Release) -> tuple[CatalogOffer, ...]:
    """What KVM would offer on each catalogued CPU, identical offers grouped."""
    from cpudb.decide.offer import kvm_offer
    from cpudb.decide.plan import vendor_group

    groups: dict[tuple[frozenset[str], frozenset[str], str], list[tuple[str, int | None]]] = {}
    for e in _doc()["cpus"]:
        h = host_of(e)
        o = kvm_offer(e["name"], h.vendor, h.features_in(release))
        k = (o.present, o.unknown, vendor_group(h.vendor))
        groups.setdefault(k, []).append((e["name"], e.get("year")))
    return tuple(
        CatalogOffer(present=p, unknown=u, vendor=v, cpus=tuple(cpus))
        for (p, u, v), cpus in groups.items()
    )


def offers(release: Release) -> tuple[CatalogOffer, ...]:
    """`compute_offers`, through the cache folder."""
    from cpudb.paths import atomic_write, cache_dir

    key = _key(release)
    path = cache_dir() / "catalog-offers" / f"{release.version}.json"
    try:
        d = json.loads(path.read_text(encoding="utf-8"))
        if d.get("key") == key:
            return tuple(
                CatalogOffer(
                    present=frozenset(o["present"]),
                    unknown=frozenset(o["unknown"]),
                    vendor=o["vendor"],
                    cpus=tuple((n, y) for n, y in o["cpus"]),
                )
                for o in d["offers"]
            )
    except (OSError, ValueError, KeyError, TypeError):
        pass
    out = compute_offers(release)
    if not out:
        return ()
    doc = {
        "key": key,
        "offers": [
            {
                "present": sorted(o.present),
                "unknown": sorted(o.unknown),
                "vendor": o.vendor,
                "cpus": [list(c) for c in o.cpus],
            }
            for o in out
        ],
    }
    with contextlib.suppress(OSError):  # a read-only cache: the same answer, only slower
        atomic_write(path, json.dumps(doc))
    return out
