"""Group administration: confluent-kafka AdminClient, kafka-python KafkaAdminClient and the
`runnel group` / `runnel consume -g` commands, against live and empty groups of both protocols.

What Kafka does (4.x group coordinator):
- ListGroups v5 reports state and type (classic / consumer) and filters by both.
- DescribeGroups (classic) and ConsumerGroupDescribe (KIP-848) report members and assignments.
  DescribeGroups below v6 describes a consumer-protocol group as `Dead` with no error and no
  members (v6 would say GROUP_ID_NOT_FOUND); the broker advertises DescribeGroups v5.
- DeleteGroups of a group with members: NON_EMPTY_GROUP (68); of an unknown group:
  GROUP_ID_NOT_FOUND (69).
- An admin OffsetCommit (generation/epoch -1, no member id) is accepted only when the group has
  no members; otherwise UNKNOWN_MEMBER_ID (25) (ClassicGroup/ConsumerGroup.validateOffsetCommit).
"""
from __future__ import annotations

import json
import subprocess

import pytest
from confluent_kafka import (ConsumerGroupState, ConsumerGroupTopicPartitions, ConsumerGroupType,
                             KafkaError, KafkaException, TopicPartition)
from kafka import KafkaAdminClient

from conftest import runnel_bin
from interop_support import (CLIENT_TIMEOUT_S, CkMember, Rec, ck_admin, ck_committed, ck_create_topic,
                             ck_end_offsets, ck_produce, make_records, now_ms, poll_members, unique_topic,
                             wait_until)

BROKER_OVERRIDES = {"group.initial.rebalance.delay.ms": "0", "group.consumer.heartbeat.interval.ms": "1000"}
PARTITIONS = 4
PER_PARTITION = 40
CLASSIC = {"session.timeout.ms": 6000, "heartbeat.interval.ms": 1000}
KIP848 = {"group.protocol": "consumer"}
NO_OFFSET = -1001


def listed(admin, **filters) -> dict[str, object]:
    result = admin.list_consumer_groups(request_timeout=CLIENT_TIMEOUT_S, **filters).result(timeout=CLIENT_TIMEOUT_S)
    assert not result.errors, result.errors
    return {g.group_id: g for g in result.valid}


def describe(admin, group: str):
    return admin.describe_consumer_groups([group], request_timeout=CLIENT_TIMEOUT_S)[group].result(timeout=CLIENT_TIMEOUT_S)


def error_code(future) -> int:
    with pytest.raises(KafkaException) as info:
        future.result(timeout=CLIENT_TIMEOUT_S)
    return info.value.args[0].code()


def alter(admin, group: str, topic: str, offsets: dict[int, int]):
    request = ConsumerGroupTopicPartitions(group, [TopicPartition(topic, p, o) for p, o in offsets.items()])
    return admin.alter_consumer_group_offsets([request], request_timeout=CLIENT_TIMEOUT_S)[group]


def alter_errors(future) -> set[int]:
    """The error codes of an AlterConsumerGroupOffsets: the request's, or else each partition's."""
    try:
        result = future.result(timeout=CLIENT_TIMEOUT_S)
    except KafkaException as e:
        return {e.args[0].code()}
    return {tp.error.code() if tp.error is not None else 0 for tp in result.topic_partitions}


def settled(members: list[CkMember], each: int):
    def check():
        owned = [m.owned() for m in members]
        return all(len(o) == each for o in owned) and set().union(*owned) == set(range(PARTITIONS))
    return check


