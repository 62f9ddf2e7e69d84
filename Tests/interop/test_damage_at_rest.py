"""Segments damaged while the broker was stopped (issue 9 items 2 and 3), read by a real client.

- A damaged batch header in the ACTIVE segment after a clean stop: the next start finds it (it
  walks the active segment's headers), recovers the segment with a warning, and a confluent-kafka
  consumer reads every record before the damage and then a record produced afterwards — no hang,
  no acknowledged-but-unreadable records.
- A damaged header in a SEALED segment: the consumer reading through it gets CORRUPT_MESSAGE as an
  error event and never a record past the damage (before the fix it silently got the next
  segment's records, skipping the rest of the damaged one).
"""
from __future__ import annotations

import signal
import time

from confluent_kafka import OFFSET_BEGINNING, KafkaError, TopicPartition

from interop_support import (Rec, ck_consume, ck_consumer, ck_create_topic, ck_produce, segment_batches,
                             unique_topic)

VALUE = b"v" * 190


def fill(broker, topic: str) -> None:
    """3000 records of ~190 bytes in batches of 20 over 64 KiB segments, then a clean stop."""
    ck_create_topic(broker.bootstrap, topic, 1, {"segment.bytes": "65536"})
    records = [Rec(0, None, VALUE) for _ in range(3000)]
    ck_produce(broker.bootstrap, topic, records, {"batch.num.messages": 20, "linger.ms": 50})
    assert broker.stop(signal.SIGTERM) == 0


def segment_positions(broker, topic: str):
    """(segment path, [(base offset, byte position, last offset)]) for every segment."""
    pdir = broker.data_dir / f"{topic}-0"
    out = []
    for seg in sorted(pdir.glob("*.log")):
        data = seg.read_bytes()
        pos, batches = 0, []
        while pos + 61 <= len(data):
            base = int.from_bytes(data[pos:pos + 8], "big")
            length = int.from_bytes(data[pos + 8:pos + 12], "big")
            last_delta = int.from_bytes(data[pos + 23:pos + 27], "big")
            batches.append((base, pos, base + last_delta))
            pos += 12 + length
        out.append((seg, batches))
    return out


def overwrite(path, position: int, data: bytes) -> None:
    with open(path, "r+b") as f:
        f.seek(position)
        f.write(data)


def test_damaged_header_in_the_active_segment_is_recovered_at_start(broker):
    topic = unique_topic("damage-active")
    fill(broker, topic)
    segments = segment_positions(broker, topic)
    assert len(segments) >= 3, f"only {len(segments)} segments"
    active, batches = segments[-1]
    damaged_base, position, _ = batches[len(batches) // 2]
    overwrite(active, position + 8, (0x7FFFFFF0).to_bytes(4, "big"))

    broker.start()
    log = broker.log_text()
    assert "last stop was clean" in log and "batchLength 2147483632" in log, broker.log_tail(20)

    got = ck_consume(broker.bootstrap, topic, [0], {0: damaged_base})[0]
    assert [r.offset for r in got] == list(range(damaged_base)), "records before the damage, in order"

    acks = ck_produce(broker.bootstrap, topic, [Rec(0, b"k", b"after")])
    assert acks == {0: [damaged_base]}
    after = ck_consume(broker.bootstrap, topic, [0], {0: 1}, start_offset=damaged_base)[0]
    assert [(r.offset, r.value) for r in after] == [(damaged_base, b"after")]


def test_damaged_header_in_a_sealed_segment_is_an_error_not_a_skip(broker):
    topic = unique_topic("damage-sealed")
    fill(broker, topic)
    segments = segment_positions(broker, topic)
    first, batches = segments[0]
    next_segment_base = segments[1][1][0][0]
    damaged_base, position, _ = batches[len(batches) // 2]
    overwrite(first, position, b"\xff" * 100)

    broker.start()
    consumer = ck_consumer(broker.bootstrap)
    offsets, errors = [], []
    try:
        consumer.assign([TopicPartition(topic, 0, OFFSET_BEGINNING)])
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not errors:
            msg = consumer.poll(0.5)
            if msg is None:
                continue
            if msg.error():
                if msg.error().code() != KafkaError._PARTITION_EOF:
                    errors.append(msg.error())
                continue
            offsets.append(msg.offset())
    finally:
        consumer.close()
    assert offsets == list(range(damaged_base)), \
        f"read {len(offsets)} records, last {offsets[-1:]}; the damage starts at {damaged_base}, " \
        f"the next segment at {next_segment_base}"
    assert errors and errors[0].code() == KafkaError.INVALID_MSG, f"errors: {errors}"  # Kafka's CORRUPT_MESSAGE (2)
    assert "is damaged" in broker.log_text(), broker.log_tail(20)
