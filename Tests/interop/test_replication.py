"""Replication on a real three-node cluster (every node broker and controller), with real clients.

- Three idempotent acks=all producers (confluent-kafka) write numbered records to an RF=3,
  min.insync.replicas=2 partition while its leader is killed (kill -9, then restarted), paused
  (SIGSTOP past the broker session timeout, then SIGCONT) or stopped cleanly (SIGTERM, restarted).
  Afterwards every acknowledged record is in the log exactly once at the offset it was
  acknowledged with, a consumer reads offsets 0..HW-1 without a gap, each producer's records are in
  the order it sent them, and once the ISR is full again the three replicas' segment files hold the
  same bytes over the committed range.
- With two of the three brokers down (the followers, and so the metadata quorum's majority), an
  idempotent acks=all producer's records are refused (they time out: the ISR cannot shrink without
  a controller) and never acknowledged; with the brokers back the same producer writes again, the
  records acknowledged before and after are at their offsets, none is stored twice.
- A consumer group keeps consuming through a kill -9 of its coordinator (the leader of its
  `__consumer_offsets` partition, RF=3): the committed offsets sampled over time never move
  backwards nor below a commit that was answered, and everything produced is consumed.
- A rolling restart (SIGTERM each node, wait until it is back in every ISR) under an idempotent
  producer causes no delivery error and no duplicate.

Short timeouts keep failovers quick: sessions of 3 s, heartbeats every 0.5 s, replicas out of the
ISR after 3 s behind, fetcher retries after 0.2 s.
"""
from __future__ import annotations

import os
import signal
import threading
import time
from collections import Counter

import pytest
from confluent_kafka import KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import NewTopic

from interop_support import (CLIENT_TIMEOUT_S, ck_admin, ck_consume, ck_group_consumer, record_figure,
                             segment_data, unique_topic, wait_until)

SESSION_TIMEOUT_MS = 3000
CLUSTER_OVERRIDES = {
    "broker.session.timeout.ms": str(SESSION_TIMEOUT_MS),
    "broker.heartbeat.interval.ms": "500",
    "replica.lag.time.max.ms": "3000",
    "replica.fetch.backoff.ms": "200",
    "default.replication.factor": "3",
    "offsets.topic.replication.factor": "3",
    "offsets.topic.num.partitions": "6",
    "group.initial.rebalance.delay.ms": "0",
}


# ----------------------------------------------------------------------------------- helpers

def live_nodes(cluster):
    return [n for n in cluster.nodes if n.alive()]


def node_by_id(cluster, nid: int):
    return cluster.nodes[nid - 1]


def node_id(node) -> int:
    return int(node.overrides["node.id"])


def partition_states(bootstrap: str, topic: str) -> dict[int, tuple[int, list[int], list[int]]] | None:
    """{partition: (leader, replicas, isr)} as the node at `bootstrap` reports it; None when the
    topic is unknown or has an error there."""
    md = ck_admin(bootstrap).list_topics(topic=topic, timeout=5).topics.get(topic)
    if md is None or md.error is not None:
        return None
    return {p.id: (p.leader, sorted(p.replicas), sorted(p.isrs)) for p in md.partitions.values()}


def leaders(cluster, topic: str, exclude: set[int] = frozenset()) -> dict[int, int] | None:
    """Each partition's leader, when every live node agrees and no leader is in `exclude` or -1."""
    views = []
    for node in live_nodes(cluster):
        st = partition_states(node.bootstrap, topic)
        if not st:
            return None
        views.append({p: s[0] for p, s in st.items()})
    if not views or any(v != views[0] for v in views):
        return None
    if any(leader < 0 or leader in exclude for leader in views[0].values()):
        return None
    return views[0]


def wait_full_isr(cluster, topics: list[str], timeout: float = 45) -> None:
    """Until every live node reports every partition of `topics` with its leader set and the ISR
    equal to the replicas."""
    def full():
        for node in live_nodes(cluster):
            for topic in topics:
                st = partition_states(node.bootstrap, topic)
                if not st or any(leader < 0 or isr != replicas for leader, replicas, isr in st.values()):
                    return False
        return True
    try:
        wait_until(full, timeout, f"full ISRs of {topics}", interval=0.3)
    except AssertionError as e:
        views = {n.name: {t: _safe(lambda: partition_states(n.bootstrap, t)) for t in topics} for n in live_nodes(cluster)}
        raise AssertionError(f"{e}; views: {views}") from e


