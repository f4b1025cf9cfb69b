"""processor_add_fields: add fixed fields to every log (iLogtail's)."""

from __future__ import annotations

from agent.params import Param
from agent.plugin import register
from agent.protocol import Log
from plugins.processor._base import OK, LogProcessor, not_empty

__all__ = ["AddFieldsProcessor"]


@register
class AddFieldsProcessor(LogProcessor):
    type_name = "processor_add_fields"
    summary = "Adds fixed key/value fields to every log."
    params = (
        Param("Fields", "dict", description="The fields to add.", items="str", check=not_empty),
        Param(
            "IgnoreIfExist",
            "bool",
            False,
            "Leave a field a log already has as it is; false: overwrite it.",
        ),
    )

    Fields: dict[str, str]
    IgnoreIfExist: bool

    def check_config(self) -> None:
        self._items = tuple(self.Fields.items())

    def process_log(self, log: Log) -> int:
        contents = log.contents
        if self.IgnoreIfExist:
            for key, value in self._items:
                contents.setdefault(key, value)
        else:
            contents.update(self.Fields)
        return OK
