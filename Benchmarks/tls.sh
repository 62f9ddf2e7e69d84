#!/usr/bin/env bash
# Produce throughput over TLS as a share of PLAINTEXT, measured in the same run (issue 14): one
# release broker with a PLAINTEXT, an SSL and an mTLS (ssl.client.auth=required) listener, and
# `runnel bench produce --command-config` through each, interleaved over rounds, for 100-byte and
# 16 KiB records (acks=1, linger 5 ms, 1 MB batches, one partition). Certificates are made for the
# run by scripts/make-test-certs.sh.
#
#   Benchmarks/tls.sh                          # 3 rounds; 1,000,000 × 100 B and 50,000 × 16 KiB
#   Benchmarks/tls.sh --rounds 5 --small 2000000 --large 100000
#
# Prints one JSON line per run and a table of medians. Needs `swift build -c release` first
# (it uses .build/release/runnel, or RUNNEL_BIN).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

source Benchmarks/lib.sh
# Settings: --rounds N, --small N (100 B records per run), --large N (16 KiB records per run).
declare -A opt=([rounds]=3 [small]=1000000 [large]=50000)
while (( $# )); do
    name="${1#--}"
    if [[ "$1" == -h || "$1" == --help ]]; then sed -n '2,13p' "$0"; exit 0; fi
    [[ -n "${opt[$name]+set}" && $# -ge 2 ]] || { echo "tls.sh: bad argument $1 (see --help)" >&2; exit 2; }
    opt[$name]="$2"
    shift 2
done

RUNNEL="${RUNNEL_BIN:-.build/release/runnel}"
if [[ ! -x "$RUNNEL" ]]; then echo "tls.sh: no $RUNNEL; build it with swift build -c release" >&2; exit 1; fi
WORK="$(mktemp -d /tmp/runnel-tls-bench.XXXXXX)"
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
PLAIN_PORT="$(free_port)"; SSL_PORT="$(free_port)"; MTLS_PORT="$(free_port)"
broker_pid=""
stop_broker() {  # SIGTERM, up to 10 s to exit, then SIGKILL; then the work directory goes
    [[ -z "$broker_pid" ]] || kill -TERM "$broker_pid" 2>/dev/null || true
    local waited=0
    while [[ -n "$broker_pid" ]] && kill -0 "$broker_pid" 2>/dev/null && (( waited++ < 100 )); do sleep 0.1; done
    [[ -z "$broker_pid" ]] || kill -KILL "$broker_pid" 2>/dev/null || true
    rm -rf "$WORK"
}
trap stop_broker EXIT

sh scripts/make-test-certs.sh "$WORK/certs" > /dev/null
printf 'security.protocol=PLAINTEXT\n' > "$WORK/plaintext.properties"
printf 'security.protocol=SSL\nssl.truststore.location=%s\n' "$WORK/certs/ca.pem" > "$WORK/ssl.properties"
printf 'security.protocol=SSL\nssl.truststore.location=%s\nssl.keystore.location=%s\n' \
    "$WORK/certs/ca.pem" "$WORK/certs/client.pem" > "$WORK/mtls.properties"

"$RUNNEL" broker --override "log.dirs=$WORK/data" \
    --override "listeners=PLAINTEXT://127.0.0.1:$PLAIN_PORT,SSL://localhost:$SSL_PORT,MTLS://localhost:$MTLS_PORT" \
    --override "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SSL:SSL,MTLS:SSL,CONTROLLER:PLAINTEXT" \
    --override "ssl.keystore.location=$WORK/certs/broker.pem" --override "ssl.truststore.location=$WORK/certs/ca.pem" \
    --override "listener.name.mtls.ssl.client.auth=required" > "$WORK/broker.log" 2>&1 &
broker_pid=$!
for port in "$PLAIN_PORT" "$SSL_PORT" "$MTLS_PORT"; do
    for _ in $(seq 1 100); do
        port_accepts "$port" && break
        kill -0 "$broker_pid" 2>/dev/null || { cat "$WORK/broker.log" >&2; exit 1; }
        sleep 0.1
    done
done

declare -A boot=([plaintext]="127.0.0.1:$PLAIN_PORT" [ssl]="localhost:$SSL_PORT" [mtls]="localhost:$MTLS_PORT")
results="$WORK/results.jsonl"
for round in $(seq 1 "${opt[rounds]}"); do
    # Alternate the order from round to round, so that no protocol always runs first.
    if (( round % 2 )); then order=(plaintext ssl mtls); else order=(mtls ssl plaintext); fi
    for size in 100 16384; do
        records=${opt[small]}; (( size == 100 )) || records=${opt[large]}
        for proto in "${order[@]}"; do
            topic="tls-$proto-$size-r$round"
            "$RUNNEL" topic create "$topic" -b "${boot[$proto]}" --command-config "$WORK/$proto.properties" -p 1 > /dev/null
            line="$(timeout 600 "$RUNNEL" bench produce -b "${boot[$proto]}" --command-config "$WORK/$proto.properties" \
                --topic "$topic" --records "$records" --record-size "$size" --acks 1 --linger-ms 5 \
                --batch-bytes 1000000 --json --progress-ms 0)"
            echo "$line" | python3 -c '
import json, sys
r = json.loads(sys.stdin.read())
r["protocol"], r["size"], r["round"] = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
print(json.dumps(r))' "$proto" "$size" "$round" | tee -a "$results"
            "$RUNNEL" topic delete "$topic" -b "${boot[$proto]}" --command-config "$WORK/$proto.properties" > /dev/null
        done
    done
done
grep -c "authenticated as User:CN=alice" "$WORK/broker.log" | sed 's/^/mTLS connections that presented the client certificate: /'

python3 - "$results" <<'PY'
import json, statistics, sys
runs = [json.loads(line) for line in open(sys.argv[1])]
print(f"\n{'record size':<13}{'protocol':<11}{'records/s':>12}{'MB/s':>9}{'÷ PLAINTEXT':>13}{'p99 ms':>9}")
for size in (100, 16384):
    def med(proto, key):
        return statistics.median(r[key] for r in runs if r["size"] == size and r["protocol"] == proto)
    base = med("plaintext", "records_per_s")
    for proto in ("plaintext", "ssl", "mtls"):
        rps = med(proto, "records_per_s")
        p99 = statistics.median(r["latency_ms"]["p99"] for r in runs if r["size"] == size and r["protocol"] == proto)
        print(f"{size:<13}{proto:<11}{rps:>12,.0f}{rps * size / 1e6:>9.1f}{rps / base:>13.2f}{p99:>9.2f}")
print(f"(medians of {len(runs) // 6} rounds, acks=1, one partition, broker and client on the same two cores)")
PY
