#!/usr/bin/env bash
# Compaction's figures (issue 13; docs/decisions.md D153), one broker per cleaner budget:
#   - a plain segment write: dd of the dirty data's size into the broker's data dir, fdatasync'd;
#   - `runnel bench produce` of the same amount of keyed records (1,000 keys, 1 KB values) to a
#     topic written as `delete`, so nothing cleans it yet;
#   - produce p99 with the cleaner idle: `runnel bench e2e` (acks=all, paced) on another topic;
#   - the topic switched to `compact` (`runnel topic alter`): as soon as the cleaner starts on it,
#     the same e2e again (cleaner busy); then the clean's own figures from the broker's log line
#     (bytes of log cleaned, bytes read and written, seconds).
# The cleaner's rate is log bytes cleaned per second, and its ratio to the dd rate of the same round.
#
#     Benchmarks/cleaner.sh                                   # ~5 min; .build/release/runnel
#     CLEANER_BENCH_BUDGETS=unlimited:64 CLEANER_BENCH_E2E_RECORDS=6000 Benchmarks/cleaner.sh   # quick
#     RUNNEL_BIN=/path/to/runnel Benchmarks/cleaner.sh
#
# One JSON line per round goes to Benchmarks/last-cleaner-run.jsonl (CLEANER_BENCH_OUT), and a
# table to stdout. Every broker started here is stopped by its PID, also on failure.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
BIN=${RUNNEL_BIN:-$HERE/../.build/release/runnel}
# BUDGET:MB pairs: the cleaner's budget (bytes/s, or unlimited) and the dirty data written for it,
# sized so that a budgeted clean outlasts the busy e2e run (a clean reads each byte about twice).
BUDGETS=${CLEANER_BENCH_BUDGETS:-"unlimited:1024 100000000:512 30000000:160"}
E2E_RECORDS=${CLEANER_BENCH_E2E_RECORDS:-20000}
E2E_RATE=${CLEANER_BENCH_E2E_RATE:-2000}
OUT=${CLEANER_BENCH_OUT:-$HERE/last-cleaner-run.jsonl}
[ -x "$BIN" ] || { echo "no runnel binary at $BIN (swift build -c release, or set RUNNEL_BIN)" >&2; exit 1; }

log() { echo "[$(date +%T)] $*" >&2; }
now_ns() { date +%s%N; }
BROKER_PID=""
WORK=""
cleanup() {
    if [ -n "$BROKER_PID" ] && kill -0 "$BROKER_PID" 2>/dev/null; then
        kill -TERM "$BROKER_PID" 2>/dev/null || true
        for _ in $(seq 1 100); do kill -0 "$BROKER_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$BROKER_PID" 2>/dev/null || true
    fi
    BROKER_PID=""
    [ -z "$WORK" ] || rm -rf "$WORK"
    WORK=""
}
trap cleanup EXIT

# wait_for_line FILE PATTERN SECONDS: bounded wait for a line in the broker's log.
wait_for_line() {
    local deadline=$(( $(date +%s) + $3 ))
    while ! grep -q -- "$2" "$1"; do
        [ "$(date +%s)" -lt "$deadline" ] || { log "timed out after $3 s waiting for '$2'"; tail -20 "$1" >&2; return 1; }
        sleep 0.05
    done
}

