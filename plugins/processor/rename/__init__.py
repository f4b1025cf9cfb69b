"""processor_rename: rename fields (iLogtail's)."""

from __future__ import annotations

from agent.params import ConfigError, Param
from agent.plugin import register
from agent.protocol import Log
from plugins.processor._base import OK, LogProcessor, not_empty

__all__ = ["RenameProcessor"]


@register
class RenameProcessor(LogProcessor):
    type_name = "processor_rename"
    summary = "Renames fields: each of SourceKeys becomes the DestKeys entry at the same place."
    params = (
        Param(
            "SourceKeys",
            "list",
            description="The fields to rename.",
            items="str",
            check=not_empty,
        ),
        Param(
            "DestKeys",
            "list",
            description="Their new names, in the same order; a field already named so is replaced.",
            items="str",
            check=not_empty,
        ),
        Param("NoKeyError", "bool", False, "Warn when a log lacks one of SourceKeys."),
    )

    SourceKeys: list[str]
    DestKeys: list[str]
    NoKeyError: bool

    def check_config(self) -> None:
        if len(self.SourceKeys) != len(self.DestKeys):
            raise ConfigError(
                f"names {len(self.DestKeys)} keys but SourceKeys names {len(self.SourceKeys)}; "
                "give one new name per source key",
                key="DestKeys",
            )
        seen: set[str] = set()
        for key in self.SourceKeys:
            if key in seen:
                raise ConfigError(f"names {key!r} twice", key="SourceKeys")
            seen.add(key)
        self._pairs = tuple(zip(self.SourceKeys, self.DestKeys, strict=True))
        self.missing_is_error = self.NoKeyError

    def process_log(self, log: Log) -> int:
        contents = log.contents
        pop = contents.pop
        pairs = self._pairs
        present = [pair for pair in pairs if pair[0] in contents]
        # Take every value out before inserting any, so swaps and chains (a->b, b->c) work.
        contents.update([(dest, pop(source)) for source, dest in present])
        if len(present) < len(pairs):
            return self.absent(*(s for s, d in pairs if (s, d) not in present))
        return OK
