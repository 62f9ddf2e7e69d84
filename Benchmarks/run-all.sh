#!/usr/bin/env bash
# The one reproducing command behind BENCHMARKS.md.
#
#   Benchmarks/run-all.sh            # ~12–15 min: 5 interleaved rounds, then the footprint
#   Benchmarks/run-all.sh --quick    # ~3 min: 3 short rounds (indicative only)
#   Benchmarks/run-all.sh --cluster  # then also Benchmarks/cluster.sh (3-node replication, ~5–7 min)
#   options: --runs N  --out FILE  --keep (keep the work directory)  --port P
#   env:     RUNNEL_BIN=path  use this runnel binary instead of building .build/release/runnel
#
# In one run on this machine it measures
#   - the machine's own limits: memcpy (C), page-cache write (dd), loopback TCP (iperf3);
#   - a peer: Redis Streams XADD (redis-benchmark, pipelined, AOF appendfsync everysec);
#   - Runnel (single node, one partition per topic) driven both by `runnel bench` and by the C
#     librdkafka load generator in Benchmarks/loadgen, so the Swift client is never the only
#     witness: produce 100 B acks=1 and acks=all, produce 16 KiB acks=1, consume 100 B and
#     16 KiB, end-to-end latency at 10,000 records/s with acks=all;
#   - Runnel's footprint: start-to-ready, idle RSS, RSS under load, recovery of 1 GiB after
#     kill -9.
# Every round runs every measurement once, A/B pairs alternate which tool goes first, and the
# report quotes medians over the rounds (these machines are noisy). Raw results (one JSON line
# per measurement) go to Benchmarks/last-run.jsonl; Benchmarks/report.py turns them and the
# hand-written Benchmarks/BENCHMARKS-notes.md into BENCHMARKS.md.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# log, now_ms, emit, port_accepts, measure_iperf
source "$ROOT/Benchmarks/lib.sh"
QUICK=0
RUNS=""
OUT="$ROOT/BENCHMARKS.md"
KEEP=0
CLUSTER=0
PORT=29092
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) QUICK=1 ;;
        --runs) RUNS=$2; shift ;;
        --out) OUT=$2; shift ;;
        --keep) KEEP=1 ;;
        --cluster) CLUSTER=1 ;;
        --port) PORT=$2; shift ;;
        -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
        *) echo "run-all.sh: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done

if [ "$QUICK" = 1 ]; then
    RUNS=${RUNS:-3}
    N100=1000000; N16K=16384; NE2E=20000; DD_MB=256; IPERF_S=2; REDIS_N=300000; RECOVERY_RUNS=1
else
    RUNS=${RUNS:-5}
    N100=5000000; N16K=65536; NE2E=50000; DD_MB=1024; IPERF_S=4; REDIS_N=1000000; RECOVERY_RUNS=3
fi
# 16 KiB produce writes as many bytes as dd (N16K × 16 KiB = DD_MB MiB), so that both meet the
# same dirty-page limits.
E2E_RATE=10000
RECOVERY_RECORDS=65536 # 16 KiB each: 1 GiB of record values
REDIS_PORT=$((PORT + 1))
IPERF_PORT=$((PORT + 2))
BOOT=127.0.0.1:$PORT

WORK=$(mktemp -d "${TMPDIR:-/tmp}/runnel-bench.XXXXXX")
RESULTS=$WORK/results.jsonl
: > "$RESULTS"
BROKER_PID=""
REDIS_PID=""
IPERF_PID=""
SAMPLER_PID=""

