"""`cpudb diff`: the issue's evidence on the shipped releases, and the CLI edge."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterable
from typing import Any

import pytest

from cpudb.cli import main
from cpudb.diff import diff_cpus, diff_releases
from cpudb.locations import describe_location
from cpudb.model import Release
from cpudb.names import FeatureNames
from cpudb.query import Db
from cpudb.versions import version_key
from tests.conftest import cpu_named

SIBLING = re.compile(r"-(IBRS|noTSX|IBPB)")


def run_cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def locations(rel: Release, names: Iterable[str]) -> dict[str, str]:
    """location -> name, through the name-lookup module (not the diff's own catalogue)."""
    fn = FeatureNames(rel)
    return {fn.lookup(n).location: n for n in names}


# ------------------------------------------------------------------ 4.0 -> 4.1


def test_4_0_to_4_1_siblings_became_aliases_not_removed(db: Db) -> None:
    old, new = db.release("4.0.0"), db.release("4.1.0")
    siblings = [c.name for c in old.cpus if SIBLING.search(c.name)]
    assert len(siblings) == 13  # Nehalem-IBRS ... Skylake-Server-IBRS, EPYC-IBPB
    d = diff_releases(old, new)
    nature = {n.name: n for n in d.nature}
    for name in siblings:
        assert name not in d.removed
        n = nature[name]
        assert (n.old_kind, n.new_kind) == ("model", "alias")
        assert n.new_alias_of is not None
        target = new.cpu(n.new_alias_of)
        assert target is not None and target.kind == "version"
        assert re.fullmatch(re.escape(target.model) + r"-v\d+", target.name)
    assert nature["Haswell-noTSX-IBRS"].new_alias_of == "Haswell-v4"
    assert nature["EPYC-IBPB"].new_alias_of == "EPYC-v2"
    # the plain names became the bare name of -v1
    assert (nature["Haswell"].new_kind, nature["Haswell"].new_alias_of) == ("bare", "Haswell-v1")
    assert d.removed == ()


def test_4_0_to_4_1_cli_text_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "diff", "--qemu", "4.0", "4.1", "--json")
    assert code == 0
    doc = json.loads(out)
    assert (doc["from"], doc["to"]) == ("4.0.0", "4.1.0")
    assert {"added", "removed", "changed", "renamed"} <= doc.keys()
    row = next(r for r in doc["nature_changed"] if r["name"] == "Skylake-Server-IBRS")
    assert row == {
        "name": "Skylake-Server-IBRS",
        "from": "model",
        "to": "alias",
        "from_alias_of": None,
        "alias_of": "Skylake-Server-v2",
    }
    code, out, _ = run_cli(capsys, "diff", "--qemu", "4.0", "4.1", "--color", "never")
    assert "Skylake-Server-IBRS" in out and "alias of Skylake-Server-v2" in out
    assert "\x1b[" not in out


# ------------------------------------------------------------------ 2.7 -> 2.8


def test_2_7_to_2_8_renames_are_not_feature_changes(db: Db) -> None:
    old, new = db.release("2.7.0"), db.release("2.8.0")
    d = diff_releases(old, new)
    pairs = {(r.old, r.new) for r in d.renamed}
    assert {("fxsr_opt", "fxsr-opt"), ("lahf_lm", "lahf-lm"), ("ds_cpl", "ds-cpl")} <= pairs
    assert len(d.renamed) == 19
    for r in d.renamed:
        assert FeatureNames(old).lookup(r.old).location == r.location
        assert FeatureNames(new).lookup(r.new).location == r.location
    # A name-based comparison would report changes: the models list the old spellings.
    haswell_old = cpu_named(old, "Haswell").features
    haswell_new = cpu_named(new, "Haswell").features
    assert "lahf_lm" in haswell_old and "lahf-lm" in haswell_new
    assert haswell_old != haswell_new
    unmoved = [
        c.name
        for c in old.cpus
        if (nc := new.cpu(c.name)) is not None
        and set(locations(old, c.features)) == set(locations(new, nc.features))
    ]
    assert "Haswell" in unmoved and "phenom" in unmoved
    changed = {c.name for c in d.changed}
    assert not changed & set(unmoved)
    assert d.added == d.removed == () and d.nature == ()


def test_cross_release_cpu_diff_lists_renames_apart(db: Db) -> None:
    c = diff_cpus(db.release("2.7.0"), "phenom", db.release("2.8.0"), "phenom")
    assert c.only_in_first == c.only_in_second == ()
    assert ("fxsr_opt", "fxsr-opt") in {(r.old, r.new) for r in c.renamed}
    assert "fxsr-opt" in {r.name for r in c.common}


# ------------------------------------------------------------------ property: every pair


def _pairs() -> list[tuple[str, str]]:
    from cpudb.catalog import snapshot_files

    versions = sorted((p.stem for p, _ in snapshot_files(user=False)), key=version_key)
    return list(zip(versions, versions[1:], strict=False))


