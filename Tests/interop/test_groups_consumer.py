"""KIP-848 consumer groups (ConsumerGroupHeartbeat) with librdkafka `group.protocol=consumer`.

The broker computes the assignment (default assignor `uniform`) and members converge to it
incrementally: a partition moving from A to B is first revoked by A (A acknowledges by no longer
reporting it), and only then assigned to B, so no partition is ever owned by two members at once
(PROTOCOL.md §7, KIP-848 "Assignment Reconciliation").

One test at the broker's defaults (heartbeat 5000 ms, initial delay 3000 ms) measures the figures:
second member's subscribe -> 3/3, a third member's subscribe -> 2/2/2, a member's close() -> 3/3.
Each member commits what it has read when partitions are revoked, so every record is read
exactly once across the group, in partition order.

With group.consumer.session.timeout.ms=6000 (Kafka's default is 45000): a SIGKILLed member is
expired and its partitions reassigned; and a SIGTERM restart under live members keeps the group's
commits and lets the members carry on.
"""
from __future__ import annotations

import signal
import time

import pytest

from interop_support import (CkMember, MemberProcess, assert_same_log, by_partition, ck_committed, ck_create_topic,
                             ck_end_offsets, ck_produce, make_records, merged_reads, now_ms,
                             poll_members, record_figure, unique_topic)

PARTITIONS = 6
KIP848 = {"group.protocol": "consumer"}


def split(members: list[CkMember], sizes: list[int]):
    def check():
        owned = [m.owned() for m in members]
        return sorted(len(o) for o in owned) == sorted(sizes) and set().union(*owned) == set(range(PARTITIONS))
    return check


def read_count(members: list[CkMember], n: int):
    return lambda: sum(len(m.reads) for m in members) >= n


def assert_revoked_before_assigned(newcomer: CkMember, others: list[CkMember]) -> None:
    """Every partition the newcomer was given had been revoked by its previous owner first."""
    for assigned_at, partitions in newcomer.assigned:
        for p in partitions:
            revokes = [t for m in others for t, ps in m.revoked if p in ps and t <= assigned_at]
            assert revokes, (f"{newcomer.name} was assigned partition {p} at {assigned_at:.3f} before any "
                             f"member revoked it: revoked {[(m.name, m.revoked) for m in others]}")


@pytest.mark.deadline(110)
def test_members_split_join_and_leave_at_default_settings(start_broker):
    broker = start_broker()  # group.consumer.heartbeat.interval.ms 5000: the figures are the defaults'
    topic = unique_topic("grp-848")
    group = unique_topic("g-848")
    ck_create_topic(broker.bootstrap, topic, PARTITIONS)
    batches = [make_records(f"{topic}-{i}", PARTITIONS, 30, now_ms() - 60_000 + i * 1000) for i in range(3)]
    ck_produce(broker.bootstrap, topic, batches[0])

    members = [CkMember(f"k{i}", broker.bootstrap, group, KIP848) for i in range(3)]
    a, b, c = members
    try:
        a.subscribe(topic)
        poll_members([a], lambda: len(a.owned()) == PARTITIONS, 30, "the first member to own all 6 partitions")
        first_s = time.monotonic() - a.subscribed_at
        b.subscribe(topic)
        poll_members([a, b], split([a, b], [3, 3]), 40, "two members with 3 partitions each")
        second_s = time.monotonic() - b.subscribed_at
        record_figure(f"KIP-848 (heartbeat 5000 ms): first member's subscribe -> owns 6: {first_s:.2f} s; "
                      f"second member's subscribe -> 3/3: {second_s:.2f} s")
        assert_revoked_before_assigned(b, [a])
        poll_members([a, b], read_count(members, len(batches[0])), 30, "the first batch read")

        c.subscribe(topic)
        ck_produce(broker.bootstrap, topic, batches[1])  # records arrive while the group reassigns
        poll_members(members, split(members, [2, 2, 2]), 40, "three members with 2 partitions each")
        third_s = time.monotonic() - c.subscribed_at
        record_figure(f"KIP-848 (heartbeat 5000 ms): third member's subscribe -> 2/2/2: {third_s:.2f} s")
        assert_revoked_before_assigned(c, [a, b])
        n = len(batches[0]) + len(batches[1])
        poll_members(members, read_count(members, n), 30, f"{n} records read")

        c.commit()
        left_at = time.monotonic()
        c.close()
        ck_produce(broker.bootstrap, topic, batches[2])
        poll_members([a, b], split([a, b], [3, 3]), 40, "the leaver's partitions handed to the other two")
        leave_s = time.monotonic() - left_at
        record_figure(f"KIP-848 (heartbeat 5000 ms): a member's close() -> the others own 3/3: {leave_s:.2f} s")
        poll_members([a, b], read_count(members, n + len(batches[2])), 30, "every record read")
        for _ in range(5):
            for m in (a, b):
                m.poll(0.1)

        assert_same_log(by_partition(batches[0] + batches[1] + batches[2]), merged_reads(members))
        for m in members:
            assert not m.errors, f"{m.name}: {m.errors[:5]}"
            assert not m.revoke_commit_errors, f"{m.name} could not commit on revoke: {m.revoke_commit_errors}"
        a.commit()
        b.commit()
        ends = ck_end_offsets(broker.bootstrap, topic, range(PARTITIONS))
        assert ck_committed(broker.bootstrap, group, topic, range(PARTITIONS)) == ends
    finally:
        for m in members:
            m.close()



