"""Shared helpers for the interop suite: record generation and comparison, confluent-kafka
produce/consume loops, confluent-kafka consumer-group members polled from the test's thread (or
run in a process of their own, to be SIGKILLed), a minimal raw Kafka protocol client, and a
reader for the batch headers of on-disk segments (the layout of PROTOCOL.md §4-5).

Everything here is bounded in time: each loop has a deadline and raises AssertionError with what
it saw (client errors included) when the deadline passes.
"""
from __future__ import annotations

import dataclasses
import json
import os
import queue
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Callable, Iterable

CLIENT_TIMEOUT_S = 30.0


def unique_topic(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def now_ms() -> int:
    return int(time.time() * 1000)


def wait_until(predicate: Callable[[], object], timeout: float, what: str, interval: float = 0.2):
    """Call `predicate` until it returns a truthy value; return that value. Raise AssertionError
    naming `what` (and the last exception the predicate raised, if any) after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    while True:
        try:
            value = predicate()
            if value:
                return value
        except Exception as e:  # noqa: BLE001 - reported below
            last_error = e
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}"
                                 + (f"; last error: {last_error!r}" if last_error else ""))
        time.sleep(interval)


# ------------------------------------------------------------------------------------ records

@dataclasses.dataclass(frozen=True)
class Rec:
    """A record as produced (expected) or as read back (with its offset)."""
    partition: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes | None], ...] = ()
    timestamp: int | None = None
    offset: int | None = None

    def content(self):
        return (self.key, self.value, self.headers, self.timestamp)


def make_records(topic_tag: str, partitions: int, per_partition: int, base_ts: int,
                 compressible: bool = False) -> list[Rec]:
    """Records spread over `partitions`, interleaved, with strictly increasing timestamps per
    partition (10 ms apart). Keys, values and headers vary: some null keys, one null value,
    an empty value, binary bytes, a duplicate header key, a null header value."""
    out = []
    for i in range(per_partition):
        for p in range(partitions):
            n = i * partitions + p
            key = None if i % 7 == 3 else f"k{p}-{i}".encode()
            if i == 5:
                value = None
            elif i == 6:
                value = b""
            elif compressible:
                value = (f"{topic_tag} p{p} i{i} " + "the same sentence again and again. " * 20).encode()
            else:
                value = f"{topic_tag}|p{p}|i{i}|".encode() + bytes((n * 37 + j) % 256 for j in range(i % 50))
            if i % 5 == 0:
                headers = (("h1", f"v{i}".encode()), ("h1", b"dup"), ("empty", None))
            elif i % 5 == 1:
                headers = (("bin", bytes([0, 255, i % 256])),)
            else:
                headers = ()
            out.append(Rec(p, key, value, headers, base_ts + i * 10))
    return out


def without_null_headers(records: list[Rec]) -> list[Rec]:
    """For clients that cannot send a header with a null value (kafka-python, aiokafka)."""
    return [dataclasses.replace(r, headers=tuple(h for h in r.headers if h[1] is not None)) for r in records]


def by_partition(records: Iterable[Rec]) -> dict[int, list[Rec]]:
    out: dict[int, list[Rec]] = {}
    for r in records:
        out.setdefault(r.partition, []).append(r)
    return out


def assert_same_log(expected: dict[int, list[Rec]], got: dict[int, list[Rec]],
                    compare_headers: bool = True, compare_timestamps: bool = True) -> None:
    """Per partition: exactly the expected records, in order, at offsets 0, 1, 2, ..."""
    extra = {p: len(v) for p, v in got.items() if v and p not in expected}
    assert not extra, f"records read from partitions nothing was written to: {extra}"
    for p, want in sorted(expected.items()):
        have = got.get(p, [])
        offsets = [r.offset for r in have]
        assert offsets == list(range(len(have))), \
            f"partition {p}: offsets not contiguous from 0: {_summarize(offsets)}"
        assert len(have) == len(want), f"partition {p}: read {len(have)} records, wrote {len(want)}"
        for i, (w, h) in enumerate(zip(want, have)):
            if compare_headers and compare_timestamps:
                same = w.content() == h.content()
            else:
                same = (w.key, w.value) == (h.key, h.value) \
                    and (not compare_headers or w.headers == h.headers) \
                    and (not compare_timestamps or w.timestamp == h.timestamp)
            assert same, f"partition {p} offset {i}: wrote {w}, read {h}"


def _summarize(offsets: list[int]) -> str:
    if len(offsets) <= 20:
        return str(offsets)
    return f"{offsets[:10]} ... {offsets[-10:]} (n={len(offsets)})"


def assert_contiguous_acks(acks: dict[int, list[int]]) -> None:
    """Delivery reports of one producer, per partition in produce order: 0, 1, 2, ..."""
    for p, offsets in sorted(acks.items()):
        assert offsets == list(range(len(offsets))), \
            f"partition {p}: acknowledged offsets are not 0..{len(offsets) - 1} in produce order: " \
            f"{_summarize(offsets)}"


# --------------------------------------------------------------------------- confluent-kafka

# A non-default value for every topic configuration of Kafka 3.x/4.x, as admin scripts and
# infrastructure-as-code providers send them (issue 15, item 4).
STANDARD_TOPIC_CONFIGS = {
    "cleanup.policy": "delete", "compression.type": "lz4", "compression.gzip.level": "6",
    "compression.lz4.level": "10", "compression.zstd.level": "-5", "delete.retention.ms": "3600000",
    "file.delete.delay.ms": "30000", "flush.messages": "10000", "flush.ms": "1000",
    "follower.replication.throttled.replicas": "0:1", "leader.replication.throttled.replicas": "*",
    "index.interval.bytes": "8192", "local.retention.bytes": "-2", "local.retention.ms": "-2",
    "max.compaction.lag.ms": "86400000", "max.message.bytes": "2097152",
    "message.downconversion.enable": "false", "message.format.version": "3.0-IV1",
    "message.timestamp.after.max.ms": "3600000", "message.timestamp.before.max.ms": "86400000",
    "message.timestamp.difference.max.ms": "86400000", "message.timestamp.type": "CreateTime",
    "min.cleanable.dirty.ratio": "0.25", "min.compaction.lag.ms": "60000", "min.insync.replicas": "1",
    "preallocate": "true", "remote.storage.enable": "false", "remote.log.copy.disable": "true",
    "remote.log.delete.on.disable": "true", "retention.bytes": "1073741824", "retention.ms": "86400000",
    "segment.bytes": "536870912", "segment.index.bytes": "5242880", "segment.jitter.ms": "1000",
    "segment.ms": "3600000", "unclean.leader.election.enable": "false",
}
LONG_MAX = "9223372036854775807"


def ck_admin(bootstrap: str):
    from confluent_kafka.admin import AdminClient
    return AdminClient({"bootstrap.servers": bootstrap, "socket.timeout.ms": 10000})


def ck_create_topic(bootstrap: str, topic: str, partitions: int, config: dict[str, str] | None = None):
    from confluent_kafka.admin import NewTopic
    admin = ck_admin(bootstrap)
    futures = admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1,
                                            config=config or {})], operation_timeout=20, request_timeout=25)
    futures[topic].result(timeout=CLIENT_TIMEOUT_S)
    wait_until(lambda: _ck_partition_count(admin, topic) == partitions, 15,
               f"topic {topic} to show {partitions} partitions with leaders in metadata")


def _ck_partition_count(admin, topic: str) -> int:
    md = admin.list_topics(topic=topic, timeout=10)
    t = md.topics.get(topic)
    if t is None or t.error is not None:
        return -1
    if any(pm.leader < 0 or pm.error is not None for pm in t.partitions.values()):
        return -1
    return len(t.partitions)


def ck_produce(bootstrap: str, topic: str, records: list[Rec], conf: dict | None = None,
               timeout: float = CLIENT_TIMEOUT_S) -> dict[int, list[int]]:
    """Produce every record to its partition; return acknowledged offsets per partition in produce
    order. Fails if any delivery report carries an error."""
    from confluent_kafka import Producer
    config = {"bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 5,
              "message.timeout.ms": int(timeout * 1000)}
    config.update(conf or {})
    producer = Producer(config)
    acks: dict[int, list[tuple[int, int]]] = {}
    errors: list[str] = []

    def on_delivery(index: int, err, msg):
        if err is not None:
            errors.append(f"record {index} (partition {records[index].partition}): {err}")
        else:
            acks.setdefault(msg.partition(), []).append((index, msg.offset()))

    deadline = time.monotonic() + timeout
    for i, r in enumerate(records):
        while True:
            try:
                producer.produce(topic, value=r.value, key=r.key, partition=r.partition,
                                 headers=list(r.headers) if r.headers else None,
                                 timestamp=r.timestamp or 0,
                                 on_delivery=lambda err, msg, i=i: on_delivery(i, err, msg))
                break
            except BufferError:
                producer.poll(0.1)
                assert time.monotonic() < deadline, "producer queue stayed full"
        producer.poll(0)
    remaining = producer.flush(max(1.0, deadline - time.monotonic()))
    assert not errors, f"{len(errors)} delivery errors, first: {errors[:5]}"
    assert remaining == 0, f"{remaining} records still unacknowledged after {timeout:.0f} s"
    out = {}
    for p, pairs in acks.items():
        pairs.sort()  # produce order
        out[p] = [off for _, off in pairs]
    return out


def ck_consumer(bootstrap: str, extra: dict | None = None):
    from confluent_kafka import Consumer
    conf = {"bootstrap.servers": bootstrap, "group.id": unique_topic("interop-assign-only"),
            "enable.auto.commit": False, "enable.auto.offset.store": False,
            "auto.offset.reset": "earliest", "enable.partition.eof": True,
            "socket.timeout.ms": 10000}
    conf.update(extra or {})
    return Consumer(conf)


def ck_consume(bootstrap: str, topic: str, partitions: Iterable[int], expected: dict[int, int] | None = None,
               start_offset: int | None = None, timeout: float = CLIENT_TIMEOUT_S) -> dict[int, list[Rec]]:
    """assign() every partition at `start_offset` (default OFFSET_BEGINNING) and read until each
    partition reported end-of-partition with at least `expected[p]` records (default: first EOF)."""
    from confluent_kafka import OFFSET_BEGINNING, KafkaError, TopicPartition
    partitions = list(partitions)
    expected = expected or {}
    consumer = ck_consumer(bootstrap)
    try:
        start = OFFSET_BEGINNING if start_offset is None else start_offset
        consumer.assign([TopicPartition(topic, p, start) for p in partitions])
        got: dict[int, list[Rec]] = {p: [] for p in partitions}
        at_eof: set[int] = set()
        errors: list[str] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            done = all(p in at_eof and len(got[p]) >= expected.get(p, 0) for p in partitions)
            if done:
                break
            msg = consumer.poll(0.5)
            if msg is None:
                continue
            if msg.error():
                if msg.error().code() == KafkaError._PARTITION_EOF:
                    at_eof.add(msg.partition())
                else:
                    errors.append(str(msg.error()))
                continue
            at_eof.discard(msg.partition())
            ts_type, ts = msg.timestamp()
            headers = tuple((k, v) for k, v in (msg.headers() or []))
            got[msg.partition()].append(Rec(msg.partition(), msg.key(), msg.value(), headers, ts, msg.offset()))
        else:
            raise AssertionError(
                f"consume of {topic} timed out after {timeout:.0f} s: counts "
                f"{ {p: len(v) for p, v in got.items()} }, expected {expected}, at EOF {sorted(at_eof)}, "
                f"errors: {errors[:5]}")
        return got
    finally:
        consumer.close()


# ------------------------------------------------------------------------------ raw protocol

def i16(v: int) -> bytes:
    return struct.pack(">h", v)


def i32(v: int) -> bytes:
    return struct.pack(">i", v)


def uvarint(v: int) -> bytes:
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def nullable_string(s: str | None) -> bytes:
    if s is None:
        return i16(-1)
    b = s.encode()
    return i16(len(b)) + b


def compact_string(s: str) -> bytes:
    b = s.encode()
    return uvarint(len(b) + 1) + b


def request_frame(api_key: int, version: int, correlation_id: int, body: bytes = b"",
                  header_version: int = 1, client_id: str | None = "runnel-interop") -> bytes:
    """Request header v1 (key, version, correlation id, client id) or v2 (plus empty tagged fields)."""
    header = i16(api_key) + i16(version) + i32(correlation_id)
    if header_version >= 1:
        header += nullable_string(client_id)
    if header_version >= 2:
        header += b"\x00"
    payload = header + body
    return i32(len(payload)) + payload


class Reader:
    def __init__(self, data: bytes):
        self.data = data
        self.pos = 0

    def take(self, n: int) -> bytes:
        assert self.pos + n <= len(self.data), \
            f"response too short: need {n} bytes at {self.pos}, have {len(self.data) - self.pos}: {self.data.hex()}"
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def i16(self) -> int:
        return struct.unpack(">h", self.take(2))[0]

    def i32(self) -> int:
        return struct.unpack(">i", self.take(4))[0]

    def uvarint(self) -> int:
        shift = value = 0
        while True:
            b = self.take(1)[0]
            value |= (b & 0x7F) << shift
            if not b & 0x80:
                return value
            shift += 7
            assert shift < 35, "uvarint too long"

    def skip_tagged_fields(self) -> None:
        for _ in range(self.uvarint()):
            self.uvarint()  # tag
            self.take(self.uvarint())

    def remaining(self) -> int:
        return len(self.data) - self.pos


def connect(bootstrap: str, timeout: float = 10.0) -> socket.socket:
    host, port = bootstrap.rsplit(":", 1)
    s = socket.create_connection((host, int(port)), timeout=timeout)
    s.settimeout(timeout)
    return s


def recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError(f"connection closed after {len(buf)} of {n} bytes")
        buf += chunk
    return bytes(buf)


def recv_frame(sock: socket.socket) -> bytes:
    size = struct.unpack(">i", recv_exact(sock, 4))[0]
    assert 0 <= size < 64 * 1024 * 1024, f"response size prefix {size}"
    return recv_exact(sock, size)


def wait_closed(sock: socket.socket, timeout: float = 10.0) -> tuple[str, bytes]:
    """Read until the peer closes; return ('eof' or 'reset', bytes received meanwhile). Raise
    AssertionError if the connection is still open after `timeout` seconds."""
    sock.settimeout(0.5)
    deadline = time.monotonic() + timeout
    received = bytearray()
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            continue
        except (ConnectionResetError, BrokenPipeError):
            return "reset", bytes(received)
        if not chunk:
            return "eof", bytes(received)
        received += chunk
    raise AssertionError(f"connection still open {timeout:.0f} s later (received {len(received)} bytes: "
                         f"{bytes(received[:64]).hex()})")


def parse_api_versions_v0_body(r: Reader) -> tuple[int, dict[int, tuple[int, int]]]:
    error = r.i16()
    n = r.i32()
    assert 0 <= n < 1000, f"api_keys count {n}"
    keys = {}
    for _ in range(n):
        key, lo, hi = r.i16(), r.i16(), r.i16()
        keys[key] = (lo, hi)
    return error, keys


def parse_api_versions_v3_body(r: Reader) -> tuple[int, dict[int, tuple[int, int]], int]:
    error = r.i16()
    n = r.uvarint() - 1
    assert 0 <= n < 1000, f"api_keys compact count {n}"
    keys = {}
    for _ in range(n):
        key, lo, hi = r.i16(), r.i16(), r.i16()
        r.skip_tagged_fields()
        keys[key] = (lo, hi)
    throttle = r.i32()
    r.skip_tagged_fields()
    return error, keys, throttle


# --------------------------------------------------------------------------- on-disk batches

@dataclasses.dataclass
class BatchHeader:
    base_offset: int
    batch_length: int
    magic: int
    attributes: int
    last_offset_delta: int
    records_count: int

    @property
    def codec(self) -> int:
        return self.attributes & 0x7


def _segment_walk(seg: Path):
    """(open file, position, the first 61 bytes) of each batch of one `.log` segment, read header by
    header (an active segment is preallocated up to log.segment.bytes); stops at the first all-zero
    or impossible header, the preallocated tail."""
    size = seg.stat().st_size
    with open(seg, "rb") as f:
        pos = 0
        while pos + 61 <= size:
            f.seek(pos)
            head = f.read(61)
            batch_length = struct.unpack_from(">i", head, 8)[0]
            if batch_length < 49 or pos + 12 + batch_length > size:
                return
            yield f, pos, head
            pos += 12 + batch_length


def _segments(data_dir: Path, topic: str, partition: int) -> list[Path]:
    pdir = Path(data_dir) / f"{topic}-{partition}"
    segments = sorted(pdir.glob("*.log"))
    assert segments, f"no .log segment in {pdir} (contents: {sorted(p.name for p in pdir.parent.glob('*'))[:20]})"
    return segments


def segment_batches(data_dir: Path, topic: str, partition: int) -> list[BatchHeader]:
    """Batch headers of every `.log` segment in `<data_dir>/<topic>-<partition>/`, in offset order."""
    out = []
    for seg in _segments(data_dir, topic, partition):
        for _, _, head in _segment_walk(seg):
            base_offset, batch_length = struct.unpack_from(">qi", head, 0)
            magic = head[16]
            attributes, last_delta = struct.unpack_from(">hi", head, 21)
            count = struct.unpack_from(">i", head, 57)[0]
            out.append(BatchHeader(base_offset, batch_length, magic, attributes, last_delta, count))
    return out


def segment_data(data_dir: Path, topic: str, partition: int, end_offset: int) -> tuple[bytes, int]:
    """The bytes of every batch in `<data_dir>/<topic>-<partition>/*.log` (segments in offset
    order) whose last offset is below `end_offset`, concatenated as they lie on disk, and the
    offset after the last of them."""
    out = bytearray()
    next_offset = None
    for seg in _segments(data_dir, topic, partition):
        for f, pos, head in _segment_walk(seg):
            base_offset, batch_length = struct.unpack_from(">qi", head, 0)
            last = base_offset + struct.unpack_from(">i", head, 23)[0]
            if last < end_offset:
                assert next_offset is None or base_offset == next_offset, \
                    f"{seg}: batch at offset {base_offset} follows one that ended before {next_offset}"
                f.seek(pos)
                out += f.read(12 + batch_length)
                next_offset = last + 1
    return bytes(out), (next_offset if next_offset is not None else 0)


# ------------------------------------------------------------------ consumer groups (librdkafka)

def ck_group_consumer(bootstrap: str, group: str, extra: dict | None = None, client_id: str | None = None):
    """A confluent-kafka Consumer in `group` for subscribe(): no auto-commit (tests commit what they
    have read), offsets stored as records are returned, earliest when nothing is committed."""
    from confluent_kafka import Consumer
    conf = {"bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False,
            "auto.offset.reset": "earliest", "socket.timeout.ms": 10000,
            "client.id": client_id or "interop-group-member"}
    conf.update(extra or {})
    return Consumer(conf)


class CkMember:
    """One librdkafka group member driven from the test's thread (`poll_members` polls all of them
    in turn). Keeps every record it read, stamped with a global read sequence number, and commits
    the offsets it has read (synchronously) whenever partitions are revoked, so that whoever gets a
    partition next resumes right after the last record read here."""

    _sequence = 0

    def __init__(self, name: str, bootstrap: str, group: str, extra: dict | None = None):
        self.name = name
        self.group = group
        self.consumer = ck_group_consumer(bootstrap, group, extra, client_id=name)
        self.reads: list[tuple[int, Rec]] = []  # (global sequence, record)
        self.errors: list[str] = []
        self.revoked: list[tuple[float, list[int]]] = []
        self.assigned: list[tuple[float, list[int]]] = []
        self.subscribed_at: float | None = None
        self.closed = False
        self.revoke_commit_errors: list[str] = []

    def subscribe(self, topic: str) -> None:
        self.subscribed_at = time.monotonic()
        self.consumer.subscribe([topic], on_assign=self._on_assign, on_revoke=self._on_revoke)

    def _on_assign(self, consumer, partitions) -> None:
        self.assigned.append((time.monotonic(), sorted(p.partition for p in partitions)))

    def _on_revoke(self, consumer, partitions) -> None:
        self.revoked.append((time.monotonic(), sorted(p.partition for p in partitions)))
        try:
            self.commit()
        except Exception as e:  # noqa: BLE001 - an exception here would be lost in librdkafka
            # A lost assignment (session expired, member fenced) cannot commit; Kafka's clients
            # then leave the partitions to be re-read. Recorded so tests can tell.
            self.revoke_commit_errors.append(repr(e))

    def commit(self) -> None:
        """Commit the offsets of the records read so far (stored offsets) and wait for the answer.
        Nothing to commit is not an error."""
        from confluent_kafka import KafkaError, KafkaException
        try:
            self.consumer.commit(asynchronous=False)
        except KafkaException as e:
            if e.args[0].code() != KafkaError._NO_OFFSET:
                raise

    def poll(self, timeout: float) -> None:
        msg = self.consumer.poll(timeout)
        if msg is None:
            return
        if msg.error():
            self.errors.append(str(msg.error()))
            return
        CkMember._sequence += 1
        headers = tuple((k, v) for k, v in (msg.headers() or []))
        self.reads.append((CkMember._sequence, Rec(msg.partition(), msg.key(), msg.value(), headers,
                                                   msg.timestamp()[1], msg.offset())))

    def owned(self) -> set[int]:
        return {tp.partition for tp in self.consumer.assignment()}

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.consumer.close()

    def __repr__(self) -> str:
        return f"{self.name}(owns {sorted(self.owned()) if not self.closed else 'closed'}, read {len(self.reads)})"


def poll_members(members: list[CkMember], until: Callable[[], object], timeout: float, what: str,
                 poll_s: float = 0.05, exclusive: bool = True) -> float:
    """Poll every member in turn until `until()` is truthy; return the seconds it took. With
    `exclusive`, fail as soon as two members own the same partition at once (each round's
    assignments are read between polls, when no rebalance callback can run)."""
    start = time.monotonic()
    deadline = start + timeout
    while True:
        live = [m for m in members if not m.closed]
        if exclusive:
            seen: dict[int, str] = {}
            for m in live:
                for p in m.owned():
                    assert p not in seen, f"partition {p} owned by {seen[p]} and {m.name} at once: {live}"
                    seen[p] = m.name
        if until():
            return time.monotonic() - start
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}: {live}; "
                                 f"errors: {[(m.name, m.errors[:3]) for m in live if m.errors]}")
        for m in live:
            m.poll(poll_s)


def merged_reads(members: Iterable[CkMember]) -> dict[int, list[Rec]]:
    """Every record every member read, per partition, in the order they were read."""
    reads = sorted((seq, r) for m in members for seq, r in m.reads)
    return by_partition(r for _, r in reads)


def ck_committed(bootstrap: str, group: str, topic: str, partitions: Iterable[int]) -> dict[int, int]:
    """The group's committed offset per partition (-1001 = none), via AdminClient."""
    from confluent_kafka import ConsumerGroupTopicPartitions, TopicPartition
    admin = ck_admin(bootstrap)
    request = ConsumerGroupTopicPartitions(group, [TopicPartition(topic, p) for p in partitions])
    result = admin.list_consumer_group_offsets([request], request_timeout=CLIENT_TIMEOUT_S)[group] \
        .result(timeout=CLIENT_TIMEOUT_S)
    out = {}
    for tp in result.topic_partitions:
        assert tp.error is None, f"{group} {tp.topic}[{tp.partition}]: {tp.error}"
        out[tp.partition] = tp.offset
    return out