def _models_json(capsys: pytest.CaptureFixture[str], version: str) -> dict[str, dict[str, Any]]:
    code, out, err = run_cli(capsys, "models", "--qemu", version, "--json")
    assert code == 0, err
    return {m["name"]: m for m in json.loads(out)["models"]}


def _norm(loc: str, leaves: set[int]) -> str:
    p = loc.split(".")
    if p[0] == "cpuid" and len(p) == 4 and int(p[1], 16) in leaves:
        return f"{p[0]}.{p[1]}.0.{p[2]}.{p[3]}"
    return loc


@pytest.mark.parametrize(("a", "b"), _pairs())
def test_neighbouring_releases_agree_with_models_json(
    db: Db, capsys: pytest.CaptureFixture[str], a: str, b: str
) -> None:
    """`cpudb diff --qemu A B --json` == comparing `cpudb models --json` of A and B by bit."""
    pytest.importorskip("cpudb.commands.models")
    ra, rb = db.release(a), db.release(b)
    ma, mb = _models_json(capsys, a), _models_json(capsys, b)
    code, out, err = run_cli(capsys, "diff", "--qemu", a, b, "--json")
    assert code == 0, err
    d = json.loads(out)
    assert (d["from"], d["to"]) == (a, b)
    assert set(d["added"]) == mb.keys() - ma.keys()
    assert set(d["removed"]) == ma.keys() - mb.keys()
    leaves = {
        w.leaf for r in (ra, rb) for w in r.words if w.subleaf is not None and w.leaf is not None
    }
    fa, fb = FeatureNames(ra), FeatureNames(rb)
    expect: dict[str, dict[str, set[str]]] = {}
    for name in ma.keys() & mb.keys():
        la = {_norm(fa.lookup(f).location, leaves): f for f in ma[name]["features"]}
        lb = {_norm(fb.lookup(f).location, leaves): f for f in mb[name]["features"]}
        if la.keys() != lb.keys():
            expect[name] = {
                "added": {lb[k] for k in lb.keys() - la.keys()},
                "removed": {la[k] for k in la.keys() - lb.keys()},
            }
    got = {n: {k: set(v) for k, v in c.items()} for n, c in d["changed"].items()}
    assert got == expect
    kinds = {n for n in ma.keys() & mb.keys() if ma[n]["kind"] != mb[n]["kind"]}
    assert {r["name"] for r in d["nature_changed"]} == kinds
    for r in d["renamed"]:
        assert r["from"] != r["to"]
        assert _norm(fa.lookup(r["from"]).location, leaves) == r["location"]
        assert _norm(fb.lookup(r["to"]).location, leaves) == r["location"]
    for name, loc in d["locations"].items():
        assert describe_location(loc).startswith(("CPUID.", "MSR ")), name


def test_filtered_release_diff_is_the_full_diff_restricted(db: Db) -> None:
    from hypothesis import given, settings
    from hypothesis import strategies as st

    rels = db.releases()

    @settings(max_examples=40, deadline=None)
    @given(st.data())
    def check(data: st.DataObject) -> None:
        i = data.draw(st.integers(0, len(rels) - 1))
        j = data.draw(st.integers(0, len(rels) - 1))
        old, new = rels[i], rels[j]
        pool = sorted({c.name for c in (*old.cpus, *new.cpus)})
        names = data.draw(st.lists(st.sampled_from(pool), min_size=1, max_size=6, unique=True))
        full, part = diff_releases(old, new), diff_releases(old, new, names)
        keep = set(names)
        assert part.added == tuple(n for n in full.added if n in keep)
        assert part.removed == tuple(n for n in full.removed if n in keep)
        assert part.changed == tuple(c for c in full.changed if c.name in keep)
        assert part.nature == tuple(n for n in full.nature if n.name in keep)
        assert set(part.renamed) <= set(full.renamed)
        # diff of a release with itself is empty
        assert diff_releases(old, old).empty

    check()


# ------------------------------------------------------------------ CPU names


def test_cpu_diff_in_one_release_is_set_difference(db: Db) -> None:
    rel = db.release("7.2.0")
    c = diff_cpus(rel, "Haswell", rel, "Broadwell")
    h, b = cpu_named(rel, "Haswell").features, cpu_named(rel, "Broadwell").features
    assert {r.name for r in c.only_in_first} == h - b
    assert {r.name for r in c.only_in_second} == b - h
    assert {r.name for r in c.common} == h & b
    assert {"adx", "rdseed", "smap"} <= b - h
    assert c.renamed == ()


def test_cascadelake_v1_vs_v5(db: Db, capsys: pytest.CaptureFixture[str]) -> None:
    rel = db.release()
    code, out, _ = run_cli(
        capsys, "diff", "Cascadelake-Server-v1", "Cascadelake-Server-v5", "--json"
    )
    assert code == 0
    d = json.loads(out)
    v1 = cpu_named(rel, "Cascadelake-Server-v1").features
    v5 = cpu_named(rel, "Cascadelake-Server-v5").features

    assert set(d["only_in_first"]) == v1 - v5
    assert set(d["only_in_second"]) == v5 - v1
    assert set(d["common"]) == v1 & v5
    assert {"hle", "rtm"} <= set(d["only_in_first"])  # v5 is a "no TSX" version
    assert d["first"]["qemu"] == d["second"]["qemu"] == rel.version
    assert d["locations"]["hle"] == "cpuid.0x7.0.ebx.4"


