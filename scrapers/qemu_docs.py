"""QEMU's recommended x86 CPU flags per vendor, from its documentation.

QEMU's "QEMU / KVM CPU model configuration" page has two lists, "Important CPU
features for Intel x86 hosts" and "... for AMD x86 hosts" (`pcid`, `spec-ctrl`, `ssbd`,
`md-clear`, `pdpe1gb`, `ibpb`, `virt-ssbd`, `amd-ssbd`, ...). This reads them from
  - a source tree or tarball: `docs/system/cpu-models-x86.rst.inc` (5.0+) or
    `docs/qemu-cpu-models.texi` (3.1-4.2);
  - the HTML page of the docs (beautifulsoup4), e.g. Debian's
    /usr/share/doc/qemu-system-common/system/qemu-cpu-models.html or a URL;
and writes `data/qemu-recommended-flags.json`:

    {"source": "...", "releases": {"7.2.0": {"source": "...", "vendors": {
        "intel": [{"name": "pcid", "summary": "Recommended to mitigate ..."}, ...],
        "amd": [...]}}}}

    python -m cpudb.scrapers.qemu_docs --source ~/qemu-src/7.2.0 ... --out data/
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from cpudb.errors import ParseError, SourceError
from cpudb.record import Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

RST_PATH = "docs/system/cpu-models-x86.rst.inc"
TEXI_PATH = "docs/qemu-cpu-models.texi"
HTML_URL = "https://qemu.readthedocs.io/en/v{version}/system/qemu-cpu-models.html"
HTML_URL_MASTER = "https://www.qemu.org/docs/master/system/qemu-cpu-models.html"
VENDORS = ("intel", "amd")
_QUOTES = {0x2018: "'", 0x2019: "'", 0x201C: '"', 0x201D: '"'}  # HTML smartquotes
_TITLE = re.compile(r"important cpu features for (intel|amd) x86 hosts", re.I)
_EXCLUSIVE = re.compile(r"mutually\s+exclusive\s+with\s+`*([\w.-]+)`*\s+and\s+`*([\w.-]+)`*", re.I)


class Recommendation(Record):
    name: str
    summary: str  # the first paragraph of QEMU's text
    excludes: tuple[str, ...] = ()  # "mutually exclusive with ..."

    def to_json(self) -> dict[str, object]:
        d: dict[str, object] = {"name": self.name, "summary": self.summary}
        if self.excludes:
            d["excludes"] = list(self.excludes)
        return d


Recommended = dict[str, tuple[Recommendation, ...]]  # vendor -> flags, in the docs' order


def _clean(text: str) -> str:
    """One line of plain text from rst/texi/HTML text (same result for all three)."""
    text = re.sub(r"`([^`<]*?)\s*<[^>]*>`_+", r"\1", text)  # rst links: `text <url>`_
    text = text.translate(_QUOTES)
    text = re.sub(
        r"@code\{([^}]*)\}|``([^`]*)``|\*([^*]+)\*",
        lambda m: next(g for g in m.groups() if g is not None),
        text,
    )
    return re.sub(r"\s+([.,;:)])", r"\1", " ".join(text.split()))


def _make(name: str, paragraphs: list[str]) -> Recommendation:
    body = " ".join(paragraphs)
    m = _EXCLUSIVE.search(_clean(body))
    return Recommendation(
        name=name,
        summary=_clean(paragraphs[0]) if paragraphs else "",
        excludes=tuple(g.rstrip(".") for g in m.groups()) if m else (),
    )


def _paragraphs(lines: list[str]) -> list[str]:
    out: list[str] = []
    cur: list[str] = []
    for line in [*lines, ""]:
        if line.strip():
            cur.append(line.strip())
        elif cur:
            out.append(" ".join(cur))
            cur = []
    return out


def _check(found: dict[str, list[Recommendation]], file: str) -> Recommended:
    missing = [v for v in VENDORS if not found.get(v)]
    if missing:
        title = {"intel": "Intel", "amd": "AMD"}[missing[0]]
        raise ParseError(
            f"no 'Important CPU features for {title} x86 hosts' list",
            file=file,
            hint="is this QEMU's x86 CPU model documentation (3.1+)?",
        )
    return {v: tuple(found[v]) for v in VENDORS}


def parse_rst(text: str, *, file: str = RST_PATH) -> Recommended:
    """cpu-models-x86.rst.inc -> vendor -> recommended flags. Pure."""
    lines = text.splitlines()
    underline = re.compile(r"^([=^~\-\"'#*+])\1{3,}\s*$")
    found: dict[str, list[Recommendation]] = {}
    vendor: str | None = None
    term: str | None = None
    body: list[str] = []

    def flush() -> None:
        if vendor and term:
            found[vendor].append(_make(term, _paragraphs(body)))

    for i, line in enumerate(lines):
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if line.strip() and underline.match(nxt) and not line.startswith(" "):
            flush()
            term, body = None, []
            m = _TITLE.search(line)
            vendor = m.group(1).lower() if m else None
            if vendor:
                found[vendor] = []
            continue
        if vendor is None:
            continue
        m = re.fullmatch(r"``([\w.-]+)``\s*", line)
        if m:
            flush()
            term, body = m.group(1), []
        elif term and (line.startswith((" ", "\t")) or not line.strip()):
            body.append(line)
        elif term and line.strip() and not underline.match(line):
            flush()  # text at column 0 ends the definition list
            term, body = None, []
    flush()
    return _check(found, file)


def parse_texi(text: str, *, file: str = TEXI_PATH) -> Recommended:
    """qemu-cpu-models.texi (QEMU 3.1-4.2) -> vendor -> recommended flags. Pure."""
    found: dict[str, list[Recommendation]] = {}
    vendor: str | None = None
    term: str | None = None
    body: list[str] = []
    for line in text.splitlines():
        s = line.strip()
        if s.startswith("@node "):
            if vendor and term:
                found[vendor].append(_make(term, _paragraphs(body)))
            m = re.fullmatch(r"@node important_cpu_features_(intel|amd)_x86", s)
            vendor, term, body = (m.group(1) if m else None), None, []
            if vendor:
                found[vendor] = []
            continue
        if vendor is None:
            continue
        m = re.fullmatch(r"@item @code\{([\w.-]+)\}", s)
        if m or s == "@end table":
            if term:
                found[vendor].append(_make(term, _paragraphs(body)))
            term, body = (m.group(1) if m else None), []
            if not m:
                vendor = None
        elif term and not s.startswith("@"):
            body.append(line)
    return _check(found, file)


def parse_html(html: str | bytes, *, file: str = "qemu-cpu-models.html") -> Recommended:
    """The Sphinx HTML page of QEMU's CPU model docs -> vendor -> flags (beautifulsoup4)."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    found: dict[str, list[Recommendation]] = {}
    for heading in soup.find_all(re.compile(r"^h[1-6]$")):
        m = _TITLE.search(heading.get_text(" ", strip=True))
        if not m:
            continue
        vendor = m.group(1).lower()
        # Sphinx wraps each heading and its content in <section> (<div class="section">
        # with older docutils); the first definition list in it is the flag list.
        container = heading.find_parent(["section", "div"]) or heading.parent
        dl = container.find("dl") if container else None
        if dl is None:
            raise ParseError(f"{heading.get_text(strip=True)!r} has no definition list", file=file)
        items: list[Recommendation] = []
        for dt in dl.find_all("dt", recursive=False):
            dd = dt.find_next_sibling("dd")
            paragraphs = [p.get_text(" ", strip=True) for p in dd.find_all("p")] if dd else []
            items.append(_make(dt.get_text("", strip=True), paragraphs))
        found[vendor] = items
    return _check(found, file)


