"""Rapport's benchmarks, run with ``make bench`` (see bench/README.md). Not tests."""
