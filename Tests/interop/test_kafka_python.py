"""kafka-python 3.0 KafkaProducer, KafkaConsumer (assign + seek, no group) and KafkaAdminClient.
kafka-python 3.x sends ApiVersions v4 first and then uses the broker's maximum of most APIs
(PROTOCOL.md §1b), so it exercises whatever Runnel advertises."""
from __future__ import annotations

import time

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType
from kafka.errors import (InvalidReplicationFactorError, TopicAlreadyExistsError,
                          UnknownTopicOrPartitionError)

from interop_support import (LONG_MAX, STANDARD_TOPIC_CONFIGS, Rec, assert_contiguous_acks, assert_same_log, by_partition, make_records,
                             now_ms, unique_topic, without_null_headers, wait_until)

TIMEOUT_MS = 30_000
PARTITIONS = 2


@pytest.fixture(scope="module")
def admin(module_broker):
    client = KafkaAdminClient(bootstrap_servers=module_broker.bootstrap, request_timeout_ms=TIMEOUT_MS,
                              client_id="interop-kafka-python-admin")
    yield client
    client.close()


def create_topic(admin, topic: str, partitions: int, configs: dict | None = None) -> None:
    admin.create_topics({topic: {"num_partitions": partitions, "replication_factor": 1,
                                 "configs": configs or {}}}, timeout_ms=TIMEOUT_MS)
    wait_until(lambda: len(admin.describe_topics([topic])[0]["partitions"]) == partitions
               and all(p["leader_id"] >= 0 for p in admin.describe_topics([topic])[0]["partitions"]),
               15, f"{topic} with {partitions} partitions in metadata")


def produce(bootstrap: str, topic: str, records: list[Rec], **conf) -> dict[int, list[int]]:
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5,
                             request_timeout_ms=TIMEOUT_MS, max_block_ms=TIMEOUT_MS,
                             delivery_timeout_ms=TIMEOUT_MS + 5000, **conf)
    try:
        futures = [producer.send(topic, value=r.value, key=r.key, partition=r.partition,
                                 headers=list(r.headers), timestamp_ms=r.timestamp) for r in records]
        producer.flush(timeout=TIMEOUT_MS / 1000)
        acks: dict[int, list[int]] = {}
        for f in futures:
            md = f.get(timeout=TIMEOUT_MS / 1000)
            acks.setdefault(md.partition, []).append(md.offset)
        return acks
    finally:
        producer.close(timeout=10)


def consume(bootstrap: str, topic: str, partitions: list[int], expected: dict[int, int]) -> dict[int, list[Rec]]:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                             auto_offset_reset="earliest", consumer_timeout_ms=3000,
                             request_timeout_ms=TIMEOUT_MS)
    try:
        tps = [TopicPartition(topic, p) for p in partitions]
        consumer.assign(tps)
        consumer.seek_to_beginning(*tps)
        got: dict[int, list[Rec]] = {p: [] for p in partitions}
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and any(len(got[p]) < expected.get(p, 0) for p in partitions):
            for m in consumer:  # stops after consumer_timeout_ms without a record
                got[m.partition].append(Rec(m.partition, m.key, m.value, tuple(m.headers or ()),
                                            m.timestamp, m.offset))
                if time.monotonic() > deadline:
                    break
        # One more quiet period: anything after the expected records is a duplicate.
        for m in consumer:
            got[m.partition].append(Rec(m.partition, m.key, m.value, tuple(m.headers or ()), m.timestamp, m.offset))
        return got
    finally:
        consumer.close()


@pytest.mark.parametrize("conf", [{}, {"enable_idempotence": False, "compression_type": "gzip"}],
                         ids=["idempotent-default", "gzip-not-idempotent"])
def test_produce_then_consume(module_broker, admin, conf):
    topic = unique_topic("kp-roundtrip")
    create_topic(admin, topic, PARTITIONS)
    records = without_null_headers(make_records(topic, PARTITIONS, 300, now_ms() - 60_000,
                                                compressible="compression_type" in conf))
    acks = produce(module_broker.bootstrap, topic, records, **conf)
    assert sorted(acks) == list(range(PARTITIONS))
    assert_contiguous_acks(acks)
    expected = by_partition(records)
    got = consume(module_broker.bootstrap, topic, list(range(PARTITIONS)), {p: len(v) for p, v in expected.items()})
    assert_same_log(expected, got)


