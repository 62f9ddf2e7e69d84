"""KIP-848 subscriptions by regex: the member sends SubscribedTopicRegex and the coordinator
resolves it (Kafka 4: RE2/J, whole topic names), then keeps the assignment current as matching
topics are created and deleted (a topic change bumps the group epoch; the next heartbeat carries
the new assignment). A pattern that does not compile is refused with INVALID_REGULAR_EXPRESSION
(128).

Clients: librdkafka (`subscribe(["^..."])` with group.protocol=consumer; it sends its patterns
joined as `(^a)|(^b)`) and `runnel consume --pattern` / a `^` topic argument. The broker runs
with group.consumer.heartbeat.interval.ms=500 so that topic changes reach the members quickly
(Kafka's default is 5000).
"""
from __future__ import annotations

import signal
import subprocess
import threading
import time

import pytest
from confluent_kafka.admin import AdminClient

from conftest import runnel_bin
from interop_support import (CLIENT_TIMEOUT_S, Rec, ck_create_topic, ck_group_consumer, ck_produce, unique_topic,
                             wait_until)

BROKER = {"group.consumer.heartbeat.interval.ms": "500"}


def produce_lines(bootstrap: str, topic: str, partitions: int, per_partition: int) -> None:
    ck_produce(bootstrap, topic, [Rec(p, None, f"{topic}/{p}/{i}".encode())
                                  for i in range(per_partition) for p in range(partitions)])


def delete_topic(bootstrap: str, topic: str) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.delete_topics([topic], operation_timeout=20, request_timeout=25)[topic].result(timeout=CLIENT_TIMEOUT_S)


def make_topics(bootstrap: str) -> tuple[str, str, str, str]:
    """(pattern, a, b, c): topics a (2 partitions) and b (1) match the pattern and hold 10 and 5
    records; a payments topic beside them does not match; c matches and does not exist yet."""
    prefix = unique_topic("rx")
    a, b, c = (f"{prefix}-orders-{x}" for x in "abc")
    for topic, partitions in ((a, 2), (b, 1), (f"{prefix}-payments", 1)):
        ck_create_topic(bootstrap, topic, partitions)
        produce_lines(bootstrap, topic, partitions, 5)
    return f"^{prefix}-orders-.*", a, b, c


