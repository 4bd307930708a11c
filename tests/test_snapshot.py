"""Snapshots: Release <-> JSON is stable and lossless; bad snapshots are one clear error."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cpudb.scrapers import qemu_source as qs
from cpudb.scrapers.qemu_parsed import SourceFiles

from cpudb import snapshot
from cpudb.errors import ParseError
from cpudb.model import Release
from cpudb.paths import shipped_data_dir

FIX = Path(__file__).resolve().parent / "fixtures" / "qemu"
MANIFEST = json.loads((FIX / "fixtures.json").read_text())
QEMU_SRC = Path(os.environ.get("CPUDB_QEMU_SRC", "/root/qemu-src"))


def scraped(name: str) -> Release:
    m = MANIFEST[name]
    files = SourceFiles((FIX / m["c"]).read_text(), (FIX / m["h"]).read_text())
    r: Release = qs.scrape(qs.FetchedRelease(files, m["version"], f"fixture {name}"))
    return r


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_scrape_is_deterministic_and_round_trips(name: str) -> None:
    text = snapshot.dumps(scraped(name))
    assert snapshot.dumps(scraped(name)) == text  # re-running gives the same bytes
    again = snapshot.loads(text, name=f"{name}.json")
    assert snapshot.dumps(again) == text
    d = json.loads(text)
    assert d["format"] == snapshot.FORMAT and d["version"] == MANIFEST[name]["version"]
    # stable, diffable order: feature lists sorted, words in table order
    for c in d["cpus"]:
        assert c.get("features", []) == sorted(c.get("features", []))


def test_json_shape_of_a_versioned_release() -> None:
    d = snapshot.to_dict(scraped("era_j_8_2"))
    assert set(d) == {
        "format", "version", "upstream", "origin", "source", "default_version", "words",
        "features", "dependencies", "accel_defaults", "models", "cpus",
    }  # fmt: skip
    by = {c["name"]: c for c in d["cpus"]}
    assert by["EPYC-IBPB"] == {"name": "EPYC-IBPB", "kind": "alias", "alias_of": "EPYC-v2"}
    assert by["EPYC"] == {"name": "EPYC", "kind": "bare", "alias_of": "EPYC-v1"}
    v3 = by["EPYC-v3"]
    assert (v3["kind"], v3["version"], v3["note"], v3["cache_info"]) == (
        "version", 3, "no SVM, new cache model", "epyc_v4_cache_info")  # fmt: skip
    assert "svm" not in v3["features"] and "hypervisor" in v3["features"]
    (epyc,) = [m for m in d["models"] if m["name"] == "EPYC"]
    assert epyc["level"] == "0xd" and epyc["xlevel"] == "0x8000001e"
    assert epyc["versions"][2] == {
        "version": 3, "note": "no SVM, new cache model", "cache_info": "epyc_v4_cache_info",
        "props": [["svm", "off"], ["model", "49"]],
    }  # fmt: skip
    assert d["words"][0] == {"name": "FEAT_1_EDX", "type": "cpuid", "leaf": "0x1",
                             "register": "edx"}  # fmt: skip


def test_msr_words_and_dependencies_in_json() -> None:
    d = snapshot.to_dict(scraped("era_h_5_0"))
    basic = [w for w in d["words"] if w["name"] == "FEAT_VMX_BASIC"][0]
    assert basic == {"name": "FEAT_VMX_BASIC", "type": "msr", "msr": "0x480"}
    assert {"name": "vmx-ins-outs", "word": "FEAT_VMX_BASIC", "bit": 54,
            "location": "msr.0x480.54"} in d["features"]  # fmt: skip
    assert d["dependencies"][0]["clears_all_of"] == "FEAT_VMX_PROCBASED_CTLS"
    assert d["accel_defaults"]["tcg"] == [["vme", "off"]]


@pytest.mark.parametrize(
    ("mangle", "message"),
    [
        (lambda d: d.update(format=99), "unsupported snapshot format 99"),
        (lambda d: d.pop("words"), "malformed snapshot"),
        (
            lambda d: d["cpus"].append({"name": "X", "kind": "alias", "alias_of": "nope"}),
            "malformed snapshot",
        ),
        (lambda d: d["models"][0].update(level="0xZZ"), "malformed snapshot"),
    ],
)
def test_malformed_snapshots_are_parse_errors(
    mangle: Callable[[dict[str, Any]], object], message: str
) -> None:

    d = json.loads(snapshot.dumps(scraped("era_g_4_1")))
    mangle(d)
    with pytest.raises(ParseError, match=message) as ei:
        snapshot.loads(json.dumps(d), name="data/qemu/4.1.0.json")
    assert ei.value.file == "data/qemu/4.1.0.json" and ei.value.hint


def test_not_json_names_the_line() -> None:
    with pytest.raises(ParseError, match="not JSON") as ei:
        snapshot.loads('{\n "format": 1,\n oops\n}', name="x.json")
    assert (ei.value.file, ei.value.line) == ("x.json", 3)


def _local_sources() -> list[tuple[Path, Path]]:
    pairs = []
    for p in sorted((shipped_data_dir() / "qemu").glob("*.json")):
        src = QEMU_SRC / p.stem
        if src.is_dir():
            pairs.append((p, src))
    return pairs


@pytest.mark.integration
def test_shipped_snapshots_reproduce_from_local_sources() -> None:
    """Every shipped snapshot whose sources are at hand re-scrapes to the same facts.

    Only `origin` (where the shipped copy was read from) may differ.
    Sources: $CPUDB_QEMU_SRC or /root/qemu-src/<version>/ (see data/README.md).
    """
    pairs = _local_sources()
    if not pairs:
        pytest.skip(f"no QEMU sources under {QEMU_SRC} (set CPUDB_QEMU_SRC)")
    differ = []
    for path, src in pairs:
        shipped = json.loads(path.read_text(encoding="utf-8"))
        r = qs.scrape(qs.from_dir(src), label=shipped["version"], upstream=shipped["upstream"])
        fresh = snapshot.to_dict(r)
        fresh["origin"] = shipped["origin"]
        if fresh != shipped:
            differ.append(path.name)
    print(f"{len(pairs) - len(differ)} of {len(pairs)} shipped snapshots reproduced")
    assert differ == []


def test_every_shipped_release_is_hashable_and_equal_to_itself_reloaded() -> None:
    from cpudb.catalog import shipped_releases

    releases = shipped_releases()
    assert releases
    for r in releases:
        again = snapshot.loads(snapshot.dumps(r), name=f"{r.version}.json")
        assert again == r and hash(again) == hash(r), r.version
    assert len(set(releases)) == len({r.version for r in releases})


def test_feature_index_is_built_once_and_never_reaches_a_replaced_copy() -> None:
    from cpudb.catalog import nearest_release
    from cpudb.record import replace

    r = nearest_release("10.0.0")
    pdpe1gb = r.feature("pdpe1gb")
    assert pdpe1gb is not None and r._names() is r._names()
    fewer = replace(r, features=tuple(f for f in r.features if f.name != "pdpe1gb"))
    assert fewer.feature("pdpe1gb") is None and r.feature("pdpe1gb") is pdpe1gb
    assert replace(r) == r and hash(replace(r)) == hash(r) and repr(replace(r)) == repr(r)
    assert r.default_props("tcg") == (("vme", "off"),) and r.default_props("hvf") == ()
