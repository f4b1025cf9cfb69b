"""input_journal against real journal files written by systemd-journal-remote and read by
the real journalctl: fields, binary values, filters, start positions, acknowledged
cursors across restarts, journalctl's death and stop, and machines without a journal."""

import os
import signal
import threading
import uuid

import pytest

from agent.plugin import ConfigError
from plugins.input.journal import JournalInput, _command
from plugins.input.journal._command import matches, priority_range, unit_name
from tests.plugins.input.running import wait_until

from .journal_helpers import (
    DEADLINE,
    Journal,
    LogAcking,
    Run,
    following,
    journalctl_children,
    need_journal_tools,
    once,
)


@pytest.fixture
def journal(tmp_path):
    need_journal_tools()
    return Journal(tmp_path / "journal" / "test.journal")


@pytest.fixture
def store(tmp_path):
    return tmp_path / "state" / "test.json"


def cfg(journal, **options):
    return {"JournalPaths": [str(journal.path)], **options}


# -- what an entry becomes ----------------------------------------------------------------


def test_entries_become_logs_with_message_level_fields_and_microsecond_time(journal, store):
    journal.write(
        {
            "MESSAGE": "disk almost full",
            "PRIORITY": "3",
            "_SYSTEMD_UNIT": "app.service",
            "_PID": "4242",
            "_HOSTNAME": "desk",
            "SYSLOG_IDENTIFIER": "app",
            "_UID": "1000",
        },
        {"MESSAGE": "no priority, no unit"},
    )
    run = once(store, cfg(journal))
    first, second = run.collector.logs()
    assert (first.time, first.time_ns) == (1_767_225_600, 123_456_000)
    assert first.contents == {
        "content": "disk almost full",
        "level": "error",
        "_SYSTEMD_UNIT": "app.service",
        "_PID": "4242",
        "_HOSTNAME": "desk",
        "SYSLOG_IDENTIFIER": "app",
        "_realtime_timestamp_": "1767225600123456",
        "_monotonic_timestamp_": "5000000",
    }
    assert (second.time, second.time_ns) == (1_767_225_600, 123_457_000)
    assert second.contents == {
        "content": "no priority, no unit",
        "_realtime_timestamp_": "1767225600123457",
        "_monotonic_timestamp_": "5000001",
    }
    assert run.collector.contexts[0].source == str(journal.path)
    assert run.events == []


def test_every_priority_has_its_level_name(journal, store):
    journal.write(*({"PRIORITY": str(p)} for p in range(8)))
    levels = [log.contents["level"] for log in once(store, cfg(journal)).collector.logs()]
    assert levels == [
        "emergency",
        "alert",
        "critical",
        "error",
        "warning",
        "notice",
        "informational",
        "debug",
    ]


def test_all_fields_keep_their_journal_names(journal, store):
    journal.write({"PRIORITY": "5", "_UID": "0", "CODE_LINE": "17"})
    [log] = once(store, cfg(journal, Fields=["*"])).collector.logs()
    assert log.contents["_UID"] == "0" and log.contents["CODE_LINE"] == "17"
    assert log.contents["PRIORITY"] == "5" and log.contents["level"] == "notice"
    assert log.contents["_BOOT_ID"] == journal.boot
    assert not any(k.startswith("__") for k in log.contents) and "MESSAGE" not in log.contents


def test_binary_values_decode_as_utf8_and_repeated_fields_join(journal, store):
    journal.write(
        {
            "MESSAGE": b"caf\xc3\xa9 \x1b[31mred\x1b[0m",  # colours: journalctl prints bytes
            "BLOB": b"\x00\xff\x01",
            "LATIN1": "gr\u00fc\u00df".encode("latin-1"),
            "TAGS": ["one", "two"],
            "BIG": "x" * 10_000,  # over journalctl's 4 KiB null threshold without --all
        }
    )
    [log] = once(store, cfg(journal, Fields=["*"])).collector.logs()
    assert log.contents["content"] == "café \x1b[31mred\x1b[0m"
    assert log.contents["BLOB"] == "\x00\ufffd\x01"
    assert log.contents["LATIN1"] == "gr\ufffd\ufffd"
    assert sorted(log.contents["TAGS"].split("\n")) == ["one", "two"]
    assert log.contents["BIG"] == "x" * 10_000


