"""processor_drop: remove fields from every log (iLogtail's)."""

from __future__ import annotations

from agent.params import Param
from agent.plugin import register
from agent.protocol import Log
from plugins.processor._base import DROPPED, OK, LogProcessor, not_empty

__all__ = ["DropProcessor"]


@register
class DropProcessor(LogProcessor):
    type_name = "processor_drop"
    summary = "Removes the named fields from every log."
    params = (
        Param(
            "DropKeys",
            "list",
            description="The fields to remove; a log left without fields is dropped.",
            items="str",
            check=not_empty,
        ),
    )

    DropKeys: list[str]

    def check_config(self) -> None:
        self._keys = tuple(dict.fromkeys(self.DropKeys))

    def process_log(self, log: Log) -> int:
        contents = log.contents
        pop = contents.pop
        for key in self._keys:
            pop(key, None)
        return OK if contents else DROPPED
