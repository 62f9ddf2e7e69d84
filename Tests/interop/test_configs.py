"""Issue 13, configuration at run time, through Kafka's admin clients: confluent-kafka's
AdminClient (incremental_alter_configs, alter_configs, describe_configs, delete_records,
list_offsets with OffsetSpec.max_timestamp) and kafka-python's KafkaAdminClient (alter_configs,
describe_configs, delete_records, describe_log_dirs, list_partition_offsets). One broker (node 1)
whose retention check runs every 200 ms, so an altered retention shows within a second."""
from __future__ import annotations

import subprocess

import pytest
from confluent_kafka import KafkaError, KafkaException, TopicPartition
from confluent_kafka.admin import (AlterConfigOpType, ConfigEntry, ConfigResource, ConfigSource, OffsetSpec,
                                   ResourceType)

from conftest import runnel_bin
from interop_support import Rec, ck_admin, ck_consume, ck_create_topic, ck_produce, now_ms, unique_topic, wait_until

BROKER_OVERRIDES = {"log.retention.check.interval.ms": "200"}
TIMEOUT_S = 30


def described(admin, resource_type, name: str) -> dict:
    resource = ConfigResource(resource_type, name)
    return admin.describe_configs([resource], request_timeout=TIMEOUT_S)[resource].result(timeout=TIMEOUT_S)


def incremental(admin, resource_type, name: str, changes: list[tuple[str, AlterConfigOpType, str | None]],
                validate_only: bool = False):
    resource = ConfigResource(resource_type, name, incremental_configs=[
        ConfigEntry(key, value, incremental_operation=op) for key, op, value in changes])
    return admin.incremental_alter_configs([resource], validate_only=validate_only,
                                           request_timeout=TIMEOUT_S)[resource]


def refusal(future) -> KafkaError:
    with pytest.raises(KafkaException) as info:
        future.result(timeout=TIMEOUT_S)
    return info.value.args[0]


def records(n: int, base_ts: int, partition: int = 0) -> list[Rec]:
    return [Rec(partition, f"k{i}".encode(), f"v{i}".encode(), (), base_ts + i) for i in range(n)]


def earliest(admin, topic: str) -> int:
    tp = TopicPartition(topic, 0)
    return admin.list_offsets({tp: OffsetSpec.earliest()}, request_timeout=TIMEOUT_S)[tp].result(timeout=TIMEOUT_S).offset


def test_incremental_alter_sets_and_deletes_topic_configs(module_broker):
    admin = ck_admin(module_broker.bootstrap)
    topic = unique_topic("cfg-inc")
    ck_create_topic(module_broker.bootstrap, topic, 1)
    assert incremental(admin, ResourceType.TOPIC, topic, [
        ("retention.ms", AlterConfigOpType.SET, "3600000"),
        ("segment.ms", AlterConfigOpType.SET, "600000"),
    ]).result(timeout=TIMEOUT_S) is None
    configs = described(admin, ResourceType.TOPIC, topic)
    assert configs["retention.ms"].value == "3600000"
    assert ConfigSource(configs["retention.ms"].source) == ConfigSource.DYNAMIC_TOPIC_CONFIG
    assert configs["segment.ms"].value == "600000"

    assert incremental(admin, ResourceType.TOPIC, topic, [("retention.ms", AlterConfigOpType.DELETE, None)]).result(
        timeout=TIMEOUT_S) is None
    configs = described(admin, ResourceType.TOPIC, topic)
    assert ConfigSource(configs["retention.ms"].source) == ConfigSource.DEFAULT_CONFIG
    assert configs["retention.ms"].value == str(168 * 3600 * 1000)
    assert ConfigSource(configs["segment.ms"].source) == ConfigSource.DYNAMIC_TOPIC_CONFIG

    # validate_only checks and changes nothing.
    assert incremental(admin, ResourceType.TOPIC, topic, [("retention.ms", AlterConfigOpType.SET, "1000")],
                       validate_only=True).result(timeout=TIMEOUT_S) is None
    assert ConfigSource(described(admin, ResourceType.TOPIC, topic)["retention.ms"].source) == ConfigSource.DEFAULT_CONFIG