# -- filters ------------------------------------------------------------------------------

ENTRIES = [
    {"MESSAGE": "a-err", "_SYSTEMD_UNIT": "a.service", "SYSLOG_IDENTIFIER": "a", "PRIORITY": "3"},
    {"MESSAGE": "a-info", "_SYSTEMD_UNIT": "a.service", "SYSLOG_IDENTIFIER": "a", "PRIORITY": "6"},
    {"MESSAGE": "pid1-on-a", "_PID": "1", "UNIT": "a.service", "SYSLOG_IDENTIFIER": "systemd"},
    {
        "MESSAGE": "b-crit",
        "_SYSTEMD_UNIT": "b.service",
        "SYSLOG_IDENTIFIER": "bee",
        "PRIORITY": "2",
    },
    {
        "MESSAGE": "b-debug",
        "_SYSTEMD_UNIT": "b.service",
        "SYSLOG_IDENTIFIER": "bee",
        "PRIORITY": "7",
    },
    {"MESSAGE": "kernel", "_TRANSPORT": "kernel", "SYSLOG_IDENTIFIER": "kernel", "PRIORITY": "4"},
    {"MESSAGE": "root", "_UID": "0", "SYSLOG_IDENTIFIER": "cron", "PRIORITY": "5"},
]
ALL = [e["MESSAGE"] for e in ENTRIES]


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({}, ALL),
        ({"Units": ["a"]}, ["a-err", "a-info", "pid1-on-a", "kernel"]),
        ({"Units": ["a.service"], "Kernel": False}, ["a-err", "a-info", "pid1-on-a"]),
        ({"Identifiers": ["bee"]}, ["b-crit", "b-debug"]),
        (
            {"Units": ["a"], "Kernel": False, "Identifiers": ["bee"]},
            ["a-err", "a-info", "pid1-on-a", "b-crit", "b-debug"],
        ),
        ({"MatchPatterns": ["_UID=0"]}, ["root"]),
        ({"Priority": "warning"}, ["a-err", "b-crit", "kernel"]),
        ({"Priority": "3"}, ["a-err", "b-crit"]),
        ({"Priority": "notice..debug"}, ["a-info", "b-debug", "root"]),
        ({"Units": ["a", "b"], "Kernel": False, "Priority": "err"}, ["a-err", "b-crit"]),
    ],
)
def test_filters(journal, store, options, expected):
    journal.write(*ENTRIES)
    assert once(store, cfg(journal, **options)).collector.messages() == expected


def test_matches_are_journalctl_alternatives():
    assert matches([], True, [], []) == []
    assert matches([], True, ["sshd"], ["_UID=0"]) == ["_UID=0", "+", "SYSLOG_IDENTIFIER=sshd"]
    argv = matches(["user.slice"], True, [], [])
    assert argv[0] == "_SYSTEMD_UNIT=user.slice"
    assert argv[-3:] == ["_SYSTEMD_SLICE=user.slice", "+", "_TRANSPORT=kernel"]
    assert unit_name("nginx") == "nginx.service" and unit_name("cups.socket") == "cups.socket"
    assert priority_range("") is None and priority_range("err") == (0, 3)
    assert priority_range("warning..crit") == (2, 4) and priority_range("7") == (0, 7)