def test_skylake_server_across_releases(db: Db, capsys: pytest.CaptureFixture[str]) -> None:
    """QEMU 3.1 added pku to Skylake-Server, 4.0 removed mpx from the models."""
    code, out, _ = run_cli(capsys, "diff", "Skylake-Server@2.12", "Skylake-Server@9.2", "--json")
    assert code == 0
    d = json.loads(out)
    assert d["only_in_first"] == ["mpx"] and d["only_in_second"] == ["pku"]
    assert (d["first"]["kind"], d["second"]["kind"]) == ("model", "bare")
    assert d["second"]["alias_of"] == "Skylake-Server-v1"


def test_leaf7_without_subleaf_in_1_4_is_the_same_bit(db: Db) -> None:
    """QEMU 1.4 declares leaf 7 without needs_ecx; it is still CPUID.07H.0."""
    d = diff_releases(db.release("1.3.0"), db.release("1.4.0"))
    assert not [r for r in d.features_dropped if r.name in ("fsgsbase", "bmi1", "hle")]
    c = diff_cpus(db.release("1.4.0"), "Haswell", db.release("1.5.0"), "Haswell")
    assert c.only_in_first == c.only_in_second == ()


# ------------------------------------------------------------------ CLI edge


def test_markdown_and_colour(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = run_cli(capsys, "diff", "--qemu", "2.7", "2.8", "--markdown")
    assert code == 0
    assert out.startswith("## QEMU 2.7.0 → 2.8.0")
    assert "| CPUID.80000001H:EDX[25] | `fxsr_opt` | `fxsr-opt` |" in out
    code, out, _ = run_cli(capsys, "diff", "--qemu", "6.2", "7.0", "--color", "always")
    assert "\x1b[32m+ amx-tile" in out
    monkeypatch.setenv("NO_COLOR", "1")
    code, out, _ = run_cli(capsys, "diff", "--qemu", "6.2", "7.0")
    assert "\x1b[" not in out and "+ amx-tile" in out


def test_names_after_qemu_limit_the_release_diff(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(
        capsys, "diff", "--qemu", "3.1", "4.0", "Skylake-Server", "486", "--json"
    )
    assert code == 0
    d = json.loads(out)
    assert d["names"] == ["486", "Skylake-Server"]
    assert d["changed"] == {"Skylake-Server": {"added": [], "removed": ["mpx"]}}
    code, out, _ = run_cli(capsys, "diff", "3.1", "4.0", "--json")
    assert json.loads(out)["names"] is None


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["diff"], "two releases (--qemu A B) or two CPU names"),
        (["diff", "--qemu", "7.2"], "got 0 CPU name(s) and release 7.2"),
        (["diff", "--qemu", "7.2", "8.2", "9.0"], "at most two releases"),
        (["diff", "--qemu", "4.0", "99.1"], "unknown QEMU release '99.1'"),
        (["diff", "Haswel", "Broadwell"], "has no CPU model 'Haswel'"),
        (["diff", "--qemu", "4.0", "4.1", "Haswel"], "'Haswel'"),
        (["diff", "Haswell@", "Broadwell"], "expected NAME@RELEASE"),
        (["diff", "--qemu", "4.0", "4.1", "Haswell@4.0"], "NAME@RELEASE compares two CPU names"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, out, err = run_cli(capsys, *argv)
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1 and message in err and "hint:" in err


def test_diff_does_not_import_heavy_modules() -> None:
    code = (
        "import sys, io, contextlib\n"
        "from cpudb.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['diff', '--qemu', '7.2', '8.2'])\n"
        "heavy = {'rich', 'textual', 'requests', 'bs4', 'sqlite_utils'}\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_compare_side_is_a_name_a_name_at_a_release_or_libvirts_model(db: Db) -> None:
    """One parser of NAME@RELEASE for `cpudb diff` and the TUI's compare screen; a
    libvirt model is set against the other side's release, as the CLI does it."""
    from cpudb.app.compare import SideSpec, compare_cpus, parse_side
    from cpudb.errors import CpudbError

    assert parse_side(" Haswell ") == SideSpec("Haswell")
    assert parse_side("Haswell@7.2") == SideSpec("Haswell", "7.2")
    libvirt = parse_side("Skylake-Server@libvirt-9.0")
    assert libvirt == SideSpec("Skylake-Server", None, "9.0")
    for bad, why in (("@7.2", "no CPU name"), ("Haswell@", "expected NAME@RELEASE")):
        with pytest.raises(CpudbError, match=why):
            parse_side(bad)
    d = compare_cpus(db, libvirt, parse_side("Skylake-Server-v1@7.2"))
    assert d.first.version == d.second.version == db.release("7.2").version
    assert d.first.name == "Skylake-Server@libvirt-9.0.0" and d.second.name == "Skylake-Server-v1"
