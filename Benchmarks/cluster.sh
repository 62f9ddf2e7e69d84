#!/usr/bin/env bash
# Replication figures on a 3-node cluster on loopback (one machine), in one run.
#
#   Benchmarks/cluster.sh            # ~5–7 min: 5 interleaved rounds, 3 catch-ups of 1 GiB (× 2)
#   Benchmarks/cluster.sh --quick    # ~3 min: 3 short rounds, 1 catch-up of 256 MiB (indicative only)
#   options: --runs N  --catchups N  --keep (keep the work directory)  --no-report
#   env:     RUNNEL_BIN=path  use this runnel binary instead of building .build/release/runnel
#
# Measures, A/B interleaved (the order alternates from round to round):
#   (a) produce 100 B acks=all into an RF=1 and an RF=3 topic (one partition each, same producer
#       settings, the same leader node), records/s and the three brokers' CPU time per record
#       (utime + stime from /proc/<pid>/stat, before and after each run) → ratio RF=3 ÷ RF=1;
#   (b) end-to-end latency at 10,000 records/s, acks=all, RF=3 (and RF=1 beside it);
#   (c) follower catch-up: SIGTERM one follower (not the leader, not the active controller),
#       produce 16 KiB records to the RF=3 topic, start the follower again and time until it is
#       back in the ISR → MB/s, ÷ loopback TCP (iperf3, the method of run-all.sh) in the same run;
#   and, to show what bounds (b) and (c), the same with runnel.acks.all.fsync=false on the topic,
#   and fsynced 1 MiB writes (dd oflag=dsync).
# Raw results go to Benchmarks/last-cluster-run.jsonl and last-cluster-run-machine.json; then
# Benchmarks/report.py regenerates BENCHMARKS.md from them and the last run-all.sh results.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
# log, now_ms, emit, port_accepts, measure_iperf
source "$ROOT/Benchmarks/lib.sh"
QUICK=0
RUNS=""
CATCHUPS=""
KEEP=0
REPORT=1
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) QUICK=1 ;;
        --runs) RUNS=$2; shift ;;
        --catchups) CATCHUPS=$2; shift ;;
        --keep) KEEP=1 ;;
        --no-report) REPORT=0 ;;
        -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
        *) echo "cluster.sh: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done

if [ "$QUICK" = 1 ]; then
    RUNS=${RUNS:-3}; CATCHUPS=${CATCHUPS:-1}
    N100=500000; NE2E=20000; N_CATCHUP=16384; IPERF_S=2; DSYNC_MB=128
else
    RUNS=${RUNS:-5}; CATCHUPS=${CATCHUPS:-3}
    N100=2000000; NE2E=50000; N_CATCHUP=65536; IPERF_S=4; DSYNC_MB=256
fi
E2E_RATE=10000
RUN_TIMEOUT=300      # seconds any one tool run may take
ISR_TIMEOUT=300      # seconds a restarted follower may take to rejoin the ISR
CLK_TCK=$(getconf CLK_TCK)

WORK=$(mktemp -d "${TMPDIR:-/tmp}/runnel-cluster.XXXXXX")
DATA=$WORK/cluster
RESULTS=$WORK/results.jsonl
: > "$RESULTS"
declare -A BROKER_PID=()
DEV_PID=""
IPERF_PID=""

