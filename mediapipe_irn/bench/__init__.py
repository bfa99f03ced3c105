"""Benchmarks: each prints a table and writes a JSON results file (plus a plot where useful)."""
