"""The file a long-running loop touches as it goes round (the loops themselves: test_events)."""

from __future__ import annotations

import logging
import os

from souk_common.heartbeat import Heartbeat


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_beat_touches_the_file_at_most_once_every_few_seconds(tmp_path):
    path, clock = tmp_path / "heartbeat", Clock()
    heartbeat = Heartbeat(path, every=5.0, clock=clock)

    heartbeat.beat()
    assert path.exists()
    os.utime(path, ns=(0, 0))  # as if touched long ago

    clock.now += 4.9
    heartbeat.beat()
    assert path.stat().st_mtime_ns == 0

    clock.now += 0.1
    heartbeat.beat()
    assert path.stat().st_mtime_ns > 0


def test_with_no_file_named_nothing_is_written(tmp_path, settings):
    settings.SOUK = {**settings.SOUK, "HEARTBEAT_FILE": ""}
    heartbeat = Heartbeat.configured()

    heartbeat.beat()

    assert heartbeat.path is None
    assert list(tmp_path.iterdir()) == []


def test_the_setting_names_the_file(tmp_path, settings):
    settings.SOUK = {**settings.SOUK, "HEARTBEAT_FILE": str(tmp_path / "beat")}

    Heartbeat.configured().beat()

    assert (tmp_path / "beat").exists()


def test_a_file_that_cannot_be_touched_is_said_once_and_stops_no_loop(tmp_path, caplog):
    heartbeat = Heartbeat(tmp_path / "no" / "such" / "folder", every=0.0)

    with caplog.at_level(logging.WARNING, logger="souk_common.heartbeat"):
        heartbeat.beat()
        heartbeat.beat()

    assert len(caplog.records) == 1
    assert "could not be touched" in caplog.records[0].getMessage()
