"""Classic consumer groups (JoinGroup/SyncGroup/Heartbeat/LeaveGroup) with librdkafka
(confluent-kafka `subscribe()`, the default `range` assignor, eager rebalancing).

- Three members on 6 partitions settle on 2/2/2 and together read every record exactly once, in
  partition order; their commits add up to the log end offsets. Run with the default
  group.initial.rebalance.delay.ms (3000) and with 0; the time from the third subscribe to 2/2/2
  is printed as a figure.
- A member that leaves (close() sends LeaveGroup) hands its partitions over within the session
  timeout; a member SIGKILLed in a subprocess (no LeaveGroup) loses them once its session
  (6000 ms, group.min.session.timeout.ms) expires.
- Committed offsets survive SIGTERM and kill -9 of the broker: the group resumes exactly there.

Kafka's behaviour: PROTOCOL.md §7; a member's partitions move to the others only after a rebalance,
which starts on LeaveGroup at once and on a missed session at session.timeout.ms.
"""
from __future__ import annotations

import signal
import time

import pytest

from interop_support import (CkMember, MemberProcess, assert_same_log, by_partition, ck_committed, ck_create_topic,
                             ck_end_offsets, ck_produce, make_records, merged_reads, now_ms,
                             poll_members, record_figure, unique_topic, wait_until)

PARTITIONS = 6
SESSION_MS = 6000  # the smallest session timeout the broker accepts by default
FAST_MEMBER = {"session.timeout.ms": SESSION_MS, "heartbeat.interval.ms": 1000}


def even_split(members: list[CkMember], each: int):
    def check():
        owned = [m.owned() for m in members]
        return all(len(o) == each for o in owned) and set().union(*owned) == set(range(PARTITIONS))
    return check


def read_count(members: list[CkMember], n: int):
    return lambda: sum(len(m.reads) for m in members) >= n


@pytest.mark.deadline(90)
@pytest.mark.parametrize("initial_delay_ms", [None, 0], ids=["delay-default-3000", "delay-0"])
def test_three_members_split_read_once_and_commit(start_broker, initial_delay_ms):
    overrides = None if initial_delay_ms is None else {"group.initial.rebalance.delay.ms": str(initial_delay_ms)}
    broker = start_broker(overrides)
    topic = unique_topic("grp-classic-3")
    group = unique_topic("g-classic-3")
    ck_create_topic(broker.bootstrap, topic, PARTITIONS)
    records = make_records(topic, PARTITIONS, 60, now_ms() - 60_000)
    ck_produce(broker.bootstrap, topic, records)

    # librdkafka's own defaults (session 45 s, heartbeat 3 s): the figure is what a user sees.
    members = [CkMember(f"c{i}", broker.bootstrap, group) for i in range(3)]
    try:
        for m in members:
            m.subscribe(topic)
        poll_members(members, even_split(members, 2), 45, "three members with 2 partitions each")
        settle_s = time.monotonic() - members[-1].subscribed_at
        label = "default 3000" if initial_delay_ms is None else str(initial_delay_ms)
        record_figure(f"classic: third member's subscribe -> 2/2/2 on 6 partitions "
                      f"(group.initial.rebalance.delay.ms={label}, librdkafka default heartbeat 3 s): "
                      f"{settle_s:.2f} s")

        poll_members(members, read_count(members, len(records)), 30, f"{len(records)} records read")
        for _ in range(5):  # a few more polls: anything read twice would show up now
            for m in members:
                m.poll(0.1)
        expected = by_partition(records)
        assert_same_log(expected, merged_reads(members))
        for m in members:
            assert len(m.owned()) == 2, members
            assert {r.partition for _, r in m.reads} <= m.owned() | {p for _, ps in m.revoked for p in ps}
            assert not m.errors, f"{m.name}: {m.errors[:5]}"
            assert not m.revoke_commit_errors, f"{m.name} could not commit on revoke: {m.revoke_commit_errors}"
            m.commit()

        ends = ck_end_offsets(broker.bootstrap, topic, range(PARTITIONS))
        committed = ck_committed(broker.bootstrap, group, topic, range(PARTITIONS))
        assert committed == ends, f"committed {committed}, log end offsets {ends}"
        assert sum(committed.values()) == len(records)
    finally:
        for m in members:
            m.close()


