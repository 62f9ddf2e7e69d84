"""Classic consumer groups with the pure-Python clients.

- kafka-python 3.0 KafkaConsumer(group_id=..., subscribe): two members, each in its own thread
  (a member's poll() blocks in JoinGroup until the other joins too), split a 4-partition topic
  2/2, read every record exactly once between them and commit; the commits equal the end offsets.
- aiokafka 0.14 AIOKafkaConsumer(group_id=...): two members in one event loop split the topic,
  read everything and commit; a later member of the same group starts at the commits (reads
  nothing old) and reads only what was written after.
"""
from __future__ import annotations

import asyncio
import threading
import time

import pytest
from aiokafka import AIOKafkaConsumer
from kafka import KafkaConsumer

from interop_support import (Rec, assert_same_log, by_partition, ck_committed, ck_create_topic,
                             ck_end_offsets, ck_produce, make_records, now_ms, unique_topic)

BROKER_OVERRIDES = {"group.initial.rebalance.delay.ms": "500"}
PARTITIONS = 4
TIMEOUT_S = 40
CONSUMER_TIMEOUTS = {"session_timeout_ms": 10000, "heartbeat_interval_ms": 1000, "request_timeout_ms": 30000}


def to_rec(m) -> Rec:
    return Rec(m.partition, m.key, m.value, tuple(m.headers or ()), m.timestamp, m.offset)


def merge(*member_reads: list[tuple[float, Rec]]) -> dict[int, list[Rec]]:
    return by_partition(r for _, r in sorted(x for reads in member_reads for x in reads))


class KpMember(threading.Thread):
    """A kafka-python group member polling in its own thread until `stop` is set."""

    def __init__(self, name: str, bootstrap: str, group: str, topic: str):
        super().__init__(name=name, daemon=True)
        self.consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, client_id=name,
                                      enable_auto_commit=False, auto_offset_reset="earliest",
                                      **CONSUMER_TIMEOUTS)
        self.topic = topic
        self.reads: list[tuple[float, Rec]] = []
        self.owned: set[int] = set()
        self.error: BaseException | None = None
        self.stop = threading.Event()
        self.commit_now = threading.Event()
        self.committed = threading.Event()

    def run(self) -> None:
        try:
            self.consumer.subscribe([self.topic])
            while not self.stop.is_set():
                batches = self.consumer.poll(timeout_ms=100)
                for records in batches.values():
                    for m in records:
                        self.reads.append((time.monotonic(), to_rec(m)))
                self.owned = {tp.partition for tp in self.consumer.assignment()}
                if self.commit_now.is_set() and not self.committed.is_set():
                    self.consumer.commit()
                    self.committed.set()
        except BaseException as e:  # noqa: BLE001 - reported by the test
            self.error = e
        finally:
            self.consumer.close(autocommit=False)


def wait_for(predicate, timeout: float, what: str, members) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        errors = [(m.name, m.error) for m in members if m.error]
        assert not errors, f"member failed: {errors}"
        assert time.monotonic() < deadline, \
            f"timed out after {timeout:.0f} s waiting for {what}: " \
            f"{[(m.name, sorted(m.owned), len(m.reads)) for m in members]}"
        time.sleep(0.05)


@pytest.mark.deadline(90)
def test_kafka_python_two_members_split_and_commit(module_broker):
    bootstrap = module_broker.bootstrap
    topic = unique_topic("grp-kp")
    group = unique_topic("g-kp")
    ck_create_topic(bootstrap, topic, PARTITIONS)
    records = make_records(topic, PARTITIONS, 50, now_ms() - 60_000)

    members = [KpMember(f"kp{i}", bootstrap, group, topic) for i in range(2)]
    try:
        for m in members:
            m.start()

        def split():
            owned = [m.owned for m in members]
            return all(len(o) == 2 for o in owned) and owned[0] | owned[1] == set(range(PARTITIONS))
        wait_for(split, TIMEOUT_S, "two kafka-python members with 2 partitions each", members)
        # Written once the group is settled: no rebalance while reading, so nothing is read twice.
        ck_produce(bootstrap, topic, records)
        wait_for(lambda: sum(len(m.reads) for m in members) >= len(records) and split(), TIMEOUT_S,
                 f"{len(records)} records read", members)
        for m in members:
            m.commit_now.set()
        wait_for(lambda: all(m.committed.is_set() for m in members), TIMEOUT_S, "both commits", members)
        time.sleep(0.5)  # anything read twice would show up now
    finally:
        for m in members:
            m.stop.set()
        for m in members:
            m.join(timeout=20)
    assert not [m for m in members if m.is_alive()], "a kafka-python member did not stop"
    assert not [(m.name, m.error) for m in members if m.error]
    assert_same_log(by_partition(records), merge(*(m.reads for m in members)))
    for m in members:  # after settling, each read only its own partitions
        assert {r.partition for _, r in m.reads} == m.owned, (m.name, m.owned)
    ends = ck_end_offsets(bootstrap, topic, range(PARTITIONS))
    assert ck_committed(bootstrap, group, topic, range(PARTITIONS)) == ends