def _safe(f):
    try:
        return f()
    except Exception as e:  # noqa: BLE001 - diagnostics only
        return repr(e)


def create_topic(cluster, topic: str, partitions: int, config: dict[str, str] | None = None) -> dict[int, int]:
    admin = ck_admin(cluster.nodes[0].bootstrap)
    admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=3, config=config or {})],
                        operation_timeout=20, request_timeout=25)[topic].result(timeout=CLIENT_TIMEOUT_S)
    wait_full_isr(cluster, [topic], 30)
    return wait_until(lambda: leaders(cluster, topic), 20, f"every node to agree on the leaders of {topic}")


def high_watermarks(bootstrap: str, topic: str, partitions) -> dict[int, int]:
    from interop_support import ck_consumer
    c = ck_consumer(bootstrap)
    try:
        return {p: c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in partitions}
    finally:
        c.close()


def pause(node) -> None:
    os.kill(node.pid, signal.SIGSTOP)


def resume(node) -> None:
    if node.alive():
        os.kill(node.pid, signal.SIGCONT)


PRODUCER_CONF = {
    "acks": "all", "enable.idempotence": True, "linger.ms": 5, "message.timeout.ms": 90_000,
    # A paused broker keeps its connections open: without a short socket timeout a Metadata
    # request librdkafka sent to it waits 60 s (socket.timeout.ms) and the producer learns of the
    # new leader only after SIGCONT.
    "request.timeout.ms": 5000, "socket.timeout.ms": 5000,
    "retry.backoff.ms": 100, "retry.backoff.max.ms": 500,
    "reconnect.backoff.ms": 100, "reconnect.backoff.max.ms": 500,
    "topic.metadata.refresh.interval.ms": 1000,
}


class NumberedProducers:
    """`count` confluent-kafka producers, driven from one thread, each writing values
    `<name>-<n>` with n = 0, 1, 2, ... round-robin over the partitions, at most `rate` records a
    second per producer. Records every delivery report: acknowledged (partition, offset) -> value, and
    failures."""

    def __init__(self, bootstrap: str, topic: str, partitions: int, count: int, conf: dict | None = None,
                 rate: float = 300):
        self.topic = topic
        self.partitions = partitions
        self.names = [f"prod{j}" for j in range(count)]
        self.acked: dict[tuple[int, int], bytes] = {}
        self.failed: list[tuple[bytes, str]] = []
        self.client_errors: list[str] = []
        self.sent = 0
        self.lock = threading.Lock()
        self.stop_event = threading.Event()
        self.rate = rate
        config = {"bootstrap.servers": bootstrap, **PRODUCER_CONF, **(conf or {}),
                  "error_cb": lambda err: self.client_errors.append(str(err))}
        self.producers = [Producer({**config, "client.id": name}) for name in self.names]
        self.remaining = 0
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _on_delivery(self, err, msg) -> None:
        with self.lock:
            if err is not None:
                self.failed.append((msg.value(), str(err)))
                return
            key = (msg.partition(), msg.offset())
            if key in self.acked:
                self.client_errors.append(f"offset {key} acknowledged twice: {self.acked[key]!r}, {msg.value()!r}")
            self.acked[key] = msg.value()

    def _run(self) -> None:
        n = 0
        start = time.monotonic()
        while not self.stop_event.is_set():
            if n > (time.monotonic() - start) * self.rate:
                for p in self.producers:
                    p.poll(0.005)
                continue
            for j, producer in enumerate(self.producers):
                value = f"{self.names[j]}-{n}".encode()
                while not self.stop_event.is_set():
                    try:
                        producer.produce(self.topic, value=value, partition=n % self.partitions,
                                         on_delivery=self._on_delivery)
                        break
                    except BufferError:
                        producer.poll(0.05)
                producer.poll(0)
            n += 1
            self.sent = n * len(self.producers)
        self.remaining = sum(p.flush(100) for p in self.producers)
        self.producers = []  # destroyed now, not at some later garbage collection

    def start(self) -> "NumberedProducers":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stop_event.set()
        self.thread.join(110)
        assert not self.thread.is_alive(), "producer thread did not finish"
        assert self.remaining == 0, f"{self.remaining} records without a delivery report after flush"

    def ack_count(self) -> int:
        with self.lock:
            return len(self.acked)

    def wait_acks(self, more: int, timeout: float, what: str) -> None:
        target = self.ack_count() + more
        try:
            wait_until(lambda: self.ack_count() >= target, timeout, what, interval=0.1)
        except AssertionError as e:
            raise AssertionError(f"{e}\n{self.summary()}") from e

    def summary(self) -> str:
        return (f"producers: sent {self.sent}, acknowledged {self.ack_count()}, failed {len(self.failed)} "
                f"(first {self.failed[:3]}), client errors {self.client_errors[-5:]}")


