# One command runs every check: `make check` (lint, types, tests). `.ci/run` calls it.
PY ?= python3

.PHONY: check lint types layers test bench data

check: lint types layers test

lint:
	$(PY) -m ruff check cpudb scrapers tui tests bench
	$(PY) -m ruff format --check cpudb scrapers tui tests bench

types:
	$(PY) -m mypy cpudb scrapers tui tests

# the one-way layers (.importlinter): commands/tui -> app, render -> decisions -> query -> store
layers:
	$(PY) -c "import sys; from importlinter.cli import lint_imports; sys.exit(lint_imports())"

test:
	$(PY) -m pytest -q

# Speed targets of the issues, measured (figures, not assertions): parse, db, CLI, TUI.
bench:
	$(PY) -m compileall -q cpudb scrapers tui
	$(PY) bench/parse_bench.py
	$(PY) bench/run.py
	$(PY) bench/tui_bench.py
	$(PY) bench/huge_input.py
	$(PY) bench/fleet.py

# Regenerate data/qemu/*.json (see data/README.md). Needs a clone of upstream QEMU with
# its tags (QEMU_GIT), the RHEL 8.1.0 fork (RHEL_GIT) and Debian's 10.0.13 orig tarball.
QEMU_GIT ?= $(HOME)/src/qemu
RHEL_GIT ?= $(HOME)/src/qemu-8.1.0-rhel
DEBIAN_10_0_13 ?= $(HOME)/src/qemu_10.0.13+ds.orig.tar.xz
STABLE_TAGS = v2.12.1 v7.2.22 v8.2.2 v9.2.4 v10.0.2 v10.2.2 v10.2.4
data:
	cpudb scrape qemu --git $(QEMU_GIT) --tags 'v[1-9]*.*.0' --out data/qemu
	cpudb scrape qemu --git $(QEMU_GIT) --ref $(STABLE_TAGS) --out data/qemu
	cpudb scrape qemu --tarball $(DEBIAN_10_0_13) --out data/qemu
	cpudb scrape qemu --git $(RHEL_GIT) --ref b4f51ea55792 --label 8.1.0-rhel --downstream --out data/qemu
