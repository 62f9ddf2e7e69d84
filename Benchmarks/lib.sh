# Shell helpers shared by run-all.sh and cluster.sh (sourced; they set RESULTS, IPERF_PORT and
# IPERF_S before measuring).

log() { echo "[$(date +%T)] $*" >&2; }

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# emit CASE ROUND TOOL STATUS JSON: one line of results.jsonl.
emit() {
    local json=$5
    [ -n "$json" ] || json=null
    printf '{"case":"%s","round":%s,"tool":"%s","status":%s,"result":%s}\n' "$1" "$2" "$3" "$4" "$json" >> "$RESULTS"
}

port_accepts() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# measure_iperf ROUND: loopback TCP, one stream for IPERF_S seconds, against `iperf3 -s -p IPERF_PORT`.
measure_iperf() {
    local json status=0
    json=$(timeout 60 iperf3 -c 127.0.0.1 -p "$IPERF_PORT" -t "$IPERF_S" -l 64K -J 2>/dev/null) || status=$?
    local bps
    bps=$(echo "$json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"])' 2>/dev/null || echo 0)
    emit loopback_tcp "$1" iperf3 "$status" "{\"bits_per_s\":$bps,\"mb_per_s\":$(python3 -c "print(round($bps / 8e6, 1))")}"
}