def read_log(bootstrap: str, topic: str, partitions: int) -> tuple[dict[int, int], dict[tuple[int, int], bytes]]:
    """Every record from offset 0 to the high watermark of every partition: ({p: hw}, {(p, offset): value}).
    Fails unless the offsets read are exactly 0..hw-1."""
    hw = high_watermarks(bootstrap, topic, range(partitions))
    got = ck_consume(bootstrap, topic, range(partitions), expected=hw, timeout=60)
    log = {}
    for p, recs in got.items():
        offsets = [r.offset for r in recs]
        assert offsets == list(range(hw[p])), \
            f"partition {p}: offsets read are not 0..{hw[p] - 1}: n={len(offsets)}, " \
            f"first {offsets[:5]}, last {offsets[-5:]}, missing {sorted(set(range(hw[p])) - set(offsets))[:10]}"
        log.update({(p, r.offset): r.value for r in recs})
    return hw, log


def check_acknowledged(bp: NumberedProducers, log: dict[tuple[int, int], bytes]) -> None:
    """Every acknowledged record at its offset, exactly once; each producer's values in send order
    per partition; no value twice (idempotence)."""
    acked = dict(bp.acked)
    missing = sorted(k for k in acked if k not in log)
    assert not missing, f"lost-write: {len(missing)} acknowledged records are not in the log, first " \
                        f"{[(k, acked[k]) for k in missing[:5]]}"
    wrong = sorted((k, acked[k], log[k]) for k in acked if log[k] != acked[k])
    assert not wrong, f"{len(wrong)} offsets hold another value than acknowledged there, first {wrong[:5]}"
    counts = Counter(log.values())
    dups = sorted(v for v, c in counts.items() if c > 1)
    assert not dups, f"{len(dups)} values stored more than once with idempotence on, first {dups[:5]}"
    assert not [e for e in bp.client_errors if "acknowledged twice" in e], bp.client_errors
    for p in range(bp.partitions):
        for name in bp.names:
            seq = [int(v.rsplit(b"-", 1)[1]) for (q, _), v in sorted(log.items()) if q == p
                   and v.startswith(name.encode() + b"-")]
            assert seq == sorted(seq), f"partition {p}: {name}'s records are not in send order: {seq[:20]}..."


def check_replicas_identical(cluster, topic: str, partitions: int, hw: dict[int, int]) -> None:
    """The three nodes' segment files hold the same batches, byte for byte, up to the high
    watermark. Call with the producers stopped and the ISR full."""
    for p in range(partitions):
        views = {}
        for node in cluster.nodes:
            # A follower appends what it fetched a moment after the leader's high watermark passed it.
            data, end = wait_until(lambda: (lambda d: d if d[1] >= hw[p] else None)(
                segment_data(node.data_dir, topic, p, hw[p])), 15,
                f"{node.name} to hold {topic}-{p} up to offset {hw[p]}")
            views[node.name] = (data, end)
        ends = {name: end for name, (_, end) in views.items()}
        assert set(ends.values()) == {hw[p]}, f"{topic}-{p}: committed data ends at {ends}, high watermark {hw[p]}"
        first_name, (first, _) = next(iter(views.items()))
        for name, (data, _) in views.items():
            if data != first:
                at = next((i for i, (a, b) in enumerate(zip(first, data)) if a != b), min(len(first), len(data)))
                raise AssertionError(f"{topic}-{p}: {name}'s segment bytes differ from {first_name}'s at byte {at} "
                                     f"(lengths {len(data)} and {len(first)}, high watermark {hw[p]})")