def test_bad_values_are_refused_with_key_value_and_range(module_broker):
    admin = ck_admin(module_broker.bootstrap)
    topic = unique_topic("cfg-bad")
    ck_create_topic(module_broker.bootstrap, topic, 1)
    err = refusal(incremental(admin, ResourceType.TOPIC, topic, [("segment.bytes", AlterConfigOpType.SET, "12")]))
    assert err.code() == KafkaError.INVALID_CONFIG, err
    assert "segment.bytes" in err.str() and "'12'" in err.str() and "1024" in err.str(), err.str()
    err = refusal(incremental(admin, ResourceType.TOPIC, topic, [("no.such.key", AlterConfigOpType.SET, "1")]))
    assert err.code() == KafkaError.INVALID_CONFIG and "no.such.key" in err.str(), err
    err = refusal(incremental(admin, ResourceType.BROKER, "1", [("num.partitions", AlterConfigOpType.SET, "3")]))
    assert err.code() == KafkaError.INVALID_REQUEST and "num.partitions" in err.str(), err
    err = refusal(incremental(admin, ResourceType.TOPIC, unique_topic("cfg-none"),
                              [("retention.ms", AlterConfigOpType.SET, "1")]))
    assert err.code() == KafkaError.UNKNOWN_TOPIC_OR_PART, err


def test_alter_configs_replaces_the_whole_set(module_broker):
    admin = ck_admin(module_broker.bootstrap)
    topic = unique_topic("cfg-legacy")
    ck_create_topic(module_broker.bootstrap, topic, 1, {"retention.ms": "3600000"})
    resource = ConfigResource(ResourceType.TOPIC, topic, set_config={"segment.ms": "120000"})
    assert admin.alter_configs([resource], request_timeout=TIMEOUT_S)[resource].result(timeout=TIMEOUT_S) is None
    configs = described(admin, ResourceType.TOPIC, topic)
    assert configs["segment.ms"].value == "120000"
    assert ConfigSource(configs["segment.ms"].source) == ConfigSource.DYNAMIC_TOPIC_CONFIG
    assert ConfigSource(configs["retention.ms"].source) != ConfigSource.DYNAMIC_TOPIC_CONFIG


def test_broker_configs_per_broker(module_broker):
    """confluent-kafka refuses an empty broker name client-side, so the cluster-wide defaults are
    altered through kafka-python (test_kafka_python_broker_defaults)."""
    admin = ck_admin(module_broker.bootstrap)
    topic = unique_topic("cfg-broker")
    ck_create_topic(module_broker.bootstrap, topic, 1)
    try:
        assert incremental(admin, ResourceType.BROKER, "1", [("message.max.bytes", AlterConfigOpType.SET, "2000000")]).result(
            timeout=TIMEOUT_S) is None
        broker = described(admin, ResourceType.BROKER, "1")
        assert broker["message.max.bytes"].value == "2000000"
        assert ConfigSource(broker["message.max.bytes"].source) == ConfigSource.DYNAMIC_BROKER_CONFIG
        assert not broker["message.max.bytes"].is_read_only and broker["num.partitions"].is_read_only
        topic_configs = described(admin, ResourceType.TOPIC, topic)
        assert topic_configs["max.message.bytes"].value == "2000000"
        assert ConfigSource(topic_configs["max.message.bytes"].source) == ConfigSource.DYNAMIC_BROKER_CONFIG
    finally:
        incremental(admin, ResourceType.BROKER, "1", [("message.max.bytes", AlterConfigOpType.DELETE, None)]).result(
            timeout=TIMEOUT_S)
    assert ConfigSource(described(admin, ResourceType.BROKER, "1")["message.max.bytes"].source) == ConfigSource.DEFAULT_CONFIG


