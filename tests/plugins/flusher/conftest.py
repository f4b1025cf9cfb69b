"""A real OpenTelemetry receiver for flusher tests: rotel's `rotel-agent`, run on loopback."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
ROTEL_VERSION = "0.0.1a15"  # pinned: the tests parse its debug output
ROTEL_DIR = ROOT / ".tools" / "rotel"
ROTEL_BINARY = (
    ROTEL_DIR / "rotel" / ("rotel-agent.exe" if sys.platform == "win32" else "rotel-agent")
)

_ATTRIBUTE = re.compile(r"^\s*-> (.+?): (\w+)\((.*)\)$")


def _fetch_rotel() -> None:
    """Download the rotel wheel (tagged for Python 3.11: not installable here) and unpack it."""
    with tempfile.TemporaryDirectory() as tmp:
        download = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--only-binary=:all:",
                "--python-version",
                "3.11",
                f"rotel=={ROTEL_VERSION}",
                "-d",
                tmp,
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
        wheels = list(Path(tmp).glob("rotel-*.whl"))
        if download.returncode != 0 or not wheels:
            pytest.fail(
                f"cannot get the rotel OTLP receiver the flusher tests need: pip download "
                f"rotel=={ROTEL_VERSION} failed:\n{download.stdout}\n{download.stderr}"
            )
        unpacked = Path(tmp) / "unpacked"
        with zipfile.ZipFile(wheels[0]) as wheel:
            wheel.extractall(unpacked)
        binary = unpacked / ROTEL_BINARY.relative_to(ROTEL_DIR)
        binary.chmod(0o755)
        ROTEL_DIR.parent.mkdir(parents=True, exist_ok=True)
        shutil.rmtree(ROTEL_DIR, ignore_errors=True)
        # Moved into place whole, so an interrupted fetch never leaves a half binary.
        shutil.move(str(unpacked), ROTEL_DIR)


@pytest.fixture(scope="session")
def rotel_binary() -> Path:
    if not ROTEL_BINARY.is_file():
        _fetch_rotel()
    return ROTEL_BINARY


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, timeout: float, alive: Callable[[], bool] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            if alive is not None and not alive():
                pytest.fail(f"the receiver on port {port} exited while starting")
            if time.monotonic() > deadline:
                pytest.fail(f"nothing listens on port {port} after {timeout} s")
            time.sleep(0.02)


@dataclass
class Record:
    """One LogRecord as rotel printed it, with its ResourceLog's attributes."""

    resource: dict[str, str]
    resource_index: int
    time_unix_nano: int = 0
    observed_time_unix_nano: int = 0
    severity_text: str = ""
    severity_number: int = 0
    body: str | None = None
    attributes: dict[str, str] = field(default_factory=dict)


class Rotel:
    """rotel-agent on loopback; every record it prints is parsed into `records`.

    `records` keeps growing across `kill()` and `start()`: a restart on the same port
    continues the same list, as one receiver would.
    """

    def __init__(self, binary: Path, workdir: Path) -> None:
        self.binary = binary
        self.workdir = workdir
        self.port = free_port()
        self.grpc_port = free_port()
        self.records: list[Record] = []
        self._lock = threading.Lock()
        self._resources = 0
        self.proc: subprocess.Popen[str] | None = None
        self._reader: threading.Thread | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                str(self.binary),
                "start",
                "--otlp-http-endpoint",
                f"127.0.0.1:{self.port}",
                "--otlp-grpc-endpoint",
                f"127.0.0.1:{self.grpc_port}",
                "--exporter",
                "blackhole",
                "--debug-log",
                "logs",
                "--debug-log-verbosity",
                "detailed",
                "--pid-file",
                str(self.workdir / "rotel.pid"),
                "--log-file",
                str(self.workdir / "rotel.log"),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            encoding="utf-8",
            errors="replace",
        )
        self._reader = threading.Thread(target=self._read, args=(self.proc,), daemon=True)
        self._reader.start()
        proc = self.proc
        wait_for_port(self.port, 20.0, alive=lambda: proc.poll() is None)

    def _read(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        resource: dict[str, str] = {}
        record: Record | None = None
        in_resource = False
        for raw in proc.stdout:
            line = raw.rstrip("\n")
            if line.startswith("ResourceLog #"):
                resource, in_resource, record = {}, True, None
                self._resources += 1
            elif line.startswith("LogRecord #"):
                in_resource = False
                record = Record(resource, self._resources)
            elif line.startswith("ScopeLogs #"):
                in_resource = False
            elif record is not None and line.startswith("Flags:"):
                with self._lock:
                    self.records.append(record)
                record = None
            elif (m := _ATTRIBUTE.match(line)) is not None:
                if in_resource:
                    resource[m.group(1)] = m.group(3)
                elif record is not None:
                    record.attributes[m.group(1)] = m.group(3)
            elif record is not None:
                key, _, value = line.partition(": ")
                if key == "Timestamp":
                    record.time_unix_nano = int(value)
                elif key == "ObservedTimestamp":
                    record.observed_time_unix_nano = int(value)
                elif key == "SeverityText":
                    record.severity_text = value
                elif key == "SeverityNumber":
                    record.severity_number = int(value.rsplit("(", 1)[1].rstrip(")"))
                elif key == "Body" and value.startswith("Str(") and value.endswith(")"):
                    record.body = value[4:-1]
        proc.stdout.close()

    def snapshot(self) -> list[Record]:
        with self._lock:
            return list(self.records)

    def wait_for(
        self, condition: Callable[[list[Record]], bool], timeout: float = 20.0
    ) -> list[Record]:
        """The records once `condition(records)` holds; fails after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            records = self.snapshot()
            if condition(records):
                return records
            if time.monotonic() > deadline:
                pytest.fail(f"rotel got {len(records)} records; the condition did not hold")
            time.sleep(0.02)

    def kill(self) -> None:
        """SIGKILL: no goodbye to the client, whatever was in flight is gone."""
        self._end(lambda p: p.kill())

    def stop(self) -> None:
        self._end(lambda p: p.terminate())

    def _end(self, how: Callable[[subprocess.Popen[str]], None]) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            how(proc)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        if self._reader is not None:
            self._reader.join(timeout=10)


@pytest.fixture
def rotel(rotel_binary: Path, tmp_path: Path):
    """A rotel receiver on a free loopback port, not started yet; stopped at the end."""
    workdir = tmp_path / "rotel"
    workdir.mkdir()
    receiver = Rotel(rotel_binary, workdir)
    yield receiver
    receiver.stop()
