"""Khiu's benchmarks (`make bench`). Each `bench/bench_*.py` module defines `BENCHMARK`, a
`bench.registry.Benchmark`; `python -m bench` finds them, runs them and writes docs/benchmarks.md.
See bench/registry.py to add one."""
