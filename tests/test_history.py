"""`cpudb history`: timelines over the shipped releases, gaps, downstream branches, CLI."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cpudb.cli import main
from cpudb.history import Event, History, cpu_history, feature_history, gaps
from cpudb.model import Release
from cpudb.names import FeatureNames
from cpudb.query import Db
from cpudb.versions import version_key

REPO = Path(__file__).resolve().parent.parent


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def upstream(db: Db) -> list[Release]:
    return [r for r in db.releases() if r.upstream]


def without(db: Db, *versions: str) -> list[Release]:
    return [r for r in db.releases() if r.version not in versions]


def events(h: History, version: str) -> dict[str, list[Event]]:
    step = next(s for s in h.steps if s.version == version)
    out: dict[str, list[Event]] = {}
    for e in step.events:
        out.setdefault(e.kind, []).append(e)
    return out


# ------------------------------------------------------------------ gaps


def test_a_missing_release_is_a_gap_not_skipped(db: Db) -> None:
    rels = without(db, "4.2.0")
    assert "4.2.0" in gaps(rels)
    h = cpu_history(rels, "Cascadelake-Server")
    order = [s.version for s in h.steps]
    i = order.index("4.2.0")
    assert order[i - 1] == "4.1.0" and order[i + 1] == "5.0.0"
    assert h.steps[i].gap and not h.steps[i].present
    assert h.steps[i + 1].since == "4.1.0"  # 5.0 is compared with 4.1, across the gap


def test_gap_rules(db: Db) -> None:
    rels = db.releases()
    present = {tuple(version_key(r.version)[0][:2]) for r in rels if r.upstream}
    for g in gaps(rels):  # whatever the shipped data holds: gaps are really absent
        assert tuple(version_key(g)[0][:2]) not in present
    # a point release covers its series; the last minor of a major is expected too
    assert "10.0.0" not in gaps(without(db, "10.0.0", "10.0.2"))
    assert "9.2.0" in gaps(without(db, "9.2.0", "9.2.4"))
    assert "3.1.0" in gaps(without(db, "3.1.0"))
    # nothing before the first or after the last upstream release
    assert gaps(without(db, "1.1.0", "1.2.0")) == gaps(rels)
    # a downstream build does not fill an upstream gap, but the note says it exists
    rels = without(db, "8.1.0")
    assert "8.1.0" in gaps(rels)
    step = next(s for s in cpu_history(rels, "Haswell").steps if s.version == "8.1.0")
    assert step.gap and "8.1.0-rhel" in (step.note or "")


def test_gap_shown_by_the_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    (data / "qemu").mkdir(parents=True)
    for v in ("4.0.0", "4.1.0", "5.0.0"):
        shutil.copy(REPO / "data" / "qemu" / f"{v}.json", data / "qemu")
    monkeypatch.setenv("CPUDB_DATA_DIR", str(data))
    db = str(tmp_path / "db.sqlite")
    code, out, _ = run_cli(capsys, "--db", db, "history", "Icelake-Server", "--color", "never")
    assert code == 0
    assert "missing from the database: 4.2.0" in out
    assert [ln.split()[:2] for ln in out.splitlines() if "gap:" in ln] == [["4.2.0", "gap:"]]
    code, out, _ = run_cli(capsys, "--db", db, "history", "Icelake-Server", "--json")
    doc = json.loads(out)
    assert doc["gaps"] == ["4.2.0"]
    assert [s["version"] for s in doc["timeline"]] == ["4.0.0", "4.1.0", "4.2.0", "5.0.0"]


# ------------------------------------------------------------------ CPU names


def test_skylake_server_timeline(db: Db) -> None:
    h = cpu_history(db.releases(), "Skylake-Server")
    first = next(s for s in h.steps if s.present)
    assert first.version == "2.10.0" and first.label == "model"
    assert [e.kind for e in first.events] == ["appeared"]
    assert [r.name for r in events(h, "4.0.0")["features"][0].removed] == ["mpx"]
    assert [r.name for r in events(h, "3.1.0")["features"][0].added] == ["pku"]
    ev = events(h, "4.1.0")
    assert "became versioned" in ev["nature"][0].message
    assert ev["versions"][0].names == ("Skylake-Server-v1", "Skylake-Server-v2")
    assert events(h, "4.2.0")["versions"][0].names == ("Skylake-Server-v3",)


def test_icelake_client_deprecated_then_removed(db: Db) -> None:
    h = cpu_history(db.releases(), "icelake-client")  # any case
    assert h.subject == "Icelake-Client"
    assert "use Icelake-Server instead" in events(h, "5.2.0")["deprecated"][0].message
    assert "removed" in events(h, "7.1.0")
    assert not any(s.present for s in h.steps if version_key(s.version) >= version_key("7.1.0"))


def _locs(rel: Release, names: Iterable[str], leaves: set[int]) -> set[str]:
    fn = FeatureNames(rel)
    out = set()
    for n in names:
        p = fn.lookup(n).location.split(".")
        if p[0] == "cpuid" and len(p) == 4 and int(p[1], 16) in leaves:
            p.insert(2, "0")
        out.add(".".join(p))
    return out


def test_feature_events_replay_to_the_matrix(db: Db) -> None:
    """Property: for any CPU name, applying each release's +/- to the previous release's
    features (by location) gives exactly that release's features."""
    rels = upstream(db)
    leaves = {w.leaf for r in rels for w in r.words if w.subleaf is not None and w.leaf is not None}
    names = sorted({c.name for r in rels for c in r.cpus})

    @settings(max_examples=60, deadline=None)
    @given(st.sampled_from(names))
    def check(name: str) -> None:
        h = cpu_history(rels, name)
        have: set[str] | None = None
        for rel, step in zip(rels, [s for s in h.steps if not s.gap], strict=True):
            assert step.version == rel.version
            cpu = rel.cpu(name)
            assert step.present == (cpu is not None)
            if cpu is None:
                have = None
                continue
            now = _locs(rel, cpu.features, leaves)
            if have is not None:
                for e in step.events:
                    have |= {r.location for r in e.added}
                    have -= {r.location for r in e.removed}
                assert have == now, rel.version
            have = now

    check()


