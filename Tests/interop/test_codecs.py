"""Record-batch codecs (issue 13, docs/decisions.md D110-D116): every client produces with gzip,
snappy, lz4 and zstd and a different client reads the records back; the broker stores each batch
as sent (compression.type=producer, checked in the segment files) or, when the topic or broker
names a codec, recompressed into it; a decompression bomb and damaged compressed data are refused
with the errors Kafka uses, naming the codec, and the broker keeps serving. One test runs on a
three-node cluster: replicas hold the recompressed batches byte for byte.

Clients' codec packages: kafka-python imports python-snappy (`snappy`), `lz4` and `zstandard`;
aiokafka imports `cramjam`. librdkafka (confluent-kafka, kcat) has all four built in.
"""
from __future__ import annotations

import asyncio
import json
import struct
import subprocess

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition as AioTP
from kafka import KafkaConsumer, KafkaProducer, TopicPartition as KpTP

from interop_support import (CLIENT_TIMEOUT_S, Reader, Rec, assert_same_log, by_partition, ck_admin, ck_consume,
                             ck_create_topic, ck_produce, connect, i16, i32, make_records, nullable_string, now_ms,
                             recv_frame, request_frame, segment_batches, segment_data, unique_topic, wait_until,
                             without_null_headers)

CODECS = ["gzip", "snappy", "lz4", "zstd"]
CODEC_IDS = {"none": 0, "uncompressed": 0, "gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}
PARTITIONS = 2
XERIAL_MAGIC = b"\x82SNAPPY\x00"


def records_for(tag: str) -> list[Rec]:
    # Compressible values: librdkafka sends a batch uncompressed when the codec does not shrink it.
    return make_records(tag, PARTITIONS, 12, now_ms() - 60_000, compressible=True)


def stored_codecs(broker, topic: str, partitions: int = PARTITIONS) -> set[int]:
    return {b.codec for p in range(partitions) for b in segment_batches(broker.data_dir, topic, p)}


# ------------------------------------------------------------------------------ clients

def kp_produce(bootstrap: str, topic: str, records: list[Rec], codec: str | None) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap, compression_type=codec, linger_ms=20, acks="all",
                             request_timeout_ms=int(CLIENT_TIMEOUT_S * 1000))
    try:
        futures = [producer.send(topic, key=r.key, value=r.value, partition=r.partition, timestamp_ms=r.timestamp,
                                 headers=list(r.headers)) for r in records]
        for f in futures:
            f.get(timeout=CLIENT_TIMEOUT_S)
    finally:
        producer.close(timeout=10)


def aio_produce(bootstrap: str, topic: str, records: list[Rec], codec: str | None) -> None:
    async def run():
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, compression_type=codec, linger_ms=20, acks="all")
        await producer.start()
        try:
            futures = [await producer.send(topic, key=r.key, value=r.value, partition=r.partition,
                                           timestamp_ms=r.timestamp, headers=list(r.headers)) for r in records]
            await asyncio.wait_for(asyncio.gather(*futures), CLIENT_TIMEOUT_S)
        finally:
            await producer.stop()
    asyncio.run(run())


def kp_consume(bootstrap: str, topic: str, total: int) -> dict[int, list[Rec]]:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, consumer_timeout_ms=15_000)
    try:
        parts = [KpTP(topic, p) for p in range(PARTITIONS)]
        consumer.assign(parts)
        consumer.seek_to_beginning(*parts)
        got: list[Rec] = []
        for m in consumer:
            got.append(Rec(m.partition, m.key, m.value, tuple(m.headers or ()), m.timestamp, m.offset))
            if len(got) == total:
                break
        return by_partition(got)
    finally:
        consumer.close()


