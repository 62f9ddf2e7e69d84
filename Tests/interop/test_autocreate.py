"""Topic auto-creation (auto.create.topics.enable, default true): a producer's Metadata request
with allow_auto_topic_creation creates the topic with num.partitions partitions; a consumer's
(allow_auto_topic_creation=false) does not; with the setting off nothing is created."""
from __future__ import annotations

import time

from confluent_kafka import KafkaError, Producer

from interop_support import (ck_admin, ck_consume, ck_consumer, unique_topic, wait_until)

BROKER_OVERRIDES = {"num.partitions": "3"}


def partitions_of(bootstrap: str, topic: str):
    t = ck_admin(bootstrap).list_topics(topic=None, timeout=10).topics.get(topic)
    return None if t is None else sorted(t.partitions)


def test_producer_auto_creates_topic_with_num_partitions(module_broker):
    topic = unique_topic("auto")
    acks, errors = [], []
    p = Producer({"bootstrap.servers": module_broker.bootstrap, "acks": "all", "message.timeout.ms": 30000})
    for i in range(30):
        p.produce(topic, value=f"v{i}".encode(), key=f"k{i}".encode(),
                  on_delivery=lambda err, msg: (errors if err else acks).append(err or (msg.partition(), msg.offset())))
    assert p.flush(35) == 0
    assert not errors, errors
    assert len(acks) == 30

    assert wait_until(lambda: partitions_of(module_broker.bootstrap, topic) == [0, 1, 2], 15,
                      f"{topic} to exist with 3 partitions")
    per_partition = {}
    for part, off in acks:
        per_partition.setdefault(part, []).append(off)
    for part, offs in per_partition.items():
        assert sorted(offs) == list(range(len(offs))), f"partition {part} offsets {offs}"
    got = ck_consume(module_broker.bootstrap, topic, [0, 1, 2], {q: len(v) for q, v in per_partition.items()})
    assert sorted(r.value for rs in got.values() for r in rs) == sorted(f"v{i}".encode() for i in range(30))


def test_consumer_metadata_does_not_create(module_broker):
    topic = unique_topic("auto-consumer")
    consumer = ck_consumer(module_broker.bootstrap)  # allow.auto.create.topics=false (consumer default)
    try:
        md = consumer.list_topics(topic=topic, timeout=10)
        t = md.topics.get(topic)
        assert t is not None and t.error is not None and t.error.code() == KafkaError.UNKNOWN_TOPIC_OR_PART, \
            f"metadata for an unknown topic: {t and t.error}"
    finally:
        consumer.close()
    time.sleep(1.0)  # give a wrongly started creation time to show up
    assert partitions_of(module_broker.bootstrap, topic) is None, "a consumer's metadata request created the topic"


def test_auto_create_disabled(start_broker):
    b = start_broker({"auto.create.topics.enable": "false"})
    topic = unique_topic("auto-off")
    errors = []
    p = Producer({"bootstrap.servers": b.bootstrap, "message.timeout.ms": 3000})
    p.produce(topic, value=b"x", on_delivery=lambda err, msg: errors.append(err))
    assert p.flush(15) == 0
    assert len(errors) == 1 and errors[0] is not None, f"delivery to a missing topic succeeded: {errors}"
    assert errors[0].code() in (KafkaError.UNKNOWN_TOPIC_OR_PART, KafkaError._MSG_TIMED_OUT,
                                KafkaError._UNKNOWN_TOPIC), errors[0]
    assert partitions_of(b.bootstrap, topic) is None
