"""input_file checkpoints across restarts: resume, at-least-once, fingerprints, odd files."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import orjson

from agent.protocol import LogBatch, LogGroup
from tests.plugins.input.acking import (
    Acking,
    append,
    entries,
    expect,
    numbered,
    offset_of,
    once,
    tailing,
)
from tests.plugins.input.running import wait_until


def config(tmp_path: Path, pattern: str = "*.log*", **more: object) -> dict[str, object]:
    return {"FilePaths": [str(tmp_path / "logs" / pattern)], "FlushTimeoutSecs": 0.2, **more}


def logs(tmp_path: Path) -> Path:
    directory = tmp_path / "logs"
    directory.mkdir(exist_ok=True)
    return directory


def test_a_restart_resumes_where_the_acknowledged_lines_end(tmp_path: Path) -> None:
    store = tmp_path / "cp.json"
    app = logs(tmp_path) / "app.log"
    app.write_bytes(numbered(0, 100))
    with tailing(store, config(tmp_path)) as run:
        assert run.collector.wait_count(100) == expect(0, 100)
        assert wait_until(lambda: run.store.saves >= 1 and offset_of(store, app) == 900)
        append(app, numbered(100, 50))
        assert run.collector.wait_count(150) == expect(0, 150)
    assert offset_of(store, app) == app.stat().st_size
    [entry] = entries(store)
    assert entry["path"] == str(app) and entry["fp_len"] == 1024 and len(entry["fp"]) == 32

    append(app, numbered(150, 30))  # written while the agent is stopped
    with tailing(store, config(tmp_path)) as run:
        assert run.collector.wait_count(30) == expect(150, 30)
        append(app, numbered(180, 5))
        assert run.collector.wait_count(35) == expect(150, 35)


def test_what_was_not_acknowledged_is_read_again_and_nothing_else(tmp_path: Path) -> None:
    store = tmp_path / "cp.json"
    app = logs(tmp_path) / "app.log"
    app.write_bytes(numbered(0, 400))  # 3,600 bytes: four 1 KiB chunks
    collector = Acking(auto=False)
    with tailing(store, config(tmp_path, ReadBufferKB=1), collector) as run:
        assert run.collector.wait_count(400) == expect(0, 400)
        assert len(collector.batches) == 4
        first_end = collector.batches[0].origin.end
        collector.ack(1)
        # The third is delivered before the second: the offset stops at the gap.
        group_done_out_of_order(collector, collector.batches[2])
        assert wait_until(lambda: offset_of(store, app) == first_end)
    assert offset_of(store, app) == first_end
    with tailing(store, config(tmp_path)) as run:
        lines = run.collector.wait_count(400 - first_end // 9)
        assert lines == expect(first_end // 9, 400 - first_end // 9)


def group_done_out_of_order(collector: Acking, batch: LogBatch) -> None:
    group = LogGroup()
    group.extend_batch(batch, 0, len(batch))
    collector.counter.group_done(group)


def test_a_file_renamed_while_stopped_is_recognised_by_its_fingerprint(tmp_path: Path) -> None:
    store = tmp_path / "cp.json"
    app = logs(tmp_path) / "app.log"
    app.write_bytes(numbered(0, 200))
    with tailing(store, config(tmp_path)) as run:
        assert run.collector.wait_count(200) == expect(0, 200)
    rotated = app.with_name("app.log.1")
    app.rename(rotated)
    append(rotated, numbered(200, 10))
    app.write_bytes(numbered(1000, 3))  # the new file (created while stopped) from its start
    with tailing(store, config(tmp_path)) as run:
        run.collector.wait_count(13)
        assert run.rounds.full_pass()  # nothing else comes: every file was looked at again
    assert sorted(run.collector.lines()) == expect(200, 10) + expect(1000, 3)


def test_a_copytruncate_while_stopped_reads_the_unacknowledged_rest_from_the_copy(
    tmp_path: Path,
) -> None:
    store = tmp_path / "cp.json"
    app = logs(tmp_path) / "app.log"
    app.write_bytes(numbered(0, 400))
    collector = Acking(auto=False)
    with tailing(store, config(tmp_path, ReadBufferKB=1), collector) as run:
        assert run.collector.wait_count(400)
        collector.ack(2)
        committed = collector.batches[1].origin.end
    assert offset_of(store, app) == committed
    # logrotate copytruncate, and the application goes on writing.
    shutil.copyfile(app, app.with_name("app.log.1"))
    with app.open("r+b") as f:
        f.truncate(0)
    append(app, numbered(5000, 20))
    with tailing(store, config(tmp_path)) as run:
        first = committed // 9
        want = sorted(expect(first, 400 - first) + expect(5000, 20))
        run.collector.wait_count(len(want))
        assert run.rounds.full_pass()
    assert sorted(run.collector.lines()) == want


def test_same_inode_other_content_is_read_from_the_start(tmp_path: Path) -> None:
    store = tmp_path / "cp.json"
    app = logs(tmp_path) / "app.log"
    app.write_bytes(numbered(0, 200))
    with tailing(store, config(tmp_path)) as run:
        assert run.collector.wait_count(200)
    ino = app.stat().st_ino
    with app.open("r+b") as f:  # rewritten in place, longer than before: only the
        f.truncate(0)  # fingerprint can tell (inode reuse looks the same)
        f.write(numbered(7000, 300))
    assert app.stat().st_ino == ino
    with tailing(store, config(tmp_path)) as run:
        assert run.collector.wait_count(300) == expect(7000, 300)


def test_a_file_truncated_while_stopped_is_read_from_the_start(tmp_path: Path) -> None:
    store = tmp_path / "cp.json"
    app = logs(tmp_path) / "app.log"
    app.write_bytes(numbered(0, 200))
    with tailing(store, config(tmp_path)) as run:
        assert run.collector.wait_count(200)
    with app.open("r+b") as f:
        f.truncate(1500)  # same first KiB, but shorter than the checkpoint
    with tailing(store, config(tmp_path)) as run:
        got = run.collector.wait_count(166)
        assert got[:166] == expect(0, 166)


def test_a_small_file_matches_its_fingerprint_as_a_prefix_once_grown(tmp_path: Path) -> None:
    store = tmp_path / "cp.json"
    app = logs(tmp_path) / "app.log"
    app.write_bytes(numbered(0, 10))  # 90 bytes: the fingerprint is all of it
    with tailing(store, config(tmp_path)) as run:
        assert run.collector.wait_count(10)
    assert entries(store)[0]["fp_len"] == 90
    append(app, numbered(10, 300))
    with tailing(store, config(tmp_path)) as run:
        assert run.collector.wait_count(300) == expect(10, 300)
        assert wait_until(lambda: run.store.saves >= 2 and entries(store)[0]["fp_len"] == 1024)


def test_tail_size_applies_on_the_first_start_only(tmp_path: Path) -> None:
    store = tmp_path / "cp.json"
    d = logs(tmp_path)
    (d / "old.log").write_bytes(numbered(0, 1000))  # 9,000 bytes
    with tailing(store, config(tmp_path, TailSizeKB=1)) as run:
        got = run.collector.wait_count(113)
        assert got == expect(1000 - len(got), len(got)) and len(got) <= 114
        assert offset_of(store, d / "old.log") is not None  # saved at once
    (d / "new.log").write_bytes(numbered(10_000, 1000))  # appeared while stopped
    quiet = d / "quiet.log"
    quiet.write_bytes(numbered(20_000, 1000))  # untouched since before the last save:
    past = time.time() - 3600  # a file newly added to FilePaths, not a new file
    os.utime(quiet, (past, past))
    with tailing(store, config(tmp_path, TailSizeKB=1)) as run:
        run.collector.wait_count(1000 + 113)
        assert run.rounds.full_pass()
    got = run.collector.lines()
    assert got.count(b"00010000") == 1  # new.log from its start, quiet.log's tail only
    assert b"00020999" in got and len(got) <= 1000 + 114


def test_a_line_flushed_without_newline_is_not_followed_by_an_empty_one(tmp_path: Path) -> None:
    store = tmp_path / "cp.json"
    app = logs(tmp_path) / "app.log"
    app.write_bytes(b"complete\npartial")
    with tailing(store, config(tmp_path)) as run:
        assert run.collector.wait_count(2) == [b"complete", b"partial"]
        assert wait_until(lambda: offset_of(store, app) == 16)
    append(app, b"\nnext\n")
    with tailing(store, config(tmp_path)) as run:
        run.collector.wait_count(1)
        assert run.rounds.full_pass()  # FlushTimeoutSecs (0.2 s) has passed too
    assert run.collector.lines() == [b"next"]


def test_once_resumes_from_checkpoints_and_reads_whole_files_without(tmp_path: Path) -> None:
    store = tmp_path / "cp.json"
    app = logs(tmp_path) / "app.log"
    app.write_bytes(numbered(0, 3000))  # larger than TailSizeKB: once ignores it
    assert once(store, config(tmp_path, TailSizeKB=1)).collector.lines() == expect(0, 3000)
    assert once(store, config(tmp_path)).collector.lines() == []
    append(app, numbered(3000, 2))
    assert once(store, config(tmp_path)).collector.lines() == expect(3000, 2)
    assert offset_of(store, app) == app.stat().st_size


def test_entries_of_files_gone_while_stopped_stay_until_stale(tmp_path: Path) -> None:
    store = tmp_path / "cp.json"
    d = logs(tmp_path)
    (d / "a.log").write_bytes(numbered(0, 5))
    (d / "b.log").write_bytes(numbered(0, 6))
    once(store, config(tmp_path))
    assert len(entries(store)) == 2
    (d / "b.log").unlink()
    once(store, config(tmp_path))
    assert len(entries(store)) == 2  # b's entry is kept (it may come back)
    data = orjson.loads(store.read_bytes())
    for e in data["sections"]["input_file"]:
        e["seen"] -= 8 * 24 * 3600
    store.write_bytes(orjson.dumps(data))
    once(store, config(tmp_path))
    [kept] = entries(store)
    assert kept["path"] == str(d / "a.log")


def test_a_damaged_checkpoint_file_warns_and_duplicates_rather_than_loses(tmp_path: Path) -> None:
    store = tmp_path / "cp.json"
    app = logs(tmp_path) / "app.log"
    app.write_bytes(numbered(0, 3))
    once(store, config(tmp_path))
    earlier = store.read_bytes()  # offset 27
    append(app, numbered(3, 2))
    once(store, config(tmp_path))  # offset 45
    assert offset_of(store, app) == 45
    store.with_name("cp.json.bak").write_bytes(earlier)  # the save before the last one
    store.write_bytes(store.read_bytes()[:40])  # the last one, torn
    run = once(store, config(tmp_path))
    assert run.collector.lines() == expect(3, 2)  # from the previous copy: read again
    assert any("damaged" in w for w in run.warnings())


def test_a_known_file_that_turns_up_after_the_start_resumes_too(tmp_path: Path) -> None:
    store = tmp_path / "cp.json"
    d = logs(tmp_path)
    app = d / "app.log"
    app.write_bytes(numbered(0, 50))  # small: identity and first bytes recognise it
    with tailing(store, config(tmp_path, "*.log")) as run:
        assert run.collector.wait_count(50)
    parked = d / "app.parked"
    app.rename(parked)  # not matched when the agent starts...
    with tailing(store, config(tmp_path, "*.log")) as run:
        assert wait_until(lambda: run.store.saves >= 1)
        append(parked, numbered(50, 2))
        parked.rename(d / "app2.log")  # ...but soon after
        run.collector.wait_count(2)
        assert run.rounds.full_pass()
    assert run.collector.lines() == expect(50, 2)
