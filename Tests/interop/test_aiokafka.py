"""aiokafka 0.14: AIOKafkaProducer send_and_wait, AIOKafkaConsumer with assign/seek and getmany,
the offsets APIs. aiokafka sends ApiVersions v0 and only non-flexible versions of its client APIs
(Metadata <= 5, Produce <= 8, Fetch <= 11, ListOffsets <= 5), see PROTOCOL.md §1b."""
from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from interop_support import (Rec, assert_contiguous_acks, assert_same_log, by_partition, make_records,
                             now_ms, unique_topic, without_null_headers)

PARTITIONS = 2
TIMEOUT_S = 30
TEST_TIMEOUT_S = 90


def run(coro):
    async def bounded():
        return await asyncio.wait_for(coro, TEST_TIMEOUT_S)
    return asyncio.run(bounded())


async def create_topic(bootstrap: str, topic: str, partitions: int) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=TIMEOUT_S * 1000)
    await admin.start()
    try:
        response = await admin.create_topics([NewTopic(topic, partitions, 1)], timeout_ms=20_000)
        errors = [(t[0], t[1]) for t in response.topic_errors if t[1] != 0]
        assert not errors, f"CreateTopics errors: {errors}"
    finally:
        await admin.close()


async def produce(bootstrap: str, topic: str, records: list[Rec], **conf) -> dict[int, list[int]]:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5,
                                request_timeout_ms=TIMEOUT_S * 1000, **conf)
    await producer.start()
    try:
        # The first records go one at a time (send_and_wait), the rest pipelined.
        acks: dict[int, list[int]] = {}
        head, tail = records[:10], records[10:]
        for r in head:
            md = await producer.send_and_wait(topic, value=r.value, key=r.key, partition=r.partition,
                                              timestamp_ms=r.timestamp, headers=list(r.headers))
            acks.setdefault(md.partition, []).append(md.offset)
        futures = [await producer.send(topic, value=r.value, key=r.key, partition=r.partition,
                                       timestamp_ms=r.timestamp, headers=list(r.headers)) for r in tail]
        for md in await asyncio.gather(*futures):
            acks.setdefault(md.partition, []).append(md.offset)
        return acks
    finally:
        await producer.stop()


def to_rec(m) -> Rec:
    return Rec(m.partition, m.key, m.value, tuple(m.headers or ()), m.timestamp, m.offset)


async def roundtrip(bootstrap: str, conf: dict) -> None:
    topic = unique_topic("aio-roundtrip")
    await create_topic(bootstrap, topic, PARTITIONS)
    records = without_null_headers(make_records(topic, PARTITIONS, 250, now_ms() - 60_000))
    acks = await produce(bootstrap, topic, records, **conf)
    assert sorted(acks) == list(range(PARTITIONS))
    assert_contiguous_acks(acks)
    expected = by_partition(records)

    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                                auto_offset_reset="earliest", request_timeout_ms=TIMEOUT_S * 1000)
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        got: dict[int, list[Rec]] = {p: [] for p in range(PARTITIONS)}
        loop = asyncio.get_running_loop()
        deadline = loop.time() + TIMEOUT_S
        while loop.time() < deadline and any(len(got[p]) < len(expected[p]) for p in got):
            for tp, msgs in (await consumer.getmany(timeout_ms=1000)).items():
                got[tp.partition] += [to_rec(m) for m in msgs]
        # A short quiet period: nothing may follow the expected records.
        for tp, msgs in (await consumer.getmany(timeout_ms=1000)).items():
            got[tp.partition] += [to_rec(m) for m in msgs]
        assert_same_log(expected, got)

        assert await consumer.end_offsets(tps) == {tp: len(expected[tp.partition]) for tp in tps}
        assert await consumer.beginning_offsets(tps) == {tp: 0 for tp in tps}
        assert consumer.highwater(tps[0]) == len(expected[0])

        # seek() back into the middle of partition 0.
        consumer.seek(tps[0], 200)
        again: list[Rec] = []
        while loop.time() < deadline and len(again) < 50:
            again += [to_rec(m) for m in (await consumer.getmany(tps[0], timeout_ms=1000)).get(tps[0], [])]
        assert [r.offset for r in again] == list(range(200, 250))
        assert [r.value for r in again] == [r.value for r in expected[0][200:]]

        recs = expected[1]
        found = await consumer.offsets_for_times({tps[1]: recs[100].timestamp})
        assert found[tps[1]] is not None and found[tps[1]].offset == 100, found
        found = await consumer.offsets_for_times({tps[1]: recs[100].timestamp - 1})
        assert found[tps[1]].offset == 100, found
        found = await consumer.offsets_for_times({tps[1]: recs[-1].timestamp + 1})
        assert found[tps[1]] is None, found
    finally:
        await consumer.stop()


def test_produce_assign_getmany(module_broker):
    run(roundtrip(module_broker.bootstrap, {}))


def test_idempotent_gzip_producer(module_broker):
    run(roundtrip(module_broker.bootstrap, {"enable_idempotence": True, "compression_type": "gzip"}))
