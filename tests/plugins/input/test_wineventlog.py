"""input_wineventlog on any system: event XML, levels, buffers, bookmarks, problems, platforms.

The Windows Event Log API does not exist on Linux: `wevtapi_fake.FakeEventLog` stands in
for wevtapi.dll and kernel32.dll (the same calls against the real API run in
test_wineventlog_real.py on the Windows runner). Everything above the binding — XML
parsing, the ledger, the reader, the pipeline — is the real code.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
import pytest

import plugins.input.wineventlog._reader as reader_module
import plugins.input.wineventlog._wevtapi as api
from agent.acks import AckCounter
from agent.checkpoint import CheckpointStore
from agent.config import default_config, parse_config
from agent.metrics import PipelineMetrics
from agent.params import ConfigError
from agent.pipeline import Pipeline
from agent.plugin import Context, Input
from agent.protocol import Log, LogContext, LogGroup
from agent.registry import Registry
from plugins.input.wineventlog import WinEventLogInput
from plugins.input.wineventlog._events import level_name, parse_event, parse_system_time
from plugins.input.wineventlog._ledger import EventOrigin, Ledger, section_of
from tests.output import delivered_logs
from tests.plugins.input.running import running, wait_until
from tests.plugins.input.wevtapi_fake import NS, Channel, FakeEventLog, event_xml

DEADLINE = 10.0

# The example event of Microsoft's "Event Representation for Event Consumers" (an event
# with a UserData template), as the page prints it — namespace spelling included.
MS_DOCS_EVENT = """\
<Event xmlns="https://schemas.microsoft.com/win/2004/08/events/event">
  <System>
    <Provider Name="Microsoft-Windows-TaskScheduler"
        Guid="{de7b24ea-73c8-4a09-985d-5bdadcfa9017}" />
    <EventID>310</EventID>
    <Version>0</Version>
    <Level>4</Level>
    <Task>310</Task>
    <Opcode>0</Opcode>
    <Keywords>8000000000000000</Keywords>
    <TimeCreated SystemTime="2006-02-28T21:51:44.754Z" />
    <EventRecordID>7664</EventRecordID>
    <Correlation />
    <Execution ProcessID="1068" ThreadID="1496" />
    <Channel>Microsoft-Windows-TaskScheduler/Operational</Channel>
    <Computer>MyComputerName</Computer>
    <Security UserID="S-1-5-18" />
  </System>
  <UserData>
    <TaskEngineProcessStarted xmlns="http://manifests.microsoft.com/win/2004/08/windows/eventlog">
      <TaskEngineName>S-1-5-19:NT AUTHORITY\\Local Service:Interactive:LUA</TaskEngineName>
      <Command>taskeng.exe</Command>
      <ProcessID>2984</ProcessID>
      <ThreadID>2384</ThreadID>
    </TaskEngineProcessStarted>
  </UserData>
