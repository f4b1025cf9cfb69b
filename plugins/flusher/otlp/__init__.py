"""flusher_otlp: sends LogGroups to an OpenTelemetry receiver as OTLP/HTTP logs."""

from __future__ import annotations

import gzip
import os
import re
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlsplit, urlunsplit

from agent.plugin import ConfigError, Context, DeliveryRejected, Param, Plugin, register
from agent.protocol import LogGroup

if TYPE_CHECKING:
    import ssl

    import urllib3

__all__ = ["ExportFailed", "FlusherOTLP"]

LOGS_PATH = "/v1/logs"
_ENV_REF = re.compile(r"\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}")
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")  # an HTTP header name (RFC 9110 token)
_OWN_HEADERS = frozenset({"content-type", "content-encoding", "content-length", "host"})
_GZIP_LEVEL = 6  # zlib's default: most of level 9's ratio on logs at a fraction of the CPU


class ExportFailed(Exception):
    """An export that did not get through but may on a later try (the pipeline retries,
    not before `retry_after` seconds when the receiver said so)."""

    def __init__(self, message: str, retry_after: float = 0.0) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def _check_endpoint(value: str) -> str | None:
    try:
        url = urlsplit(value)
        url.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as e:
        return f"is not a URL ({e})"
    if url.scheme not in ("http", "https") or not url.hostname:
        return f"must be an http:// or https:// URL with a host, got {value!r}"
    if url.query or url.fragment:
        return "must not have a ?query or #fragment"
    return None


def _check_headers(value: dict[str, str]) -> str | None:
    for name, text in value.items():
        if not _TOKEN.match(name):
            return f"{name!r} is not a valid header name"
        if name.lower() in _OWN_HEADERS:
            return f"{name} is set by the flusher itself"
        if "\r" in text or "\n" in text:
            return f"the value of {name} must be one line"
        if "${" in _ENV_REF.sub("", text):
            return f"the value of {name} has a `${{` that is not a `${{env:NAME}}` reference"
    return None


def _check_attributes(value: dict[str, str]) -> str | None:
    return "attribute names must not be empty" if any(not k for k in value) else None


def endpoint_url(endpoint: str) -> str:
    """The URL requests go to: a base URL without a path gets OTLP's /v1/logs."""
    url = urlsplit(endpoint)
    if url.path in ("", "/"):
        url = url._replace(path=LOGS_PATH)
    return urlunsplit(url)


def resolve_headers(headers: dict[str, str]) -> dict[str, str]:
    """Header values with every `${env:NAME}` replaced by that environment variable.

    ConfigError naming the header and the variable when one is unset or empty.
    """
    for name, text in headers.items():
        for variable in _ENV_REF.findall(text):
            value = os.environ.get(variable, "")
            if not value:
                raise ConfigError(
                    f"header {name}: the environment variable {variable} is not set (or empty)",
                    key="Headers",
                )
            if "\r" in value or "\n" in value:
                raise ConfigError(
                    f"header {name}: the environment variable {variable} holds a line break",
                    key="Headers",
                )
    return {
        name: _ENV_REF.sub(lambda m: os.environ[m.group(1)], text) for name, text in headers.items()
    }