@pytest.mark.parametrize(
    ("options", "key", "text"),
    [
        ({"Priority": "loud"}, "Priority", "is not a priority"),
        ({"Units": ["ssh*"]}, "Units", "patterns are not supported"),
        ({"Fields": ["message"]}, "Fields", "is not a journal field name"),
        ({"MatchPatterns": ["_UID"]}, "MatchPatterns", "FIELD=value"),
        ({"SeekPosition": "middle"}, "SeekPosition", "must be one of"),
        ({"Cursor": "s=1;i=2"}, "Cursor", "only with SeekPosition: cursor"),
        ({"JournalPaths": [" "]}, "JournalPaths", "must not be empty"),
    ],
)
def test_bad_options_are_config_errors_naming_the_key(options, key, text):
    with pytest.raises(ConfigError) as e:
        JournalInput.create(options)
    assert (e.value.plugin, e.value.key) == ("input_journal", key)
    assert text in str(e.value)


# -- which journal ------------------------------------------------------------------------


def test_journal_paths_as_files_globs_and_a_directory(tmp_path):
    need_journal_tools()
    directory = tmp_path / "dir"
    a = Journal(directory / "a.journal")
    b = Journal(directory / "b.journal", first_usec=a.first_usec + 1000)
    a.write({"MESSAGE": "from a"})
    b.write({"MESSAGE": "from b"})
    for n, paths in enumerate(
        [[str(directory)], [str(directory / "*.journal")], [str(a.path), str(b.path)]]
    ):
        run = once(tmp_path / f"state{n}.json", {"JournalPaths": paths})
        assert run.collector.messages() == ["from a", "from b"], paths
        assert run.events == []


def test_a_directory_picks_up_journal_files_that_appear(tmp_path, store):
    need_journal_tools()
    directory = tmp_path / "dir"
    first = Journal(directory / "a.journal").numbered(2)
    with following(store, {"JournalPaths": [str(directory)], "SeekPosition": "head"}) as run:
        assert run.collector.wait_count(2) == first
        later = Journal(directory / "b.journal", first_usec=10**16)
        later.write({"MESSAGE": "from a new file"})
        assert run.collector.wait_count(3) == [*first, "from a new file"]


def test_relative_journal_paths_are_followed(journal, store, monkeypatch):
    # journalctl cannot follow a relative --file ("Failed to get journal fd").
    monkeypatch.chdir(journal.path.parent)
    written = journal.numbered(1)
    with following(store, {"JournalPaths": [journal.path.name], "SeekPosition": "head"}) as run:
        assert run.collector.wait_count(1) == written
        written += journal.numbered(2)
        assert run.collector.wait_count(3) == written
    assert run.events == []


def test_entries_of_every_boot_are_followed(journal, store):
    # journalctl --follow shows only the latest boot unless --merge: a restart after a
    # reboot would skip the end of the previous boot.
    before = journal.numbered(2)
    journal.boot = uuid.uuid4().hex
    after = journal.numbered(2)
    with following(store, cfg(journal, SeekPosition="head")) as run:
        assert run.collector.wait_count(4) == before + after
    cursor = journal.cursors()[0]  # resume inside the earlier boot
    with following(
        store.with_name("c.json"), cfg(journal, SeekPosition="cursor", Cursor=cursor)
    ) as run:
        assert run.collector.wait_count(3) == before[1:] + after


def test_a_missing_journal_file_is_reported_and_looked_for_again(tmp_path, store):
    need_journal_tools()
    path = tmp_path / "later" / "app.journal"
    # SeekPosition tail: a journal that turns up after the start is new, read whole.
    with following(store, {"JournalPaths": [str(path)], "SeekPosition": "tail"}) as run:
        assert wait_until(lambda: any(f"{path} does not exist" in m for m in run.messages()))
        written = Journal(path).numbered(2)
        assert run.collector.wait_count(2) == written


def test_a_directory_among_several_paths_is_refused_with_a_reason(tmp_path, store):
    need_journal_tools()
    a = Journal(tmp_path / "dir" / "a.journal")
    a.numbered(1)
    run = once(store, {"JournalPaths": [str(a.path), str(tmp_path / "dir")]})
    assert run.collector.calls == []
    assert any("is a directory; list one directory alone" in m for m in run.messages())