: > "$OUT"
for pair in $BUDGETS; do
    budget=${pair%%:*}
    MB=${pair##*:}
    WORK=$(mktemp -d /tmp/runnel-cleaner-bench.XXXXXX)
    PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
    BOOT="127.0.0.1:$PORT"
    rate=1.7976931348623157E308
    [ "$budget" = unlimited ] || rate=$budget
    : > "$WORK/broker.log"
    "$BIN" broker --override "listeners=PLAINTEXT://127.0.0.1:$PORT" --override "log.dirs=$WORK/data" \
        --override "log.cleaner.backoff.ms=200" --override "log.cleaner.io.max.bytes.per.second=$rate" \
        > "$WORK/broker.log" 2>&1 &
    BROKER_PID=$!
    wait_for_line "$WORK/broker.log" "ready: listeners" 30
    log "budget $budget: broker $BROKER_PID on $BOOT"

    # A plain segment write of the same size, in the same data directory.
    start=$(now_ns)
    dd if=/dev/zero of="$WORK/data/plain-write" bs=1M count="$MB" conv=fdatasync status=none
    dd_s=$(python3 -c "print(($(now_ns) - $start) / 1e9)")
    rm -f "$WORK/data/plain-write"

    "$BIN" topic create dirty -b "$BOOT" -c cleanup.policy=delete -c segment.bytes=16777216 > /dev/null
    produce=$("$BIN" bench produce -b "$BOOT" --topic dirty --records $(( MB * 1000 )) --record-size 1000 \
        --keys 1000 --acks 1 --progress-ms 0 --json)
    sleep 3
    idle=$("$BIN" bench e2e -b "$BOOT" --topic lat-idle --records "$E2E_RECORDS" --record-size 100 \
        --rate "$E2E_RATE" --acks all --progress-ms 0 --json)

    "$BIN" topic alter dirty -b "$BOOT" -c cleanup.policy=compact > /dev/null
    wait_for_line "$WORK/broker.log" "cleaner: cleaning dirty-0" 30
    busy_start=$(now_ns)
    busy=$("$BIN" bench e2e -b "$BOOT" --topic lat-busy --records "$E2E_RECORDS" --record-size 100 \
        --rate "$E2E_RATE" --acks all --progress-ms 0 --json)
    busy_s=$(python3 -c "print(($(now_ns) - $busy_start) / 1e9)")
    clean_done_before_e2e=$(grep -q "cleaner: cleaned dirty-0" "$WORK/broker.log" && echo true || echo false)
    wait_for_line "$WORK/broker.log" "cleaner: cleaned dirty-0" 900
    line=$(grep -m1 "cleaner: cleaned dirty-0" "$WORK/broker.log")

    python3 - "$budget" "$MB" "$dd_s" "$busy_s" "$clean_done_before_e2e" "$line" "$produce" "$idle" "$busy" >> "$OUT" <<'EOF'
import json, re, sys
budget, mb, dd_s, busy_s, done_early, line, produce, idle, busy = sys.argv[1:]
m = re.search(r"(\d+) → (\d+) bytes; read (\d+) and wrote (\d+) bytes in ([\d.]+) s", line)
before, after, read, wrote, seconds = (float(g) for g in m.groups())
dd_mb_s = int(mb) * 1048576 / float(dd_s) / 1e6
clean_mb_s = before / seconds / 1e6
print(json.dumps({
    "budget": budget, "dirty_mb": int(mb),
    "dd_mb_s": round(dd_mb_s, 1),
    "produce_mb_s": json.loads(produce)["mb_per_s"],
    "clean_bytes_before": int(before), "clean_bytes_after": int(after),
    "clean_bytes_read": int(read), "clean_bytes_written": int(wrote), "clean_s": seconds,
    "clean_mb_s": round(clean_mb_s, 1), "clean_read_mb_s": round(read / seconds / 1e6, 1),
    "clean_vs_dd": round(clean_mb_s / dd_mb_s, 3),
    "e2e_idle": json.loads(idle)["latency_ms"], "e2e_busy": json.loads(busy)["latency_ms"],
    "e2e_busy_s": round(float(busy_s), 2),
    "clean_finished_during_busy_e2e": done_early == "true",
}))
EOF
    log "budget $budget: $(tail -1 "$OUT")"
    cleanup
done

python3 - "$OUT" <<'EOF'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print("| cleaner budget | dirty MB | dd write MB/s | produce MB/s | clean MB/s (log) | clean / dd | clean s | busy e2e s | e2e p99 idle ms | e2e p99 busy ms | e2e p99.9 idle / busy ms |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for r in rows:
    print(f"| {r['budget']} | {r['dirty_mb']} | {r['dd_mb_s']} | {round(r['produce_mb_s'], 1)} | {r['clean_mb_s']} | {r['clean_vs_dd']} | {r['clean_s']:.1f} | "
          f"{r['e2e_busy_s']} | {r['e2e_idle']['p99']} | {r['e2e_busy']['p99']} | {r['e2e_idle']['p99_9']} / {r['e2e_busy']['p99_9']} |")
EOF
