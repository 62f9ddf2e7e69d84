"""confluent-kafka (librdkafka 2.16) Producer and assign()-only Consumer against one broker.

Each producer configuration writes ~1,200 records over 3 partitions of a topic created with the
AdminClient, then checks: every delivery report succeeded with offsets 0..n-1 per partition in
produce order; an assign()ed consumer reads back the same keys, values, headers and timestamps in
the same order at the same offsets; watermarks are (0, n); offsets_for_times finds the first
record at or after a timestamp.
"""
from __future__ import annotations

import pytest
from confluent_kafka import OFFSET_BEGINNING, OFFSET_END, TopicPartition

from interop_support import (assert_contiguous_acks, assert_same_log, by_partition, ck_consume,
                             ck_consumer, ck_create_topic, ck_produce, make_records, now_ms,
                             segment_batches, unique_topic)

PARTITIONS = 3
PER_PARTITION = 400

PRODUCER_CONFIGS = {
    "acks_all": {"acks": "all"},
    "gzip": {"acks": "all", "compression.type": "gzip"},
    "idempotent": {"enable.idempotence": True},
    "not_idempotent": {"acks": "all", "enable.idempotence": False, "max.in.flight.requests.per.connection": 5},
}


@pytest.mark.parametrize("name", sorted(PRODUCER_CONFIGS))
def test_produce_then_assign_consume(module_broker, name):
    topic = unique_topic(f"ck-{name}")
    ck_create_topic(module_broker.bootstrap, topic, PARTITIONS)
    records = make_records(topic, PARTITIONS, PER_PARTITION, now_ms() - 120_000,
                           compressible=(name == "gzip"))

    acks = ck_produce(module_broker.bootstrap, topic, records, PRODUCER_CONFIGS[name])
    assert sorted(acks) == list(range(PARTITIONS)), f"acknowledged partitions {sorted(acks)}"
    assert_contiguous_acks(acks)

    expected = by_partition(records)
    got = ck_consume(module_broker.bootstrap, topic, range(PARTITIONS),
                     {p: len(v) for p, v in expected.items()})
    assert_same_log(expected, got)

    # A timestamp lookup lands on the exact record, also inside a (compressed) multi-record batch.
    consumer = ck_consumer(module_broker.bootstrap)
    try:
        answers = consumer.offsets_for_times(
            [TopicPartition(topic, p, expected[p][250].timestamp) for p in range(PARTITIONS)], timeout=10)
        assert {tp.partition: tp.offset for tp in answers} == {p: 250 for p in range(PARTITIONS)}, \
            "offsets_for_times(timestamp of offset 250)"
    finally:
        consumer.close()

    if name == "gzip":
        # librdkafka 2.0-2.x silently sends uncompressed batches unless the broker advertises
        # Produce v0 (PROTOCOL.md §1a); the batches on disk show what arrived.
        for p in range(PARTITIONS):
            codecs = {b.codec for b in segment_batches(module_broker.data_dir, topic, p)}
            assert 1 in codecs, f"partition {p}: no gzip batch on disk (codecs {codecs})"


def test_watermarks_and_offsets_for_times(module_broker):
    topic = unique_topic("ck-times")
    ck_create_topic(module_broker.bootstrap, topic, PARTITIONS)
    base_ts = now_ms() - 300_000
    records = make_records(topic, PARTITIONS, 50, base_ts)
    ck_produce(module_broker.bootstrap, topic, records)
    expected = by_partition(records)

    consumer = ck_consumer(module_broker.bootstrap)
    try:
        for p in range(PARTITIONS):
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
            assert (low, high) == (0, len(expected[p])), f"partition {p} watermarks"

        # One lookup per partition per call: Kafka refuses duplicate partitions in one ListOffsets.
        lookups = [
            ("before everything", lambda recs: (recs[0].timestamp - 1000, 0)),
            ("exact timestamp", lambda recs: (recs[17].timestamp, 17)),
            ("between two records", lambda recs: (recs[17].timestamp + 1, 18)),
            ("last record", lambda recs: (recs[-1].timestamp, len(recs) - 1)),
            ("after everything", lambda recs: (recs[-1].timestamp + 1, OFFSET_END)),
        ]
        for what, pick in lookups:
            wanted = {p: pick(expected[p]) for p in range(PARTITIONS)}
            answers = consumer.offsets_for_times(
                [TopicPartition(topic, p, ts) for p, (ts, _) in wanted.items()], timeout=10)
            got = {tp.partition: (tp.offset, tp.error) for tp in answers}
            assert got == {p: (want, None) for p, (_, want) in wanted.items()}, \
                f"offsets_for_times, {what}: asked {wanted}"
    finally:
        consumer.close()


def test_assign_from_middle_and_end(module_broker):
    topic = unique_topic("ck-seek")
    ck_create_topic(module_broker.bootstrap, topic, 1)
    records = make_records(topic, 1, 100, now_ms() - 60_000)
    ck_produce(module_broker.bootstrap, topic, records)

    got = ck_consume(module_broker.bootstrap, topic, [0], {0: 60}, start_offset=40)[0]
    assert [r.offset for r in got] == list(range(40, 100))
    assert [r.value for r in got] == [r.value for r in records[40:]]

    got_end = ck_consume(module_broker.bootstrap, topic, [0], start_offset=OFFSET_END)[0]
    assert got_end == [], "assign at OFFSET_END returned old records"

    got_begin = ck_consume(module_broker.bootstrap, topic, [0], {0: 100}, start_offset=OFFSET_BEGINNING)[0]
    assert len(got_begin) == 100


def test_out_of_range_offset_resets_to_earliest(module_broker):
    topic = unique_topic("ck-oor")
    ck_create_topic(module_broker.bootstrap, topic, 1)
    records = make_records(topic, 1, 10, now_ms() - 60_000)
    ck_produce(module_broker.bootstrap, topic, records)
    # Offset 1000 is past the log end: the broker answers OFFSET_OUT_OF_RANGE and the consumer
    # resets by auto.offset.reset=earliest, so it reads everything from 0.
    got = ck_consume(module_broker.bootstrap, topic, [0], {0: 10}, start_offset=1000)[0]
    assert [r.offset for r in got] == list(range(10))
