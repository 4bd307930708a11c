"""Parse and refresh the README's ```console examples (`$ cpudb ...` + real output).

`python tests/readme_blocks.py --refresh` re-runs every example and rewrites its output;
tests/test_readme.py checks that the README still says what the commands print. A block
line `...` means "the output goes on": only the lines above it are compared.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCK = re.compile(r"```console\n(.*?)```", re.S)


@dataclass
class Example:
    command: str
    expected: list[str]
    truncated: bool


def examples(text: str) -> list[Example]:
    out: list[Example] = []
    for block in BLOCK.findall(text):
        cur: Example | None = None
        for line in block.splitlines():
            if line.startswith("$ "):
                cur = Example(line[2:], [], False)
                out.append(cur)
            elif cur is not None:
                if line == "...":
                    cur.truncated = True
                elif not cur.truncated:
                    cur.expected.append(line)
    return out


# The README shows a machine with no QEMU installed and no KVM, as a fresh one is.
MACHINE_NEUTRAL = {"CPUDB_QEMU_BINARY": "", "CPUDB_KVM": ""}


def run(command: str, env: dict[str, str] | None = None) -> tuple[int, list[str]]:
    argv = shlex.split(command)
    assert argv[0] == "cpudb", command
    r = subprocess.run(
        [sys.executable, "-m", "cpudb", *argv[1:]],
        capture_output=True,
        text=True,
        env={**(env or os.environ), **MACHINE_NEUTRAL},
        check=False,
    )
    text = r.stdout + (r.stderr if r.returncode else "")
    return r.returncode, [ln.rstrip() for ln in text.rstrip("\n").splitlines()]


def refresh() -> None:
    text = README.read_text(encoding="utf-8")

    def redo(m: re.Match[str]) -> str:
        lines: list[str] = []
        for ex in examples("```console\n" + m.group(1) + "```"):
            lines.append("$ " + ex.command)
            if not ex.command.startswith("cpudb "):
                lines.extend(ex.expected)
                continue
            _, got = run(ex.command)
            if ex.truncated:
                lines.extend(got[: max(len(ex.expected), 1)])
                lines.append("...")
            else:
                lines.extend(got)
        return "```console\n" + "\n".join(lines) + "\n```"

    README.write_text(BLOCK.sub(redo, text), encoding="utf-8")


if __name__ == "__main__":
    if sys.argv[1:] == ["--refresh"]:
        refresh()
    else:
        for ex in examples(README.read_text(encoding="utf-8")):
            print(ex.command)
