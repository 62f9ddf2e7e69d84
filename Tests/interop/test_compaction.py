"""Compacted topics with real clients (issue 13, docs/decisions.md D151-D152).

A Kafka Connect-style workload: Connect keeps its connector configs in a one-partition topic with
`cleanup.policy=compact`, writes each connector's config, task configs and target state again and
again, deletes a connector with tombstones, and at start reads the topic from the beginning to the
end offset, keeping the last value of each key (a tombstone removes the key). Here confluent-kafka
writes such a topic, the broker's cleaner compacts it, the broker restarts, and kafka-python reads
it back in full: exactly the newest value of every live key, and fewer records than were written.
"""
from __future__ import annotations

import json
import signal
from pathlib import Path

from confluent_kafka import Producer
from kafka import KafkaConsumer, TopicPartition

from interop_support import ck_create_topic, unique_topic, wait_until

TIMEOUT_MS = 20_000


def cleaner_checkpoint(data_dir: Path, topic: str) -> int:
    """The topic's entry of `cleaner-offset-checkpoint` (Kafka's text format), -1 when none."""
    path = data_dir / "cleaner-offset-checkpoint"
    if not path.exists():
        return -1
    lines = path.read_text().splitlines()
    assert lines[0] == "0" and int(lines[1]) == len(lines) - 2, f"not Kafka's checkpoint format: {lines!r}"
    for line in lines[2:]:
        name, partition, offset = line.split(" ")
        if name == topic and partition == "0":
            return int(offset)
    return -1


def write_connect_configs(bootstrap: str, topic: str) -> tuple[dict[str, bytes | None], int]:
    """Rounds of connector configs, task configs and target states, some connectors deleted by
    tombstones along the way. Returns the newest value per key (None: deleted) and the count."""
    producer = Producer({"bootstrap.servers": bootstrap, "acks": "all", "enable.idempotence": True,
                         "linger.ms": 5, "batch.size": 4096})  # batches well under segment.bytes
    newest: dict[str, bytes | None] = {}
    errors: list[str] = []
    written = 0

    def put(key: str, value: bytes | None) -> None:
        nonlocal written
        newest[key] = value
        written += 1
        producer.produce(topic, key=key.encode(), value=value, partition=0,
                         on_delivery=lambda err, msg: errors.append(str(err)) if err else None)

    gone: set[int] = set()
    for rnd in range(60):
        for n in range(8):
            name = f"connector-{n}"
            if n in gone:
                continue
            # Deleted (tombstones for its config, tasks and target state): some connectors for
            # a round and then created again, three for good.
            deleted_for_good = (rnd, n) in ((20, 5), (40, 6), (55, 7))
            if deleted_for_good or (rnd % 9 == 8 and n % 3 == rnd % 3):
                for key in (f"connector-{name}", f"task-{name}-0", f"task-{name}-1", f"target-state-{name}"):
                    put(key, None)
                if deleted_for_good:
                    gone.add(n)
                continue
            config = {"name": name, "connector.class": "FileStreamSource", "tasks.max": "2",
                      "topic": f"events-{n}", "generation": rnd, "padding": "x" * 200}
            put(f"connector-{name}", json.dumps(config).encode())
            for task in range(2):
                put(f"task-{name}-{task}", json.dumps({"task": task, "generation": rnd}).encode())
            put(f"target-state-{name}", json.dumps({"state": "STARTED" if rnd % 2 else "PAUSED"}).encode())
        put(f"commit-{rnd % 5}", json.dumps({"tasks": 2 * 8, "round": rnd}).encode())
        producer.poll(0)
    assert producer.flush(30) == 0, "records left unacknowledged"
    assert not errors, f"delivery errors: {errors[:5]}"
    return newest, written


def read_back(bootstrap: str, topic: str) -> list[tuple[int, str, bytes | None]]:
    """What Connect's KafkaBasedLog does at start: from the beginning to the end offset."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                             auto_offset_reset="earliest", request_timeout_ms=TIMEOUT_MS)
    try:
        tp = TopicPartition(topic, 0)
        consumer.assign([tp])
        consumer.seek_to_beginning(tp)
        end = consumer.end_offsets([tp], timeout_ms=TIMEOUT_MS)[tp]
        got: list[tuple[int, str, bytes | None]] = []
        for _ in range(600):
            if consumer.position(tp) >= end:
                break
            for records in consumer.poll(timeout_ms=200).values():
                got.extend((r.offset, r.key.decode(), r.value) for r in records)
        assert consumer.position(tp) >= end, f"read up to {consumer.position(tp)} of {end}"
        return got
    finally:
        consumer.close()


def test_connect_style_config_topic_reads_back_the_newest_value_of_each_key(start_broker):
    broker = start_broker({"log.cleaner.backoff.ms": "100"})
    topic = unique_topic("connect-configs")
    ck_create_topic(broker.bootstrap, topic, 1, {"cleanup.policy": "compact", "segment.bytes": "16384",
                                                 "min.cleanable.dirty.ratio": "0.1",
                                                 "delete.retention.ms": "3600000"})
    newest, written = write_connect_configs(broker.bootstrap, topic)
    live = {k: v for k, v in newest.items() if v is not None}
    assert len(live) < len(newest), "the workload deleted no connector"

    # The cleaner compacts the sealed segments (several by now) and records how far it got.
    wait_until(lambda: cleaner_checkpoint(broker.data_dir, topic) > written // 2, 60,
               "the cleaner to compact most of the config topic")
    checkpoint = cleaner_checkpoint(broker.data_dir, topic)

    assert broker.stop(signal.SIGTERM) == 0, broker.log_tail(30)
    broker.start()

    got = read_back(broker.bootstrap, topic)
    view: dict[str, bytes] = {}
    for _, key, value in got:
        if value is None:
            view.pop(key, None)
        else:
            view[key] = value
    assert view == live, f"{len(view)} live keys read back, {len(live)} expected"
    assert len(got) < written, f"read {len(got)} records of {written} written: nothing was compacted"
    offsets = [offset for offset, _, _ in got]
    assert offsets == sorted(set(offsets)), "offsets out of order or repeated"
    cleaned_keys = [key for offset, key, _ in got if offset < checkpoint]
    assert len(cleaned_keys) == len(set(cleaned_keys)), "a key appears twice in the cleaned part"
