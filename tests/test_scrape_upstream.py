"""`cpudb scrape qemu --tag` and `--list-tags`: upstream QEMU over HTTPS.

These run against recorded-shape responses of the upstream raw-file URLs and tags API
(mocked at the network edge with `responses`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import responses
from cpudb.scrapers import qemu_source as qs
from responses import matchers

from tests.scrape_run import (
    MANIFEST,
    assert_one_line_error,
    expected_json,
    nothing_written,
    read_json,
    run,
    texts,
)

# --------------------------------------------------------------------- --tag


def raw(tag: str, path: str) -> str:
    url: str = qs.UPSTREAM_RAW.format(ref=tag, path=path)
    return url


def register_release(rsps: responses.RequestsMock, tag: str, name: str) -> None:
    m = MANIFEST[name]
    c, h = texts(name)
    d = m["dir"]
    rsps.get(raw(tag, "VERSION"), body=m["version"] + "\n", content_type="text/plain")
    for other in qs.CPU_DIRS:
        if other != d:
            rsps.get(raw(tag, f"{other}/cpu.c"), status=404, body="404 page not found")
            if qs.CPU_DIRS.index(other) > qs.CPU_DIRS.index(d):
                continue
    rsps.get(raw(tag, f"{d}/cpu.c"), body=c, content_type="text/plain")
    rsps.get(raw(tag, f"{d}/cpu.h"), body=h, content_type="text/plain")
    for extra in qs.EXTRA_FILES:
        rsps.get(raw(tag, f"{d}/{extra}"), status=404, body="404 page not found")


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    c = tmp_path / "cache"
    monkeypatch.setenv("CPUDB_CACHE_DIR", str(c))
    return c


def test_https_tag_downloads_caches_and_scrapes(
    tmp_path: Path, cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        register_release(rsps, "v5.0.0", "era_h_5_0")
        rc, stdout, err = run(capsys, "qemu", "--tag", "v5.0.0", "--out", str(out))
        assert rc == 0, err
        fetched = [c.request.url for c in rsps.calls]
        assert fetched[0] == raw("v5.0.0", "VERSION")
        assert raw("v5.0.0", "target/i386/cpu.c") in fetched
        base = "https://gitlab.com/qemu-project/qemu/-/raw/v5.0.0/"
        assert all(u is not None and u.startswith(base) for u in fetched)

        assert read_json(out / "5.0.0.json") == expected_json("era_h_5_0")
        assert json.loads((out / "5.0.0.json").read_text())["origin"] == (
            "upstream tag v5.0.0 over HTTPS"
        )
        n = len(rsps.calls)
        # second run: everything (including the 404s) comes from the cache
        rc, _, err = run(capsys, "qemu", "--tag", "v5.0.0", "--json")
        assert rc == 0, err
        assert len(rsps.calls) == n
    assert (cache / "sources" / "v5.0.0" / "target/i386/cpu.c").is_file()
    assert not list(cache.rglob("*.part"))


def test_https_old_layout(tmp_path: Path, cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        register_release(rsps, "v2.8.0", "era_e_2_8")
        rc, stdout, err = run(capsys, "qemu", "--tag", "v2.8.0", "--json")
    assert rc == 0, err
    d = json.loads(stdout)
    d.pop("origin")
    assert d == expected_json("era_e_2_8")


def test_https_offline_is_one_clear_error(
    tmp_path: Path, cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    with responses.RequestsMock(assert_all_requests_are_fired=False):  # nothing answers
        rc, _, err = run(capsys, "qemu", "--tag", "v7.2.0", "--out", str(out))
    assert_one_line_error(rc, err, "cannot download", raw("v7.2.0", "VERSION"), "offline?")
    assert nothing_written(out)
    assert not list(cache.rglob("*.json"))


def test_https_unknown_tag_and_server_errors(
    tmp_path: Path, cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.get(raw("v9.9.9", "VERSION"), status=404, body="404 page not found")
        rc, _, err = run(capsys, "qemu", "--tag", "v9.9.9", "--out", str(out))
        assert_one_line_error(rc, err, "unknown tag 'v9.9.9'")
        rsps.get(raw("v8.0.0", "VERSION"), status=403, body="forbidden")
        rc, _, err = run(capsys, "qemu", "--tag", "v8.0.0", "--out", str(out))
        assert_one_line_error(rc, err, "HTTP 403", raw("v8.0.0", "VERSION"))
        rsps.get(raw("v8.1.0", "VERSION"), status=503, body="unavailable")  # retried, then:
        rc, _, err = run(capsys, "qemu", "--tag", "v8.1.0", "--out", str(out))
        assert_one_line_error(rc, err, "kept failing", raw("v8.1.0", "VERSION"))
        assert len([c for c in rsps.calls if "v8.1.0" in (c.request.url or "")]) == 4
    rc, _, err = run(capsys, "qemu", "--tag", "master", "--out", str(out))
    assert_one_line_error(rc, err, "not a QEMU release tag")
    assert nothing_written(out)


def test_https_truncated_download_is_a_parse_error(
    tmp_path: Path, cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    c, h = texts("era_g_4_1")
    out = tmp_path / "out"
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.get(raw("v4.1.0", "VERSION"), body="4.1.0\n")
        cut = c[: c.index('.alias = "Fixturewell-IBRS"')]
        rsps.get(raw("v4.1.0", "target/i386/cpu.c"), body=cut)
        rsps.get(raw("v4.1.0", "target/i386/cpu.h"), body=h)
        for extra in qs.EXTRA_FILES:
            rsps.get(raw("v4.1.0", f"target/i386/{extra}"), status=404)
        rc, _, err = run(capsys, "qemu", "--tag", "v4.1.0", "--out", str(out))
    assert_one_line_error(rc, err, "target/i386/cpu.c:", "truncated")
    assert nothing_written(out)


def _tag(name: str, i: int) -> dict[str, Any]:
    """One entry in the shape of GitLab's /repository/tags API."""
    sha = f"{i:040x}"
    return {
        "name": name,
        "message": f"{name} release",
        "target": sha,
        "commit": {"id": sha, "short_id": sha[:8], "title": f"Update version for {name} release",
                   "created_at": "2022-12-14T18:00:00.000+00:00", "parent_ids": []},
        "release": None,
        "protected": False,
    }  # fmt: skip


