"""Authorized operations (KIP-430) without ACLs: Kafka with no authorizer reports every operation
that applies to a resource as allowed (AuthHelper.authorizedOperations → the whole
AclEntry.supportedOperations set of the resource type):

- topic:   READ, WRITE, CREATE, DELETE, ALTER, DESCRIBE, DESCRIBE_CONFIGS, ALTER_CONFIGS
- group:   READ, DELETE, DESCRIBE, DESCRIBE_CONFIGS, ALTER_CONFIGS (Kafka 4: group configs)
- cluster: CREATE, ALTER, DESCRIBE, CLUSTER_ACTION, DESCRIBE_CONFIGS, ALTER_CONFIGS, IDEMPOTENT_WRITE

as a bit field (bit i = AclOperation code i), when the request asks for it (Metadata v8+ topics,
v8-10 cluster; DescribeGroups v3+; ConsumerGroupDescribe), only on entries without an error; the
schema's Int32.min ("not requested") otherwise. confluent-kafka (librdkafka: Metadata for
describe_topics, ConsumerGroupDescribe / DescribeGroups for describe_consumer_groups) and
kafka-python read them; no client here asks for the cluster's with Metadata v8-10 (librdkafka uses
DescribeCluster, tested in test_cluster_admin.py), so that one is a hand-built Metadata v8 frame.
"""
from __future__ import annotations

import pytest
from confluent_kafka import ConsumerGroupTopicPartitions, TopicCollection, TopicPartition
from kafka import KafkaAdminClient

from interop_support import (CLIENT_TIMEOUT_S, CkMember, Reader, ck_admin, ck_create_topic, connect, i32,
                             poll_members, recv_frame, request_frame, unique_topic)

TOPIC_OPS = {"READ", "WRITE", "CREATE", "DELETE", "ALTER", "DESCRIBE", "DESCRIBE_CONFIGS", "ALTER_CONFIGS"}
GROUP_OPS = {"READ", "DELETE", "DESCRIBE", "DESCRIBE_CONFIGS", "ALTER_CONFIGS"}
CLUSTER_OPS = {"CREATE", "ALTER", "DESCRIBE", "CLUSTER_ACTION", "DESCRIBE_CONFIGS", "ALTER_CONFIGS", "IDEMPOTENT_WRITE"}
ACL_CODES = {"READ": 3, "WRITE": 4, "CREATE": 5, "DELETE": 6, "ALTER": 7, "DESCRIBE": 8, "CLUSTER_ACTION": 9,
             "DESCRIBE_CONFIGS": 10, "ALTER_CONFIGS": 11, "IDEMPOTENT_WRITE": 12}
NOT_REQUESTED = -2**31
METADATA = 3


def bits(ops: set[str]) -> int:
    return sum(1 << ACL_CODES[op] for op in ops)


def names(ops) -> set[str]:
    return {op.name for op in ops}


def simple_group(bootstrap: str, topic: str) -> str:
    """A group that exists through an admin commit only (classic, Empty)."""
    group = unique_topic("g-authz-simple")
    admin = ck_admin(bootstrap)
    request = ConsumerGroupTopicPartitions(group, [TopicPartition(topic, 0, 1)])
    admin.alter_consumer_group_offsets([request], request_timeout=CLIENT_TIMEOUT_S)[group].result(timeout=CLIENT_TIMEOUT_S)
    return group


