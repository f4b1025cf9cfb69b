"""input_journal's entries: one line of `journalctl --output=json` becomes a Log.

journalctl writes a value as a JSON string when it is printable UTF-8; as an array of
byte values when it is not (binary data, invalid UTF-8, control characters such as
ANSI colours); as an array of those when an entry has the field more than once; as
null when it is larger than 4 KiB and `--all` was not given (Tailbox gives it).
"""

from __future__ import annotations

import time
from typing import Any

from agent.protocol import CONTENT_KEY, Log

from ._command import LEVELS

__all__ = ["LEVEL_KEY", "MONOTONIC_KEY", "REALTIME_KEY", "EntryDecoder", "value_text"]

# iLogtail's extra columns: the entry's timestamps in microseconds, as text.
REALTIME_KEY = "_realtime_timestamp_"
MONOTONIC_KEY = "_monotonic_timestamp_"
LEVEL_KEY = "level"


def value_text(value: Any) -> str | None:
    """A field's value as text: byte arrays decoded as UTF-8 (invalid bytes become
    U+FFFD), several values joined by newlines; None for a missing (null) value."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        if not value or isinstance(value[0], int):
            return bytes(value).decode("utf-8", "replace")
        texts = [value_text(v) for v in value]
        return "\n".join(t for t in texts if t is not None)
    if value is None:
        return None
    return str(value)


class EntryDecoder:
    """Turns parsed JSON entries into Logs: MESSAGE → content, PRIORITY → level, the
    chosen fields as they are, the timestamps; time from __REALTIME_TIMESTAMP."""

    def __init__(self, fields: list[str]) -> None:
        self.all_fields = "*" in fields
        self.fields = [f for f in dict.fromkeys(fields) if f not in ("*", "MESSAGE")]

    def output_fields(self) -> list[str]:
        """What journalctl needs to print (`--output-fields`); [] for every field."""
        if self.all_fields:
            return []
        return list(dict.fromkeys(["MESSAGE", "PRIORITY", *self.fields]))

    def decode(self, entry: dict[str, Any]) -> tuple[Log, str | None]:
        """The entry's Log and its cursor."""
        contents: dict[str, str] = {}
        message = value_text(entry.get("MESSAGE"))
        if message is not None:
            contents[CONTENT_KEY] = message
        priority = entry.get("PRIORITY")
        if isinstance(priority, str) and len(priority) == 1 and "0" <= priority <= "7":
            contents[LEVEL_KEY] = LEVELS[int(priority)]
        if self.all_fields:
            for key, value in entry.items():
                if key != "MESSAGE" and not key.startswith("__"):
                    text = value_text(value)
                    if text is not None:
                        contents[key] = text
        else:
            for key in self.fields:
                if key in entry:
                    text = value_text(entry[key])
                    if text is not None:
                        contents[key] = text
        realtime = entry.get("__REALTIME_TIMESTAMP")
        try:
            usec = int(realtime)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            usec = time.time_ns() // 1000
        else:
            contents[REALTIME_KEY] = str(usec)
        monotonic = entry.get("__MONOTONIC_TIMESTAMP")
        if isinstance(monotonic, str):
            contents[MONOTONIC_KEY] = monotonic
        cursor = entry.get("__CURSOR")
        log = Log(usec // 1_000_000, contents, (usec % 1_000_000) * 1000)
        return log, cursor if isinstance(cursor, str) else None
