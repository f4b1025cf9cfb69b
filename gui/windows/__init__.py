"""The main window, its views, and the configuration editor."""