# ------------------------------------------------------------------------- 1: leader failures

DISRUPTIONS = ["kill9", "sigstop", "sigterm"]


@pytest.mark.deadline(150)
@pytest.mark.parametrize("how", DISRUPTIONS)
def test_idempotent_producers_survive_the_leader(cluster, how):
    topic = unique_topic(f"repl-{how}")
    leader_id = create_topic(cluster, topic, 1, {"min.insync.replicas": "2"})[0]
    leader = node_by_id(cluster, leader_id)
    bp = NumberedProducers(cluster.bootstrap, topic, 1, 3).start()
    new_leader = None
    try:
        try:
            bp.wait_acks(300, 30, "300 acknowledged records before the leader fails")
            if how == "kill9":
                assert leader.kill9() == -signal.SIGKILL
            elif how == "sigterm":
                leader.proc.send_signal(signal.SIGTERM)  # controlled shutdown; waited for below
            else:
                pause(leader)
            t0 = time.monotonic()
            new_leader = wait_until(lambda: _leader_seen_by_others(cluster, topic, leader_id), 30,
                                    f"a new leader of {topic}-0 other than node {leader_id}")
            record_figure(f"replication {how}: new leader {new_leader} after {time.monotonic() - t0:.1f} s")
            bp.wait_acks(300, 30, f"300 more acknowledged records with node {new_leader} leading")
            if how == "sigstop":
                resume(leader)
            else:
                wait_until(lambda: not leader.alive(), 35, f"node {leader_id} to exit")
                if how == "sigterm":
                    assert leader.proc.returncode == 0, f"exit code {leader.proc.returncode} after SIGTERM"
                leader.start()
            bp.wait_acks(300, 30, f"300 more acknowledged records with node {leader_id} back")
        finally:
            resume(leader)
            bp.stop()
    except AssertionError as e:
        raise AssertionError(f"{e}\n{bp.summary()}") from e

    wait_full_isr(cluster, [topic])
    hw, log = read_log(cluster.bootstrap, topic, 1)
    record_figure(f"replication {how}: acknowledged {len(bp.acked)}, failed {len(bp.failed)}, "
                  f"high watermark {hw[0]}")
    check_acknowledged(bp, log)
    check_replicas_identical(cluster, topic, 1, hw)


def _leader_seen_by_others(cluster, topic: str, old: int) -> int | None:
    """The leader the running, unpaused nodes agree on, when it is not `old`."""
    views = set()
    for node in cluster.nodes:
        if node_id(node) == old:
            continue
        st = partition_states(node.bootstrap, topic)
        if not st:
            return None
        views.add(st[0][0])
    if len(views) == 1 and (leader := views.pop()) not in (old, -1):
        return leader
    return None


# ------------------------------------------------------------------- 2: two of three brokers down

def produce_values(producer: Producer, topic: str, values: list[bytes], timeout: float) -> dict[bytes, tuple[str | None, int]]:
    """Produce `values` to partition 0 and wait for every delivery report: {value: (error or None, offset)}."""
    reports: dict[bytes, tuple[str | None, int]] = {}

    def on_delivery(err, msg):
        reports[msg.value()] = (None if err is None else err.name(), msg.offset())

    for v in values:
        producer.produce(topic, value=v, partition=0, on_delivery=on_delivery)
        producer.poll(0)
    remaining = producer.flush(timeout)
    assert remaining == 0, f"{remaining} records without a delivery report after {timeout:.0f} s"
    assert set(reports) == set(values)
    return reports


