"""flusher_stdout: prints LogGroups on standard output (JSON Lines or plain log lines)."""

from __future__ import annotations

import sys

import orjson

from agent.encoding import encode_groups
from agent.plugin import Context, Param, Plugin, register
from agent.protocol import CONTENT_KEY, LogGroup


@register
class FlusherStdout(Plugin):
    type_name = "flusher_stdout"
    summary = "Prints LogGroups on standard output, as JSON Lines or as plain log lines."
    params = (
        Param(
            "Format",
            "str",
            "json",
            "`json`: one JSON object per LogGroup; `text`: one line per log (its content, "
            "or its contents as JSON when it has other keys).",
            choices=("json", "text"),
        ),
    )

    Format: str

    def init(self, context: Context) -> None:
        pass

    def flush(self, groups: list[LogGroup]) -> None:
        out = sys.stdout.buffer
        out.write(encode_groups(groups) if self.Format == "json" else _text(groups))
        out.flush()

    def stop(self) -> None:
        pass


def _text(groups: list[LogGroup]) -> bytes:
    chunks = []
    for group in groups:
        for part in group.parts():
            if isinstance(part, list):
                for log in part:
                    c = log.contents
                    if len(c) == 1 and CONTENT_KEY in c:
                        chunks.append(c[CONTENT_KEY].encode("utf-8", "replace"))
                    else:
                        chunks.append(orjson.dumps(c))
            else:
                batch, start, stop = part
                if stop > start:
                    chunks.append(batch.joined(start, stop))
    chunks.append(b"")
    return b"\n".join(chunks)
