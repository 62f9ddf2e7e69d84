#!/usr/bin/env bash
# The fault suite (Tests/faults, RELIABILITY.md): real `runnel broker` processes in network
# namespaces (scripts/netns-cluster.sh), real confluent-kafka clients, kill -9, SIGSTOP,
# partitions; a history checker names Jepsen's anomalies.
#
#   scripts/fault-suite.sh                      short pass (what test-all runs): every scenario but
#                                               7 and 8 (power cuts through lossyfs) and 14 (soak)
#   scripts/fault-suite.sh --full               the short pass plus 7 and 8, each in both fsync modes
#   scripts/fault-suite.sh --scenario 2         one scenario (s02; 7 and 8 run in both fsync modes)
#   scripts/fault-suite.sh --minutes 4          stretch each scenario's fault phases (scale = M)
#   scripts/fault-suite.sh --soak               scenario 14: 30 minutes of mixed faults
#
# Needs root, iproute2, nftables and, for lossyfs (scenarios 7, 8), /dev/fuse and python3-fusepy
# (the packages are installed when missing). Results: one JSON line per
# scenario in $FAULTS_RESULTS (default: a file under /tmp, printed at the end).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scenario=""; minutes=""; soak=0; full=0; extra=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --scenario) scenario="$2"; shift 2;;
        --full) full=1; shift;;
        --minutes) minutes="$2"; shift 2;;
        --soak) soak=1; shift;;
        *) extra+=("$1"); shift;;
    esac
done

if [[ $EUID -ne 0 ]]; then echo "fault-suite: needs root (network namespaces, nftables)" >&2; exit 1; fi
command -v nft >/dev/null 2>&1 || apt-get install -y -q nftables >/dev/null || { echo "fault-suite: cannot install nftables" >&2; exit 1; }
bash scripts/install-deps.sh python3-fusepy || { echo "fault-suite: cannot install python3-fusepy (lossyfs)" >&2; exit 1; }

export RUNNEL_BIN="${RUNNEL_BIN:-$(pwd)/.build/debug/runnel}"
export PYTHONDONTWRITEBYTECODE=1
export FAULTS_RESULTS="${FAULTS_RESULTS:-$(mktemp /tmp/runnel-faults-XXXXXX.jsonl)}"
[[ -n "$minutes" ]] && export FAULTS_SCALE="$minutes"
select=()
if [[ $soak -eq 1 ]]; then
    export FAULTS_SOAK_MINUTES="${FAULTS_SOAK_MINUTES:-30}"
    select=(-k s14)
elif [[ -n "$scenario" ]]; then
    select=(-k "s$(printf '%02d' "$scenario")")
elif [[ $full -eq 1 ]]; then
    select=(-k "not s14")   # the soak is its own command
else
    select=(-k "not s14 and not s07 and not s08")
fi
status=0
python3 -m pytest -q Tests/faults "${select[@]}" "${extra[@]}" || status=$?
echo "fault-suite: results in $FAULTS_RESULTS"
python3 Tests/faults/report.py "$FAULTS_RESULTS" || true
exit $status