def aio_consume(bootstrap: str, topic: str, total: int) -> dict[int, list[Rec]]:
    async def run():
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
        await consumer.start()
        got: list[Rec] = []
        try:
            parts = [AioTP(topic, p) for p in range(PARTITIONS)]
            consumer.assign(parts)
            await consumer.seek_to_beginning(*parts)
            deadline = asyncio.get_running_loop().time() + CLIENT_TIMEOUT_S
            while len(got) < total and asyncio.get_running_loop().time() < deadline:
                for _, messages in (await consumer.getmany(timeout_ms=500)).items():
                    got += [Rec(m.partition, m.key, m.value, tuple(m.headers or ()), m.timestamp, m.offset)
                            for m in messages]
        finally:
            await consumer.stop()
        return got
    return by_partition(asyncio.run(run()))


def kcat(*args: str, stdin: bytes | None = None) -> bytes:
    done = subprocess.run(["kcat", *args], input=stdin, capture_output=True, timeout=60)
    assert done.returncode == 0, f"kcat {' '.join(args)} exited {done.returncode}: {done.stderr.decode()[-2000:]}"
    return done.stdout


# ------------------------------------------------------------------ one codec, two clients

def produce_with(client: str, bootstrap: str, topic: str, records: list[Rec], codec: str) -> None:
    if client == "confluent-kafka":
        ck_produce(bootstrap, topic, records, {"compression.type": codec, "linger.ms": 20})
    elif client == "kafka-python":
        kp_produce(bootstrap, topic, records, codec)
    else:
        aio_produce(bootstrap, topic, records, codec)


def consume_with(client: str, bootstrap: str, topic: str, records: list[Rec]) -> dict[int, list[Rec]]:
    if client == "confluent-kafka":
        return ck_consume(bootstrap, topic, range(PARTITIONS), {p: len(v) for p, v in by_partition(records).items()})
    if client == "kafka-python":
        return kp_consume(bootstrap, topic, len(records))
    return aio_consume(bootstrap, topic, len(records))


# (producer, reader): each client produces once per codec and reads another's batches.
PAIRS = [("confluent-kafka", "kafka-python"), ("kafka-python", "aiokafka"), ("aiokafka", "confluent-kafka")]


@pytest.mark.parametrize("producer,reader", PAIRS)
@pytest.mark.parametrize("codec", CODECS)
def test_one_client_produces_and_another_reads(module_broker, codec, producer, reader):
    topic = unique_topic(f"{producer[:3]}-{codec}")
    ck_create_topic(module_broker.bootstrap, topic, PARTITIONS)
    records = records_for(topic)
    if producer != "confluent-kafka":
        records = without_null_headers(records)  # the Python clients cannot send a null header value
    produce_with(producer, module_broker.bootstrap, topic, records, codec)
    assert stored_codecs(module_broker, topic) == {CODEC_IDS[codec]}, "stored as the producer sent it"
    if codec == "snappy":
        data, _ = segment_data(module_broker.data_dir, topic, 0, 1 << 40)
        # librdkafka writes one raw snappy block, the Python clients xerial framing (D112).
        assert (data[61:69] == XERIAL_MAGIC) == (producer != "confluent-kafka"), data[61:69]
    assert_same_log(by_partition(records), consume_with(reader, module_broker.bootstrap, topic, records))


@pytest.mark.parametrize("codec", CODECS)
def test_kcat_produces_and_confluent_kafka_reads_and_kcat_reads_back(module_broker, codec):
    """kcat 1.7.1 (librdkafka 2.0.2) compresses only because Produce v0 is advertised, and uses
    zstd only with Produce v7 / Fetch v10 advertised (PROTOCOL.md §1a)."""
    topic = unique_topic(f"kcat-{codec}")
    ck_create_topic(module_broker.bootstrap, topic, 1)
    lines = [(f"k{i}".encode(), (f"kcat {codec} record {i} " + "compressible text, " * 12).encode()) for i in range(40)]
    kcat("-P", "-b", module_broker.bootstrap, "-t", topic, "-p", "0", "-z", codec, "-K", "\t", "-X", "linger.ms=50",
         stdin=b"".join(k + b"\t" + v + b"\n" for k, v in lines))
    assert stored_codecs(module_broker, topic, 1) == {CODEC_IDS[codec]}
    got = ck_consume(module_broker.bootstrap, topic, [0], {0: len(lines)})
    assert [(r.key, r.value, r.offset) for r in got[0]] == [(k, v, i) for i, (k, v) in enumerate(lines)]
    out = kcat("-C", "-b", module_broker.bootstrap, "-t", topic, "-p", "0", "-o", "beginning", "-e", "-J")
    read = [json.loads(line) for line in out.decode().splitlines() if line.strip()]
    assert [(m["key"].encode(), m["payload"].encode(), m["offset"]) for m in read] == \
        [(k, v, i) for i, (k, v) in enumerate(lines)]


