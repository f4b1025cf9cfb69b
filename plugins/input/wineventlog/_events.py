"""Rendered event XML → a Log: the System fields, EventData/UserData, level names, time.

Pure Python (xml.etree), so it runs and is tested on every platform. Elements are matched
by local name: the Event schema's namespace is ``http://schemas.microsoft.com/win/2004/
08/events/event``, but some documents (and forwarded events) spell it otherwise.
"""

from __future__ import annotations

import calendar
import re
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from agent.protocol import Log

__all__ = ["LEVELS", "EventRecord", "level_name", "parse_event", "parse_system_time"]

# Event levels as winmeta.xml defines them; 0 (LogAlways) is what classic and audit
# events carry, shown as "Information" by Event Viewer.
LEVELS = {
    0: "information",
    1: "critical",
    2: "error",
    3: "warning",
    4: "information",
    5: "verbose",
}

_TIME = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?\s*(Z|[+-]\d{2}:?\d{2})?$"
)


def level_name(level: int) -> str:
    """The name of a level (1..5 as winmeta.xml; a provider's own levels as their number)."""
    return LEVELS.get(level, str(level))


def parse_system_time(text: str) -> tuple[int, int] | None:
    """``TimeCreated/@SystemTime`` as (seconds since the epoch, nanoseconds); None if unreadable.

    Windows writes UTC with up to 9 fractional digits (100 ns ticks: 7 of them count)."""
    m = _TIME.match(text.strip())
    if m is None:
        return None
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    fraction, zone = m.group(7) or "", m.group(8) or "Z"
    try:
        seconds = calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0))
    except (ValueError, OverflowError):
        return None
    if zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        seconds -= sign * (int(digits[:2]) * 3600 + int(digits[2:]) * 60)
    nanos = int((fraction + "000000000")[:9]) if fraction else 0
    return seconds, nanos


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _child(parent: ET.Element | None, name: str) -> ET.Element | None:
    if parent is None:
        return None
    for element in parent:
        if _local(element.tag) == name:
            return element
    return None


def _text(parent: ET.Element | None, name: str) -> str:
    element = _child(parent, name)
    return (element.text or "").strip() if element is not None else ""


def _int(text: str, default: int = 0) -> int:
    try:
        return int(text, 0) if text.lower().startswith("0x") else int(text)
    except ValueError:
        return default


@dataclass(slots=True)
class EventRecord:
    """What Tailbox takes from one event's XML."""

    provider: str = ""
    event_id: int = 0
    level: int = 0
    record_id: int = 0
    time: int = 0
    time_ns: int = 0
    channel: str = ""
    computer: str = ""
    # (name, value) pairs of EventData (or the leaves of UserData); unnamed Data: "".
    data: list[tuple[str, str]] = field(default_factory=list)
    rendered: str = ""  # RenderingInfo/Message (forwarded events carry their message)

    def data_text(self) -> str:
        """The event's data as text: what stands in for a message that cannot be formatted."""
        return "\n".join(f"{name}: {value}" if name else value for name, value in self.data)

    def data_fields(self) -> dict[str, str]:
        """The data as ``event_data.<Name>`` keys (unnamed values: ``param1``, ``param2``...)."""
        fields: dict[str, str] = {}
        for n, (name, value) in enumerate(self.data, 1):
            fields[f"event_data.{name or f'param{n}'}"] = value
        return fields

    def to_log(
        self, message: str | None, *, event_data: bool = False, xml: str = "", origin: object = None
    ) -> Log:
        """The Log: `message` as formatted by the publisher, else the forwarded or data text."""
        if message is None:
            message = self.rendered or self.data_text()
        contents = {
            "message": message,
            "level": level_name(self.level),
            "provider": self.provider,
            "event_id": str(self.event_id),
            "record_id": str(self.record_id),
            "channel": self.channel,
            "computer": self.computer,
        }
        if event_data:
            contents.update(self.data_fields())
        if xml:
            contents["xml"] = xml
        return Log(self.time, contents, self.time_ns, origin)


def parse_event(xml: str) -> EventRecord:
    """The fields of one rendered event (EvtRenderEventXml); ValueError if it is not XML."""
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as e:
        raise ValueError(f"not an event's XML: {e}") from None
    system = _child(root, "System")
    record = EventRecord()
    provider = _child(system, "Provider")
    if provider is not None:
        record.provider = provider.get("Name") or provider.get("EventSourceName") or ""
    record.event_id = _int(_text(system, "EventID"))
    record.level = _int(_text(system, "Level"))
    record.record_id = _int(_text(system, "EventRecordID"))
    record.channel = _text(system, "Channel")
    record.computer = _text(system, "Computer")
    created = _child(system, "TimeCreated")
    stamp = parse_system_time(created.get("SystemTime", "")) if created is not None else None
    if stamp is None:
        now = time.time_ns()
        stamp = (now // 1_000_000_000, now % 1_000_000_000)
    record.time, record.time_ns = stamp
    event_data = _child(root, "EventData")
    if event_data is not None:
        for data in event_data:
            tag = _local(data.tag)
            if tag in ("Data", "Binary"):
                name = data.get("Name") or ("Binary" if tag == "Binary" else "")
                record.data.append((name, (data.text or "").strip()))
    user_data = _child(root, "UserData")
    if user_data is not None:
        for element in user_data.iter():
            if len(element) == 0 and element is not user_data:
                record.data.append((_local(element.tag), (element.text or "").strip()))
    rendering = _child(root, "RenderingInfo")
    record.rendered = _text(rendering, "Message")
    return record
