#!/usr/bin/env bash
# The project's one test command (README: `bash scripts/test-all.sh`; CI: `bash .ci/run`).
# Phases: (1) install missing build dependencies (scripts/install-deps.sh) and test tools,
# (2) swift build, (3) swift test, (4) the interop suite,
# which drives real `runnel broker` processes with kcat, confluent-kafka, kafka-python and aiokafka,
# (5) the fault suite's short pass (scripts/fault-suite.sh: brokers in network namespaces, kill -9,
# SIGSTOP, partitions; needs root and fails, never skips, without it),
# (6) a short run of every libFuzzer target (scripts/fuzz.sh, 10 s each; docs/decisions.md D80).
# Exits non-zero if any phase fails. Extra arguments are passed to pytest (e.g. `-k kcat`).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPO="$(pwd)"

START_ALL=$SECONDS
FAILED=()

phase() {
    printf '\n==================== %s ====================\n' "$1"
    PHASE_START=$SECONDS
}

phase_done() {  # $1 = name, $2 = status
    local took=$((SECONDS - PHASE_START))
    if [[ "$2" -eq 0 ]]; then
        printf -- '---- %s: ok (%ss) ----\n' "$1" "$took"
    else
        printf -- '---- %s: FAILED, exit %s (%ss) ----\n' "$1" "$2" "$took"
        FAILED+=("$1")
    fi
}

summary_and_exit() {
    printf '\n==================== summary ====================\n'
    printf 'total time: %ss\n' "$((SECONDS - START_ALL))"
    if [[ ${#FAILED[@]} -eq 0 ]]; then
        echo "all phases passed"
        exit 0
    fi
    echo "failed phases: ${FAILED[*]}"
    exit 1
}

# ---------------------------------------------------------------- 1. tools
phase "1/6 build dependencies and test tools"
status=0
# The build's Debian packages, and kcat and openssl (the TLS tests' certificates,
# scripts/make-test-certs.sh) with them (one apt-get update on a fresh machine).
bash scripts/install-deps.sh kcat openssl nftables iproute2 || status=$?
declare -A PIP_PINS=(
    [confluent_kafka]="confluent-kafka==2.16.1"
    [kafka]="kafka-python==3.0.12"
    [aiokafka]="aiokafka==0.14.0"
    [pytest]="pytest==9.0.3"
    # The codecs kafka-python imports (snappy, lz4, zstandard) and aiokafka's (cramjam); librdkafka
    # has them built in (Tests/interop/test_codecs.py).
    [snappy]="python-snappy==0.7.3"
    [lz4]="lz4==4.4.5"
    [zstandard]="zstandard==0.25.0"
    [cramjam]="cramjam==2.14.0"
)
missing=()
for module in confluent_kafka kafka aiokafka pytest snappy lz4 zstandard cramjam; do
    if ! python3 -c "import $module" >/dev/null 2>&1; then
        missing+=("${PIP_PINS[$module]}")
    fi
done
if [[ ${#missing[@]} -gt 0 ]]; then
    echo "installing from PyPI: ${missing[*]}"
    pip_log="$(mktemp)"
    if ! python3 -m pip install --quiet "${missing[@]}" 2>"$pip_log"; then
        if grep -q externally-managed-environment "$pip_log"; then
            python3 -m pip install --quiet --break-system-packages "${missing[@]}" || status=$?
        else
            cat "$pip_log" >&2
            status=1
        fi
    fi
    rm -f "$pip_log"
fi
if [[ $status -eq 0 ]]; then
    kcat -V 2>/dev/null | sed -n 4p || true
    python3 - <<'PY' || status=$?
import confluent_kafka, kafka, aiokafka, pytest
print("confluent-kafka", confluent_kafka.__version__, "(librdkafka", confluent_kafka.libversion()[0] + ")",
      "| kafka-python", kafka.__version__, "| aiokafka", aiokafka.__version__, "| pytest", pytest.__version__)
PY
fi
phase_done "build dependencies and test tools" "$status"
[[ $status -eq 0 ]] || summary_and_exit

# ---------------------------------------------------------------- 2. build
phase "2/6 swift build (debug)"
status=0
swift build || status=$?
phase_done "swift build" "$status"
[[ $status -eq 0 ]] || summary_and_exit

# ---------------------------------------------------------------- 3. unit tests
phase "3/6 swift test"
status=0
# The Kafka schemas the generator reads: next to the checkout (../shared), or the workplace's
# shared folder when CI runs from a clone elsewhere. Without them the staleness test skips.
for candidate in "${RUNNEL_KAFKA_SPECS:-}" "$REPO/../shared/kafka-message-specs" /work/shared/kafka-message-specs; do
    if [[ -n "$candidate" && -d "$candidate" ]]; then
        RUNNEL_KAFKA_SPECS="$(cd "$candidate" && pwd)"
        export RUNNEL_KAFKA_SPECS
        echo "RUNNEL_KAFKA_SPECS=$RUNNEL_KAFKA_SPECS"
        break
    fi
done
# The tests are Swift Testing tests; XCTest would only add an "Executed 0 tests" report. It
# runs again as soon as a test file imports XCTest.
xctest=(--disable-xctest)
if grep -rqlE '^(@testable )?import XCTest' Tests; then xctest=(); fi
test_log="$(mktemp)"
swift test "${xctest[@]}" 2>&1 | tee "$test_log" || status=$?
# A green run must read green: no log lines from the code under test between the results.
if [[ $status -eq 0 ]]; then bash scripts/check-test-output.sh "$test_log" || status=$?; fi
rm -f "$test_log"
phase_done "swift test" "$status"

# ---------------------------------------------------------------- 4. interop
phase "4/6 interop suite (Tests/interop)"
status=0
export RUNNEL_BIN="$REPO/.build/debug/runnel"
export PYTHONDONTWRITEBYTECODE=1
python3 -m pytest -q Tests/interop "$@" || status=$?
phase_done "interop suite" "$status"

# ---------------------------------------------------------------- 5. faults
phase "5/6 fault suite, short pass (Tests/faults)"
status=0
bash scripts/fault-suite.sh || status=$?
phase_done "fault suite" "$status"

# ---------------------------------------------------------------- 6. fuzz
phase "6/6 fuzz targets, 10 s each (scripts/fuzz.sh)"
status=0
bash scripts/fuzz.sh --seconds "${RUNNEL_FUZZ_SECONDS:-10}" || status=$?
phase_done "fuzz" "$status"

summary_and_exit