FAST_848 = {"group.consumer.heartbeat.interval.ms": "1000", "group.consumer.session.timeout.ms": "6000",
            "group.initial.rebalance.delay.ms": "0"}


@pytest.mark.deadline(90)
def test_killed_member_expires_after_session_timeout(start_broker):
    """A KIP-848 member that stops heartbeating (SIGKILL, no leave heartbeat) is removed after
    group.consumer.session.timeout.ms and its partitions go to the others."""
    broker = start_broker(FAST_848)
    topic = unique_topic("grp-848-kill")
    group = unique_topic("g-848-kill")
    ck_create_topic(broker.bootstrap, topic, PARTITIONS)
    members = [CkMember(f"k{i}", broker.bootstrap, group, KIP848) for i in range(2)]
    doomed = MemberProcess(broker.bootstrap, group, topic, {"group.protocol": "consumer"})

    try:
        for m in members:
            m.subscribe(topic)

        def settled():
            owned = [m.owned() for m in members]
            return len(doomed.owned()) == 2 and all(len(o) == 2 for o in owned) \
                and set().union(*owned) | set(doomed.owned()) == set(range(PARTITIONS))
        poll_members(members, settled, 40, "two members here and one in a subprocess with 2 partitions each")

        doomed.kill()
        killed_at = time.monotonic()
        poll_members(members, split(members, [3, 3]), 25, f"partitions {doomed.owned()} of the killed member reassigned")
        takeover_s = time.monotonic() - killed_at
        record_figure(f"KIP-848: member SIGKILLed (group.consumer.session.timeout.ms=6000, heartbeat 1000 ms) -> "
                      f"its partitions owned by the others: {takeover_s:.2f} s")
        assert takeover_s < 6 + 6, f"the killed member's partitions moved only after {takeover_s:.1f} s"

        records = make_records(topic, PARTITIONS, 20, now_ms() - 30_000)
        ck_produce(broker.bootstrap, topic, records)
        poll_members(members, read_count(members, len(records)), 30, f"{len(records)} records read")
        assert_same_log(by_partition(records), merged_reads(members))
    finally:
        doomed.close()
        for m in members:
            m.close()


