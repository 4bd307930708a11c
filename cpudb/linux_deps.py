"""Linux's CPUID dependency rows (data/linux-cpuid-deps.json) as (feature location,
location it requires) pairs, for `cpudb.decide.deps.Deps`. Read once per process."""

from __future__ import annotations

import json
from functools import cache

FILE = "linux-cpuid-deps.json"


@cache
def pairs() -> tuple[tuple[str, str], ...]:
    """Every row of the shipped table; () when the file is absent (a partial install)."""
    from cpudb.paths import shipped_data_dir

    p = shipped_data_dir() / FILE
    if not p.exists():
        return ()
    doc = json.loads(p.read_text(encoding="utf-8"))
    return tuple((d["feature"], d["requires"]) for d in doc["deps"])