async def aio_member(bootstrap: str, group: str, topic: str, name: str) -> AIOKafkaConsumer:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group, client_id=name,
                                enable_auto_commit=False, auto_offset_reset="earliest", **CONSUMER_TIMEOUTS)
    await consumer.start()
    return consumer


async def aio_read(consumers: list[AIOKafkaConsumer], reads: list[list[tuple[float, Rec]]],
                   done, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, \
            f"timed out after {timeout:.0f} s waiting for {what}: owned " \
            f"{[sorted(tp.partition for tp in c.assignment()) for c in consumers]}, read {[len(r) for r in reads]}"
        results = await asyncio.gather(*(c.getmany(timeout_ms=100) for c in consumers))
        for i, batches in enumerate(results):
            for msgs in batches.values():
                reads[i].extend((time.monotonic(), to_rec(m)) for m in msgs)


def test_aiokafka_members_read_and_commit(module_broker):
    bootstrap = module_broker.bootstrap
    topic = unique_topic("grp-aio")
    group = unique_topic("g-aio")
    ck_create_topic(bootstrap, topic, PARTITIONS)
    first = make_records(topic, PARTITIONS, 40, now_ms() - 60_000)

    async def scenario():
        consumers = [await aio_member(bootstrap, group, topic, f"aio{i}") for i in range(2)]
        reads: list[list[tuple[float, Rec]]] = [[], []]
        try:
            def split():
                owned = [{tp.partition for tp in c.assignment()} for c in consumers]
                return all(len(o) == 2 for o in owned) and owned[0] | owned[1] == set(range(PARTITIONS))
            await aio_read(consumers, reads, split, TIMEOUT_S, "two aiokafka members with 2 partitions each")
            # Written once the group is settled (heartbeats go on meanwhile): nothing is read twice.
            await asyncio.get_running_loop().run_in_executor(None, ck_produce, bootstrap, topic, first)
            await aio_read(consumers, reads, lambda: sum(map(len, reads)) >= len(first), TIMEOUT_S,
                           f"{len(first)} records read")
            extra_until = time.monotonic() + 0.5  # a few more reads: anything read twice shows up
            await aio_read(consumers, reads, lambda: time.monotonic() > extra_until, TIMEOUT_S, "")
            for c in consumers:
                await c.commit()
            owned = [{tp.partition for tp in c.assignment()} for c in consumers]
        finally:
            for c in consumers:
                await c.stop()
        return reads, owned

    async def later_member():
        c = await aio_member(bootstrap, group, topic, "aio-later")
        reads: list[list[tuple[float, Rec]]] = [[]]
        try:
            await aio_read([c], reads, lambda: len(reads[0]) >= len(second), TIMEOUT_S,
                           "the records written after the commit")
            extra_until = time.monotonic() + 0.5
            await aio_read([c], reads, lambda: time.monotonic() > extra_until, TIMEOUT_S, "")
            await c.commit()
        finally:
            await c.stop()
        return reads[0]

    reads, owned = asyncio.run(asyncio.wait_for(scenario(), 60))
    assert_same_log(by_partition(first), merge(*reads))
    for r, o in zip(reads, owned):
        assert {x.partition for _, x in r} == o
    assert ck_committed(bootstrap, group, topic, range(PARTITIONS)) == {p: 40 for p in range(PARTITIONS)}

    second = make_records(topic + "-2", PARTITIONS, 10, now_ms() - 30_000)
    ck_produce(bootstrap, topic, second)
    later = asyncio.run(asyncio.wait_for(later_member(), 60))
    got = by_partition(r for _, r in later)
    assert {p: [r.offset for r in rs] for p, rs in got.items()} == \
        {p: list(range(40, 50)) for p in range(PARTITIONS)}, "the later member did not start at the commits"
    assert {p: [r.value for r in rs] for p, rs in got.items()} == \
        {p: [r.value for r in rs] for p, rs in by_partition(second).items()}
    assert ck_committed(bootstrap, group, topic, range(PARTITIONS)) == {p: 50 for p in range(PARTITIONS)}
