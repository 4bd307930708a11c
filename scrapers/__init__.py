"""Everything that reads the outside world: QEMU sources, QMP, host CPUID dumps."""