@pytest.mark.deadline(90)
def test_member_leaving_hands_partitions_over(start_broker):
    broker = start_broker({"group.initial.rebalance.delay.ms": "200"})
    topic = unique_topic("grp-classic-leave")
    group = unique_topic("g-classic-leave")
    ck_create_topic(broker.bootstrap, topic, PARTITIONS)
    first = make_records(topic, PARTITIONS, 30, now_ms() - 60_000)
    ck_produce(broker.bootstrap, topic, first)

    members = [CkMember(f"c{i}", broker.bootstrap, group, FAST_MEMBER) for i in range(3)]
    try:
        for m in members[:2]:
            m.subscribe(topic)
        poll_members(members[:2], even_split(members[:2], 3), 30, "two members with 3 partitions each")
        members[2].subscribe(topic)
        join_s = poll_members(members, even_split(members, 2), 30, "three members with 2 partitions each")
        record_figure(f"classic: a third member joining a stable group of two -> 2/2/2 "
                      f"(heartbeat.interval.ms=1000): {join_s:.2f} s")
        poll_members(members, read_count(members, len(first)), 30, f"{len(first)} records read")

        leaver = members[2]
        leaver_partitions = leaver.owned()
        leaver.commit()
        left_at = time.monotonic()
        leaver.close()
        stay = members[:2]
        poll_members(stay, even_split(stay, 3), SESSION_MS / 1000 + 10,
                     f"{sorted(leaver_partitions)} handed over after close()")
        handover_s = time.monotonic() - left_at
        record_figure(f"classic: member close() -> its partitions owned by the others: {handover_s:.2f} s")
        assert handover_s < SESSION_MS / 1000, \
            f"LeaveGroup should rebalance at once; the partitions moved only after {handover_s:.1f} s"

        second = make_records(topic + "-2", PARTITIONS, 20, now_ms() - 30_000)
        ck_produce(broker.bootstrap, topic, second)
        total = len(first) + len(second)
        poll_members(stay, read_count(members, total), 30, f"{total} records read")
        expected = by_partition(first + second)
        assert_same_log(expected, merged_reads(members))
        for m in members:
            assert not m.errors and not m.revoke_commit_errors, (m.name, m.errors[:5], m.revoke_commit_errors)
    finally:
        for m in members:
            m.close()




@pytest.mark.deadline(90)
def test_killed_member_loses_partitions_after_session_timeout(start_broker):
    broker = start_broker({"group.initial.rebalance.delay.ms": "200"})
    topic = unique_topic("grp-classic-kill")
    group = unique_topic("g-classic-kill")
    ck_create_topic(broker.bootstrap, topic, PARTITIONS)

    members = [CkMember(f"c{i}", broker.bootstrap, group, FAST_MEMBER) for i in range(2)]
    doomed = MemberProcess(broker.bootstrap, group, topic, FAST_MEMBER)

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
        poll_members(members, even_split(members, 3), SESSION_MS / 1000 + 15,
                     f"partitions {doomed.owned()} of the killed member reassigned")
        takeover_s = time.monotonic() - killed_at
        record_figure(f"classic: member SIGKILLed (session.timeout.ms={SESSION_MS}, heartbeat 1 s) -> "
                      f"its partitions owned by the others: {takeover_s:.2f} s")
        assert takeover_s < SESSION_MS / 1000 + 6, \
            f"the killed member's partitions moved only after {takeover_s:.1f} s (session timeout {SESSION_MS} ms)"

        records = make_records(topic, PARTITIONS, 20, now_ms() - 30_000)
        ck_produce(broker.bootstrap, topic, records)
        poll_members(members, read_count(members, len(records)), 30, f"{len(records)} records read")
        assert_same_log(by_partition(records), merged_reads(members))
    finally:
        doomed.close()
        for m in members:
            m.close()


