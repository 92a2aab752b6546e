"""Benchmarks: `microweld bench` runs every bench_*.py here and writes bench/last.json."""