# ------------------------------------------------------------------ fetching


def from_tree(directory: str | Path) -> tuple[str, str, Recommended]:
    """(version, source, flags) from an unpacked QEMU source tree."""
    d = Path(directory)
    version = (d / "VERSION").read_text().strip() if (d / "VERSION").is_file() else d.name
    for rel, parse in ((RST_PATH, parse_rst), (TEXI_PATH, parse_texi)):
        p = d / rel
        if p.is_file():
            return (
                version,
                f"QEMU {version} {rel}",
                parse(p.read_text(encoding="utf-8"), file=str(p)),
            )
    raise SourceError(
        f"{d}: neither {RST_PATH} nor {TEXI_PATH}",
        hint="QEMU documents recommended x86 flags since 3.1",
    )


def from_tarball(path: str | Path, label: str | None = None) -> tuple[str, str, Recommended]:
    """(version, source, flags) from a QEMU release or Debian orig tarball (streamed)."""
    import tarfile

    p = Path(path)
    if not p.is_file():
        raise SourceError(f"{p}: no such file")
    texts: dict[str, str] = {}
    try:
        with tarfile.open(p, "r:*") as tar:
            for member in tar:
                parts = member.name.split("/", 1)
                rel = parts[1] if len(parts) == 2 else ""
                if rel in (RST_PATH, TEXI_PATH, "VERSION") and member.isfile():
                    fh = tar.extractfile(member)
                    if fh is not None:
                        texts[rel] = fh.read().decode("utf-8")
                if RST_PATH in texts and "VERSION" in texts:
                    break
    except (tarfile.TarError, OSError, EOFError) as e:
        raise SourceError(f"{p}: cannot read tarball ({e})") from e
    version = label or texts.get("VERSION", "").strip() or p.name
    for rel, parse in ((RST_PATH, parse_rst), (TEXI_PATH, parse_texi)):
        if rel in texts:
            return version, f"QEMU {version} {rel} ({p.name})", parse(texts[rel], file=f"{p}:{rel}")
    raise SourceError(
        f"{p}: neither {RST_PATH} nor {TEXI_PATH} inside",
        hint="QEMU documents recommended x86 flags since 3.1",
    )


