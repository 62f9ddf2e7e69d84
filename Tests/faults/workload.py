"""The workload: producers and consumers that record a history of every send, acknowledgement and
read, with unique values `<producer>-<n>`.

Producers (one thread drives them all): `idem0`, `idem1` are idempotent acks=all producers (retries,
max.in.flight 5); `plain0` is acks=all, not idempotent, `retries=0`, so its failures are definite
refusals only when the broker said NOT_ENOUGH_REPLICAS (refused before the append, D65) — a value
refused that way and read anyway is an aborted read. `retries=0` does not stop every re-send:
librdkafka re-queues a batch refused with NOT_LEADER_OR_FOLLOWER without counting it (D100). Consumers: an `assign` consumer reading every
partition from the start, and `group` consumers subscribed in one group, committing every second.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from confluent_kafka import (OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, Producer,
                             TopicPartition)
from confluent_kafka.admin import AdminClient, NewTopic

PRODUCER_BASE = {
    "acks": "all", "linger.ms": 5, "message.timeout.ms": 60_000,
    # A paused broker keeps its connections open: short socket timeouts move on to the new leader.
    "request.timeout.ms": 5000, "socket.timeout.ms": 5000,
    "retry.backoff.ms": 100, "retry.backoff.max.ms": 500,
    "reconnect.backoff.ms": 100, "reconnect.backoff.max.ms": 500,
    "topic.metadata.refresh.interval.ms": 1000,
}
PRODUCERS = {
    "idem0": {"enable.idempotence": True},
    "idem1": {"enable.idempotence": True},
    "plain0": {"enable.idempotence": False, "retries": 0, "max.in.flight.requests.per.connection": 5},
}
CONSUMER_BASE = {
    "auto.offset.reset": "earliest", "enable.auto.commit": False, "socket.timeout.ms": 5000,
    "session.timeout.ms": 6000, "heartbeat.interval.ms": 500, "fetch.wait.max.ms": 200,
    "reconnect.backoff.ms": 100, "reconnect.backoff.max.ms": 500, "topic.metadata.refresh.interval.ms": 1000,
}
DEFINITE_REFUSALS = {"NOT_ENOUGH_REPLICAS"}


@dataclass
class History:
    """Every operation: ("send", t, producer, value, partition), ("ack", t, producer, value,
    partition, offset), ("fail", t, producer, value, partition, error), ("read", t, consumer, value,
    partition, offset), ("assign", t, consumer, partitions), ("commit", t, consumer, {p: offset}),
    ("batch-error", t, producer, partition, count, error, actions): librdkafka's own report (debug
    "msg") that a batch of `count` records of a non-idempotent producer failed (it names no
    records: librdkafka numbers a batch's records only with idempotence); such a producer runs as
    its own process (plain_producer.py), so its operations are stamped there."""
    ops: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    idempotent: dict = field(default_factory=dict)   # producer -> bool
    retries: dict = field(default_factory=dict)      # producer -> bool

    def add(self, *op) -> None:
        with self.lock:
            self.ops.append(op)

    def of(self, kind: str) -> list:
        with self.lock:
            return [o for o in self.ops if o[0] == kind]

    def acked(self) -> int:
        with self.lock:
            return sum(1 for o in self.ops if o[0] == "ack")


def admin(bootstrap: str) -> AdminClient:
    return AdminClient({"bootstrap.servers": bootstrap, "socket.timeout.ms": 5000})


def create_topic(bootstrap: str, topic: str, partitions: int, config: dict) -> None:
    a = admin(bootstrap)
    a.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=3, config=config)],
                    operation_timeout=20, request_timeout=25)[topic].result(timeout=30)


def partition_states(bootstrap: str, topic: str, timeout: float = 3) -> dict | None:
    md = admin(bootstrap).list_topics(topic=topic, timeout=timeout).topics.get(topic)
    if md is None or md.error is not None:
        return None
    return {p.id: (p.leader, sorted(p.replicas), sorted(p.isrs)) for p in md.partitions.values()}


def wait_until(pred, timeout: float, what: str, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            v = pred()
            if v:
                return v
        except Exception as e:  # noqa: BLE001 - reported on timeout
            last = e
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}"
                                 + (f"; last error {last!r}" if last else ""))
        time.sleep(interval)


BATCH_ERROR = re.compile(r"\[(\d+)\]: MessageSet with (\d+) message\(s\) \(MsgId \d+, BaseSeq -?\d+\) "
                         r"encountered error: (.*) \(actions ([^)]*)\)")


def produce_paced(clients: dict, topic: str, partitions: int, rate: float, stopping, sent, report) -> None:
    """Round n sends `<name>-n` from every client to partition n % partitions, `rate` rounds a
    second, until `stopping()`; `sent(name, value, partition)` after each produce call,
    `report(name)` makes each client's delivery callback. (Producers' thread and
    plain_producer.py's process both run it.)"""
    n = 0
    start = time.monotonic()
    while not stopping():
        if n > (time.monotonic() - start) * rate:
            for p in clients.values():
                p.poll(0.005)
            continue
        for name, p in clients.items():
            value = f"{name}-{n}".encode()
            part = n % partitions
            while not stopping():
                try:
                    p.produce(topic, value=value, partition=part, on_delivery=report(name))
                    sent(name, value, part)
                    break
                except BufferError:
                    p.poll(0.05)
            p.poll(0)
        n += 1


class ChildProducer:
    """plain_producer.py as a process: its events go into the history as this producer's, and
    librdkafka's reports of failed batches, read from its stderr, as "batch-error"."""

    def __init__(self, history: History, bootstrap: str, topic: str, partitions: int, rate: float, name: str,
                 conf: dict, errors: list[str]):
        self.h = history
        self.name = name
        self.errors = errors
        self.remaining = 0
        self.proc = subprocess.Popen([sys.executable, str(Path(__file__).with_name("plain_producer.py")), bootstrap,
                                      topic, str(partitions), str(rate), name, json.dumps(conf), "7200"],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                     text=True, errors="replace")
        self.threads = [threading.Thread(target=self._events, daemon=True),
                        threading.Thread(target=self._log, daemon=True)]
        for t in self.threads:
            t.start()

    def _events(self) -> None:
        for line in self.proc.stdout:
            e = json.loads(line)
            if "send" in e:
                v, p = e["send"]
                self.h.add("send", e["t"], self.name, v.encode(), p)
            elif "ack" in e:
                v, p, off = e["ack"]
                self.h.add("ack", e["t"], self.name, v.encode(), p, off)
            elif "fail" in e:
                v, p, err = e["fail"]
                self.h.add("fail", e["t"], self.name, v.encode(), p, err)
            elif "error" in e:
                self.errors.append(f"{self.name}: {e['error']}")
            elif "remaining" in e:
                self.remaining = e["remaining"]

    def _log(self) -> None:
        for line in self.proc.stderr:
            if "encountered error" in line and (m := BATCH_ERROR.search(line)):
                self.h.add("batch-error", time.monotonic(), self.name, int(m[1]), int(m[2]), m[3], m[4])

    def terminate(self) -> None:
        """SIGTERM: the child stops producing and flushes (up to 70 s), then reports."""
        if self.proc.poll() is None:
            self.proc.terminate()

    def wait(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.wait(90)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        for t in self.threads:
            t.join(10)


class Producers:
    def __init__(self, history: History, bootstrap: str, topic: str, partitions: int, rate: float = 100,
                 names: dict | None = None):
        self.h = history
        self.topic = topic
        self.partitions = partitions
        self.rate = rate
        self.specs = names or PRODUCERS
        self.errors: list[str] = []
        self.clients = {}
        self.children: dict[str, ChildProducer] = {}
        self.child_specs = {}
        for name, conf in self.specs.items():
            self.h.idempotent[name] = bool(conf.get("enable.idempotence"))
            self.h.retries[name] = conf.get("retries", 1) != 0
            if not conf.get("enable.idempotence"):
                # A non-idempotent producer's order is the client's to keep: it runs as its own
                # process, whose librdkafka debug log shows which batches it sent again (D100).
                self.child_specs[name] = (bootstrap, conf)
                continue
            self.clients[name] = Producer({"bootstrap.servers": bootstrap, **PRODUCER_BASE, **conf,
                                           "client.id": name,
                                           "error_cb": lambda e, n=name: self.errors.append(f"{n}: {e}")})
        self.stop_event = threading.Event()
        self.remaining = 0
        self.thread = threading.Thread(target=self._run, name="producers", daemon=True)

    def _report(self, name):
        def cb(err, msg):
            t = time.monotonic()
            if err is None:
                self.h.add("ack", t, name, msg.value(), msg.partition(), msg.offset())
            else:
                self.h.add("fail", t, name, msg.value(), msg.partition(), err.name())
        return cb

    def _run(self) -> None:
        produce_paced(self.clients, self.topic, self.partitions, self.rate, self.stop_event.is_set,
                      sent=lambda name, value, part: self.h.add("send", time.monotonic(), name, value, part),
                      report=self._report)
        for child in self.children.values():
            child.terminate()
        self.remaining = sum(p.flush(70) for p in self.clients.values())
        for child in self.children.values():
            child.wait()
        self.remaining += sum(c.remaining for c in self.children.values())
        self.clients = {}

    def start(self) -> "Producers":
        for name, (bootstrap, conf) in self.child_specs.items():
            self.children[name] = ChildProducer(self.h, bootstrap, self.topic, self.partitions, self.rate, name, conf,
                                                self.errors)
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stop_event.set()
        self.thread.join(90)
        assert not self.thread.is_alive(), "producer thread did not finish"
        assert self.remaining == 0, f"{self.remaining} records without a delivery report after flush"


class Reader:
    """A consumer thread: `assign` (every partition from the start) or `group` (subscribe, commit
    every second). Reads, assignments and answered commits go into the history."""

    def __init__(self, history: History, bootstrap: str, topic: str, partitions: int, name: str,
                 group: str | None = None):
        self.h = history
        self.name = name
        self.topic = topic
        self.group = group
        conf = {"bootstrap.servers": bootstrap, **CONSUMER_BASE, "client.id": name,
                "group.id": group or f"faults-assign-{name}-{time.time_ns()}"}
        self.consumer = Consumer(conf)
        if group is None:
            self.consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(partitions)])
            self.h.add("assign", time.monotonic(), name, list(range(partitions)))
        else:
            self.consumer.subscribe([topic], on_assign=self._on_assign, on_revoke=self._on_revoke)
        self.errors: list[str] = []
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"reader-{name}", daemon=True)

    def _on_assign(self, consumer, parts):
        self.h.add("assign", time.monotonic(), self.name, [tp.partition for tp in parts])

    def _on_revoke(self, consumer, parts):
        self._commit()
        self.h.add("assign", time.monotonic(), self.name, [])

    def _commit(self) -> None:
        try:
            res = self.consumer.commit(asynchronous=False)
            offs = {tp.partition: tp.offset for tp in res or [] if tp.error is None and tp.offset >= 0}
            if offs:
                self.h.add("commit", time.monotonic(), self.name, offs)
        except KafkaException as e:
            if e.args[0].code() != KafkaError._NO_OFFSET:
                self.errors.append(str(e.args[0]))

    def _run(self) -> None:
        next_commit = time.monotonic() + 1
        try:
            while not self.stop_event.is_set():
                msg = self.consumer.poll(0.2)
                if msg is not None:
                    if msg.error():
                        if msg.error().code() != KafkaError._PARTITION_EOF:
                            self.errors.append(str(msg.error()))
                    else:
                        self.h.add("read", time.monotonic(), self.name, msg.value(), msg.partition(), msg.offset())
                if self.group and time.monotonic() >= next_commit:
                    next_commit = time.monotonic() + 1
                    self._commit()
        finally:
            self.consumer.close()

    def start(self) -> "Reader":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stop_event.set()
        self.thread.join(30)


def read_all(bootstrap: str, topic: str, partitions: int, timeout: float = 30) -> dict[int, list[tuple[int, bytes]]]:
    """Every record of every partition from offset 0 to the high watermark: {p: [(offset, value)]}."""
    c = Consumer({"bootstrap.servers": bootstrap, **CONSUMER_BASE, "enable.partition.eof": True,
                  "group.id": f"faults-final-{time.time_ns()}"})
    try:
        hw = {p: c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in range(partitions)}
        c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(partitions)])
        got: dict[int, list[tuple[int, bytes]]] = {p: [] for p in range(partitions)}
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all((got[p][-1][0] + 1 if got[p] else 0) >= hw[p] for p in range(partitions)):
                break
            msg = c.poll(0.3)
            if msg is None or (msg.error() and msg.error().code() == KafkaError._PARTITION_EOF):
                continue
            if msg.error():
                continue
            got[msg.partition()].append((msg.offset(), msg.value()))
        return got
    finally:
        c.close()
