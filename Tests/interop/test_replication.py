"""Replication on a real three-node cluster (every node broker and controller), with real clients.

- Three idempotent acks=all producers (confluent-kafka) write numbered records to an RF=3,
  min.insync.replicas=2 partition while its leader is killed (kill -9, then restarted), paused
  (SIGSTOP past the broker session timeout, then SIGCONT) or stopped cleanly (SIGTERM, restarted).
  Afterwards every acknowledged record is in the log exactly once at the offset it was
  acknowledged with, a consumer reads offsets 0..HW-1 without a gap, each producer's records are in
  the order it sent them, and once the ISR is full again the three replicas' segment files hold the
  same bytes over the committed range.
- With two of the three brokers down, acks=all records are refused and never acknowledged; with
  the brokers back the partition takes writes again and no refused record was acknowledged.
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
    "request.timeout.ms": 5000, "retry.backoff.ms": 100, "retry.backoff.max.ms": 500,
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