# -- where reading starts -----------------------------------------------------------------


def test_tail_reads_only_new_entries_and_head_everything(journal, tmp_path):
    old = journal.numbered(3)
    with following(tmp_path / "tail.json", cfg(journal, SeekPosition="tail")) as run:
        assert wait_until(lambda: run.cursor() is not None)  # the tail found and committed
        new = journal.numbered(2)
        run.collector.wait_count(2)
    assert run.collector.messages() == new
    with following(tmp_path / "head.json", cfg(journal, SeekPosition="head")) as run:
        assert run.collector.wait_count(5) == old + new


def test_a_tail_start_keeps_its_place_for_entries_written_while_stopped(journal, store):
    journal.numbered(3)
    with following(store, cfg(journal)) as run:  # SeekPosition: tail
        assert wait_until(lambda: run.cursor() is not None)
    assert run.collector.calls == []
    missed = journal.numbered(2)
    with following(store, cfg(journal)) as run:
        assert run.collector.wait_count(2) == missed
    assert run.collector.messages() == missed


def test_seek_position_cursor_starts_after_the_cursor(journal, store):
    written = journal.numbered(4)
    cursor = journal.cursors()[1]
    run = once(store, cfg(journal, SeekPosition="cursor", Cursor=cursor))
    assert run.collector.messages() == written[2:]


def test_a_cursor_whose_entry_is_gone_resumes_at_the_next_entry(journal, tmp_path, store):
    # The committed entry was vacuumed away (here: it lives in another journal file):
    # journalctl seeks by its time, and the first entry after it must not be skipped.
    journal.numbered(2)
    gone = journal.cursors()[1]
    later = Journal(tmp_path / "later" / "b.journal", first_usec=journal.first_usec + 1000)
    written = later.numbered(3)
    options = {"JournalPaths": [str(later.path)], "SeekPosition": "cursor", "Cursor": gone}
    run = once(store, options)
    assert run.collector.messages() == written
    assert run.events == []


def test_a_refused_cursor_falls_back_with_a_warning(journal, store):
    written = journal.numbered(3)
    options = cfg(journal, SeekPosition="cursor", Cursor="garbage", CursorSeekFallback="head")
    run = once(store, options)
    assert run.collector.messages() == written
    assert any("does not accept the cursor to resume after (garbage)" in m for m in run.messages())


def test_once_reads_to_the_end_then_resumes_after_its_checkpoint(journal, store):
    first = journal.numbered(4)
    assert once(store, cfg(journal)).collector.messages() == first  # a backfill: from the head
    assert once(store, cfg(journal)).collector.messages() == []
    more = journal.numbered(2)
    assert once(store, cfg(journal)).collector.messages() == more


# -- checkpoints --------------------------------------------------------------------------


def test_cursor_commits_only_acknowledged_entries_in_order(journal, store):
    collector = LogAcking(auto=False)
    with following(store, cfg(journal, SeekPosition="head"), collector) as run:
        journal.numbered(3)
        collector.wait_count(3)
        journal.numbered(3)
        collector.wait_count(6)
        assert len(collector.calls) >= 2
        assert run.cursor() is None  # read, not acknowledged: nothing committed
        collector.ack_call(len(collector.calls) - 1)  # the last batch, before the others
        assert run.cursor() is None
        collector.ack()
        assert run.cursor() == collector.calls[-1][-1].origin.cursor