@register
class FlusherOTLP(Plugin):
    """OTLP/HTTP logs exporter; delivery is acknowledged only after a 2xx reply.

    Each `flush(groups)` call becomes one ExportLogsServiceRequest (several when it would
    exceed MaxRequestSizeKB), one ResourceLogs per group. The call returns only after the
    receiver answered 2xx, so the pipeline acknowledges nothing it did not take. Failures
    that may pass (no connection, timeouts, TLS errors, 429, 5xx) raise `ExportFailed` and
    the pipeline's lane retries with exponential backoff and jitter; a `Retry-After` reply
    makes every attempt before that moment fail at once without sending. Any other reply
    raises `DeliveryRejected`: the pipeline counts the groups as dropped and moves on.
    """

    type_name = "flusher_otlp"
    summary = (
        "Sends LogGroups to an OpenTelemetry receiver (Collector, Loki, vendors) as OTLP/HTTP "
        "logs: protobuf or JSON, gzip, TLS verified by default."
    )
    params: ClassVar[tuple[Param, ...]] = (
        Param(
            "Endpoint",
            "str",
            description=(
                "The receiver's OTLP/HTTP logs URL, e.g. `http://127.0.0.1:4318/v1/logs`; a "
                "URL without a path gets `/v1/logs` appended. `https://` turns TLS on."
            ),
            check=_check_endpoint,
        ),
        Param(
            "Encoding",
            "str",
            "protobuf",
            "`protobuf` (`application/x-protobuf`, compact and faster) or `json` "
            "(`application/json`, for receivers that only take OTLP/JSON).",
            choices=("protobuf", "json"),
        ),
        Param(
            "Compression",
            "str",
            "gzip",
            "`gzip` compresses each request body (Content-Encoding: gzip); `none` sends it as is.",
            choices=("gzip", "none"),
        ),
        Param(
            "Headers",
            "dict",
            {},
            "Extra HTTP headers, e.g. an API key. In a value, `${env:NAME}` is replaced by the "
            "environment variable NAME when the pipeline is loaded (an error names the header "
            "and variable when it is unset), so the secret need not be in the file.",
            items="str",
            check=_check_headers,
        ),
        Param(
            "ResourceAttributes",
            "dict",
            {},
            "Extra resource attributes for every request, e.g. `service.name`; they override "
            "the attributes Tailbox sets.",
            items="str",
            check=_check_attributes,
        ),
        Param(
            "TimeoutSecs",
            "float",
            10.0,
            "How long one request may take (connecting, sending, waiting for the reply) "
            "before it counts as failed and is retried.",
            min=0.1,
            max=600,
        ),
        Param(
            "CAFile",
            "str",
            "",
            "A PEM file of the certificate authorities to trust instead of the system's, for a "
            "receiver with a private or self-signed certificate (`https://` only).",
        ),
        Param(
            "InsecureSkipVerify",
            "bool",
            False,
            "DANGEROUS: do not check the receiver's certificate or name. Anyone on the network "
            "path can then read and alter the logs and any API key. For a first test only; "
            "prefer CAFile.",
        ),
        Param(
            "MaxRequestSizeKB",
            "int",
            4096,
            "Groups of one flush are split into several requests above this uncompressed size "
            "(a single bigger group is sent alone). Receivers refuse large bodies: the "
            "OpenTelemetry Collector takes 20 MiB, gRPC-based ones 4 MiB.",
            min=16,
            max=65536,
        ),
        Param(
            "MaxRetryAfterSecs",
            "float",
            60.0,
            "The longest wait a receiver's `Retry-After` can impose; longer ones are cut to this.",
            min=0,
            max=3600,
        ),
    )

    Endpoint: str
    Encoding: str
    Compression: str
    Headers: dict[str, str]
    ResourceAttributes: dict[str, str]
    TimeoutSecs: float
    CAFile: str
    InsecureSkipVerify: bool
    MaxRequestSizeKB: int
    MaxRetryAfterSecs: float

    def check_config(self) -> None:
        self.url = endpoint_url(self.Endpoint)
        https = urlsplit(self.url).scheme == "https"
        if not https and (self.CAFile or self.InsecureSkipVerify):
            key = "CAFile" if self.CAFile else "InsecureSkipVerify"
            raise ConfigError("applies to https:// endpoints only", key=key)
        self._ssl = self._ssl_context() if https else None
        # Resolved now so a missing variable is a configuration error with file and line.
        self._headers = resolve_headers(self.Headers)

    def _ssl_context(self) -> ssl.SSLContext:
        import ssl  # with the first https endpoint: ssl costs every `tailbox` start ~8 ms

        cafile = os.path.expanduser(self.CAFile) if self.CAFile else None
        try:
            context = ssl.create_default_context(cafile=cafile)
        except (OSError, ssl.SSLError) as e:
            raise ConfigError(f"cannot load {cafile}: {e}", key="CAFile") from None
        if self.InsecureSkipVerify:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    def init(self, context: Context) -> None:
        # urllib3 and protobuf are imported here, not with the module: the registry
        # imports every plugin, and they cost each `tailbox` start ~0.15 s and some MiB.
        import socket

        import urllib3
        from urllib3.exceptions import InsecureRequestWarning

        from ._otlp import Encoder

        self._urllib3 = urllib3
        self._context = context
        resource = {"host.name": socket.gethostname(), "tailbox.pipeline": context.pipeline}
        self._encoder = Encoder(resource, self.ResourceAttributes, self.Encoding)
        self._gzip = self.Compression == "gzip"
        headers = {"Content-Type": self._encoder.content_type, "User-Agent": "tailbox"}
        if self._gzip:
            headers["Content-Encoding"] = "gzip"
        self._request_headers = headers | self._headers
        self._timeout = urllib3.Timeout(total=self.TimeoutSecs)
        if self.InsecureSkipVerify:
            # Said once, loudly, here rather than as a warning on every request.
            urllib3.disable_warnings(InsecureRequestWarning)
            message = (
                f"flusher_otlp: InsecureSkipVerify is on: the certificate of {self.url} is "
                "not checked, anyone on the network path can read and alter the logs"
            )
            context.logger.warning(message)
            context.report("warning", message=message)
        self._http: urllib3.PoolManager = urllib3.PoolManager(
            num_pools=1, maxsize=1, ssl_context=self._ssl
        )
        self._not_before = 0.0  # monotonic time before which the receiver asked not to send
        # A retried call resends only what did not get through: (its groups, groups sent).
        self._progress: tuple[list[LogGroup], int] | None = None
        self.rejected_records = 0  # refused by the receiver in partial-success replies

    def flush(self, groups: list[LogGroup]) -> None:
        wait = self._not_before - time.monotonic()
        if wait > 0:
            raise ExportFailed(
                f"the receiver asked to wait (Retry-After): {wait:.1f} s left", retry_after=wait
            )
        sent = 0
        if self._progress is not None and self._progress[0] is groups:
            sent = self._progress[1]
        self._progress = None
        try:
            for count, body in self._requests(groups[sent:]):
                self._post(body)
                sent += count
        finally:
            if sent < len(groups):
                self._progress = (groups, sent)

    def _requests(self, groups: list[LogGroup]) -> Iterator[tuple[int, bytes]]:
        """(number of groups, uncompressed body) per request, each under MaxRequestSizeKB."""
        limit = self.MaxRequestSizeKB * 1024
        encoder = self._encoder
        pieces: list[Any] = []
        size = 0
        for n, piece in encoder.pieces(groups, time.time_ns()):
            if pieces and size + n > limit:
                yield len(pieces), encoder.body(pieces)
                pieces, size = [], 0
            pieces.append(piece)
            size += n
        if pieces:
            yield len(pieces), encoder.body(pieces)

    def _post(self, body: bytes) -> None:
        from urllib3.exceptions import HTTPError

        from ._otlp import error_text, partial_success

        if self._gzip:
            body = gzip.compress(body, compresslevel=_GZIP_LEVEL, mtime=0)
        try:
            response = self._http.request(
                "POST",
                self.url,
                body=body,
                headers=self._request_headers,
                timeout=self._timeout,
                retries=False,
                redirect=False,
            )
        except HTTPError as e:  # no connection, timeout, TLS failure, broken reply
            raise ExportFailed(f"{self.url}: {e}") from e
        status = response.status
        content_type = response.headers.get("Content-Type", "")
        if 200 <= status < 300:
            partial = partial_success(content_type, response.data)
            if partial is not None:
                self._partial(partial.rejected, partial.message)
            return
        problem = f"HTTP {status} {response.reason or ''}".rstrip()
        explanation = error_text(content_type, response.data)
        if explanation:
            problem += f": {explanation}"
        if status == 429 or status >= 500:
            delay = self._retry_after(response.headers.get("Retry-After"))
            if delay:
                self._not_before = time.monotonic() + delay
                problem += f"; the receiver asked to wait {delay:g} s"
            raise ExportFailed(problem, retry_after=delay)
        if 300 <= status < 400:
            problem += f"; it redirects to {response.headers.get('Location')}: set Endpoint to that"
        raise DeliveryRejected(problem)

    def _retry_after(self, value: str | None) -> float:
        if not value:
            return 0.0
        from urllib3.exceptions import InvalidHeader

        try:
            seconds = self._urllib3.Retry().parse_retry_after(value)
        except InvalidHeader:
            return 0.0
        return min(max(seconds, 0.0), self.MaxRetryAfterSecs)

    def _partial(self, rejected: int, message: str) -> None:
        # The receiver took the rest and will not take these on a retry either: report, go on.
        self.rejected_records += rejected
        text = (
            f"flusher_otlp: the receiver refused {rejected} log record(s) of a request "
            f"it otherwise accepted: {message or 'no reason given'}"
        )
        self._context.logger.warning(text)
        self._context.report("warning", message=text)

    def stop(self) -> None:
        self._http.clear()
