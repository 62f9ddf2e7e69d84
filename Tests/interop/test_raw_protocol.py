"""Hand-built frames: ApiVersions headers and bodies byte for byte, the unsupported-version rules
(PROTOCOL.md §3), and in-order responses on one connection."""
from __future__ import annotations

import pytest

from interop_support import (Reader, compact_string, connect, parse_api_versions_v0_body,
                             parse_api_versions_v3_body, recv_frame, request_frame, wait_closed)

API_VERSIONS = 18
PRODUCE, FETCH, LIST_OFFSETS, METADATA = 0, 1, 2, 3


def api_versions_v3_body() -> bytes:
    return compact_string("runnel-interop") + compact_string("1.0") + b"\x00"


def check_advertised(keys: dict[int, tuple[int, int]]) -> None:
    for key in (PRODUCE, FETCH, LIST_OFFSETS, METADATA, API_VERSIONS):
        assert key in keys, f"api key {key} not advertised: {sorted(keys)}"
        lo, hi = keys[key]
        assert 0 <= lo <= hi, f"api key {key} range {lo}..{hi}"
    assert keys[API_VERSIONS][0] == 0 and keys[API_VERSIONS][1] >= 3, f"ApiVersions range {keys[API_VERSIONS]}"
    # librdkafka 2.0.2 sends gzip/snappy/lz4 only if Produce v0 is advertised (PROTOCOL.md §1a).
    assert keys[PRODUCE][0] == 0, f"Produce must be advertised from v0, got {keys[PRODUCE]}"


def test_api_versions_v0(module_broker):
    with connect(module_broker.bootstrap) as s:
        s.sendall(request_frame(API_VERSIONS, 0, 1001))
        r = Reader(recv_frame(s))
        assert r.i32() == 1001, "correlation id"
        error, keys = parse_api_versions_v0_body(r)
        assert r.remaining() == 0, f"{r.remaining()} unexpected trailing bytes after a v0 body"
        assert error == 0
        check_advertised(keys)


def try_parse_v3(body: bytes):
    """(error, keys, throttle) if `body` is exactly one ApiVersions v3 body, else None."""
    r = Reader(body)
    try:
        parsed = parse_api_versions_v3_body(r)
    except AssertionError:
        return None
    return parsed if r.remaining() == 0 else None


def test_api_versions_v3_header_has_no_tag_byte(module_broker):
    with connect(module_broker.bootstrap) as s:
        s.sendall(request_frame(API_VERSIONS, 3, 1002, api_versions_v3_body(), header_version=2))
        frame = recv_frame(s)
    assert Reader(frame).i32() == 1002, "correlation id"
    parsed = try_parse_v3(frame[4:])
    if parsed is None:
        assert not (frame[4:5] == b"\x00" and try_parse_v3(frame[5:]) is not None), \
            "ApiVersions v3 response has a tagged-field byte after the correlation id; " \
            "ApiVersions always uses response header v0 (KIP-511)"
        pytest.fail(f"ApiVersions v3 response is not one v3 body: {frame[:120].hex()}")
    error, keys, throttle = parsed
    assert error == 0
    assert throttle >= 0
    check_advertised(keys)


def test_api_versions_unsupported_version_answers_35_with_v0_body(module_broker):
    with connect(module_broker.bootstrap) as s:
        s.sendall(request_frame(API_VERSIONS, 99, 1003, api_versions_v3_body(), header_version=2))
        r = Reader(recv_frame(s))
        assert r.i32() == 1003, "correlation id (response header v0, no tag byte)"
        error, keys = parse_api_versions_v0_body(r)
        assert r.remaining() == 0, f"{r.remaining()} trailing bytes: the error reply is a v0 body"
        assert error == 35, f"error {error}, want 35 UNSUPPORTED_VERSION"
        assert API_VERSIONS in keys, f"the error reply must list ApiVersions' own range, got {keys}"
        assert keys[API_VERSIONS][0] == 0 and keys[API_VERSIONS][1] >= 3, keys[API_VERSIONS]
        # The connection stays usable: the client retries with a supported version.
        s.sendall(request_frame(API_VERSIONS, 0, 1004))
        r = Reader(recv_frame(s))
        assert r.i32() == 1004
        assert parse_api_versions_v0_body(r)[0] == 0


@pytest.mark.parametrize("api_key", [METADATA, PRODUCE, FETCH])
def test_unsupported_version_of_other_api_closes_connection(module_broker, api_key):
    with connect(module_broker.bootstrap) as s:
        s.sendall(request_frame(api_key, 99, 1005, b"\x00" * 16, header_version=2))
        how, received = wait_closed(s, timeout=10)
        assert received == b"", f"broker answered api {api_key} v99 with {received[:64].hex()} instead of closing"
    assert module_broker.alive()


def test_pipelined_requests_answer_in_order(module_broker):
    with connect(module_broker.bootstrap) as s:
        s.sendall(request_frame(API_VERSIONS, 0, 7)
                  + request_frame(API_VERSIONS, 3, 8, api_versions_v3_body(), header_version=2)
                  + request_frame(API_VERSIONS, 1, 9)
                  + request_frame(API_VERSIONS, 2, 10, client_id=None))
        ids = []
        for version in (0, 3, 1, 2):
            r = Reader(recv_frame(s))
            ids.append(r.i32())
            if version == 3:
                assert parse_api_versions_v3_body(r)[0] == 0
            else:
                assert parse_api_versions_v0_body(r)[0] == 0
                if version >= 1:
                    assert r.i32() >= 0  # throttle_time_ms
            assert r.remaining() == 0, f"ApiVersions v{version}: {r.remaining()} trailing bytes"
        assert ids == [7, 8, 9, 10]
