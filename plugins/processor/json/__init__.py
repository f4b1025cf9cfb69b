"""processor_json: expand a JSON object in one field into flat fields (iLogtail's)."""

from __future__ import annotations

from typing import Any

import orjson

from agent.params import Param
from agent.plugin import register
from agent.protocol import Log
from plugins.processor._base import OK, LogProcessor, cut, not_empty

__all__ = ["JsonProcessor"]

_loads = orjson.loads
_dumps = orjson.dumps


def _text(value: Any) -> str:
    """A JSON value as a field value: strings as they are, anything else as compact JSON."""
    return value if type(value) is str else _dumps(value).decode()


@register
class JsonProcessor(LogProcessor):
    type_name = "processor_json"
    aliases = ("processor_parse_json_native", "processor_json_native")
    summary = "Expands the JSON object in a field into one field per (nested) key."
    params = (
        Param("SourceKey", "str", "content", "The field holding the JSON.", check=not_empty),
        Param(
            "ExpandDepth",
            "int",
            0,
            "How deep nested objects are expanded: 0 = all the way, 1 = top-level keys only "
            "(nested objects stay JSON text).",
            min=0,
        ),
        Param("ExpandConnector", "str", "_", "Joins a parent key and its child's key."),
        Param("Prefix", "str", "", "Put in front of every extracted key."),
        Param(
            "UseSourceKeyAsPrefix",
            "bool",
            False,
            "Put SourceKey and the connector in front of every extracted key.",
        ),
        Param(
            "IgnoreFirstConnector",
            "bool",
            False,
            "No connector between SourceKey (UseSourceKeyAsPrefix) and the top-level keys.",
        ),
        Param(
            "ExpandArray",
            "bool",
            False,
            "Expand arrays into key[0], key[1], ...; false: an array stays JSON text.",
        ),
        Param("KeepSource", "bool", True, "Keep the source field after a successful parse."),
        Param(
            "KeepSourceIfParseError",
            "bool",
            True,
            "Keep a line that is not a JSON object unchanged; false: remove its source field "
            "(a log left without fields is dropped).",
        ),
        Param("NoKeyError", "bool", True, "Warn when a log has no SourceKey field."),
    )

    SourceKey: str
    ExpandDepth: int
    ExpandConnector: str
    Prefix: str
    UseSourceKeyAsPrefix: bool
    IgnoreFirstConnector: bool
    ExpandArray: bool
    KeepSource: bool
    KeepSourceIfParseError: bool
    NoKeyError: bool

    def check_config(self) -> None:
        self._root = self.SourceKey if self.UseSourceKeyAsPrefix else ""
        self.missing_is_error = self.NoKeyError

    def process_log(self, log: Log) -> int:
        contents = log.contents
        source = self.SourceKey
        value = contents.get(source)
        if value is None:
            return self.absent(source)
        try:
            obj = _loads(value)
        except ValueError as e:
            return self.unparsed(
                contents,
                source,
                self.KeepSourceIfParseError,
                f"{source} is not JSON ({e}): {cut(value)}",
            )
        if type(obj) is not dict:
            return self.unparsed(
                contents,
                source,
                self.KeepSourceIfParseError,
                f"{source} is not a JSON object: {cut(value)}",
            )
        fields: dict[str, str] = {}
        self._flatten(obj, self._root, 1, fields)
        if self.KeepSource:
            contents.update(fields)
        elif len(contents) == 1:
            log.contents = fields  # the source was its only field: what del + update makes
        else:
            del contents[source]
            contents.update(fields)
        return OK

    def _flatten(self, obj: dict[str, Any], parent: str, depth: int, out: dict[str, str]) -> None:
        # iLogtail counts the top-level keys as depth 1; ExpandDepth 0 never equals a depth.
        expand = depth != self.ExpandDepth
        expand_array = expand and self.ExpandArray
        connector = "" if depth == 1 and self.IgnoreFirstConnector else self.ExpandConnector
        prefix = self.Prefix
        for key, value in obj.items():
            name = f"{parent}{connector}{key}" if parent else key
            kind = type(value)
            if expand and kind is dict:
                self._flatten(value, name, depth + 1, out)
            elif expand_array and kind is list:
                for i, item in enumerate(value):
                    item_name = f"{name}[{i}]"
                    if type(item) is dict:
                        self._flatten(item, item_name, depth + 1, out)
                    else:
                        out[prefix + item_name] = _text(item)
            else:
                # _text inlined: this line runs once per field of every log. An integer
                # (orjson parses them within 64 bits) is its decimal digits either way.
                out[prefix + name if prefix else name] = (
                    value if kind is str else str(value) if kind is int else _dumps(value).decode()
                )
