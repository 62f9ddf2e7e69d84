"""confluent-kafka AdminClient: create, describe, grow and delete topics; describe configs.
Error cases are the ones Kafka returns on a one-broker cluster."""
from __future__ import annotations

import pytest
from confluent_kafka import KafkaError, KafkaException, TopicCollection
from confluent_kafka.admin import ConfigResource, ConfigSource, NewPartitions, NewTopic, ResourceType

from interop_support import (LONG_MAX, STANDARD_TOPIC_CONFIGS, ck_admin, ck_consume, ck_create_topic, ck_produce,
                             make_records, now_ms, unique_topic, wait_until)

TIMEOUT_S = 30


def error_code(future) -> int:
    with pytest.raises(KafkaException) as info:
        future.result(timeout=TIMEOUT_S)
    return info.value.args[0].code()


def topic_names(admin) -> set[str]:
    return set(admin.list_topics(timeout=10).topics)


def described(admin, resource_type, name: str) -> dict:
    """DescribeConfigs of one resource: config name -> ConfigEntry."""
    resource = ConfigResource(resource_type, name)
    return admin.describe_configs([resource], request_timeout=TIMEOUT_S)[resource].result(timeout=TIMEOUT_S)


def partition_count(admin, topic: str) -> int:
    t = admin.list_topics(topic=topic, timeout=10).topics.get(topic)
    return -1 if t is None or t.error is not None else len(t.partitions)


def test_create_describe_and_duplicate(module_broker):
    admin = ck_admin(module_broker.bootstrap)
    topic = unique_topic("adm-create")
    futures = admin.create_topics(
        [NewTopic(topic, num_partitions=3, replication_factor=1, config={"retention.ms": "3600000"})],
        operation_timeout=20, request_timeout=TIMEOUT_S)
    assert futures[topic].result(timeout=TIMEOUT_S) is None
    wait_until(lambda: partition_count(admin, topic) == 3, 15, f"{topic} with 3 partitions in metadata")

    md = admin.list_topics(topic=topic, timeout=10)
    broker_ids = set(md.brokers)
    assert len(broker_ids) == 1, f"brokers in metadata: {md.brokers}"
    for p, pm in md.topics[topic].partitions.items():
        assert pm.leader in broker_ids, f"partition {p} leader {pm.leader}"
        assert pm.replicas == [pm.leader] and pm.isrs == [pm.leader], f"partition {p}: {pm}"

    desc = admin.describe_topics(TopicCollection([topic]), request_timeout=TIMEOUT_S)[topic].result(timeout=TIMEOUT_S)
    assert desc.name == topic
    assert [p.id for p in desc.partitions] == [0, 1, 2]
    assert all(p.leader is not None and p.leader.id in broker_ids for p in desc.partitions)

    dup = admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)],
                              request_timeout=TIMEOUT_S)
    assert error_code(dup[topic]) == KafkaError.TOPIC_ALREADY_EXISTS


def test_invalid_replication_factor(module_broker):
    admin = ck_admin(module_broker.bootstrap)
    topic = unique_topic("adm-rf3")
    futures = admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=3)],
                                  request_timeout=TIMEOUT_S)
    assert error_code(futures[topic]) == KafkaError.INVALID_REPLICATION_FACTOR
    assert topic not in topic_names(admin)


def test_invalid_partition_count(module_broker):
    admin = ck_admin(module_broker.bootstrap)
    topic = unique_topic("adm-p0")
    futures = admin.create_topics([NewTopic(topic, num_partitions=0, replication_factor=1)],
                                  request_timeout=TIMEOUT_S)
    assert error_code(futures[topic]) == KafkaError.INVALID_PARTITIONS
    assert topic not in topic_names(admin)


def test_validate_only_creates_nothing(module_broker):
    admin = ck_admin(module_broker.bootstrap)
    topic = unique_topic("adm-validate")
    futures = admin.create_topics([NewTopic(topic, num_partitions=2, replication_factor=1)],
                                  validate_only=True, request_timeout=TIMEOUT_S)
    assert futures[topic].result(timeout=TIMEOUT_S) is None
    assert topic not in topic_names(admin)
    # And validation still reports errors.
    bad = admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=3)],
                              validate_only=True, request_timeout=TIMEOUT_S)
    assert error_code(bad[topic]) == KafkaError.INVALID_REPLICATION_FACTOR


