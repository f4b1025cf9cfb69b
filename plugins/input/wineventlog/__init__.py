"""input_wineventlog: reads the Windows Event Log (Application, System, any channel).

Windows only: plugins.yml lists it in its `windows` section. The module imports on every
system (the registry of either platform can describe it, the tests run on Linux):
everything that touches Windows is in `_wevtapi`, loaded on the first call.

Each event becomes one Log: its rendered message, level, provider, event id, record id,
channel and computer, at the time the event was created (100 ns precision). Reading
resumes after the bookmark of the last acknowledged event of each channel (`_ledger`);
how channels are subscribed, waited on and reported is in `_reader`.
"""

from __future__ import annotations

import threading
from typing import ClassVar

from agent.plugin import Collector, Context, Param, Plugin, register

from ._reader import Options, Reader

__all__ = ["WinEventLogInput"]


def _channels(value: list[str]) -> str | None:
    if not value:
        return "must list at least one channel"
    if any(not name.strip() for name in value):
        return "channel names must not be empty"
    folded = [name.strip().lower() for name in value]
    twice = sorted({name for name in value if folded.count(name.strip().lower()) > 1})
    if twice:
        return f"lists a channel twice (names ignore case): {', '.join(twice)}"
    return None


def _query(value: str) -> str | None:
    if not value.strip():
        return 'must not be empty ("*" selects every event)'
    if value.lstrip().startswith("<"):
        return (
            "structured XML queries (<QueryList>) are not supported: give an XPath "
            "expression such as *[System[Level<=3]]; it applies to every channel listed"
        )
    return None


@register
class WinEventLogInput(Plugin):
    type_name = "input_wineventlog"
    summary = "Reads Windows Event Log channels (Application, System, ...); each event is a log."
    params: ClassVar[tuple[Param, ...]] = (
        Param(
            "Channels",
            "list",
            ["Application", "System"],
            items="str",
            description=(
                "The channels to read, by their full names as Event Viewer shows them in "
                "a log's Properties: `Application`, `System`, `Security` (needs "
                "administrator rights or the Event Log Readers group), "
                "`Microsoft-Windows-PowerShell/Operational`, ..."
            ),
            check=_channels,
        ),
        Param(
            "Query",
            "str",
            "*",
            description=(
                "An XPath filter applied to every channel, as in Event Viewer's "
                "'Filter Current Log' (XML tab): `*[System[Level<=3]]` for critical, "
                "errors and warnings, `*[System[Provider[@Name='MyApp']]]` for one source."
            ),
            check=_query,
        ),
        Param(
            "StartAt",
            "str",
            "end",
            description=(
                "Where a channel is read from when there is no bookmark for it yet (the "
                "first start): `end` reads the events that come from now on, `beginning` "
                "every event the channel holds. Afterwards reading resumes after the last "
                "acknowledged event. When the agent runs once, channels are read from "
                "their bookmark, or their oldest event, to their current end."
            ),
            choices=("end", "beginning"),
        ),
        Param(
            "BatchSize",
            "int",
            100,
            description=(
                "How many events are read at a time (one EvtNext call); each read is handed "
                "over as one batch. Halved automatically when events are too large for it."
            ),
            min=1,
            max=1024,
        ),
        Param(
            "PollIntervalMs",
            "int",
            1000,
            description=(
                "New events are read as soon as Windows signals them; without a signal, "
                "the channels are looked at after this many milliseconds anyway, and a "
                "channel that could not be opened is tried again every 30 s."
            ),
            min=100,
            max=60000,
        ),
        Param(
            "RenderMessage",
            "bool",
            True,
            description=(
                "Format each event's message as Event Viewer does, from its provider's "
                "message files. Off (faster), or when a provider has no message, "
                "`message` holds the event's data instead (`Name: value` per line)."
            ),
        ),
        Param(
            "IncludeEventData",
            "bool",
            False,
            description=(
                "Add every EventData (or UserData) value as a field `event_data.<Name>` "
                "(unnamed values: `event_data.param1`, ...)."
            ),
        ),
        Param(
            "IncludeXml",
            "bool",
            False,
            description="Add the event's whole XML as a field `xml`.",
        ),
        Param("Topic", "str", "", description="The topic of the logs' groups."),
    )

    Channels: list[str]
    Query: str
    StartAt: str
    BatchSize: int
    PollIntervalMs: int
    RenderMessage: bool
    IncludeEventData: bool
    IncludeXml: bool
    Topic: str

    def __init__(self) -> None:
        self._context = Context()

    def init(self, context: Context) -> None:
        self._context = context

    def options(self) -> Options:
        return Options(
            channels=tuple(name.strip() for name in self.Channels),
            query=self.Query.strip(),
            start_at_end=self.StartAt == "end",
            batch_size=self.BatchSize,
            poll_ms=self.PollIntervalMs,
            render_message=self.RenderMessage,
            event_data=self.IncludeEventData,
            include_xml=self.IncludeXml,
            topic=self.Topic,
        )

    def run(self, collector: Collector, stop: threading.Event, once: bool) -> None:
        reader = Reader(self.options(), self._context, collector, stop)
        if once:
            reader.run_once()
        else:
            reader.run_tail()