# ------------------------------------------------------------------------ compression.type

@pytest.mark.parametrize("topic_codec,producer_codec", [
    ("zstd", "gzip"), ("uncompressed", "lz4"), ("snappy", None), ("lz4", "zstd"), ("gzip", "gzip")])
def test_topic_compression_type_recompresses_only_a_different_codec(module_broker, topic_codec, producer_codec):
    """kafka-python 3 is an idempotent producer by default: a recompressed batch that lost its
    producer id or sequence would make the next one fail OUT_OF_ORDER_SEQUENCE_NUMBER."""
    topic = unique_topic(f"ct-{topic_codec}")
    ck_create_topic(module_broker.bootstrap, topic, PARTITIONS, {"compression.type": topic_codec})
    records = without_null_headers(records_for(topic))
    half = len(records) // 2
    kp_produce(module_broker.bootstrap, topic, records[:half], producer_codec)
    kp_produce(module_broker.bootstrap, topic, records[half:], producer_codec)
    assert stored_codecs(module_broker, topic) == {CODEC_IDS[topic_codec]}
    if topic_codec == "snappy":
        data, _ = segment_data(module_broker.data_dir, topic, 0, 1 << 40)
        assert data[61:69] == XERIAL_MAGIC, "the broker writes xerial-framed snappy"
    for batch in segment_batches(module_broker.data_dir, topic, 0):
        assert batch.records_count == batch.last_offset_delta + 1
    expected = by_partition(records)
    assert_same_log(expected, ck_consume(module_broker.bootstrap, topic, range(PARTITIONS),
                                         {p: len(v) for p, v in expected.items()}))
    assert_same_log(expected, aio_consume(module_broker.bootstrap, topic, len(records)))


def test_broker_compression_type_is_the_topics_default(start_broker):
    broker = start_broker({"compression.type": "zstd", "compression.zstd.level": "7"})
    topic = unique_topic("broker-ct")
    ck_create_topic(broker.bootstrap, topic, PARTITIONS)
    records = records_for(topic)
    ck_produce(broker.bootstrap, topic, records, {"compression.type": "none"})
    assert stored_codecs(broker, topic) == {CODEC_IDS["zstd"]}
    expected = by_partition(records)
    assert_same_log(expected, ck_consume(broker.bootstrap, topic, range(PARTITIONS),
                                         {p: len(v) for p, v in expected.items()}))
    # A topic may still keep batches as sent.
    own = unique_topic("broker-ct-own")
    ck_create_topic(broker.bootstrap, own, PARTITIONS, {"compression.type": "producer"})
    ck_produce(broker.bootstrap, own, records_for(own), {"compression.type": "lz4"})
    assert stored_codecs(broker, own) == {CODEC_IDS["lz4"]}


def test_describe_configs_reports_compression_type(module_broker):
    from confluent_kafka.admin import ConfigResource
    topic = unique_topic("ct-describe")
    ck_create_topic(module_broker.bootstrap, topic, 1, {"compression.type": "lz4"})
    admin = ck_admin(module_broker.bootstrap)
    resource = ConfigResource(ConfigResource.Type.TOPIC, topic)
    configs = admin.describe_configs([resource])[resource].result(timeout=CLIENT_TIMEOUT_S)
    assert configs["compression.type"].value == "lz4"
    assert configs["compression.lz4.level"].value == "9"


# ------------------------------------------------------------------ bombs and damaged data

