"""A really blocked flusher (flusher_file into a FIFO nobody reads) raises the banner;
unblocking it clears the banner."""

from tests.gui.conftest import blocked_pipeline


def test_blocked_flusher_shows_the_banner_and_unblocking_clears_it(
    qtbot, make_window, fifo, tmp_path
):
    path, reader = fifo
    config = blocked_pipeline(tmp_path, path)
    window = make_window([config])

    qtbot.waitUntil(lambda: "export" in window.banners.banners, timeout=15_000)
    banner = window.banners.banners["export"]
    assert window.banners.isVisibleTo(window)
    text = banner.text()
    assert "“export”" in text and "aggregator_default" in text and "flusher_file is behind" in text
    assert "rejected adds" in text and "nothing is dropped" in text
    window.bridge.sample()  # the next status sample counts the rejected adds
    qtbot.waitUntil(lambda: banner.rejected >= 1)
    assert window.status_view.cards["export"].state.text() == "queue full"

    reader.start()
    qtbot.waitUntil(lambda: not window.banners.banners, timeout=15_000)
    assert not window.banners.isVisibleTo(window)
    kinds = [e.kind for e in window.events.model.entries()]
    assert "queue_full" in kinds and "queue_recovered" in kinds
    pipeline = window.bridge.agent.pipelines["export"]
    qtbot.waitUntil(lambda: pipeline.metrics.delivered_logs == 400, timeout=15_000)


def test_the_banner_action_opens_the_flusher_settings(qtbot, make_window, fifo, tmp_path):
    path, reader = fifo
    config = blocked_pipeline(tmp_path, path)
    window = make_window([config])
    qtbot.waitUntil(lambda: "export" in window.banners.banners, timeout=15_000)
    banner = window.banners.banners["export"]
    banner.settings_button.click()
    assert window.tabs.currentWidget() is window.config
    flusher = window.config.form.sections["flushers"].editors[0]
    assert flusher.type_name() == "flusher_file"
    assert flusher.form.editor("FilePath").text() == str(path)
    banner.retry_button.click()  # flusher_file is blocked, not failing: nothing to hurry
    assert "no flusher is failing" in window.statusBar().currentMessage()
    reader.start()