@pytest.mark.deadline(100)
@pytest.mark.parametrize("how", ["sigterm", "kill9"])
def test_committed_offsets_survive_broker_restart(start_broker, how):
    broker = start_broker({"group.initial.rebalance.delay.ms": "0"})
    topic = unique_topic(f"grp-classic-restart-{how}")
    group = unique_topic("g-classic-restart")
    parts = 3
    ck_create_topic(broker.bootstrap, topic, parts)
    records = make_records(topic, parts, 100, now_ms() - 60_000)
    ck_produce(broker.bootstrap, topic, records)

    first = CkMember("before", broker.bootstrap, group, FAST_MEMBER)
    second = None
    try:
        first.subscribe(topic)
        poll_members([first], lambda: len(first.reads) >= 150, 30, "150 records read")
        first.commit()
        read = by_partition(r for _, r in first.reads)
        want = {p: read[p][-1].offset + 1 for p in read}
        committed = ck_committed(broker.bootstrap, group, topic, range(parts))
        assert {p: o for p, o in committed.items() if o >= 0} == want, \
            f"committed {committed} after reading up to {want}"

        # The commit was acknowledged: stop the broker at once, the member still in the group.
        code = broker.stop(signal.SIGTERM) if how == "sigterm" else broker.kill9()
        assert code == (0 if how == "sigterm" else -signal.SIGKILL), f"exit code {code}"
        broker.start()
        committed = wait_until(lambda: ck_committed(broker.bootstrap, group, topic, range(parts)), 20,
                               "OffsetFetch after the restart")
        assert {p: o for p, o in committed.items() if o >= 0} == want, \
            f"after {how}: committed {committed}, acknowledged before: {want}"
        first.close()

        second = CkMember("after", broker.bootstrap, group, FAST_MEMBER)
        second.subscribe(topic)
        poll_members([second], lambda: len(first.reads) + len(second.reads) >= len(records), 40,
                     "the rest of the records read after the restart")
        for _ in range(10):
            second.poll(0.1)
        resumed = by_partition(r for _, r in second.reads)
        starts = {p: rs[0].offset for p, rs in resumed.items()}
        assert starts == {p: want.get(p, 0) for p in range(parts) if want.get(p, 0) < 100}, \
            f"resumed at {starts}, committed {want}"
        assert_same_log(by_partition(records), merged_reads([first, second]))
    finally:
        first.close()
        if second is not None:
            second.close()


@pytest.mark.deadline(90)
def test_replaced_static_member_is_fenced(start_broker):
    """KIP-345: a second instance with the same group.instance.id takes over the member; the old
    instance's next Heartbeat gets FENCED_INSTANCE_ID (82), which librdkafka treats as fatal. With
    UNKNOWN_MEMBER_ID instead, the old instance rejoins and replaces the new one: the two
    ping-pong and neither stops."""
    broker = start_broker({"group.initial.rebalance.delay.ms": "0"})
    topic = unique_topic("grp-classic-static")
    group = unique_topic("g-classic-static")
    ck_create_topic(broker.bootstrap, topic, 2)
    fatal: dict[str, list[str]] = {"old": [], "new": []}

    def member(name: str) -> CkMember:
        def on_error(err):
            if err.fatal():
                fatal[name].append(str(err))
        return CkMember(name, broker.bootstrap, group,
                        {**FAST_MEMBER, "group.instance.id": "instance-1", "error_cb": on_error})

    old, new = member("old"), member("new")
    try:
        old.subscribe(topic)
        poll_members([old], lambda: old.owned() == {0, 1}, 30, "the first instance owns both partitions")
        new.subscribe(topic)
        poll_members([new], lambda: new.owned() == {0, 1}, 30, "the second instance took the member over",
                     exclusive=False)
        # librdkafka reports a fatal error through poll() (and error_cb where it has one).
        poll_members([old, new], lambda: fatal["old"] or any("_FATAL" in e for e in old.errors), 20,
                     "the first instance fenced (fatal error)", exclusive=False)
        assert any("fenced" in e.lower() for e in fatal["old"] + old.errors), (fatal["old"], old.errors)
        # The second instance keeps the member: never fenced, never loses its partitions.
        until = time.monotonic() + 3 * FAST_MEMBER["heartbeat.interval.ms"] / 1000
        while time.monotonic() < until:
            new.poll(0.1)
            assert new.owned() == {0, 1}, new
        assert not fatal["new"] and not new.errors, (fatal["new"], new.errors)
    finally:
        new.close()
        old.close()
