"""Qt item models for the window's tables: live groups, a group's logs, events, files."""
