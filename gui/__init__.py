"""Tailbox's desktop window (PySide6); talks to the agent only through gui.bridge."""
