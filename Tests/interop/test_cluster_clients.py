"""The four clients against a real three-node cluster (every node broker and controller): kcat,
confluent-kafka, kafka-python and aiokafka see three brokers and one controller, create topics
through any node, produce to and consume from partition leaders spread over the nodes, and run a
consumer group whose coordinator may be on any node. Partition data is not replicated yet (issue
11): these tests check routing and metadata, not durability across brokers.
"""
from __future__ import annotations

import asyncio
import json
import subprocess

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition as AioTP
from confluent_kafka import Consumer, KafkaError
from kafka import KafkaConsumer, KafkaProducer, TopicPartition as KpTP

from interop_support import (CLIENT_TIMEOUT_S, Rec, assert_same_log, by_partition, ck_admin, ck_consume,
                             ck_create_topic, ck_produce, make_records, now_ms, unique_topic, wait_until)

PARTITIONS = 3
CLUSTER_OVERRIDES = {"num.partitions": "3", "default.replication.factor": "3"}


def create_rf3_topic(cluster, topic: str) -> dict[int, int]:
    """Creates `topic` (3 partitions, replication factor 3) through the second node and returns
    each partition's leader as every node reports it (they must agree)."""
    from confluent_kafka.admin import NewTopic
    admin = ck_admin(cluster.nodes[1].bootstrap)
    admin.create_topics([NewTopic(topic, num_partitions=PARTITIONS, replication_factor=3)],
                        operation_timeout=20, request_timeout=25)[topic].result(timeout=CLIENT_TIMEOUT_S)

    def leaders_of(node):
        md = ck_admin(node.bootstrap).list_topics(topic=topic, timeout=10).topics.get(topic)
        if md is None or md.error is not None or len(md.partitions) != PARTITIONS:
            return None
        if any(p.leader < 0 or len(p.replicas) != 3 for p in md.partitions.values()):
            return None
        return {p.id: p.leader for p in md.partitions.values()}

    views = wait_until(lambda: [v for v in (leaders_of(n) for n in cluster.nodes) if v] if
                       all(leaders_of(n) for n in cluster.nodes) else None, 20, f"every node to know {topic}")
    assert all(v == views[0] for v in views), f"nodes disagree on leaders: {views}"
    return views[0]


def test_every_client_sees_three_brokers_and_one_controller(module_cluster):
    md = json.loads(subprocess.run(["kcat", "-L", "-J", "-b", module_cluster.nodes[2].bootstrap],
                                   capture_output=True, timeout=30, check=True).stdout)
    assert sorted(b["id"] for b in md["brokers"]) == [1, 2, 3]
    controllers = set()
    for node in module_cluster.nodes:
        cluster_md = ck_admin(node.bootstrap).list_topics(timeout=10)
        assert sorted(cluster_md.brokers) == [1, 2, 3]
        controllers.add(cluster_md.controller_id)
    assert len(controllers) == 1 and controllers.pop() in (1, 2, 3)


def test_confluent_kafka_produces_to_spread_leaders_and_reads_back(module_cluster):
    topic = unique_topic("cl-ck")
    leaders = create_rf3_topic(module_cluster, topic)
    assert set(leaders.values()) == {1, 2, 3}, f"leaders {leaders} are not spread"
    records = make_records(topic, PARTITIONS, 50, now_ms() - 60_000)
    ck_produce(module_cluster.bootstrap, topic, records)
    got = ck_consume(module_cluster.nodes[0].bootstrap, topic, range(PARTITIONS),
                     {p: len(v) for p, v in by_partition(records).items()})
    assert_same_log(by_partition(records), got)


