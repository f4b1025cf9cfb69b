"""flusher_otlp against real receivers: rotel (an OpenTelemetry collector), HTTP(S) servers."""

from __future__ import annotations

import calendar
import collections
import gzip
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import orjson
import pytest
import yaml
from google.protobuf import json_format
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsPartialSuccess,
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)

from agent.config import parse_config
from agent.events import EventBus
from agent.params import ConfigError
from agent.pipeline import Pipeline
from agent.plugin import Context, DeliveryRejected
from agent.protocol import Log, LogGroup
from agent.registry import load_registry
from plugins.flusher.otlp import ExportFailed, FlusherOTLP, endpoint_url

ROOT = Path(__file__).resolve().parents[3]
LINUX_2K = ROOT / "tests" / "data" / "loghub" / "Linux_2k.log"
PACK_ID = re.compile(r"^[0-9A-F]+-([0-9A-F]+)$")


# -- helpers -------------------------------------------------------------------------


def source_lines(path: Path) -> list[str]:
    """The lines of a log file as Tailbox reads them (line ends and CRs stripped)."""
    lines = [line.rstrip("\r") for line in path.read_bytes().decode("utf-8").split("\n")]
    return lines[:-1] if lines[-1] == "" else lines


def write_config(path: Path, log_glob: str, flusher: dict, **sections: object) -> Path:
    config = {
        "inputs": [{"Type": "input_file", "FilePaths": [log_glob]}],
        **sections,
        "flushers": [{"Type": "flusher_otlp", **flusher}],
    }
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return path


def isolated_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "TAILBOX_STATE_DIR": str(tmp_path / "state"),
        "TAILBOX_CONFIG_DIR": str(tmp_path / "cfg"),
        **extra,
    }


def tailbox(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "agent.cli", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=timeout,
    )


def wait_until(condition, timeout: float = 20.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"{what}: not met within {timeout} s"
        time.sleep(0.02)


# -- mapping and configuration -------------------------------------------------------


def test_endpoint_without_a_path_gets_the_logs_path():
    assert endpoint_url("http://127.0.0.1:4318") == "http://127.0.0.1:4318/v1/logs"
    assert endpoint_url("https://h/") == "https://h/v1/logs"
    assert endpoint_url("https://h/otlp/v1/logs") == "https://h/otlp/v1/logs"


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"Endpoint": "127.0.0.1:4318"}, "Endpoint: must be an http:// or https:// URL"),
        ({"Endpoint": "http://h:x/"}, "Endpoint: is not a URL"),
        ({"Endpoint": "http://h", "CAFile": "/ca.pem"}, "CAFile: applies to https://"),
        ({"Endpoint": "https://h", "CAFile": "/nonexistent.pem"}, "CAFile: cannot load"),
        ({"Endpoint": "http://h", "Headers": {"Content-Type": "x"}}, "set by the flusher"),
        ({"Endpoint": "http://h", "Headers": {"a b": "x"}}, "not a valid header name"),
        ({"Endpoint": "http://h", "Headers": {"K": "${KEY}"}}, "not a `${env:NAME}` reference"),
        ({"Endpoint": "http://h", "Encoding": "xml"}, "Encoding: must be one of"),
    ],
)
def test_configuration_mistakes_are_named(config, message):
    with pytest.raises(ConfigError, match=re.escape(message)) as e:
        FlusherOTLP.create(config)
    assert e.value.plugin == "flusher_otlp"


# -- a plain HTTP(S) receiver that answers from a script ------------------------------


@dataclass
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""


@dataclass
class Received:
    at: float
    headers: dict[str, str]
    request: ExportLogsServiceRequest

    def bodies(self) -> list[str]:
        return [
            r.body.string_value
            for rl in self.request.resource_logs
            for sl in rl.scope_logs
            for r in sl.log_records
        ]