def runnel(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([runnel_bin(), *args], capture_output=True, text=True, timeout=TIMEOUT_S)


def test_cluster_wide_defaults_are_described_as_kafka_does(module_broker):
    """Neither confluent-kafka nor kafka-python sends an empty broker name (the cluster-wide
    default): `runnel config alter --broker-defaults` sets it; confluent-kafka describes it."""
    admin = ck_admin(module_broker.bootstrap)
    topic = unique_topic("cfg-defaults")
    ck_create_topic(module_broker.bootstrap, topic, 1)
    b = module_broker.bootstrap
    try:
        done = runnel("config", "alter", "--broker-defaults", "-c", "log.retention.bytes=1073741824", "-b", b)
        assert done.returncode == 0, done.stderr
        topic_configs = described(admin, ResourceType.TOPIC, topic)
        assert topic_configs["retention.bytes"].value == "1073741824"
        assert ConfigSource(topic_configs["retention.bytes"].source) == ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG
        broker = described(admin, ResourceType.BROKER, "1")
        assert ConfigSource(broker["log.retention.bytes"].source) == ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG
        shown = runnel("config", "describe", "--broker-defaults", "-b", b)
        assert shown.stdout == "log.retention.bytes=1073741824\t(dynamic-default-broker)\n", shown
    finally:
        done = runnel("config", "alter", "--broker-defaults", "--delete-config", "log.retention.bytes", "-b", b)
        assert done.returncode == 0, done.stderr
    assert ConfigSource(described(admin, ResourceType.TOPIC, topic)["retention.bytes"].source) == ConfigSource.DEFAULT_CONFIG


def test_altered_retention_deletes_segments_without_a_restart(module_broker):
    admin = ck_admin(module_broker.bootstrap)
    topic = unique_topic("cfg-ret")
    # Segments of at most 2 KiB: 40 records of ~100 bytes make several.
    ck_create_topic(module_broker.bootstrap, topic, 1, {"segment.bytes": "2048"})
    base = now_ms() - 3_600_000
    ck_produce(module_broker.bootstrap, topic, [Rec(0, None, b"x" * 100, (), base + i) for i in range(40)],
               conf={"linger.ms": 0, "batch.num.messages": 1})
    assert earliest(admin, topic) == 0
    assert incremental(admin, ResourceType.TOPIC, topic, [("retention.ms", AlterConfigOpType.SET, "60000")]).result(
        timeout=TIMEOUT_S) is None
    wait_until(lambda: earliest(admin, topic) > 0, 15, "retention to delete the hour-old segments")


def test_delete_records_and_max_timestamp(module_broker):
    admin = ck_admin(module_broker.bootstrap)
    topic = unique_topic("cfg-del")
    ck_create_topic(module_broker.bootstrap, topic, 1)
    base = now_ms()
    stamps = [base + d for d in (10, 50, 20, 90, 30, 40, 60, 70, 80, 85)]  # the largest at offset 3
    ck_produce(module_broker.bootstrap, topic, [Rec(0, None, f"v{i}".encode(), (), ts) for i, ts in enumerate(stamps)])
    tp = TopicPartition(topic, 0)
    found = admin.list_offsets({tp: OffsetSpec.max_timestamp()}, request_timeout=TIMEOUT_S)[tp].result(timeout=TIMEOUT_S)
    assert (found.offset, found.timestamp) == (3, base + 90)

    deleted = admin.delete_records([TopicPartition(topic, 0, 4)], request_timeout=TIMEOUT_S)
    result = deleted[TopicPartition(topic, 0, 4)].result(timeout=TIMEOUT_S)
    assert result.low_watermark == 4
    assert earliest(admin, topic) == 4
    got = ck_consume(module_broker.bootstrap, topic, [0], expected={0: 6})
    assert [r.offset for r in got[0]] == list(range(4, 10))
    # Above the high watermark: OFFSET_OUT_OF_RANGE.
    beyond = admin.delete_records([TopicPartition(topic, 0, 11)], request_timeout=TIMEOUT_S)
    err = refusal(beyond[TopicPartition(topic, 0, 11)])
    assert err.code() == KafkaError.OFFSET_OUT_OF_RANGE, err


def test_kafka_python_admin(module_broker):
    from kafka import KafkaAdminClient
    from kafka import TopicPartition as KTopicPartition
    from kafka.admin import AlterConfigOp, ConfigResource as KConfigResource, ConfigResourceType, OffsetSpec as KOffsetSpec

    topic = unique_topic("cfg-kp")
    ck_create_topic(module_broker.bootstrap, topic, 1)
    base = now_ms()
    ck_produce(module_broker.bootstrap, topic, [Rec(0, None, f"v{i}".encode(), (), base + (100 if i == 2 else i))
                                                for i in range(6)])
    admin = KafkaAdminClient(bootstrap_servers=module_broker.bootstrap, request_timeout_ms=TIMEOUT_S * 1000)
    try:
        admin.alter_configs([KConfigResource(ConfigResourceType.TOPIC, topic,
                                             configs={"retention.ms": (AlterConfigOp.SET, "7200000")})])
        described_ = admin.describe_configs([KConfigResource(ConfigResourceType.TOPIC, topic)])
        text = repr(described_)
        assert "retention.ms" in text and "7200000" in text, text

        deleted = admin.delete_records({KTopicPartition(topic, 0): 2})
        assert repr(deleted[KTopicPartition(topic, 0)]).find("2") >= 0, deleted
        offsets = admin.list_partition_offsets({KTopicPartition(topic, 0): KOffsetSpec.MAX_TIMESTAMP})
        assert offsets[KTopicPartition(topic, 0)].offset == 2, offsets
        offsets = admin.list_partition_offsets({KTopicPartition(topic, 0): KOffsetSpec.EARLIEST})
        assert offsets[KTopicPartition(topic, 0)].offset == 2, offsets

        dirs = admin.describe_log_dirs()
        text = repr(dirs)
        assert topic in text and str(module_broker.data_dir) in text, text
    finally:
        admin.close()
