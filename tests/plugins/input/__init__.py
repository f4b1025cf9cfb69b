"""Tests of the input plugins (a package, so test_file.py does not clash with the flusher's)."""