class RegexMember:
    """A librdkafka KIP-848 member subscribed by pattern; keeps (topic, partition, offset) read."""

    def __init__(self, bootstrap: str, group: str, pattern: str):
        self.consumer = ck_group_consumer(bootstrap, group, {"group.protocol": "consumer"}, client_id="rx-member")
        self.consumer.subscribe([pattern])
        self.reads: list[tuple[str, int, int]] = []
        self.errors: list[str] = []

    def owned(self) -> set[tuple[str, int]]:
        return {(tp.topic, tp.partition) for tp in self.consumer.assignment()}

    def read_from(self, topic: str) -> int:
        return sum(t == topic for t, _, _ in self.reads)

    def poll_until(self, done, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not done():
            assert time.monotonic() < deadline, \
                f"timed out after {timeout:.0f} s waiting for {what}: owns {sorted(self.owned())}, " \
                f"read {len(self.reads)}, errors {self.errors[:3]}"
            msg = self.consumer.poll(0.1)
            if msg is None:
                continue
            if msg.error():
                self.errors.append(str(msg.error()))
            else:
                self.reads.append((msg.topic(), msg.partition(), msg.offset()))


@pytest.mark.deadline(90)
def test_librdkafka_pattern_follows_created_and_deleted_topics(start_broker):
    bootstrap = start_broker(BROKER).bootstrap
    pattern, a, b, c = make_topics(bootstrap)
    member = RegexMember(bootstrap, unique_topic("g-rx"), pattern)
    try:
        member.poll_until(lambda: member.owned() == {(a, 0), (a, 1), (b, 0)} and len(member.reads) >= 15, 30,
                          "the two orders topics assigned and read")
        assert {t for t, _, _ in member.reads} == {a, b}, "the payments topic does not match"

        ck_create_topic(bootstrap, c, 1)
        produce_lines(bootstrap, c, 1, 4)
        member.poll_until(lambda: (c, 0) in member.owned() and member.read_from(c) >= 4, 20,
                          f"the new matching topic {c} assigned and read")

        delete_topic(bootstrap, b)
        member.poll_until(lambda: member.owned() == {(a, 0), (a, 1), (c, 0)}, 20,
                          f"the deleted topic {b} taken away")
        assert len(member.reads) == len(set(member.reads)) == 19, "every record read exactly once"
        assert not [e for e in member.errors if "regular expression" in e.lower()], member.errors
    finally:
        member.consumer.close()


@pytest.mark.deadline(60)
def test_librdkafka_pattern_that_does_not_compile_is_refused(start_broker):
    broker = start_broker(BROKER)
    # librdkafka checks patterns with its own engine first (it refuses `^orders-[` itself); `x**`
    # passes there, and RE2/J (Kafka) and Swift both refuse it.
    member = RegexMember(broker.bootstrap, unique_topic("g-rx-bad"), "^x**")
    try:
        member.poll_until(lambda: member.errors, 20, "an error for the pattern")
        assert any("regular expression" in e.lower() for e in member.errors), member.errors
        assert not member.owned()
    finally:
        member.consumer.close()


class CliConsumer:
    """`runnel consume ... -f '%t %p %o'` in a subprocess; its lines are collected by a thread."""

    def __init__(self, bootstrap: str, *args: str):
        self.proc = subprocess.Popen([runnel_bin(), "consume", *args, "-f", "%t %p %o\\n", "-b", bootstrap],
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line.strip())

    def topics_read(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for line in list(self.lines):
            topic = line.split(" ")[0]
            out[topic] = out.get(topic, 0) + 1
        return out

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait(timeout=5)
            self.reader.join(timeout=5)

    def stderr(self) -> str:
        return self.proc.stderr.read() if self.proc.poll() is not None else ""


@pytest.mark.deadline(90)
def test_runnel_consume_pattern_follows_created_topics(start_broker):
    bootstrap = start_broker(BROKER).bootstrap
    pattern, a, b, c = make_topics(bootstrap)
    cli = CliConsumer(bootstrap, "--pattern", pattern, "-g", unique_topic("g-rx-cli"))
    try:
        wait_until(lambda: cli.topics_read() == {a: 10, b: 5}, 30, f"the orders topics read: {cli.lines[-5:]}")
        ck_create_topic(bootstrap, c, 1)
        produce_lines(bootstrap, c, 1, 3)
        wait_until(lambda: cli.topics_read().get(c) == 3, 20, f"the new topic {c} read: {cli.lines[-5:]}")
        code = cli.stop()
        assert code == 0, f"exit {code}: {cli.stderr()}"
        assert cli.topics_read() == {a: 10, b: 5, c: 3}
    finally:
        cli.stop(signal.SIGKILL)


@pytest.mark.deadline(60)
def test_runnel_consume_caret_topic_argument_is_a_pattern(start_broker):
    bootstrap = start_broker(BROKER).bootstrap
    pattern, a, b, _ = make_topics(bootstrap)
    cli = CliConsumer(bootstrap, pattern, "-g", unique_topic("g-rx-caret"), "-e")  # pattern starts with ^
    try:
        assert cli.proc.wait(timeout=40) == 0, cli.stderr()
        cli.reader.join(timeout=5)
        assert cli.topics_read() == {a: 10, b: 5}
    finally:
        cli.stop(signal.SIGKILL)

    bad = CliConsumer(bootstrap, "--pattern", "orders-[", "-g", unique_topic("g-rx-cli-bad"), "-e")
    try:
        assert bad.proc.wait(timeout=30) != 0
        assert "INVALID_REGULAR_EXPRESSION" in bad.stderr()
    finally:
        bad.stop(signal.SIGKILL)