cleanup() {
    local pids="$DEV_PID $IPERF_PID"
    for id in "${!BROKER_PID[@]}"; do pids="$pids ${BROKER_PID[$id]}"; done
    for pid in $pids; do kill "$pid" 2>/dev/null || true; done
    for pid in $pids; do
        # Bounded: a broker that does not stop within 30 s is killed.
        for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    if [ "$KEEP" = 1 ]; then log "work directory kept: $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

command -v iperf3 >/dev/null || {
    log "installing iperf3"
    sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q iperf3 >&2
}
command -v python3 >/dev/null || { echo "cluster.sh needs python3" >&2; exit 1; }

if [ -n "${RUNNEL_BIN:-}" ]; then
    RUNNEL=$RUNNEL_BIN
else
    log "building runnel (release; a no-op when up to date)"
    (cd "$ROOT" && swift build -c release --product runnel >&2)
    RUNNEL=$ROOT/.build/release/runnel
fi

# ---------- the cluster ----------

# `runnel dev` picks free ports and writes each node's server.properties; it is stopped once
# every node accepted, and the nodes are then run one by one, so that one can be stopped alone.
log "work directory $WORK; creating the cluster with runnel dev"
"$RUNNEL" dev --nodes 3 --data "$DATA" > "$WORK/dev.log" 2>&1 &
DEV_PID=$!
started=$(now_ms)
until grep -q '^bootstrap:' "$WORK/dev.log"; do
    kill -0 "$DEV_PID" 2>/dev/null || { tail -20 "$WORK/dev.log" >&2; echo "runnel dev exited" >&2; exit 1; }
    [ $(( $(now_ms) - started )) -lt 60000 ] || { echo "runnel dev not ready after 60 s" >&2; exit 1; }
    sleep 0.1
done
BOOT=$(awk '/^bootstrap:/ { print $2; exit }' "$WORK/dev.log")
kill "$DEV_PID"
wait "$DEV_PID" 2>/dev/null || true
DEV_PID=""

declare -A PORT=()
for id in 1 2 3; do
    PORT[$id]=$(sed -n 's/^listeners=.*PLAINTEXT:\/\/[^:]*:\([0-9]*\).*/\1/p' "$DATA/node-$id/server.properties")
    [ -n "${PORT[$id]}" ] || { echo "no client port in node-$id/server.properties" >&2; exit 1; }
done

# launch_node ID: starts node ID in the background; sets LAUNCHED_MS.
launch_node() {
    LAUNCHED_MS=$(now_ms)
    "$RUNNEL" broker --config "$DATA/node-$1/server.properties" >> "$WORK/node-$1.log" 2>&1 &
    BROKER_PID[$1]=$!
}

# wait_ready ID: until node ID's client port accepts (a node opens it once the metadata quorum
# has a leader); sets READY_MS, since its launch.
wait_ready() {
    local id=$1
    while ! port_accepts "${PORT[$id]}"; do
        kill -0 "${BROKER_PID[$id]}" 2>/dev/null || { tail -20 "$WORK/node-$id.log" >&2; echo "node $id died" >&2; exit 1; }
        [ $(( $(now_ms) - LAUNCHED_MS )) -lt 60000 ] || { echo "node $id not ready after 60 s" >&2; exit 1; }
        sleep 0.01
    done
    READY_MS=$(( $(now_ms) - LAUNCHED_MS ))
}

# stop_node ID: SIGTERM (controlled shutdown), SIGKILL after 30 s.
stop_node() {
    local id=$1 pid=${BROKER_PID[$1]}
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    unset "BROKER_PID[$id]"
}

cluster_json() { "$RUNNEL" cluster info --json -b "$BOOT" 2>/dev/null; }

# wait_unfenced N: until N brokers are registered and unfenced (bounded).
wait_unfenced() {
    local want=$1 t0
    t0=$(now_ms)
    until [ "$(cluster_json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(sum(1 for b in d["brokers"] if not b.get("fenced", False)))' 2>/dev/null || echo 0)" -ge "$want" ]; do
        [ $(( $(now_ms) - t0 )) -lt 60000 ] || { cluster_json >&2 || true; echo "fewer than $want unfenced brokers after 60 s" >&2; exit 1; }
        sleep 0.2
    done
}

for id in 1 2 3; do launch_node "$id"; done
for id in 1 2 3; do wait_ready "$id"; done
wait_unfenced 3
log "cluster up: $BOOT (pids ${BROKER_PID[*]})"

# ---------- helpers ----------

describe() { "$RUNNEL" topic describe "$1" --json -b "$BOOT" 2>/dev/null; }

# partition_field TOPIC FIELD: leader (an id), or isr / replicas (comma-separated) of partition 0.
partition_field() {
    describe "$1" | python3 -c '
import json, sys
p = json.load(sys.stdin)["partitions"][0]
v = p.get(sys.argv[1])
print(",".join(map(str, v)) if isinstance(v, list) else ("" if v is None else v))' "$2" 2>/dev/null || true
}

# create_topic NAME RF [key=value ...]: one partition, RF replicas, topic configs.
create_topic() {
    local name=$1 rf=$2 configs=() kv; shift 2
    for kv in "$@"; do configs+=(-c "$kv"); done
    "$RUNNEL" topic create "$name" -p 1 -r "$rf" "${configs[@]}" -b "$BOOT" > /dev/null
}
delete_topic() { "$RUNNEL" topic delete "$1" -b "$BOOT" > /dev/null 2>&1 || true; }

# wait_isr TOPIC N: until partition 0 has a leader and N replicas in its ISR (bounded, 30 s).
wait_isr() {
    local t0 isr
    t0=$(now_ms)
    while true; do
        isr=$(partition_field "$1" isr)
        if [ -n "$isr" ] && [ "$(echo "$isr" | tr ',' '\n' | wc -l)" -ge "$2" ] && [ -n "$(partition_field "$1" leader)" ]; then
            return 0
        fi
        [ $(( $(now_ms) - t0 )) -lt 30000 ] || { echo "topic $1: ISR '$isr' not $2 after 30 s" >&2; return 1; }
        sleep 0.1
    done
}

# create_pair ROUND: topics RF=3 then RF=1 (re-created until the RF=1 leader is the RF=3 leader,
# at most 8 tries), both with a full ISR; sets T1, T3, LEADER.
create_pair() {
    local r=$1 try
    T3="rf3-r$r"; create_topic "$T3" 3; wait_isr "$T3" 3
    LEADER=$(partition_field "$T3" leader)
    for try in $(seq 1 8); do
        T1="rf1-r$r-$try"; create_topic "$T1" 1; wait_isr "$T1" 1
        [ "$(partition_field "$T1" leader)" = "$LEADER" ] && return 0
        [ "$try" = 8 ] || delete_topic "$T1"   # the last try is kept and used
    done
    log "  round $r: no RF=1 topic led by node $LEADER after 8 tries; using $T1 (leader $(partition_field "$T1" leader))"
}

# The three brokers' CPU time (utime + stime), in clock ticks.
cpu_ticks() {
    local total=0 id t
    for id in "${!BROKER_PID[@]}"; do
        t=$(awk '{ print $14 + $15 }' "/proc/${BROKER_PID[$id]}/stat" 2>/dev/null || echo 0)
        total=$((total + t))
    done
    echo "$total"
}

# run_bench CASE ROUND EXTRA_JSON COMMAND...: runs a bench that prints one JSON line; records it
# with the brokers' CPU time over the run and EXTRA_JSON's fields merged in.
run_bench() {
    local case=$1 round=$2 extra=$3; shift 3
    local out status=0 before after
    before=$(cpu_ticks)
    out=$(timeout "$RUN_TIMEOUT" "$@" 2>> "$WORK/tools.log" | tail -1) || status=$?
    after=$(cpu_ticks)
    [ -n "$out" ] || out=null
    out=$(python3 -c '
import json, sys
r = json.loads(sys.argv[1])
if r is not None:
    r.update(json.loads(sys.argv[2]))
    cpu = (int(sys.argv[4]) - int(sys.argv[3])) / int(sys.argv[5])
    r["broker_cpu_s"] = round(cpu, 3)
    if r.get("records"):
        r["broker_cpu_us_per_record"] = round(cpu * 1e6 / r["records"], 3)
print(json.dumps(r))' "$out" "$extra" "$before" "$after" "$CLK_TCK")
    emit "$case" "$round" runnel "$status" "$out"
    [ "$status" = 0 ] || log "  $case failed (status $status): $(tail -1 "$WORK/tools.log")"
}

# ---------- the measurements ----------

# (a) produce 100 B acks=all, RF=1 and RF=3, in alternating order.
produce_pair() {
    local r=$1 order rf topic
    create_pair "$r"
    if [ $((r % 2)) = 1 ]; then order="1 3"; else order="3 1"; fi
    for rf in $order; do
        if [ "$rf" = 1 ]; then topic=$T1; else topic=$T3; fi
        run_bench "produce_100_all_rf$rf" "$r" "{\"leader\":$(partition_field "$topic" leader),\"rf3_leader\":$LEADER}" \
            "$RUNNEL" bench produce -b "$BOOT" --topic "$topic" --records "$N100" --record-size 100 --acks all \
            --linger-ms 5 --batch-bytes 1000000 --partitions 1 --replication-factor "$rf" --json --progress-ms 0
    done
    delete_topic "$T1"; delete_topic "$T3"
}

# (b) end-to-end at 10,000 records/s, acks=all, RF=3 and RF=1 (fresh topics), alternating; and
# beside them, as a diagnostic of what the fsyncs cost, RF=3 with runnel.acks.all.fsync=false
# on the topic (the high watermark then needs the batch in every ISR member's page cache only).
e2e_pair() {
    local r=$1 order variant topic rf configs
    if [ $((r % 2)) = 1 ]; then order="rf3 rf1 rf3_nofsync"; else order="rf3_nofsync rf1 rf3"; fi
    for variant in $order; do
        topic="e2e-$variant-r$r" configs=()
        case $variant in
            rf1) rf=1 ;;
            rf3) rf=3 ;;
            rf3_nofsync) rf=3; configs=(runnel.acks.all.fsync=false) ;;
        esac
        create_topic "$topic" "$rf" "${configs[@]}"; wait_isr "$topic" "$rf"
        run_bench "e2e_10k_all_$variant" "$r" "{\"leader\":$(partition_field "$topic" leader)}" \
            "$RUNNEL" bench e2e -b "$BOOT" --topic "$topic" --records "$NE2E" --record-size 100 --rate "$E2E_RATE" \
            --acks all --partitions 1 --replication-factor "$rf" --json --progress-ms 0
        delete_topic "$topic"
    done
}

