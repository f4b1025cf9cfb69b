"""The bridge: agent threads append, one signal per tick carries everything, bounded."""

import threading

import pytest

from agent.protocol import LogBatch, LogGroup
from gui import bridge as bridge_module
from gui.bridge import AgentBridge, LiveRate
from tests.gui.conftest import file_pipeline, write_lines
from tests.output import delivered_logs


def group(i: int) -> LogGroup:
    g = LogGroup(source=f"s{i}")
    g.extend_batch(LogBatch([b"x"] * 3, 0), 0, 3)
    return g


def test_groups_from_many_threads_arrive_in_one_signal_per_tick(qtbot):
    bridge = AgentBridge(tick_ms=10_000, live_groups_per_s=None)  # drained by hand below
    ticks = []
    bridge.ticked.connect(ticks.append)

    def flusher(n: int) -> None:
        for i in range(500):
            bridge._on_group(f"p{n}", group(i))

    threads = [threading.Thread(target=flusher, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    bridge.drain()
    assert len(ticks) == 1 and len(ticks[0].groups) == 2000
    assert ticks[0].groups_not_kept == 0
    bridge.drain()
    assert len(ticks) == 1  # nothing new: no signal
    bridge.close()


def test_a_full_buffer_counts_what_it_let_go(qtbot):
    bridge = AgentBridge(tick_ms=10_000, max_pending_groups=100, live_groups_per_s=None)
    ticks = []
    bridge.ticked.connect(ticks.append)
    for i in range(250):
        bridge._on_group("p", group(i))
    bridge.drain()
    tick = ticks[0]
    assert len(tick.groups) == 100 and tick.groups_not_kept == 150
    assert tick.groups[0].source == "s150"  # the newest are kept
    bridge.close()


def test_a_running_agent_feeds_ticks_and_stops_with_a_final_flush(qtbot, tmp_path):
    (tmp_path / "in").mkdir()
    write_lines(tmp_path / "in" / "a.log", 5)
    config = file_pipeline("p", tmp_path / "in" / "*.log", tmp_path / "out.jsonl", 50)
    bridge = AgentBridge(tick_ms=50)
    seen = []
    bridge.ticked.connect(lambda tick: seen.extend(tick.groups))
    bridge.start([config])
    qtbot.waitUntil(lambda: sum(g.count for g in seen) == 5, timeout=10_000)
    bridge.sample()
    with qtbot.waitSignal(bridge.ticked, check_params_cb=lambda t: t.status is not None):
        pass
    stopped = []
    bridge.ticked.connect(lambda tick: tick.stopped is None or stopped.append(tick.stopped))
    bridge.shutdown()
    qtbot.waitUntil(lambda: stopped == [True], timeout=15_000)
    bridge.close()
    assert not bridge.agent.pipelines


def test_past_its_rate_a_pipeline_s_groups_are_counted_not_summarised(qtbot, monkeypatch):
    summarised = []
    real = bridge_module.summarise
    monkeypatch.setattr(bridge_module, "summarise", lambda *a: summarised.append(a[0]) or real(*a))
    bridge = AgentBridge(tick_ms=10_000)
    now = [100.0]
    bridge._live_rate = LiveRate(1000, 250, clock=lambda: now[0])
    ticks = []
    bridge.ticked.connect(ticks.append)
    for i in range(1000):  # a backfill's burst: a tick's worth is taken
        bridge._on_group("busy", group(i))
    for i in range(5):  # another pipeline has its own share
        bridge._on_group("quiet", group(i))
    now[0] += 0.125
    for i in range(1000, 1200):  # 1/8 s later: 125 more
        bridge._on_group("busy", group(i))
    bridge.drain()
    (tick,) = ticks
    shown = [(g.pipeline, g.source) for g in tick.groups]
    assert shown == [("busy", f"s{i}") for i in range(250)] + [
        ("quiet", f"s{i}") for i in range(5)
    ] + [("busy", f"s{i}") for i in range(1000, 1125)]
    assert tick.groups_not_kept == 750 + 75
    assert len(summarised) == len(shown)  # the others cost a count, not a summary
    bridge.close()


def test_a_fast_backfill_is_delivered_whole_while_the_table_keeps_a_share(qtbot, tmp_path):
    (tmp_path / "in").mkdir()
    write_lines(tmp_path / "in" / "a.log", 3000)
    out = tmp_path / "out.jsonl"
    config = file_pipeline("p", tmp_path / "in" / "*.log", out, 50, MaxLogCount=1)
    bridge = AgentBridge(tick_ms=50, live_groups_per_s=100)
    bridge._live_rate = LiveRate(100, 25, clock=lambda: 0.0)  # time stands still: 25 only
    rows, not_kept = [], [0]

    def on_tick(tick):
        rows.extend(tick.groups)
        not_kept[0] += tick.groups_not_kept

    bridge.ticked.connect(on_tick)
    bridge.start([config])
    qtbot.waitUntil(lambda: len(rows) + not_kept[0] == 3000, timeout=60_000)
    assert (len(rows), not_kept[0]) == (25, 2975)
    stopped = []
    bridge.ticked.connect(lambda tick: tick.stopped is None or stopped.append(tick.stopped))
    bridge.shutdown()
    qtbot.waitUntil(lambda: stopped == [True], timeout=15_000)
    bridge.close()
    assert len(delivered_logs(out)) == 3000  # every line, whatever the table kept


def test_a_live_rate_must_be_positive(qtbot):
    with pytest.raises(ValueError, match="live rate must be positive"):
        AgentBridge(live_groups_per_s=0)