@pytest.mark.deadline(120)
def test_acks_all_is_refused_with_two_of_three_brokers_down(cluster):
    topic = unique_topic("repl-down2")
    leader_id = create_topic(cluster, topic, 1, {"min.insync.replicas": "2"})[0]
    producer = Producer({"bootstrap.servers": cluster.bootstrap, "acks": "all", "linger.ms": 5,
                         "enable.idempotence": True,
                         "message.timeout.ms": 8000, "request.timeout.ms": 4000, "retry.backoff.ms": 200,
                         "reconnect.backoff.ms": 100, "reconnect.backoff.max.ms": 500})
    before = produce_values(producer, topic, [f"before-{i}".encode() for i in range(100)], 30)
    assert all(err is None for err, _ in before.values()), before

    # The leader stays; both followers die (and with them the metadata quorum's majority).
    followers = [n for n in cluster.nodes if node_id(n) != leader_id]
    for n in followers:
        assert n.kill9() == -signal.SIGKILL
    refused = produce_values(producer, topic, [f"refused-{i}".encode() for i in range(100)], 30)
    accepted = {v: off for v, (err, off) in refused.items() if err is None}
    assert not accepted, f"{len(accepted)} acks=all records acknowledged with two of three replicas down: " \
                         f"{sorted(accepted.items())[:5]}"
    errors = Counter(err for err, _ in refused.values())
    record_figure(f"replication two-down: delivery errors {dict(errors)}")
    assert set(errors) <= {"NOT_ENOUGH_REPLICAS", "NOT_ENOUGH_REPLICAS_AFTER_APPEND", "REQUEST_TIMED_OUT",
                           "_MSG_TIMED_OUT", "_TIMED_OUT"}, errors

    for n in followers:
        n.launch()
    for n in followers:
        n._wait_ready()
    wait_full_isr(cluster, [topic])
    after = produce_values(producer, topic, [f"after-{i}".encode() for i in range(100)], 30)
    assert all(err is None for err, _ in after.values()), Counter(err for err, _ in after.values())

    hw, log = read_log(cluster.bootstrap, topic, 1)
    for name, reports in (("before", before), ("after", after)):
        wrong = sorted((off, v, log.get((0, off))) for v, (_, off) in reports.items() if log.get((0, off)) != v)
        assert not wrong, f"{len(wrong)} records acknowledged {name} the outage are not at their offsets: {wrong[:5]}"
    # Kafka's contract for a refused (timed-out) acks=all record is "maybe": it may have been
    # appended by the leader and committed once the followers returned. It must never have been
    # acknowledged (checked above), and never be stored twice.
    stored_refused = [v for v in log.values() if v.startswith(b"refused-")]
    assert len(stored_refused) == len(set(stored_refused)), "a refused record is stored twice"
    record_figure(f"replication two-down: {len(stored_refused)} of 100 refused records are in the log "
                  f"(high watermark {hw[0]})")
    check_replicas_identical(cluster, topic, 1, hw)


@pytest.mark.deadline(90)
def test_acks_all_is_refused_with_not_enough_replicas_while_the_isr_is_short(cluster):
    """min.insync.replicas=3 and one follower down (the quorum keeps its majority): once the
    controller has shrunk the ISR to two, acks=all is refused with NOT_ENOUGH_REPLICAS before
    anything is appended, acks=1 still succeeds, and with the follower back acks=all works again."""
    topic = unique_topic("repl-minisr")
    leader_id = create_topic(cluster, topic, 1, {"min.insync.replicas": "3"})[0]
    follower = next(n for n in cluster.nodes if node_id(n) != leader_id)
    assert follower.kill9() == -signal.SIGKILL
    wait_until(lambda: (st := partition_states(cluster.nodes[leader_id - 1].bootstrap, topic)) and len(st[0][2]) == 2,
               20, "the ISR to shrink to two")
    strict = Producer({"bootstrap.servers": cluster.bootstrap, "acks": "all", "linger.ms": 0, "retries": 0,
                       "message.timeout.ms": 8000, "request.timeout.ms": 4000})
    end_before = high_watermarks(cluster.bootstrap, topic, [0])[0]
    refused = produce_values(strict, topic, [f"short-{i}".encode() for i in range(5)], 20)
    errors = Counter(err for err, _ in refused.values())
    assert set(errors) == {"NOT_ENOUGH_REPLICAS"}, errors
    relaxed = Producer({"bootstrap.servers": cluster.bootstrap, "acks": "1", "linger.ms": 0,
                        "message.timeout.ms": 8000})
    one = produce_values(relaxed, topic, [b"acks-one"], 20)
    assert one[b"acks-one"][0] is None, one
    # Refused before the append: nothing of the refused records is in the log; the acks=1 one is
    # (readable once the two in-sync replicas hold it).
    wait_until(lambda: high_watermarks(cluster.bootstrap, topic, [0])[0] == end_before + 1, 15,
               "the acks=1 record to be committed")
    hw, log = read_log(cluster.bootstrap, topic, 1)
    assert not [v for v in log.values() if v.startswith(b"short-")]
    assert log[(0, end_before)] == b"acks-one"

    follower.launch()
    follower._wait_ready()
    wait_full_isr(cluster, [topic])
    again = produce_values(strict, topic, [b"full-isr"], 20)
    assert again[b"full-isr"][0] is None, again