# fsynced 1 MiB writes (dd oflag=dsync), the disk's limit for a follower that fsyncs every
# 1 MiB fetch round.
measure_dsync() {
    local line bytes seconds
    line=$(timeout 120 dd if=/dev/zero of="$WORK/dsync.bin" bs=1M count="$DSYNC_MB" oflag=dsync 2>&1 | grep copied)
    rm -f "$WORK/dsync.bin"
    bytes=$(echo "$line" | awk '{ print $1 }')
    seconds=$(echo "$line" | awk '{ print $(NF-3) }')
    emit dsync_write "$1" dd 0 "{\"bytes\":$bytes,\"seconds\":$seconds,\"mb_per_s\":$(python3 -c "print(round($bytes / $seconds / 1e6, 1))")}"
}

# Allocated bytes of one replica's segment files (.log; sparse, preallocated: du, not the size).
replica_bytes() {
    local files=("$DATA/node-$1/$2-0/"*.log)
    [ -e "${files[0]}" ] || { echo 0; return; }
    du -c -B1 "${files[@]}" 2>/dev/null | awk 'END { print $1 }'
}

# (c) follower catch-up after a restart. catchup ROUND CASE [key=value ...]: topic configs.
catchup() {
    local r=$1 case=$2 topic="$2-r$1" leader controller victim id status=0; shift 2
    create_topic "$topic" 3 "$@"; wait_isr "$topic" 3
    leader=$(partition_field "$topic" leader)
    controller=$(cluster_json | python3 -c 'import json,sys; print(json.load(sys.stdin).get("controller") or "")' 2>/dev/null || true)
    victim=""
    for id in $(partition_field "$topic" replicas | tr ',' ' '); do
        if [ "$id" != "$leader" ] && [ "$id" != "$controller" ]; then victim=$id; break; fi
    done
    [ -n "$victim" ] || for id in $(partition_field "$topic" replicas | tr ',' ' '); do
        [ "$id" != "$leader" ] && { victim=$id; break; }
    done
    log "  catch-up $r: leader $leader, controller ${controller:-?}, stopping follower $victim (SIGTERM)"
    stop_node "$victim"
    # Controlled shutdown takes it out of the ISR; wait for that (bounded).
    local t0
    t0=$(now_ms)
    while echo ",$(partition_field "$topic" isr)," | grep -q ",$victim,"; do
        [ $(( $(now_ms) - t0 )) -lt 60000 ] || { log "  node $victim still in the ISR 60 s after its shutdown"; break; }
        sleep 0.1
    done
    # acks=1: the bench's check that the log grew by every record reads the high watermark, which
    # waits for the other follower's fsyncs; give it up to 2 minutes, not the default 10 s.
    local out error=""
    out=$(timeout "$RUN_TIMEOUT" "$RUNNEL" bench produce -b "$BOOT" --topic "$topic" --records "$N_CATCHUP" \
        --record-size 16384 --acks 1 --linger-ms 5 --batch-bytes 1000000 --idle-timeout-ms 120000 --json \
        --progress-ms 0 2>> "$WORK/tools.log" | tail -1) || status=$?
    if [ "$status" != 0 ]; then error=$(tail -1 "$WORK/tools.log"); log "  catch-up produce failed: $error"; fi
    # Let the other follower finish, so that the restarted one is the only one replicating.
    wait_isr "$topic" 2 || true
    local leader_bytes lag_start values_bytes
    leader_bytes=$(replica_bytes "$leader" "$topic")
    lag_start=$(replica_bytes "$victim" "$topic")
    values_bytes=$((N_CATCHUP * 16384))
    local before
    before=$(cpu_ticks)
    launch_node "$victim"
    local t_start=$LAUNCHED_MS ready=-1 first=-1 copied=-1 isr=-1 now bytes
    # From the launch: the port (ready), then the copy, watched on disk (cheap: du every 20 ms);
    # then the ISR, polled with `runnel topic describe` every 50 ms. "Copied": within one fetch
    # (1 MiB) of the leader's log, whose allocation can differ by a block or so.
    while true; do
        now=$(now_ms)
        kill -0 "${BROKER_PID[$victim]}" 2>/dev/null || { tail -20 "$WORK/node-$victim.log" >&2; echo "node $victim died" >&2; exit 1; }
        [ "$ready" -ge 0 ] || ! port_accepts "${PORT[$victim]}" || ready=$((now - t_start))
        bytes=$(replica_bytes "$victim" "$topic")
        [ "$first" -ge 0 ] || [ "$bytes" -le "$lag_start" ] || first=$((now - t_start))
        if [ "$bytes" -ge $((leader_bytes - 1048576)) ]; then copied=$((now - t_start)); break; fi
        [ $((now - t_start)) -lt $((ISR_TIMEOUT * 1000)) ] || break
        sleep 0.02
    done
    LAUNCHED_MS=$t_start
    wait_ready "$victim"
    [ "$ready" -ge 0 ] || ready=$READY_MS
    while true; do
        if echo ",$(partition_field "$topic" isr)," | grep -q ",$victim,"; then
            isr=$(( $(now_ms) - t_start )); break
        fi
        [ $(( $(now_ms) - t_start)) -lt $((ISR_TIMEOUT * 1000)) ] || {
            status=1; error="node $victim not back in the ISR after $ISR_TIMEOUT s"; log "  $error"; break; }
        sleep 0.05
    done
    local cpu=$(( $(cpu_ticks) - before ))
    emit "$case" "$r" runnel "$status" "$(python3 -c '
import json, sys
values, leader_bytes, lag_start, ready, first, copied, isr, cpu, tck = map(int, sys.argv[1:10])
mb = (leader_bytes - lag_start) / 1e6
print(json.dumps({"follower": int(sys.argv[10]), "leader": int(sys.argv[11]), "value_bytes": values,
    "leader_log_bytes": leader_bytes, "follower_log_bytes_before": lag_start, "copied_mb": round(mb, 1),
    "ready_ms": ready, "first_byte_ms": first, "copied_ms": copied, "isr_ms": isr,
    "mb_per_s": round(mb / (isr / 1000), 1) if isr > 0 else None,
    "transfer_mb_per_s": round(mb / ((copied - first) / 1000), 1) if copied > first >= 0 else None,
    "broker_cpu_s": round(cpu / tck, 2),
    "produce": json.loads(sys.argv[12]) if sys.argv[12] else None, "error": sys.argv[13] or None}))' \
        "$values_bytes" "$leader_bytes" "$lag_start" "$ready" "$first" "$copied" "$isr" "$cpu" "$CLK_TCK" "$victim" "$leader" \
        "${out:-null}" "$error")"
    log "  catch-up $r: $(tail -1 "$RESULTS" | cut -c1-400)"
    wait_unfenced 3
    delete_topic "$topic"
}

