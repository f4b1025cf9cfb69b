"""The bridge: agent threads append, one signal per tick carries everything, bounded."""

import threading

from agent.protocol import LogBatch, LogGroup
from gui.bridge import AgentBridge
from tests.gui.conftest import file_pipeline, write_lines


def group(i: int) -> LogGroup:
    g = LogGroup(source=f"s{i}")
    g.extend_batch(LogBatch([b"x"] * 3, 0), 0, 3)
    return g


def test_groups_from_many_threads_arrive_in_one_signal_per_tick(qtbot):
    bridge = AgentBridge(tick_ms=10_000)  # drained by hand below
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
    bridge = AgentBridge(tick_ms=10_000, max_pending_groups=100)
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
