"""Tailbox plugins, one folder per plugin; plugins.yml says which are loaded."""