@pytest.mark.deadline(90)
def test_admin_clients_on_live_groups_of_both_protocols(module_broker):
    bootstrap = module_broker.bootstrap
    topic = unique_topic("grp-admin")
    classic, consumer = unique_topic("g-admin-classic"), unique_topic("g-admin-848")
    ck_create_topic(bootstrap, topic, PARTITIONS)
    ck_produce(bootstrap, topic, make_records(topic, PARTITIONS, PER_PARTITION, now_ms() - 60_000))

    cm = [CkMember(f"classic-{i}", bootstrap, classic, CLASSIC) for i in range(2)]
    km = [CkMember(f"kip848-{i}", bootstrap, consumer, KIP848) for i in range(2)]
    admin = ck_admin(bootstrap)
    kp = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=30000, client_id="interop-groups-admin")
    try:
        for m in cm + km:
            m.subscribe(topic)
        total = 2 * PARTITIONS * PER_PARTITION
        poll_members(cm + km, lambda: settled(cm, 2)() and settled(km, 2)()
                     and sum(len(m.reads) for m in cm + km) >= total, 40,
                     "both groups at 2/2 with every record read", exclusive=False)
        for group in (cm, km):  # exclusive within each group
            assert not group[0].owned() & group[1].owned()
        for m in cm + km:
            m.commit()
        ends = ck_end_offsets(bootstrap, topic, range(PARTITIONS))
        assert ends == {p: PER_PARTITION for p in range(PARTITIONS)}

        # --- ListGroups
        groups = listed(admin)
        assert groups[classic].state == ConsumerGroupState.STABLE and groups[classic].type == ConsumerGroupType.CLASSIC
        assert groups[consumer].state == ConsumerGroupState.STABLE and groups[consumer].type == ConsumerGroupType.CONSUMER
        assert not groups[classic].is_simple_consumer_group and not groups[consumer].is_simple_consumer_group
        assert {classic, consumer} <= set(listed(admin, states={ConsumerGroupState.STABLE}))
        assert not {classic, consumer} & set(listed(admin, states={ConsumerGroupState.EMPTY}))
        only_consumer = set(listed(admin, types={ConsumerGroupType.CONSUMER}))
        only_classic = set(listed(admin, types={ConsumerGroupType.CLASSIC}))
        assert consumer in only_consumer and classic not in only_consumer
        assert classic in only_classic and consumer not in only_classic

        # --- Describe: members and their assignments are what the members own
        for group, members, assignor, gtype in ((classic, cm, "range", ConsumerGroupType.CLASSIC),
                                                (consumer, km, "uniform", ConsumerGroupType.CONSUMER)):
            d = describe(admin, group)
            assert (d.group_id, d.state, d.type, d.partition_assignor) == (group, ConsumerGroupState.STABLE, gtype, assignor)
            assert d.coordinator is not None and d.coordinator.port == module_broker.port
            by_client = {m.client_id: m for m in d.members}
            assert set(by_client) == {m.name for m in members}, d.members
            assert len({m.member_id for m in d.members}) == 2 and all(m.member_id for m in d.members)
            for m in members:
                desc = by_client[m.name]
                assert desc.host.endswith("127.0.0.1"), desc.host
                got = {(tp.topic, tp.partition) for tp in desc.assignment.topic_partitions}
                assert got == {(topic, p) for p in m.owned()}, f"{group} {m.name}: described {got}, owns {m.owned()}"
                if gtype == ConsumerGroupType.CONSUMER:
                    target = {(tp.topic, tp.partition) for tp in desc.target_assignment.topic_partitions}
                    assert target == got, f"{m.name}: target {target} while stable at {got}"

        # --- Committed offsets
        assert ck_committed(bootstrap, classic, topic, range(PARTITIONS)) == ends
        assert ck_committed(bootstrap, consumer, topic, range(PARTITIONS)) == ends

        # --- Refusals while members are live
        for group in (classic, consumer):
            futures = admin.delete_consumer_groups([group], request_timeout=CLIENT_TIMEOUT_S)
            assert error_code(futures[group]) == KafkaError.NON_EMPTY_GROUP, group
            assert alter_errors(alter(admin, group, topic, {0: 1})) == {KafkaError.UNKNOWN_MEMBER_ID}, group
        assert ck_committed(bootstrap, classic, topic, range(PARTITIONS)) == ends

        # --- kafka-python KafkaAdminClient (3.x names: list_groups, describe_groups, list_group_offsets)
        kp_groups = {g["group_id"]: g for g in kp.list_groups()}
        assert (kp_groups[classic]["group_state"], kp_groups[classic]["group_type"],
                kp_groups[classic]["protocol_type"]) == ("Stable", "classic", "consumer")
        assert (kp_groups[consumer]["group_state"], kp_groups[consumer]["group_type"]) == ("Stable", "consumer")
        described = kp.describe_groups([classic, consumer])
        dc = described[classic]
        assert (dc["error"], dc["group_state"], dc["protocol_type"], dc["protocol_data"]) == \
            (None, "Stable", "consumer", "range"), dc
        kp_assign = {m["client_id"]: {p for a in m["member_assignment"]["assigned_partitions"]
                                      if a["topic"] == topic for p in a["partitions"]} for m in dc["members"]}
        assert kp_assign == {m.name: m.owned() for m in cm}
        assert all(m["member_metadata"]["topics"] == [topic] for m in dc["members"])
        # DescribeGroups v5 of a consumer-protocol group: Dead, no members, no error.
        assert (described[consumer]["group_state"], described[consumer]["members"]) == ("Dead", []), \
            described[consumer]
        offsets = kp.list_group_offsets([classic, consumer])
        for group in (classic, consumer):
            assert {tp.partition: om.offset for tp, om in offsets[group].items() if tp.topic == topic} == ends
    finally:
        for m in cm + km:
            m.close()
        kp.close()

    # --- After every member left: Empty, no members, offsets kept
    wait_until(lambda: all(listed(admin)[g].state == ConsumerGroupState.EMPTY for g in (classic, consumer)), 20,
               "both groups Empty after their members closed")
    for group in (classic, consumer):
        d = describe(admin, group)
        assert d.state == ConsumerGroupState.EMPTY and d.members == [], d
        assert ck_committed(bootstrap, group, topic, range(PARTITIONS)) == ends
    assert set(listed(admin, states={ConsumerGroupState.EMPTY})) >= {classic, consumer}


