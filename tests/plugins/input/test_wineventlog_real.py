"""input_wineventlog against the real Windows Event Log (runs on the Windows CI runner only).

Events are written with `eventcreate` (source TailboxTest in the Application log; a new
source needs administrator rights, which the runner has) and read back through the
binding and through the plugin: message, event id, provider, level, bookmarks.
"""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(sys.platform != "win32", reason="calls wevtapi.dll: Windows only")

SOURCE = "TailboxTest"
QUERY = f"*[System[Provider[@Name='{SOURCE}']]]"
DEADLINE = 30.0


def write_event(text: str, kind: str = "INFORMATION", event_id: int = 100) -> None:
    command = ["eventcreate", "/T", kind, "/ID", str(event_id), "/L", "APPLICATION"]
    subprocess.run([*command, "/SO", SOURCE, "/D", text], check=True, capture_output=True)


def unique(label: str) -> str:
    return f"tailbox {label} {uuid.uuid4().hex}"


def newest_event_xml_and_message(text: str) -> tuple[str, str | None, int]:
    """The newest TailboxTest event, read with the binding alone (waits until it is there)."""
    from plugins.input.wineventlog import _wevtapi as api

    renderer = api.Renderer(chars=8)  # too small on purpose: the resize loops run for real
    publishers = api.Publishers()
    deadline = time.monotonic() + DEADLINE
    try:
        while time.monotonic() < deadline:
            results = api.query("Application", QUERY, newest_first=True)
            try:
                handles = api.next_events(results, 1, 5000) or []
                for handle in handles:
                    try:
                        xml = renderer.event_xml(handle)
                        if text in xml:
                            publisher = publishers.get(SOURCE)
                            assert publisher is not None, "eventcreate registers its source"
                            return xml, renderer.message(publisher, handle), renderer.resizes
                    finally:
                        api.close(handle)
            finally:
                api.close(results)
            time.sleep(0.2)
    finally:
        publishers.close()
    raise AssertionError(f"event {text!r} not found in the Application log")


def test_an_event_written_with_eventcreate_reads_back_through_the_binding() -> None:
    from plugins.input.wineventlog._events import parse_event

    text = unique("binding")
    write_event(text, "WARNING", 101)
    xml, message, resizes = newest_event_xml_and_message(text)
    record = parse_event(xml)
    assert record.provider == SOURCE
    assert record.event_id == 101
    assert record.level == 3
    assert record.channel == "Application"
    assert record.record_id > 0 and record.computer
    assert abs(record.time - time.time()) < 300
    assert message == text
    assert resizes >= 1


def test_the_plugin_reads_events_back_and_resumes_after_its_bookmark(tmp_path: Path) -> None:
    from tests.plugins.input.test_wineventlog import Collected, Run, stored

    store = tmp_path / "cp.json"
    config = {"Channels": ["Application"], "Query": QUERY, "StartAt": "beginning"}
    first = unique("first")
    write_event(first)
    got = Collected()
    Run(config, store).once(got)
    mine = [log for log in got.logs() if log.contents["message"] == first]
    assert len(mine) == 1, [log.contents for log in got.logs()][-5:]
    log = mine[0]
    assert log.contents["provider"] == SOURCE
    assert log.contents["event_id"] == "100"
    assert log.contents["level"] == "information"
    assert log.contents["channel"] == "Application"
    assert abs(log.time - time.time()) < 300
    entry = stored(store)
    assert entry is not None and int(entry["record_id"]) >= int(log.contents["record_id"])
    assert "<BookmarkList" in entry["bookmark"]

    second = unique("second")
    write_event(second)
    got = Collected()
    Run(config, store).once(got)
    messages = [log.contents["message"] for log in got.logs()]
    assert second in messages
    assert first not in messages  # read after the bookmark: not again


def test_tailing_reads_an_event_as_it_is_written(tmp_path: Path) -> None:
    from tests.plugins.input.test_wineventlog import Collected, Run, stored, tailing, wait_until

    store = tmp_path / "cp.json"
    before = unique("before")
    write_event(before)  # there is a newest event to start after
    config = {"Channels": ["Application", "System"], "Query": QUERY, "PollIntervalMs": 5000}
    run = Run(config, store)
    text = unique("tail")
    with tailing(run, Collected()) as got:
        # StartAt end: the newest event's bookmark is committed once subscribed.
        assert wait_until(lambda: store.exists() and stored(store) is not None, DEADLINE)
        write_event(text, "ERROR", 102)
        assert got.wait_for(
            lambda: any(log.contents["message"] == text for log in got.logs()), DEADLINE
        )
    [log] = got.logs()  # not `before`, nor any older TailboxTest event
    assert log.contents["message"] == text
    assert log.contents["level"] == "error"
    assert log.contents["event_id"] == "102"
    assert run.messages("error") == [] and run.messages("warning") == []


def test_a_channel_that_does_not_exist_is_reported_by_name() -> None:
    from tests.plugins.input.test_wineventlog import Collected, Run, tailing, wait_until

    run = Run({"Channels": ["Tailbox-Missing/Operational"], "StartAt": "beginning"})
    with tailing(run, Collected()):
        assert wait_until(lambda: bool(run.messages("error")), DEADLINE)
    [error] = run.messages("error")
    assert "channel 'Tailbox-Missing/Operational' was not found" in error