def test_decompression_bomb_is_refused_and_the_broker_serves_on(module_broker):
    """70 MiB of zeros compress to a few kB of zstd; the broker stops decompressing at
    Limits.batchDecompressedBytesMax (64 MiB) and answers MESSAGE_TOO_LARGE."""
    from confluent_kafka import KafkaError, Producer
    topic = unique_topic("bomb")
    ck_create_topic(module_broker.bootstrap, topic, 1)
    errors = []
    producer = Producer({"bootstrap.servers": module_broker.bootstrap, "compression.type": "zstd",
                         "message.max.bytes": 100_000_000, "message.timeout.ms": 30_000, "retries": 0})
    producer.produce(topic, value=bytes(70 << 20), partition=0, on_delivery=lambda err, msg: errors.append(err))
    assert producer.flush(40) == 0
    assert len(errors) == 1 and errors[0] is not None, f"the bomb was acknowledged: {errors}"
    assert errors[0].code() == KafkaError.MSG_SIZE_TOO_LARGE, str(errors[0])
    records = records_for(topic)
    records = [r for r in records if r.partition == 0]
    ck_produce(module_broker.bootstrap, topic, records, {"compression.type": "zstd"})
    got = ck_consume(module_broker.bootstrap, topic, [0], {0: len(records)})
    assert [r.value for r in got[0]] == [r.value for r in records]
    assert [r.offset for r in got[0]] == list(range(len(records))), "the refused bomb took no offset"


def test_decompression_bomb_answer_names_the_limit(module_broker):
    import zstandard
    topic = unique_topic("bomb-raw")
    ck_create_topic(module_broker.bootstrap, topic, 1)
    # One record whose value is 70 MiB of zeros: length, attributes, timestamp and offset deltas,
    # key -1, value length, value, no headers (zigzag varints).
    value_len = 70 << 20
    def zigzag(v: int) -> bytes:
        v = (v << 1) ^ (v >> 63)
        out = bytearray()
        while True:
            if v < 0x80:
                return bytes(out + bytes([v]))
            out.append((v & 0x7F) | 0x80)
            v >>= 7
    body = b"\x00" + zigzag(0) + zigzag(0) + zigzag(-1) + zigzag(value_len)
    record_head = zigzag(len(body) + value_len + 1) + body
    compressor = zstandard.ZstdCompressor().compressobj()
    section = compressor.compress(record_head) + compressor.compress(bytes(value_len)) \
        + compressor.compress(zigzag(0)) + compressor.flush()
    assert len(section) < 100_000
    error, message = raw_produce(module_broker.bootstrap, topic, raw_batch(4, section), 8)
    assert error == 10, f"expected MESSAGE_TOO_LARGE, got {error}: {message}"
    assert message and "zstd" in message and str(64 << 20) in message, message
    assert stored_codecs_or_empty(module_broker, topic) == set(), "nothing was stored"


