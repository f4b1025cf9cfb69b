"""Tray notifications: one per queue-full episode, and never more often than the gap."""

from gui.tray import Notifier


def test_one_notification_per_episode():
    n = Notifier(gap=60)
    assert n.should_notify("web", now=1000)
    assert not n.should_notify("web", now=2000)  # same episode, however late
    n.episode_over("web")
    assert n.should_notify("web", now=3000)


def test_notifications_are_rate_limited_across_pipelines():
    n = Notifier(gap=60)
    assert n.should_notify("web", now=1000)
    assert not n.should_notify("db", now=1030)
    assert n.should_notify("db", now=1061)
