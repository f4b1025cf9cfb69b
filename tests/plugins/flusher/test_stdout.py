"""flusher_stdout: JSON Lines or plain text on standard output."""

import subprocess
import sys
import textwrap

import orjson

PROGRAM = textwrap.dedent("""
    import sys
    from agent.plugin import Context
    from agent.protocol import Log, LogBatch, LogGroup
    from plugins.flusher.stdout import FlusherStdout
    f = FlusherStdout.create({"Format": sys.argv[1]})
    f.init(Context())
    g = LogGroup(topic="t")
    g.extend_batch(LogBatch([b"plain line", b"second"], 1), 0, 2)
    g.append(Log(2, {"level": "warn", "msg": "m"}))
    f.flush([g])
    f.stop()
""")


def run(fmt):
    return subprocess.run(
        [sys.executable, "-c", PROGRAM, fmt], capture_output=True, check=True
    ).stdout


def test_json_format_prints_one_object_per_group():
    [line] = run("json").splitlines()
    group = orjson.loads(line)
    assert group["topic"] == "t" and len(group["logs"]) == 3


def test_text_format_prints_one_line_per_log():
    assert run("text").splitlines() == [b"plain line", b"second", b'{"level":"warn","msg":"m"}']