@pytest.mark.deadline(90)
@pytest.mark.parametrize("protocol", ["classic", "consumer"])
def test_alter_offsets_of_empty_group_then_delete(module_broker, protocol):
    bootstrap = module_broker.bootstrap
    topic = unique_topic(f"grp-alter-{protocol}")
    group = unique_topic(f"g-alter-{protocol}")
    extra = CLASSIC if protocol == "classic" else KIP848
    ck_create_topic(bootstrap, topic, PARTITIONS)
    records = make_records(topic, PARTITIONS, PER_PARTITION, now_ms() - 60_000)
    ck_produce(bootstrap, topic, records)
    admin = ck_admin(bootstrap)

    first = CkMember("first", bootstrap, group, extra)
    try:
        first.subscribe(topic)
        poll_members([first], lambda: len(first.reads) >= len(records), 30, "every record read")
        first.commit()
    finally:
        first.close()
    wait_until(lambda: listed(admin)[group].state == ConsumerGroupState.EMPTY, 20, f"{group} Empty")

    target = {0: 10, 1: 0, 2: PER_PARTITION, 3: 25}
    result = alter(admin, group, topic, target).result(timeout=CLIENT_TIMEOUT_S)
    assert all(tp.error is None for tp in result.topic_partitions), result.topic_partitions
    assert ck_committed(bootstrap, group, topic, range(PARTITIONS)) == target
    kp = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=30000)
    try:
        got = kp.list_group_offsets(group)[group]
        assert {tp.partition: om.offset for tp, om in got.items()} == target
    finally:
        kp.close()

    # A member joining now starts at the altered offsets.
    again = CkMember("again", bootstrap, group, extra)
    want = sum(PER_PARTITION - o for o in target.values())
    try:
        again.subscribe(topic)
        poll_members([again], lambda: len(again.reads) >= want, 30, f"{want} records from the altered offsets")
        for _ in range(5):
            again.poll(0.1)
        per_partition = {p: [r.offset for _, r in again.reads if r.partition == p] for p in range(PARTITIONS)}
        assert per_partition == {p: list(range(o, PER_PARTITION)) for p, o in target.items()}
    finally:
        again.close()
    wait_until(lambda: listed(admin)[group].state == ConsumerGroupState.EMPTY, 20, f"{group} Empty again")

    futures = admin.delete_consumer_groups([group], request_timeout=CLIENT_TIMEOUT_S)
    assert futures[group].result(timeout=CLIENT_TIMEOUT_S) is None
    assert group not in listed(admin)
    assert ck_committed(bootstrap, group, topic, range(PARTITIONS)) == {p: NO_OFFSET for p in range(PARTITIONS)}
    futures = admin.delete_consumer_groups([group], request_timeout=CLIENT_TIMEOUT_S)
    assert error_code(futures[group]) == KafkaError.GROUP_ID_NOT_FOUND


# ------------------------------------------------------------------------------- runnel CLI

def runnel(bootstrap: str, *args: str, timeout: float = 60) -> str:
    cmd = [runnel_bin(), *args, "-b", bootstrap]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, f"{' '.join(cmd)} exited {done.returncode}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    return done.stdout