def crc32c(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def raw_batch(codec: int, section: bytes, records: int = 1) -> bytes:
    """A RecordBatch v2 around an already encoded (possibly compressed) record section."""
    after_crc = struct.pack(">hiqqqhii", codec, records - 1, 1_700_000_000_000, 1_700_000_000_000, -1, -1, -1,
                            records) + section
    body = struct.pack(">ib", -1, 2) + struct.pack(">I", crc32c(after_crc)) + after_crc
    return struct.pack(">qi", 0, len(body)) + body


def raw_produce(bootstrap: str, topic: str, batch: bytes, version: int) -> tuple[int, str | None]:
    """One Produce request (v3-v8, non-flexible) for partition 0; returns its error code and message."""
    body = nullable_string(None) + i16(1) + i32(10_000) + i32(1) + nullable_string(topic) + i32(1) + i32(0) \
        + i32(len(batch)) + batch
    sock = connect(bootstrap)
    try:
        sock.sendall(request_frame(0, version, 7, body))
        r = Reader(recv_frame(sock))
    finally:
        sock.close()
    assert r.i32() == 7
    assert r.i32() == 1
    r.take(r.i16())  # topic
    assert r.i32() == 1
    r.i32()  # partition
    error = r.i16()
    r.take(8 + 8)  # base offset, log append time
    if version >= 5:
        r.take(8)  # log start offset
    message = None
    if version >= 8:
        for _ in range(r.i32()):  # record errors
            r.i32()
            n = r.i16()
            if n >= 0:
                r.take(n)
        n = r.i16()
        message = r.take(n).decode() if n >= 0 else None
    return error, message


@pytest.mark.parametrize("codec", CODECS)
def test_damaged_compressed_data_is_corrupt_message_naming_the_codec(module_broker, codec):
    topic = unique_topic(f"damaged-{codec}")
    ck_create_topic(module_broker.bootstrap, topic, 1)
    error, message = raw_produce(module_broker.bootstrap, topic,
                                 raw_batch(CODEC_IDS[codec], b"\x82SNAPPY\x00 not really compressed at all"), 8)
    assert error == 2, f"expected CORRUPT_MESSAGE, got {error}: {message}"
    assert message and codec in message, message
    assert stored_codecs_or_empty(module_broker, topic) == set(), "nothing was stored"


def stored_codecs_or_empty(broker, topic: str) -> set[int]:
    try:
        return stored_codecs(broker, topic, 1)
    except AssertionError:
        return set()


def test_zstd_needs_produce_v7(module_broker):
    import zstandard
    topic = unique_topic("zstd-v3")
    ck_create_topic(module_broker.bootstrap, topic, 1)
    record = bytes([0x0E, 0, 0, 0, 0x01, 0x02, 0x61, 0x00])  # length 7: no key, value "a", no headers
    batch = raw_batch(4, zstandard.ZstdCompressor().compress(record))
    error, _ = raw_produce(module_broker.bootstrap, topic, batch, 3)
    assert error == 76, f"Produce v3 with zstd: expected UNSUPPORTED_COMPRESSION_TYPE, got {error}"
    error, message = raw_produce(module_broker.bootstrap, topic, batch, 7)
    assert error == 0, f"Produce v7 with zstd: {error} {message}"


# ------------------------------------------------------------------------------ cluster

def test_recompressed_batches_replicate_byte_for_byte_on_a_cluster(module_cluster):
    """RF=3 topic with compression.type=zstd: the leader recompresses, followers copy its bytes."""
    from confluent_kafka.admin import NewTopic
    topic = unique_topic("cl-codec")
    admin = ck_admin(module_cluster.nodes[0].bootstrap)
    admin.create_topics([NewTopic(topic, num_partitions=PARTITIONS, replication_factor=3,
                                  config={"compression.type": "zstd", "min.insync.replicas": "2"})],
                        operation_timeout=20, request_timeout=25)[topic].result(timeout=CLIENT_TIMEOUT_S)
    def led_everywhere():
        for node in module_cluster.nodes:
            md = ck_admin(node.bootstrap).list_topics(topic=topic, timeout=10).topics.get(topic)
            if md is None or md.error is not None or len(md.partitions) != PARTITIONS \
                    or any(p.leader < 0 or len(p.isrs) != 3 for p in md.partitions.values()):
                return False
        return True
    wait_until(led_everywhere, 30, f"every node to know {topic}'s leaders and a full ISR")
    records = without_null_headers(records_for(topic))
    half = len(records) // 2
    kp_produce(module_cluster.bootstrap, topic, records[:half], "lz4")
    kp_produce(module_cluster.bootstrap, topic, records[half:], "snappy")
    expected = by_partition(records)
    got = ck_consume(module_cluster.bootstrap, topic, range(PARTITIONS), {p: len(v) for p, v in expected.items()})
    assert_same_log(expected, got)
    for p in range(PARTITIONS):
        end = len(got[p])
        views = [wait_until(lambda n=node: (lambda d: d if d[1] >= end else None)(
            segment_data(n.data_dir, topic, p, end)), 20, f"{node.name} to hold {topic}-{p}")[0]
            for node in module_cluster.nodes]
        assert views[0] == views[1] == views[2], f"{topic}-{p}: replicas differ"
        assert {b.codec for b in segment_batches(module_cluster.nodes[0].data_dir, topic, p)} == {CODEC_IDS["zstd"]}
