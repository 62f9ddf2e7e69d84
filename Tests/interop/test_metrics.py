"""The metrics listener (`runnel.metrics.listener`) scraped with Python's urllib while a
confluent-kafka producer (librdkafka 2.16) writes and an assign()ed consumer reads: the exposition
parses as Prometheus text, its counters move with the traffic (requests, records and bytes per
topic), the latency histograms count every request, and /health is 200 on a ready broker.
"""
from __future__ import annotations

import re
import threading
import urllib.error
import urllib.request

from conftest import free_port
from interop_support import ck_consume, ck_create_topic, ck_produce, make_records, now_ms, unique_topic

PARTITIONS = 2
PER_PARTITION = 300

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def scrape(port: int, path: str = "/metrics") -> tuple[int, str, str]:
    """GET http://127.0.0.1:port/path → (status, content type, body); 5xx answers too."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as r:
            return r.status, r.headers.get("Content-Type", ""), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type", ""), e.read().decode()


def parse(text: str) -> tuple[dict[tuple[str, frozenset], float], dict[str, str], dict[str, str]]:
    """Samples by (name, labels), HELP and TYPE by family; fails on a line that is neither."""
    samples: dict[tuple[str, frozenset], float] = {}
    helps: dict[str, str] = {}
    types: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("# HELP "):
            name, _, help_text = line[len("# HELP "):].partition(" ")
            helps[name] = help_text
        elif line.startswith("# TYPE "):
            name, _, kind = line[len("# TYPE "):].partition(" ")
            types[name] = kind
        elif line:
            m = SAMPLE.match(line)
            assert m, f"not a Prometheus sample line: {line!r}"
            labels = frozenset(LABEL.findall(m.group(2) or ""))
            samples[(m.group(1), labels)] = float(m.group(3))
    return samples, helps, types


def value(samples, name: str, **labels) -> float | None:
    return samples.get((name, frozenset(labels.items())))


def test_scrape_while_confluent_kafka_produces(start_broker):
    port = free_port()
    broker = start_broker({"runnel.metrics.listener": f"http://127.0.0.1:{port}"})

    status, _, body = scrape(port, "/health")
    assert status == 200, body
    assert body.startswith("ok: "), body

    topic = unique_topic("metrics")
    ck_create_topic(broker.bootstrap, topic, PARTITIONS)
    records = make_records(topic, PARTITIONS, PER_PARTITION, now_ms() - 60_000)

    # Scrape over and over while the producer runs: every answer must be whole and parse.
    stop = threading.Event()
    scrapes: list[int] = []
    failures: list[str] = []

    def scraper():
        while not stop.is_set() and len(scrapes) < 500:
            try:
                code, ctype, text = scrape(port)
                parse(text)
                if code != 200 or not ctype.startswith("text/plain; version=0.0.4"):
                    failures.append(f"{code} {ctype}")
                scrapes.append(code)
            except Exception as e:  # noqa: BLE001 - reported below
                failures.append(repr(e))
            stop.wait(0.02)

    thread = threading.Thread(target=scraper, daemon=True)
    thread.start()
    try:
        acks = ck_produce(broker.bootstrap, topic, records, {"acks": "all", "linger.ms": 20})
    finally:
        stop.set()
        thread.join(timeout=20)
    assert not thread.is_alive(), "the scraper did not stop"
    assert sum(len(v) for v in acks.values()) == len(records)
    assert scrapes and not failures, f"{len(scrapes)} scrapes, failures {failures[:5]}"

    got = ck_consume(broker.bootstrap, topic, range(PARTITIONS), {p: PER_PARTITION for p in range(PARTITIONS)})
    assert sum(len(v) for v in got.values()) == len(records)

    status, ctype, text = scrape(port)
    assert status == 200 and ctype.startswith("text/plain; version=0.0.4"), (status, ctype)
    samples, helps, types = parse(text)

    # Every family has a HELP line that says something and a type Prometheus knows.
    assert types, text[:500]
    for family, kind in types.items():
        assert family.startswith("runnel_"), family
        assert len(helps.get(family, "")) > 20, f"{family} lacks a HELP line"
        assert kind in ("counter", "gauge", "histogram"), (family, kind)
        if kind == "counter":
            assert family.endswith("_total"), family

    produces = value(samples, "runnel_requests_total", api="Produce")
    assert produces and produces >= 1
    assert value(samples, "runnel_request_duration_seconds_count", api="Produce") == produces
    assert value(samples, "runnel_request_duration_seconds_bucket", api="Produce", le="+Inf") == produces
    assert value(samples, "runnel_requests_total", api="Fetch") >= 1
    assert value(samples, "runnel_request_duration_seconds_count", api="Fetch") >= 1
    assert value(samples, "runnel_requests_total", api="Metadata") >= 1
    assert value(samples, "runnel_topic_records_in_total", topic=topic) == len(records)
    assert value(samples, "runnel_topic_bytes_in_total", topic=topic) > 0
    assert value(samples, "runnel_topic_bytes_out_total", topic=topic) >= value(samples, "runnel_topic_bytes_in_total", topic=topic)
    for p in range(PARTITIONS):
        assert value(samples, "runnel_partition_log_end_offset", topic=topic, partition=str(p)) == PER_PARTITION
        assert value(samples, "runnel_partition_high_watermark", topic=topic, partition=str(p)) == PER_PARTITION
        assert value(samples, "runnel_partition_log_start_offset", topic=topic, partition=str(p)) == 0
    assert value(samples, "runnel_log_flush_duration_seconds_count") >= 1
    assert value(samples, "runnel_under_replicated_partitions") == 0
    assert value(samples, "runnel_raft_leader_id") == 1
    assert value(samples, "runnel_broker_ready") == 1