def ck_end_offsets(bootstrap: str, topic: str, partitions: Iterable[int]) -> dict[int, int]:
    from confluent_kafka import TopicPartition
    consumer = ck_consumer(bootstrap)
    try:
        return {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1] for p in partitions}
    finally:
        consumer.close()


def record_figure(line: str) -> None:
    """A measured figure (not a check): printed (visible with `pytest -s`) and appended to the file
    named by $RUNNEL_INTEROP_FIGURES when that is set."""
    print(f"FIGURE {line}")
    path = os.environ.get("RUNNEL_INTEROP_FIGURES")
    if path:
        with open(path, "a") as f:
            f.write(line + "\n")


_MEMBER_PROCESS = r"""
import json, sys, time
from confluent_kafka import Consumer
bootstrap, group, topic, extra = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
c = Consumer({"bootstrap.servers": bootstrap, "group.id": group, "client.id": "doomed",
              "enable.auto.commit": False, "auto.offset.reset": "earliest", **extra})
c.subscribe([topic])
last = None
deadline = time.monotonic() + 120
while time.monotonic() < deadline:
    c.poll(0.1)
    owned = sorted(tp.partition for tp in c.assignment())
    if owned != last:
        last = owned
        print(json.dumps(owned), flush=True)
"""


class MemberProcess:
    """A confluent-kafka group member in a process of its own, so that a test can SIGKILL it (no
    LeaveGroup, no leave heartbeat). It subscribes `topic` with `extra` consumer settings and
    prints its assignment whenever it changes; `owned()` is the latest one seen."""

    def __init__(self, bootstrap: str, group: str, topic: str, extra: dict):
        self.proc = subprocess.Popen([sys.executable, "-c", _MEMBER_PROCESS, bootstrap, group, topic, json.dumps(extra)],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                     start_new_session=True)
        self._lines: queue.Queue[list[int]] = queue.Queue()
        self._owned: list[int] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self._lines.put(json.loads(line))

    def owned(self) -> list[int]:
        while not self._lines.empty():
            self._owned = self._lines.get()
        return self._owned

    def kill(self) -> None:
        """SIGKILL, and wait until the process is gone."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
