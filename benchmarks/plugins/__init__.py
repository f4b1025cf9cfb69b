"""Plugins that exist only for the benchmarks (loaded through benchmarks/plugins.yml)."""