def test_kcat_and_kafka_python_and_aiokafka_follow_the_leaders(module_cluster):
    topic = unique_topic("cl-mixed")
    create_rf3_topic(module_cluster, topic)
    # kcat produces to every partition through the third node.
    for p in range(PARTITIONS):
        subprocess.run(["kcat", "-P", "-b", module_cluster.nodes[2].bootstrap, "-t", topic, "-p", str(p)],
                       input=f"kcat-{p}\n".encode(), capture_output=True, timeout=30, check=True)
    # kafka-python produces through the first node.
    producer = KafkaProducer(bootstrap_servers=module_cluster.nodes[0].bootstrap, acks="all",
                             request_timeout_ms=30_000, max_block_ms=30_000)
    for p in range(PARTITIONS):
        producer.send(topic, value=f"kp-{p}".encode(), partition=p).get(timeout=30)
    producer.close()

    # aiokafka produces through the second node, then reads everything back.
    async def aio() -> dict[int, list[bytes]]:
        prod = AIOKafkaProducer(bootstrap_servers=module_cluster.nodes[1].bootstrap, request_timeout_ms=30_000)
        await prod.start()
        try:
            for p in range(PARTITIONS):
                await prod.send_and_wait(topic, f"aio-{p}".encode(), partition=p)
        finally:
            await prod.stop()
        consumer = AIOKafkaConsumer(bootstrap_servers=module_cluster.nodes[1].bootstrap, enable_auto_commit=False)
        await consumer.start()
        out: dict[int, list[bytes]] = {p: [] for p in range(PARTITIONS)}
        try:
            parts = [AioTP(topic, p) for p in range(PARTITIONS)]
            consumer.assign(parts)
            await consumer.seek_to_beginning(*parts)
            deadline = asyncio.get_running_loop().time() + 30
            while sum(len(v) for v in out.values()) < 3 * PARTITIONS and asyncio.get_running_loop().time() < deadline:
                batch = await consumer.getmany(timeout_ms=500)
                for tp, msgs in batch.items():
                    out[tp.partition] += [m.value for m in msgs]
        finally:
            await consumer.stop()
        return out

    got = asyncio.run(asyncio.wait_for(aio(), 90))
    for p in range(PARTITIONS):
        assert got[p] == [f"kcat-{p}".encode(), f"kp-{p}".encode(), f"aio-{p}".encode()], f"partition {p}: {got[p]}"

    # kafka-python reads the same through the third node.
    consumer = KafkaConsumer(bootstrap_servers=module_cluster.nodes[2].bootstrap, enable_auto_commit=False,
                             consumer_timeout_ms=10_000)
    parts = [KpTP(topic, p) for p in range(PARTITIONS)]
    consumer.assign(parts)
    consumer.seek_to_beginning(*parts)
    seen = {p: [] for p in range(PARTITIONS)}
    for msg in consumer:
        seen[msg.partition].append(msg.value)
        if sum(len(v) for v in seen.values()) == 3 * PARTITIONS:
            break
    consumer.close()
    assert seen == {p: got[p] for p in range(PARTITIONS)}


def test_a_consumer_group_on_the_cluster_reads_everything_once(module_cluster):
    topic = unique_topic("cl-group")
    create_rf3_topic(module_cluster, topic)
    records = [Rec(p, None, f"g-{p}-{i}".encode()) for p in range(PARTITIONS) for i in range(20)]
    ck_produce(module_cluster.bootstrap, topic, records)
    consumer = Consumer({"bootstrap.servers": module_cluster.nodes[0].bootstrap, "group.id": unique_topic("cl-g"),
                         "auto.offset.reset": "earliest", "enable.auto.commit": True,
                         "session.timeout.ms": 10_000})
    consumer.subscribe([topic])
    values = []
    errors = []
    try:
        wait_until(lambda: _poll_into(consumer, values, errors) or len(values) >= len(records), 60,
                   "the group member to read every record")
    finally:
        consumer.close()
    assert not errors, errors
    assert sorted(values) == sorted(r.value for r in records)


def _poll_into(consumer, values: list, errors: list) -> bool:
    msg = consumer.poll(0.5)
    if msg is None:
        return False
    if msg.error():
        if msg.error().code() != KafkaError._PARTITION_EOF:
            errors.append(str(msg.error()))
        return False
    values.append(msg.value())
    return False
