"""flusher_blackhole: discards LogGroups, counting them (the pipeline's cost without output)."""

from __future__ import annotations

from pathlib import Path

from agent.plugin import Context, Param, Plugin, register
from agent.protocol import LogGroup


@register
class FlusherBlackhole(Plugin):
    type_name = "flusher_blackhole"
    summary = "Discards every LogGroup; counts groups and logs (benchmarks only)."
    params = (
        Param(
            "CountFile",
            "str",
            "",
            "Where to write `<groups> <logs>` when the flusher stops; empty: nowhere.",
        ),
    )

    CountFile: str

    def init(self, context: Context) -> None:
        self.groups = 0
        self.logs = 0

    def flush(self, groups: list[LogGroup]) -> None:
        self.groups += len(groups)
        for group in groups:
            self.logs += len(group)

    def stop(self) -> None:
        if self.CountFile:
            Path(self.CountFile).write_text(f"{self.groups} {self.logs}\n", encoding="ascii")
