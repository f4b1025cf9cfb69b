"""Small custom widgets: sparkline, gauge, queue-full banner, generated parameter forms."""