def test_describe_configs_topic_and_broker(module_broker):
    admin = ck_admin(module_broker.bootstrap)
    topic = unique_topic("adm-configs")
    ck_create_topic(module_broker.bootstrap, topic, 1, {"retention.ms": "3600000"})

    configs = described(admin, ResourceType.TOPIC, topic)
    assert "retention.ms" in configs, f"topic configs: {sorted(configs)}"
    entry = configs["retention.ms"]
    assert entry.value == "3600000"
    assert ConfigSource(entry.source) == ConfigSource.DYNAMIC_TOPIC_CONFIG, f"retention.ms source {entry.source}"
    # Kafka describes every topic config, defaults included.
    assert "cleanup.policy" in configs, f"topic configs: {sorted(configs)}"
    assert configs["cleanup.policy"].value == "delete"
    assert ConfigSource(configs["cleanup.policy"].source) in (
        ConfigSource.DEFAULT_CONFIG, ConfigSource.STATIC_BROKER_CONFIG), configs["cleanup.policy"].source

    broker_id = next(iter(admin.list_topics(timeout=10).brokers))
    bconfigs = described(admin, ResourceType.BROKER, str(broker_id))
    assert "num.partitions" in bconfigs, f"broker configs: {sorted(bconfigs)[:40]}"
    assert "log.dirs" in bconfigs, f"broker configs: {sorted(bconfigs)[:40]}"


def test_create_with_every_kafka_topic_config_and_read_them_back(module_broker):
    """Issue 15 item 4: a standard config set is accepted and described back as set."""
    admin = ck_admin(module_broker.bootstrap)
    topic = unique_topic("adm-standard")
    ck_create_topic(module_broker.bootstrap, topic, 1, STANDARD_TOPIC_CONFIGS)
    configs = described(admin, ResourceType.TOPIC, topic)
    for key, value in STANDARD_TOPIC_CONFIGS.items():
        assert key in configs, f"{key} missing from {sorted(configs)}"
        assert configs[key].value == value, f"{key}: {configs[key].value!r} != {value!r}"
        assert ConfigSource(configs[key].source) == ConfigSource.DYNAMIC_TOPIC_CONFIG, f"{key} source"
    # An unknown cleanup policy is refused, naming the value and the allowed ones.
    bad = unique_topic("adm-compact")
    futures = admin.create_topics([NewTopic(bad, num_partitions=1, replication_factor=1,
                                            config={"cleanup.policy": "compact,shred"})], request_timeout=TIMEOUT_S)
    with pytest.raises(KafkaException) as info:
        futures[bad].result(timeout=TIMEOUT_S)
    assert info.value.args[0].code() == KafkaError.INVALID_CONFIG
    assert "shred" in info.value.args[0].str() and "compact, delete" in info.value.args[0].str()
    futures = admin.create_topics([NewTopic(bad, num_partitions=1, replication_factor=1,
                                            config={"compression.type": "brotli"})], request_timeout=TIMEOUT_S)
    with pytest.raises(KafkaException) as info:
        futures[bad].result(timeout=TIMEOUT_S)
    assert info.value.args[0].code() == KafkaError.INVALID_CONFIG
    assert "compression.type" in info.value.args[0].str() and "brotli" in info.value.args[0].str()