cleanup() {
    for pid in $SAMPLER_PID $IPERF_PID $REDIS_PID $BROKER_PID; do
        kill "$pid" 2>/dev/null || true
    done
    wait 2>/dev/null || true
    if [ "$KEEP" = 1 ]; then log "work directory kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

# ---------- tools ----------

install_tools() {
    local need=()
    command -v iperf3 >/dev/null || need+=(iperf3)
    command -v redis-server >/dev/null || need+=(redis-server)
    command -v redis-benchmark >/dev/null || need+=(redis-tools)
    [ -f /usr/include/librdkafka/rdkafka.h ] || need+=(librdkafka-dev)
    command -v gcc >/dev/null || need+=(gcc)
    command -v python3 >/dev/null || need+=(python3)
    if [ ${#need[@]} -gt 0 ]; then
        log "installing ${need[*]}"
        local sudo=""
        [ "$(id -u)" = 0 ] || sudo=sudo
        $sudo apt-get update -q >&2
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${need[@]}" >&2
    fi
}

build() {
    if [ -n "${RUNNEL_BIN:-}" ]; then
        RUNNEL=$RUNNEL_BIN
    else
        log "building runnel (release)"
        (cd "$ROOT" && swift build -c release --product runnel >&2)
        RUNNEL=$ROOT/.build/release/runnel
    fi
    gcc -O2 -Wall -o "$WORK/loadgen" "$ROOT/Benchmarks/loadgen/loadgen.c" -lrdkafka -lpthread
    gcc -O2 -o "$WORK/memcpy" "$ROOT/Benchmarks/reference/memcpy.c"
    LOADGEN=$WORK/loadgen
}

# ---------- helpers ----------

# start_broker DATA_DIR: starts the broker, waits until its port accepts; sets READY_MS.
start_broker() {
    local started=$(now_ms)
    STARTED_MS=$started
    "$RUNNEL" broker --override "listeners=PLAINTEXT://$BOOT" --override "log.dirs=$1" >> "$WORK/broker.log" 2>&1 &
    BROKER_PID=$!
    while ! port_accepts "$PORT"; do
        kill -0 "$BROKER_PID" 2>/dev/null || { tail -20 "$WORK/broker.log" >&2; echo "broker died" >&2; exit 1; }
        [ $(( $(now_ms) - started )) -lt 60000 ] || { echo "broker not ready after 60 s" >&2; exit 1; }
        sleep 0.002
    done
    READY_MS=$(( $(now_ms) - started ))
}

stop_broker() {
    local signal=${1:-TERM}
    [ -n "$BROKER_PID" ] || return 0
    kill -"$signal" "$BROKER_PID" 2>/dev/null || true
    wait "$BROKER_PID" 2>/dev/null || true
    BROKER_PID=""
}

rss_kb() { awk -v key="$2:" '$1 == key { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }

# Samples the broker's RSS every 100 ms into $WORK/rss-peak (VmRSS and RssAnon maxima, kB).
start_sampler() {
    echo "0 0" > "$WORK/rss-peak"
    (
        peak=0; anon=0
        while kill -0 "$BROKER_PID" 2>/dev/null; do
            r=$(rss_kb "$BROKER_PID" VmRSS); a=$(rss_kb "$BROKER_PID" RssAnon)
            [ "${r:-0}" -gt "$peak" ] && peak=$r
            [ "${a:-0}" -gt "$anon" ] && anon=$a
            echo "$peak $anon" > "$WORK/rss-peak"
            sleep 0.1
        done
    ) &
    SAMPLER_PID=$!
}

create_topic() { "$RUNNEL" topic create "$1" -p 1 -b "$BOOT" > /dev/null; }
delete_topic() { "$RUNNEL" topic delete "$1" -b "$BOOT" > /dev/null 2>&1 || true; }

# run_tool CASE ROUND TOOL COMMAND...: runs a tool that prints one JSON line, records it.
run_tool() {
    local case=$1 round=$2 tool=$3; shift 3
    local out status=0
    out=$("$@" 2>> "$WORK/tools.log" | tail -1) || status=$?
    emit "$case" "$round" "$tool" "$status" "$out"
    [ "$status" = 0 ] || log "  $case/$tool failed (status $status): $(tail -1 "$WORK/tools.log")"
}

# ---------- limits and peer ----------

measure_memcpy() {
    local gbs
    gbs=$("$WORK/memcpy" | awk '{ for (i = 1; i <= NF; i++) if ($i == "GB/s") print $(i-1) }')
    emit memcpy "$1" c 0 "{\"gb_per_s\":$gbs}"
}

# measure_dd CASE ROUND: DD_MB MiB of zeros into a new file (no fsync), after a sync so that
# earlier dirty pages are not written back meanwhile.
measure_dd() {
    local line bytes seconds
    sync
    line=$(dd if=/dev/zero of="$WORK/dd.bin" bs=1M count="$DD_MB" 2>&1 | grep copied)
    rm -f "$WORK/dd.bin"
    bytes=$(echo "$line" | awk '{ print $1 }')
    seconds=$(echo "$line" | awk '{ print $(NF-3) }')
    emit "$1" "$2" dd 0 "{\"bytes\":$bytes,\"seconds\":$seconds,\"mb_per_s\":$(python3 -c "print(round($bytes / $seconds / 1e6, 1))")}"
}

measure_redis() {
    local value csv rps
    value=$(head -c 100 /dev/zero | tr '\0' 'x')
    redis-cli -p "$REDIS_PORT" DEL s > /dev/null
    csv=$(redis-benchmark -p "$REDIS_PORT" -n "$REDIS_N" -c 50 -P 64 --csv XADD s '*' f "$value" 2>/dev/null | tail -1)
    rps=$(echo "$csv" | awk -F'","' '{ print $2 }')
    emit redis_xadd "$1" redis-benchmark 0 "{\"records_per_s\":${rps:-0},\"records\":$REDIS_N}"
    redis-cli -p "$REDIS_PORT" DEL s > /dev/null
}

# ---------- runnel pairs ----------

# produce_one CASE ROUND TOOL N SIZE ACKS: one tool's produce run into a fresh topic.
produce_one() {
    local case=$1 round=$2 tool=$3 n=$4 size=$5 acks=$6
    local topic="b-$case-$tool-r$round"
    create_topic "$topic"
    if [ "$tool" = loadgen ]; then
        run_tool "$case" "$round" loadgen "$LOADGEN" produce -b "$BOOT" -t "$topic" -n "$n" -s "$size" \
            --acks "$acks" --linger-ms 5 --batch-bytes 1000000 --partition 0
    else
        run_tool "$case" "$round" runnel "$RUNNEL" bench produce -b "$BOOT" --topic "$topic" --records "$n" \
            --record-size "$size" --acks "$acks" --linger-ms 5 --batch-bytes 1000000 --json --progress-ms 0
    fi
}

# consume_one CASE ROUND TOOL N FROM_CASE: one tool reads what the same tool produced in FROM_CASE.
consume_one() {
    local case=$1 round=$2 tool=$3 n=$4 from=$5
    local topic="b-$from-$tool-r$round"
    if [ "$tool" = loadgen ]; then
        run_tool "$case" "$round" loadgen "$LOADGEN" consume -b "$BOOT" -t "$topic" -n "$n"
    else
        run_tool "$case" "$round" runnel "$RUNNEL" bench consume -b "$BOOT" --topic "$topic" --records "$n" \
            --json --progress-ms 0
    fi
}

# pair_order ROUND: the two tools, the first alternating from round to round (A B, B A, …).
pair_order() { if [ $(($1 % 2)) = 1 ]; then echo "loadgen runnel"; else echo "runnel loadgen"; fi; }

# produce_pair CASE ROUND N SIZE ACKS / consume_pair CASE ROUND N FROM_CASE: both tools on one
# workload, in alternating order.
produce_pair() {
    for tool in $(pair_order "$2"); do produce_one "$1" "$2" "$tool" "$3" "$4" "$5"; done
}

consume_pair() {
    for tool in $(pair_order "$2"); do consume_one "$1" "$2" "$tool" "$3" "$4"; done
}

# e2e_pair CASE ROUND ACKS
e2e_pair() {
    local case=$1 round=$2 acks=$3
    for tool in $(pair_order "$round"); do
        local topic="b-$case-$tool-r$round"
        create_topic "$topic"
        if [ "$tool" = loadgen ]; then
            run_tool "$case" "$round" loadgen "$LOADGEN" e2e -b "$BOOT" -t "$topic" -n "$NE2E" -s 100 \
                --rate "$E2E_RATE" --acks "$acks" --linger-ms 0 --partition 0
        else
            run_tool "$case" "$round" runnel "$RUNNEL" bench e2e -b "$BOOT" --topic "$topic" --records "$NE2E" \
                --record-size 100 --rate "$E2E_RATE" --acks "$acks" --json --progress-ms 0
        fi
        delete_topic "$topic"
    done
}

# 16 KiB: three writers of DD_MB MiB each — dd (the page-cache limit), the C generator and
# `runnel bench` — in an order that rotates from round to round. Each deletes what it wrote
# before the next starts (the tools after consuming it), and a first, discarded dd runs before
# them, so every writer finds the page cache in the same state: just after 1 GiB was freed. On
# this VM that state matters several-fold (see the notes).
large_section() {
    local round=$1
    measure_dd dd_write_first "$round"
    local writers
    case $((round % 3)) in
        0) writers="dd loadgen runnel" ;;
        1) writers="loadgen runnel dd" ;;
        *) writers="runnel dd loadgen" ;;
    esac
    for writer in $writers; do
        if [ "$writer" = dd ]; then
            measure_dd dd_write "$round"
        else
            produce_one produce_16k_acks1 "$round" "$writer" "$N16K" 16384 1
            consume_one consume_16k "$round" "$writer" "$N16K" produce_16k_acks1
            delete_topic "b-produce_16k_acks1-$writer-r$round"
        fi
    done
}

round() {
    local r=$1
    log "round $r/$RUNS: limits"
    measure_memcpy "$r"
    measure_iperf "$r"
    log "round $r/$RUNS: redis XADD"
    measure_redis "$r"
    log "round $r/$RUNS: produce 100 B acks=1"
    produce_pair produce_100_acks1 "$r" "$N100" 100 1
    log "round $r/$RUNS: consume 100 B"
    consume_pair consume_100 "$r" "$N100" produce_100_acks1
    for tool in loadgen runnel; do delete_topic "b-produce_100_acks1-$tool-r$r"; done
    log "round $r/$RUNS: produce 100 B acks=all"
    produce_pair produce_100_acksall "$r" "$N100" 100 all
    for tool in loadgen runnel; do delete_topic "b-produce_100_acksall-$tool-r$r"; done
    log "round $r/$RUNS: dd, produce and consume 16 KiB acks=1"
    large_section "$r"
    log "round $r/$RUNS: end-to-end at $E2E_RATE records/s, acks=all, then acks=1"
    e2e_pair e2e_10k_all "$r" all
    e2e_pair e2e_10k_acks1 "$r" 1
}

# ---------- footprint ----------

footprint() {
    local samples=$RUNS
    for i in $(seq 1 "$samples"); do
        local dir="$WORK/fresh-$i"
        start_broker "$dir"
        local ready=$READY_MS
        sleep 2
        emit start_to_ready "$i" runnel 0 "{\"ms\":$ready,\"idle_rss_kb\":$(rss_kb "$BROKER_PID" VmRSS),\"idle_rss_anon_kb\":$(rss_kb "$BROKER_PID" RssAnon)}"
        stop_broker
        rm -rf "$dir"
    done
    log "footprint: recovery of 1 GiB after kill -9 ($RECOVERY_RUNS runs)"
    for i in $(seq 1 "$RECOVERY_RUNS"); do
        local dir="$WORK/recovery-$i" topic="recovery-$i"
        start_broker "$dir"
        create_topic "$topic"
        "$LOADGEN" produce -b "$BOOT" -t "$topic" -n "$RECOVERY_RECORDS" -s 16384 --acks 1 --partition 0 \
            > /dev/null 2>> "$WORK/tools.log"
        "$LOADGEN" offsets -b "$BOOT" -t "$topic" -n "$RECOVERY_RECORDS" > /dev/null 2>> "$WORK/tools.log"
        local bytes
        bytes=$(du -s -B1 "$dir" | awk '{ print $1 }') # allocated, not the sparse segment size
        stop_broker KILL
        start_broker "$dir"
        local ready=$READY_MS
        # Served: the whole log is visible again (high watermark back at the record count).
        local status=0
        "$LOADGEN" offsets -b "$BOOT" -t "$topic" -n "$RECOVERY_RECORDS" --idle-timeout-ms 60000 \
            > "$WORK/offsets.json" 2>> "$WORK/tools.log" || status=$?
        local served=$(( $(now_ms) - STARTED_MS ))
        # Idle RSS of the recovered broker: its logs must not stay in its resident set.
        sleep 2
        local rss anon
        rss=$(rss_kb "$BROKER_PID" VmRSS); anon=$(rss_kb "$BROKER_PID" RssAnon)
        emit recovery_1gib "$i" runnel "$status" "{\"ready_ms\":$ready,\"served_ms\":$served,\"data_bytes\":$bytes,\"idle_rss_kb\":${rss:-0},\"idle_rss_anon_kb\":${anon:-0},\"offsets\":$(cat "$WORK/offsets.json")}"
        stop_broker
        rm -rf "$dir"
    done
}

# ---------- main ----------

install_tools
build
log "work directory $WORK; $RUNS rounds; runnel $RUNNEL"
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
STARTED=$(date -u +%Y-%m-%dT%H:%M:%SZ)

iperf3 -s -p "$IPERF_PORT" > /dev/null 2>&1 &
IPERF_PID=$!
mkdir -p "$WORK/redis"
redis-server --port "$REDIS_PORT" --dir "$WORK/redis" --appendonly yes --appendfsync everysec --save "" \
    --daemonize no > "$WORK/redis.log" 2>&1 &
REDIS_PID=$!
start_broker "$WORK/data"
start_sampler
sleep 1

for r in $(seq 1 "$RUNS"); do round "$r"; done
read -r PEAK PEAK_ANON < "$WORK/rss-peak"
emit rss_under_load 1 runnel 0 "{\"peak_rss_kb\":$PEAK,\"peak_rss_anon_kb\":$PEAK_ANON}"
stop_broker
kill "$SAMPLER_PID" 2>/dev/null || true; SAMPLER_PID=""
kill "$REDIS_PID" 2>/dev/null || true; wait "$REDIS_PID" 2>/dev/null || true; REDIS_PID=""
kill "$IPERF_PID" 2>/dev/null || true; wait "$IPERF_PID" 2>/dev/null || true; IPERF_PID=""
rm -rf "$WORK/data"

log "footprint: start to ready, idle RSS"
footprint

FINISHED=$(date -u +%Y-%m-%dT%H:%M:%SZ)
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
cat > "$WORK/machine.json" <<EOF
{"started":"$STARTED","finished":"$FINISHED","quick":$QUICK,"rounds":$RUNS,
 "kernel":"$(uname -r)","cpus":$(nproc),"cpu":"$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)",
 "mem_gib":$(awk '/MemTotal/ { printf "%.1f", $2 / 1048576 }' /proc/meminfo),
 "load_before":"$LOAD_BEFORE","load_after":"$LOAD_AFTER",
 "swift":"$(swift --version 2>/dev/null | head -1 | sed 's/"/\\"/g')",
 "commit":"$(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo unknown)$(cd "$ROOT" && git diff --quiet HEAD 2>/dev/null || echo +changes)",
 "librdkafka":"$(pkg-config --modversion rdkafka 2>/dev/null || echo unknown)",
 "redis":"$(redis-server --version | awk '{ print $3 }' | sed 's/v=//')",
 "sizes":{"n100":$N100,"n16k":$N16K,"ne2e":$NE2E,"e2e_rate":$E2E_RATE,"dd_mb":$DD_MB,"iperf_s":$IPERF_S,"redis_n":$REDIS_N}}
EOF
cp "$RESULTS" "$ROOT/Benchmarks/last-run.jsonl"
cp "$WORK/machine.json" "$ROOT/Benchmarks/last-run-machine.json"
if [ "$CLUSTER" = 1 ]; then
    log "replication figures: Benchmarks/cluster.sh"
    cluster_args=(--no-report)
    [ "$QUICK" = 1 ] && cluster_args+=(--quick)
    RUNNEL_BIN=$RUNNEL "$ROOT/Benchmarks/cluster.sh" "${cluster_args[@]}"
fi
# The section of the last cluster.sh run (its own run, kept across runs of this script).
CLUSTER_REPORT=()
if [ -f "$ROOT/Benchmarks/last-cluster-run.jsonl" ] && [ -f "$ROOT/Benchmarks/last-cluster-run-machine.json" ]; then
    CLUSTER_REPORT=(--cluster "$ROOT/Benchmarks/last-cluster-run.jsonl" "$ROOT/Benchmarks/last-cluster-run-machine.json"
                    "$ROOT/Benchmarks/BENCHMARKS-cluster-notes.md")
fi
python3 "$ROOT/Benchmarks/report.py" "$RESULTS" "$WORK/machine.json" "$ROOT/Benchmarks/BENCHMARKS-notes.md" \
    "${CLUSTER_REPORT[@]}" > "$OUT"
log "wrote $OUT"
