"""A broker under a low open-file limit (issue 9 item 5), as `ulimit -n` leaves it.

CreateTopics of more partitions than the descriptors allow must fail completely, saying what ran
out, and leave nothing behind: before the fix the "failed" topic existed after a restart with all
its partitions, and the restart under the same limit failed. The broker also says at start-up that
its limit is low.
"""
from __future__ import annotations

import os
import stat
import time

from confluent_kafka.admin import NewTopic

from conftest import Broker, runnel_bin
from interop_support import CLIENT_TIMEOUT_S, ck_admin, ck_create_topic, unique_topic

LIMIT = 512


def test_create_topics_beyond_the_descriptor_limit_creates_nothing(tmp_path):
    wrapper = tmp_path / "runnel-limited"
    wrapper.write_text(f'#!/bin/sh\nulimit -n {LIMIT} || exit 97\nexec "{runnel_bin()}" "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    broker = Broker(str(wrapper), name="fd-limit")
    try:
        broker.start()
        assert f"the open-file limit is {LIMIT}" in broker.log_text(), broker.log_tail(10)
        admin = ck_admin(broker.bootstrap)
        big = unique_topic("too-many")
        futures = admin.create_topics([NewTopic(big, num_partitions=400, replication_factor=1)],
                                      operation_timeout=20, request_timeout=25)
        try:
            futures[big].result(timeout=CLIENT_TIMEOUT_S)
            raise AssertionError("a 400-partition topic was created under a 512-descriptor limit")
        except Exception as e:  # noqa: BLE001 - the KafkaException carries the broker's answer
            text = str(e)
            assert "file descriptors" in text and "Nothing was created" in text, text
        assert big not in admin.list_topics(timeout=10).topics
        # No log of the topic is left: the ones created are renamed `…-delete` at once and their
        # files removed in the background (D96), within seconds.
        assert not any(p.name.startswith(big) and not p.name.endswith("-delete") for p in broker.data_dir.iterdir())
        deadline = time.monotonic() + 30
        while any(p.name.startswith(big) for p in broker.data_dir.iterdir()) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not any(p.name.startswith(big) for p in broker.data_dir.iterdir())

        # A restart under the same limit works and still does not know the topic; a topic that
        # fits is created normally.
        broker.restart()
        admin = ck_admin(broker.bootstrap)
        assert big not in admin.list_topics(timeout=10).topics
        small = unique_topic("fits")
        ck_create_topic(broker.bootstrap, small, 10)
        assert broker.stop() == 0
    finally:
        broker.close()