def from_url(url: str, version: str, *, timeout: float = 30) -> tuple[str, str, Recommended]:
    """(version, source, flags) from the HTML page of a release's docs."""
    import requests

    try:
        r = requests.get(url, timeout=timeout)
        r.raise_for_status()
    except requests.RequestException as e:
        raise SourceError(f"{url}: {e}", hint="use --source or --tarball offline") from e
    # bytes: the page declares its charset in <meta>; requests would guess ISO-8859-1 for
    # a text/html response without one and garble the typographic quotes
    return version, url, parse_html(r.content, file=url)


def from_html_file(path: str | Path, version: str) -> tuple[str, str, Recommended]:
    p = Path(path)
    if not p.is_file():
        raise SourceError(f"{p}: no such file")
    return version, str(p), parse_html(p.read_text(encoding="utf-8"), file=str(p))


# ------------------------------------------------------------------ output


def to_json(
    results: list[tuple[str, str, Recommended]], existing: dict[str, Any] | None = None
) -> dict[str, object]:
    """Merge results into the data file's shape (a newer scrape of a version replaces it)."""
    from cpudb.versions import version_key

    releases: dict[str, object] = dict(existing.get("releases", {}) if existing else {})
    for version, source, flags in results:
        releases[version] = {
            "source": source,
            "vendors": {v: [r.to_json() for r in flags[v]] for v in VENDORS},
        }
    ordered = dict(sorted(releases.items(), key=lambda kv: version_key(kv[0])))
    return {
        "source": "QEMU documentation, 'Important CPU features for Intel/AMD x86 hosts' "
        "(docs/system/cpu-models-x86.rst.inc; docs/qemu-cpu-models.texi before 5.0)",
        "releases": ordered,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m cpudb.scrapers.qemu_docs",
        description="Scrape QEMU's recommended x86 CPU flags per vendor from its docs into "
        "qemu-recommended-flags.json.",
        epilog="examples:\n"
        "  python -m cpudb.scrapers.qemu_docs --source ~/qemu-src/* --skip-missing --out data/\n"
        "  python -m cpudb.scrapers.qemu_docs --tarball qemu-9.2.0.tar.xz --out data/\n"
        "  python -m cpudb.scrapers.qemu_docs --html /usr/share/doc/qemu-system-common/system/"
        "qemu-cpu-models.html --label 7.2.0\n"
        "  python -m cpudb.scrapers.qemu_docs --tag 9.2.0     (HTML docs over HTTPS)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--source", nargs="+", default=[], metavar="DIR", help="QEMU source trees")
    p.add_argument("--tarball", nargs="+", default=[], metavar="FILE", help="QEMU tarballs")
    p.add_argument("--html", metavar="FILE", help="a saved HTML page of the docs (needs --label)")
    p.add_argument(
        "--tag",
        metavar="VERSION",
        help="fetch the HTML docs of a release over HTTPS ('master' for the development docs)",
    )
    p.add_argument("--label", help="version label for --html / --tarball")
    p.add_argument(
        "--skip-missing",
        action="store_true",
        help="skip source trees without the docs (QEMU < 3.1)",
    )
    p.add_argument(
        "--out",
        type=Path,
        help="folder of qemu-recommended-flags.json (merged); default: print JSON",
    )
    args = p.parse_args(argv)
    from cpudb.errors import CpudbError

    results = []
    try:
        for d in args.source:
            try:
                results.append(from_tree(d))
            except SourceError:
                if not args.skip_missing:
                    raise
        for t in args.tarball:
            results.append(from_tarball(t, args.label))
        if args.html:
            if not args.label:
                raise CpudbError("--html needs --label VERSION", hint="--label 7.2.0")
            results.append(from_html_file(args.html, args.label))
        if args.tag:
            url = (
                HTML_URL_MASTER
                if args.tag == "master"
                else HTML_URL.format(version=args.tag.lstrip("v"))
            )
            results.append(from_url(url, args.tag.lstrip("v")))
        if not results:
            raise CpudbError("nothing to read", hint="give --source, --tarball, --html or --tag")
    except CpudbError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    target = args.out / "qemu-recommended-flags.json" if args.out else None
    existing = json.loads(target.read_text()) if target and target.exists() else None
    text = json.dumps(to_json(results, existing), indent=1) + "\n"
    if target:
        from cpudb.paths import atomic_write

        atomic_write(target, text)
        print(f"{len(results)} release(s) -> {target}")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
