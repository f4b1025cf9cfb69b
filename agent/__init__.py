"""Tailbox: a desktop log agent (Qt-free core)."""
