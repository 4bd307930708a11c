"""Shipped facts (snapshots, catalogues): reviewable JSON, located by cpudb.paths."""
