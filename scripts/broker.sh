#!/usr/bin/env bash
# The README's first command: runs a broker from this checkout, set-up included.
#
#   bash scripts/broker.sh                          # single node on localhost:9092, data in ./data
#   bash scripts/broker.sh --config FILE --override key=value   # any `runnel broker` arguments
#
# Installs the Debian packages the build needs when they are missing (scripts/install-deps.sh,
# silent otherwise), then builds and runs the release binary: `swift run -c release runnel
# broker "$@"`. The broker replaces this script's process, so Ctrl-C and SIGTERM reach it.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/install-deps.sh
exec swift run -c release runnel broker "$@"
