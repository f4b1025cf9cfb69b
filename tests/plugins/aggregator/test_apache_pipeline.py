"""The issue's end-to-end check: Apache's error log grouped by level, as `grep -c` counts."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import orjson

SAMPLE = Path(__file__).parents[2] / "data" / "loghub" / "Apache_2k.log"


def test_apache_log_grouped_by_level_matches_grep_counts(tmp_path):
    text = SAMPLE.read_text(encoding="utf-8")
    (tmp_path / "Apache_2k.log").write_text(text, encoding="utf-8")
    out = tmp_path / "out.jsonl"
    config = tmp_path / "apache.yml"
    config.write_text(
        f"inputs: [{{Type: input_file, FilePaths: ['{tmp_path.as_posix()}/*.log']}}]\n"
        "processors:\n"
        "  - Type: processor_regex\n"
        "    Regex: '\\[[^\\]]+\\] \\[(\\w+)\\] .*'\n"
        "    Keys: [level]\n"
        "    KeepSource: true\n"
        "aggregators: [{Type: aggregator_content_value_group, GroupKeys: [level]}]\n"
        f"flushers: [{{Type: flusher_file, FilePath: '{out.as_posix()}'}}]\n",
        encoding="utf-8",
    )
    run = subprocess.run(
        [sys.executable, "-m", "agent.cli", "run", "--once", "-c", str(config)],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr

    counts: Counter[str] = Counter()
    for line in out.read_bytes().splitlines():
        group = orjson.loads(line)
        level = group["tags"]["level"]
        assert all(log["contents"]["level"] == level for log in group["logs"])
        assert all(f"[{level}]" in log["contents"]["content"] for log in group["logs"])
        counts[level] += len(group["logs"])

    lines = text.splitlines()
    levels = set(re.findall(r"^\[[^\]]+\] \[(\w+)\]", text, re.MULTILINE))
    # grep -c -F "[level]": the lines that contain it.
    expected = {level: sum(f"[{level}]" in line for line in lines) for level in levels}
    assert len(expected) >= 2
    assert dict(counts) == expected
    assert sum(counts.values()) == len(lines) == 2000
