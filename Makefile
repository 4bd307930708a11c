# One command runs every check: `make check` (lint, types, tests). `.ci/run` calls it.
PY ?= python3
QEMU_SRC ?= $(HOME)/qemu-src

.PHONY: check lint types test bench data

check: lint types test

lint:
	$(PY) -m ruff check cpudb scrapers tui tests bench
	$(PY) -m ruff format --check cpudb scrapers tui tests bench

types:
	$(PY) -m mypy cpudb scrapers

test:
	$(PY) -m pytest -q

bench:
	$(PY) bench/run.py

# Regenerate data/qemu/*.json from unpacked sources in $(QEMU_SRC)/<label>/ (see data/README.md).
data:
	$(PY) bench/regen_data.py $(QEMU_SRC)
