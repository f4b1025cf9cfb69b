"""flusher_file: JSON Lines, one object per LogGroup, appended; folders created."""

import orjson
import pytest

from agent.params import ConfigError
from agent.plugin import Context
from agent.protocol import Log, LogBatch, LogGroup, LogTag
from plugins.flusher.file import FlusherFile


def test_appends_one_json_object_per_group(tmp_path):
    path = tmp_path / "deep" / "out.jsonl"
    flusher = FlusherFile.create({"FilePath": str(path)})
    flusher.init(Context())
    batch = LogBatch([b"one", b"two"], 100)
    g1 = LogGroup(topic="t", source="/var/log/a.log", log_tags=[LogTag("__pack_id__", "A-1")])
    g1.extend_batch(batch, 0, 2)
    g2 = LogGroup(logs=[Log(101, {"level": "INFO", "msg": "x"})])
    flusher.flush([g1])
    flusher.flush([g2])
    flusher.stop()
    lines = path.read_bytes().splitlines()
    assert len(lines) == 2
    first, second = map(orjson.loads, lines)
    assert first["source"] == "/var/log/a.log" and first["tags"] == {"__pack_id__": "A-1"}
    assert [log["contents"]["content"] for log in first["logs"]] == ["one", "two"]
    assert second["logs"] == [{"time": 101, "contents": {"level": "INFO", "msg": "x"}}]


def test_expands_home(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    flusher = FlusherFile.create({"FilePath": "~/out.jsonl", "Sync": True})
    flusher.init(Context())
    flusher.flush([LogGroup(logs=[Log(1, {"content": "x"})])])
    flusher.stop()
    assert (tmp_path / "out.jsonl").exists()


def test_unwritable_target_raises_so_delivery_retries(tmp_path):
    (tmp_path / "dir").mkdir()
    flusher = FlusherFile.create({"FilePath": str(tmp_path / "dir")})
    flusher.init(Context())
    with pytest.raises(OSError):
        flusher.flush([LogGroup(logs=[Log(1, {"content": "x"})])])


def test_file_path_is_required():
    with pytest.raises(ConfigError, match="flusher_file: FilePath: is required"):
        FlusherFile.create({})


def test_follows_the_path_after_the_file_is_rotated_away(tmp_path):
    path = tmp_path / "out.jsonl"
    flusher = FlusherFile.create({"FilePath": str(path)})
    flusher.init(Context())
    flusher.flush([LogGroup(logs=[Log(1, {"content": "before"})])])
    path.rename(tmp_path / "out.jsonl.1")
    flusher.flush([LogGroup(logs=[Log(2, {"content": "after"})])])
    flusher.stop()
    assert b"before" in (tmp_path / "out.jsonl.1").read_bytes()
    assert b"after" in path.read_bytes() and b"before" not in path.read_bytes()
