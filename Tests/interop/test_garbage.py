"""Garbage on the port: a bad connection is dropped, the broker keeps serving every other one.

After each kind of garbage: the process is alive, a connection opened before the garbage still
gets answers, and a fresh confluent-kafka client produces and consumes.
"""
from __future__ import annotations

import random
import struct

import pytest

from interop_support import (Reader, by_partition, ck_consume, ck_create_topic, ck_produce, connect,
                             i32, make_records, now_ms, parse_api_versions_v0_body, recv_frame,
                             request_frame, unique_topic, wait_closed, assert_same_log)


def random_bytes(seed: int) -> bytes:
    return random.Random(seed).randbytes(4096)


# (garbage bytes, must the broker close the connection by itself?)
CASES = {
    "random-1": (random_bytes(1), False),
    "random-2": (random_bytes(2), False),
    "random-3": (random_bytes(3), False),
    "huge-size-prefix": (struct.pack(">I", 0x7FFFFFFF) + b"\x00\x12\x00\x00" + b"x" * 64, True),
    "negative-size-prefix": (struct.pack(">I", 0x80000000) + b"y" * 64, True),
    "minus-one-size-prefix": (b"\xff\xff\xff\xff" + b"z" * 64, True),
    "zero-size-frame": (i32(0), True),
    "unknown-api-key": (request_frame(9999, 0, 77, b"\x00" * 8), True),
    "negative-api-key": (request_frame(-2, 0, 78), True),
    "header-cut-short": (i32(3) + b"\x00\x12\x00", True),
    "truncated-then-close": (i32(100) + request_frame(18, 0, 79)[4:14], False),
}


def api_versions_ok(sock, correlation_id: int) -> None:
    sock.sendall(request_frame(18, 0, correlation_id))
    r = Reader(recv_frame(sock))
    assert r.i32() == correlation_id
    assert parse_api_versions_v0_body(r)[0] == 0


@pytest.mark.parametrize("name", list(CASES))
def test_garbage_leaves_broker_serving(module_broker, name):
    garbage, must_close = CASES[name]
    with connect(module_broker.bootstrap) as bystander:
        api_versions_ok(bystander, 1)

        with connect(module_broker.bootstrap) as bad:
            try:
                bad.sendall(garbage)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the broker may close before reading everything
            if must_close:
                how, received = wait_closed(bad, timeout=10)
                assert received == b"", f"broker answered garbage '{name}' with {received[:64].hex()}"

        assert module_broker.alive(), f"broker died after '{name}'"
        api_versions_ok(bystander, 2)

    topic = unique_topic(f"garbage-{name}")
    ck_create_topic(module_broker.bootstrap, topic, 1)
    records = make_records(topic, 1, 20, now_ms() - 10_000)
    assert ck_produce(module_broker.bootstrap, topic, records) == {0: list(range(20))}
    assert_same_log(by_partition(records), ck_consume(module_broker.bootstrap, topic, [0], {0: 20}))
    assert module_broker.alive()


def test_many_garbage_connections_at_once(module_broker):
    socks = []
    try:
        for seed in range(50):
            s = connect(module_broker.bootstrap)
            socks.append(s)
            try:
                s.sendall(random_bytes(100 + seed))
            except (BrokenPipeError, ConnectionResetError):
                pass
    finally:
        for s in socks:
            s.close()
    with connect(module_broker.bootstrap) as s:
        api_versions_ok(s, 3)
    assert module_broker.alive()
