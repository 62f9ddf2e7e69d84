"""kcat 1.7.1 (librdkafka 2.0.2, the oldest client we support) -L, -P and -C.

Topics are auto-created by the first produce with num.partitions=3 (kcat cannot create topics).
"""
from __future__ import annotations

import json
import re
import subprocess
import time

import pytest

from interop_support import now_ms, segment_batches, unique_topic

BROKER_OVERRIDES = {"num.partitions": "3"}
KCAT_TIMEOUT_S = 30
CONSUME_FORMAT = "%k|%s|%o\\n"


def kcat(*args: str, stdin: bytes | None = None, timeout: float = KCAT_TIMEOUT_S) -> subprocess.CompletedProcess:
    cmd = ["kcat", *args]
    try:
        res = subprocess.run(cmd, input=stdin, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired as e:
        raise AssertionError(f"{' '.join(cmd)} did not finish within {timeout} s\n"
                             f"stdout: {(e.stdout or b'')[-2000:]!r}\nstderr: {(e.stderr or b'')[-4000:].decode(errors='replace')}")
    assert res.returncode == 0, (f"{' '.join(cmd)} exited {res.returncode}\n"
                                 f"stderr: {res.stderr[-4000:].decode(errors='replace')}")
    return res


def produce(bootstrap: str, topic: str, partition: int, lines: list[str], *extra: str) -> None:
    res = kcat("-P", "-b", bootstrap, "-t", topic, "-p", str(partition), *extra,
               stdin=("\n".join(lines) + "\n").encode())
    err = res.stderr.decode(errors="replace")
    assert "Delivery failed" not in err and "% ERROR" not in err, f"kcat -P reported: {err}"


def consume(bootstrap: str, topic: str, partition: int, offset: str, fmt: str = CONSUME_FORMAT,
            *extra: str) -> list[str]:
    res = kcat("-C", "-q", "-b", bootstrap, "-t", topic, "-p", str(partition), "-o", offset, "-e",
               "-f", fmt, *extra)
    return res.stdout.decode().splitlines()


def parse_kso(lines: list[str]) -> list[tuple[str, str, int]]:
    out = []
    for line in lines:
        key, rest = line.split("|", 1)
        value, offset = rest.rsplit("|", 1)
        out.append((key, value, int(offset)))
    return out


def test_metadata_lists_broker_and_topics(module_broker):
    topic = unique_topic("kcat-md")
    produce(module_broker.bootstrap, topic, 0, ["hello"])

    text = kcat("-L", "-b", module_broker.bootstrap).stdout.decode()
    assert re.search(r"^ 1 brokers:$", text, re.M), text
    m = re.search(r"^  broker (\d+) at 127\.0\.0\.1:(\d+)", text, re.M)
    assert m and int(m.group(2)) == module_broker.port, text
    broker_id = int(m.group(1))
    assert re.search(rf'^  topic "{re.escape(topic)}" with 3 partitions:$', text, re.M), text

    md = json.loads(kcat("-L", "-J", "-b", module_broker.bootstrap, "-t", topic).stdout)
    assert [b["name"] for b in md["brokers"]] == [f"127.0.0.1:{module_broker.port}"], md["brokers"]
    [t] = md["topics"]
    assert t["topic"] == topic and "error" not in t, t
    assert sorted(p["partition"] for p in t["partitions"]) == [0, 1, 2], t
    for p in t["partitions"]:
        assert p["leader"] == broker_id, p
        assert [r["id"] for r in p["replicas"]] == [broker_id], p
        assert [r["id"] for r in p["isrs"]] == [broker_id], p


@pytest.mark.parametrize("compression", ["none", "gzip"])
def test_keyed_produce_then_consume_in_order(module_broker, compression):
    topic = unique_topic(f"kcat-{compression}")
    filler = "all work and no play makes a dull log " * 8 if compression == "gzip" else ""
    written = {p: [(f"key-{p}-{i}", f"value {p}.{i} {filler}".strip()) for i in range(300)] for p in range(3)}
    for p in (1, 0, 2):
        produce(module_broker.bootstrap, topic, p, [f"{k}:{v}" for k, v in written[p]],
                "-K:", "-z", compression, "-H", "source=kcat")

    for p in range(3):
        got = parse_kso(consume(module_broker.bootstrap, topic, p, "beginning"))
        assert [o for _, _, o in got] == list(range(len(got))), f"partition {p}: offsets not 0..n-1"
        assert [(k, v) for k, v, _ in got] == written[p], f"partition {p} content differs"
        headers = consume(module_broker.bootstrap, topic, p, "beginning", "%h\\n")
        assert headers == ["source=kcat"] * 300, f"partition {p} headers: {headers[:3]}"

    if compression == "gzip":
        # librdkafka 2.0.2 compresses only if the broker advertises Produce v0 (PROTOCOL.md §1a).
        for p in range(3):
            codecs = {b.codec for b in segment_batches(module_broker.data_dir, topic, p)}
            assert codecs == {1}, f"partition {p}: batch codecs on disk {codecs}, expected gzip (1) only"


def test_offset_specs(module_broker):
    topic = unique_topic("kcat-offsets")
    values = [f"v{i}" for i in range(20)]
    produce(module_broker.bootstrap, topic, 0, values)

    def read(offset: str, *extra: str) -> list[tuple[str, int]]:
        return [(v, o) for _, v, o in parse_kso(consume(module_broker.bootstrap, topic, 0, offset, CONSUME_FORMAT, *extra))]

    assert read("beginning") == [(v, i) for i, v in enumerate(values)]
    assert read("-5") == [(values[i], i) for i in range(15, 20)], "-o -5 = the last five"
    assert read("7") == [(values[i], i) for i in range(7, 20)], "-o 7 = from offset 7"
    assert read("end") == [], "-o end with -e reads nothing"
    assert read("beginning", "-c", "3") == [(values[i], i) for i in range(3)]
    assert read("-25") == [(v, i) for i, v in enumerate(values)], "-o -25 on 20 records starts at 0"
    # A partition that has no records: other partitions of the topic stay empty.
    assert consume(module_broker.bootstrap, topic, 1, "beginning") == []


def test_tail_from_end_sees_only_new_records(module_broker):
    topic = unique_topic("kcat-tail")
    produce(module_broker.bootstrap, topic, 0, [f"old{i}" for i in range(10)])
    tail = subprocess.Popen(["kcat", "-C", "-q", "-b", module_broker.bootstrap, "-t", topic, "-p", "0",
                             "-o", "end", "-c", "1", "-f", CONSUME_FORMAT],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        # kcat resolves "end" asynchronously, so keep writing markers until it sees one.
        deadline = time.monotonic() + 30
        n = 0
        while tail.poll() is None and time.monotonic() < deadline:
            produce(module_broker.bootstrap, topic, 0, [f"new{n}"])
            n += 1
            try:
                tail.wait(timeout=1.0)
            except subprocess.TimeoutExpired:
                pass
        assert tail.poll() == 0, f"tailing kcat did not exit 0 within 30 s (rc {tail.poll()}); " \
                                 f"stderr: {tail.stderr.read().decode(errors='replace') if tail.poll() is not None else ''}"
        [(key, value, offset)] = parse_kso(tail.stdout.read().decode().splitlines())
        assert value.startswith("new"), f"-o end returned an old record: {value}@{offset}"
        assert offset == 10 + int(value[3:]), f"{value} at offset {offset}"
    finally:
        if tail.poll() is None:
            tail.kill()
            tail.wait(timeout=5)


def test_timestamps_and_offset_for_time(module_broker):
    topic = unique_topic("kcat-ts")
    windows = []
    for batch in range(3):
        before = now_ms()
        produce(module_broker.bootstrap, topic, 2, [f"b{batch}-{i}" for i in range(5)])
        windows.append((before, now_ms()))
        time.sleep(0.05)

    lines = consume(module_broker.bootstrap, topic, 2, "beginning", "%T|%o|%s\\n")
    rows = [(int(t), int(o), s) for t, o, s in (line.split("|", 2) for line in lines)]
    assert [o for _, o, _ in rows] == list(range(15))
    assert [s for _, _, s in rows] == [f"b{b}-{i}" for b in range(3) for i in range(5)]
    for ts, offset, _ in rows:
        lo, hi = windows[offset // 5]
        assert lo - 1000 <= ts <= hi + 1000, f"offset {offset}: CreateTime {ts} outside produce window {lo}..{hi}"
    stamps = [t for t, _, _ in rows]
    assert stamps == sorted(stamps), "timestamps of one producer go backwards"
    assert stamps[5] > stamps[4] and stamps[10] > stamps[9], "batches must have distinct times for this test"

    for target in (5, 10):
        got = consume(module_broker.bootstrap, topic, 2, f"s@{stamps[target]}", "%o\\n")
        assert got and int(got[0]) == target, f"-o s@{stamps[target]} started at {got[:1]}, want {target}"
        assert [int(o) for o in got] == list(range(target, 15))
    assert consume(module_broker.bootstrap, topic, 2, f"s@{stamps[-1] + 1}", "%o\\n") == [], \
        "a timestamp after every record reads nothing"
