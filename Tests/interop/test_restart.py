"""Durability across restarts, with confluent-kafka and acks=all.

- SIGTERM: the broker exits 0; after a restart on the same port and data dir every record is
  readable at its offset and new records continue the offsets.
- kill -9 while a producer is writing: after a restart every acknowledged record is readable at
  the offset it was acknowledged at (no lost-write, no offset with two values, RELIABILITY.md),
  offsets stay contiguous, new writes are accepted; with idempotence no value is stored twice.
"""
from __future__ import annotations

import signal
import threading
import time
from collections import Counter

import pytest
from confluent_kafka import Producer

from interop_support import (assert_contiguous_acks, assert_same_log, by_partition, ck_consume,
                             ck_create_topic, ck_produce, make_records, now_ms, unique_topic, wait_until)

PARTITIONS = 3


def test_sigterm_exits_zero_and_restart_keeps_everything(broker):
    topic = unique_topic("restart-term")
    ck_create_topic(broker.bootstrap, topic, PARTITIONS)
    records = make_records(topic, PARTITIONS, 200, now_ms() - 60_000)
    acks = ck_produce(broker.bootstrap, topic, records)
    assert_contiguous_acks(acks)

    assert broker.stop(signal.SIGTERM) == 0, f"exit code after SIGTERM; log:\n{broker.log_tail(30)}"
    broker.start()

    expected = by_partition(records)
    got = ck_consume(broker.bootstrap, topic, range(PARTITIONS), {p: len(v) for p, v in expected.items()})
    assert_same_log(expected, got)

    more = make_records(topic + "-after", PARTITIONS, 10, now_ms() - 1_000)
    acks_after = ck_produce(broker.bootstrap, topic, more)
    for p in range(PARTITIONS):
        assert acks_after[p] == list(range(200, 210)), f"partition {p}: offsets after restart {acks_after[p]}"

    # A second clean cycle, straight after writing.
    assert broker.stop(signal.SIGTERM) == 0
    broker.start()
    got = ck_consume(broker.bootstrap, topic, range(PARTITIONS), {p: 210 for p in range(PARTITIONS)})
    for p in range(PARTITIONS):
        assert [r.offset for r in got[p]] == list(range(210))
        assert [r.value for r in got[p][200:]] == [r.value for r in more if r.partition == p]


def test_sigint_also_stops_cleanly(broker):
    topic = unique_topic("restart-int")
    ck_create_topic(broker.bootstrap, topic, 1)
    records = make_records(topic, 1, 50, now_ms() - 10_000)
    ck_produce(broker.bootstrap, topic, records)
    assert broker.stop(signal.SIGINT) == 0
    broker.start()
    assert_same_log(by_partition(records), ck_consume(broker.bootstrap, topic, [0], {0: 50}))


class BackgroundProducer:
    """Writes unique values round-robin over the partitions until stopped; records every
    acknowledgement (partition, offset) -> value and every failed delivery."""

    def __init__(self, bootstrap: str, topic: str, idempotent: bool):
        self.topic = topic
        self.acked: dict[tuple[int, int], bytes] = {}
        self.ack_order: list[tuple[int, int, bytes]] = []
        self.failed: list[tuple[bytes, str]] = []
        self.client_errors: list[str] = []
        self.lock = threading.Lock()
        self.stop_event = threading.Event()
        self.sent = 0
        self.producer = Producer({
            "bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": idempotent,
            "linger.ms": 2, "message.timeout.ms": 60000, "retry.backoff.ms": 100,
            "reconnect.backoff.ms": 100, "reconnect.backoff.max.ms": 500,
            "error_cb": lambda err: self.client_errors.append(str(err)),
        })
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _on_delivery(self, err, msg) -> None:
        with self.lock:
            if err is not None:
                self.failed.append((msg.value(), str(err)))
            else:
                key = (msg.partition(), msg.offset())
                if key in self.acked and self.acked[key] != msg.value():
                    self.client_errors.append(f"offset {key} acknowledged for two values")
                self.acked[key] = msg.value()
                self.ack_order.append((msg.partition(), msg.offset(), msg.value()))

    def _run(self) -> None:
        i = 0
        while not self.stop_event.is_set():
            value = f"{self.topic}-{i}".encode()
            try:
                self.producer.produce(self.topic, value=value, partition=i % PARTITIONS,
                                      on_delivery=self._on_delivery)
                i += 1
                self.sent = i
            except BufferError:
                self.producer.poll(0.05)
                continue
            self.producer.poll(0)
            if i % 20 == 0:
                time.sleep(0.002)
        self.producer.flush(70)

    def ack_count(self) -> int:
        with self.lock:
            return len(self.acked)

    def snapshot(self) -> dict[tuple[int, int], bytes]:
        with self.lock:
            return dict(self.acked)


