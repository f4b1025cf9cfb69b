"""The OTLP side of flusher_otlp: LogGroups to ResourceLogs, request bodies, receiver replies."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson
from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory
from google.protobuf.message import DecodeError, Message
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord, ResourceLogs

from agent.protocol import CONTENT_KEY, Log, LogBatch, LogGroup

__all__ = [
    "LEVEL_KEYS",
    "SEVERITY",
    "Encoder",
    "PartialSuccess",
    "error_text",
    "partial_success",
    "severity_number",
]

NS = 1_000_000_000
SCOPE_NAME = "tailbox"
PROTOBUF = "application/x-protobuf"
JSON = "application/json"

# Content keys whose value becomes the record's severity (matched case-insensitively).
LEVEL_KEYS = frozenset({"level", "severity", "lvl"})
# Level names to OTel SeverityNumber, as the OTel logs data model maps syslog and log4j.
SEVERITY = {
    "trace": 1,
    "debug": 5,
    "info": 9,
    "notice": 10,
    "warn": 13,
    "warning": 13,
    "error": 17,
    "err": 17,
    "crit": 18,
    "critical": 18,
    "fatal": 21,
    "alert": 21,
    "emerg": 22,
    "emergency": 22,
}


def severity_number(level: str) -> int:
    """The SeverityNumber of a level name; 0 (unspecified) for names not in SEVERITY."""
    return SEVERITY.get(level.strip().lower(), 0)


def _attributes(values: dict[str, str]) -> list[KeyValue]:
    return [KeyValue(key=k, value=AnyValue(string_value=v)) for k, v in values.items()]


class Encoder:
    """Builds OTLP request bodies from LogGroups: one ResourceLogs per group.

    `resource` holds the attributes every group's resource gets (host.name,
    tailbox.pipeline); `extra` is added last, so the user's ResourceAttributes win.
    """

    def __init__(self, resource: dict[str, str], extra: dict[str, str], encoding: str) -> None:
        self._resource = resource
        self._extra = extra
        self.json = encoding == "json"
        self.content_type = JSON if self.json else PROTOBUF

    def resource_logs(self, group: LogGroup, observed_ns: int) -> ResourceLogs:
        """One group as one ResourceLogs; `observed_ns` stamps logs that went through processors."""
        attrs = dict(self._resource)
        if group.source:
            attrs["log.file.path"] = group.source
        if group.topic:
            attrs["tailbox.topic"] = group.topic
        if group.category:
            attrs["tailbox.category"] = group.category
        if group.machine_uuid:
            attrs["host.id"] = group.machine_uuid
        for tag in group.log_tags:
            attrs[tag.key] = tag.value
        attrs.update(self._extra)
        rl = ResourceLogs()
        rl.resource.attributes.extend(_attributes(attrs))
        scope_logs = rl.scope_logs.add()
        scope_logs.scope.name = SCOPE_NAME
        records = scope_logs.log_records
        for part in group.parts():
            if isinstance(part, list):
                _add_logs(records, part, observed_ns)
            else:
                _add_slice(records, *part)
        return rl

    def pieces(self, groups: list[LogGroup], observed_ns: int) -> Iterator[tuple[int, Any]]:
        """Per group: its encoded size and what `body` joins into a request."""
        for group in groups:
            rl = self.resource_logs(group, observed_ns)
            if self.json:
                # OTLP/JSON wants enums as integers; int64 come out as strings, which it allows.
                data = orjson.dumps(json_format.MessageToDict(rl, use_integers_for_enums=True))
                yield len(data), data
            else:
                yield rl.ByteSize(), rl

    def body(self, pieces: list[Any]) -> bytes:
        """One ExportLogsServiceRequest holding the given pieces, uncompressed."""
        if self.json:
            return b'{"resourceLogs":[' + b",".join(pieces) + b"]}"
        return ExportLogsServiceRequest(resource_logs=pieces).SerializeToString()


def _add_slice(records: Any, batch: LogBatch, start: int, stop: int) -> None:
    """Lines of a batch: the hot path, one decode per slice and no Log objects."""
    if batch.key != CONTENT_KEY:
        _add_logs(records, batch.to_logs(start, stop), batch.time * NS + batch.time_ns)
        return
    # A batch's time is when Tailbox read the lines: it is also when it observed them.
    t = batch.time * NS + batch.time_ns
    add = records.add
    for text in batch.texts(start, stop):
        add(time_unix_nano=t, observed_time_unix_nano=t).body.string_value = text


def _add_logs(records: Any, logs: list[Log], observed_ns: int) -> None:
    add = records.add
    for log in logs:
        record: LogRecord = add(
            time_unix_nano=log.time * NS + log.time_ns, observed_time_unix_nano=observed_ns
        )
        level_seen = False
        for key, value in log.contents.items():
            if key == CONTENT_KEY:
                record.body.string_value = value
            elif not level_seen and key.lower() in LEVEL_KEYS:
                level_seen = True
                record.severity_text = value
                record.severity_number = severity_number(value)  # type: ignore[assignment]
            else:
                record.attributes.add(key=key).value.string_value = value


@dataclass(frozen=True, slots=True)
class PartialSuccess:
    """What a 2xx reply says the receiver refused: a count and its message."""

    rejected: int
    message: str


def partial_success(content_type: str, data: bytes) -> PartialSuccess | None:
    """The partial success in an ExportLogsServiceResponse, None when all was accepted."""
    if not data:
        return None
    response = ExportLogsServiceResponse()
    try:
        _parse(response, content_type, data)
    except (DecodeError, json_format.ParseError, UnicodeDecodeError):
        return None  # a 2xx with a body we cannot read still means accepted
    ps = response.partial_success
    if ps.rejected_log_records or ps.error_message:
        return PartialSuccess(ps.rejected_log_records, ps.error_message)
    return None


def _parse(message: Message, content_type: str, data: bytes) -> None:
    if content_type.split(";")[0].strip().lower() == JSON:
        json_format.Parse(data.decode("utf-8"), message, ignore_unknown_fields=True)
    else:
        message.ParseFromString(data)


def _status_class() -> type[Message]:
    """google.rpc.Status (code, message), the body of OTLP error replies.

    Declared here rather than pulled in with googleapis-common-protos for two fields.
    """
    file = descriptor_pb2.FileDescriptorProto(
        name="tailbox/otlp/status.proto", package="tailbox.otlp", syntax="proto3"
    )
    status = file.message_type.add(name="Status")
    status.field.add(
        name="code",
        number=1,
        type=descriptor_pb2.FieldDescriptorProto.TYPE_INT32,
        label=descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL,
    )
    status.field.add(
        name="message",
        number=2,
        type=descriptor_pb2.FieldDescriptorProto.TYPE_STRING,
        label=descriptor_pb2.FieldDescriptorProto.LABEL_OPTIONAL,
    )
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("tailbox.otlp.Status"))


_Status = _status_class()
_MAX_ERROR_TEXT = 300


def error_text(content_type: str, data: bytes) -> str:
    """The receiver's explanation in an error reply: Status.message, else the body's text."""
    if not data:
        return ""
    kind = content_type.split(";")[0].strip().lower()
    if kind in (PROTOBUF, JSON):
        status = _Status()
        try:
            _parse(status, kind, data)
        except (DecodeError, json_format.ParseError, UnicodeDecodeError):
            pass
        else:
            if status.message:
                return str(status.message)[:_MAX_ERROR_TEXT]
        if kind == PROTOBUF:
            return f"{len(data)} bytes of protobuf"
    text = data.decode("utf-8", "replace").strip()
    return " ".join(text.split())[:_MAX_ERROR_TEXT]