def test_describe_configs_every_value_is_set(module_broker):
    """Issue 15 item 2: no non-sensitive config is NULL; sources and synonyms are Kafka's."""
    admin = ck_admin(module_broker.bootstrap)
    topic = unique_topic("adm-values")
    ck_create_topic(module_broker.bootstrap, topic, 1, {"retention.ms": "3600000"})
    configs = described(admin, ResourceType.TOPIC, topic)
    for name, entry in configs.items():
        assert entry.is_sensitive or entry.value is not None, f"topic config {name} is NULL"
    for key in STANDARD_TOPIC_CONFIGS:
        assert key in configs, f"{key} missing from {sorted(configs)}"
    assert configs["flush.ms"].value == LONG_MAX
    assert configs["flush.ms"].is_default and ConfigSource(configs["flush.ms"].source) == ConfigSource.DEFAULT_CONFIG
    assert [(s.name, s.value) for s in configs["flush.ms"].synonyms.values()] == [
        ("log.flush.scheduler.interval.ms", LONG_MAX)], configs["flush.ms"].synonyms
    retention = configs["retention.ms"]
    assert not retention.is_default
    assert [(s.name, ConfigSource(s.source)) for s in retention.synonyms.values()][:2] == [
        ("retention.ms", ConfigSource.DYNAMIC_TOPIC_CONFIG), ("log.retention.hours", ConfigSource.DEFAULT_CONFIG)]

    broker_id = next(iter(admin.list_topics(timeout=10).brokers))
    bconfigs = described(admin, ResourceType.BROKER, str(broker_id))
    for name, entry in bconfigs.items():
        assert entry.is_sensitive or entry.value is not None, f"broker config {name} is NULL"
    assert bconfigs["log.flush.interval.ms"].value == LONG_MAX
    assert bconfigs["log.retention.ms"].value == str(168 * 3600 * 1000)


def test_describe_configs_unknown_topic(module_broker):
    admin = ck_admin(module_broker.bootstrap)
    resource = ConfigResource(ResourceType.TOPIC, unique_topic("adm-missing"))
    code = error_code(admin.describe_configs([resource], request_timeout=TIMEOUT_S)[resource])
    assert code == KafkaError.UNKNOWN_TOPIC_OR_PART


def test_create_partitions(module_broker):
    admin = ck_admin(module_broker.bootstrap)
    topic = unique_topic("adm-grow")
    ck_create_topic(module_broker.bootstrap, topic, 3)
    futures = admin.create_partitions([NewPartitions(topic, 5)], request_timeout=TIMEOUT_S)
    assert futures[topic].result(timeout=TIMEOUT_S) is None
    wait_until(lambda: partition_count(admin, topic) == 5, 15, f"{topic} with 5 partitions in metadata")

    # Shrinking is refused.
    shrink = admin.create_partitions([NewPartitions(topic, 2)], request_timeout=TIMEOUT_S)
    assert error_code(shrink[topic]) == KafkaError.INVALID_PARTITIONS

    # The new partitions take writes and serve them back.
    records = make_records(topic, 5, 4, now_ms() - 10_000)
    new_only = [r for r in records if r.partition >= 3]
    acks = ck_produce(module_broker.bootstrap, topic, new_only)
    assert acks == {3: [0, 1, 2, 3], 4: [0, 1, 2, 3]}
    got = ck_consume(module_broker.bootstrap, topic, [3, 4], {3: 4, 4: 4})
    assert [r.value for r in got[4]] == [r.value for r in new_only if r.partition == 4]


def test_delete_topics(module_broker):
    admin = ck_admin(module_broker.bootstrap)
    topic = unique_topic("adm-delete")
    ck_create_topic(module_broker.bootstrap, topic, 2)
    ck_produce(module_broker.bootstrap, topic, make_records(topic, 2, 5, now_ms() - 10_000))

    futures = admin.delete_topics([topic], operation_timeout=20, request_timeout=TIMEOUT_S)
    assert futures[topic].result(timeout=TIMEOUT_S) is None
    wait_until(lambda: topic not in topic_names(admin), 15, f"{topic} to disappear from list_topics")

    again = admin.delete_topics([topic], request_timeout=TIMEOUT_S)
    assert error_code(again[topic]) == KafkaError.UNKNOWN_TOPIC_OR_PART

    # The name can be reused, and the new topic starts empty at offset 0.
    ck_create_topic(module_broker.bootstrap, topic, 1)
    acks = ck_produce(module_broker.bootstrap, topic, make_records(topic, 1, 3, now_ms() - 5_000))
    assert acks == {0: [0, 1, 2]}