def test_list_tags_pages_and_filters(capsys: pytest.CaptureFixture[str], cache: Path) -> None:
    page1 = [_tag(f"v1.{i}.0", i) for i in range(98)] + [_tag("v7.2.0", 98), _tag("v7.2.0-rc4", 99)]
    page2 = [_tag("v10.2.0", 100), _tag("v2.12.1", 101), _tag("stable-2.12", 102)]
    with responses.RequestsMock() as rsps:
        q = matchers.query_param_matcher
        rsps.get(qs.UPSTREAM_TAGS, json=page1, match=[q({"per_page": "100", "page": "1"})])
        rsps.get(qs.UPSTREAM_TAGS, json=page2, match=[q({"per_page": "100", "page": "2"})])
        rc, stdout, err = run(capsys, "qemu", "--list-tags")
    assert rc == 0, err
    tags = stdout.split()
    assert len(tags) == 98 + 3
    assert tags[-3:] == ["v2.12.1", "v7.2.0", "v10.2.0"]  # version order, not text order
    assert "v7.2.0-rc4" not in tags and "stable-2.12" not in tags


def test_list_tags_offline(capsys: pytest.CaptureFixture[str], cache: Path) -> None:
    with responses.RequestsMock(assert_all_requests_are_fired=False):
        rc, _, err = run(capsys, "qemu", "--list-tags")
    assert_one_line_error(rc, err, "cannot list upstream tags", "offline?")
