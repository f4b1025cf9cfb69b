"""Agent.apply and pause/resume, as the window uses them."""

import pytest

from agent.agent import Agent
from agent.config import PipelineConfig, PluginConfig
from agent.params import ConfigError
from tests.gui.conftest import file_pipeline, write_lines


@pytest.fixture
def agent():
    a = Agent()
    yield a
    a.stop()


def config(tmp_path, name="p", **kwargs):
    (tmp_path / "in").mkdir(exist_ok=True)
    return file_pipeline(name, tmp_path / "in" / "*.log", tmp_path / f"{name}.jsonl", **kwargs)


def test_apply_changes_only_what_changed(agent, tmp_path):
    a, b = config(tmp_path, "a", interval_ms=3000), config(tmp_path, "b")
    agent.start([a, b])
    pa, pb = agent.pipelines["a"], agent.pipelines["b"]
    faster = config(tmp_path, "a", interval_ms=200)
    bigger = config(tmp_path, "b", MaxLogCount=7)
    new = config(tmp_path, "c")
    assert agent.apply([faster, bigger, new]) == {
        "a": "updated live",
        "b": "restarted",
        "c": "started",
    }
    assert agent.pipelines["a"] is pa and pa.aggregator.interval_ms == 200
    assert agent.pipelines["b"] is not pb and set(agent.pipelines) == {"a", "b", "c"}
    assert agent.apply([faster, bigger, new]) == dict.fromkeys("abc", "unchanged")
    disabled = config(tmp_path, "c")
    disabled.enable = False
    assert agent.apply([faster, disabled]) == {"a": "unchanged", "b": "stopped", "c": "stopped"}
    assert set(agent.pipelines) == {"a"}


def test_apply_validates_everything_before_changing_anything(agent, tmp_path):
    a = config(tmp_path, "a")
    agent.start([a])
    running = agent.pipelines["a"]
    broken = PipelineConfig(
        "b",
        inputs=[PluginConfig("input_file", {"FilePaths": []})],
        aggregators=[PluginConfig("aggregator_default", {"MaxLogCount": 0})],
        flushers=[PluginConfig("flusher_stdout")],
    )
    with pytest.raises(ConfigError) as e:
        agent.apply([config(tmp_path, "a", MaxLogCount=5), broken])
    assert {p.key for p in e.value.problems} == {"FilePaths", "MaxLogCount"}
    with pytest.raises(ConfigError, match="two pipelines are named"):
        agent.apply([a, a])
    assert agent.pipelines == {"a": running}


def test_a_restart_delivers_what_was_read_before_it(qtbot, agent, tmp_path):
    a = config(tmp_path, "a", interval_ms=600_000)
    write_lines(tmp_path / "in" / "x.log", 5)
    agent.start([a])
    running = agent.pipelines["a"]
    qtbot.waitUntil(lambda: running.metrics.logs == 5)
    agent.apply([config(tmp_path, "a", interval_ms=600_000, MaxLogCount=3)])
    assert running.metrics.delivered_logs == 5  # the final flush of the old pipeline


def paused_with_a_held_chunk(qtbot, agent, tmp_path):
    """3 lines delivered, then a pause, then 4 more lines that the input has seen but holds."""
    a = config(tmp_path, "a", interval_ms=50)
    log = tmp_path / "in" / "x.log"
    write_lines(log, 3)
    agent.start([a])
    p = agent.pipelines["a"]
    qtbot.waitUntil(lambda: p.metrics.delivered_logs == 3)
    agent.pause()
    write_lines(log, 4, start=3)
    size = log.stat().st_size
    qtbot.waitUntil(lambda: any(f.size == size for f in p.metrics.files.values()))
    return p


def test_pause_holds_reading_and_resume_continues(qtbot, agent, tmp_path):
    p = paused_with_a_held_chunk(qtbot, agent, tmp_path)
    assert p.metrics.logs == 3 and agent.paused
    agent.resume()
    qtbot.waitUntil(lambda: p.metrics.delivered_logs == 7)


def test_stop_while_paused_keeps_the_held_chunk(qtbot, agent, tmp_path):
    p = paused_with_a_held_chunk(qtbot, agent, tmp_path)
    assert agent.stop()
    assert p.metrics.delivered_logs == 7


def test_an_aggregator_flush_interval_overrides_the_pipeline_default_live(qtbot, agent, tmp_path):
    agent.start([config(tmp_path, "a", interval_ms=3000, FlushIntervalMs=600_000)])
    running = agent.pipelines["a"]
    assert running.aggregator.interval_ms == 600_000  # the override, not AggregatIntervalMs
    write_lines(tmp_path / "in" / "x.log", 4)
    qtbot.waitUntil(lambda: running.metrics.logs == 4)
    assert running.metrics.delivered_logs == 0  # held for ten minutes
    outcome = agent.apply([config(tmp_path, "a", interval_ms=3000, FlushIntervalMs=50)])
    assert outcome == {"a": "updated live"} and agent.pipelines["a"] is running
    # The timer takes the new interval at once rather than after the old one ran out.
    qtbot.waitUntil(lambda: running.metrics.delivered_logs == 4)
    assert running.aggregator.interval_ms == 50
    # A new pipeline default leaves the override alone; dropping the override restores it.
    agent.apply([config(tmp_path, "a", interval_ms=2000, FlushIntervalMs=50)])
    assert running.aggregator.interval_ms == 50
    assert agent.apply([config(tmp_path, "a", interval_ms=2000)]) == {"a": "updated live"}
    assert running.aggregator.interval_ms == 2000 and agent.pipelines["a"] is running


def test_a_flush_interval_below_ten_ms_is_refused(agent, tmp_path):
    with pytest.raises(ConfigError) as e:
        agent.apply([config(tmp_path, "a", FlushIntervalMs=5)])
    (problem,) = e.value.problems
    assert problem.key == "FlushIntervalMs" and "at least 10" in problem.reason
    assert agent.pipelines == {}