def test_offsets_api(module_broker, admin):
    topic = unique_topic("kp-offsets")
    create_topic(admin, topic, PARTITIONS)
    records = without_null_headers(make_records(topic, PARTITIONS, 40, now_ms() - 60_000))
    produce(module_broker.bootstrap, topic, records)
    expected = by_partition(records)

    consumer = KafkaConsumer(bootstrap_servers=module_broker.bootstrap, group_id=None,
                             enable_auto_commit=False, request_timeout_ms=TIMEOUT_MS)
    try:
        tps = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        assert consumer.beginning_offsets(tps, timeout_ms=TIMEOUT_MS) == {tp: 0 for tp in tps}
        assert consumer.end_offsets(tps, timeout_ms=TIMEOUT_MS) == {tp: 40 for tp in tps}

        for tp in tps:
            recs = expected[tp.partition]
            for ts, want in ((recs[0].timestamp - 500, 0), (recs[9].timestamp, 9), (recs[9].timestamp + 1, 10),
                             (recs[-1].timestamp, 39)):
                got = consumer.offsets_for_times({tp: ts}, timeout_ms=TIMEOUT_MS)[tp]
                assert got is not None and got.offset == want, f"{tp} ts {ts}: {got}"
                assert got.timestamp == recs[want].timestamp, f"{tp} ts {ts}: {got}"
            after = consumer.offsets_for_times({tp: recs[-1].timestamp + 1}, timeout_ms=TIMEOUT_MS)[tp]
            assert after is None, f"{tp}: a timestamp after every record found {after}"

        # seek() to the middle, then read the rest of partition 1.
        consumer.assign([tps[1]])
        consumer.seek(tps[1], 25)
        polled = []
        deadline = time.monotonic() + 30
        while len(polled) < 15 and time.monotonic() < deadline:
            for batch in consumer.poll(timeout_ms=1000).values():
                polled += batch
        assert [m.offset for m in polled] == list(range(25, 40))
        assert [m.value for m in polled] == [r.value for r in expected[1][25:]]
    finally:
        consumer.close()


def test_admin_every_kafka_topic_config(module_broker, admin):
    """Issue 15 items 2 and 4: a standard config set is accepted; every config reads back with a value."""
    topic = unique_topic("kp-standard")
    create_topic(admin, topic, 1, STANDARD_TOPIC_CONFIGS)
    configs = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)],
                                     config_filter="all")["topic"][topic]
    for key, value in STANDARD_TOPIC_CONFIGS.items():
        assert configs.get(key, {}).get("value") == value, (key, configs.get(key))
        assert configs[key]["config_source"] == "DYNAMIC_TOPIC_CONFIG", (key, configs[key])
    plain = unique_topic("kp-plain")
    create_topic(admin, plain, 1)
    defaults = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, plain)],
                                      config_filter="all")["topic"][plain]
    assert set(STANDARD_TOPIC_CONFIGS) <= set(defaults), sorted(set(STANDARD_TOPIC_CONFIGS) - set(defaults))
    for name, entry in defaults.items():
        assert entry.get("value") is not None, (name, entry)
    assert defaults["flush.ms"]["value"] == LONG_MAX, defaults["flush.ms"]
    assert defaults["flush.ms"]["config_source"] == "DEFAULT_CONFIG", defaults["flush.ms"]


def test_admin_topics_and_configs(module_broker, admin):
    topic = unique_topic("kp-admin")
    create_topic(admin, topic, 3, {"retention.ms": "7200000"})
    assert topic in admin.list_topics()
    [desc] = admin.describe_topics([topic])
    assert desc["name"] == topic and desc["error_code"] == 0
    assert sorted(p["partition_index"] for p in desc["partitions"]) == [0, 1, 2]

    with pytest.raises(TopicAlreadyExistsError):
        admin.create_topics({topic: {"num_partitions": 1, "replication_factor": 1}}, timeout_ms=TIMEOUT_MS)
    bad = unique_topic("kp-rf3")
    with pytest.raises(InvalidReplicationFactorError):
        admin.create_topics({bad: {"num_partitions": 1, "replication_factor": 3}}, timeout_ms=TIMEOUT_MS)
    assert bad not in admin.list_topics()

    res = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
    topic_configs = res["topic"][topic]  # default filter: modified (non-default) configs only
    assert topic_configs.get("retention.ms", {}).get("value") == "7200000", topic_configs
    assert topic_configs["retention.ms"]["config_source"] == "DYNAMIC_TOPIC_CONFIG", topic_configs

    all_configs = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)],
                                         config_filter="all")["topic"][topic]
    assert all_configs.get("cleanup.policy", {}).get("value") == "delete", sorted(all_configs)

    cluster = admin.describe_cluster()
    assert [(b["host"], b["port"]) for b in cluster["brokers"]] == [("127.0.0.1", module_broker.port)], cluster
    broker_id = cluster["brokers"][0]["broker_id"]
    broker_configs = admin.describe_configs([ConfigResource(ConfigResourceType.BROKER, str(broker_id))],
                                            config_filter="all")["broker"][str(broker_id)]
    assert "num.partitions" in broker_configs, sorted(broker_configs)[:40]

    admin.create_partitions({topic: 4}, timeout_ms=TIMEOUT_MS)
    wait_until(lambda: len(admin.describe_topics([topic])[0]["partitions"]) == 4, 15, f"{topic} to have 4 partitions")

    admin.delete_topics([topic], timeout_ms=TIMEOUT_MS)
    wait_until(lambda: topic not in admin.list_topics(), 15, f"{topic} to disappear")
    with pytest.raises(UnknownTopicOrPartitionError):
        admin.delete_topics([topic], timeout_ms=TIMEOUT_MS)