class ScriptedReceiver:
    """An OTLP/HTTP endpoint on loopback: decodes every request, answers replies in turn.

    The last reply repeats once the script is used up.
    """

    def __init__(self, replies: list[Reply], tls: ssl.SSLContext | None = None) -> None:
        self.replies = list(replies)
        self.received: list[Received] = []
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.receiver = self  # type: ignore[attr-defined]
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.scheme = "https" if tls is not None else "http"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    @property
    def endpoint(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.server.server_address[1]}"

    def answer(self, headers: dict[str, str], request: ExportLogsServiceRequest) -> Reply:
        with self.lock:
            self.received.append(Received(time.monotonic(), headers, request))
            return self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        data = self.rfile.read(int(self.headers["Content-Length"]))
        if self.headers.get("Content-Encoding") == "gzip":
            data = gzip.decompress(data)
        request = ExportLogsServiceRequest()
        if self.headers["Content-Type"] == "application/json":
            json_format.Parse(data, request)
        else:
            request.ParseFromString(data)
        reply = self.server.receiver.answer(dict(self.headers), request)  # type: ignore[attr-defined]
        self.send_response(reply.status)
        for key, value in reply.headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)

    def log_message(self, format: str, *args: object) -> None:
        pass  # keep test output clean


@pytest.fixture
def receiver_factory():
    receivers: list[ScriptedReceiver] = []

    def make(*replies: Reply, tls: ssl.SSLContext | None = None) -> ScriptedReceiver:
        receiver = ScriptedReceiver(list(replies) or [Reply()], tls)
        receivers.append(receiver)
        return receiver

    yield make
    for receiver in receivers:
        receiver.close()


def run_pipeline(tmp_path: Path, lines: list[str], flusher: dict) -> tuple[bool, Pipeline, list]:
    """Read `lines` once through a real pipeline into flusher_otlp; (ok, pipeline, events)."""
    log = tmp_path / "app.log"
    log.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    text = yaml.safe_dump(
        {
            "global": {"StopTimeoutSecs": 20},
            "inputs": [{"Type": "input_file", "FilePaths": [str(log)]}],
            "flushers": [{"Type": "flusher_otlp", **flusher}],
        }
    )
    events = EventBus()
    pipeline = Pipeline(parse_config(text, name="p"), load_registry(), events, once=True)
    ok = pipeline.run_once()
    return ok, pipeline, events.history()


LINES = [f"line {i}" for i in range(10)]


def test_400_is_not_retried_and_the_logs_count_as_dropped(tmp_path, receiver_factory):
    status = orjson.dumps({"code": 3, "message": "log record too old"})
    receiver = receiver_factory(Reply(400, {"Content-Type": "application/json"}, status))
    ok, pipeline, events = run_pipeline(tmp_path, LINES, {"Endpoint": receiver.endpoint})
    assert len(receiver.received) == 1  # not retried
    assert pipeline.metrics.dropped == 10 and pipeline.metrics.delivered_logs == 0
    assert pipeline.metrics.errors == 1
    errors = [e for e in events if e.kind == "flusher_error"]
    assert len(errors) == 1 and errors[0].data["permanent"]
    assert "HTTP 400 Bad Request: log record too old" in errors[0].data["error"]
    assert ok  # rejected groups are settled, not left for the next run


def test_429_waits_for_retry_after_then_delivers(tmp_path, receiver_factory):
    receiver = receiver_factory(Reply(429, {"Retry-After": "1"}), Reply(200))
    ok, pipeline, events = run_pipeline(tmp_path, LINES, {"Endpoint": receiver.endpoint})
    assert ok and pipeline.metrics.delivered_logs == 10 and pipeline.metrics.dropped == 0
    assert len(receiver.received) == 2
    assert receiver.received[1].at - receiver.received[0].at >= 0.95
    assert receiver.received[1].bodies() == LINES
    kinds = [e.kind for e in events if e.kind.startswith("flusher_")]
    assert kinds == ["flusher_error", "flusher_recovered"]
    error = next(e for e in events if e.kind == "flusher_error")
    assert "HTTP 429" in error.data["error"] and "wait 1 s" in error.data["error"]
    assert not error.data["permanent"]
    assert pipeline.metrics.errors == 1  # the lane slept out the wait: no fast-failed tries


def test_503_is_retried_with_backoff_until_delivered(tmp_path, receiver_factory):
    receiver = receiver_factory(Reply(503), Reply(502), Reply(200))
    ok, pipeline, _ = run_pipeline(tmp_path, LINES, {"Endpoint": receiver.endpoint})
    assert ok and pipeline.metrics.delivered_logs == 10
    assert len(receiver.received) == 3
    assert all(r.bodies() == LINES for r in receiver.received)
    assert pipeline.metrics.errors == 2


