"""Arguments shared by several commands."""

from __future__ import annotations

import argparse


def add_qemu(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--qemu",
        metavar="V",
        help="QEMU release: 7.2.0, or a prefix such as 7.2 "
        "(newest 7.2.x); default: the release of the installed qemu-system-x86_64, "
        "else the newest upstream release",
    )


def add_json(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="machine-readable output")


def add_accel(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--accel",
        choices=("tcg", "kvm"),
        help="apply that accelerator's default properties (kvm: x2apic, kvmclock... "
        "on, svm/monitor/acpi off; tcg: vme off)",
    )


def formatter() -> type[argparse.HelpFormatter]:
    from cpudb.cli import Formatter

    return Formatter
