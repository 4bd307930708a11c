"""cpudb: a QEMU x86 CPU-model feature database and advisor."""

__version__ = "0.1.0"