@pytest.mark.parametrize("encoding", ["protobuf", "json"])
def test_partial_success_is_delivered_with_a_warning(tmp_path, receiver_factory, encoding):
    response = ExportLogsServiceResponse(
        partial_success=ExportLogsPartialSuccess(rejected_log_records=3, error_message="too old")
    )
    if encoding == "json":
        reply = Reply(
            200, {"Content-Type": "application/json"}, json_format.MessageToJson(response).encode()
        )
    else:
        reply = Reply(200, {"Content-Type": "application/x-protobuf"}, response.SerializeToString())
    receiver = receiver_factory(reply)
    flusher = {"Endpoint": receiver.endpoint, "Encoding": encoding}
    ok, pipeline, events = run_pipeline(tmp_path, LINES, flusher)
    assert ok and pipeline.metrics.delivered_logs == 10 and len(receiver.received) == 1
    warnings = [e.data["message"] for e in events if e.kind == "warning"]
    assert len(warnings) == 1
    assert "refused 3 log record(s)" in warnings[0] and "too old" in warnings[0]


def test_a_big_flush_is_split_and_a_retry_resends_only_what_failed(receiver_factory):
    receiver = receiver_factory(Reply(200), Reply(503), Reply(200))
    flusher = FlusherOTLP.create({"Endpoint": receiver.endpoint, "MaxRequestSizeKB": 16})
    flusher.init(Context())
    text = "x" * 100
    groups = [
        LogGroup(logs=[Log(1, {"content": f"{g} {i} {text}"}) for i in range(100)])
        for g in range(3)
    ]
    with pytest.raises(ExportFailed, match="HTTP 503"):
        flusher.flush(groups)
    flusher.flush(groups)  # the pipeline's retry: the same call again
    flusher.stop()
    sent = [[b.split()[0] for b in r.bodies()[::100]] for r in receiver.received]
    assert sent == [["0"], ["1"], ["1"], ["2"]]


