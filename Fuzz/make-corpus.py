#!/usr/bin/env python3
"""Writes the golden-byte seeds of Fuzz/corpus/ (docs/decisions.md D80).

FuzzFrames: every request and response frame of Tests/KafkaMessagesTests/Golden*Frames.swift
(frames real clients sent, and kafka-python's responses), in FuzzFrames' input format: each
alone (decoded directly) and a few streams through the frame decoder.
FuzzRecordBatch: the kafka-python reference batches of Tests/KafkaWireTests/RecordBatchBuilderTests.swift,
and the batches real clients wrote with every codec (Tests/KafkaWireTests/CompressionCodecTests.swift).
FuzzStorageFiles and FuzzMetadata seeds are built by the targets themselves with the production
encoders (RUNNEL_FUZZ_WRITE_SEEDS, see scripts/fuzz.sh --write-seeds).

Run from the repository root: python3 Fuzz/make-corpus.py
"""
import os
import re
import struct

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "Fuzz", "corpus")

FRAME = re.compile(r'GoldenFrame\(apiKey: (\d+), apiVersion: (\d+), client: "[^"]*", scenario: "([^"]*)", hex: """(.*?)"""',
                   re.S)


def golden_frames(name):
    with open(os.path.join(ROOT, "Tests", "KafkaMessagesTests", name)) as f:
        text = f.read()
    for key, version, scenario, hexdigits in FRAME.findall(text):
        yield int(key), int(version), scenario, bytes.fromhex("".join(hexdigits.split()))


def swift_hex_expression(expression):
    """The bytes of a `[UInt8](batchHex: "…" + String(repeating: "6b", count: 199) + …)` argument."""
    expression = re.sub(r'String\(repeating: "([0-9a-f]*)", count: (\d+)\)',
                        lambda m: '"' + m.group(1) * int(m.group(2)) + '"', expression)
    return bytes.fromhex("".join(re.findall(r'"([0-9a-f]*)"', expression)))


def reference_batches():
    with open(os.path.join(ROOT, "Tests", "KafkaWireTests", "RecordBatchBuilderTests.swift")) as f:
        text = f.read()
    for name, expression in re.findall(r'static let (kafkaPython\w+) = \[UInt8\]\(batchHex:(.*?)\)\n', text, re.S):
        yield name, swift_hex_expression(expression)


def codec_batches():
    with open(os.path.join(ROOT, "Tests", "KafkaWireTests", "CompressionCodecTests.swift")) as f:
        text = f.read()
    for client, codec, expression in re.findall(r'GoldenBatch\(client: "(\w+)", codec: \.(\w+), hex:(.*?)\),\n', text, re.S):
        yield f"codec-{client}-{codec}", swift_hex_expression(expression)


def write(target, name, data):
    directory = os.path.join(CORPUS, target)
    os.makedirs(directory, exist_ok=True)
    with open(os.path.join(directory, name), "wb") as f:
        f.write(data)


def main():
    sized = lambda frame: struct.pack(">i", len(frame)) + frame
    requests = list(golden_frames("GoldenRequestFrames.swift"))
    for key, version, scenario, frame in requests:
        write("FuzzFrames", f"req-{key}-v{version}-{scenario}", bytes([2, 0]) + frame)
    # Frames in one stream through the frame decoder: all at once, and 7 bytes at a time.
    write("FuzzFrames", "req-stream", bytes([0, 0]) + b"".join(sized(f) for k, v, s, f in requests[::8]))
    write("FuzzFrames", "req-stream-chunked", bytes([0, 7]) + sized(requests[0][3]) + sized(requests[-1][3]))
    for key, version, scenario, frame in golden_frames("GoldenResponseFrames.swift"):
        write("FuzzFrames", f"resp-{key}-v{version}-{scenario}", bytes([3, 0]) + struct.pack(">hh", key, version) + frame)
    # The frame decoder's path: every response frame of one key in one stream.
    write("FuzzFrames", "resp-stream-3", bytes([1, 0]) + struct.pack(">hh", 3, 12)
          + b"".join(sized(f) for k, v, s, f in golden_frames("GoldenResponseFrames.swift") if (k, v) == (3, 12)))
    batches = dict(reference_batches())
    for name, batch in batches.items():
        write("FuzzRecordBatch", name, bytes([0]) + batch)
        write("FuzzRecordBatch", name + "-fixcrc", bytes([1]) + batch)
    write("FuzzRecordBatch", "two-batches", bytes([0]) + batches["kafkaPythonIdempotent"] + batches["kafkaPythonGzip"])
    codecs = dict(codec_batches())
    for name, batch in codecs.items():
        write("FuzzRecordBatch", name, bytes([0]) + batch)
        if name.startswith("codec-aio-") or name.startswith("codec-ck-"):
            # CRCs repaired after each mutation, so changes inside the compressed data get decoded.
            write("FuzzRecordBatch", name + "-fixcrc", bytes([1]) + batch)
    write("FuzzRecordBatch", "codec-mixed", bytes([1]) + codecs["codec-ck-snappy"] + codecs["codec-kp-lz4"]
          + codecs["codec-aio-zstd"])


if __name__ == "__main__":
    main()