# ------------------------------------------------------------ 3: the group coordinator dies

def port_open(node) -> bool:
    import socket
    try:
        with socket.create_connection(("127.0.0.1", node.port), timeout=0.2):
            return True
    except OSError:
        return False


@pytest.mark.deadline(150)
def test_a_consumer_group_keeps_consuming_through_a_kill9_of_its_coordinator(cluster):
    from confluent_kafka import ConsumerGroupTopicPartitions  # noqa: F401 - the admin API below needs 2.x
    topic = unique_topic("repl-group")
    create_topic(cluster, topic, 3)
    group = unique_topic("repl-g")
    bp = NumberedProducers(cluster.bootstrap, topic, 3, 1, rate=150).start()
    consumer = ck_group_consumer(cluster.bootstrap, group, {"session.timeout.ms": 6000,
                                                            "heartbeat.interval.ms": 500})
    consumer.subscribe([topic])
    tps = [TopicPartition(topic, p) for p in range(3)]
    consumed: Counter = Counter()
    errors: list[str] = []
    commit_errors: list[str] = []
    acked_commits: list[tuple[float, dict[int, int]]] = []   # (time the commit was answered, offsets)
    samples: list[tuple[float, dict[int, int]]] = []         # (time the sample was asked for, offsets)
    sample_errors: list[str] = []
    state = {"next_commit": 0.0, "next_sample": 0.0}

    def step() -> None:
        msg = consumer.poll(0.1)
        if msg is not None:
            if msg.error():
                errors.append(str(msg.error()))
            else:
                consumed[msg.value()] += 1
        now = time.monotonic()
        if now >= state["next_commit"]:
            state["next_commit"] = now + 0.5
            try:
                result = consumer.commit(asynchronous=False)
                offsets = {tp.partition: tp.offset for tp in result or [] if tp.error is None and tp.offset >= 0}
                if offsets:
                    acked_commits.append((time.monotonic(), offsets))
            except KafkaException as e:
                if e.args[0].code() != KafkaError._NO_OFFSET:
                    commit_errors.append(str(e.args[0]))
        if now >= state["next_sample"]:
            state["next_sample"] = now + 0.5
            try:
                got = consumer.committed(tps, timeout=3)
                samples.append((now, {tp.partition: tp.offset for tp in got}))
            except KafkaException as e:
                sample_errors.append(str(e.args[0]))

    def run_until(cond, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not cond():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}: consumed "
                                     f"{len(consumed)}, commits {len(acked_commits)}, errors {errors[-3:]}, "
                                     f"commit errors {commit_errors[-3:]}, sample errors {sample_errors[-3:]}\n"
                                     f"{bp.summary()}")
            step()

    try:
        try:
            run_until(lambda: len(consumed) >= 500 and len(acked_commits) >= 3, 40,
                      "500 records consumed and 3 commits answered")
            admin = ck_admin(cluster.bootstrap)  # kept alive until the future is answered
            described = admin.describe_consumer_groups([group], request_timeout=10)[group].result(timeout=15)
            coordinator = node_by_id(cluster, described.coordinator.id)
            commits_before = len(acked_commits)
            consumed_before = len(consumed)
            assert coordinator.kill9() == -signal.SIGKILL
            killed_at = time.monotonic()
            run_until(lambda: len(acked_commits) >= commits_before + 3 and len(consumed) >= consumed_before + 300,
                      40, "3 more commits answered and 300 more records consumed after the coordinator died")
            record_figure(f"replication coordinator kill: commits answered again after "
                          f"{acked_commits[commits_before][0] - killed_at:.1f} s")
            coordinator.launch()
            run_until(lambda: port_open(coordinator), 30, "the killed coordinator to serve again")
            more = len(consumed)
            run_until(lambda: len(consumed) >= more + 300, 30, "300 more records consumed with every node up")
        finally:
            bp.stop()
        acked_values = set(bp.acked.values())
        run_until(lambda: acked_values <= set(consumed), 40, "every acknowledged record consumed")
        run_until(lambda: len(acked_commits) >= 1 and acked_commits[-1][0] > time.monotonic() - 0.6, 10,
                  "a final commit")
    finally:
        consumer.close()

    # Committed offsets never move backwards, and never fall below a commit already answered.
    last: dict[int, int] = {}
    for t, offsets in samples:
        for p, off in offsets.items():
            assert off >= last.get(p, -1) or (off < 0 and p not in last), \
                f"partition {p}: committed offset moved backwards from {last.get(p)} to {off} " \
                f"({t - killed_at:+.1f} s from the kill)"
            if off >= 0:
                last[p] = off
        answered = {}
        for ct, c in acked_commits:
            if ct < t:
                answered.update(c)
        below = {p: (offsets.get(p), o) for p, o in answered.items() if offsets.get(p, -1) < o}
        assert not below, f"{t - killed_at:+.1f} s from the kill the committed offsets are below commits " \
                          f"already answered (sampled, answered): {below}"
    assert samples and any(t > killed_at for t, _ in samples), "no committed offsets sampled after the kill"
    missing = set(bp.acked.values()) - set(consumed)
    assert not missing, f"{len(missing)} acknowledged records never consumed"
    record_figure(f"replication coordinator kill: consumed {len(consumed)} values "
                  f"({sum(consumed.values()) - len(consumed)} again after a rebalance), "
                  f"{len(samples)} samples, commit errors {Counter(commit_errors).most_common(3)}")