# -- TLS -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory) -> tuple[Path, Path]:
    """A self-signed certificate for localhost and 127.0.0.1, made by the openssl CLI."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.fail("the TLS tests need the openssl command to make a certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            openssl,
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return cert, key


def test_tls_is_verified_and_a_ca_file_makes_a_private_receiver_trusted(
    self_signed, receiver_factory
):
    cert, key = self_signed
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_tls.load_cert_chain(cert, key)
    receiver = receiver_factory(Reply(200), tls=server_tls)
    group = LogGroup(logs=[Log(1, {"content": "over tls"})])

    untrusting = FlusherOTLP.create({"Endpoint": receiver.endpoint, "TimeoutSecs": 5})
    untrusting.init(Context())
    with pytest.raises(ExportFailed, match="CERTIFICATE_VERIFY_FAILED") as failure:
        untrusting.flush([group])
    untrusting.stop()
    assert not isinstance(failure.value, DeliveryRejected)  # the pipeline retries it
    assert receiver.received == []

    trusting = FlusherOTLP.create({"Endpoint": receiver.endpoint, "CAFile": str(cert)})
    trusting.init(Context())
    trusting.flush([group])
    trusting.stop()
    assert [r.bodies() for r in receiver.received] == [["over tls"]]


def test_insecure_skip_verify_delivers_and_says_so(self_signed, receiver_factory):
    cert, key = self_signed
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_tls.load_cert_chain(cert, key)
    receiver = receiver_factory(Reply(200), tls=server_tls)
    reports = []
    flusher = FlusherOTLP.create({"Endpoint": receiver.endpoint, "InsecureSkipVerify": True})
    flusher.init(Context(report=lambda kind, data: reports.append((kind, data["message"]))))
    flusher.flush([LogGroup(logs=[Log(1, {"content": "unchecked"})])])
    flusher.stop()
    assert [r.bodies() for r in receiver.received] == [["unchecked"]]
    [(kind, message)] = reports
    assert kind == "warning" and "InsecureSkipVerify is on" in message


# -- headers from the environment -----------------------------------------------------


def test_a_header_from_an_environment_variable_reaches_the_receiver(tmp_path, receiver_factory):
    receiver = receiver_factory(Reply(200))
    (tmp_path / "app.log").write_text("hello\n")
    flusher = {
        "Endpoint": receiver.endpoint,
        "Headers": {
            "X-Api-Key": "${env:TAILBOX_TEST_KEY}",
            "Authorization": "Bearer ${env:TAILBOX_TEST_KEY}",
        },
    }
    config = write_config(tmp_path / "p.yml", f"{tmp_path}/*.log", flusher)
    assert "s3cret" not in config.read_text()
    run = tailbox(
        "run", "--once", "-c", str(config), env=isolated_env(tmp_path, TAILBOX_TEST_KEY="s3cret")
    )
    assert run.returncode == 0, run.stderr
    [received] = receiver.received
    assert received.headers["X-Api-Key"] == "s3cret"
    assert received.headers["Authorization"] == "Bearer s3cret"
    assert received.bodies() == ["hello"]


def test_a_missing_environment_variable_stops_the_pipeline_from_loading(tmp_path):
    (tmp_path / "app.log").write_text("hello\n")
    flusher = {
        "Endpoint": "http://127.0.0.1:9",
        "Headers": {"X-Api-Key": "${env:TAILBOX_TEST_KEY}"},
    }
    config = write_config(tmp_path / "p.yml", f"{tmp_path}/*.log", flusher)
    env = isolated_env(tmp_path)
    env.pop("TAILBOX_TEST_KEY", None)
    for args in (("validate", "-c", str(config)), ("run", "--once", "-c", str(config))):
        result = tailbox(*args, env=env)
        assert result.returncode == 2, result.stderr
        assert (
            "flusher_otlp: Headers: header X-Api-Key: the environment variable "
            "TAILBOX_TEST_KEY is not set" in result.stderr
        )
        assert "Traceback" not in result.stderr


# -- against rotel, a real OpenTelemetry receiver ---------------------------------------


def test_a_real_log_reaches_rotel_with_bodies_times_and_attributes(tmp_path, rotel):
    rotel.start()
    log = tmp_path / "logs" / "Linux_2k.log"
    log.parent.mkdir()
    shutil.copyfile(LINUX_2K, log)
    expected = source_lines(log)
    config = write_config(
        tmp_path / "linux.yml", f"{log.parent}/*.log", {"Endpoint": rotel.endpoint}
    )
    before = time.time_ns()
    run = tailbox("run", "--once", "-c", str(config), env=isolated_env(tmp_path))
    after = time.time_ns()
    assert run.returncode == 0, run.stderr
    records = rotel.wait_for(lambda rs: len(rs) >= len(expected))
    assert len(records) == 2000
    assert [r.body for r in records] == expected  # every line, once, in file order
    for r in records:
        assert before <= r.time_unix_nano <= after  # when it was read: no time processor
        assert r.observed_time_unix_nano == r.time_unix_nano
        assert r.attributes == {} and r.severity_number == 0 and r.severity_text == ""
        assert r.resource["host.name"] == socket.gethostname()
        assert r.resource["tailbox.pipeline"] == "linux"
        assert r.resource["log.file.path"] == r.resource["__path__"] == str(log)
    # One ResourceLogs per LogGroup, each with its pack id; sequence numbers run on.
    pack_ids = {r.resource_index: r.resource["__pack_id__"] for r in records}
    seqs = [int(PACK_ID.match(pack_ids[i]).group(1), 16) for i in sorted(pack_ids)]
    assert seqs == list(range(1, len(seqs) + 1))
    sizes = collections.Counter(r.resource_index for r in records)
    assert max(sizes.values()) <= 1024  # aggregator_default's MaxLogCount


LEVELS = [
    ("trace", 1),
    ("DEBUG", 5),
    ("Info", 9),
    ("notice", 10),
    ("WARN", 13),
    ("warning", 13),
    ("error", 17),
    ("err", 17),
    ("CRIT", 18),
    ("fatal", 21),
    ("alert", 21),
    ("emerg", 22),
    ("verbose", 0),
]


def test_json_encoding_with_parsed_fields_reaches_rotel(tmp_path, rotel):
    rotel.start()
    log = tmp_path / "logs" / "app.log"
    log.parent.mkdir()
    lines, expected = [], []
    for i in range(260):
        level, number = LEVELS[i % len(LEVELS)]
        stamp = f"2026-11-28 10:{i // 60:02d}:{i % 60:02d}.{i * 1000 + 7:09d}"
        lines.append(f"{stamp} {level} user=u{i % 7} message number {i} (ok)")
        seconds = calendar.timegm(time.strptime(stamp[:19], "%Y-%m-%d %H:%M:%S"))
        expected.append(
            (f"message number {i} (ok)", seconds * 10**9 + i * 1000 + 7, level, number, f"u{i % 7}")
        )
    log.write_text("".join(f"{line}\n" for line in lines))
    processors = [
        {
            "Type": "processor_regex",
            "Regex": r"(\S+ \S+) (\S+) user=(\S+) (.*)",
            "Keys": ["time", "level", "user", "content"],
        },
        {
            "Type": "processor_strptime",
            "SourceKey": "time",
            "Format": "%Y-%m-%d %H:%M:%S.%f",
            "AdjustUTCOffset": True,
            "UTCOffset": 0,
            "KeepSource": False,
        },
    ]
    flusher = {
        "Endpoint": rotel.endpoint,
        "Encoding": "json",
        "Compression": "none",
        "ResourceAttributes": {"service.name": "billing", "host.name": "pc-7"},
    }
    config = write_config(tmp_path / "app.yml", str(log), flusher, processors=processors)
    before = time.time_ns()
    run = tailbox("run", "--once", "-c", str(config), env=isolated_env(tmp_path))
    after = time.time_ns()
    assert run.returncode == 0, run.stderr
    records = rotel.wait_for(lambda rs: len(rs) >= len(expected))
    got = [
        (r.body, r.time_unix_nano, r.severity_text, r.severity_number, r.attributes.get("user"))
        for r in records
    ]
    assert got == expected
    for r in records:
        assert r.attributes.keys() == {"user"}  # level became the severity, time the timestamp
        assert before <= r.observed_time_unix_nano <= after
        assert r.resource["service.name"] == "billing" and r.resource["host.name"] == "pc-7"


def test_receiver_down_then_killed_mid_stream_loses_nothing(tmp_path, rotel):
    """Down at start (the queue fills), then SIGKILLed with a request in flight: all arrives."""
    logs = tmp_path / "logs"
    logs.mkdir()
    log = logs / "app.log"
    expected = source_lines(LINUX_2K)
    log.write_text("".join(f"{line}\n" for line in expected))
    config = write_config(
        tmp_path / "live.yml",
        f"{logs}/*.log",
        {"Endpoint": rotel.endpoint, "TimeoutSecs": 1},
        aggregators=[{"Type": "aggregator_context", "MaxLogCount": 50}],
        **{"global": {"AggregatIntervalMs": 100, "DefaultLogGroupQueueSize": 2}},
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "agent.cli", "run", "-c", str(config)],
        cwd=ROOT,
        env=isolated_env(tmp_path),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    stderr: list[str] = []
    reader = threading.Thread(target=lambda: stderr.extend(proc.stderr), daemon=True)
    reader.start()

    def said(text: str) -> int:
        return sum(text in line for line in list(stderr))

    def append(prefix: str, n: int) -> None:
        new = [f"{prefix} {i}" for i in range(n)]
        with log.open("a") as f:
            f.write("".join(f"{line}\n" for line in new))
        expected.extend(new)

    def arrived(records) -> bool:
        have = collections.Counter(r.body for r in records)
        return not collections.Counter(expected) - have

    try:
        # 1. No receiver: the flusher fails, its backlog and then the queue fill up.
        wait_until(
            lambda: said("flusher flusher_otlp failed") and said("queue full"), what="queue full"
        )
        rotel.start()
        rotel.wait_for(arrived)
        assert said("flusher flusher_otlp delivers again")
        # 2. A stream: the receiver freezes, so a request is in flight unanswered, and is killed.
        append("stream before", 300)
        rotel.wait_for(arrived)
        os.kill(rotel.proc.pid, signal.SIGSTOP)
        append("stream during", 300)
        wait_until(lambda: said("flusher flusher_otlp failed") >= 2, what="a timed-out request")
        rotel.kill()
        append("stream while down", 300)
        # 3. Back on the same port: everything written arrives.
        rotel.start()
        records = rotel.wait_for(arrived, timeout=40)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    reader.join(timeout=10)
    proc.stderr.close()
    assert proc.returncode == 0, "".join(stderr)
    duplicates = len(records) - len(expected)
    print(f"{len(expected)} logs, {len(records)} records received, {duplicates} duplicates")
    assert not collections.Counter(expected) - collections.Counter(r.body for r in records)
