#!/usr/bin/env python3
"""Fleets (issue 14.5): `cpudb pools` and `cpudb baseline` over 16, 1,000 and 10,000
hosts. Goal: 1,000 hosts cost no more than 3x 16 (identical CPUs are decided once), and
10,000 hosts take a few seconds.

  16 hosts      16 distinct `cpuid -r` dumps of real CPUs (../shared/hosts)
  1000 hosts    1,000 dump files, copies of the 18 real CPUs (a fleet of 18 kinds)
  10000 hosts   one `kubectl get nodes -o json` of 10,000 KubeVirt nodes, 3 kinds
  73 distinct   the 57 catalogued real CPUs and the 16+ dumps: many kinds, few copies
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from huge_input import measure as _measure  # noqa: E402


def measure(argv: list[str]) -> tuple[float, float, int, str]:
    """Wall seconds, this child's own peak RSS in MB (GNU time when present: ru_maxrss of
    RUSAGE_CHILDREN is the largest child so far), exit status, first line said."""
    import shutil as sh

    gnu = sh.which("time") and Path("/usr/bin/time").exists()
    if not gnu:
        return _measure(argv)
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as out:
        wall, _, code, said = _measure(["/usr/bin/time", "-f", "%M", "-o", out.name, *argv])
        rss = int(out.read().strip().splitlines()[-1]) / 1024
    return wall, rss, code, said


REPO = Path(__file__).resolve().parent.parent
HOSTS = REPO.parent / "shared" / "hosts"
NODES = REPO / "tests" / "fixtures" / "hostfiles" / "kubevirt-nodes.json"


def make(d: Path) -> dict[str, list[str]]:
    dumps = sorted(HOSTS.glob("*.cpuid"))
    if len(dumps) < 16:
        sys.exit(f"need the real dumps of {HOSTS} (see ../shared/qemu-sources.md)")
    many = d / "many"
    many.mkdir()
    for i in range(1000):
        shutil.copy(dumps[i % len(dumps)], many / f"host{i:04}.cpuid")
    nodes = json.loads(NODES.read_text())
    kinds = [
        n for n in nodes["items"] if "labels" in n["metadata"] and len(n["metadata"]["labels"]) > 3
    ]
    items = []
    for i in range(10000):
        n = json.loads(json.dumps(kinds[i % len(kinds)]))
        n["metadata"]["name"] = f"node{i:05}"
        items.append(n)
    big = d / "nodes-10000.json"
    big.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))
    from cpudb import cpus

    return {
        "73 distinct": [e["name"] for e in cpus.entries()] + [str(p) for p in dumps],
        "16": [str(p) for p in dumps[:16]],
        "1000": sorted(str(p) for p in many.iterdir()),
        "10000": [str(big)],
    }


def main() -> None:
    cpudb = [sys.executable, "-m", "cpudb"]
    with tempfile.TemporaryDirectory() as tmp:
        sets = make(Path(tmp))
        measure([*cpudb, "versions"])  # a database (re)build is not the fleet's cost
        print(f"{'command':<22} {'wall s':>7} {'peak MB':>8} {'exit':>4}  says")
        # (peak MB: that command's own resident peak)
        walls: dict[tuple[str, str], float] = {}
        for cmd in ("pools", "baseline"):
            for n, files in sets.items():
                argv = [*cpudb, cmd, *files]
                if cmd == "baseline":
                    argv.append("--cross-vendor")  # the 16 and 1000 mix vendors
                wall, rss, code, said = measure(argv)
                walls[(cmd, n)] = wall
                label = f"{cmd} {n}" + ("" if "distinct" in n else " hosts")
                print(f"{label:<22} {wall:7.2f} {rss:8.0f} {code:>4}  {said[:60]}")
        for cmd in ("pools", "baseline"):
            r = walls[(cmd, "1000")] / walls[(cmd, "16")]
            print(f"{cmd}: 1000 hosts / 16 hosts = {r:.2f}x (goal <= 3x)")


if __name__ == "__main__":
    main()