# -------------------------------------------------------------------------- 4: rolling restart

@pytest.mark.deadline(150)
def test_a_rolling_restart_causes_no_produce_error_and_no_duplicate(cluster):
    topic = unique_topic("repl-rolling")
    create_topic(cluster, topic, 3, {"min.insync.replicas": "2"})
    bp = NumberedProducers(cluster.bootstrap, topic, 3, 1).start()
    try:
        try:
            bp.wait_acks(300, 30, "300 acknowledged records before the rolling restart")
            for node in cluster.nodes:
                t0 = time.monotonic()
                assert node.stop(signal.SIGTERM) == 0, f"{node.name}: exit code after SIGTERM"
                # A controlled shutdown leaves the ISRs (KRaft does so too), so waiting for full
                # ISRs below waits for this node to catch up and rejoin them.
                wait_until(lambda: all(node_id(node) not in isr for n in live_nodes(cluster)
                                       for _, _, isr in (partition_states(n.bootstrap, topic) or {0: (0, [], [node_id(node)])}).values()),
                           10, f"{node.name} out of every ISR of {topic}")
                node.start()
                wait_full_isr(cluster, [topic])
                record_figure(f"replication rolling restart: {node.name} back in every ISR after "
                              f"{time.monotonic() - t0:.1f} s")
                bp.wait_acks(200, 30, f"200 more acknowledged records after restarting {node.name}")
        finally:
            bp.stop()
    except AssertionError as e:
        raise AssertionError(f"{e}\n{bp.summary()}") from e
    assert not bp.failed, f"{len(bp.failed)} delivery errors during the rolling restart, first {bp.failed[:5]}"
    hw, log = read_log(cluster.bootstrap, topic, 3)
    check_acknowledged(bp, log)
    assert sum(hw.values()) == len(bp.acked), f"high watermarks {hw} for {len(bp.acked)} acknowledged records"
    check_replicas_identical(cluster, topic, 3, hw)
