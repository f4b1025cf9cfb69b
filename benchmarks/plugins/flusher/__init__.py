"""Benchmark-only flushers."""