</Event>
"""

# A Security audit event as EvtRender gives it: level 0, named EventData.
LOGON_EVENT = (
    f"<Event xmlns='{NS}'><System><Provider Name='Microsoft-Windows-Security-Auditing' "
    "Guid='{54849625-5478-4994-a5ba-3e3b0328c30d}'/><EventID>4624</EventID><Version>2</Version>"
    "<Level>0</Level><Task>12544</Task><Opcode>0</Opcode><Keywords>0x8020000000000000</Keywords>"
    "<TimeCreated SystemTime='2026-11-28T10:00:02.123456789Z'/><EventRecordID>91234"
    "</EventRecordID><Correlation ActivityID='{7c8b1fd4-0f55-4b3c-a7c6-2f2e2d10c2a1}'/>"
    "<Execution ProcessID='764' ThreadID='8412'/><Channel>Security</Channel>"
    "<Computer>DESKTOP-1.example.net</Computer><Security/></System><EventData>"
    "<Data Name='SubjectUserSid'>S-1-5-18</Data><Data Name='SubjectUserName'>DESKTOP-1$</Data>"
    "<Data Name='TargetUserName'>alice</Data><Data Name='LogonType'>2</Data></EventData></Event>"
)


# -- the event XML ------------------------------------------------------------------------


def test_the_microsoft_docs_example_event_parses() -> None:
    record = parse_event(MS_DOCS_EVENT)
    assert record.provider == "Microsoft-Windows-TaskScheduler"
    assert record.event_id == 310
    assert record.level == 4 and level_name(record.level) == "information"
    assert record.record_id == 7664
    assert record.channel == "Microsoft-Windows-TaskScheduler/Operational"
    assert record.computer == "MyComputerName"
    assert (record.time, record.time_ns) == (1141163504, 754_000_000)
    assert ("Command", "taskeng.exe") in record.data  # UserData leaves
    log = record.to_log(None, event_data=True)
    assert log.contents["message"].splitlines()[1] == "Command: taskeng.exe"
    assert log.contents["event_data.ProcessID"] == "2984"
    assert (log.time, log.time_ns) == (1141163504, 754_000_000)


def test_a_classic_event_gives_every_field_and_its_data_as_message() -> None:
    xml = event_xml("Application", 4711, "MyApp", 100, 3, ("disk 91% full",))
    log = parse_event(xml).to_log(None)
    assert log.contents == {
        "message": "disk 91% full",
        "level": "warning",
        "provider": "MyApp",
        "event_id": "100",
        "record_id": "4711",
        "channel": "Application",
        "computer": "DESKTOP-1",
    }
    assert (log.time, log.time_ns) == (1795860002, 123_456_700)
    assert parse_event(xml).to_log("formatted").contents["message"] == "formatted"


def test_named_event_data_and_level_zero() -> None:
    record = parse_event(LOGON_EVENT)
    assert (record.provider, record.event_id, record.record_id) == (
        "Microsoft-Windows-Security-Auditing",
        4624,
        91234,
    )
    log = record.to_log(None, event_data=True, xml=LOGON_EVENT)
    assert log.contents["level"] == "information"
    assert log.contents["event_data.TargetUserName"] == "alice"
    assert "TargetUserName: alice" in log.contents["message"].splitlines()
    assert log.contents["xml"] == LOGON_EVENT
    assert log.time_ns == 123_456_789


def test_unnamed_data_becomes_params_and_forwarded_events_keep_their_message() -> None:
    xml = event_xml("Application", 1, data=("first", "second"))
    assert parse_event(xml).data_fields() == {
        "event_data.param1": "first",
        "event_data.param2": "second",
    }
    forwarded = xml.replace(
        "</Event>",
        "<RenderingInfo Culture='en-US'><Message>The rendered text.</Message>"
        "<Level>Information</Level></RenderingInfo></Event>",
    )
    assert parse_event(forwarded).to_log(None).contents["message"] == "The rendered text."


@pytest.mark.parametrize(
    ("level", "name"),
    [
        (0, "information"),
        (1, "critical"),
        (2, "error"),
        (3, "warning"),
        (4, "information"),
        (5, "verbose"),
        (16, "16"),
    ],
)
def test_levels(level: int, name: str) -> None:
    assert level_name(level) == name
    assert parse_event(event_xml("System", 1, level=level)).to_log(None).contents["level"] == name


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-28T10:00:02Z", (1795860002, 0)),
        ("2026-11-28T10:00:02.1Z", (1795860002, 100_000_000)),
        ("2026-11-28T10:00:02.1234567Z", (1795860002, 123_456_700)),
        ("2026-11-28T10:00:02.123456789Z", (1795860002, 123_456_789)),
        ("2026-11-28T12:00:02.5+02:00", (1795860002, 500_000_000)),
        ("yesterday", None),
        ("2026-13-45T10:00:02Z", None),
    ],
)
def test_system_time(text: str, expected: tuple[int, int] | None) -> None:
    assert parse_system_time(text) == expected


def test_an_event_without_time_is_stamped_now_and_garbage_is_an_error() -> None:
    xml = event_xml("Application", 1).replace(
        "<TimeCreated SystemTime='2026-11-28T10:00:02.1234567Z'/>", ""
    )
    before = time.time()
    assert before - 1 <= parse_event(xml).time <= time.time() + 1
    with pytest.raises(ValueError, match="not an event's XML"):
        parse_event("<Event><System>")


# -- the binding: buffers, errors, metadata -------------------------------------------------


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeEventLog:
    return FakeEventLog().install(monkeypatch)


def test_the_module_imports_without_loading_windows_dlls() -> None:
    code = (
        "import plugins.input.wineventlog as p, plugins.input.wineventlog._wevtapi as a; "
        "assert a._wevtapi is None and a._kernel32 is None; print(p.WinEventLogInput.type_name)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "input_wineventlog"


def _one_event(fake: FakeEventLog) -> int:
    results = api.query("Application", "*")
    [handle] = api.next_events(results, 1, 100) or []
    api.close(results)
    return handle


def test_render_grows_its_buffer_to_the_size_asked_for_in_bytes(fake: FakeEventLog) -> None:
    long_text = "x" * 5000
    fake.write("Application", long_text)
    handle = _one_event(fake)
    renderer = api.Renderer(chars=16)
    xml = renderer.event_xml(handle)
    assert long_text in xml and xml.startswith("<Event")
    assert renderer.resizes == 1  # straight to the size EvtRender reported
    assert renderer.capacity >= len(xml) + 1
    assert renderer.event_xml(handle) == xml and renderer.resizes == 1  # reused
    api.close(handle)


def test_format_message_grows_its_buffer_in_characters(fake: FakeEventLog) -> None:
    fake.write("Application", "line one\nline two " + "y" * 3000)
    handle = _one_event(fake)
    publisher = api.Publishers().get("TailboxTest")
    assert publisher is not None
    renderer = api.Renderer(chars=8)
    message = renderer.message(publisher, handle)
    assert message == "line one\nline two " + "y" * 3000  # CRLF and the trailing one gone
    assert renderer.resizes == 1
    api.close(handle)
    api.close(publisher)


def test_messages_with_unresolved_inserts_are_kept_and_missing_ones_are_none(
    fake: FakeEventLog,
) -> None:
    first = fake.write("Application", "Service %1 started")
    fake.write("Application", None, data=("raw data",))
    fake.partial.add(first)
    results = api.query("Application", "*")
    handles = api.next_events(results, 10, 100) or []
    publisher = api.Publishers().get("TailboxTest") or 0
    renderer = api.Renderer()
    assert renderer.message(publisher, handles[0]) == "Service %1 started"
    assert renderer.message(publisher, handles[1]) is None
    for h in [*handles, results, publisher]:
        api.close(h)
    assert fake.open_handles() == {}


def test_next_events_end_timeout_and_errors(
    fake: FakeEventLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    results = api.query("Application", "*")
    assert api.next_events(results, 10, 100) == []
    monkeypatch.setattr(fake, "EvtNext", lambda *a: fake._fail(api.ERROR_TIMEOUT))
    assert api.next_events(results, 10, 100) is None
    monkeypatch.setattr(fake, "EvtNext", lambda *a: fake._fail(api.ERROR_INVALID_HANDLE))
    with pytest.raises(api.EvtError, match=r"EvtNext: the handle is no longer valid \(error 6\)"):
        api.next_events(results, 10, 100)
    api.close(results)


def test_channel_errors_are_named(fake: FakeEventLog) -> None:
    with pytest.raises(api.EvtError) as info:
        api.query("Nope", "*")
    assert info.value.winerror == api.ERROR_EVT_CHANNEL_NOT_FOUND == 15007
    assert "the channel was not found" in str(info.value)
    with pytest.raises(api.EvtError, match="the query is not valid: the query has an unbalanced"):
        api.query("Application", "*[System[Level=1]")


def test_publisher_metadata_is_opened_once_per_provider_and_bounded(fake: FakeEventLog) -> None:
    fake.providers |= {"A", "B", "C"}
    publishers = api.Publishers(limit=2)
    a = publishers.get("A")
    assert publishers.get("A") == a
    assert publishers.get("Missing") is None and publishers.get("Missing") is None
    assert fake.publisher_opens == ["A", "Missing"]
    publishers.get("B")  # A, the least recently used with metadata, is closed
    assert a not in fake.open_handles() and len(publishers) == 2
    publishers.close()
    assert fake.open_handles() == {}


def test_bookmarks_round_trip_through_their_xml(fake: FakeEventLog) -> None:
    fake.write("System", "one")
    fake.write("System", "two")
    results = api.query("System", "*")
    handles = api.next_events(results, 10, 100) or []
    bookmark = api.create_bookmark()
    api.update_bookmark(bookmark, handles[-1])
    xml = api.Renderer(chars=4).bookmark_xml(bookmark)
    assert "RecordId='2'" in xml and "Channel='System'" in xml
    again = api.create_bookmark(xml)
    for h in [*handles, results, bookmark, again]:
        api.close(h)
    with pytest.raises(api.EvtError, match="EvtCreateBookmark"):
        api.create_bookmark("not a bookmark")


# -- the ledger ---------------------------------------------------------------------------


def test_the_ledger_commits_the_last_of_the_acknowledged_run_in_order() -> None:
    moved: list[str] = []
    ledger = Ledger("Application", "*", notify=lambda: moved.append(ledger.committed))
    origins = [ledger.sent(EventOrigin("Application", f"bm{i}", i * 10)) for i in (1, 2, 3)]
    assert ledger.entry(0) is None  # nothing committed yet
    ledger.done(origins[1])
    assert ledger.committed == "" and moved == []  # batch 1 is still on its way
    ledger.done(origins[0])
    assert (ledger.committed, ledger.record_id) == ("bm2", 20) and moved == ["bm2"]
    ledger.done(EventOrigin("Application", "stranger", 99))  # not ours: ignored
    ledger.done(origins[2])
    assert ledger.entry(5.0) == {
        "channel": "Application",
        "query": "*",
        "bookmark": "bm3",
        "record_id": 30,
        "seen": 5.0,
    }
    assert ledger.in_flight == 0


# -- the input, tailing and once ------------------------------------------------------------


class Collected:
    """Takes logs like a pipeline and acknowledges them at once (`auto`) or on `ack()`."""

    def __init__(self, auto: bool = True, gate: threading.Event | None = None) -> None:
        self.auto = auto
        self.gate = gate  # when given, add_logs waits for it (back-pressure) and refuses
        self.counter = AckCounter()
        self.batches: list[tuple[list[Log], LogContext]] = []
        self._unacked: list[list[Log]] = []
        self._cond = threading.Condition()

    def add_batch(self, batch: Any, ctx: LogContext) -> bool:
        raise AssertionError("input_wineventlog hands over Logs")

    def add_logs(self, logs: list[Log], ctx: LogContext) -> bool:
        if self.gate is not None:
            self.gate.wait(DEADLINE)
            return False
        self.counter.expect_logs(logs)
        with self._cond:
            self.batches.append((logs, ctx))
            self._unacked.append(logs)
            self._cond.notify_all()
        if self.auto:
            self.ack()
        return True

    def ack(self, batches: list[int] | None = None) -> None:
        """Acknowledge the unacknowledged batches at these positions (all by default)."""
        with self._cond:
            positions = range(len(self._unacked)) if batches is None else batches
            done = [self._unacked[i] for i in positions]
            self._unacked = [b for b in self._unacked if all(b is not d for d in done)]
        for logs in done:
            self.counter.group_done(LogGroup(logs=list(logs)))

    def logs(self) -> list[Log]:
        with self._cond:
            return [log for logs, _ in self.batches for log in logs]

    def records(self, channel: str | None = None) -> list[int]:
        return [
            int(log.contents["record_id"])
            for log in self.logs()
            if channel is None or log.contents["channel"] == channel
        ]

    def wait_for(self, predicate: Callable[[], bool], timeout: float = DEADLINE) -> bool:
        with self._cond:
            return self._cond.wait_for(predicate, timeout)

    def wait_logs(self, n: int) -> list[Log]:
        assert self.wait_for(lambda: sum(len(b) for b, _ in self.batches) >= n), self.records()
        return self.logs()


class Run:
    """One start of an input_wineventlog, with a checkpoint store at `store_path` (or none)."""

    def __init__(self, config: dict[str, Any], store_path: Path | None = None) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.store = (
            CheckpointStore(store_path, pipeline="test", interval=0.05) if store_path else None
        )
        self.metrics = PipelineMetrics("test")
        self.plugin = WinEventLogInput.create(config)
        self.plugin.init(
            Context(
                checkpoints=self.store,
                metrics=self.metrics,
                report=lambda kind, data: self.events.append((kind, data)),
            )
        )

    def messages(self, kind: str) -> list[str]:
        return [data["message"] for k, data in self.events if k == kind]

    def once(self, collector: Collected) -> None:
        self.plugin.run(collector, threading.Event(), True)
        if self.store is not None:
            self.store.close()


@contextmanager
def tailing(run: Run, collector: Collected) -> Iterator[Collected]:
    close = run.store.close if run.store is not None else None
    with running(run.plugin, collector, "test-input-wineventlog", DEADLINE, close):
        yield collector


def stored(store_path: Path, channel: str = "Application") -> dict[str, Any] | None:
    sections = orjson.loads(store_path.read_bytes())["sections"]
    entries = sections.get(section_of(channel), [])
    return entries[0] if entries else None


BEGINNING = {"StartAt": "beginning", "PollIntervalMs": 100}


def test_it_is_an_input() -> None:
    assert isinstance(WinEventLogInput.create({}), Input)
    assert WinEventLogInput.create({}).Channels == ["Application", "System"]


def test_tailing_reads_what_is_there_and_what_comes(fake: FakeEventLog) -> None:
    fake.write("Application", "app one")
    fake.write("System", "sys one", provider="Service Control Manager", event_id=7036)
    run = Run(BEGINNING)
    with tailing(run, Collected()) as got:
        got.wait_logs(2)
        fake.write("System", "sys two", level=2)
        fake.write("Application", "app two", level=3)
        logs = got.wait_logs(4)
    by_message = {log.contents["message"]: log for log in logs}
    assert set(by_message) == {"app one", "sys one", "sys two", "app two"}
    assert by_message["sys one"].contents["provider"] == "Service Control Manager"
    assert by_message["sys one"].contents["event_id"] == "7036"
    assert by_message["sys two"].contents["level"] == "error"
    assert by_message["app two"].contents["level"] == "warning"
    assert {ctx.source for _, ctx in got.batches} == {"Application", "System"}
    assert got.records("Application") == [1, 2] and got.records("System") == [1, 2]
    assert run.events == []
    assert run.metrics.files["eventlog:Application"].lines == 2
    assert fake.open_handles() == {}  # subscriptions, bookmarks, events, signal: all closed


def test_a_backlog_is_read_a_batch_at_a_time_from_each_channel_in_turn(fake: FakeEventLog) -> None:
    for i in range(25):
        fake.write("Application", f"a{i}")
        fake.write("System", f"s{i}")
    with tailing(Run(BEGINNING | {"BatchSize": 10}), Collected()) as got:
        got.wait_logs(50)
    assert [len(logs) for logs, _ in got.batches] == [10, 10, 10, 10, 5, 5]
    assert [ctx.source for _, ctx in got.batches[:4]] == ["Application", "System"] * 2
    assert got.records("Application") == list(range(1, 26))


def test_messages_are_formatted_once_per_provider_metadata_or_taken_from_the_data(
    fake: FakeEventLog,
) -> None:
    fake.write("Application", "formatted by its provider")
    fake.write("Application", None, provider="NoMetadata", data=("only", "data"))
    fake.write("Application", None, provider="NoMetadata", data=("more",))
    with tailing(Run(BEGINNING | {"Channels": ["Application"]}), Collected()) as got:
        logs = got.wait_logs(3)
    assert [log.contents["message"] for log in logs] == [
        "formatted by its provider",
        "only\ndata",
        "more",
    ]
    assert fake.publisher_opens == ["TailboxTest", "NoMetadata"]


def test_render_message_off_and_extra_fields(fake: FakeEventLog) -> None:
    fake.write("Application", "formatted", data=("raw",))
    config = BEGINNING | {
        "Channels": ["Application"],
        "RenderMessage": False,
        "IncludeEventData": True,
        "IncludeXml": True,
    }
    with tailing(Run(config), Collected()) as got:
        [log] = got.wait_logs(1)
    assert log.contents["message"] == "raw"
    assert log.contents["event_data.param1"] == "raw"
    assert log.contents["xml"].startswith("<Event") and "raw" in log.contents["xml"]
    assert fake.publisher_opens == []


def test_start_at_end_commits_the_newest_event_at_once(fake: FakeEventLog, tmp_path: Path) -> None:
    store = tmp_path / "cp.json"
    for i in range(5):
        fake.write("Application", f"old {i}")
    config = {"Channels": ["Application"], "PollIntervalMs": 100}
    run = Run(config, store)
    with tailing(run, Collected()) as got:
        assert wait_until(lambda: store.exists() and stored(store) is not None)
        assert stored(store)["record_id"] == 5  # before any new event
        fake.write("Application", "new")
        [log] = got.wait_logs(1)
    assert log.contents["message"] == "new"
    fake.write("Application", "while stopped")
    with tailing(Run(config, store), Collected()) as got:
        [log] = got.wait_logs(1)
    assert log.contents["message"] == "while stopped"


def test_the_bookmark_is_committed_only_after_acknowledgement_and_a_restart_resumes_there(
    fake: FakeEventLog, tmp_path: Path
) -> None:
    store = tmp_path / "cp.json"
    for _ in range(25):
        fake.write("Application", "event")
    config = BEGINNING | {"Channels": ["Application"], "BatchSize": 10}
    run = Run(config, store)
    with tailing(run, Collected(auto=False)) as got:
        got.wait_logs(25)
        assert run.store is not None
        run.store.save()  # what the store would write now
        assert not store.exists() or stored(store) is None  # nothing acknowledged
        got.ack([1])  # the second batch first: the first still holds the bookmark back
        run.store.save()
        assert not store.exists() or stored(store) is None
        got.ack([0])  # now the first two are acknowledged, in order
        assert wait_until(lambda: store.exists() and (stored(store) or {}).get("record_id") == 20)
    entry = stored(store)
    assert entry is not None and "RecordId='20'" in entry["bookmark"]
    assert entry["channel"] == "Application" and entry["query"] == "*"
    for _ in range(5):
        fake.write("Application", "while stopped")
    with tailing(Run(config, store), Collected()) as got:
        got.wait_logs(10)
    # What was not acknowledged is read again (at-least-once); nothing is lost.
    assert got.records() == list(range(21, 31))
    assert stored(store)["record_id"] == 30
    # Everything acknowledged: a restart repeats nothing.
    fake.write("Application", "last")
    with tailing(Run(config, store), Collected()) as got:
        got.wait_logs(1)
        time.sleep(0.3)
    assert got.records() == [31]


def test_once_reads_to_the_end_from_the_bookmark_or_the_oldest_event(
    fake: FakeEventLog, tmp_path: Path
) -> None:
    store = tmp_path / "cp.json"
    for i in range(7):
        fake.write("Application", f"e{i}")
    config = {"Channels": ["Application"], "BatchSize": 3}  # StartAt end: once reads anyway
    got = Collected()
    Run(config, store).once(got)
    assert got.records() == list(range(1, 8))
    assert stored(store)["record_id"] == 7
    fake.write("Application", "after")
    got = Collected()
    Run(config, store).once(got)
    assert got.records() == [8]
    assert fake.open_handles() == {}
    got = Collected()
    Run(config).once(got)  # without checkpoints: everything
    assert len(got.records()) == 8


def test_access_denied_is_a_warning_naming_the_channel_and_the_rest_goes_on(
    fake: FakeEventLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(reader_module, "RETRY_SECS", 0.05)
    fake.channels["security"] = Channel("Security", denied=True)
    fake.write("Application", "readable")
    run = Run(BEGINNING | {"Channels": ["Application", "Security"]})
    with tailing(run, Collected()) as got:
        got.wait_logs(1)
        assert wait_until(lambda: fake.channel_opens.count("Security") >= 3)
        [warning] = run.messages("warning")  # several retries: still one warning
        assert "channel Security: access is denied" in warning
        assert "administrator rights or membership of the Event Log Readers group" in warning
        assert run.metrics.files["eventlog:Security"].last_error
        fake.channels["security"].denied = False  # access granted (e.g. a new group)
        fake.write("Security", "audit")
        got.wait_logs(2)
    assert got.records("Security") == [1]
    assert run.metrics.files["eventlog:Security"].last_error == ""
    assert run.messages("error") == []


def test_a_channel_that_does_not_exist_is_a_clear_error(fake: FakeEventLog) -> None:
    fake.write("Application", "still read")
    run = Run(BEGINNING | {"Channels": ["Application", "Microsoft-Windows-Nope/Operational"]})
    with tailing(run, Collected()) as got:
        got.wait_logs(1)
    [error] = run.messages("error")
    assert error.startswith(
        "input_wineventlog: channel 'Microsoft-Windows-Nope/Operational' was not found"
    )
    assert "full name" in error
    assert [d["channel"] for k, d in run.events] == ["Microsoft-Windows-Nope/Operational"]


def test_once_reports_a_missing_channel_without_promising_a_retry(fake: FakeEventLog) -> None:
    run = Run({"Channels": ["Nope"]})
    run.once(Collected())
    [error] = run.messages("error")
    assert "channel 'Nope' was not found" in error and "tried again" not in error


@pytest.mark.parametrize(
    ("error", "warned"),
    [(api.ERROR_INVALID_HANDLE, True), (api.ERROR_EVT_QUERY_RESULT_STALE, False)],
)
def test_a_subscription_that_fails_while_reading_is_reopened_after_the_last_event_read(
    fake: FakeEventLog, monkeypatch: pytest.MonkeyPatch, error: int, warned: bool
) -> None:
    monkeypatch.setattr(reader_module, "RETRY_SECS", 0.05)
    real_next = fake.EvtNext
    failures = [error]

    def next_once_failing(*args: Any) -> int:
        if failures and fake.next_calls:  # the second call fails, once
            fake.next_calls.append(("failed", 0))
            return fake._fail(failures.pop())
        return real_next(*args)

    monkeypatch.setattr(fake, "EvtNext", next_once_failing)
    for _ in range(3):
        fake.write("Application", "before")
    run = Run(BEGINNING | {"Channels": ["Application"]})
    with tailing(run, Collected()) as got:
        got.wait_logs(3)
        assert wait_until(lambda: not failures)
        fake.write("Application", "after")
        got.wait_logs(4)
    assert got.records() == [1, 2, 3, 4]  # nothing twice, nothing lost
    assert bool(run.messages("warning")) == warned
    if warned:
        assert "reading failed" in run.messages("warning")[0]
    assert fake.open_handles() == {}


def test_an_invalid_query_says_what_the_service_said(fake: FakeEventLog) -> None:
    run = Run(BEGINNING | {"Channels": ["System"], "Query": "*[System[Level=1]"})
    with tailing(run, Collected()):
        assert wait_until(lambda: bool(run.messages("error")))
    [error] = run.messages("error")
    assert "the Query is not valid XPath" in error and "unbalanced bracket" in error


def test_a_bookmark_whose_event_is_gone_restarts_at_the_oldest_event(
    fake: FakeEventLog, tmp_path: Path
) -> None:
    store = tmp_path / "cp.json"
    for _ in range(3):
        fake.write("Application", "e")
    config = BEGINNING | {"Channels": ["Application"]}
    got = Collected()
    Run(config, store).once(got)
    fake.bookmarks_gone = True  # the log was cleared meanwhile
    run = Run(config, store)
    with tailing(run, Collected()) as got:
        got.wait_logs(3)
    assert "the bookmarked event is gone" in run.messages("warning")[0]


def test_too_many_events_for_one_call_halve_the_batch(fake: FakeEventLog) -> None:
    fake.max_batch = 3
    for _ in range(12):
        fake.write("Application", "big")
    with tailing(
        Run(BEGINNING | {"Channels": ["Application"], "BatchSize": 10}), Collected()
    ) as got:
        got.wait_logs(12)
    assert got.records() == list(range(1, 13))
    assert [count for _, count in fake.next_calls[:4]] == [10, 5, 2, 2]


def test_an_event_that_cannot_be_rendered_is_skipped_and_passed(
    fake: FakeEventLog, tmp_path: Path
) -> None:
    store = tmp_path / "cp.json"
    for _ in range(3):
        fake.write("Application", "e")
    fake.unrenderable.add(2)
    run = Run(BEGINNING | {"Channels": ["Application"]}, store)
    got = Collected()
    run.once(got)
    assert got.records() == [1, 3]
    [warning] = run.messages("warning")
    assert "1 event(s) so far could not be read" in warning
    assert stored(store)["record_id"] == 3


def test_a_batch_with_no_readable_event_still_moves_the_bookmark(
    fake: FakeEventLog, tmp_path: Path
) -> None:
    store = tmp_path / "cp.json"
    fake.write("Application", "e")
    fake.unrenderable.add(1)
    got = Collected()
    Run(BEGINNING | {"Channels": ["Application"]}, store).once(got)
    assert got.records() == [] and stored(store)["record_id"] == 0
    assert "RecordId='1'" in stored(store)["bookmark"]


def test_back_pressure_stops_reading_and_a_stopping_pipeline_ends_the_run(
    fake: FakeEventLog,
) -> None:
    for _ in range(50):
        fake.write("Application", "e")
    gate = threading.Event()
    run = Run(BEGINNING | {"Channels": ["Application"], "BatchSize": 10})
    done = threading.Event()
    thread = threading.Thread(
        target=lambda: (run.plugin.run(Collected(gate=gate), threading.Event(), False), done.set())
    )
    thread.start()
    assert wait_until(lambda: len(fake.next_calls) >= 1)
    time.sleep(0.3)
    assert len(fake.next_calls) == 1  # one batch in hand, the rest waits in the channel
    gate.set()  # the pipeline refuses: it is stopping
    assert done.wait(DEADLINE)
    thread.join(DEADLINE)
    assert fake.open_handles() == {}


# -- configuration -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "problem"),
    [
        ({"Channels": []}, "Channels: must list at least one channel"),
        ({"Channels": ["System", " "]}, "Channels: channel names must not be empty"),
        ({"Channels": ["System", "system"]}, "lists a channel twice (names ignore case)"),
        ({"Query": " "}, 'Query: must not be empty ("*" selects every event)'),
        ({"Query": "<QueryList><Query/></QueryList>"}, "structured XML queries"),
        ({"StartAt": "now"}, "StartAt: must be one of end, beginning"),
        ({"BatchSize": 0}, "BatchSize: must be at least 1"),
        ({"Channel": ["System"]}, "Channel: unknown key (did you mean Channels?)"),
    ],
)
def test_bad_configs_say_what_is_wrong(config: dict[str, Any], problem: str) -> None:
    with pytest.raises(ConfigError) as info:
        WinEventLogInput.create(config)
    assert problem in str(info.value)
    assert str(info.value).startswith("input_wineventlog: ")


# -- platforms -----------------------------------------------------------------------------

CONFIG = """\
inputs:
  - Type: input_wineventlog
    Channels: [Application]
