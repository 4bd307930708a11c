"""Every `$ cpudb ...` example in README.md prints what the README says it prints."""

from __future__ import annotations

import pytest

from tests.conftest import need_tool
from tests.readme_blocks import README, Example, examples, run

EXAMPLES = [
    e for e in examples(README.read_text(encoding="utf-8")) if e.command.startswith("cpudb ")
]


def test_readme_has_examples() -> None:
    assert len(EXAMPLES) >= 4


@pytest.mark.parametrize("ex", EXAMPLES, ids=[e.command for e in EXAMPLES])
def test_readme_example(ex: Example) -> None:
    if ex.command.startswith("cpudb probe"):
        need_tool("qemu-system-x86_64", "apt-get install qemu-system-x86")
    _, got = run(ex.command)
    if ex.truncated:
        got = got[: len(ex.expected)]
    assert got == ex.expected, "README is out of date: python tests/readme_blocks.py --refresh"
