"""Reads Runnel's segment files independently of the broker (scenario 9).

A `.log` is RecordBatch v2 batches back to back (Kafka's format): baseOffset int64, batchLength
int32, partitionLeaderEpoch int32, magic int8, crc uint32 (CRC-32C of everything from the
attributes at byte 21 to the batch's end), attributes int16, lastOffsetDelta int32, ... The
active segment is preallocated, so the data ends where 12 zero bytes start (or the file ends).
A `.index` entry is 8 bytes: offset relative to the segment's base (int32) and file position
(int32), both big-endian; a preallocated index ends at its first all-zero entry.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

_TABLE = []
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ 0x82F63B78 if _c & 1 else _c >> 1
    _TABLE.append(_c)


def crc32c(data: bytes) -> int:
    crc = 0xFFFFFFFF
    table = _TABLE
    for b in data:
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


assert crc32c(b"123456789") == 0xE3069283


@dataclass
class Batch:
    position: int
    size: int
    base_offset: int
    last_offset: int


def walk(path: Path) -> tuple[list[Batch], int, str | None]:
    """The valid batches from the start of a `.log`, the position where they end, and why the
    walk stopped there (None: the data ended — end of file or zeros where a batch would start).
    Reads batch by batch: an active segment is a sparse file of `log.segment.bytes`."""
    batches: list[Batch] = []
    pos = 0
    expected = None
    with open(path, "rb") as f:
        while True:
            f.seek(pos)
            head = f.read(61)
            if not head or head[:12] == bytes(len(head[:12])):
                return batches, pos, None
            if len(head) < 61:
                return batches, pos, "too few bytes for a batch header"
            base, length, _epoch, magic, crc, _attrs, last_delta = struct.unpack_from(">qiibIhi", head, 0)
            size = 12 + length
            if length < 49:
                return batches, pos, f"batchLength {length}"
            body = head + f.read(size - 61)
            if len(body) < size:
                return batches, pos, f"batchLength {length} does not fit"
            if magic != 2:
                return batches, pos, f"magic {magic}"
            if crc32c(body[21:]) != crc:
                return batches, pos, "CRC-32C mismatch"
            if expected is not None and base < expected:
                return batches, pos, "offsets go back"
            batches.append(Batch(pos, size, base, base + last_delta))
            expected = base + last_delta + 1
            pos += size


def batch_at(path: Path, pos: int) -> Batch | None:
    """The batch at `pos` when a whole, valid one starts there."""
    with open(path, "rb") as f:
        f.seek(pos)
        head = f.read(61)
        if len(head) < 61:
            return None
        base, length, _epoch, magic, crc, _attrs, last_delta = struct.unpack_from(">qiibIhi", head, 0)
        if length < 49 or magic != 2:
            return None
        body = head + f.read(12 + length - 61)
        if len(body) < 12 + length or crc32c(body[21:]) != crc:
            return None
        return Batch(pos, 12 + length, base, base + last_delta)


def zero(path: Path, start: int, stop: int) -> None:
    with open(path, "r+b") as f:
        f.seek(start)
        f.write(bytes(stop - start))


def active_segment(partition_dir: Path) -> Path:
    logs = sorted(partition_dir.glob("*.log"))
    assert logs, f"no segment in {partition_dir}"
    return logs[-1]


def index_entries(index_path: Path) -> list[tuple[int, int]]:
    data = index_path.read_bytes()
    entries = []
    for i in range(0, len(data) - len(data) % 8, 8):
        rel, pos = struct.unpack_from(">ii", data, i)
        if rel == 0 and pos == 0:   # never a real entry: the first one comes after 4 KiB of log
            break
        entries.append((rel, pos))
    return entries
