#!/usr/bin/env bash
# Builds the libFuzzer targets of Fuzz/ (docs/decisions.md D80) and runs each for a bounded time.
#
#   bash scripts/fuzz.sh                                  # every target, 60 s each
#   bash scripts/fuzz.sh --target FuzzFrames --seconds 600
#   bash scripts/fuzz.sh --seconds 5                      # the short run of scripts/test-all.sh
#   bash scripts/fuzz.sh --write-seeds                    # regenerate Fuzz/corpus/ (then review the diff)
#
# Build: the separate Fuzz/ package in its own scratch path (.build-fuzz), with coverage
# instrumentation and AddressSanitizer (-sanitize=fuzzer,address), so the root's .build is
# never invalidated. Run: each target starts from its checked-in seeds (Fuzz/corpus/<target>)
# and keeps what it finds in .build-fuzz/corpus/<target>; crash, leak and timeout inputs land in
# .build-fuzz/artifacts/<target>/. Both are under .build-fuzz, out of git. Limits: 2 GiB RSS,
# 10 s per input, and the whole run is killed 60 s after its time is up.
#
# Exit status: 0 when every target ran its time without a finding, 1 otherwise (the log and the
# artifact are named). Replay an artifact with the same binary:  .build-fuzz/debug/<target> <file>
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

TARGETS=(FuzzFrames FuzzRecordBatch FuzzStorageFiles FuzzMetadata FuzzSasl)
selected=()
seconds=60
write_seeds=0
while [[ $# -gt 0 ]]; do
    case "$1" in
        --target) selected+=("$2"); shift 2 ;;
        --seconds) seconds="$2"; shift 2 ;;
        --write-seeds) write_seeds=1; shift ;;
        -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
        *) echo "fuzz.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
[[ ${#selected[@]} -gt 0 ]] || selected=("${TARGETS[@]}")
for target in "${selected[@]}"; do
    [[ " ${TARGETS[*]} " == *" $target "* ]] || { echo "fuzz.sh: no target $target (${TARGETS[*]})" >&2; exit 2; }
done

SCRATCH=.build-fuzz
# A trap under ASan: let libFuzzer report it, not the Swift runtime's backtracer (which ASan flags).
export SWIFT_BACKTRACE=enable=no
FLAGS=(-Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING -Xcc -fsanitize=fuzzer-no-link,address)
build_start=$SECONDS
product=()
[[ ${#selected[@]} -eq 1 ]] && product=(--product "${selected[0]}")
# ld.gold warns once per ASan runtime symbol ("Cannot export local symbol"), a few hundred
# harmless lines per link; they are dropped. A failed build still fails the script (pipefail).
swift build --package-path Fuzz --scratch-path "$SCRATCH" "${product[@]}" "${FLAGS[@]}" 2>&1 \
    | { grep -v 'Cannot export local symbol' || true; }
echo "fuzz build: $((SECONDS - build_start)) s"
BIN="$SCRATCH/debug"

if [[ $write_seeds -eq 1 ]]; then
    python3 Fuzz/make-corpus.py
    for target in FuzzStorageFiles FuzzMetadata FuzzSasl; do
        rm -rf "Fuzz/corpus/$target" && mkdir -p "Fuzz/corpus/$target"
        RUNNEL_FUZZ_WRITE_SEEDS="Fuzz/corpus/$target" "$BIN/$target" >/dev/null
    done
    du -sh --apparent-size Fuzz/corpus/*
    exit 0
fi

failed=()
for target in "${selected[@]}"; do
    corpus="$SCRATCH/corpus/$target"
    artifacts="$SCRATCH/artifacts/$target"
    log="$SCRATCH/logs/$target.log"
    mkdir -p "$corpus" "$artifacts" "$(dirname "$log")"
    status=0
    timeout --kill-after=10 $((seconds + 60)) "$BIN/$target" \
        -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 -print_final_stats=1 \
        -artifact_prefix="$artifacts/" "$corpus" "Fuzz/corpus/$target" >"$log" 2>&1 || status=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
    cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+ corp: [0-9]+/[0-9]+[a-zA-Z]*' "$log" | tail -1 || true)
    if [[ $status -eq 0 ]]; then
        echo "$target: ok, ${seconds} s, ${runs:-?} executions (${speed:-?}/s), ${cov:-no coverage line}"
    else
        echo "$target: FAILED (exit $status) after ${runs:-?} executions; log $log"
        grep -E '^(==[0-9]+==ERROR|SUMMARY|Fatal error|.*Fatal error:|artifact_prefix|Test unit written)' "$log" | head -8 || true
        ls -1 "$artifacts" | sed "s|^|    artifact: $artifacts/|" | tail -3
        failed+=("$target")
    fi
done
if [[ ${#failed[@]} -gt 0 ]]; then
    echo "fuzz: findings in ${failed[*]}"
    exit 1
fi