@pytest.mark.deadline(90)
def test_confluent_admin_reads_all_operations_allowed(module_broker):
    bootstrap = module_broker.bootstrap
    topic = unique_topic("authz-ck")
    ck_create_topic(bootstrap, topic, 1)
    admin = ck_admin(bootstrap)

    described = admin.describe_topics(TopicCollection([topic]), include_authorized_operations=True,
                                      request_timeout=CLIENT_TIMEOUT_S)[topic].result(timeout=CLIENT_TIMEOUT_S)
    assert names(described.authorized_operations or []) == TOPIC_OPS

    classic = simple_group(bootstrap, topic)
    group = admin.describe_consumer_groups([classic], include_authorized_operations=True,
                                           request_timeout=CLIENT_TIMEOUT_S)[classic].result(timeout=CLIENT_TIMEOUT_S)
    assert names(group.authorized_operations or []) == GROUP_OPS, "DescribeGroups"

    # A live KIP-848 group: librdkafka describes it with ConsumerGroupDescribe.
    kip848 = unique_topic("g-authz-848")
    member = CkMember("m848", bootstrap, kip848, {"group.protocol": "consumer"})
    try:
        member.subscribe(topic)
        poll_members([member], lambda: member.owned() == {0}, 30, "the KIP-848 member owns the partition")
        group = admin.describe_consumer_groups([kip848], include_authorized_operations=True,
                                               request_timeout=CLIENT_TIMEOUT_S)[kip848].result(timeout=CLIENT_TIMEOUT_S)
        assert len(group.members) == 1, group
        assert names(group.authorized_operations or []) == GROUP_OPS, "ConsumerGroupDescribe"
    finally:
        member.close()

    # Not asked for: none reported.
    plain = admin.describe_topics(TopicCollection([topic]), request_timeout=CLIENT_TIMEOUT_S)[topic] \
        .result(timeout=CLIENT_TIMEOUT_S)
    assert not plain.authorized_operations


@pytest.mark.deadline(60)
def test_kafka_python_admin_reads_all_operations_allowed(module_broker):
    bootstrap = module_broker.bootstrap
    topic = unique_topic("authz-kp")
    ck_create_topic(bootstrap, topic, 1)
    group = simple_group(bootstrap, topic)
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=CLIENT_TIMEOUT_S * 1000)
    try:
        [described] = admin.describe_topics([topic])
        assert set(described["authorized_operations"]) == TOPIC_OPS, described
        g = admin.describe_groups([group])[group]  # kafka-python always asks for the operations
        assert g["error"] is None and set(g["authorized_operations"]) == GROUP_OPS, g
    finally:
        admin.close()


def metadata_v8(topic: str, cluster_ops: bool, topic_ops: bool) -> bytes:
    body = i32(1) + len(topic).to_bytes(2, "big") + topic.encode()
    body += bytes([0, int(cluster_ops), int(topic_ops)])  # allow auto-creation, include cluster/topic ops
    return request_frame(METADATA, 8, 7, body)


def parse_metadata_v8(r: Reader) -> tuple[dict[str, int], int]:
    """(topic name → topic authorized operations, cluster authorized operations)."""
    def string() -> str | None:
        n = r.i16()
        return None if n < 0 else r.take(n).decode()
    r.i32()  # throttle
    for _ in range(r.i32()):  # brokers
        r.i32(); string(); r.i32(); string()
    string(); r.i32()  # cluster id, controller id
    topics = {}
    for _ in range(r.i32()):
        r.i16(); name = string(); r.take(1)
        for _ in range(r.i32()):
            r.i16(); r.i32(); r.i32(); r.i32()
            for _ in range(3):
                r.take(4 * r.i32())
        topics[name] = r.i32()
    return topics, r.i32()


@pytest.mark.parametrize("asked", [True, False], ids=["asked", "not-asked"])
def test_metadata_v8_cluster_and_topic_operations(module_broker, asked):
    topic = unique_topic("authz-raw")
    ck_create_topic(module_broker.bootstrap, topic, 1)
    with connect(module_broker.bootstrap) as s:
        s.sendall(metadata_v8(topic, cluster_ops=asked, topic_ops=asked))
        r = Reader(recv_frame(s))
        assert r.i32() == 7, "correlation id"
        topics, cluster = parse_metadata_v8(r)
        assert r.remaining() == 0
    if asked:
        assert topics == {topic: bits(TOPIC_OPS)} and cluster == bits(CLUSTER_OPS), (topics, cluster)
    else:
        assert topics == {topic: NOT_REQUESTED} and cluster == NOT_REQUESTED, (topics, cluster)
