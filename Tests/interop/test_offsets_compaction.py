"""`__consumer_offsets` is a compacted topic, as in Kafka (decisions.md D10, changed in session 7):
under a long commit load its partition stays small, and the committed offsets of a deleted group
leave it (only the group's tombstones stay, until `delete.retention.ms`).

The broker runs with one offsets partition, 4 KiB offsets segments and a cleaner that looks for
work every 200 ms; commits are admin OffsetCommits (AlterConsumerGroupOffsets of empty groups).
"""
from __future__ import annotations

import struct

from confluent_kafka import OFFSET_BEGINNING, ConsumerGroupTopicPartitions, KafkaError, TopicPartition
from confluent_kafka.admin import ConfigResource
import pytest

from interop_support import (CLIENT_TIMEOUT_S, ck_admin, ck_consumer, ck_create_topic, segment_batches,
                             unique_topic, wait_until)

SEGMENT = 4096
OVERRIDES = {"offsets.topic.num.partitions": "1", "offsets.topic.segment.bytes": str(SEGMENT),
             "log.cleaner.backoff.ms": "200"}
OFFSETS = "__consumer_offsets"


def commit(admin, group: str, topic: str, offset: int) -> None:
    request = ConsumerGroupTopicPartitions(group, [TopicPartition(topic, 0, offset)])
    result = admin.alter_consumer_group_offsets([request], request_timeout=CLIENT_TIMEOUT_S)[group]
    committed = result.result(timeout=CLIENT_TIMEOUT_S)
    assert all(tp.error is None for tp in committed.topic_partitions), committed.topic_partitions


def stored_bytes(broker) -> int:
    return sum(12 + b.batch_length for b in segment_batches(broker.data_dir, OFFSETS, 0))


def offset_commit_key_group(key: bytes) -> str | None:
    """The group of an OffsetCommit key (versions 0 and 1: int16 version, string group, string
    topic, int32 partition); None for other record kinds (group metadata keys are version 2)."""
    if key is None or len(key) < 4:
        return None
    version, glen = struct.unpack_from(">hh", key, 0)
    if version not in (0, 1):
        return None
    return key[4:4 + glen].decode()


def offsets_records(broker) -> list[tuple[int, bytes | None, bytes | None]]:
    """Every record of __consumer_offsets-0, read with confluent-kafka from the start."""
    consumer = ck_consumer(broker.bootstrap)
    out = []
    try:
        consumer.assign([TopicPartition(OFFSETS, 0, OFFSET_BEGINNING)])
        while True:
            msg = consumer.poll(5)
            assert msg is not None, f"no end of {OFFSETS}-0 reached after {len(out)} records"
            if msg.error():
                assert msg.error().code() == KafkaError._PARTITION_EOF, msg.error()
                return out
            out.append((msg.offset(), msg.key(), msg.value()))
    finally:
        consumer.close()


@pytest.mark.broker_overrides(OVERRIDES)
def test_a_long_commit_load_keeps_the_partition_small_and_deleted_groups_go(broker):
    admin = ck_admin(broker.bootstrap)
    topic = unique_topic("committed")
    ck_create_topic(broker.bootstrap, topic, 1)
    # A group that will be deleted, its offsets committed first.
    for i in range(20):
        commit(admin, "doomed", topic, i)
    admin.delete_consumer_groups(["doomed"], request_timeout=CLIENT_TIMEOUT_S)["doomed"].result(timeout=CLIENT_TIMEOUT_S)
    described = admin.describe_configs([ConfigResource("topic", OFFSETS)])
    configs = list(described.values())[0].result(timeout=CLIENT_TIMEOUT_S)
    assert configs["cleanup.policy"].value == "compact"
    # A long-running group: about 20 offsets segments' worth of commits of one partition.
    commits = 20 * SEGMENT // 60  # a commit record takes 60-odd bytes on disk: ~20 segments
    for i in range(commits):
        commit(admin, "steady", topic, i)
    # Compacted, the partition holds a few records per key plus the active segment; without
    # compaction it would hold every commit (checked: its log end is past all of them).
    bound = 4 * SEGMENT
    size = wait_until(lambda: (lambda s: s if s < bound else None)(stored_bytes(broker)), 60,
                      f"{OFFSETS}-0 below {bound} bytes after {commits} commits")
    records = offsets_records(broker)
    assert records[-1][0] + 1 >= commits, "the log end counts every commit"
    steady = [r for r in records if offset_commit_key_group(r[1]) == "steady"]
    assert steady[-1][2] is not None, "the newest commit of a live group is kept"
    # The deleted group's committed values are gone; at most its tombstones are left.
    doomed = [r for r in records if offset_commit_key_group(r[1]) == "doomed"]
    assert all(value is None for _, _, value in doomed), f"values of a deleted group survive: {doomed[:3]}"
    # A consumer of the live group resumes from its newest commit after a restart (the
    # coordinator loads the compacted partition, gaps and tombstones included).
    broker.restart()
    admin = ck_admin(broker.bootstrap)
    offsets = admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions("steady")])["steady"].result(
        timeout=CLIENT_TIMEOUT_S)
    assert [tp.offset for tp in offsets.topic_partitions] == [commits - 1]
    print(f"{commits} commits, {OFFSETS}-0 holds {size} bytes ({len(records)} records)")