def test_restart_resumes_after_the_acknowledged_cursor_with_nothing_lost_or_repeated(
    journal, store
):
    collector = LogAcking(auto=False)
    written: list[str] = []
    with following(store, cfg(journal, SeekPosition="head"), collector) as run:
        for _ in range(4):
            written += journal.numbered(5)
            assert collector.wait_count(len(written)) == written
        collector.ack(2)
        acked = [log.contents["content"] for call in collector.calls[:2] for log in call]
        last = collector.calls[1][-1].origin.cursor
        assert wait_until(lambda: run.cursor() == last)
    assert 0 < len(acked) < len(written)
    assert run.cursor() == last  # what stop wrote: the rest was never acknowledged
    more = journal.numbered(3)  # written while stopped
    again = LogAcking()
    with following(store, cfg(journal, SeekPosition="head"), again) as run:
        expected = written[len(acked) :] + more
        assert again.wait_count(len(expected)) == expected
    assert acked + again.messages() == written + more


def test_checkpoint_entries_of_other_filters_are_not_taken(journal, store):
    journal.numbered(2)
    assert len(once(store, cfg(journal)).collector.calls) == 1
    # Another filter set is another input: it starts at its own SeekPosition (a backfill here).
    assert once(store, cfg(journal, Priority="debug")).collector.messages() == ["m0000", "m0001"]


# -- journalctl's life --------------------------------------------------------------------


def test_journalctl_that_dies_is_started_again_without_loss_or_repeats(journal, store):
    with following(store, cfg(journal, SeekPosition="head")) as run:
        first = journal.numbered(3)
        assert run.collector.wait_count(3) == first
        assert wait_until(lambda: len(journalctl_children()) == 1)
        [(pid, _)] = journalctl_children()
        os.kill(pid, signal.SIGKILL)
        more = journal.numbered(3)
        assert run.collector.wait_count(6) == first + more
        assert [p for p, _ in journalctl_children()] not in ([], [pid])
    assert run.collector.messages() == first + more
    assert any("journalctl ended (exit code -9)" in m for m in run.messages())


def test_stop_ends_journalctl_and_reaps_it(journal, store):
    journal.numbered(1)
    with following(store, cfg(journal, SeekPosition="head")) as run:
        run.collector.wait_count(1)
        assert len(journalctl_children()) == 1
    assert journalctl_children() == []


def test_a_refusing_collector_ends_the_run(journal, store):
    journal.numbered(2)
    collector = LogAcking()
    collector.refuse = True  # the pipeline is stopping
    run = Run(store, cfg(journal, SeekPosition="head"), collector)
    thread = threading.Thread(target=run.plugin.run, args=(collector, threading.Event(), False))
    thread.start()
    thread.join(DEADLINE)
    assert not thread.is_alive()
    assert journalctl_children() == []
    run.store.close()


# -- no journal ---------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["once", "follow"])
def test_without_journalctl_one_clear_error_and_no_crash(tmp_path, store, monkeypatch, mode):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert not JournalInput.available()
    run = Run(store, {}, LogAcking())
    # Returns at once even when following: there is nothing it could ever read.
    thread = threading.Thread(
        target=run.plugin.run, args=(run.collector, threading.Event(), mode == "once")
    )
    thread.start()
    thread.join(DEADLINE)
    assert not thread.is_alive()
    [message] = run.messages("error")
    assert message.startswith("input_journal: journalctl was not found")
    assert "remove input_journal from the pipeline" in message


def test_a_machine_without_a_journal_gets_a_clear_error(tmp_path, store, monkeypatch):
    need_journal_tools()
    runtime, persistent = tmp_path / "run-log-journal", tmp_path / "var-log-journal"
    monkeypatch.setattr(_command, "SYSTEM_JOURNAL_DIRS", (str(runtime), str(persistent)))
    persistent.mkdir()  # an empty /var/log/journal, as a container has
    run = once(store, {})
    assert run.collector.calls == []
    [message] = run.messages("error")
    assert "this machine keeps no systemd journal" in message and "JournalPaths" in message
    assert not JournalInput.available()
    Journal(persistent / "0123456789abcdef0123456789abcdef" / "system.journal").numbered(1)
    assert JournalInput.available()
