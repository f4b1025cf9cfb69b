"""Throughput, latency and footprint benchmarks for Tailbox: `python -m benchmarks.run`."""