@pytest.mark.deadline(100)
def test_group_and_commits_survive_broker_restart(start_broker):
    """SIGTERM and restart under two live KIP-848 members: the committed offsets are kept, the
    members (re-joining if the coordinator fenced them) split the partitions again, and every
    record written after the restart is read once, right after the committed offsets."""
    broker = start_broker(FAST_848)
    topic = unique_topic("grp-848-restart")
    group = unique_topic("g-848-restart")
    ck_create_topic(broker.bootstrap, topic, PARTITIONS)
    before = make_records(topic, PARTITIONS, 20, now_ms() - 60_000)
    ck_produce(broker.bootstrap, topic, before)
    members = [CkMember(f"k{i}", broker.bootstrap, group, KIP848) for i in range(2)]
    try:
        for m in members:
            m.subscribe(topic)
        poll_members(members, lambda: split(members, [3, 3])() and read_count(members, len(before))(), 40,
                     "3/3 and every record read")
        for m in members:
            m.commit()
        ends = {p: 20 for p in range(PARTITIONS)}
        assert ck_committed(broker.bootstrap, group, topic, range(PARTITIONS)) == ends

        assert broker.stop(signal.SIGTERM) == 0
        broker.start()
        assert ck_committed(broker.bootstrap, group, topic, range(PARTITIONS)) == ends
        after = make_records(topic + "-after", PARTITIONS, 10, now_ms() - 30_000)
        ck_produce(broker.bootstrap, topic, after)
        poll_members(members, lambda: split(members, [3, 3])() and read_count(members, len(before) + len(after))(),
                     40, "the group re-formed at 3/3 and the records written after the restart read")
        for _ in range(10):
            for m in members:
                m.poll(0.1)
        assert_same_log(by_partition(before + after), merged_reads(members))
        for m in members:
            m.commit()
        assert ck_committed(broker.bootstrap, group, topic, range(PARTITIONS)) == {p: 30 for p in range(PARTITIONS)}
    finally:
        for m in members:
            m.close()


def assign_and_commit_twice(bootstrap: str, group: str, topic: str, extra: dict) -> list[str]:
    """An assign()-only librdkafka consumer in `group` commits offset 1, then offset 2: the
    commit errors it saw (none expected), then checks what the group has committed."""
    from confluent_kafka import KafkaException, TopicPartition
    from interop_support import ck_group_consumer
    consumer = ck_group_consumer(bootstrap, group, extra)
    errors = []
    try:
        consumer.assign([TopicPartition(topic, 0, 0)])
        for offset in (1, 2):
            try:
                result = consumer.commit(offsets=[TopicPartition(topic, 0, offset)], asynchronous=False)
                errors += [f"commit {offset}: {tp.error}" for tp in result if tp.error is not None]
            except KafkaException as e:
                errors.append(f"commit {offset}: {e.args[0]}")
    finally:
        consumer.close()
    if not errors:
        committed = ck_committed(bootstrap, group, topic, [0])
        assert committed == {0: 2}, f"committed {committed} after committing 1 then 2"
    return errors


@pytest.mark.deadline(60)
@pytest.mark.parametrize("protocol", ["consumer", "classic"])
def test_assign_only_consumer_commits_again_and_again(module_broker, protocol):
    """librdkafka's KIP-848 consumer sends its own member id with member epoch -1 when it commits
    without having joined (assign()); the classic one sends no member id. Kafka accepts both
    while the group has no members (ClassicGroup/ConsumerGroup.validateOffsetCommit); Runnel
    used to accept the first commit (which creates the group) and refuse every later one with
    UNKNOWN_MEMBER_ID."""
    bootstrap = module_broker.bootstrap
    topic = unique_topic("grp-assign-commit")
    ck_create_topic(bootstrap, topic, 1)
    group = unique_topic("g-assign-commit")
    assert assign_and_commit_twice(bootstrap, group, topic, {"group.protocol": protocol}) == []


@pytest.mark.deadline(60)
def test_assign_only_consumer_commits_to_an_empty_kip848_group(module_broker):
    """The group was a KIP-848 group whose last member left: it stays one, and an assign()-only
    consumer (member id of its own, epoch -1) may commit to it while it has no members."""
    bootstrap = module_broker.bootstrap
    topic = unique_topic("grp-assign-848")
    ck_create_topic(bootstrap, topic, 1)
    group = unique_topic("g-assign-848")
    member = CkMember("subscriber", bootstrap, group, KIP848)
    try:
        member.subscribe(topic)
        poll_members([member], lambda: member.owned() == {0}, 30, "the subscriber owns the partition")
    finally:
        member.close()
    assert assign_and_commit_twice(bootstrap, group, topic, KIP848) == []
