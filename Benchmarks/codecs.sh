#!/usr/bin/env bash
# Produce throughput, compression ratio and broker CPU per record for each codec (docs/decisions.md
# D116): one release broker on a free loopback port, `runnel bench produce` of JSON-like 100-byte
# records (--payload json, every value different) with --compression none, gzip, snappy, lz4 and
# zstd, interleaved over rounds, plus one case where the producer sends uncompressed batches to a
# topic with compression.type=zstd (the broker recompresses). Broker CPU is utime+stime from
# /proc/<pid>/stat around each run, divided by the records produced.
#
#   Benchmarks/codecs.sh                    # 3 rounds of 500,000 records per case (~2-4 minutes)
#   Benchmarks/codecs.sh --rounds 5 --records 1000000
#
# Prints one JSON line per run and a table of medians. Needs `swift build -c release` first
# (it uses .build/release/runnel, or RUNNEL_BIN).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

rounds=3
records=500000
while [[ $# -gt 0 ]]; do
    case "$1" in
        --rounds) rounds="$2"; shift 2 ;;
        --records) records="$2"; shift 2 ;;
        -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
        *) echo "codecs.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done

RUNNEL="${RUNNEL_BIN:-.build/release/runnel}"
[[ -x "$RUNNEL" ]] || { echo "codecs.sh: $RUNNEL not found; run swift build -c release" >&2; exit 1; }
WORK="$(mktemp -d /tmp/runnel-codecs.XXXXXX)"
PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
BOOT="127.0.0.1:$PORT"
broker_pid=""
cleanup() {
    if [[ -n "$broker_pid" ]] && kill -0 "$broker_pid" 2>/dev/null; then
        kill -TERM "$broker_pid" 2>/dev/null || true
        for _ in $(seq 1 100); do kill -0 "$broker_pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$broker_pid" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

"$RUNNEL" broker --override "listeners=PLAINTEXT://$BOOT" --override "log.dirs=$WORK/data" > "$WORK/broker.log" 2>&1 &
broker_pid=$!
for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break
    kill -0 "$broker_pid" 2>/dev/null || { cat "$WORK/broker.log" >&2; exit 1; }
    sleep 0.1
done

ticks() {  # utime + stime of the broker, in clock ticks
    awk '{ print $14 + $15 }' "/proc/$broker_pid/stat"
}
HZ="$(getconf CLK_TCK)"

cases=(none gzip snappy lz4 zstd recompress-zstd)
results="$WORK/results.jsonl"
for round in $(seq 1 "$rounds"); do
    for case in "${cases[@]}"; do
        topic="codec-$case-r$round"
        codec="$case"
        if [[ "$case" == recompress-zstd ]]; then
            codec=none
            "$RUNNEL" topic create "$topic" -b "$BOOT" -p 1 -c compression.type=zstd > /dev/null
        else
            "$RUNNEL" topic create "$topic" -b "$BOOT" -p 1 > /dev/null
        fi
        before="$(ticks)"
        line="$(timeout 600 "$RUNNEL" bench produce -b "$BOOT" --topic "$topic" --records "$records" \
            --record-size 100 --acks 1 --linger-ms 5 --batch-bytes 1000000 --compression "$codec" \
            --payload json --json --progress-ms 0)"
        after="$(ticks)"
        cpu_us=$(( (after - before) * 1000000 / HZ ))
        echo "$line" | python3 -c '
import json, sys
r = json.loads(sys.stdin.read())
r["case"], r["round"], r["broker_cpu_us"] = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
print(json.dumps(r))' "$case" "$round" "$cpu_us" | tee -a "$results"
        "$RUNNEL" topic delete "$topic" -b "$BOOT" > /dev/null
    done
done

python3 - "$results" <<'EOF'
import json, statistics, sys
runs = [json.loads(line) for line in open(sys.argv[1])]
cases = list(dict.fromkeys(r["case"] for r in runs))
def median(case, key):
    return statistics.median(r[key] for r in runs if r["case"] == case)
base = median("none", "records_per_s")
print(f"\n{'case':<16}{'records/s':>12}{'÷ none':>9}{'ratio':>8}{'MB/s sent':>11}{'broker CPU µs/record':>22}")
for case in cases:
    rps = median(case, "records_per_s")
    ratio = median(case, "compression_ratio") if all("compression_ratio" in r for r in runs if r["case"] == case) else 0
    sent = statistics.median(r["batch_bytes_sent"] / r["seconds"] / 1e6 for r in runs if r["case"] == case)
    cpu = statistics.median(r["broker_cpu_us"] / r["records"] for r in runs if r["case"] == case)
    print(f"{case:<16}{rps:>12,.0f}{rps / base:>9.2f}{ratio:>8.2f}{sent:>11.1f}{cpu:>22.3f}")
print(f"(medians of {len(runs) // len(cases)} rounds; ratio = batch bytes before compression ÷ as sent;"
      f" recompress-zstd: the producer sends uncompressed, the topic stores zstd)")
EOF