flushers:
  - Type: flusher_stdout
"""


def test_the_registries_know_it_as_windows_only() -> None:
    windows, linux = Registry("windows"), Registry("linux")
    [info] = [i for i in windows.plugins("input") if i.type_name == "input_wineventlog"]
    assert info.platforms == ("windows",) and info.cls is WinEventLogInput
    assert "input_wineventlog" not in linux.names()
    with pytest.raises(ConfigError, match="input_wineventlog is only available on windows"):
        linux.create("input_wineventlog", {})
    assert parse_config(CONFIG, registry=windows).inputs[0].type == "input_wineventlog"
    with pytest.raises(ConfigError) as info_error:
        parse_config(CONFIG, "win.yml", registry=linux)
    assert "win.yml:2: input_wineventlog: input_wineventlog is only available on windows" in str(
        info_error.value
    )


def test_the_plugins_command_lists_it_for_windows_only() -> None:
    def listing(platform: str) -> str:
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "agent.cli",
                "plugins",
                "--platform",
                platform,
                "--kind",
                "input",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout

    windows = listing("windows")
    row = next(line for line in windows.splitlines() if line.startswith("input_wineventlog "))
    assert " windows " in row and "Windows Event Log" in row
    assert "input_file" in windows
    linux = listing("linux")
    assert "input_wineventlog" not in linux and "input_file" in linux


@pytest.mark.skipif(sys.platform == "win32", reason="validates as a Linux machine")
def test_validating_a_windows_config_on_linux_fails_clearly(tmp_path: Path) -> None:
    path = tmp_path / "events.yml"
    path.write_text(CONFIG, encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "-m", "agent.cli", "validate", "-c", str(path)],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 2
    assert "input_wineventlog is only available on windows" in run.stderr


def test_the_windows_default_reads_application_and_system() -> None:
    config = default_config(Registry("windows"))
    [events] = [p for p in config.inputs if p.type == "input_wineventlog"]
    assert events.params["Channels"] == ["Application", "System"]
    assert WinEventLogInput.create(events.params).StartAt == "end"


# -- the whole pipeline ----------------------------------------------------------------------


def test_a_pipeline_delivers_events_and_commits_their_bookmark(
    fake: FakeEventLog, tmp_path: Path
) -> None:
    out = tmp_path / "out.jsonl"
    text = f"""\
inputs:
  - Type: input_wineventlog
    Channels: [Application, System]
    StartAt: beginning
    PollIntervalMs: 100
aggregators:
  - Type: aggregator_default
flushers:
  - Type: flusher_file
    FilePath: {out.as_posix()}
global:
  AggregatIntervalMs: 100
"""
    registry = Registry("windows")

    def delivered() -> list[dict[str, Any]]:
        return delivered_logs(out)

    fake.write("Application", "one")
    fake.write("System", "two")
    pipeline = Pipeline(parse_config(text, "events.yml", registry=registry), registry)
    pipeline.start()
    assert wait_until(lambda: len(delivered()) == 2)
    assert pipeline.stop(5.0)
    fake.write("Application", "three")
    pipeline = Pipeline(parse_config(text, "events.yml", registry=registry), registry)
    pipeline.start()
    assert wait_until(lambda: len(delivered()) == 3)
    time.sleep(0.3)
    assert pipeline.stop(5.0)
    logs = delivered()
    assert [log["contents"]["message"] for log in logs] in (
        ["one", "two", "three"],
        ["two", "one", "three"],
    )
    assert logs[0]["time_ns"] == 123_456_700
    assert fake.open_handles() == {}