# ---------- main ----------

IPERF_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
iperf3 -s -p "$IPERF_PORT" > /dev/null 2>&1 &
IPERF_PID=$!
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
STARTED=$(date -u +%Y-%m-%dT%H:%M:%SZ)
sleep 1

for r in $(seq 1 "$RUNS"); do
    log "round $r/$RUNS: loopback TCP, fsynced 1 MiB writes"
    measure_iperf "$r"
    measure_dsync "$r"
    log "round $r/$RUNS: produce $N100 × 100 B acks=all, RF=1 and RF=3"
    produce_pair "$r"
    log "round $r/$RUNS: end-to-end at $E2E_RATE records/s, acks=all, RF=3 and RF=1"
    e2e_pair "$r"
    if [ "$r" -le "$CATCHUPS" ]; then
        log "round $r/$RUNS: follower catch-up, $N_CATCHUP × 16 KiB, with and without fsync"
        if [ $((r % 2)) = 1 ]; then
            catchup "$r" catchup; catchup "$r" catchup_nofsync runnel.acks.all.fsync=false
        else
            catchup "$r" catchup_nofsync runnel.acks.all.fsync=false; catchup "$r" catchup
        fi
    fi
done

FINISHED=$(date -u +%Y-%m-%dT%H:%M:%SZ)
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
cat > "$WORK/machine.json" <<EOF
{"started":"$STARTED","finished":"$FINISHED","quick":$QUICK,"rounds":$RUNS,"catchups":$CATCHUPS,"nodes":3,
 "kernel":"$(uname -r)","cpus":$(nproc),"cpu":"$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)",
 "mem_gib":$(awk '/MemTotal/ { printf "%.1f", $2 / 1048576 }' /proc/meminfo),
 "load_before":"$LOAD_BEFORE","load_after":"$LOAD_AFTER",
 "swift":"$(swift --version 2>/dev/null | head -1 | sed 's/"/\\"/g')",
 "commit":"$(cd "$ROOT" && git rev-parse --short HEAD 2>/dev/null || echo unknown)$(cd "$ROOT" && git diff --quiet HEAD 2>/dev/null || echo +changes)",
 "sizes":{"n100":$N100,"ne2e":$NE2E,"e2e_rate":$E2E_RATE,"n_catchup":$N_CATCHUP,"dsync_mb":$DSYNC_MB,"catchup_record_bytes":16384,"iperf_s":$IPERF_S}}
EOF
cp "$RESULTS" "$ROOT/Benchmarks/last-cluster-run.jsonl"
cp "$WORK/machine.json" "$ROOT/Benchmarks/last-cluster-run-machine.json"
log "results: Benchmarks/last-cluster-run.jsonl"
if [ "$REPORT" = 1 ]; then
    python3 "$ROOT/Benchmarks/report.py" "$ROOT/Benchmarks/last-run.jsonl" "$ROOT/Benchmarks/last-run-machine.json" \
        "$ROOT/Benchmarks/BENCHMARKS-notes.md" --cluster "$ROOT/Benchmarks/last-cluster-run.jsonl" \
        "$ROOT/Benchmarks/last-cluster-run-machine.json" "$ROOT/Benchmarks/BENCHMARKS-cluster-notes.md" > "$ROOT/BENCHMARKS.md"
    log "wrote $ROOT/BENCHMARKS.md"
fi