@pytest.mark.deadline(180)
@pytest.mark.parametrize("idempotent", [False, True], ids=["plain", "idempotent"])
def test_kill9_loses_no_acknowledged_record(broker, idempotent):
    topic = unique_topic("restart-kill")
    ck_create_topic(broker.bootstrap, topic, PARTITIONS)
    bp = BackgroundProducer(broker.bootstrap, topic, idempotent)
    bp.thread.start()
    try:
        try:
            wait_until(lambda: bp.ack_count() >= 600, 60, "600 acknowledged records before the kill")
            assert broker.kill9() == -signal.SIGKILL
            acked_before_kill = bp.snapshot()
            time.sleep(0.5)  # the producer keeps queueing while the broker is down
            broker.start()
            wait_until(lambda: bp.ack_count() >= len(acked_before_kill) + 300, 60,
                       "300 more acknowledged records after the restart")
        except AssertionError as e:
            raise AssertionError(f"{e}\nproducer: sent {bp.sent}, acknowledged {bp.ack_count()}, "
                                 f"failed {len(bp.failed)} (first {bp.failed[:3]}), "
                                 f"client errors {bp.client_errors[-5:]}") from e
    finally:
        bp.stop_event.set()
        bp.thread.join(80)
    assert not bp.thread.is_alive(), "producer thread did not finish"
    acked = bp.snapshot()

    got = ck_consume(broker.bootstrap, topic, range(PARTITIONS), timeout=60,
                     expected={p: 1 + max((o for (q, o) in acked if q == p), default=-1) for p in range(PARTITIONS)})
    log = {(p, r.offset): r.value for p, rs in got.items() for r in rs}
    for p, rs in got.items():
        assert [r.offset for r in rs] == list(range(len(rs))), f"partition {p}: offsets not contiguous"

    lost_before = sorted(k for k in acked_before_kill if k not in log)
    assert not lost_before, f"lost-write: {len(lost_before)} records acknowledged before kill -9 are gone, " \
                            f"first {lost_before[:5]}"
    lost = sorted(k for k in acked if k not in log)
    assert not lost, f"lost-write: {len(lost)} acknowledged records missing, first {lost[:5]}"
    inconsistent = sorted((k, v, log[k]) for k, v in acked.items() if log[k] != v)
    assert not inconsistent, f"inconsistent-offsets: {len(inconsistent)} offsets hold another value than " \
                             f"acknowledged, first {inconsistent[:3]}"
    assert not [e for e in bp.client_errors if "two values" in e], bp.client_errors

    # Per partition, one producer's acknowledged values appear in the order it sent them.
    sent_index = {v: int(v.rsplit(b"-", 1)[1]) for v in acked.values()}
    for p in range(PARTITIONS):
        in_log_order = [sent_index[log[k]] for k in sorted(k for k in acked if k[0] == p)]
        if idempotent:
            assert in_log_order == sorted(in_log_order), f"partition {p}: nonmonotonic-send"

    if idempotent:
        counts = Counter(log.values())
        dups = [v for v, n in counts.items() if n > 1]
        assert not dups, f"duplicate with idempotence on: {len(dups)} values stored twice, first {dups[:3]}"