def consumed(output: str) -> list[tuple[int, int, bytes]]:
    rows = []
    for line in output.splitlines():
        p, o, v = line.split(" ", 2)
        rows.append((int(p), int(o), v.encode()))
    return rows


@pytest.mark.deadline(120)
def test_runnel_cli_consume_describe_seek_delete(module_broker):
    bootstrap = module_broker.bootstrap
    topic = unique_topic("grp-cli")
    group = unique_topic("g-cli")
    parts, per = 3, 30
    ck_create_topic(bootstrap, topic, parts)
    # Plain-text values (one line each) so the CLI's %s output can be compared.
    ck_produce(bootstrap, topic, [make_value_rec(p, i) for i in range(per) for p in range(parts)])
    fmt = "%p %o %s\\n"

    first = consumed(runnel(bootstrap, "consume", topic, "-g", group, "-n", "40", "-f", fmt))
    second = consumed(runnel(bootstrap, "consume", topic, "-g", group, "-n", "50", "-f", fmt))
    assert len(first) == 40 and len(second) == 50, (len(first), len(second))
    for run in (first, second):
        for p in range(parts):
            offs = [o for q, o, _ in run if q == p]
            assert offs == sorted(offs) and len(set(offs)) == len(offs), f"partition {p} out of order: {offs}"
    seen = [(p, o) for p, o, _ in first + second]
    assert len(set(seen)) == len(seen), "a record was printed twice across the two runs"
    assert set(seen) == {(p, o) for p in range(parts) for o in range(per)}
    for p, o, v in first + second:
        assert v == f"p{p}-r{o}".encode(), (p, o, v)
    for p in range(parts):  # the second run resumed right after the first on every partition
        before = [o for q, o, _ in first if q == p]
        after = [o for q, o, _ in second if q == p]
        assert before + after == list(range(per)), f"partition {p}: first run {before}, second {after}"

    def describe_rows() -> tuple[str, dict[int, tuple[int, int, int]]]:
        text = runnel(bootstrap, "group", "describe", group)
        lines = text.splitlines()
        header = next(i for i, line in enumerate(lines) if line.split()[:1] == ["TOPIC"])
        cols = lines[header].split()
        assert cols[:5] == ["TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG"], lines[header]
        rows = {}
        for line in lines[header + 1:]:
            f = line.split()
            if f and f[0] == topic:
                rows[int(f[1])] = (int(f[2]), int(f[3]), int(f[4]))
        return text, rows

    text, rows = describe_rows()
    assert rows == {p: (per, per, 0) for p in range(parts)}, text
    ck_produce(bootstrap, topic, [make_value_rec(p, per + i) for i in range(5) for p in range(parts)])
    text, rows = describe_rows()
    assert rows == {p: (per, per + 5, 5) for p in range(parts)}, text
    as_json = json.loads(runnel(bootstrap, "group", "describe", group, "--json"))
    assert as_json["group"] == group and as_json["state"] == "Empty" and as_json["members"] == []
    assert {o["partition"]: (o["currentOffset"], o["logEndOffset"], o["lag"]) for o in as_json["offsets"]} == \
        {p: (per, per + 5, 5) for p in range(parts)}
    assert ck_committed(bootstrap, group, topic, range(parts)) == {p: per for p in range(parts)}

    runnel(bootstrap, "group", "seek", group, "--topic", topic, "--to", "beginning")
    assert ck_committed(bootstrap, group, topic, range(parts)) == {p: 0 for p in range(parts)}
    total = parts * (per + 5)
    again = consumed(runnel(bootstrap, "consume", topic, "-g", group, "-n", str(total), "-f", fmt))
    assert sorted((p, o) for p, o, _ in again) == [(p, o) for p in range(parts) for o in range(per + 5)]
    text, rows = describe_rows()
    assert rows == {p: (per + 5, per + 5, 0) for p in range(parts)}, text

    runnel(bootstrap, "group", "delete", group)
    groups = runnel(bootstrap, "group", "list", "--json")
    assert group not in {g.get("group", g.get("groupId")) for g in json.loads(groups)}, groups
    assert ck_committed(bootstrap, group, topic, range(parts)) == {p: NO_OFFSET for p in range(parts)}


def make_value_rec(p: int, i: int) -> Rec:
    return Rec(p, f"k{i}".encode(), f"p{p}-r{i}".encode(), (), None)
