"""Pipeline configs: iLogtail-style YAML; every error names file, line, plugin, key."""

import subprocess
import sys
import textwrap

import pytest

from agent.config import default_config, load_config, parse_config
from agent.params import ConfigError
from agent.registry import Registry


def problems(text, **kw):
    with pytest.raises(ConfigError) as e:
        parse_config(textwrap.dedent(text), "pipe.yml", **kw)
    return [str(p) for p in e.value.problems]


GOOD = """\
    enable: true
    global: {AggregatIntervalMs: 500, DefaultLogGroupQueueSize: 8}
    inputs:
      - Type: input_file
        FilePaths: ["/tmp/*.log"]
    flushers:
      - Type: flusher_stdout
"""


def test_a_good_config_gets_the_default_aggregator_and_its_globals():
    config = parse_config(textwrap.dedent(GOOD), "/x/web.yml")
    assert config.name == "web"
    assert [a.type for a in config.aggregators] == ["aggregator_default"]
    assert config.global_value("AggregatIntervalMs") == 500
    assert config.global_value("StopTimeoutSecs") == 30.0
    again = parse_config(config.to_yaml(), "/x/web.yml")
    assert again.to_dict() == config.to_dict()


def test_every_problem_is_reported_with_file_line_plugin_and_key():
    found = problems("""\
        inputs:
          - Type: input_file
            FilePaths: ["/tmp/*.log"]
            Bogus: 1
        aggregators:
          - Type: aggregator_context
            MaxLogCount: 0
        flushers:
          - Type: flusher_stdout
            Format: xml
        global:
          AggregatIntervalMS: 5
        """)
    assert any(p.startswith("pipe.yml:4: input_file: Bogus: unknown key") for p in found)
    assert any(
        p.startswith("pipe.yml:7: aggregator_context: MaxLogCount: must be at least 1")
        for p in found
    )
    assert any(
        p.startswith("pipe.yml:10: flusher_stdout: Format: must be one of json, text")
        for p in found
    )
    assert any(
        "pipe.yml:12: global: AggregatIntervalMS: unknown key (did you mean "
        "AggregatIntervalMs?)" in p
        for p in found
    )
    assert len(found) == 4


def test_unknown_types_wrong_sections_and_missing_parts():
    found = problems("""\
        inputs:
          - Type: input_nothing
          - Type: flusher_stdout
          - FilePaths: []
        """)
    assert any("pipe.yml:2: input_nothing: unknown plugin type" in p for p in found)
    assert any("pipe.yml:3: flusher_stdout: is not an input plugin" in p for p in found)
    assert any("pipe.yml:4: inputs[2]: has no Type" in p for p in found)
    assert any("flushers: a pipeline needs at least one flusher" in p for p in found)


def test_plugin_of_another_platform_is_named(tmp_path):
    yml = tmp_path / "plugins.yml"
    yml.write_text(
        "plugins:\n  common:\n    - import: plugins.flusher.stdout\n  linux: []\n"
        "  windows:\n    - import: tests.fixtures.input.winonly\n"
    )
    found = problems(
        "inputs: [{Type: input_winonly}]\nflushers: [{Type: flusher_stdout}]\n",
        registry=Registry("linux", yml),
    )
    assert any("input_winonly is only available on windows; this is linux" in p for p in found)


def test_yaml_syntax_errors_have_a_line():
    found = problems("inputs:\n  - Type: input_file\n    FilePaths: [unclosed\n")
    assert found[0].startswith("pipe.yml:") and "not valid YAML" in found[0]


def test_unreadable_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read the file"):
        load_config(tmp_path / "missing.yml")


def test_embedded_default_validates():
    config = default_config()
    assert config.name == "default" and config.inputs and config.flushers


@pytest.mark.parametrize("journal", [True, False])
def test_linux_default_reads_the_journal_where_there_is_one(monkeypatch, journal):
    from plugins.input.journal import JournalInput

    monkeypatch.setattr(JournalInput, "available", classmethod(lambda cls: journal))
    config = default_config(Registry("linux"))
    inputs = [(p.type, p.params) for p in config.inputs]
    text_logs = (
        "input_file",
        {"FilePaths": ["/var/log/*.log", "/var/log/syslog", "/var/log/messages"]},
    )
    if journal:
        assert inputs == [("input_journal", {"SeekPosition": "tail"}), text_logs]
    else:
        assert inputs == [text_logs]


def test_validate_command_exits_2_and_prints_every_problem(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("inputs: [{Type: input_file}]\nflushers: [{Type: flusher_stdout, X: 1}]\n")
    good = tmp_path / "good.yml"
    good.write_text(textwrap.dedent(GOOD))
    run = subprocess.run(
        [sys.executable, "-m", "agent.cli", "validate", "-c", str(bad), "-c", str(good)],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 2
    assert f"{bad}:1: input_file: FilePaths: is required" in run.stderr
    assert f"{bad}:2: flusher_stdout: X: unknown key" in run.stderr
    assert f"{good}: OK" in run.stdout
    assert "Traceback" not in run.stderr