# ------------------------------------------------------------------ features


def test_hle_in_the_skylake_server_family(db: Db) -> None:
    rels = upstream(db)
    h = feature_history(rels, "cpuid.0x7.0.ebx.4", model="Skylake-Server")
    assert h.subject == "hle"
    assert {"Skylake-Server", "Skylake-Server-IBRS", "Skylake-Server-v3"} <= set(h.family)
    assert "Skylake-Client" not in h.family
    for rel, step in zip(rels, [s for s in h.steps if not s.gap], strict=True):
        want = {c.name for c in rel.cpus if c.name in h.family and "hle" in c.features}
        assert set(step.have) == want, rel.version
    ev = events(h, "4.2.0")
    assert "Skylake-Server-v3" in ev["new_without"][0].names


def test_feature_rename_is_an_event_not_a_loss(db: Db) -> None:
    h = feature_history(upstream(db), "cpuid.0x80000001.edx.25")
    ev = events(h, "2.8.0")
    assert ev["renamed"][0].message.startswith("renamed fxsr_opt -> fxsr-opt")
    assert "lost" not in ev and "gained" not in ev
    assert next(s for s in h.steps if s.version == "2.7.0").label == "fxsr_opt"


# ------------------------------------------------------------------ downstream


def test_downstream_releases_are_branches(db: Db) -> None:
    rels = db.releases()
    down = [r.version for r in rels if not r.upstream]
    assert down  # the shipped data has at least one (8.1.0-rhel)
    plain = cpu_history(rels, "EPYC")
    assert not [s for s in plain.steps if not s.upstream]
    h = cpu_history(rels, "EPYC", downstream=True)
    for v in down:
        step = next(s for s in h.steps if s.version == v)
        assert not step.upstream
        base = max(
            (
                r.version
                for r in rels
                if r.upstream and version_key(r.version)[0] <= version_key(v)[0]
            ),
            key=version_key,
        )
        assert step.since == base

    # the upstream chain is the same with or without branches
    def chain(x: History) -> list[tuple[str, str | None, tuple[Event, ...]]]:

        return [(s.version, s.since, s.events) for s in x.steps if s.upstream]

    assert chain(h) == chain(plain)


# ------------------------------------------------------------------ CLI


def test_cli_history_json_and_markdown(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(
        capsys, "history", "--feature", "pdpe1gb", "--model", "Haswell", "--json"
    )
    assert code == 0
    doc = json.loads(out)
    assert doc["what"] == "feature" and doc["location"] == "cpuid.0x80000001.edx.26"
    assert doc["cpuid"] == "CPUID.80000001H:EDX[26]"
    assert doc["family"][0] == "Haswell"
    assert all({"version", "gap"} <= s.keys() for s in doc["timeline"])
    code, out, _ = run_cli(capsys, "history", "Haswell", "--feature", "0x80000001.edx.26", "--json")
    assert json.loads(out)["model"] == "Haswell"
    code, out, _ = run_cli(capsys, "history", "Haswell-IBRS", "--markdown")
    assert out.startswith("## Haswell-IBRS: history over")
    assert "| 4.1.0 | full model became alias of Haswell-v3 |" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["history"], "give a CPU name or --feature F"),
        (["history", "Haswel"], "no release in the database has a CPU model 'Haswel'"),
        (["history", "--feature", "nosuchflag"], "no release in the database has a feature"),
        (["history", "--model", "Haswell"], "--model goes with --feature"),
        (["history", "EPYC", "--feature", "hle", "--model", "Haswell"], "two CPU names given"),
    ],
)
def test_history_bad_arguments(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, out, err = run_cli(capsys, *argv)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and message in err and "hint:" in err
